#!/usr/bin/env bash
# bench/alerts.sh -- what tenant_guard.alerts(), check_alerts() and
# diagnose() cost on a tenants table of ROWS rows (default 1,000,000), of
# which 1,845 are test data (the incident's share of a small table, in a big
# one), 1,000,000 log rows are not needed: the log windows are read by index
# (see bench/insert.sh for failed_attempts()).
#
#   TG_PORT=55108 bash bench/alerts.sh          # ROWS=1000000
source "$(dirname "$0")/../test/lib.sh"

ROWS=${ROWS:-1000000}
RUNS=${RUNS:-3}

make_workdir .benchrun
build_install
start_cluster

q() { psql_pg -qAt -d postgres "$@"; }

say "setting up: $ROWS tenants, 1,845 of them test data"
q -c "CREATE EXTENSION tenant_guard"
q -v rows="$ROWS" -v tables='{big}' -f "$WORK/src/bench/tenants.sql" >/dev/null
q <<SQL
INSERT INTO t_big (name, subdomain, email) SELECT name, subdomain, email FROM src;
INSERT INTO t_big (name, subdomain, email)
SELECT 'Test Company ' || n, 'test-company-' || n, 'qa' || n || '@mailinator.com'
  FROM generate_series(1, 1845) n;
VACUUM ANALYZE t_big;
SELECT tenant_guard.attach('t_big');
SQL
q -c "SELECT pg_size_pretty(pg_table_size('t_big')) AS size, count(*) AS tenants FROM t_big"

say "timings (ms), $RUNS runs each"
for fn in "tenant_guard.alerts()" "tenant_guard.check_alerts()" "tenant_guard.diagnose()" \
	"tenant_guard.flagged_tenants('t_big', 3)" "tenant_guard.protected_missing()" \
	"tenant_guard.creations()"; do
	for r in $(seq "$RUNS"); do
		ms=$(q <<SQL | grep -o 'Time: [0-9.]*' | cut -d' ' -f2
\timing on
SELECT count(*) FROM $fn;
SQL
)
		printf '%-45s run %d: %s ms\n' "$fn" "$r" "$ms"
	done
done
q -c "SELECT tenant_guard.protect(id::text) FROM t_big ORDER BY id LIMIT 3" >/dev/null
for r in $(seq "$RUNS"); do
	ms=$(q <<SQL | grep -o 'Time: [0-9.]*' | cut -d' ' -f2
\timing on
SELECT count(*) FROM tenant_guard.alerts();
SQL
)
	printf '%-45s run %d: %s ms\n' "alerts() with 3 protected tenants" "$r" "$ms"
done
