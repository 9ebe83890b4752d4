-- purge_test_tenants(): candidates, dry run = real run, every kind of
-- foreign key, ids, safety limits, privileges.
CREATE SCHEMA app;
CREATE SCHEMA billing;
CREATE TABLE app.tenants (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    subdomain text NOT NULL UNIQUE,
    email text,
    parent_id uuid REFERENCES app.tenants ON DELETE SET NULL
);
SELECT tenant_guard.attach('app.tenants');
SET tenant_guard.mode = off;   -- the fixtures are test data on purpose
INSERT INTO app.tenants (id, name, subdomain, email) VALUES
  ('31c06fc4-db22-4740-83ea-48ac14f25810', 'Northwind Traders', 'northwind', 'it@northwind.com'),
  ('00000000-0000-4000-8000-000000000001', 'System', 'system', 'root@ourcompany.io'),
  ('00000000-0000-4000-8000-000000000002', 'Operations', 'ops', 'ops@ourcompany.io'),
  ('00000000-0000-4000-8000-0000000000a1', 'Test Company', 'test-company-123', 'test@example.com'),
  ('00000000-0000-4000-8000-0000000000a2', 'Demo Org', 'demo-org', 'x@mailinator.com'),
  ('00000000-0000-4000-8000-0000000000a3', 'Sample Inc', 'sample', 'a@sample.io');
RESET tenant_guard.mode;
-- a child tenant of a test tenant: its parent_id is set to NULL (SET NULL)
UPDATE app.tenants SET parent_id = '00000000-0000-4000-8000-0000000000a1' WHERE subdomain = 'ops';
SELECT tenant_guard.protect('31c06fc4-db22-4740-83ea-48ac14f25810', 'real customer');

-- every kind of foreign key, in two schemas
CREATE TABLE app.projects (                         -- NO ACTION, by uuid
    id int PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES app.tenants,
    code text NOT NULL,
    UNIQUE (tenant_id, code));
CREATE TABLE app.tasks (                            -- CASCADE + self-reference (RESTRICT)
    id int PRIMARY KEY,
    project_id int NOT NULL REFERENCES app.projects ON DELETE CASCADE,
    parent_task int REFERENCES app.tasks ON DELETE RESTRICT);
CREATE TABLE app.task_links (                       -- composite key to (tenant_id, code)
    tenant_id uuid, project_code text, note text,
    FOREIGN KEY (tenant_id, project_code) REFERENCES app.projects (tenant_id, code) ON DELETE CASCADE);
CREATE TABLE billing.invoices (                     -- by a unique non-key column, other schema
    id int PRIMARY KEY,
    subdomain text NOT NULL REFERENCES app.tenants (subdomain) ON DELETE RESTRICT);
CREATE TABLE billing.payments (                     -- SET NULL and SET DEFAULT
    id int PRIMARY KEY,
    invoice_id int REFERENCES billing.invoices ON DELETE SET NULL,
    fallback_invoice int DEFAULT 1 REFERENCES billing.invoices ON DELETE SET DEFAULT);
CREATE TABLE app.a (id int PRIMARY KEY, tenant_id uuid REFERENCES app.tenants, b_id int);
CREATE TABLE app.b (id int PRIMARY KEY, a_id int REFERENCES app.a);
ALTER TABLE app.a ADD FOREIGN KEY (b_id) REFERENCES app.b;   -- a cycle a -> b -> a
CREATE TABLE app.events (                           -- partitioned child
    tenant_id uuid NOT NULL REFERENCES app.tenants ON DELETE CASCADE, at date NOT NULL, what text)
  PARTITION BY RANGE (at);
CREATE TABLE app.events_2024 PARTITION OF app.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE app.events_2025 PARTITION OF app.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE app.sessions (tenant_key uuid, token text);      -- no foreign key at all

INSERT INTO app.projects VALUES
  (1, '00000000-0000-4000-8000-0000000000a1', 'p1'), (2, '00000000-0000-4000-8000-0000000000a1', 'p2'),
  (3, '00000000-0000-4000-8000-0000000000a2', 'p1'), (4, '31c06fc4-db22-4740-83ea-48ac14f25810', 'p1');
INSERT INTO app.tasks VALUES (1, 1, NULL), (2, 1, 1), (3, 2, 2), (4, 3, NULL), (5, 4, NULL), (6, 4, 5);
INSERT INTO app.task_links VALUES ('00000000-0000-4000-8000-0000000000a1', 'p2', 'x'),
  ('31c06fc4-db22-4740-83ea-48ac14f25810', 'p1', 'y'), (NULL, 'p1', 'no tenant: MATCH SIMPLE');
INSERT INTO billing.invoices VALUES (1, 'northwind'), (2, 'test-company-123'), (3, 'demo-org');
INSERT INTO billing.payments VALUES (1, 2, 2), (2, 3, 3), (3, 1, 1);
INSERT INTO app.a VALUES (1, '00000000-0000-4000-8000-0000000000a1', NULL), (2, '31c06fc4-db22-4740-83ea-48ac14f25810', NULL);
INSERT INTO app.b VALUES (1, 1), (2, 2);
UPDATE app.a SET b_id = id;
INSERT INTO app.events VALUES ('00000000-0000-4000-8000-0000000000a1', '2024-05-01', 'signup'),
  ('00000000-0000-4000-8000-0000000000a1', '2025-05-01', 'login'), ('31c06fc4-db22-4740-83ea-48ac14f25810', '2025-01-02', 'login');
