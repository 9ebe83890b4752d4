-- The Redis clean-up's side of the database: live_tenant_ids() (what
-- tenant_guard_redis keeps) and the journal columns it writes.
CREATE SCHEMA redis_app;
CREATE TABLE redis_app.tenants (id uuid PRIMARY KEY, name text, subdomain text, email text, secret text);
CREATE TABLE redis_app.accounts (id bigint PRIMARY KEY, name text, subdomain text, email text)
  PARTITION BY RANGE (id);
CREATE TABLE redis_app.accounts_low PARTITION OF redis_app.accounts FOR VALUES FROM (0) TO (100);
CREATE TABLE redis_app.accounts_high PARTITION OF redis_app.accounts FOR VALUES FROM (100) TO (MAXVALUE);
CREATE TABLE redis_app.codes (code char(6) PRIMARY KEY, name text, subdomain text, email text);
-- no key: guarded against test data, no tenants to keep
CREATE TABLE redis_app.keyless (name text, subdomain text, email text);
SELECT tenant_guard.attach('redis_app.tenants');
SELECT tenant_guard.attach('redis_app.accounts', id_column => 'id');
SELECT tenant_guard.attach('redis_app.codes');
SELECT tenant_guard.attach('redis_app.keyless');
SET tenant_guard.mode = off;
INSERT INTO redis_app.tenants VALUES ('31C06FC4-DB22-4740-83EA-48AC14F25810', 'Northwind', 'nw', 'a@nw.com', 'x');
INSERT INTO redis_app.accounts VALUES (7, 'Acme', 'acme', 'a@acme.com'), (150, 'Globex', 'globex', 'a@globex.com');
INSERT INTO redis_app.codes VALUES ('ab', 'Initech', 'initech', 'a@initech.com');
INSERT INTO redis_app.keyless VALUES ('Umbrella', 'umbrella', 'a@umbrella.com');
RESET tenant_guard.mode;

-- ids in the key type's text output form (uuid lower case, char(n) padded)
SELECT tenant_table, tenant_id, length(tenant_id) FROM tenant_guard.live_tenant_ids()
 WHERE tenant_table::text LIKE 'redis\_app.%' ORDER BY 1, 2;
-- one guarded table
SELECT tenant_id FROM tenant_guard.live_tenant_ids('redis_app.accounts') ORDER BY 1;
SELECT tenant_id FROM tenant_guard.live_tenant_ids('redis_app.keyless');

CREATE ROLE regress_redis_admin IN ROLE tenant_guard_admin;
CREATE ROLE regress_redis_nobody;
GRANT USAGE ON SCHEMA redis_app TO regress_redis_admin;
-- not for everyone
SET ROLE regress_redis_nobody;
SELECT * FROM tenant_guard.live_tenant_ids();
RESET ROLE;
-- the caller's rights: an admin needs SELECT on the key columns
SET ROLE regress_redis_admin;
SELECT * FROM tenant_guard.live_tenant_ids('redis_app.tenants');
RESET ROLE;
GRANT SELECT (id) ON redis_app.tenants, redis_app.accounts TO regress_redis_admin;
GRANT SELECT (code) ON redis_app.codes TO regress_redis_admin;
SET ROLE regress_redis_admin;
SELECT count(*) FROM tenant_guard.live_tenant_ids('redis_app.tenants');
SELECT count(*) FROM tenant_guard.live_tenant_ids('redis_app.accounts');
SELECT count(*) FROM tenant_guard.live_tenant_ids('redis_app.codes');
-- the other columns stay the owner's business
SELECT secret FROM redis_app.tenants;
RESET ROLE;
-- a policy that would hide tenants from the admin is an error, not fewer ids
ALTER TABLE redis_app.accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY regress_hide ON redis_app.accounts USING (id < 100);
SET ROLE regress_redis_admin;
SELECT count(*) FROM tenant_guard.live_tenant_ids('redis_app.accounts');
RESET ROLE;
DROP POLICY regress_hide ON redis_app.accounts;
ALTER TABLE redis_app.accounts DISABLE ROW LEVEL SECURITY;
-- an object named like a catalog function in the caller's search_path
-- changes nothing
CREATE FUNCTION public.format(text, uuid) RETURNS text LANGUAGE sql AS $$ SELECT 'hijacked' $$;
SET search_path = public, pg_catalog;
SELECT format('%s', '31c06fc4-db22-4740-83ea-48ac14f25810'::uuid) AS unqualified_call;
SELECT count(*) FILTER (WHERE tenant_id = 'hijacked') AS hijacked, count(*) FROM tenant_guard.live_tenant_ids('redis_app.tenants');
RESET search_path;
DROP FUNCTION public.format(text, uuid);

-- the journal: admins write redis_cleaned_at and redis_keys_deleted, nothing else
SELECT count(*) FROM tenant_guard.purge_test_tenants(ids => ARRAY['7'], tenants => 'redis_app.accounts',
                                                     dry_run => false, force => true);
SELECT tenant_id, redis_cleaned_at IS NULL AS pending, redis_keys_deleted FROM tenant_guard.purge_journal
 WHERE tenant_table = 'redis_app.accounts';
SET ROLE regress_redis_admin;
UPDATE tenant_guard.purge_journal SET redis_cleaned_at = now(), redis_keys_deleted = 12
 WHERE redis_cleaned_at IS NULL AND tenant_table = 'redis_app.accounts';
UPDATE tenant_guard.purge_journal SET total_deleted = 0 WHERE tenant_table = 'redis_app.accounts';
RESET ROLE;
SELECT tenant_id, redis_cleaned_at IS NULL AS pending, redis_keys_deleted FROM tenant_guard.purge_journal
 WHERE tenant_table = 'redis_app.accounts';
SELECT col_description('tenant_guard.purge_journal'::regclass, 14);

-- (journal rows are evidence: the test's own clean-up passes the write guard explicitly)
SET session_replication_role = replica;
DELETE FROM tenant_guard.purge_journal WHERE tenant_table = 'redis_app.accounts';
RESET session_replication_role;
SELECT tenant_guard.detach('redis_app.tenants');
SELECT tenant_guard.detach('redis_app.accounts');
SELECT tenant_guard.detach('redis_app.codes');
SELECT tenant_guard.detach('redis_app.keyless');
DROP SCHEMA redis_app CASCADE;
DROP ROLE regress_redis_admin, regress_redis_nobody;
