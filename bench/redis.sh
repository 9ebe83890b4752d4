#!/usr/bin/env bash
# bench/redis.sh -- tenant_guard_redis against the incident's seed script
# (bench/redis_seed_cleanup.py), on identical keyspaces, in the same run.
#
# 1,848 tenants (1,845 purged test tenants, one protected real customer,
# two protected system tenants) x KEYS_PER_TENANT keys (default 400), plus
# GLOBAL_KEYS keys of no tenant (default 2,000), in a local redis-server
# (no persistence) reached through bench/redis_delay_proxy.py, which adds
# DELAY (default 1 ms) each way: a hosted Redis is a network hop away, and
# loopback hides round trips.  Each run refills the keyspace, resets the
# journal and times one program under /usr/bin/time -v (wall clock and
# peak RSS), then the other, alternating which goes first.  Prints each
# run and the ratios (seed / tool).
#
#   bash bench/redis.sh                  # 1 run
#   RUNS=3 bash bench/redis.sh
# Always run with PG_CONFIG set to the installation to test.
source "$(dirname "$0")/../test/lib.sh"

RUNS=${RUNS:-1}
KEYS_PER_TENANT=${KEYS_PER_TENANT:-400}
GLOBAL_KEYS=${GLOBAL_KEYS:-2000}
DELAY=${DELAY:-0.001}
REDIS_PORT=${REDIS_PORT:-46050}
PROXY_PORT=$((REDIS_PORT + 1))
PY=/usr/bin/python3			# Debian's, with python3-redis
CUSTOMER=31c06fc4-db22-4740-83ea-48ac14f25810

ensure_packages python3-redis time
make_workdir .benchrun
build_install
TG_PORT=${TG_PORT:-54332} start_cluster

