#!/usr/bin/env bash
# bench/purge.sh -- purge_test_tenants() against PostgreSQL's own
# DELETE ... ON DELETE CASCADE, on identical data, in the same run.
#
# 1,848 tenants: 1,845 test tenants to remove, 3 to keep (one protected
# real customer, two system tenants).  Three levels of dependents:
# projects (5 per tenant), tasks (10 per project), comments (10 per task):
# ~1.03M dependent rows, every foreign key ON DELETE CASCADE and indexed.
# Each run loads two identical copies (schema native, schema purge),
# VACUUM ANALYZEs and CHECKPOINTs, then times
#   native: DELETE FROM native.tenants WHERE id <> ALL (kept ids)
#   purge:  tenant_guard.purge_test_tenants(dry_run => false, force => true,
#           archive => false)
# (the native DELETE keeps no copy: the archive's cost is bench/archive.sh's)
# alternating which goes first, on one cluster with the same settings
# (shared_buffers 4GB so that both copies fit even at SCALE=10; set
# SHARED_BUFFERS to change it).  Prints each run, the median ratio and
# the median times (compare those across SCALE runs for the scaling target).
# Before that, each run also times one tenant: its purge against a native
# DELETE of it, the case where a plan without statistics would scan whole
# child tables.
#
#   bash bench/purge.sh              # 3 runs at scale 1
#   RUNS=5 SCALE=10 bash bench/purge.sh   # 10x the dependents (slow)
# Always run with PG_CONFIG set to the installation to test.
source "$(dirname "$0")/../test/lib.sh"

RUNS=${RUNS:-3}
SCALE=${SCALE:-1}

source "$(dirname "$0")/purge_data.sh"
start_purge_bench 54331 4GB

# milliseconds one statement takes
time_ms() {
	psql_pg -X -q -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1
}

native_sql="DELETE FROM native.tenants WHERE id <> ALL (ARRAY['31c06fc4-db22-4740-83ea-48ac14f25810', '00000000-0000-4000-8000-000000000737', '00000000-0000-4000-8000-000000000738']::uuid[])"
purge_sql="SELECT count(*) FROM tenant_guard.purge_test_tenants(dry_run => false, force => true, archive => false, tenants => 'purge.tenants')"
# one tenant (about 555 dependent rows at scale 1): its purge against a
# native DELETE of the same tenant in the other copy (both for real, so
# that the bulk runs then start from the same 1,847 tenants)
one_id="00000000-0000-4000-8000-000000000100"
native_one_sql="DELETE FROM native.tenants WHERE id = '$one_id'"
purge_one_sql="SELECT count(*) FROM tenant_guard.purge_test_tenants(dry_run => false, ids => ARRAY['$one_id'], archive => false, tenants => 'purge.tenants')"

say "scale $SCALE: $((1848 * 555 * SCALE)) dependent rows per copy, $RUNS runs"
ratios=()
natives=()
purges=()
one_ratios=()
for run in $(seq 1 "$RUNS"); do
	load_purge_data native "$SCALE"
	load_purge_data purge "$SCALE"
	psql_pg -q >/dev/null <<'SQL'
SET client_min_messages = warning;
SELECT tenant_guard.attach('purge.tenants');
SELECT tenant_guard.protect('31c06fc4-db22-4740-83ea-48ac14f25810', 'the real customer');
SQL
	dep_before=$(psql_pg -Atq -c "SELECT (SELECT count(*) FROM purge.projects) + (SELECT count(*) FROM purge.tasks) + (SELECT count(*) FROM purge.comments)")
	psql_pg -q -c CHECKPOINT
	if [ $((run % 2)) -eq 1 ]; then
		n1=$(time_ms "$native_one_sql"); p1=$(time_ms "$purge_one_sql")
	else
		p1=$(time_ms "$purge_one_sql"); n1=$(time_ms "$native_one_sql")
	fi
	one_ratios+=("$(awk -v p="$p1" -v n="$n1" 'BEGIN { printf "%.3f", p / n }')")
	printf 'run %d, one tenant: native %.1f ms, purge %.1f ms\n' "$run" "$n1" "$p1"
	psql_pg -q -c CHECKPOINT
	if [ $((run % 2)) -eq 1 ]; then
		n=$(time_ms "$native_sql"); psql_pg -q -c CHECKPOINT; p=$(time_ms "$purge_sql")
	else
		p=$(time_ms "$purge_sql"); psql_pg -q -c CHECKPOINT; n=$(time_ms "$native_sql")
	fi
	check=$(psql_pg -Atq -c "SELECT (SELECT count(*) FROM native.tenants) || '/' || (SELECT count(*) FROM purge.tenants) || ' tenants left, ' || (SELECT count(*) FROM native.comments) || '/' || (SELECT count(*) FROM purge.comments) || ' comments left'")
	ratio=$(awk -v p="$p" -v n="$n" 'BEGIN { printf "%.3f", p / n }')
	ratios+=("$ratio")
	natives+=("$n")
	purges+=("$p")
	printf 'run %d: %s dependent rows; native %8.1f ms, purge %8.1f ms, purge/native %s (%s)\n' \
		"$run" "$dep_before" "$n" "$p" "$ratio" "$check"
done
median_of() {
	printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
median=$(median_of "${ratios[@]}")
echo
echo "median purge/native at scale $SCALE: $median  (target <= 0.75)"
echo "median purge/native for one tenant: $(median_of "${one_ratios[@]}")"
# for the scaling target (10 x the data in <= 11 x the time): compare these across SCALE runs
echo "median ms at scale $SCALE: native $(median_of "${natives[@]}"), purge $(median_of "${purges[@]}")"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d)"
