#!/usr/bin/env bash
# bench/durable_log.sh -- rejected INSERTs per second with the durable log.
#
# Starts a throwaway cluster (as test/check.sh does), then floods it from
# CLIENTS concurrent psql sessions, each sending PER_CLIENT rejected
# single-row INSERTs (each its own failing transaction), in three
# configurations, ROUNDS times each, interleaved:
#   durable      enforce mode, rejections queued and written by the worker
#   server-log   enforce mode, tenant_guard.durable_log = off (baseline:
#                the 1.0 behaviour, one server-log line per rejection)
#   log-mode     mode = log: rows kept, log row written in the transaction
# and prints the median rate of each, the ratio against the baseline, and
# for the durable runs how many log rows arrived (lost = attempts - rows).
#
#   PG_CONFIG=... bash bench/durable_log.sh        (CLIENTS=3 PER_CLIENT=5000 ROUNDS=5)
source "$(dirname "$0")/../test/lib.sh"

CLIENTS=${CLIENTS:-3}
PER_CLIENT=${PER_CLIENT:-5000}
ROUNDS=${ROUNDS:-5}
export TG_PORT=${TG_PORT:-54339}

ensure_packages bc
make_workdir .benchrun
build_install
start_cluster
# one ERROR line per rejection is enough; no STATEMENT line
psql_pg -qAt -c "ALTER SYSTEM SET log_min_error_statement = panic" -c "SELECT pg_reload_conf()" >/dev/null

psql_pg -qAt >/dev/null <<'SQL'
CREATE EXTENSION tenant_guard;
CREATE TABLE tenants (id bigserial, name text, subdomain text, email text);
SELECT tenant_guard.attach('tenants');
SQL

# One file of statements per client; $1: config name, $2: client number.
make_file() {
	local f="$WORK/bench_$2.sql"
	{
		case $1 in
			server-log) echo "SET tenant_guard.durable_log = off;" ;;
			log-mode) echo "SET tenant_guard.mode = log;" ;;
		esac
		for ((i = 1; i <= PER_CLIENT; i++)); do
			echo "INSERT INTO tenants (name, subdomain, email) VALUES ('Test Company $2-$i', 'test-$2-$i', 'test@example.com');"
		done
	} | as_postgres tee "$f" >/dev/null
}

# Run all clients at once; prints the elapsed seconds.
run_clients() {
	local pids=() start end
	start=$(date +%s.%N)
	for ((c = 1; c <= CLIENTS; c++)); do
		psql_pg -q -v ON_ERROR_STOP=0 -f "$WORK/bench_$c.sql" >/dev/null 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}" || true
	end=$(date +%s.%N)
	echo "$end - $start" | bc -l
}

scalar() { psql_pg -qAt -c "$1"; }

declare -A RATES
RATIO_D=""
RATIO_L=""
attempts=$((CLIENTS * PER_CLIENT))
lost_total=0
dropped_total=0
drain_max=0
say "flood: $CLIENTS clients x $PER_CLIENT rejected INSERTs, $ROUNDS rounds per configuration"
for ((r = 1; r <= ROUNDS; r++)); do
	for cfg in durable server-log log-mode; do
		for ((c = 1; c <= CLIENTS; c++)); do make_file "$cfg" "$c"; done
		scalar "TRUNCATE tenants; DELETE FROM tenant_guard.test_data_prevention_logs" >/dev/null
		before=$(scalar "SELECT dropped_total FROM tenant_guard.log_queue_status()")
		secs=$(run_clients)
		rate=$(echo "$attempts / $secs" | bc -l)
		RATES[$cfg]+="$rate "
		if [ "$cfg" = durable ]; then
			t0=$(date +%s.%N)
			scalar "SELECT tenant_guard.log_queue_wait(60000)" >/dev/null
			drain=$(echo "$(date +%s.%N) - $t0" | bc -l)
			rows=$(scalar "SELECT count(*) FROM tenant_guard.test_data_prevention_logs WHERE action = 'rejected'")
			dropped=$(($(scalar "SELECT dropped_total FROM tenant_guard.log_queue_status()") - before))
			lost=$((attempts - rows))
			lost_total=$((lost_total + lost))
			dropped_total=$((dropped_total + dropped))
			drain_max=$(echo "if ($drain > $drain_max) $drain else $drain_max" | bc -l)
			printf '  round %d %-10s %6.2f s  %8.0f rejected/s  log rows %d/%d (lost %d, dropped %d), queue drained %.2f s after the flood\n' \
				"$r" "$cfg" "$secs" "$rate" "$rows" "$attempts" "$lost" "$dropped" "$drain"
		else
			printf '  round %d %-10s %6.2f s  %8.0f %s/s\n' "$r" "$cfg" "$secs" "$rate" \
				"$([ "$cfg" = log-mode ] && echo inserts || echo rejected)"
		fi
	done
	# ratios within the round: the machine's load changes between rounds
	set -- ${RATES[durable]}; rd=${!#}
	set -- ${RATES[server-log]}; rs=${!#}
	set -- ${RATES[log-mode]}; rl=${!#}
	RATIO_D+="$(echo "$rd / $rs" | bc -l) "
	RATIO_L+="$(echo "$rl / $rs" | bc -l) "
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
d=$(echo "${RATES[durable]}" | median)
s=$(echo "${RATES[server-log]}" | median)
l=$(echo "${RATES[log-mode]}" | median)

say "result (medians of $ROUNDS rounds; $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
printf '%-58s %10s %8s\n' "configuration" "per second" "ratio"
printf '%-58s %10.0f %8.2f\n' "enforce, server-log line only (durable_log = off)" "$s" 1
printf '%-58s %10.0f %8.2f\n' "enforce, durable log (queue + background writer)" "$d" "$(echo "$RATIO_D" | median)"
printf '%-58s %10.0f %8.2f\n' "log mode (row kept, log row in the same transaction)" "$l" "$(echo "$RATIO_L" | median)"
echo "(ratio: median over rounds of the rate divided by the same round's server-log-only rate)"
echo "durable runs: $((ROUNDS * attempts)) rejections, lost $lost_total, dropped $dropped_total; slowest drain after a flood: $(printf '%.2f' "$drain_max") s"
[ "$lost_total" -eq 0 ]