REDIS_PID= PROXY_PID=
cleanup() {
	[ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null
	[ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null
	stop_cluster
}
trap cleanup EXIT

say "starting redis-server on $REDIS_PORT and the ${DELAY}s-each-way proxy on $PROXY_PORT"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
	--dir "$WORK" --logfile "$WORK/redis.log" &
REDIS_PID=$!
"$PY" "$PROJ/bench/redis_delay_proxy.py" "$PROXY_PORT" "$REDIS_PORT" "$DELAY" >"$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
for _ in $(seq 100); do
	redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && grep -q ready "$WORK/proxy.log" && break
	sleep 0.1
done

say "1,848 tenants; purging the 1,845 test tenants"
psql_pg -q <<'SQL'
CREATE EXTENSION tenant_guard;
CREATE TABLE tenants (id uuid PRIMARY KEY, name text NOT NULL, subdomain text NOT NULL, email text NOT NULL);
SELECT tenant_guard.attach('tenants');
SET tenant_guard.mode = off;
-- tenant n (1..1848) has uuid ...-<n in hex>; 1846..1848 are kept
INSERT INTO tenants
SELECT CASE WHEN g = 1846 THEN '31c06fc4-db22-4740-83ea-48ac14f25810'::uuid
            ELSE ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid END,
       CASE g WHEN 1846 THEN 'Northwind Traders' WHEN 1847 THEN 'System' WHEN 1848 THEN 'Operations'
              ELSE 'Test Company ' || g END,
       'sub-' || g, 'admin@acme' || g || '.com'
  FROM generate_series(1, 1848) g;
SELECT tenant_guard.protect(id::text, 'kept') FROM tenants WHERE name IN ('Northwind Traders', 'System', 'Operations');
SELECT count(*) FROM tenant_guard.purge_test_tenants(dry_run => false, force => true);
SQL

# the keyspace, as redis-cli --pipe input
"$PY" - "$KEYS_PER_TENANT" "$GLOBAL_KEYS" "$CUSTOMER" >"$WORK/keys.txt" <<'PY'
import sys
per, glob, customer = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
out = sys.stdout
out.write('FLUSHALL\r\n')
for g in range(1, 1849):
    t = customer if g == 1846 else '00000000-0000-4000-8000-%012x' % g
    for i in range(per):
        kind = i % 4
        if kind == 0:
            out.write(f'SET tenant:{t}:session:{i} x\r\n')
        elif kind == 1:
            out.write(f'SET cache:{t}:project:{i}:summary x\r\n')
        elif kind == 2:
            out.write(f'SET user:{i}:tenant:{t}:prefs x\r\n')
        else:
            out.write(f'SET rl:{t}:{i} x\r\n')
for i in range(glob):
    kind = i % 3
    out.write(('SET feature:flag:%d on\r\n', 'SET celery-task-meta-%08x x\r\n', 'SET maintenance:%d off\r\n')[kind] % i)
PY
TOTAL=$((1848 * KEYS_PER_TENANT + GLOBAL_KEYS))
KEEP=$((3 * KEYS_PER_TENANT + GLOBAL_KEYS))

refill() {
	redis-cli -p "$REDIS_PORT" --pipe <"$WORK/keys.txt" >/dev/null
	psql_pg -q -c 'UPDATE tenant_guard.purge_journal SET redis_cleaned_at = NULL, redis_keys_deleted = NULL'
	local n
	n=$(redis-cli -p "$REDIS_PORT" dbsize)
	[ "$n" -eq "$TOTAL" ] || { echo "refill: $n keys, expected $TOTAL" >&2; exit 1; }
}

# run NAME COMMAND...: wall seconds and peak RSS (kB) into $WALL, $RSS
timed() {
	local name=$1 t0 t1
	shift
	t0=$(date +%s.%N)
	/usr/bin/time -v -o "$WORK/time-$name.txt" "$@" >"$WORK/out-$name.txt"
	t1=$(date +%s.%N)
	WALL=$(echo "$t1 - $t0" | bc)
	RSS=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time-$name.txt")
}

tool() {
	timed tool "$(dirname "$PG_CONFIG")/tenant_guard_redis" clean --execute --json \
		--redis "redis://127.0.0.1:$PROXY_PORT" --db "host=$PGHOST port=$PGPORT user=postgres dbname=postgres"
	TOOL_WALL=$WALL TOOL_RSS=$RSS
	TOOL_LEFT=$(redis-cli -p "$REDIS_PORT" dbsize)
	TOOL_JSON=$(cat "$WORK/out-tool.txt")
}
seed() {
	timed seed "$PY" "$PROJ/bench/redis_seed_cleanup.py" "$PROXY_PORT" "$CUSTOMER"
	SEED_WALL=$WALL SEED_RSS=$RSS
	SEED_LEFT=$(redis-cli -p "$REDIS_PORT" dbsize)
	SEED_OUT=$(cat "$WORK/out-seed.txt")
}

say "$TOTAL keys ($KEYS_PER_TENANT per tenant, $GLOBAL_KEYS global); $RUNS run(s)"
ratios=()
for run in $(seq "$RUNS"); do
	if [ $((run % 2)) -eq 1 ]; then
		refill; tool; refill; seed
	else
		refill; seed; refill; tool
	fi
	ratio=$(echo "scale=2; $SEED_WALL / $TOOL_WALL" | bc)
	ratios+=("$ratio")
	printf 'run %d: tenant_guard_redis %.2f s, %s kB peak RSS, %s keys left (expected %s)\n' \
		"$run" "$TOOL_WALL" "$TOOL_RSS" "$TOOL_LEFT" "$KEEP"
	printf '       %s\n' "$TOOL_JSON"
	printf '       seed script %.2f s, %s kB peak RSS, %s keys left (%s)\n' \
		"$SEED_WALL" "$SEED_RSS" "$SEED_LEFT" "$SEED_OUT"
	printf '       seed / tool: %sx faster\n' "$ratio"
	[ "$TOOL_LEFT" -eq "$KEEP" ] || { echo "tenant_guard_redis left $TOOL_LEFT keys, expected $KEEP" >&2; exit 1; }
done
echo
echo "ratios (seed / tool): ${ratios[*]}"
