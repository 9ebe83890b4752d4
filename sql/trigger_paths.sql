-- The trigger behaves the same on every way rows get in.
CREATE TABLE tenants (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    subdomain text UNIQUE,
    email text
);
SELECT tenant_guard.attach('tenants');

-- single-row INSERT: allowed and refused
INSERT INTO tenants (name, subdomain, email) VALUES ('Acme Corporation', 'acme-corp', 'contact@acme.com');
INSERT INTO tenants (name, subdomain, email) VALUES ('Test Company', 'test-company-123', 'test@example.com');

-- multi-row INSERT: one bad row refuses the statement
INSERT INTO tenants (name, subdomain, email) VALUES
  ('Globex', 'globex', 'it@globex.com'),
  ('Demo Org', 'demo-org', 'x@globex.com');
INSERT INTO tenants (name, subdomain, email) VALUES
  ('Globex', 'globex', 'it@globex.com'),
  ('Initech', 'initech', 'it@initech.com');

-- INSERT ... SELECT
INSERT INTO tenants (name, subdomain, email)
  SELECT 'Umbrella ' || i, 'umbrella-' || i, 'ops' || i || '@umbrella.com' FROM generate_series(1, 3) i;
INSERT INTO tenants (name, subdomain, email)
  SELECT 'Sample ' || i, 'sample-' || i, 'ops@umbrella.com' FROM generate_series(1, 3) i;

-- COPY
COPY tenants (name, subdomain, email) FROM stdin;
Hooli	hooli	a@hooli.com
\.
COPY tenants (name, subdomain, email) FROM stdin;
Pied Piper	piedpiper	a@piedpiper.com
Fake Ltd	fake-ltd	b@piedpiper.com
\.

-- ON CONFLICT: the BEFORE INSERT trigger runs before the conflict check,
-- and DO UPDATE re-checks the new values through the UPDATE trigger
INSERT INTO tenants (name, subdomain, email) VALUES ('Acme Corp', 'acme-corp', 'contact@acme.com')
  ON CONFLICT (subdomain) DO NOTHING;
INSERT INTO tenants (name, subdomain, email) VALUES ('Dummy', 'acme-corp', 'contact@acme.com')
  ON CONFLICT (subdomain) DO NOTHING;
INSERT INTO tenants (name, subdomain, email) VALUES ('Acme Corp', 'acme-corp', 'contact@acme.com')
  ON CONFLICT (subdomain) DO UPDATE SET name = 'Test ' || excluded.name;
INSERT INTO tenants (name, subdomain, email) VALUES ('Acme Corp', 'acme-corp', 'contact@acme.com')
  ON CONFLICT (subdomain) DO UPDATE SET name = excluded.name;

-- UPDATE: only guarded columns that change are checked
UPDATE tenants SET name = 'Test Acme' WHERE subdomain = 'acme-corp';
UPDATE tenants SET email = 'a@mailinator.com' WHERE subdomain = 'acme-corp';
UPDATE tenants SET id = id WHERE subdomain = 'acme-corp';
-- a row that predates the guard can still be touched on other columns
SELECT tenant_guard.detach('tenants');
INSERT INTO tenants (name, subdomain, email) VALUES ('Legacy Test', 'legacy', 'l@acme.com');
SELECT tenant_guard.attach('tenants');
UPDATE tenants SET email = 'legacy@acme.com' WHERE subdomain = 'legacy';
UPDATE tenants SET name = 'Legacy Test 2' WHERE subdomain = 'legacy';
UPDATE tenants SET name = 'Legacy Holdings' WHERE subdomain = 'legacy';
UPDATE tenants SET email = NULL WHERE subdomain = 'legacy';
UPDATE tenants SET email = 'x@example.com' WHERE subdomain = 'legacy';

SELECT name, subdomain, email FROM tenants ORDER BY id;
-- a row moved to another partition is inserted there, and checked whole:
-- see the partitioned table below

