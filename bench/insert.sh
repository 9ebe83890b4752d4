#!/usr/bin/env bash
# bench/insert.sh -- what does the guard cost on a bulk insert?
#
# 200k real-looking tenants are inserted with one INSERT ... SELECT into
# three identical tables (uuid primary key, unique subdomain, email index,
# created_at default): one with no trigger, one guarded by tenant_guard,
# one guarded by the PL/pgSQL trigger a DBA would write (ILIKE keywords and
# the domain list).  Each round runs the three back to back in rotating
# order after a CHECKPOINT; ratios are taken within a round and the median
# over rounds is printed, so machine noise between rounds cancels out.
#
#   bash bench/insert.sh [rounds] [rows]
source "$(dirname "$0")/../test/lib.sh"

ROUNDS=${1:-7}
ROWS=${2:-200000}

ensure_packages
make_workdir .benchrun
build_install
TG_PORT=54339 start_cluster

psql_pg -q -d postgres <<SQL
CREATE EXTENSION tenant_guard;
CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- real-looking tenants: no word of them is a test marker
SELECT setseed(0.42);
CREATE TABLE src AS
SELECT n AS i,
       (ARRAY['Acme','Globex','Initech','Umbrella','Hooli','Vandelay','Stark','Wayne','Wonka','Cyberdyne',
              'Soylent','Tyrell','Gringotts','Oscorp','Monarch','Nakatomi','Pied Piper','Dunder Mifflin',
              'Blue Harbor','Northwind','Contoso','Fabrikam','Bluth','Prestige','Sterling'])[1 + (random()*24)::int]
       || ' ' ||
       (ARRAY['Logistics','Partners','Foods','Analytics','Robotics','Media','Health','Energy','Studios',
              'Holdings','Labs','Bakery','Legal','Dental','Travel','Outfitters','Capital','Systems'])[1 + (random()*17)::int]
       AS name,
       NULL::text AS subdomain,
       (ARRAY['info','hello','office','admin','jane.doe','ops','sales'])[1 + (random()*6)::int]
       || n || '@' ||
       (ARRAY['gmail.com','outlook.com','acme.io','globex.com','proton.me','yahoo.co.uk','company.de'])[1 + (random()*6)::int]
       AS email
FROM generate_series(1, $ROWS) n;
-- subdomain: the name as a slug plus letters that make it unique
UPDATE src SET subdomain = lower(replace(name, ' ', '-')) || '-'
                           || translate(i::text, '0123456789', 'rstvwxyzkm');
-- a random suffix can spell a keyboard row ("asdf"): drop the few rows
-- either guard would refuse, so every timed insert inserts every row
DELETE FROM src WHERE (tenant_guard.check_tenant(name, subdomain, email)).is_suspicious;
ANALYZE src;
SELECT count(*) AS source_rows FROM src;

CREATE FUNCTION peer_check() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
  IF NEW.name ILIKE ANY (ARRAY['%test%','%demo%','%sample%','%fake%','%dummy%','%example%'])
     OR NEW.subdomain ILIKE ANY (ARRAY['%test%','%demo%','%sample%','%fake%','%dummy%','%example%'])
     OR lower(split_part(NEW.email, '@', 2)) = ANY (ARRAY['test.com','example.com','fake.com','temp.com',
          'throwaway.email','guerrillamail.com','mailinator.com','10minutemail.com'])
  THEN
    RAISE EXCEPTION 'Suspicious request detected. Please use a real business name and email.';
  END IF;
  RETURN NEW;
END \$\$;

DO \$\$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['t_plain','t_guard','t_plpgsql'] LOOP
    EXECUTE format('CREATE TABLE %I (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text NOT NULL,
                    subdomain text NOT NULL UNIQUE, email text NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT now())', t);
    EXECUTE format('CREATE INDEX ON %I (email)', t);
  END LOOP;
END \$\$;
SELECT tenant_guard.attach('t_guard');
CREATE TRIGGER peer BEFORE INSERT OR UPDATE ON t_plpgsql FOR EACH ROW EXECUTE FUNCTION peer_check();

-- one timed insert, in milliseconds
CREATE FUNCTION timed_insert(t text) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz;
BEGIN
  t0 := clock_timestamp();
  EXECUTE format('INSERT INTO %I (name, subdomain, email) SELECT name, subdomain, email FROM src', t);
  RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END \$\$;
CREATE TABLE results (round int, tbl text, ms float8);
SQL

# sanity: the source data is accepted by both guards
psql_pg -q -d postgres -c "SELECT count(*) AS flagged FROM src WHERE (tenant_guard.check_tenant(name, subdomain, email)).is_suspicious" | grep -q ' 0$' \
	|| { echo "bench data contains rows tenant_guard flags" >&2; exit 1; }

say "$ROUNDS rounds of $ROWS rows"
orders=("t_plain t_guard t_plpgsql" "t_guard t_plpgsql t_plain" "t_plpgsql t_plain t_guard")
for r in $(seq 1 "$ROUNDS"); do
	for t in ${orders[$(( (r - 1) % 3 ))]}; do
		psql_pg -q -d postgres -c "TRUNCATE $t" -c "CHECKPOINT" \
			-c "INSERT INTO results SELECT $r, '$t', timed_insert('$t')" >/dev/null
	done
done

psql_pg -d postgres <<'SQL'
\echo
\echo per round (ms), and ratios to the no-trigger insert of the same round
SELECT round,
       round(max(ms) FILTER (WHERE tbl = 't_plain')::numeric, 1)   AS no_trigger_ms,
       round(max(ms) FILTER (WHERE tbl = 't_guard')::numeric, 1)   AS tenant_guard_ms,
       round(max(ms) FILTER (WHERE tbl = 't_plpgsql')::numeric, 1) AS plpgsql_ms,
       round((max(ms) FILTER (WHERE tbl = 't_guard') / max(ms) FILTER (WHERE tbl = 't_plain'))::numeric, 3) AS guard_ratio,
       round((max(ms) FILTER (WHERE tbl = 't_plpgsql') / max(ms) FILTER (WHERE tbl = 't_plain'))::numeric, 3) AS plpgsql_ratio
  FROM results GROUP BY round ORDER BY round;
\echo median over rounds
WITH r AS (
  SELECT round,
         max(ms) FILTER (WHERE tbl = 't_guard') / max(ms) FILTER (WHERE tbl = 't_plain') AS g,
         max(ms) FILTER (WHERE tbl = 't_plpgsql') / max(ms) FILTER (WHERE tbl = 't_plain') AS p,
         max(ms) FILTER (WHERE tbl = 't_plain') AS base
    FROM results GROUP BY round)
SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY base)::numeric, 1) AS no_trigger_ms,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY g)::numeric, 3) AS tenant_guard_ratio,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY p)::numeric, 3) AS plpgsql_ratio,
       CASE WHEN percentile_cont(0.5) WITHIN GROUP (ORDER BY g) <= 1.05
            THEN 'met' ELSE 'NOT met' END AS "target tenant_guard <= 1.05"
  FROM r;
SQL
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d)"
