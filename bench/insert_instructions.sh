#!/usr/bin/env bash
# bench/insert_instructions.sh -- what the guard costs on a bulk insert,
# counted in instructions instead of seconds (issues 2, 3, 4).
#
# Wall-clock ratios on a shared 2-core machine move by several per cent
# from round to round (bench/insert.sh).  Instructions executed do not:
# valgrind's callgrind counts them, the same for the same binary and data
# whatever else the machine does.  This runs the INSERT ... SELECT of
# bench/insert.sh (ROWS real-looking tenants, default 20,000: callgrind is
# ~50 times slower) in a single-user backend under callgrind, once per
# table:
#   plain     no trigger (the baseline)
#   off       tenant_guard attached, tenant_guard.mode = off: what a C row
#             trigger costs PostgreSQL before any of our work
#   nolimits  tenant_guard, both rate limits -1 (the checker only)
#   limits    tenant_guard, the default limits (3 per hour per e-mail)
# and prints instructions per row and the ratio to "plain".  Start-up and
# shut-down are measured by an empty run and subtracted.  Instructions are
# not time (a cache miss costs no instructions and many cycles): read this
# next to bench/insert.sh, not instead of it.
#
#   bash bench/insert_instructions.sh        # ROWS=20000
#   DOMAINS=new bash bench/insert_instructions.sh   # every row a new e-mail domain
source "$(dirname "$0")/../test/lib.sh"

DOMAINS=${DOMAINS:-recurring}
ROWS=${ROWS:-20000}

ensure_packages valgrind
make_workdir .benchrun
build_install
start_cluster

q() { psql_pg -qAt -d postgres "$@"; }

say "setting up: $ROWS source tenants"
q -c "CREATE EXTENSION tenant_guard"
q -v rows="$ROWS" -v tables='{plain,off,nolimits,limits}' -v domains="$DOMAINS" -f "$WORK/src/bench/tenants.sql"
q <<SQL
SELECT tenant_guard.attach('t_off');
SELECT tenant_guard.attach('t_nolimits');
SELECT tenant_guard.attach('t_limits');
SQL
NSRC=$(q -c "SELECT count(*) FROM src")
stop_cluster

bindir=$("$PG_CONFIG" --bindir)
single() { as_postgres "$bindir/postgres" --single -D "$WORK/cluster" postgres >/dev/null 2>&1; }

# instructions of one single-user run of the statements on stdin
counted() {
	local name=$1 out="$WORK/callgrind.$1"
	# each run starts from empty tables and no rate-limit state
	echo "TRUNCATE t_plain, t_off, t_nolimits, t_limits;" | single
	as_postgres rm -f "$WORK/cluster/pg_stat/tenant_guard_ratelimit.stat"
	as_postgres valgrind --tool=callgrind --callgrind-out-file="$out" \
		"$bindir/postgres" --single -D "$WORK/cluster" postgres >/dev/null 2>"$out.log"
	as_postgres rm -f "$WORK/cluster/pg_stat/tenant_guard_ratelimit.stat"
	# all of it but the rate-limit state written at shut-down (once per
	# server life; a single-user backend shuts down after every run)
	callgrind_annotate --inclusive=yes "$out" 2>/dev/null | awk '
		/PROGRAM TOTALS/ && !total { gsub(",", "", $1); total = $1 }
		/:tg_rate_dump \[/ && !dump { gsub(",", "", $1); dump = $1 }
		END { print total - dump }'
}

insert() { echo "INSERT INTO t_$1 (name, subdomain, email) SELECT name, subdomain, email FROM src;"; }
nolim="SET tenant_guard.max_tenants_per_hour_per_ip = -1; SET tenant_guard.max_tenants_per_hour_per_email = -1;"

say "counting instructions (valgrind --tool=callgrind, $NSRC rows each)"
empty=$(echo "SELECT 1;" | counted empty)
declare -A ins
ins[plain]=$(insert plain | counted plain)
ins[off]=$( (echo "SET tenant_guard.mode = off;"; insert off) | counted off)
ins[nolimits]=$( (echo "$nolim"; insert nolimits) | counted nolimits)
ins[limits]=$(insert limits | counted limits)

base=$((ins[plain] - empty))
printf '\n%-10s %16s %14s %10s\n' table instructions "per row" ratio
for t in plain off nolimits limits; do
	n=$((ins[$t] - empty))
	awk -v t="$t" -v n="$n" -v rows="$NSRC" -v b="$base" \
		'BEGIN { printf "%-10s %16d %14.0f %10.3f\n", t, n, n / rows, n / b }'
done
echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d)"
echo "callgrind files: $WORK/callgrind.* (callgrind_annotate --inclusive=yes FILE)"
