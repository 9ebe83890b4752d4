-- Protected tenants: protect(), unprotect() and what they stop.
CREATE TABLE tenants (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    subdomain text UNIQUE,
    email text
);
-- no key given: the single-column primary key is the tenant id
SELECT tenant_guard.attach('tenants');
SELECT tbl, id_column FROM tenant_guard.guarded_tables;
INSERT INTO tenants VALUES
  ('31c06fc4-db22-4740-83ea-48ac14f25810', 'Northwind Traders', 'northwind', 'it@northwind.com'),
  ('0b0e5a7e-0000-4000-8000-000000000001', 'Globex', 'globex', 'it@globex.com'),
  ('0b0e5a7e-0000-4000-8000-000000000002', 'Initech', 'initech', 'it@initech.com');

-- ids are text; they are parsed as the key type and stored canonical
SELECT tenant_guard.protect('31C06FC4-DB22-4740-83EA-48AC14F25810', 'the real customer of the incident');
SELECT tenant_id, note, protected_by FROM tenant_guard.protected_tenants;
-- protecting again keeps the row; a new note replaces the old one, NULL keeps it
SELECT tenant_guard.protect('31c06fc4-db22-4740-83ea-48ac14f25810');
SELECT tenant_guard.protect('{31c06fc4-db22-4740-83ea-48ac14f25810}', 'real customer');
SELECT tenant_id, note FROM tenant_guard.protected_tenants;
-- bad ids
SELECT tenant_guard.protect(NULL);
SELECT tenant_guard.protect('');
SELECT tenant_guard.protect('   ');
SELECT tenant_guard.protect('not-a-uuid');
SELECT tenant_guard.protect('00000000-0000-4000-8000-00000000dead');
SELECT tenant_guard.protect(repeat('x', 1000000));

-- DELETE, key UPDATE and TRUNCATE are refused with SQLSTATE TG003
DELETE FROM tenants WHERE name = 'Northwind Traders';
UPDATE tenants SET id = '31c06fc4-db22-4740-83ea-48ac14f25811' WHERE name = 'Northwind Traders';
TRUNCATE tenants;
TRUNCATE tenants CASCADE;
DO $$
BEGIN
  DELETE FROM tenants;
EXCEPTION WHEN SQLSTATE 'TG003' THEN
  RAISE NOTICE 'refused with TG003: %', SQLERRM;
END
$$;
-- a multi-row DELETE is refused whole
SELECT count(*) FROM tenants;
-- other columns may change; the key may be "set" to itself
UPDATE tenants SET name = 'Northwind Traders Ltd' WHERE subdomain = 'northwind';
UPDATE tenants SET id = id WHERE subdomain = 'northwind';
-- unprotected tenants come and go as usual
UPDATE tenants SET id = '0b0e5a7e-0000-4000-8000-000000000003' WHERE name = 'Initech';
DELETE FROM tenants WHERE name = 'Initech';
-- also when a foreign key cascades into the tenants table
CREATE TABLE plans (id int PRIMARY KEY);
INSERT INTO plans VALUES (1);
ALTER TABLE tenants ADD COLUMN plan_id int REFERENCES plans ON DELETE CASCADE;
UPDATE tenants SET plan_id = 1;
DELETE FROM plans;
SELECT count(*) FROM tenants;

-- unprotect
SELECT tenant_guard.unprotect('31C06FC4-DB22-4740-83EA-48AC14F25810');
SELECT tenant_guard.unprotect('31c06fc4-db22-4740-83ea-48ac14f25810');
SELECT tenant_guard.unprotect('not-a-uuid');
SELECT tenant_guard.unprotect(NULL);
DELETE FROM tenants WHERE name = 'Northwind Traders Ltd';
-- TRUNCATE is fine while the table holds no protected tenant
SELECT tenant_guard.protect('0b0e5a7e-0000-4000-8000-000000000001');
TRUNCATE tenants, plans;
SELECT tenant_guard.unprotect('0b0e5a7e-0000-4000-8000-000000000001');
TRUNCATE tenants, plans;

-- detach removes the protection triggers and the registry row
SELECT tenant_guard.detach('tenants');
SELECT count(*) FROM pg_trigger WHERE tgrelid = 'tenants'::regclass AND tgname LIKE 'tenant_guard%';
SELECT count(*) FROM tenant_guard.guarded_tables;
SELECT tenant_guard.protect('0b0e5a7e-0000-4000-8000-000000000001');

