-- attach() / detach(): validation and the trigger they install.
CREATE TABLE tenants (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    subdomain varchar(63) UNIQUE,
    email text
);
SELECT tenant_guard.attach('tenants');
SELECT tgname, tgenabled, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = 'tenants'::regclass;
-- attaching again replaces the trigger
SELECT tenant_guard.attach('tenants', email_column => NULL);
SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = 'tenants'::regclass;
SELECT tenant_guard.detach('tenants');
SELECT tenant_guard.detach('tenants');
SELECT count(*) FROM pg_trigger WHERE tgrelid = 'tenants'::regclass AND tgname = 'tenant_guard';

-- validation
SELECT tenant_guard.attach('tenants', name_column => 'title');
CREATE TABLE bad_types (id int, name int, subdomain text, email text);
SELECT tenant_guard.attach('bad_types');
SELECT tenant_guard.attach('tenants', NULL, NULL, NULL);
SELECT tenant_guard.attach(NULL);
CREATE VIEW tenants_v AS SELECT * FROM tenants;
SELECT tenant_guard.attach('tenants_v');
SELECT tenant_guard.attach('no_such_table');
-- a generated column is still empty when a BEFORE trigger runs: refused
CREATE TABLE tenants_gen (first text, email text, subdomain text,
    name text GENERATED ALWAYS AS (first || ' Company') STORED);
SELECT tenant_guard.attach('tenants_gen');
SELECT tenant_guard.attach('tenants_gen', name_column => 'first');
INSERT INTO tenants_gen (first, email, subdomain) VALUES ('Test', 'a@acme.com', 'x');
-- a temporary table goes away without a DROP: refused
CREATE TEMP TABLE tenants_tmp (name text, subdomain text, email text);
SELECT tenant_guard.attach('tenants_tmp');
-- rows inserted into an inheritance child skip the parent's trigger: refused
CREATE TABLE tenants_par (name text, subdomain text, email text);
CREATE TABLE tenants_chi () INHERITS (tenants_par);
SELECT tenant_guard.attach('tenants_par');
SELECT count(*) FROM tenant_guard.guarded_tables
 WHERE tbl::oid IN ('tenants_tmp'::regclass, 'tenants_par'::regclass);
-- a trigger of the same name that is not ours is not replaced
CREATE FUNCTION own_check() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TABLE tenants_own (name text, subdomain text, email text);
CREATE TRIGGER tenant_guard BEFORE INSERT ON tenants_own FOR EACH ROW EXECUTE FUNCTION own_check();
SELECT tenant_guard.attach('tenants_own');
SELECT tgfoid::regproc FROM pg_trigger WHERE tgrelid = 'tenants_own'::regclass;
DROP TABLE tenants_own;
DROP FUNCTION own_check();

-- domains over text types and citext-like varchar are accepted
CREATE DOMAIN company_name AS varchar(200) CHECK (VALUE <> '');
CREATE TABLE tenants_dom (name company_name, subdomain char(20), email text);
SELECT tenant_guard.attach('tenants_dom');
INSERT INTO tenants_dom VALUES ('Acme', 'acme', 'a@acme.com');
INSERT INTO tenants_dom VALUES ('Test Inc', 'x', 'a@acme.com');

-- a column renamed after attach gives a clear error, until attach again
ALTER TABLE tenants_dom RENAME COLUMN email TO contact_email;
INSERT INTO tenants_dom VALUES ('Acme 2', 'acme2', 'b@acme.com');
SELECT tenant_guard.attach('tenants_dom', email_column => 'contact_email');
INSERT INTO tenants_dom VALUES ('Acme 2', 'acme2', 'b@acme.com');

-- the trigger function refuses to run any other way
CREATE TABLE misuse (name text);
CREATE TRIGGER misuse_after AFTER INSERT ON misuse FOR EACH ROW
  EXECUTE FUNCTION tenant_guard.guard_trigger('name', '', '');
INSERT INTO misuse VALUES ('x');
DROP TRIGGER misuse_after ON misuse;
CREATE TRIGGER misuse_stmt BEFORE INSERT ON misuse FOR EACH STATEMENT
  EXECUTE FUNCTION tenant_guard.guard_trigger('name', '', '');
INSERT INTO misuse VALUES ('x');
DROP TRIGGER misuse_stmt ON misuse;
CREATE TRIGGER misuse_args BEFORE INSERT ON misuse FOR EACH ROW
  EXECUTE FUNCTION tenant_guard.guard_trigger('name');
INSERT INTO misuse VALUES ('x');
SELECT tenant_guard.guard_trigger();

-- an oid that names no table, and a system catalog
SELECT tenant_guard.attach(0);
SELECT tenant_guard.attach(2147483647::oid::regclass);
SELECT tenant_guard.register_guarded_table('pg_catalog.pg_class', 'oid', 'relname', NULL, NULL);

DROP TABLE tenants, bad_types, tenants_dom, misuse, tenants_gen, tenants_tmp, tenants_par CASCADE;
DROP DOMAIN company_name;

-- rejected rows reach the log asynchronously (see durable_log.sql)
SELECT tenant_guard.log_queue_wait();
DELETE FROM tenant_guard.test_data_prevention_logs;
