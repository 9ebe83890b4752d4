#!/usr/bin/env bash
# bench/archive.sh -- the cost of the purge's archive and of an export.
#
# 1. purge_test_tenants(archive => true) against archive => false on
#    bench/purge.sh's data (1,848 tenants, 1,845 purged, ~1.03 M dependent
#    rows at SCALE=1), a fresh copy for each purge, alternating which goes
#    first; prints each run, the median ratio (target <= 1.5) and the size
#    of the archive (rows, bytes in the table with TOAST, bytes of jsonb).
# 2. export_tenant_document() of one tenant with 100,000 rows below it
#    (1,000 projects, 99,000 tasks) among 200 other tenants of 1,000 rows,
#    and export_tenant() of it; then import_tenant() of the document after
#    deleting the tenant (target: the export well under a second).
#
#   bash bench/archive.sh            # 3 runs, about two minutes
#   RUNS=5 bash bench/archive.sh
#
# A pair of purges before the timed runs is not counted: the first purges
# of a fresh cluster touch shared buffers no process has touched yet (a
# page fault per 4 kB on this VM), which a server that has run for a
# while does not pay.  Each purge also prints the purging backend's CPU
# time (/proc/PID/schedstat), which other load on a shared machine moves
# less than the wall time.
# Always run with PG_CONFIG set to the installation to test.
source "$(dirname "$0")/../test/lib.sh"

RUNS=${RUNS:-3}
SCALE=${SCALE:-1}

source "$(dirname "$0")/purge_data.sh"
start_purge_bench 54332 1GB

# bench/purge.sh's data in schema purge, guarded, the real customer protected
load() {
	psql_pg -q -c "SELECT tenant_guard.detach(tbl) FROM tenant_guard.guarded_tables WHERE tbl::text = 'purge.tenants'" >/dev/null
	load_purge_data purge "$1"
	psql_pg -q >/dev/null <<'SQL'
SELECT tenant_guard.prune_purge_archive('0');   -- each run's archive alone
SELECT tenant_guard.attach('purge.tenants');
SELECT tenant_guard.protect('31c06fc4-db22-4740-83ea-48ac14f25810', 'the real customer');
CHECKPOINT;
SQL
}

# milliseconds one statement takes
time_ms() {
	psql_pg -X -q -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1
}

purge_sql() {
	echo "SELECT count(*) FROM tenant_guard.purge_test_tenants(dry_run => false, force => true, tenants => 'purge.tenants', archive => $1)"
}

# "wall_ms cpu_ms" of one purge (archive => $1): psql's timing, and the
# backend's CPU time from /proc/PID/schedstat before and after
time_purge() {
	psql_pg -X -q -At <<SQL | awk '/^Time:/ { wall = $2 } /^cpu / { c[++n] = $2 } END { printf "%.1f %.1f\n", wall, (c[2] - c[1]) / 1e6 }'
\\set cpu 'SELECT ''cpu '' OPERATOR(pg_catalog.||) pg_catalog.split_part(pg_catalog.pg_read_file(''/proc/'' OPERATOR(pg_catalog.||) pg_catalog.pg_backend_pid() OPERATOR(pg_catalog.||) ''/schedstat''), '' '', 1)'
:cpu;
\\timing on
$(purge_sql "$1");
\\timing off
:cpu;
SQL
}

