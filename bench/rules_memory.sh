#!/usr/bin/env bash
# bench/rules_memory.sh -- what a big imported domain list costs a new
# connection (issue 15): the first check_tenant() of a fresh backend (it
# maps or compiles the rules) and the backend's private memory after it,
# with no imported list and with the two npm lists README documents
# (disposable-email-domains: index.json + wildcard.json, ~121k domains;
# disposable-email-domains-js, ~6k more) imported the way README says.
#
# For each case, N fresh connections (default 15) each run one check and
# report the check's wall time (psql \timing), its CPU time (from
# /proc/PID/schedstat, read by a statement run twice before the check so
# that its own first-use cost is not counted, and its warm cost taken
# off) and Private_Dirty + Private_Clean from /proc/PID/smaps_rollup
# after it; prints the medians, and the figures against the targets.  The
# first connection after an import builds the shared copy: shown apart.
#
#   bash bench/rules_memory.sh          # N=15
source "$(dirname "$0")/../test/lib.sh"

N=${N:-15}
# issue 15's targets: a new backend's first check, and its private memory
# for the rules with the lists imported
TARGET_MS=5
TARGET_KB=1024

ensure_packages jq
command -v npm >/dev/null || ensure_packages npm
make_workdir .benchrun
build_install
start_cluster

q() { psql_pg -qAt -d postgres "$@"; }

say "fetching disposable-email-domains and disposable-email-domains-js (npm)"
mkdir -p "$WORK/npm/a" "$WORK/npm/b"
tgz=$(cd "$WORK/npm/a" && timeout 120 npm pack --silent disposable-email-domains)
tar -xzf "$WORK/npm/a/$tgz" -C "$WORK/npm/a"
tgz=$(cd "$WORK/npm/b" && timeout 120 npm pack --silent disposable-email-domains-js)
tar -xzf "$WORK/npm/b/$tgz" -C "$WORK/npm/b"
chmod -R a+rX "$WORK/npm"
q -c "CREATE EXTENSION tenant_guard"

# one fresh connection: "<wall ms> <CPU ms> <private kB>" of its first
# statement $1 (default: a check).  CPU: the backend's CPU time from
# /proc/PID/schedstat (other load on a shared machine delays the wall time,
# not the backend's own CPU time) across the statement, less one warm read
# of it (measured between the two warm-up reads).
probe() {
	local stmt=${1:-"SELECT (tenant_guard.check_tenant('Acme Logistics', 'acme', 'ana@acme.io')).is_suspicious"}
	psql_pg -qAt -d postgres -v stmt="$stmt" <<'SQL' | awk '/^Time:/ { t = $2 } /^cpu / { c = $2; kb = $3 } END { print t, c, kb }'
\pset fieldsep ' '
\set cpu 'SELECT pg_catalog.split_part(pg_catalog.pg_read_file(''/proc/'' OPERATOR(pg_catalog.||) pg_catalog.pg_backend_pid() OPERATOR(pg_catalog.||) ''/schedstat''), '' '', 1) AS '
:cpu c0 \gset
:cpu c1 \gset
:cpu c2 \gset
\timing on
:stmt \g /dev/null
\timing off
:cpu c3 \gset
SELECT 'cpu',
       round(((:c3::bigint - :c2::bigint) - (:c2::bigint - :c1::bigint)) / 1e6, 3),
       (SELECT sum(pg_catalog.substring(l, '\d+')::bigint)
          FROM pg_catalog.regexp_split_to_table(
                 pg_catalog.pg_read_file('/proc/' || pg_catalog.pg_backend_pid() || '/smaps_rollup'),
                 E'\n') l
         WHERE l ~ '^Private_(Dirty|Clean):')
SQL
}

# N probes: the medians of each column
probes() {
	local runs
	runs=$(for _ in $(seq "$N"); do probe "$@"; done)
	for col in 1 2 3; do
		cut -d' ' -f"$col" <<<"$runs" | sort -n | sed -n "$(((N + 1) / 2))p"
	done | paste -sd' '
}

# the floor: the first call of any function of the extension (no rules)
read -r tf cf kf < <(probes "SELECT tenant_guard.normal_form('x')")
read -r t0 c0 k0 < <(probes)

say "importing the two lists (README's commands)"
for list in "disposable-email-domains:$WORK/npm/a/package/index.json $WORK/npm/a/package/wildcard.json" \
	"disposable-email-domains-js:$WORK/npm/b/package/dist/dict/disposable_email_blocklist.json"; do
	psql_pg -q -d postgres -v ON_ERROR_STOP=1 <<SQL
CREATE TEMP TABLE list (domain text);
\\copy list FROM PROGRAM 'jq -r ".[]" ${list#*:}'
SELECT tenant_guard.import_email_domains(ARRAY(SELECT domain FROM list),
                                         '${list%%:*}', replace => true);
SQL
done
ndom=$(q -c "SELECT count(*) FROM tenant_guard.email_domains")
read -r tfirst cfirst kfirst < <(probe)
read -r t1 c1 k1 < <(probes)

printf '\n%-36s %14s %14s %12s\n' case "first check ms" "its CPU ms" "private kB"
printf '%-36s %14s %14s %12s\n' "first normal_form() (median of $N)" "$tf" "$cf" "$kf"
printf '%-36s %14s %14s %12s\n' "no imported list (median of $N)" "$t0" "$c0" "$k0"
printf '%-36s %14s %14s %12s\n' "$ndom domains, first connection" "$tfirst" "$cfirst" "$kfirst"
printf '%-36s %14s %14s %12s\n' "$ndom domains (median of $N)" "$t1" "$c1" "$k1"
printf '\nwith %d domains, against no list: first check %s x wall, %s x CPU\n' "$ndom" \
	"$(awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.2f", a / b }')" \
	"$(awk -v a="$c1" -v b="$c0" 'BEGIN { printf "%.2f", a / b }')"
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v <= t) ? "met" : "NOT met" }'; }
printf 'target: first check <= %s ms: wall %s ms (%s), CPU %s ms (%s)\n' "$TARGET_MS" \
	"$t1" "$(verdict "$t1" "$TARGET_MS")" "$c1" "$(verdict "$c1" "$TARGET_MS")"
printf 'target: rules memory per backend <= %d kB: %d kB more with the list (%s)\n' \
	"$TARGET_KB" $((k1 - k0)) "$(verdict $((k1 - k0)) "$TARGET_KB")"
