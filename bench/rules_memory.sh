#!/usr/bin/env bash
# bench/rules_memory.sh -- what a big imported domain list costs a new
# connection (issue 15): the first check_tenant() of a fresh backend (it
# compiles or maps the rules) and the backend's private memory after it,
# with no imported list and with the npm package disposable-email-domains
# (index.json + wildcard.json, ~121k domains) imported the way README says.
#
# For each case, N fresh connections (default 15) each run one check and
# report the check's time (psql \timing) and Private_Dirty + Private_Clean
# from /proc/PID/smaps_rollup after it; prints the medians.  The first
# connection after an import may build the shared copy: it is shown apart.
#
#   bash bench/rules_memory.sh          # N=15
source "$(dirname "$0")/../test/lib.sh"

N=${N:-15}

ensure_packages jq
command -v npm >/dev/null || ensure_packages npm
make_workdir .benchrun
build_install
start_cluster

q() { psql_pg -qAt -d postgres "$@"; }

say "fetching disposable-email-domains (npm)"
mkdir -p "$WORK/npm"
tgz=$(cd "$WORK/npm" && timeout 120 npm pack --silent disposable-email-domains)
tar -xzf "$WORK/npm/$tgz" -C "$WORK/npm"
chmod -R a+rX "$WORK/npm"
q -c "CREATE EXTENSION tenant_guard"

# one fresh connection: "<wall ms> <CPU ms> of its first check, <private kB>"
# (CPU time from /proc/PID/schedstat, in ns: other load on a shared machine
# delays the check's wall time, not the backend's own CPU time)
# $1: the statement timed (default: a check)
probe() {
	local stmt=${1:-"SELECT (tenant_guard.check_tenant('Acme Logistics', 'acme', 'ana@acme.io')).is_suspicious"}
	psql_pg -qAt -d postgres -v stmt="$stmt" <<'SQL' | awk '/^Time:/ { t = $2 } /^cpu / { c = $2; kb = $3 } END { print t, c, kb }'
\pset fieldsep ' '
SELECT pg_catalog.split_part(pg_catalog.pg_read_file('/proc/' || pg_catalog.pg_backend_pid() || '/schedstat'), ' ', 1) AS c0 \gset
\timing on
:stmt;
\timing off
SELECT 'cpu',
       round((pg_catalog.split_part(pg_catalog.pg_read_file('/proc/' || pg_catalog.pg_backend_pid() || '/schedstat'), ' ', 1)::bigint - :'c0'::bigint) / 1e6, 3),
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

say "importing disposable-email-domains (README's commands)"
psql_pg -d postgres -v ON_ERROR_STOP=1 <<SQL
CREATE TEMP TABLE list (domain text);
\\copy list FROM PROGRAM 'jq -r ".[]" $WORK/npm/package/index.json $WORK/npm/package/wildcard.json'
SELECT tenant_guard.import_email_domains(ARRAY(SELECT domain FROM list),
                                         'disposable-email-domains');
SQL
ndom=$(q -c "SELECT count(*) FROM tenant_guard.email_domains")
read -r tfirst cfirst kfirst < <(probe)
read -r t1 c1 k1 < <(probes)

printf '\n%-34s %14s %14s %12s\n' case "first check ms" "its CPU ms" "private kB"
printf '%-34s %14s %14s %12s\n' "first normal_form() (median)" "$tf" "$cf" "$kf"
printf '%-34s %14s %14s %12s\n' "no imported list (median of $N)" "$t0" "$c0" "$k0"
printf '%-34s %14s %14s %12s\n' "$ndom domains, first connection" "$tfirst" "$cfirst" "$kfirst"
printf '%-34s %14s %14s %12s\n' "$ndom domains (median of $N)" "$t1" "$c1" "$k1"
printf '\nrules memory per backend: %d kB more with the list\n' $((k1 - k0))