INSERT INTO app.sessions VALUES ('00000000-0000-4000-8000-0000000000a2', 's1'), ('31c06fc4-db22-4740-83ea-48ac14f25810', 's2');

-- add_tenant_table(): a key without a foreign key
SELECT tenant_guard.add_tenant_table('app.sessions', 'tenant_key');
SELECT tenant_guard.add_tenant_table('app.sessions', 'token');
SELECT tenant_guard.add_tenant_table('app.sessions', 'nope');
SELECT tenant_guard.add_tenant_table('app.sessions', NULL);
-- never a system catalog, the extension's own tables or another extension's
-- (the registry's writer refuses them whatever the column's type)
SELECT tenant_guard.register_tenant_table('pg_catalog.pg_class', 'oid', 'app.tenants');
SELECT tenant_guard.register_tenant_table('information_schema.sql_features', 'feature_id', 'app.tenants');
SELECT tenant_guard.register_tenant_table('tenant_guard.protected_tenants', 'tenant_id', 'app.tenants');
SELECT tenant_guard.register_tenant_table(0, 'x', 'app.tenants');
SELECT tbl, column_name, tenants FROM tenant_guard.tenant_tables;

-- who the checker flags: three test tenants; the real customer and the
-- system tenants are kept
SELECT subdomain, (tenant_guard.check_tenant(name, subdomain, email)).* FROM app.tenants ORDER BY subdomain;

-- 3 of 6 tenants is within the default share (0.5)
CREATE TEMP TABLE dry AS SELECT * FROM tenant_guard.purge_test_tenants();
SELECT tenant_id, name, reason, deleted, updated, total_deleted FROM dry ORDER BY tenant_id;
-- the dry run deleted nothing and left no journal row
SELECT (SELECT count(*) FROM app.tenants) AS tenants, (SELECT count(*) FROM app.tasks) AS tasks,
       (SELECT count(*) FROM app.events) AS events, (SELECT count(*) FROM tenant_guard.purge_journal) AS journal;

-- a user ON DELETE trigger would not fire: refused; ENABLE ALWAYS it would
-- fire with the foreign-key checks and the protection off: refused too;
-- so are rules; disabled ones are skipped
CREATE TABLE deleted_events (what text);
CREATE FUNCTION app.audit() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO deleted_events VALUES (OLD.what); RETURN OLD; END $$;
CREATE TRIGGER audit AFTER DELETE ON app.events_2025 FOR EACH ROW EXECUTE FUNCTION app.audit();
SELECT count(*) FROM tenant_guard.purge_test_tenants();
ALTER TABLE app.events_2025 ENABLE ALWAYS TRIGGER audit;
SELECT count(*) FROM tenant_guard.purge_test_tenants();
ALTER TABLE app.events_2025 DISABLE TRIGGER audit;
CREATE RULE keep AS ON DELETE TO app.tasks DO ALSO INSERT INTO deleted_events VALUES ('task');
ALTER TABLE app.tasks ENABLE ALWAYS RULE keep;
SELECT count(*) FROM tenant_guard.purge_test_tenants();
ALTER TABLE app.tasks ENABLE RULE keep;
SELECT count(*) FROM tenant_guard.purge_test_tenants();
DROP RULE keep ON app.tasks;

