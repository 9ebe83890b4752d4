-- Rate limits count creations, not attempts: rows of INSERT ... ON CONFLICT
-- that are skipped (DO NOTHING) or update the row they conflict with (DO
-- UPDATE) create no tenant and are not counted; the rows really inserted
-- are, by the AFTER INSERT trigger tenant_guard_created.
SELECT tenant_guard.rate_limit_reset() >= 0 AS reset;
DELETE FROM tenant_guard.test_data_prevention_logs;
CREATE TABLE tenants (
    id serial PRIMARY KEY,
    name text NOT NULL,
    subdomain text UNIQUE,
    email text
);
SELECT tenant_guard.attach('tenants');
SELECT tgname, pg_get_triggerdef(oid) LIKE '%AFTER INSERT%WHEN (tenant_guard.creation_deferred())%' AS after_when
  FROM pg_trigger WHERE tgrelid = 'tenants'::regclass AND tgname LIKE 'tenant_guard%' ORDER BY tgname;
SET tenant_guard.max_tenants_per_hour_per_ip = 3;
SET tenant_guard.max_tenants_per_hour_per_email = 3;

-- an application's idempotent signup, retried five times: one creation
INSERT INTO tenants (name, subdomain, email) VALUES ('Harbor Cafe', 'harbor-cafe', 'mara@harbor-cafe.de')
  ON CONFLICT DO NOTHING;
INSERT INTO tenants (name, subdomain, email)
  SELECT 'Harbor Cafe', 'harbor-cafe', 'mara@harbor-cafe.de' FROM generate_series(1, 5)
  ON CONFLICT (subdomain) DO NOTHING;
SELECT * FROM tenant_guard.rate_limit_usage('email', 'mara@harbor-cafe.de');
-- so two real signups still fit, the third is refused (TG002)
INSERT INTO tenants (name, subdomain, email) VALUES ('Harbor Cafe 2', 'harbor-cafe-2', 'mara@harbor-cafe.de');
INSERT INTO tenants (name, subdomain, email) VALUES ('Harbor Cafe 3', 'harbor-cafe-3', 'mara@harbor-cafe.de')
  ON CONFLICT DO NOTHING;
INSERT INTO tenants (name, subdomain, email) VALUES ('Harbor Cafe 4', 'harbor-cafe-4', 'mara@harbor-cafe.de');
-- at the limit, a skipped retry is not refused (it creates nothing) ...
INSERT INTO tenants (name, subdomain, email) VALUES ('Harbor Cafe', 'harbor-cafe', 'mara@harbor-cafe.de')
  ON CONFLICT DO NOTHING RETURNING subdomain;
-- ... but a row ON CONFLICT really inserts is, with the statement
INSERT INTO tenants (name, subdomain, email)
  VALUES ('Harbor Cafe', 'harbor-cafe', 'mara@harbor-cafe.de'),
         ('Harbor Cafe 5', 'harbor-cafe-5', 'mara@harbor-cafe.de')
  ON CONFLICT DO NOTHING;
SELECT count(*) AS harbor_rows FROM tenants WHERE email = 'mara@harbor-cafe.de';
SELECT * FROM tenant_guard.rate_limit_usage('email', 'mara@harbor-cafe.de');

-- DO UPDATE: a row that updates is no creation, a row that inserts is one
INSERT INTO tenants (name, subdomain, email) VALUES ('Globex', 'globex', 'it@globex.com');
INSERT INTO tenants (name, subdomain, email) VALUES ('Globex Inc', 'globex', 'it@globex.com')
  ON CONFLICT (subdomain) DO UPDATE SET name = excluded.name;
INSERT INTO tenants (name, subdomain, email) VALUES ('Globex Corp', 'globex', 'it@globex.com')
  ON CONFLICT (subdomain) DO UPDATE SET name = excluded.name;
INSERT INTO tenants (name, subdomain, email) VALUES ('Globex Two', 'globex-2', 'it@globex.com')
  ON CONFLICT (subdomain) DO UPDATE SET name = excluded.name;
SELECT * FROM tenant_guard.rate_limit_usage('email', 'it@globex.com');
SELECT name FROM tenants WHERE subdomain = 'globex';

-- per IP the same: retries of one signup use one of the address's three
BEGIN;
SET LOCAL tenant_guard.client_addr = '203.0.113.7';
INSERT INTO tenants (name, subdomain, email) VALUES ('Initech', 'initech', 'it@initech.com')
  ON CONFLICT DO NOTHING;