-- id_column: named explicitly, or missing
CREATE TABLE accounts (account_no bigint UNIQUE, name text, subdomain text, email text);
SELECT tenant_guard.attach('accounts', id_column => 'nope');
SELECT tenant_guard.attach('accounts', id_column => 'account_no');
INSERT INTO accounts VALUES (7, 'Hooli', 'hooli', 'a@hooli.com');
SELECT tenant_guard.protect('007');
SELECT tenant_id FROM tenant_guard.protected_tenants;
DELETE FROM accounts;
SELECT tenant_guard.unprotect('7');
-- protect() stores the row's own key text, however the id names it: the
-- trigger and the purge compare that (char(n) pads, numeric keeps its
-- scale, a case-insensitive collation keeps the row's case)
CREATE TABLE codes (code char(8) PRIMARY KEY, name text, subdomain text, email text);
SELECT tenant_guard.attach('codes');
SET tenant_guard.mode = off;
INSERT INTO codes VALUES ('acme', 'Acme GmbH', 'acme', 'it@acme.de'),
                         ('tst1', 'Test Company', 'test-company-1', 'test@example.com');
RESET tenant_guard.mode;
SELECT tenant_guard.protect('acme');
SELECT tenant_guard.protect('tst1');
SELECT tenant_id, length(tenant_id) FROM tenant_guard.protected_tenants ORDER BY 1;
DELETE FROM codes WHERE code = 'acme';
UPDATE codes SET code = 'acme2' WHERE code = 'acme';
SELECT tenant_id FROM tenant_guard.purge_test_tenants(tenants => 'codes');
SELECT tenant_id FROM tenant_guard.purge_test_tenants(ids => '{tst1}', tenants => 'codes');
SELECT tenant_guard.unprotect('acme');
SELECT tenant_guard.unprotect('tst1     ');
CREATE TABLE ntenants (id numeric PRIMARY KEY, name text, subdomain text, email text);
SELECT tenant_guard.attach('ntenants');
INSERT INTO ntenants VALUES (8.0, 'Umbrella', 'umbrella', 'it@umbrella.com');
SELECT tenant_guard.protect('8');
SELECT tenant_id FROM tenant_guard.protected_tenants;
DELETE FROM ntenants WHERE id = 8;
SELECT tenant_guard.unprotect('8.00');
CREATE COLLATION regress_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE ctenants (id text COLLATE regress_ci PRIMARY KEY, name text, subdomain text, email text);
SELECT tenant_guard.attach('ctenants');
INSERT INTO ctenants VALUES ('Acme-CI', 'Acme CI', 'acme-ci', 'it@acme-ci.com');
SELECT tenant_guard.protect('ACME-ci');
SELECT tenant_id FROM tenant_guard.protected_tenants;
DELETE FROM ctenants WHERE id = 'acme-ci';
SELECT tenant_guard.unprotect('acme-CI');
SELECT count(*) FROM tenant_guard.protected_tenants;
DROP TABLE codes, ntenants, ctenants;
DROP COLLATION regress_ci;
-- a table without a primary key or "id" is guarded, not protectable
CREATE TABLE keyless (name text, subdomain text, email text);
SELECT tenant_guard.attach('keyless');
SELECT tbl, id_column FROM tenant_guard.guarded_tables ORDER BY tbl::text;
SELECT count(*) FROM pg_trigger WHERE tgrelid = 'keyless'::regclass;

-- a partitioned tenants table: DELETE via parent or partition, TRUNCATE of a partition
CREATE TABLE ptenants (id bigint, region text, name text, subdomain text, email text,
                       PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE ptenants_eu PARTITION OF ptenants FOR VALUES IN ('eu');
CREATE TABLE ptenants_us PARTITION OF ptenants FOR VALUES IN ('us');
SELECT tenant_guard.attach('ptenants', id_column => 'id');
SELECT tgrelid::regclass, tgname FROM pg_trigger
 WHERE tgname LIKE 'tenant_guard_protect%' AND tgrelid::regclass::text LIKE 'ptenants%' ORDER BY 1, 2;
INSERT INTO ptenants VALUES (1, 'eu', 'Müller GmbH', 'mueller', 'info@mueller.de'),
                            (2, 'us', 'Route 66 Diner', 'route66', 'eat@route66.com');
SELECT tenant_guard.protect('1');
DELETE FROM ptenants WHERE id = 1;
DELETE FROM ptenants_eu;
TRUNCATE ptenants_eu;
TRUNCATE ptenants_us;
-- moving a protected tenant to another partition is refused too
-- (PostgreSQL fires BEFORE DELETE on the partition it leaves)
UPDATE ptenants SET region = 'us' WHERE id = 1;
-- partitions created or attached after attach() get the TRUNCATE trigger too
CREATE TABLE ptenants_apac PARTITION OF ptenants FOR VALUES IN ('apac');
CREATE TABLE ptenants_sa (LIKE ptenants);
ALTER TABLE ptenants ATTACH PARTITION ptenants_sa FOR VALUES IN ('sa');
SELECT tgrelid::regclass, tgname FROM pg_trigger
 WHERE tgname = 'tenant_guard_protect_truncate' AND tgrelid::regclass::text LIKE 'ptenants%' ORDER BY 1;
INSERT INTO ptenants VALUES (3, 'apac', 'Sakura KK', 'sakura', 'info@sakura.jp'),
                            (4, 'sa', 'Rio Ltda', 'rio', 'info@rio.br');
SELECT tenant_guard.protect('3');
SELECT tenant_guard.protect('4');
TRUNCATE ptenants_apac;
TRUNCATE ptenants_sa;
SELECT tenant_guard.unprotect('3');
SELECT tenant_guard.unprotect('4');
TRUNCATE ptenants_apac, ptenants_sa;
SELECT tenant_guard.unprotect('1');
-- other ALTER TABLEs add no trigger (a restore creates the dump's own
-- later); a foreign-table partition takes none and blocks no DDL
CREATE FOREIGN DATA WRAPPER regress_dummy_fdw;
CREATE SERVER regress_dummy FOREIGN DATA WRAPPER regress_dummy_fdw;
CREATE TABLE ftenants (id bigint, region text, name text, subdomain text, email text)
  PARTITION BY LIST (region);
CREATE TABLE ftenants_a PARTITION OF ftenants FOR VALUES IN ('a');
SELECT tenant_guard.attach('ftenants', id_column => 'id');
DROP TRIGGER tenant_guard_protect_truncate ON ftenants_a;
ALTER TABLE ftenants ADD COLUMN note text;
SELECT count(*) FROM pg_trigger WHERE tgrelid = 'ftenants_a'::regclass
   AND tgname = 'tenant_guard_protect_truncate';
CREATE FOREIGN TABLE ftenants_x PARTITION OF ftenants FOR VALUES IN ('x') SERVER regress_dummy;
CREATE FOREIGN TABLE ftenants_y (id bigint, region text, name text, subdomain text, email text, note text)
  SERVER regress_dummy;
ALTER TABLE ftenants ATTACH PARTITION ftenants_y FOR VALUES IN ('y');
ALTER TABLE ftenants ADD COLUMN plan text;
SELECT tgrelid::regclass FROM pg_trigger
 WHERE tgname = 'tenant_guard_protect_truncate' AND tgrelid::regclass::text LIKE 'ftenants%' ORDER BY 1;
-- CREATE SCHEMA ... CREATE TABLE ... PARTITION OF too; and a partition
-- statement touches only its own tree (another guarded table's partition
-- without the trigger stays as its owner left it)
CREATE TABLE gtenants (id bigint, region text, name text, subdomain text, email text)
  PARTITION BY LIST (region);
CREATE TABLE gtenants_a PARTITION OF gtenants FOR VALUES IN ('a');
SELECT tenant_guard.attach('gtenants', id_column => 'id');
DROP TRIGGER tenant_guard_protect_truncate ON gtenants_a;
CREATE SCHEMA regress_parts CREATE TABLE ftenants_z PARTITION OF public.ftenants FOR VALUES IN ('z');
SELECT tgrelid::regclass FROM pg_trigger
 WHERE tgname = 'tenant_guard_protect_truncate'
   AND (tgrelid::regclass::text LIKE '%tenants_z' OR tgrelid::regclass::text LIKE 'gtenants%') ORDER BY 1;
DROP SCHEMA regress_parts CASCADE;
DROP TABLE gtenants;
DROP TABLE ftenants;
DROP SERVER regress_dummy;
DROP FOREIGN DATA WRAPPER regress_dummy_fdw;

-- dropping a guarded table forgets it
DROP TABLE accounts, keyless, ptenants;
SELECT tbl FROM tenant_guard.guarded_tables ORDER BY 1;
SELECT count(*) FROM tenant_guard.protected_tenants;

-- privileges: admins only, and the table is not writable directly
CREATE ROLE regress_protect_admin IN ROLE tenant_guard_admin;
CREATE ROLE regress_protect_nobody;
SELECT tenant_guard.attach('tenants');
INSERT INTO tenants VALUES ('0b0e5a7e-0000-4000-8000-000000000001', 'Globex', 'globex', 'it@globex.com');
SET ROLE regress_protect_nobody;
SELECT tenant_guard.protect('0b0e5a7e-0000-4000-8000-000000000001');
SELECT count(*) FROM tenant_guard.protected_tenants;
RESET ROLE;
-- EXECUTE granted by mistake still does not let a non-admin in
GRANT EXECUTE ON FUNCTION tenant_guard.protect(text, text) TO regress_protect_nobody;
SET ROLE regress_protect_nobody;
SELECT tenant_guard.protect('0b0e5a7e-0000-4000-8000-000000000001');
RESET ROLE;
SET ROLE regress_protect_admin;
SELECT tenant_guard.protect('0b0e5a7e-0000-4000-8000-000000000001', 'by the admin');
SELECT tenant_id, note, protected_by FROM tenant_guard.protected_tenants;
INSERT INTO tenant_guard.protected_tenants (tenant_id, protected_by) VALUES ('x', 'me');
DELETE FROM tenant_guard.protected_tenants;
SELECT tenant_guard.unprotect('0b0e5a7e-0000-4000-8000-000000000001');
RESET ROLE;

-- the registries are read-only for admins: protect() reads a guarded table
-- as its owner, so only the owner registers one (through attach()), and
-- add_tenant_table() needs SELECT and DELETE on the table
SET ROLE regress_protect_admin;
SELECT tbl, id_column FROM tenant_guard.guarded_tables;
INSERT INTO tenant_guard.guarded_tables (tbl, id_column) VALUES ('plans', 'id');
UPDATE tenant_guard.guarded_tables SET id_column = 'name';
DELETE FROM tenant_guard.guarded_tables;
INSERT INTO tenant_guard.tenant_tables (tbl, column_name, tenants) VALUES ('plans', 'id', 'tenants');
SELECT tenant_guard.register_guarded_table('plans', 'id', NULL, NULL, NULL);
SELECT tenant_guard.unregister_guarded_table('tenants');
SELECT tenant_guard.detach('tenants');
RESET ROLE;
CREATE TABLE regress_owned (id int PRIMARY KEY, name text, subdomain text, email text);
CREATE TABLE regress_sessions (tenant_id int);
ALTER TABLE regress_owned OWNER TO regress_protect_admin;
SET ROLE regress_protect_admin;
SELECT tenant_guard.attach('regress_owned');
SELECT tbl, id_column FROM tenant_guard.guarded_tables ORDER BY tbl::text;
SELECT tenant_guard.add_tenant_table('regress_sessions', 'tenant_id', tenants => 'regress_owned');
SELECT tenant_guard.register_tenant_table('regress_sessions', 'tenant_id', 'regress_owned');
RESET ROLE;
GRANT SELECT, DELETE ON regress_sessions TO regress_protect_admin;
SET ROLE regress_protect_admin;
SELECT tenant_guard.add_tenant_table('regress_sessions', 'tenant_id', tenants => 'regress_owned');
SELECT tbl, column_name, tenants FROM tenant_guard.tenant_tables;
SELECT tenant_guard.remove_tenant_table('regress_sessions', 'tenant_id');
SELECT tenant_guard.detach('regress_owned');
SELECT tbl, id_column FROM tenant_guard.guarded_tables;
RESET ROLE;
DROP TABLE regress_owned, regress_sessions;

DROP TABLE tenants, plans;
REVOKE EXECUTE ON FUNCTION tenant_guard.protect(text, text) FROM regress_protect_nobody;
DROP ROLE regress_protect_admin, regress_protect_nobody;
SELECT count(*) FROM tenant_guard.guarded_tables;
