-- tenant_guard.mode: enforce (default) | log | off, and who may relax it.
CREATE TABLE tenants (name text, subdomain text, email text);
SELECT tenant_guard.attach('tenants');
SHOW tenant_guard.mode;

-- enforce: refused with the exact message, the reason and SQLSTATE TG001
INSERT INTO tenants VALUES ('Test Company', 'test-company-123', 'test@example.com');
DO $$
DECLARE
  detail text;
BEGIN
  INSERT INTO tenants VALUES ('Fake Co', 'fake', 'a@b.com');
EXCEPTION WHEN SQLSTATE 'TG001' THEN
  GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
  RAISE NOTICE 'caught "%" as % with detail "%"', SQLERRM, SQLSTATE, detail;
END $$;
-- both refused rows are in the log (written in the background)
SELECT tenant_guard.log_queue_wait();

-- log: the row is kept and a log row is written
SET tenant_guard.mode = 'log';
INSERT INTO tenants VALUES ('Demo Org', 'demo', 'x@acme.com');
SELECT action, reason, data->>'name' AS name FROM tenant_guard.test_data_prevention_logs ORDER BY id;

-- off: pass through, nothing logged
SET tenant_guard.mode = off;
INSERT INTO tenants VALUES ('Sample Org', 'sample', 'x@acme.com');
SELECT count(*) FROM tenant_guard.test_data_prevention_logs;
RESET tenant_guard.mode;
SELECT name FROM tenants ORDER BY name;

-- bad values
SET tenant_guard.mode = 'permissive';
SET tenant_guard.mode = '';

-- an application role may state enforce, but not relax it
CREATE ROLE regress_app LOGIN;
CREATE ROLE regress_admin LOGIN IN ROLE tenant_guard_admin;
GRANT INSERT, SELECT ON tenants TO regress_app, regress_admin;
SET ROLE regress_app;
SET tenant_guard.mode = enforce;
SET tenant_guard.mode = off;
SET tenant_guard.mode = log;
SELECT set_config('tenant_guard.mode', 'off', true);
BEGIN;
SET LOCAL tenant_guard.mode = off;
ROLLBACK;
INSERT INTO tenants VALUES ('Dummy Org', 'dummy', 'x@acme.com');
-- nor through stored settings it could place itself
ALTER ROLE regress_app SET tenant_guard.mode = off;
-- nor through a function's SET clause
RESET ROLE;
CREATE SCHEMA regress_app_s AUTHORIZATION regress_app;
SET ROLE regress_app;
CREATE FUNCTION regress_app_s.sneak() RETURNS text LANGUAGE sql
  SET tenant_guard.mode = off AS $$ SELECT current_setting('tenant_guard.mode') $$;
RESET ROLE;

-- members of tenant_guard_admin may
SET ROLE regress_admin;
SET tenant_guard.mode = log;
SHOW tenant_guard.mode;
SET tenant_guard.mode = off;
RESET tenant_guard.mode;
RESET ROLE;

-- superusers may, and may place it for a role
ALTER ROLE regress_app SET tenant_guard.mode = log;
SELECT setconfig FROM pg_db_role_setting WHERE setrole = 'regress_app'::regrole;
ALTER ROLE regress_app RESET tenant_guard.mode;

DROP TABLE tenants;
DROP SCHEMA regress_app_s;
DROP ROLE regress_app, regress_admin;
SELECT tenant_guard.log_queue_wait();
DELETE FROM tenant_guard.test_data_prevention_logs;