INSERT INTO tenants (name, subdomain, email) VALUES ('Initech', 'initech', 'it@initech.com')
  ON CONFLICT DO NOTHING;
INSERT INTO tenants (name, subdomain, email) VALUES ('Initech', 'initech', 'it@initech.com')
  ON CONFLICT (subdomain) DO UPDATE SET email = excluded.email;
COMMIT;
SELECT * FROM tenant_guard.rate_limit_usage('ip', '203.0.113.7');

-- a data-modifying WITH, a PL/pgSQL function, a rolled-back savepoint
WITH ins AS (
  INSERT INTO tenants (name, subdomain, email)
    VALUES ('Umbrella', 'umbrella', 'ops@umbrella.com'), ('Globex', 'globex', 'ops@umbrella.com')
    ON CONFLICT DO NOTHING RETURNING subdomain)
SELECT count(*) AS inserted FROM ins;
WITH ins AS (
  INSERT INTO tenants (name, subdomain, email) VALUES ('Umbrella', 'umbrella', 'ops@umbrella.com')
    ON CONFLICT DO NOTHING)
SELECT 1 AS not_reading_it;
CREATE FUNCTION signup(n text, s text, e text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO tenants (name, subdomain, email) VALUES (n, s, e) ON CONFLICT DO NOTHING;
END $$;
SELECT signup('Umbrella', 'umbrella', 'ops@umbrella.com');
SELECT signup('Umbrella Two', 'umbrella-2', 'ops@umbrella.com');
BEGIN;
SAVEPOINT a;
INSERT INTO tenants (name, subdomain, email) VALUES ('Umbrella Three', 'umbrella-3', 'ops@umbrella.com')
  ON CONFLICT DO NOTHING;
ROLLBACK TO SAVEPOINT a;
COMMIT;
SELECT * FROM tenant_guard.rate_limit_usage('email', 'ops@umbrella.com');

-- a partitioned table: the partitions' triggers count the same way
CREATE TABLE tenants_p (name text NOT NULL, subdomain text, email text, region text,
                        PRIMARY KEY (subdomain, region)) PARTITION BY LIST (region);
CREATE TABLE tenants_p_eu PARTITION OF tenants_p FOR VALUES IN ('eu');
CREATE TABLE tenants_p_us PARTITION OF tenants_p FOR VALUES IN ('us');
SELECT tenant_guard.attach('tenants_p');
INSERT INTO tenants_p VALUES ('Hooli', 'hooli', 'ceo@hooli.com', 'eu'), ('Hooli', 'hooli', 'ceo@hooli.com', 'us')
  ON CONFLICT DO NOTHING;
INSERT INTO tenants_p VALUES ('Hooli', 'hooli', 'ceo@hooli.com', 'eu'), ('Hooli', 'hooli', 'ceo@hooli.com', 'us')
  ON CONFLICT DO NOTHING;
INSERT INTO tenants_p VALUES ('Hooli Europe', 'hooli', 'ceo@hooli.com', 'eu')
  ON CONFLICT (subdomain, region) DO UPDATE SET name = excluded.name;
INSERT INTO tenants_p VALUES ('Hooli', 'hooli-2', 'ceo@hooli.com', 'us');
INSERT INTO tenants_p VALUES ('Hooli', 'hooli-3', 'ceo@hooli.com', 'us') ON CONFLICT DO NOTHING;
SELECT * FROM tenant_guard.rate_limit_usage('email', 'ceo@hooli.com');
DROP TABLE tenants_p;

-- log mode: a skipped row writes no log row; an inserted one over the
-- limit is kept and logged with its row
SET tenant_guard.mode = log;
INSERT INTO tenants (name, subdomain, email) VALUES ('Harbor Cafe', 'harbor-cafe', 'mara@harbor-cafe.de')
  ON CONFLICT DO NOTHING;
INSERT INTO tenants (name, subdomain, email) VALUES ('Harbor Cafe 6', 'harbor-cafe-6', 'mara@harbor-cafe.de')
  ON CONFLICT DO NOTHING;
RESET tenant_guard.mode;
SELECT tenant_guard.log_queue_wait();
SELECT action, reason, data->>'subdomain' AS subdomain FROM tenant_guard.test_data_prevention_logs
 ORDER BY action = 'logged', id;

-- log mode, suspicious data: the checker's finding is logged for a row
-- ON CONFLICT really inserts, once; a row DO NOTHING skips and a row that
-- updates the one it conflicts with (DO UPDATE) write no log row
DELETE FROM tenant_guard.test_data_prevention_logs;
SET tenant_guard.mode = log;
INSERT INTO tenants (name, subdomain, email) VALUES ('Test Company', 'test-co', 'qa1@acme-corp.com')
  ON CONFLICT DO NOTHING;
INSERT INTO tenants (name, subdomain, email) VALUES ('Test Company', 'test-co', 'qa1@acme-corp.com')
  ON CONFLICT DO NOTHING;
INSERT INTO tenants (name, subdomain, email) VALUES ('Test Company', 'test-co', 'qa1@acme-corp.com')
  ON CONFLICT (subdomain) DO UPDATE SET email = excluded.email;
INSERT INTO tenants (name, subdomain, email)
  VALUES ('Test Company', 'test-co', 'qa1@acme-corp.com'), ('Test Company 2', 'test-co-2', 'qa2@acme-corp.com')
  ON CONFLICT DO NOTHING;
WITH ins AS (
  INSERT INTO tenants (name, subdomain, email)
    VALUES ('Test Company 2', 'test-co-2', 'qa2@acme-corp.com'), ('Test Company 3', 'test-co-3', 'qa3@acme-corp.com')
    ON CONFLICT DO NOTHING RETURNING subdomain)
SELECT subdomain AS inserted FROM ins;
-- without rate limits the same; a plain INSERT is logged as before
SET tenant_guard.max_tenants_per_hour_per_ip = -1;
SET tenant_guard.max_tenants_per_hour_per_email = -1;
INSERT INTO tenants (name, subdomain, email) VALUES ('Test Company 4', 'test-co-4', 'qa4@acme-corp.com')
  ON CONFLICT DO NOTHING;
INSERT INTO tenants (name, subdomain, email) VALUES ('Test Company 4', 'test-co-4', 'qa4@acme-corp.com')
  ON CONFLICT DO NOTHING;
INSERT INTO tenants (name, subdomain, email) VALUES ('Test Company 5', 'test-co-5', 'qa5@acme-corp.com');
RESET tenant_guard.max_tenants_per_hour_per_ip;
RESET tenant_guard.max_tenants_per_hour_per_email;
SET tenant_guard.max_tenants_per_hour_per_ip = 3;
SET tenant_guard.max_tenants_per_hour_per_email = 3;
-- a DO UPDATE that writes the suspicious value is an UPDATE, checked as one
INSERT INTO tenants (name, subdomain, email) VALUES ('Test Company 6', 'test-co-5', 'qa5@acme-corp.com')
  ON CONFLICT (subdomain) DO UPDATE SET name = excluded.name;
RESET tenant_guard.mode;
-- enforce mode still refuses the row before the conflict is known: it is test data
INSERT INTO tenants (name, subdomain, email) VALUES ('Test Company', 'test-co', 'qa1@acme-corp.com')
  ON CONFLICT DO NOTHING;
SELECT tenant_guard.log_queue_wait();
SELECT action, split_part(reason, ':', 1) AS reason, data->>'subdomain' AS subdomain, data->>'name' AS name
  FROM tenant_guard.test_data_prevention_logs ORDER BY id;
SELECT subdomain, name FROM tenants WHERE subdomain LIKE 'test-co%' ORDER BY subdomain;

-- mode off: nothing is counted, ON CONFLICT or not
SET tenant_guard.mode = off;
INSERT INTO tenants (name, subdomain, email) VALUES ('Off One', 'off-1', 'off@acme.com')
  ON CONFLICT DO NOTHING;
RESET tenant_guard.mode;
SELECT * FROM tenant_guard.rate_limit_usage('email', 'off@acme.com');

-- detach() removes both triggers; attach() refuses a foreign trigger of the name
SELECT tenant_guard.detach('tenants');
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgrelid = 'tenants'::regclass AND tgname LIKE 'tenant_guard%';
CREATE FUNCTION not_ours() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER tenant_guard_created AFTER INSERT ON tenants FOR EACH ROW EXECUTE FUNCTION not_ours();
SELECT tenant_guard.attach('tenants');
DROP TRIGGER tenant_guard_created ON tenants;

DROP TABLE tenants;
DROP FUNCTION signup(text, text, text);
DROP FUNCTION not_ours();
DELETE FROM tenant_guard.test_data_prevention_logs;
SELECT tenant_guard.rate_limit_reset() >= 0 AS reset;