-- NO ACTION and RESTRICT dependents are deleted like CASCADE ones (invoice
-- 2 references the test tenant's subdomain); SET NULL and SET DEFAULT rows
-- are updated (payments 1 and 2 fall back to invoice 1, which stays).
CREATE TEMP TABLE real AS SELECT * FROM tenant_guard.purge_test_tenants(dry_run => false);
-- dry run = real run: same tenants, same counts
SELECT count(*) AS rows_differing FROM ((TABLE dry EXCEPT TABLE real) UNION ALL (TABLE real EXCEPT TABLE dry)) d;
SELECT count(*) AS purged FROM real;
SELECT * FROM deleted_events;

-- what is left: nothing of the purged tenants, no orphans, SET NULL / DEFAULT applied
SELECT id, name, parent_id FROM app.tenants ORDER BY name;
SELECT * FROM app.projects ORDER BY id;
SELECT * FROM app.tasks ORDER BY id;
SELECT * FROM app.task_links ORDER BY note;
SELECT * FROM billing.invoices ORDER BY id;
SELECT * FROM billing.payments ORDER BY id;
SELECT * FROM app.a ORDER BY id;
SELECT * FROM app.b ORDER BY id;
SELECT tableoid::regclass, * FROM app.events ORDER BY at;
SELECT * FROM app.sessions ORDER BY token;
-- the journal: one row per tenant, the whole row, counts, the Redis outbox
SELECT tenant_table, tenant_id, tenant->>'name' AS name, deleted, updated, total_deleted,
       purged_by, redis_cleaned_at IS NULL AS redis_pending, purge_xid = (SELECT min(purge_xid) FROM tenant_guard.purge_journal) AS one_purge
  FROM tenant_guard.purge_journal ORDER BY tenant_id;
-- a second run finds nothing
SELECT count(*) FROM tenant_guard.purge_test_tenants(dry_run => false);

-- ids: exactly those, validated
SET tenant_guard.mode = off;
INSERT INTO app.tenants (id, name, subdomain, email) VALUES
  ('00000000-0000-4000-8000-0000000000b1', 'Fake One', 'fake-1', 'a@fake.com'),
  ('00000000-0000-4000-8000-0000000000b2', 'Acme', 'acme', 'it@acme.com');
RESET tenant_guard.mode;
INSERT INTO app.projects VALUES (10, '00000000-0000-4000-8000-0000000000b2', 'p1');
SELECT * FROM tenant_guard.purge_test_tenants(ids => '{}');
SELECT * FROM tenant_guard.purge_test_tenants(ids => ARRAY[NULL]);
SELECT * FROM tenant_guard.purge_test_tenants(ids => ARRAY['00000000-0000-4000-8000-0000000000b2', 'not-a-uuid']);
SELECT * FROM tenant_guard.purge_test_tenants(ids => ARRAY['00000000-0000-4000-8000-0000000000b2', '00000000-0000-4000-8000-00000000dead']);
SELECT * FROM tenant_guard.purge_test_tenants(ids => ARRAY['00000000-0000-4000-8000-0000000000b2', '31C06FC4-DB22-4740-83EA-48AC14F25810']);
SELECT * FROM tenant_guard.purge_test_tenants(dry_run => NULL);
SELECT * FROM tenant_guard.purge_test_tenants(batch_size => 0);
-- READ COMMITTED only: an older snapshot would miss protections and rows
-- committed since (test/specs/protect_snapshot.spec)
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM tenant_guard.purge_test_tenants();
ROLLBACK;
-- duplicates (in any spelling) are one tenant; an id need not be flagged
SELECT tenant_id, reason, deleted FROM tenant_guard.purge_test_tenants(dry_run => false,
  ids => ARRAY['00000000-0000-4000-8000-0000000000B2', '00000000-0000-4000-8000-0000000000b2', '{00000000-0000-4000-8000-0000000000b2}']);

-- the share limit: 1 of 4 is fine, unless the limit says otherwise
SET tenant_guard.purge_max_share = 0.2;
SELECT count(*) FROM tenant_guard.purge_test_tenants();
SELECT tenant_id FROM tenant_guard.purge_test_tenants(force => true);
SET tenant_guard.purge_max_share = 2;
RESET tenant_guard.purge_max_share;

-- a protected tenant reached through a foreign key stops the whole purge
SET tenant_guard.mode = off;
UPDATE app.tenants SET parent_id = '00000000-0000-4000-8000-0000000000b1' WHERE name = 'Northwind Traders';
ALTER TABLE app.tenants DROP CONSTRAINT tenants_parent_id_fkey;
ALTER TABLE app.tenants ADD FOREIGN KEY (parent_id) REFERENCES app.tenants ON DELETE CASCADE;
RESET tenant_guard.mode;
SELECT * FROM tenant_guard.purge_test_tenants(dry_run => false);
SELECT * FROM tenant_guard.purge_test_tenants();
SELECT count(*) FROM app.tenants;
UPDATE app.tenants SET parent_id = NULL;
-- SET DEFAULT to a row that goes too fails, as PostgreSQL's own would
UPDATE billing.payments SET fallback_invoice = NULL;
UPDATE app.tenants SET parent_id = '00000000-0000-4000-8000-0000000000b1' WHERE name = 'System';
INSERT INTO billing.invoices VALUES (5, 'system');
UPDATE billing.payments SET fallback_invoice = 5 WHERE id = 1;
ALTER TABLE billing.payments ALTER fallback_invoice SET DEFAULT 5;
SELECT * FROM tenant_guard.purge_test_tenants(force => true);
UPDATE app.tenants SET parent_id = NULL;
SELECT count(*) FROM app.tenants;

-- batch_size: one tenant per call
SET tenant_guard.mode = off;
INSERT INTO app.tenants (id, name, subdomain, email) VALUES
  ('00000000-0000-4000-8000-0000000000c1', 'Dummy 1', 'dummy-1', 'a@b.com'),
  ('00000000-0000-4000-8000-0000000000c2', 'Dummy 2', 'dummy-2', 'a@b.com');
RESET tenant_guard.mode;
SELECT tenant_id FROM tenant_guard.purge_test_tenants(dry_run => false, batch_size => 1, force => true);
SELECT tenant_id FROM tenant_guard.purge_test_tenants(dry_run => false, batch_size => 1, force => true);
SELECT tenant_id FROM tenant_guard.purge_test_tenants(dry_run => false, batch_size => 1, force => true);
SELECT tenant_id FROM tenant_guard.purge_test_tenants(dry_run => false, batch_size => 1, force => true);

-- privileges
CREATE ROLE regress_purge_admin IN ROLE tenant_guard_admin;
CREATE ROLE regress_purge_nobody;
GRANT USAGE ON SCHEMA app, billing TO regress_purge_admin, regress_purge_nobody;
SET tenant_guard.mode = off;
INSERT INTO app.tenants (id, name, subdomain, email) VALUES
  ('00000000-0000-4000-8000-0000000000d1', 'Test D', 'test-d', 'a@b.com');
RESET tenant_guard.mode;
INSERT INTO app.projects VALUES (20, '00000000-0000-4000-8000-0000000000d1', 'p1');
SET ROLE regress_purge_nobody;
SELECT * FROM tenant_guard.purge_test_tenants();
RESET ROLE;
GRANT EXECUTE ON FUNCTION tenant_guard.purge_test_tenants(boolean, text[], boolean, integer, regclass, boolean) TO regress_purge_nobody;
SET ROLE regress_purge_nobody;
SELECT * FROM tenant_guard.purge_test_tenants();
RESET ROLE;
REVOKE EXECUTE ON FUNCTION tenant_guard.purge_test_tenants(boolean, text[], boolean, integer, regclass, boolean) FROM regress_purge_nobody;
-- an admin needs the rights a DELETE by hand would need
SET ROLE regress_purge_admin;
SELECT tenant_id FROM tenant_guard.purge_test_tenants(force => true);
RESET ROLE;
GRANT SELECT, DELETE ON ALL TABLES IN SCHEMA app, billing TO regress_purge_admin;
GRANT UPDATE ON billing.payments, app.tenants TO regress_purge_admin;
SET ROLE regress_purge_admin;
SELECT tenant_id, deleted FROM tenant_guard.purge_test_tenants(dry_run => false, force => true);
SELECT tenant_id, purged_by FROM tenant_guard.purge_journal WHERE tenant_id LIKE '%d1';
UPDATE tenant_guard.purge_journal SET redis_cleaned_at = now() WHERE tenant_id LIKE '%d1';
UPDATE tenant_guard.purge_journal SET deleted = '{}';
DELETE FROM tenant_guard.purge_journal;
RESET ROLE;

-- no guarded table, several guarded tables
CREATE TABLE other_tenants (id int PRIMARY KEY, name text, subdomain text, email text);
SELECT tenant_guard.attach('other_tenants');
SELECT * FROM tenant_guard.purge_test_tenants();
SELECT count(*) FROM tenant_guard.purge_test_tenants(tenants => 'other_tenants');
SELECT * FROM tenant_guard.purge_test_tenants(tenants => 'app.projects');
SELECT tenant_guard.remove_tenant_table('app.sessions', 'tenant_key');
SELECT tenant_guard.remove_tenant_table('app.sessions', 'tenant_key');

DROP TABLE other_tenants, deleted_events;
DROP SCHEMA app, billing CASCADE;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM regress_purge_admin;
DROP ROLE regress_purge_admin, regress_purge_nobody;
SELECT count(*) FROM tenant_guard.guarded_tables;
SELECT count(*) FROM tenant_guard.tenant_tables;
SELECT tenant_guard.unprotect('31c06fc4-db22-4740-83ea-48ac14f25810');
-- journal rows are deleted by nobody: a superuser disables the write guard
SET session_replication_role = replica;
DELETE FROM tenant_guard.purge_journal;
RESET session_replication_role;

-- How a level finds its rows.  A big level: a sequential scan probing the
-- keys its parent level deleted, kept in memory (purge_match; a level whose
-- children need one key column keeps that column's keys the same way,
-- purge_match_keep, with no RETURNING).  A small level in a big table, or a
-- key a key set cannot hold: a join against a temp table.  Key sets hold
-- smallint, integer and bigint (also across types), domains over them, uuid
-- and oid; an integer column referencing an oid key takes the join.
CREATE SCHEMA kt;
CREATE DOMAIN kt.tid AS bigint;
CREATE TABLE kt.tenants (id bigint PRIMARY KEY, name text, subdomain text, email text);
SELECT tenant_guard.attach('kt.tenants');
CREATE TABLE kt.p2 (id int PRIMARY KEY, tenant_id smallint NOT NULL REFERENCES kt.tenants);
CREATE TABLE kt.p2_items (id int, p2_id bigint REFERENCES kt.p2);        -- bigint -> integer
CREATE TABLE kt.big (id int, p2_id int REFERENCES kt.p2);               -- 133 blocks
CREATE TABLE kt.docs (id uuid PRIMARY KEY, tenant_id kt.tid REFERENCES kt.tenants);
CREATE TABLE kt.doc_notes (doc_id uuid REFERENCES kt.docs, body text);
CREATE TABLE kt.blobs (id oid PRIMARY KEY, tenant_id int REFERENCES kt.tenants);
CREATE TABLE kt.blob_refs (blob oid REFERENCES kt.blobs, n int REFERENCES kt.blobs);
SET tenant_guard.mode = off;
INSERT INTO kt.tenants SELECT g, 'Test ' || g, 'test-' || g, 'test' || g || '@example.com'
  FROM generate_series(1, 4) g;
INSERT INTO kt.tenants VALUES (5, 'Northwind Traders', 'northwind', 'it@northwind.com');
RESET tenant_guard.mode;
-- tenant t owns p2 t, t+5, ..., docs and blobs likewise
INSERT INTO kt.p2 SELECT g, (g - 1) % 5 + 1 FROM generate_series(1, 50) g;
INSERT INTO kt.p2_items SELECT g, (g - 1) % 50 + 1 FROM generate_series(1, 200) g;
INSERT INTO kt.big SELECT g, 5 FROM generate_series(1, 30000) g;      -- all Northwind's
INSERT INTO kt.big VALUES (-1, 1), (-2, 6), (-3, 2);
INSERT INTO kt.docs SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, (g - 1) % 5 + 1
  FROM generate_series(1, 20) g;
INSERT INTO kt.doc_notes SELECT id, 'note ' || n FROM kt.docs, generate_series(1, 3) n;
INSERT INTO kt.blobs SELECT g, (g - 1) % 5 + 1 FROM generate_series(1, 10) g;
INSERT INTO kt.blob_refs SELECT g, NULL FROM generate_series(1, 10) g;
INSERT INTO kt.blob_refs SELECT NULL, g FROM generate_series(1, 10) g;
SELECT pg_relation_size('kt.big') / current_setting('block_size')::int AS big_blocks;
-- which functions found the rows (calls counted from zero, flushed to the
-- statistics, read): with one tenant, kt.big (133 blocks for 10 keys of
-- kt.p2) is joined, as is blob_refs.n (an integer referencing an oid):
-- 2 + 2 calls of purge_tally; the rest goes through key sets:
-- purge_match_keep scans p2, docs and blobs (80 rows), purge_match
-- p2_items, doc_notes and blob_refs.blob (270 non-NULL keys)
SET track_functions = 'all';
CREATE FUNCTION pg_temp.purge_calls() RETURNS TABLE (funcname name, calls bigint)
LANGUAGE sql AS $$
  SELECT s.funcname, s.calls FROM pg_stat_user_functions s
   WHERE s.schemaname = 'tenant_guard' AND s.funcname LIKE 'purge\_%' ORDER BY s.funcname $$;
CREATE FUNCTION pg_temp.purge_calls_reset() RETURNS void
LANGUAGE sql AS $$
  SELECT pg_stat_reset_single_function_counters(p.oid) FROM pg_proc p
   WHERE p.pronamespace = 'tenant_guard'::regnamespace AND p.proname LIKE 'purge\_%' $$;
SELECT pg_temp.purge_calls_reset();
SELECT tenant_id, deleted, total_deleted
  FROM tenant_guard.purge_test_tenants(ids => ARRAY['1'], tenants => 'kt.tenants');
SELECT pg_stat_force_next_flush();
SELECT * FROM pg_temp.purge_calls();
-- with four, kt.big is scanned too (40 keys: 270 + 30,003 rows through
-- purge_match, 8 through purge_tally)
SELECT pg_temp.purge_calls_reset();
SELECT tenant_id, deleted, total_deleted
  FROM tenant_guard.purge_test_tenants(force => true, tenants => 'kt.tenants') ORDER BY 1;
SELECT pg_stat_force_next_flush();
SELECT * FROM pg_temp.purge_calls();
RESET track_functions;
-- dry run = real run
SELECT tenant_id, deleted, total_deleted
  FROM tenant_guard.purge_test_tenants(dry_run => false, force => true, tenants => 'kt.tenants') ORDER BY 1;
-- only Northwind's rows are left, and no orphans
SELECT (SELECT string_agg(DISTINCT tenant_id::text, ',') FROM kt.p2) AS p2,
       (SELECT count(*) FROM kt.p2_items i WHERE NOT EXISTS (SELECT FROM kt.p2 p WHERE p.id = i.p2_id)) AS items_orphans,
       (SELECT count(*) FROM kt.p2_items) AS items,
       (SELECT count(*) FROM kt.big b WHERE NOT EXISTS (SELECT FROM kt.p2 p WHERE p.id = b.p2_id)) AS big_orphans,
       (SELECT count(*) FROM kt.big) AS big,
       (SELECT count(*) FROM kt.doc_notes n WHERE NOT EXISTS (SELECT FROM kt.docs d WHERE d.id = n.doc_id)) AS notes_orphans,
       (SELECT count(*) FROM kt.doc_notes) AS notes,
       (SELECT count(*) FROM kt.blob_refs r WHERE NOT EXISTS (SELECT FROM kt.blobs b WHERE b.id = r.blob OR b.id = r.n)) AS refs_orphans,
       (SELECT count(*) FROM kt.blob_refs) AS refs;
-- outside a purge the key set functions find nothing
SELECT tenant_guard.purge_match(1), tenant_guard.purge_ord(1), tenant_guard.purge_match_keep(1, 2),
       tenant_guard.purge_match(NULL::int), tenant_guard.purge_match_keep(NULL::int, NULL::int),
       tenant_guard.purge_match_at(1, 2, 'kt.p2'::regclass, '(0,1)'),
       tenant_guard.purge_match_at(NULL::int, NULL::int, NULL, NULL);
DROP SCHEMA kt CASCADE;
-- a key-set level under a level that keeps its keys, with children of its
-- own but unable to keep its keys (something references it ON DELETE SET
-- NULL): it returns what its children need into a temp table
CREATE SCHEMA ks2;
CREATE TABLE ks2.tenants (id bigint PRIMARY KEY, name text, subdomain text, email text);
SELECT tenant_guard.attach('ks2.tenants');
CREATE TABLE ks2.projects (id bigint PRIMARY KEY, tenant_id bigint NOT NULL REFERENCES ks2.tenants ON DELETE CASCADE);
CREATE TABLE ks2.tasks (id bigint PRIMARY KEY, project_id bigint NOT NULL REFERENCES ks2.projects ON DELETE CASCADE);
CREATE TABLE ks2.comments (id bigint PRIMARY KEY, task_id bigint NOT NULL REFERENCES ks2.tasks ON DELETE CASCADE);
CREATE TABLE ks2.assignees (id bigint PRIMARY KEY, task_id bigint REFERENCES ks2.tasks ON DELETE SET NULL);
SET tenant_guard.mode = off;
INSERT INTO ks2.tenants VALUES (1, 'Test One', 'test-one', 'test1@example.com'),
  (2, 'Test Two', 'test-two', 'test2@example.com'), (3, 'Northwind Traders', 'northwind', 'it@northwind.com');
RESET tenant_guard.mode;
INSERT INTO ks2.projects SELECT g, (g - 1) % 3 + 1 FROM generate_series(1, 30) g;
INSERT INTO ks2.tasks SELECT g, (g - 1) % 30 + 1 FROM generate_series(1, 300) g;
INSERT INTO ks2.comments SELECT g, (g - 1) % 300 + 1 FROM generate_series(1, 900) g;
INSERT INTO ks2.assignees SELECT g, (g - 1) % 300 + 1 FROM generate_series(1, 600) g;
SELECT tenant_id, deleted, updated, total_deleted
  FROM tenant_guard.purge_test_tenants(ids => ARRAY['1', '2'], force => true, tenants => 'ks2.tenants') ORDER BY 1;
SELECT tenant_id, deleted, updated, total_deleted
  FROM tenant_guard.purge_test_tenants(dry_run => false, ids => ARRAY['1', '2'], force => true, tenants => 'ks2.tenants') ORDER BY 1;
-- Northwind's third is left, the purged tenants' assignees are unassigned
SELECT (SELECT count(*) FROM ks2.projects) AS projects, (SELECT count(*) FROM ks2.tasks) AS tasks,
       (SELECT count(*) FROM ks2.comments) AS comments, (SELECT count(*) FROM ks2.assignees) AS assignees,
       (SELECT count(*) FROM ks2.assignees WHERE task_id IS NULL) AS unassigned,
       (SELECT count(*) FROM ks2.comments c WHERE NOT EXISTS (SELECT 1 FROM ks2.tasks t WHERE t.id = c.task_id)) AS orphans;
DROP SCHEMA ks2 CASCADE;
-- the key sets' memory (tenant_guard.purge_keyset_memory): with too little,
-- levels take joins or the purge goes round again by joins; the counts are
-- the same, and no row is left behind
CREATE SCHEMA ks3;
CREATE TABLE ks3.tenants (id bigint PRIMARY KEY, name text, subdomain text, email text);
SELECT tenant_guard.attach('ks3.tenants');
CREATE TABLE ks3.projects (id bigint PRIMARY KEY, tenant_id bigint NOT NULL REFERENCES ks3.tenants);
CREATE TABLE ks3.tasks (id bigint PRIMARY KEY, project_id bigint NOT NULL REFERENCES ks3.projects);
CREATE TABLE ks3.comments (task_id bigint NOT NULL REFERENCES ks3.tasks);
SET tenant_guard.mode = off;
INSERT INTO ks3.tenants SELECT g, 'Test ' || g, 'test-' || g, 'test' || g || '@example.com'
  FROM generate_series(1, 4) g;
INSERT INTO ks3.tenants VALUES (5, 'Northwind Traders', 'northwind', 'it@northwind.com');
RESET tenant_guard.mode;
-- children in an order unlike their parents': lookups need the hash tables
INSERT INTO ks3.projects SELECT g, (g - 1) % 5 + 1 FROM generate_series(1, 500) g;
INSERT INTO ks3.tasks SELECT g, (g * 7919) % 500 + 1 FROM generate_series(1, 5000) g;
INSERT INTO ks3.comments SELECT (g * 104729) % 5000 + 1 FROM generate_series(1, 20000) g;
SET track_functions = 'all';
SET tenant_guard.purge_keyset_memory = '64kB';
SELECT pg_temp.purge_calls_reset();
SELECT tenant_id, deleted, total_deleted
  FROM tenant_guard.purge_test_tenants(force => true, tenants => 'ks3.tenants') ORDER BY 1;
SELECT pg_stat_force_next_flush();
SELECT * FROM pg_temp.purge_calls();
SET tenant_guard.purge_keyset_memory = '150kB';
SELECT pg_temp.purge_calls_reset();
SELECT tenant_id, deleted, total_deleted
  FROM tenant_guard.purge_test_tenants(force => true, tenants => 'ks3.tenants') ORDER BY 1;
SELECT pg_stat_force_next_flush();
SELECT * FROM pg_temp.purge_calls();
RESET tenant_guard.purge_keyset_memory;
-- a real run (archive => true, the default) finds the same rows with
-- purge_match_at(), which also keeps each row's address for the archive
-- (the counts of purge_match and purge_match_keep move to it)
SELECT pg_temp.purge_calls_reset();
SELECT tenant_id, deleted, total_deleted
  FROM tenant_guard.purge_test_tenants(dry_run => false, force => true, tenants => 'ks3.tenants') ORDER BY 1;
SELECT pg_stat_force_next_flush();
SELECT * FROM pg_temp.purge_calls();
RESET track_functions;
SELECT (SELECT count(*) FROM ks3.projects) AS projects, (SELECT count(*) FROM ks3.tasks) AS tasks,
       (SELECT count(*) FROM ks3.comments) AS comments,
       (SELECT count(*) FROM ks3.comments c WHERE NOT EXISTS (SELECT 1 FROM ks3.tasks t WHERE t.id = c.task_id)) AS orphans;
-- negative and extreme keys, compared across integer types
CREATE TABLE ks3.boxes (id smallint PRIMARY KEY, tenant_id bigint NOT NULL REFERENCES ks3.tenants);
CREATE TABLE ks3.items (box_id bigint REFERENCES ks3.boxes, n int);
CREATE TABLE ks3.labels (box_id integer REFERENCES ks3.boxes, n int);
SET tenant_guard.mode = off;
INSERT INTO ks3.tenants VALUES (6, 'Test Six', 'test-six', 'test6@example.com');
RESET tenant_guard.mode;
INSERT INTO ks3.boxes VALUES (-32768, 6), (-1, 6), (0, 5), (1, 6), (32767, 6), (-2, 5), (2, 5);
INSERT INTO ks3.items SELECT b.id, n FROM ks3.boxes b, generate_series(1, 3) n;
INSERT INTO ks3.labels SELECT b.id, n FROM ks3.boxes b, generate_series(1, 2) n;
SET track_functions = 'all';
SELECT pg_temp.purge_calls_reset();
SELECT tenant_id, deleted, total_deleted
  FROM tenant_guard.purge_test_tenants(dry_run => false, ids => ARRAY['6'], tenants => 'ks3.tenants');
SELECT pg_stat_force_next_flush();
SELECT * FROM pg_temp.purge_calls();   -- key sets (purge_match_at: archive): boxes kept, items and labels matched
RESET track_functions;
SELECT 'items' AS t, array_agg(DISTINCT box_id ORDER BY box_id) AS left FROM ks3.items
UNION ALL
SELECT 'labels', array_agg(DISTINCT box_id ORDER BY box_id) FROM ks3.labels;
-- only superusers set it
SET ROLE tenant_guard_admin;
SET tenant_guard.purge_keyset_memory = '1GB';
RESET ROLE;
DROP SCHEMA ks3 CASCADE;
-- journal rows are deleted by nobody: a superuser disables the write guard
SET session_replication_role = replica;
DELETE FROM tenant_guard.purge_journal;
RESET session_replication_role;

-- A partition of a guarded table holds its tenants, also when the purge
-- reaches the partition through the partition's own foreign key.
CREATE SCHEMA gp;
CREATE TABLE gp.accounts (id int PRIMARY KEY, name text, subdomain text, email text);
CREATE TABLE gp.tenants (id int, region text, account_id int, name text, subdomain text, email text,
                         PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE gp.tenants_eu PARTITION OF gp.tenants FOR VALUES IN ('eu');
CREATE TABLE gp.tenants_us PARTITION OF gp.tenants FOR VALUES IN ('us');
ALTER TABLE gp.tenants_eu ADD FOREIGN KEY (account_id) REFERENCES gp.accounts ON DELETE CASCADE;
SELECT tenant_guard.attach('gp.accounts');
SELECT tenant_guard.attach('gp.tenants', id_column => 'id');
INSERT INTO gp.accounts VALUES (1, 'Northwind', 'northwind', 'a@northwind.de'), (2, 'Contoso', 'contoso', 'a@contoso.de');
INSERT INTO gp.tenants VALUES (100, 'eu', 1, 'Initech', 'initech', 'a@initech.de'),
                              (101, 'us', 2, 'Globex', 'globex', 'a@globex.de');
SELECT tenant_guard.protect('100', 'real customer');
SELECT tenant_id, deleted FROM tenant_guard.purge_test_tenants(ids => '{1}', tenants => 'gp.accounts');
SELECT tenant_guard.unprotect('100');
SELECT tenant_id, deleted FROM tenant_guard.purge_test_tenants(ids => '{1}', tenants => 'gp.accounts');
DROP SCHEMA gp CASCADE;

-- add_tenant_table() keys compare with pg_catalog's "=": an operator in the
-- caller's search_path that matches better (text = varchar here) is not used
CREATE SCHEMA hj;
CREATE TABLE hj.tenants (id text PRIMARY KEY, name text, subdomain text, email text);
SELECT tenant_guard.attach('hj.tenants');
INSERT INTO hj.tenants VALUES ('t1', 'Northwind', 'northwind', 'a@northwind.de'), ('t2', 'Contoso', 'contoso', 'a@contoso.de'),
  ('t3', 'Fabrikam', 'fabrikam', 'a@fabrikam.de'), ('t4', 'Initech', 'initech', 'a@initech.de');
CREATE TABLE hj.sessions (tenant_key varchar(40), token text);
INSERT INTO hj.sessions SELECT 't' || (1 + g % 4), 'tok' || g FROM generate_series(1, 20) g;
SELECT tenant_guard.add_tenant_table('hj.sessions', 'tenant_key');
CREATE FUNCTION hj.always_eq(text, varchar) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE OPERATOR hj.= (LEFTARG = text, RIGHTARG = varchar, FUNCTION = hj.always_eq);
SET search_path = hj, public;
SELECT tenant_id, deleted FROM tenant_guard.purge_test_tenants(ids => '{t3}');
RESET search_path;
DROP SCHEMA hj CASCADE;
-- and with the key type's own equality when both sides share it: citext
-- keys match whatever their case, as the key itself does
CREATE SCHEMA ci;
CREATE EXTENSION citext SCHEMA ci;
CREATE TABLE ci.tenants (id ci.citext PRIMARY KEY, name text, subdomain text, email text);
SELECT tenant_guard.attach('ci.tenants');
INSERT INTO ci.tenants VALUES ('Acme', 'Acme Corp', 'acme', 'a@acme.de'), ('Beta', 'Beta GmbH', 'beta', 'b@beta.de');
CREATE TABLE ci.sessions (tenant_key ci.citext, token text);
INSERT INTO ci.sessions VALUES ('acme', 's1'), ('ACME', 's2'), ('Acme', 's3'), ('beta', 's4');
SELECT tenant_guard.add_tenant_table('ci.sessions', 'tenant_key');
SELECT tenant_id, deleted FROM tenant_guard.purge_test_tenants(dry_run => false, ids => '{acme}', force => true);
SELECT tenant_key, token FROM ci.sessions ORDER BY token;
-- the operator is pinned to its input types: a role with CREATE on the
-- schema of citext's "=" cannot add one for a domain that matches better
CREATE DOMAIN ci.tkey AS ci.citext;
CREATE TABLE ci.devices (tenant_key ci.tkey, name text);
INSERT INTO ci.tenants VALUES ('Gamma', 'Gamma Oy', 'gamma', 'g@gamma.fi');
INSERT INTO ci.devices VALUES ('GAMMA', 'd1'), ('beta', 'd2');
SELECT tenant_guard.add_tenant_table('ci.devices', 'tenant_key');
CREATE ROLE regress_mallory;
GRANT USAGE, CREATE ON SCHEMA ci TO regress_mallory;
SET ROLE regress_mallory;
CREATE FUNCTION ci.evil_eq(ci.citext, ci.tkey) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN RAISE NOTICE 'evil_eq runs as %', current_user; RETURN true; END $$;
CREATE OPERATOR ci.= (LEFTARG = ci.citext, RIGHTARG = ci.tkey, FUNCTION = ci.evil_eq);
RESET ROLE;
SELECT tenant_id, deleted FROM tenant_guard.purge_test_tenants(dry_run => false, ids => '{gamma}', force => true, tenants => 'ci.tenants');
SELECT tenant_key, name FROM ci.devices ORDER BY name;
DROP SCHEMA ci CASCADE;
DROP ROLE regress_mallory;
-- a key of an enum compares with pg_catalog's polymorphic = (cast to anyenum, a no-op)
CREATE SCHEMA en;
CREATE TYPE en.tier AS ENUM ('free', 'pro');
CREATE TABLE en.tenants (id int PRIMARY KEY, tier en.tier NOT NULL, name text, subdomain text, email text,
                         UNIQUE (id, tier));
SELECT tenant_guard.attach('en.tenants');
INSERT INTO en.tenants VALUES (1, 'pro', 'Northwind', 'northwind', 'en1@northwind.de'),
                              (2, 'free', 'Contoso', 'contoso', 'en2@contoso.de');
CREATE TABLE en.seats (tenant_id int, tier en.tier, n int,
                       FOREIGN KEY (tenant_id, tier) REFERENCES en.tenants (id, tier) ON DELETE CASCADE);
INSERT INTO en.seats VALUES (1, 'pro', 1), (1, 'pro', 2), (2, 'free', 3);
SELECT tenant_id, deleted FROM tenant_guard.purge_test_tenants(dry_run => false, ids => '{1}', force => true, tenants => 'en.tenants');
SELECT tenant_id, n FROM en.seats ORDER BY n;
DROP SCHEMA en CASCADE;
-- char(n) and bit(n) keys are compared whole (a cast to plain "character"
-- or "bit" would keep one character or bit and purge the neighbours too)
CREATE SCHEMA cb;
CREATE TABLE cb.tenants (id char(4) PRIMARY KEY, flags bit(3) UNIQUE, name text, subdomain text, email text);
SELECT tenant_guard.attach('cb.tenants');
INSERT INTO cb.tenants VALUES ('a002', B'100', 'Northwind', 'northwind', 'cb2@northwind.de'),
                              ('b004', B'011', 'Contoso', 'contoso', 'cb4@contoso.de');
SET tenant_guard.mode = off;
INSERT INTO cb.tenants VALUES ('a001', B'101', 'Test Co', 'a001', 'a@acme.com');
RESET tenant_guard.mode;
CREATE TABLE cb.orders (tenant_id char(4) REFERENCES cb.tenants ON DELETE CASCADE, n int);
CREATE TABLE cb.badges (flags bit(3) REFERENCES cb.tenants (flags) ON DELETE CASCADE, n int);
INSERT INTO cb.orders VALUES ('a001', 1), ('a002', 2), ('b004', 3);
INSERT INTO cb.badges VALUES (B'101', 1), (B'100', 2), (B'011', 3);
SELECT tenant_id, deleted FROM tenant_guard.purge_test_tenants(dry_run => false, ids => '{a001}', force => true, tenants => 'cb.tenants');
SELECT id FROM cb.tenants ORDER BY id;
SELECT tenant_id, n FROM cb.orders ORDER BY n;
SELECT flags, n FROM cb.badges ORDER BY n;
DROP SCHEMA cb CASCADE;
-- a foreign key whose column has another collation than the key's: the
-- child's collation is put on the parent side, as PostgreSQL's own checks do
CREATE SCHEMA co;
CREATE TABLE co.tenants (id text COLLATE "C" PRIMARY KEY, name text, subdomain text, email text);
SELECT tenant_guard.attach('co.tenants');
INSERT INTO co.tenants VALUES ('a001', 'Harbor Cafe', 'harbor', 'mara.lind@harbor-cafe.de'),
                              ('a002', 'Northwind', 'northwind', 'jonas.berg@northwind.de');
CREATE TABLE co.orders (tenant_id text COLLATE "POSIX" REFERENCES co.tenants ON DELETE CASCADE, n int);
INSERT INTO co.orders VALUES ('a001', 1), ('a002', 2);
SELECT tenant_id, deleted FROM tenant_guard.purge_test_tenants(dry_run => false, ids => '{a001}', force => true, tenants => 'co.tenants');
SELECT tenant_id, n FROM co.orders ORDER BY n;
DROP SCHEMA co CASCADE;
