#!/usr/bin/env bash
# bench/checker.sh -- checks per second of tenant_guard.check_tenant() (all
# rules on) against a PL/pgSQL peer written as a DBA would (ILIKE keywords,
# the seed's domain list), on the same 200k real-looking rows, in the same
# run; and the INSERT overhead of the trigger against no trigger.  Prints
# medians of TG_BENCH_REPS runs (default 5) and the ratios.  Never asserts
# wall time: the machine is shared, read the ratios.
source "$(dirname "$0")/../test/lib.sh"

ROWS=${TG_BENCH_ROWS:-200000}
REPS=${TG_BENCH_REPS:-5}
export TG_PORT=${TG_PORT:-54339}

ensure_packages
make_workdir .benchrun
build_install
start_cluster

say "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $(date -u +%Y-%m-%d)"
psql_pg -q <<SQL
CREATE EXTENSION tenant_guard;
CREATE TABLE t AS
SELECT CASE WHEN i % 20 = 0 THEN (ARRAY['Test Company','Demo Org','QA Tenant','Sample Co','Fake Ltd'])[1 + i % 5] || ' ' || i
            WHEN i % 50 = 1 THEN (ARRAY['Müller','Café','Ørsted','Société','Łódź'])[1 + i % 5] || ' ' || s
            ELSE p || ' ' || s || CASE WHEN i % 3 = 0 THEN ' ' || (ARRAY['Inc','LLC','Ltd','GmbH','Co'])[1 + i % 5] ELSE '' END
       END AS name,
       lower(p) || '-' || lower(s) || '-' || i AS subdomain,
       (ARRAY['info','jane.smith','ops','hello','sales+eu'])[1 + i % 5] || '@' ||
       CASE WHEN i % 40 = 3 THEN 'mailinator.com' WHEN i % 7 = 0 THEN 'gmail.com'
            ELSE lower(p) || lower(s) || '.com' END AS email
  FROM generate_series(1, $ROWS) i,
       LATERAL (SELECT (ARRAY['Acme','Globex','Initech','Blue','Bright','North','Silver','Green',
                              'Summit','Harbor','Contest','Latest','Pioneer','Granite','Maple'])[1 + i % 15] AS p,
                       (ARRAY['Labs','Foods','Consulting','Partners','Studio','Logistics','Bakery',
                              'Dental','Motors','Design','Media','Analytics','Builders'])[1 + (i / 15) % 13] AS s) w;
ANALYZE t;

CREATE FUNCTION bench_peer(n text, s text, e text) RETURNS boolean
LANGUAGE plpgsql STABLE AS \$\$
DECLARE kw text;
BEGIN
  FOREACH kw IN ARRAY ARRAY['test','demo','sample','fake','dummy','example'] LOOP
    IF n ILIKE '%' || kw || '%' OR s ILIKE '%' || kw || '%' THEN
      RETURN true;
    END IF;
  END LOOP;
  IF lower(split_part(e, '@', 2)) = ANY (ARRAY['test.com','example.com','fake.com','temp.com',
       'throwaway.email','guerrillamail.com','mailinator.com','10minutemail.com']) THEN
    RETURN true;
  END IF;
  RETURN false;
END \$\$;

CREATE TABLE tenants (name text, subdomain text, email text);
SQL

psql_pg -q -v reps="$REPS" <<'SQL'
SET client_min_messages = notice;
SELECT set_config('tg.reps', :'reps', false) \gset
SET max_parallel_workers_per_gather = 0;  -- per-check cost on one core
CREATE TEMP TABLE timings (what text, ms float8);
DO $$
DECLARE
  t0 timestamptz; n bigint;
  q text[] := ARRAY[
    'scan', 'SELECT count(*) FROM t WHERE length(name) + length(subdomain) + length(email) >= 0',
    'tenant_guard', 'SELECT count(*) FROM t WHERE (tenant_guard.check_tenant(name, subdomain, email)).is_suspicious',
    'plpgsql peer', 'SELECT count(*) FROM t WHERE bench_peer(name, subdomain, email)'];
BEGIN
  FOR r IN 1..current_setting('tg.reps')::int LOOP
    FOR k IN 0..2 LOOP
      t0 := clock_timestamp();
      EXECUTE q[2 * k + 2] INTO n;
      INSERT INTO timings VALUES (q[2 * k + 1], 1000 * extract(epoch FROM clock_timestamp() - t0));
      IF r = 1 THEN RAISE NOTICE '% flags % of % rows', q[2 * k + 1], n, (SELECT count(*) FROM t); END IF;
    END LOOP;
  END LOOP;
END $$;
SELECT what, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1) AS median_ms
  FROM timings GROUP BY what ORDER BY 2;
WITH m AS (SELECT what, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms FROM timings GROUP BY what),
     s AS (SELECT ms FROM m WHERE what = 'scan'),
     c AS (SELECT m.what, (m.ms - s.ms) * 1000 / (SELECT count(*) FROM t) AS us_per_check FROM m, s WHERE m.what <> 'scan')
SELECT what, round(us_per_check::numeric, 3) AS us_per_check,
       round(1e6 / us_per_check) AS checks_per_second,
       round(((SELECT us_per_check FROM c WHERE what = 'plpgsql peer') / us_per_check)::numeric, 1) AS speedup_vs_peer
  FROM c ORDER BY us_per_check;
SQL

say "INSERT ... SELECT of $ROWS rows: no trigger vs tenant_guard (mode log: every row kept; rate limits off, see bench/insert.sh for them)"
psql_pg -q <<'SQL'
SET tenant_guard.mode = 'log';
-- the source repeats e-mail addresses: with the limits on, nearly every
-- row would be a logged rate-limit hit, and this would time the log
SET tenant_guard.max_tenants_per_hour_per_ip = -1;
SET tenant_guard.max_tenants_per_hour_per_email = -1;
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE ins (what text, ms float8);
DO $$
DECLARE t0 timestamptz;
BEGIN
  FOR r IN 1..3 LOOP
    PERFORM tenant_guard.detach('tenants');
    TRUNCATE tenants;
    t0 := clock_timestamp();
    INSERT INTO tenants SELECT name, subdomain, email FROM t WHERE name NOT LIKE 'Test%' AND name NOT LIKE 'Demo%' AND name NOT LIKE 'QA%' AND name NOT LIKE 'Sample%' AND name NOT LIKE 'Fake%' AND email NOT LIKE '%mailinator%';
    INSERT INTO ins VALUES ('no trigger', 1000 * extract(epoch FROM clock_timestamp() - t0));
    TRUNCATE tenants;
    PERFORM tenant_guard.attach('tenants');
    t0 := clock_timestamp();
    INSERT INTO tenants SELECT name, subdomain, email FROM t WHERE name NOT LIKE 'Test%' AND name NOT LIKE 'Demo%' AND name NOT LIKE 'QA%' AND name NOT LIKE 'Sample%' AND name NOT LIKE 'Fake%' AND email NOT LIKE '%mailinator%';
    INSERT INTO ins VALUES ('tenant_guard', 1000 * extract(epoch FROM clock_timestamp() - t0));
  END LOOP;
END $$;
WITH m AS (SELECT what, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms FROM ins GROUP BY what)
SELECT what, round(ms::numeric, 1) AS median_ms,
       round((ms / (SELECT ms FROM m WHERE what = 'no trigger'))::numeric, 3) AS ratio_to_no_trigger
  FROM m ORDER BY ms;
SELECT count(*) AS rows_kept, (SELECT count(*) FROM tenant_guard.test_data_prevention_logs) AS logged FROM tenants;
SQL