median_of() {
	printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

say "1. archive => true against false, scale $SCALE, $RUNS runs (after a pair not counted)"
load "$SCALE"; time_purge false >/dev/null
load "$SCALE"; time_purge true >/dev/null
# purge with archive => true: sets on, on_cpu, and size (the archive's
# rows, bytes of jsonb, and how much the table grew: the runs before left
# their pruned archives behind, not vacuumed)
purge_on() {
	local before
	before=$(psql_pg -Atq -c "SELECT pg_total_relation_size('tenant_guard.purge_archive')")
	read -r on on_cpu < <(time_purge true)
	size=$(psql_pg -Atq -c "SELECT count(*) || ' archives, ' || sum(row_count) || ' rows, ' || pg_size_pretty(pg_total_relation_size('tenant_guard.purge_archive') - $before) || ' more on disk (jsonb ' || pg_size_pretty(sum(pg_column_size(export))::bigint) || ' compressed, ' || pg_size_pretty(sum(octet_length(export::text))::bigint) || ' as text)' FROM tenant_guard.purge_archive")
}

ratios=()
cpu_ratios=()
for run in $(seq 1 "$RUNS"); do
	if [ $((run % 2)) -eq 1 ]; then
		load "$SCALE"; read -r off off_cpu < <(time_purge false)
		load "$SCALE"; purge_on
	else
		load "$SCALE"; purge_on
		load "$SCALE"; read -r off off_cpu < <(time_purge false)
	fi
	ratio=$(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.3f", a / b }')
	cpu_ratio=$(awk -v a="$on_cpu" -v b="$off_cpu" 'BEGIN { printf "%.3f", a / b }')
	cpu_ratios+=("$cpu_ratio")
	# the machine's load at the time: a scan of 300,000 rows took ~40 ms when the machine was quiet (load 1)
	ref=$(time_ms "SELECT count(*) FROM (SELECT 1 FROM pg_catalog.generate_series(1, 300000)) s")
	ratios+=("$ratio")
	printf 'run %d: archive => false %8.1f ms (CPU %7.1f), archive => true %8.1f ms (CPU %7.1f), ratio %s (CPU %s; reference scan %s ms)\n' \
		"$run" "$off" "$off_cpu" "$on" "$on_cpu" "$ratio" "$cpu_ratio" "$ref"
done
echo "archive of one run: $size"
echo "median archive/no archive: $(median_of "${ratios[@]}")  (target <= 1.5); backend CPU: $(median_of "${cpu_ratios[@]}")"
psql_pg -q -c "SELECT tenant_guard.prune_purge_archive('0')" >/dev/null

say "2. export of one tenant with 100,000 rows below it"
psql_pg -q <<'SQL'
SET client_min_messages = warning;
SELECT tenant_guard.detach(tbl) FROM tenant_guard.guarded_tables WHERE tbl::text = 'purge.tenants';
DROP SCHEMA IF EXISTS purge CASCADE;
DROP SCHEMA IF EXISTS one CASCADE;
CREATE SCHEMA one;
SET search_path = one;
CREATE TABLE tenants (id bigint PRIMARY KEY, name text NOT NULL, subdomain text NOT NULL, email text NOT NULL);
CREATE TABLE projects (id bigint PRIMARY KEY, tenant_id bigint NOT NULL REFERENCES tenants, title text);
CREATE TABLE tasks (id bigint PRIMARY KEY, project_id bigint NOT NULL REFERENCES projects, title text, done boolean, due date);
SET tenant_guard.mode = off;
INSERT INTO tenants SELECT g, 'Company ' || g, 'c' || g, 'it@c' || g || '.com' FROM generate_series(1, 201) g;
-- tenant 1: 1,000 projects and 99,000 tasks; tenants 2..201: 10 projects and 990 tasks each
INSERT INTO projects SELECT g, 1, 'project ' || g FROM generate_series(1, 1000) g;
INSERT INTO projects SELECT 1000 + g, 2 + (g - 1) / 10, 'project ' || g FROM generate_series(1, 2000) g;
INSERT INTO tasks SELECT g, 1 + (g - 1) / 99, 'task ' || g, g % 2 = 0, date '2026-01-01' + g % 365
  FROM generate_series(1, 3000 * 99) g;
CREATE INDEX ON projects (tenant_id);
CREATE INDEX ON tasks (project_id);
VACUUM ANALYZE tenants, projects, tasks;
SELECT tenant_guard.attach('one.tenants');
SQL
rows=$(psql_pg -Atq -c "SELECT count(*) FROM tenant_guard.export_tenant('1', 'one.tenants')")
echo "tenant 1: $rows rows in its export (the tenant row included)"
doc_ms=()
set_ms=()
for run in 1 2 3; do
	doc_ms+=("$(time_ms "SELECT octet_length(tenant_guard.export_tenant_document('1', 'one.tenants')::text)")")
	set_ms+=("$(time_ms "SELECT count(*) FROM tenant_guard.export_tenant('1', 'one.tenants')")")
done
echo "reference scan of 300,000 rows: $(time_ms "SELECT count(*) FROM (SELECT 1 FROM pg_catalog.generate_series(1, 300000)) s") ms (~40 ms when quiet)"
echo "export_tenant_document(): $(median_of "${doc_ms[@]}") ms median of 3 (${doc_ms[*]})"
echo "export_tenant(), all rows: $(median_of "${set_ms[@]}") ms median of 3 (${set_ms[*]})"
import_ms=$(psql_pg -X -q <<'SQL' | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1
CREATE TABLE public.doc AS SELECT tenant_guard.export_tenant_document('1', 'one.tenants') AS d;
SET session_replication_role = replica;
DELETE FROM one.tasks WHERE project_id <= 1000; DELETE FROM one.projects WHERE tenant_id = 1; DELETE FROM one.tenants WHERE id = 1;
RESET session_replication_role;
\timing on
SELECT tenant_guard.import_tenant(d) IS NOT NULL FROM public.doc;
SQL
)
echo "import_tenant() of it: $import_ms ms"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d)"
