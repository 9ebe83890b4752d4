-- Who may do what.
CREATE TABLE tenants (name text, subdomain text, email text);
SELECT tenant_guard.attach('tenants');
CREATE ROLE regress_app LOGIN IN ROLE tenant_guard_app;
CREATE ROLE regress_nobody LOGIN;
CREATE ROLE regress_admin LOGIN IN ROLE tenant_guard_admin;
CREATE SCHEMA regress_own AUTHORIZATION regress_nobody;
GRANT INSERT ON tenants TO regress_app, regress_nobody;
GRANT ALL ON tenants TO regress_admin;

-- the checker is for everyone
SET ROLE regress_nobody;
SELECT is_suspicious FROM tenant_guard.check_tenant('Test', NULL, NULL);
-- the trigger's log rows are written for roles without rights on the log
RESET ROLE;
SET tenant_guard.mode = log;
SET ROLE regress_nobody;
INSERT INTO tenants VALUES ('Demo Co', 'demo', 'a@acme.com');
-- but they cannot read, write or report to it
SELECT count(*) FROM tenant_guard.test_data_prevention_logs;
INSERT INTO tenant_guard.test_data_prevention_logs (reason) VALUES ('forged');
SELECT tenant_guard.log_suspicious_request('/x', NULL, 'r', NULL);
SELECT tenant_guard.attach('tenants');
SELECT tenant_guard.detach('tenants');
-- nor install the guard's triggers by hand, on a table of their own: that
-- would write "rejected" log rows and count rate limits for any address
-- they name, and probe which tenants are protected
CREATE TABLE regress_own.tenants (id int, name text, subdomain text, email text);
CREATE TRIGGER forge BEFORE INSERT ON regress_own.tenants FOR EACH ROW
  EXECUTE FUNCTION tenant_guard.guard_trigger('name', 'subdomain', 'email');
CREATE TRIGGER probe BEFORE DELETE ON regress_own.tenants FOR EACH ROW
  EXECUTE FUNCTION tenant_guard.protect_trigger('id');
CREATE TRIGGER noise AFTER INSERT ON regress_own.tenants FOR EACH STATEMENT
  EXECUTE FUNCTION tenant_guard.rules_changed();
DROP TABLE regress_own.tenants;
RESET ROLE;
RESET tenant_guard.mode;

-- applications may report, not read
SET ROLE regress_app;
SELECT tenant_guard.log_suspicious_request('/x', NULL, 'r', NULL) > 0 AS reported;
SELECT count(*) FROM tenant_guard.test_data_prevention_logs;
DELETE FROM tenant_guard.test_data_prevention_logs;
RESET ROLE;

-- admins read, prune, attach and detach (attaching a trigger takes
-- ownership of the table, as CREATE TRIGGER does)
SET ROLE regress_admin;
SELECT role_name, action FROM tenant_guard.test_data_prevention_logs ORDER BY id;
SELECT tenant_guard.detach('tenants');
RESET ROLE;
ALTER TABLE tenants OWNER TO regress_admin;
SET ROLE regress_admin;
SELECT tenant_guard.detach('tenants');
SELECT tenant_guard.attach('tenants');
DELETE FROM tenant_guard.test_data_prevention_logs WHERE role_name = 'regress_app';
SELECT count(*) FROM tenant_guard.test_data_prevention_logs;
RESET ROLE;

-- functions that write data or read logs are not executable by PUBLIC
SELECT p.oid::regprocedure AS function, has_function_privilege('public', p.oid, 'EXECUTE') AS public_can_execute
  FROM pg_proc p WHERE p.pronamespace = 'tenant_guard'::regnamespace ORDER BY p.oid::regprocedure::text;
-- and nothing is SECURITY DEFINER without a pinned search_path
SELECT p.oid::regprocedure FROM pg_proc p
 WHERE p.pronamespace = 'tenant_guard'::regnamespace AND p.prosecdef
   AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false);
-- every object has a comment
SELECT pg_describe_object(d.classid, d.objid, 0) AS uncommented
  FROM pg_depend d
 WHERE d.refclassid = 'pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'tenant_guard')
   AND d.deptype = 'e'
   AND obj_description(d.objid, (SELECT relname FROM pg_class WHERE oid = d.classid)) IS NULL
   AND d.classid <> 'pg_type'::regclass
 ORDER BY 1;

DROP TABLE tenants;
DROP SCHEMA regress_own;
DROP ROLE regress_app, regress_nobody, regress_admin;
DELETE FROM tenant_guard.test_data_prevention_logs;