-- a partitioned tenants table: the trigger is cloned to every partition,
-- including partitions whose column order differs from the parent's
CREATE TABLE ptenants (region text NOT NULL, name text, subdomain text, email text)
  PARTITION BY LIST (region);
CREATE TABLE ptenants_eu PARTITION OF ptenants FOR VALUES IN ('eu');
CREATE TABLE ptenants_us (email text, subdomain text, region text NOT NULL, name text);
ALTER TABLE ptenants ATTACH PARTITION ptenants_us FOR VALUES IN ('us');
SELECT tenant_guard.attach('ptenants');
SELECT tgrelid::regclass, tgname FROM pg_trigger WHERE tgname = 'tenant_guard' AND tgrelid::regclass::text LIKE 'ptenants%' ORDER BY 1;
INSERT INTO ptenants VALUES ('eu', 'Müller GmbH', 'mueller', 'info@mueller.de'),
                            ('us', 'Route 66 Diner', 'route66', 'eat@route66.com');
INSERT INTO ptenants VALUES ('us', 'Test Diner', 'diner', 'eat@route66.com');
INSERT INTO ptenants VALUES ('eu', 'Diner', 'diner', 'eat@example.com');
COPY ptenants FROM stdin;
us	Acme West	acme-west	west@acme.com
\.
COPY ptenants FROM stdin;
us	Dummy West	dummy-west	west@acme.com
\.
-- moving a row between partitions is an UPDATE on the parent
UPDATE ptenants SET region = 'eu' WHERE subdomain = 'route66';
UPDATE ptenants SET region = 'us', name = 'Fake Diner' WHERE subdomain = 'route66';
-- a partition attached later gets the trigger too
CREATE TABLE ptenants_apac PARTITION OF ptenants FOR VALUES IN ('apac');
INSERT INTO ptenants VALUES ('apac', 'Example KK', 'ex', 'a@b.jp');
SELECT region, name FROM ptenants ORDER BY 1, 2;

-- values stored out of line: INSERT ... SELECT and UPDATE ... FROM hand the
-- trigger TOAST pointers, which must be read in full (not as short texts)
CREATE TABLE toasted (name text, email text);
ALTER TABLE toasted ALTER name SET STORAGE EXTERNAL, ALTER email SET STORAGE EXTERNAL;
INSERT INTO toasted VALUES ('Test ' || repeat('harbor ', 400), 'ana@acme.com'),
                           ('Blue ' || repeat('harbor ', 400), 'bo@acme.com'),
                           ('Blue ' || repeat('bakery ', 400), repeat('c', 3000) || '@acme.com');
DO $$
DECLARE n int;
BEGIN
  EXECUTE format('SELECT count(DISTINCT chunk_id) FROM %s',
                 (SELECT reltoastrelid::regclass FROM pg_class WHERE relname = 'toasted')) INTO n;
  RAISE NOTICE 'values stored out of line: %', n;
END $$;
INSERT INTO tenants (name, subdomain, email) SELECT name, 'toast-1', email FROM toasted WHERE name LIKE 'Test%';
INSERT INTO tenants (name, subdomain, email) SELECT name, 'toast-2', email FROM toasted WHERE name LIKE 'Blue h%';
INSERT INTO tenants (name, subdomain, email) SELECT name, 'toast-3', email FROM toasted WHERE name LIKE 'Blue b%';
UPDATE tenants t SET name = s.name FROM toasted s WHERE t.subdomain = 'toast-2' AND s.name LIKE 'Test%';
SELECT subdomain, length(name) AS name_length, email FROM tenants WHERE subdomain LIKE 'toast-%';
DROP TABLE toasted;

DROP TABLE tenants, ptenants;

-- each refused row above left exactly one log row (see durable_log.sql)
SELECT tenant_guard.log_queue_wait();
SELECT action, count(*) FROM tenant_guard.test_data_prevention_logs GROUP BY action;
DELETE FROM tenant_guard.test_data_prevention_logs;
