-- export_tenant(), import_tenant(), the purge's archive, restore and prune:
-- every shape of the graph, a round trip with row hashes, refusals, rights.
CREATE SCHEMA xp;
CREATE TYPE xp.kind AS ENUM ('customer', 'trial');
CREATE TABLE xp.tenants (id bigint PRIMARY KEY, name text, subdomain text, email text,
                         owner_id bigint, kind xp.kind DEFAULT 'trial');
SELECT tenant_guard.attach('xp.tenants');
CREATE TABLE xp.plans (id int PRIMARY KEY, name text);          -- shared parent, not the tenant's
INSERT INTO xp.plans VALUES (1, 'free'), (2, 'pro');
CREATE TABLE xp.users (id bigint PRIMARY KEY, tenant_id bigint NOT NULL REFERENCES xp.tenants ON DELETE CASCADE, name text);
ALTER TABLE xp.tenants ADD FOREIGN KEY (owner_id) REFERENCES xp.users;   -- a cycle through the tenants
CREATE TABLE xp.projects (id int PRIMARY KEY, tenant_id bigint NOT NULL REFERENCES xp.tenants,
                          code text NOT NULL, plan_id int REFERENCES xp.plans, UNIQUE (tenant_id, code));
CREATE TABLE xp.tasks (id int PRIMARY KEY, project_id int NOT NULL REFERENCES xp.projects,
                       parent_task int REFERENCES xp.tasks, note text);          -- depth, self-reference
CREATE TABLE xp.task_links (tenant_id bigint, project_code text, note text,      -- composite key, no unique index
    FOREIGN KEY (tenant_id, project_code) REFERENCES xp.projects (tenant_id, code));
CREATE TABLE xp.a (id int PRIMARY KEY, project_id int REFERENCES xp.projects, b_id int);
CREATE TABLE xp.b (id int PRIMARY KEY, a_id int REFERENCES xp.a);
ALTER TABLE xp.a ADD FOREIGN KEY (b_id) REFERENCES xp.b;                         -- a cycle a -> b -> a
CREATE TABLE xp.events (tenant_id bigint NOT NULL REFERENCES xp.tenants, at date NOT NULL, what text)
  PARTITION BY RANGE (at);
CREATE TABLE xp.events_2024 PARTITION OF xp.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE xp.events_2025 PARTITION OF xp.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE xp.sessions (tenant_key bigint, token text);                        -- no foreign key
SELECT tenant_guard.add_tenant_table('xp.sessions', 'tenant_key');
CREATE TABLE xp.items (id int PRIMARY KEY, tenant_id bigint NOT NULL REFERENCES xp.tenants,
                       project_id int REFERENCES xp.projects);                   -- cross-tenant links
CREATE TABLE xp.notes (id int PRIMARY KEY, user_id bigint REFERENCES xp.users ON DELETE SET NULL);
CREATE TABLE xp.metrics (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,        -- types, identity, generated
    tenant_id bigint NOT NULL REFERENCES xp.tenants, v numeric, v2 numeric GENERATED ALWAYS AS (v * 2) STORED,
    at timestamptz, tags text[], blob bytea, f float8, doc jsonb);

SET tenant_guard.mode = off;   -- the fixtures are test data on purpose
INSERT INTO xp.tenants (id, name, subdomain, email) VALUES
  (1, 'Test Company', 'test-company-123', 'test@example.com'),
  (2, 'Acme Corporation', 'acme', 'it@acme-corp.com'),
  (3, 'Brennan Logistics', 'brennan', 'ops@brennan-logistics.com');
RESET tenant_guard.mode;
INSERT INTO xp.users VALUES (10, 1, 'u1'), (11, 1, 'u1b'), (20, 2, 'u2'), (30, 3, 'u3');
UPDATE xp.tenants SET owner_id = 10 WHERE id = 1;
UPDATE xp.tenants SET owner_id = 20 WHERE id = 2;
INSERT INTO xp.projects VALUES (100, 1, 'p1', 1), (101, 1, 'p2', 2), (200, 2, 'p1', 1);
INSERT INTO xp.tasks VALUES (1000, 100, NULL, 'root'), (1001, 100, 1000, 'd2'), (1002, 101, 1001, 'd3'),
  (1003, 101, 1002, 'd4'), (1004, 101, 1003, 'd5'), (2000, 200, NULL, 'other');
INSERT INTO xp.task_links VALUES (1, 'p2', 'link'), (1, 'p2', 'link'), (2, 'p1', 'other');
INSERT INTO xp.a VALUES (1, 100, NULL), (2, 200, NULL);
INSERT INTO xp.b VALUES (1, 1), (2, 2);
UPDATE xp.a SET b_id = id;
INSERT INTO xp.events VALUES (1, '2024-05-01', 'a'), (1, '2025-05-01', 'b'), (2, '2025-06-01', 'c');
INSERT INTO xp.sessions VALUES (1, 's1'), (2, 's2'), (NULL, 's0');
INSERT INTO xp.items VALUES (1, 1, 100), (2, 2, 100), (3, 2, 200);   -- item 2: tenant 2's, under tenant 1's project
INSERT INTO xp.notes VALUES (1, 10), (2, 20);
INSERT INTO xp.metrics (tenant_id, v, at, tags, blob, f, doc) VALUES
  (1, 1.50, '2025-01-02 03:04:05.678901+00', '{a,"b c",NULL}', '\x00ff', 0.1, '{"k": [1, "x"]}'),
  (1, NULL, NULL, '{}', NULL, 'NaN', 'null'), (2, 3, now(), NULL, NULL, 1e300, NULL);

-- what tenant 1's export holds: its rows, any depth; not tenant 2's item
-- under its project, not tenant 2 or 3, not the plans, not the SET NULL notes
SELECT table_name, count(*) FROM tenant_guard.export_tenant('1') GROUP BY 1 ORDER BY table_name::text;
SELECT table_name, row_data FROM tenant_guard.export_tenant('1')
 WHERE table_name IN ('xp.tasks'::regclass, 'xp.items'::regclass, 'xp.task_links'::regclass);
-- as one document, tables in the walk's order: parents before children
SELECT t->>'table' AS tbl, jsonb_array_length(t->'rows') AS n
  FROM jsonb_array_elements(tenant_guard.export_tenant_document('1')->'tables') t;
SELECT d->'format', d->'version', d->'tenants', d->'tenant_id',
       d->'tables'->0->'columns'
  FROM tenant_guard.export_tenant_document('001') d;    -- any spelling of the key
-- a cycle through the tenants table: tenant 3 owned by a user of tenant 1 is not exported
UPDATE xp.tenants SET owner_id = 11 WHERE id = 3;
SELECT count(*) FILTER (WHERE table_name = 'xp.tenants'::regclass) AS tenant_rows
  FROM tenant_guard.export_tenant('1');
UPDATE xp.tenants SET owner_id = NULL WHERE id = 3;
-- bad input
SELECT tenant_guard.export_tenant_document('99');
SELECT tenant_guard.export_tenant_document('x');
SELECT tenant_guard.export_tenant_document(NULL);
SELECT tenant_guard.export_tenant_document('1', 'xp.users');

-- round trip: export, purge, import; every table's rows compared by hash
CREATE FUNCTION xp.hashes() RETURNS TABLE (tbl text, n bigint, h text) LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT c.oid::regclass AS t FROM pg_class c WHERE c.relnamespace = 'xp'::regnamespace
              AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1::text LOOP
    RETURN QUERY EXECUTE format('SELECT %L::text, count(*), md5(coalesce(string_agg(x::text, %L ORDER BY x::text), %L))'
                                ' FROM (SELECT to_jsonb(t) x FROM %s t) s', r.t, ',', '', r.t);
  END LOOP;
END $$;
CREATE TEMP TABLE before AS SELECT * FROM xp.hashes();
CREATE TEMP TABLE export1 AS SELECT tenant_guard.export_tenant_document('1') AS d;
SELECT tenant_id, deleted FROM tenant_guard.purge_test_tenants(dry_run => false, ids => '{1}', archive => false);
SELECT tenant_guard.import_tenant(d) FROM export1;
-- identical but for tenant 2's item under tenant 1's project, which the purge deleted
SELECT b.tbl, b.n AS before, a.n AS after FROM before b JOIN xp.hashes() a USING (tbl) WHERE a.h <> b.h;
INSERT INTO xp.items VALUES (2, 2, 100);
SELECT count(*) AS tables_differing FROM before b JOIN xp.hashes() a USING (tbl) WHERE a.h <> b.h;
SELECT count(*) FROM tenant_guard.purge_archive;   -- archive => false kept nothing

-- refusals: nothing restored
SELECT tenant_guard.import_tenant(d) FROM export1;                     -- rows exist (unique index)
CREATE TEMP TABLE piece AS SELECT jsonb_set(d, '{tables}',
         (SELECT jsonb_agg(t) FROM jsonb_array_elements(d->'tables') t WHERE t->>'table' = 'xp.task_links')) AS d
  FROM export1;
SELECT tenant_guard.import_tenant(d) FROM piece;   -- a table without a unique index: whole rows compared
SELECT tenant_guard.import_tenant(jsonb_set(d, '{tables,0,table}', '"xp.nope"')) FROM piece;
SELECT tenant_guard.import_tenant(jsonb_set(d, '{tables,0,columns,extra}', '"text"')) FROM piece;
SELECT tenant_guard.import_tenant(jsonb_set(d, '{tables,0,columns,note}', '"character varying(5)"')) FROM piece;
SELECT tenant_guard.import_tenant(jsonb_set(d, '{tables,0,columns}', '{}')) FROM piece;   -- no column
SELECT tenant_guard.import_tenant('{"format": "something else"}');
SELECT tenant_guard.import_tenant('[]');
SELECT tenant_guard.import_tenant(NULL);
SELECT count(*) AS tables_differing FROM before b JOIN xp.hashes() a USING (tbl) WHERE a.h <> b.h;

-- the archive: a real purge (archive => true by default) keeps every row it
-- deletes, tenant 2's item under tenant 1's project included; the column
-- types are spelled as import_tenant() reads them whatever the search_path
SET search_path = xp, public;
SELECT tenant_id, total_deleted FROM tenant_guard.purge_test_tenants(dry_run => false, ids => '{1}');
RESET search_path;
SELECT a.export->'tables'->0->'columns'->'kind' AS kind_type FROM tenant_guard.purge_archive a;
SELECT j.tenant_id, a.tenant_table, a.row_count, a.row_count = j.total_deleted AS complete,
       a.export->'tenant_id' AS doc_tenant
  FROM tenant_guard.purge_archive a JOIN tenant_guard.purge_journal j ON j.id = a.journal_id;
-- the export's rows alone need their parents: tasks without projects
SELECT tenant_guard.import_tenant(jsonb_set(d, '{tables}',
         (SELECT jsonb_agg(t) FROM jsonb_array_elements(d->'tables') t WHERE t->>'table' = 'xp.tasks')))
  FROM export1;
-- the guard does not stop the restore of a test tenant (triggers are off)
SELECT tenant_guard.restore_purged_tenant('1');
UPDATE xp.notes SET user_id = 10 WHERE id = 1;   -- SET NULL keys are not re-linked
SELECT count(*) AS tables_differing FROM before b JOIN xp.hashes() a USING (tbl) WHERE a.h <> b.h;
SELECT tenant_guard.restore_purged_tenant('1');  -- exists again
SELECT tenant_guard.restore_purged_tenant('1 ');  -- any spelling
SELECT tenant_guard.restore_purged_tenant('2');  -- exists
SELECT tenant_guard.restore_purged_tenant('4');  -- never purged
-- a row that collides: nothing restored; the latest archive is the one restored
SELECT tenant_id, total_deleted FROM tenant_guard.purge_test_tenants(dry_run => false, ids => '{1}');
INSERT INTO xp.tasks VALUES (1003, 200, NULL, 'new');
SELECT tenant_guard.restore_purged_tenant('1');
SELECT count(*) FROM xp.tenants WHERE id = 1;
DELETE FROM xp.tasks WHERE id = 1003;
SELECT tenant_guard.restore_purged_tenant('1');
UPDATE xp.notes SET user_id = 10 WHERE id = 1;
SELECT count(*) AS tables_differing FROM before b JOIN xp.hashes() a USING (tbl) WHERE a.h <> b.h;
SELECT count(*), count(DISTINCT journal_id) FROM tenant_guard.purge_archive;
SELECT tenant_guard.prune_purge_archive('-1 day');
SELECT tenant_guard.prune_purge_archive(NULL);
SELECT tenant_guard.prune_purge_archive('1 day');
SELECT count(*) FROM tenant_guard.purge_archive;

-- rights
CREATE ROLE regress_xp_admin IN ROLE tenant_guard_admin;
CREATE ROLE regress_xp_nobody;
GRANT USAGE ON SCHEMA xp TO regress_xp_admin, regress_xp_nobody;
SET ROLE regress_xp_nobody;
SELECT tenant_guard.export_tenant_document('1');
SELECT tenant_guard.import_tenant('{}');
SELECT * FROM tenant_guard.purge_archive;
RESET ROLE;
GRANT EXECUTE ON FUNCTION tenant_guard.export_tenant_document(text, regclass), tenant_guard.import_tenant(jsonb),
  tenant_guard.restore_purged_tenant(text, regclass), tenant_guard.prune_purge_archive(interval) TO regress_xp_nobody;
SET ROLE regress_xp_nobody;
SELECT tenant_guard.export_tenant_document('1');
SELECT tenant_guard.import_tenant('{}');
SELECT tenant_guard.restore_purged_tenant('1');
SELECT tenant_guard.prune_purge_archive('1 day');
SET ROLE regress_xp_admin;
SELECT tenant_guard.export_tenant_document('1');                      -- no SELECT on the tables
RESET ROLE;
GRANT SELECT ON ALL TABLES IN SCHEMA xp TO regress_xp_admin;
GRANT SELECT ON piece TO regress_xp_admin;
SET ROLE regress_xp_admin;
SELECT jsonb_array_length(tenant_guard.export_tenant_document('2')->'tables');
SELECT tenant_guard.import_tenant(d) FROM piece;                      -- no INSERT
SELECT count(*) FROM tenant_guard.purge_archive;                      -- admins read the archive
UPDATE tenant_guard.purge_archive SET row_count = 0;
DELETE FROM tenant_guard.purge_archive;
RESET ROLE;

-- an import inserts with triggers and rules off, which PostgreSQL lets only a
-- table's owner do: an admin who does not own the table may import only where
-- none of its own triggers or rules would be skipped
CREATE TABLE xp.audited (id int PRIMARY KEY, note text);
CREATE FUNCTION xp.audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'audited %', NEW.id; RETURN NEW; END $$;
CREATE TRIGGER audit BEFORE INSERT ON xp.audited FOR EACH ROW EXECUTE FUNCTION xp.audit();
GRANT SELECT, INSERT ON xp.audited TO regress_xp_admin;
CREATE FUNCTION pg_temp.audited_doc(id int) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object('format', 'tenant_guard export', 'version', 1, 'tables', jsonb_build_array(
    jsonb_build_object('table', 'xp.audited', 'columns', '{"id": "integer", "note": "text"}'::jsonb,
                       'rows', jsonb_build_array(jsonb_build_object('id', id, 'note', 'x'))))) $$;
SET ROLE regress_xp_admin;
SELECT tenant_guard.import_tenant(pg_temp.audited_doc(1));          -- its trigger would be skipped
RESET ROLE;
ALTER TABLE xp.audited ENABLE ALWAYS TRIGGER audit;
SET ROLE regress_xp_admin;
SELECT tenant_guard.import_tenant(pg_temp.audited_doc(2));          -- it fires: allowed
RESET ROLE;
ALTER TABLE xp.audited DISABLE TRIGGER audit;
CREATE RULE noisy AS ON INSERT TO xp.audited DO ALSO NOTIFY audited;
SET ROLE regress_xp_admin;
SELECT tenant_guard.import_tenant(pg_temp.audited_doc(3));          -- its rule would be skipped
RESET ROLE;
SELECT tenant_guard.import_tenant(pg_temp.audited_doc(4));          -- the owner may
SELECT id FROM xp.audited ORDER BY id;
DROP TABLE xp.audited;
DROP FUNCTION xp.audit();

-- the archive shows every column of the rows a purge deletes: an admin who
-- may delete rows but read only some of their columns cannot purge with
-- archive (as RETURNING them would refuse); without archive it can
CREATE SCHEMA xs;
CREATE TABLE xs.tenants (id int PRIMARY KEY, name text, subdomain text, email text);
CREATE TABLE xs.notes (id int PRIMARY KEY, tenant_id int REFERENCES xs.tenants ON DELETE CASCADE, secret text);
SET tenant_guard.mode = off;
INSERT INTO xs.tenants VALUES (1, 'Test Company', 'test-company-1', 'test@example.com');
RESET tenant_guard.mode;
INSERT INTO xs.notes VALUES (10, 1, 'not yours to read');
SELECT tenant_guard.attach('xs.tenants');
GRANT USAGE ON SCHEMA xs TO regress_xp_admin;
GRANT SELECT, DELETE ON xs.tenants TO regress_xp_admin;
GRANT SELECT (id, tenant_id), DELETE ON xs.notes TO regress_xp_admin;
SET ROLE regress_xp_admin;
SELECT tenant_id, total_deleted FROM tenant_guard.purge_test_tenants(dry_run => false, ids => '{1}', force => true, tenants => 'xs.tenants');
SELECT tenant_id, total_deleted FROM tenant_guard.purge_test_tenants(dry_run => false, ids => '{1}', force => true, tenants => 'xs.tenants', archive => false);
RESET ROLE;
SELECT count(*) AS archived FROM tenant_guard.purge_archive WHERE tenant_table = 'xs.tenants';
SELECT tenant_guard.detach('xs.tenants');
REVOKE ALL ON SCHEMA xs FROM regress_xp_admin;
DROP SCHEMA xs CASCADE;
ALTER TABLE tenant_guard.purge_journal DISABLE TRIGGER write_guard;
DELETE FROM tenant_guard.purge_journal WHERE tenant_table = 'xs.tenants';
ALTER TABLE tenant_guard.purge_journal ENABLE TRIGGER write_guard;

-- tamper: pg_write_all_data cannot write the archive
CREATE ROLE regress_xp_writer IN ROLE pg_write_all_data;
SET ROLE regress_xp_writer;
INSERT INTO tenant_guard.purge_archive VALUES (-1, 'x', 'x', now(), 0, '{}');
UPDATE tenant_guard.purge_archive SET row_count = 0;
DELETE FROM tenant_guard.purge_archive;
TRUNCATE tenant_guard.purge_archive;
RESET ROLE;
UPDATE tenant_guard.purge_archive SET row_count = 0;                  -- superuser neither
DELETE FROM tenant_guard.purge_archive;
SELECT tenant_guard.prune_purge_archive('0');                         -- the only way
SELECT count(*) FROM tenant_guard.purge_archive;

-- nor through an import, whose replica role skips the write_guard trigger:
-- no table of the extension, no system table
CREATE ROLE regress_xp_adminwriter IN ROLE tenant_guard_admin, pg_write_all_data, pg_read_all_data;
SET ROLE regress_xp_adminwriter;
SELECT tenant_guard.import_tenant('{"format": "tenant_guard export", "version": 1, "tables": [{"table": "tenant_guard.purge_archive",
  "columns": {"journal_id": "bigint", "tenant_table": "text", "tenant_id": "text", "row_count": "bigint", "export": "jsonb"},
  "rows": [{"journal_id": -1, "tenant_table": "x", "tenant_id": "x", "row_count": 0, "export": {"forged": true}}]}]}');
SELECT tenant_guard.import_tenant('{"format": "tenant_guard export", "version": 1, "tables": [{"table": "tenant_guard.test_data_prevention_logs",
  "columns": {"reason": "text"}, "rows": [{"reason": "forged"}]}]}');
SELECT tenant_guard.import_tenant('{"format": "tenant_guard export", "version": 1, "tables": [{"table": "pg_catalog.pg_description",
  "columns": {}, "rows": []}]}');
RESET ROLE;
SELECT count(*) FROM tenant_guard.purge_archive;
DROP ROLE regress_xp_adminwriter;
-- a DEFERRABLE unique constraint checks in a trigger the import skips:
-- refused; a partial unique index does not make rows unique
CREATE TABLE xp.deferred (id int, CONSTRAINT deferred_u UNIQUE (id) DEFERRABLE);
INSERT INTO xp.deferred VALUES (10);
SELECT tenant_guard.import_tenant('{"format": "tenant_guard export", "version": 1, "tables": [{"table": "xp.deferred",
  "columns": {"id": "integer"}, "rows": [{"id": 10}, {"id": 10}]}]}');
SELECT count(*) FROM xp.deferred;
CREATE TABLE xp.partial (id int, gone boolean);
CREATE UNIQUE INDEX ON xp.partial (id) WHERE NOT gone;
INSERT INTO xp.partial VALUES (1, true);
SELECT tenant_guard.import_tenant('{"format": "tenant_guard export", "version": 1, "tables": [{"table": "xp.partial",
  "columns": {"id": "integer", "gone": "boolean"}, "rows": [{"id": 1, "gone": true}]}]}');
SELECT count(*) FROM xp.partial;
DROP TABLE xp.deferred, xp.partial;

-- a key-set level's rows are read back from their pages when the archive
-- is written, after the purge's other statements: code the purge runs in
-- between (here a trigger of its ON DELETE SET NULL update, written by the
-- tables' owner, who is no admin) cannot make those addresses name other
-- rows.  A table truncated and refilled with rows deleted again, or
-- clustered (tenant 3's rows where tenant 1's were), fails the purge;
-- columns renamed and added with a default change nothing archived
CREATE ROLE regress_xp_owner;
CREATE SCHEMA xf AUTHORIZATION regress_xp_owner;
GRANT USAGE ON SCHEMA xf TO regress_xp_admin;
SET ROLE regress_xp_owner;
CREATE TABLE xf.tenants (id int PRIMARY KEY, name text, subdomain text, email text);
CREATE TABLE xf.notes (id int PRIMARY KEY, tenant_id int REFERENCES xf.tenants ON DELETE CASCADE, body text);
CREATE TABLE xf.memos (id int PRIMARY KEY, tenant_id int REFERENCES xf.tenants ON DELETE SET NULL, how text);
CREATE FUNCTION xf.meddle() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
  IF NEW.tenant_id IS NOT NULL THEN
    RETURN NEW;   -- the purge sets it NULL
  ELSIF NEW.how = 'refill' THEN
    TRUNCATE xf.notes;
    INSERT INTO xf.notes SELECT 900 + g, 2, 'forged' FROM pg_catalog.generate_series(1, 4) g;
    DELETE FROM xf.notes WHERE id > 900;
  ELSIF NEW.how = 'cluster' THEN
    CLUSTER xf.notes USING notes_pkey;
  ELSIF NEW.how = 'rename' THEN
    ALTER TABLE xf.notes RENAME COLUMN body TO body_was;
    ALTER TABLE xf.notes ADD COLUMN body text DEFAULT 'forged';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER meddle BEFORE UPDATE ON xf.memos FOR EACH ROW EXECUTE FUNCTION xf.meddle();
GRANT SELECT, DELETE ON xf.tenants, xf.notes TO regress_xp_admin;
GRANT SELECT, UPDATE ON xf.memos TO regress_xp_admin;
RESET ROLE;
SELECT tenant_guard.attach('xf.tenants');
SET tenant_guard.mode = off;
INSERT INTO xf.tenants VALUES (1, 'Test Company', 'test-company-1', 'test@example.com'),
  (2, 'Acme Corporation', 'acme', 'it@acme-corp.com'), (3, 'Test Company 3', 'test-company-3', 'test3@example.com');
RESET tenant_guard.mode;
INSERT INTO xf.notes VALUES (4, 1, 'one'), (3, 3, 'three'), (2, 1, 'one too'), (1, 3, 'three too'), (5, 2, 'two');
INSERT INTO xf.memos VALUES (1, 1, 'refill');
SET ROLE regress_xp_admin;
SELECT tenant_id, total_deleted FROM tenant_guard.purge_test_tenants(dry_run => false, ids => '{1,3}', force => true, tenants => 'xf.tenants');
UPDATE xf.memos SET how = 'cluster';
SELECT tenant_id, total_deleted FROM tenant_guard.purge_test_tenants(dry_run => false, ids => '{1,3}', force => true, tenants => 'xf.tenants');
RESET ROLE;
SELECT count(*) AS archived FROM tenant_guard.purge_archive WHERE tenant_table = 'xf.tenants';
SELECT * FROM xf.notes ORDER BY id;
SET ROLE regress_xp_admin;
UPDATE xf.memos SET how = 'rename';
SELECT tenant_id, total_deleted FROM tenant_guard.purge_test_tenants(dry_run => false, ids => '{1,3}', force => true, tenants => 'xf.tenants');
RESET ROLE;
SELECT a.tenant_id, r FROM tenant_guard.purge_archive a, jsonb_array_elements(a.export->'tables') t, jsonb_array_elements(t->'rows') r
 WHERE a.tenant_table = 'xf.tenants' AND t->>'table' = 'xf.notes' ORDER BY 1, r->>'id';
SELECT * FROM xf.notes ORDER BY id;
SELECT tenant_guard.detach('xf.tenants');
REVOKE ALL ON SCHEMA xf FROM regress_xp_admin;
DROP SCHEMA xf CASCADE;
DROP ROLE regress_xp_owner;
SELECT tenant_guard.prune_purge_archive('0');
ALTER TABLE tenant_guard.purge_journal DISABLE TRIGGER write_guard;
DELETE FROM tenant_guard.purge_journal WHERE tenant_table = 'xf.tenants';
ALTER TABLE tenant_guard.purge_journal ENABLE TRIGGER write_guard;

-- an ON DELETE rule or trigger the purge refuses cannot be added while it
-- runs: here a cast to json of the tenants' enum, written by the tables'
-- owner, which to_jsonb() of the tenant row (the first DELETE) calls,
-- makes a rule that turns the key-set level's DELETE of xr.notes into
-- another one, or enables a trigger that keeps the rows; the purge
-- checks each table again just before its DELETE and fails, instead of
-- journaling and archiving rows it left in place
CREATE ROLE regress_xr_owner;
CREATE SCHEMA xr AUTHORIZATION regress_xr_owner;
GRANT USAGE ON SCHEMA xr TO regress_xp_admin;
SET ROLE regress_xr_owner;
CREATE TYPE xr.kind AS ENUM ('rule', 'trigger');
CREATE TABLE xr.tenants (id int PRIMARY KEY, name text, subdomain text, email text, kind xr.kind);
CREATE TABLE xr.notes (id int PRIMARY KEY, tenant_id int REFERENCES xr.tenants ON DELETE CASCADE, body text);
CREATE TABLE xr.decoy (id int);
CREATE FUNCTION xr.touch(int) RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS
  $$ UPDATE xr.notes SET body = body WHERE id = $1; SELECT true $$;
CREATE FUNCTION xr.keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER keep BEFORE DELETE ON xr.notes FOR EACH ROW EXECUTE FUNCTION xr.keep();
ALTER TABLE xr.notes DISABLE TRIGGER keep;
CREATE FUNCTION xr.kind_json(xr.kind) RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
  IF $1 = 'rule' AND NOT EXISTS (SELECT FROM pg_rewrite WHERE rulename = 'sneak') THEN
    CREATE RULE sneak AS ON DELETE TO xr.notes DO INSTEAD
      DELETE FROM xr.decoy d WHERE d.id = old.id AND xr.touch(old.id);
    ALTER TABLE xr.notes ENABLE ALWAYS RULE sneak;
  ELSIF $1 = 'trigger' THEN
    ALTER TABLE xr.notes ENABLE ALWAYS TRIGGER keep;
  END IF;
  RETURN pg_catalog.to_json($1::text);
END $$;
CREATE CAST (xr.kind AS json) WITH FUNCTION xr.kind_json(xr.kind);
GRANT SELECT, DELETE ON xr.tenants, xr.notes TO regress_xp_admin;
RESET ROLE;
SELECT tenant_guard.attach('xr.tenants');
SET tenant_guard.mode = off;
INSERT INTO xr.tenants VALUES (1, 'Test Company', 'test-company-1', 'test@example.com', 'rule'),
  (2, 'Acme Corporation', 'acme', 'it@acme-corp.com', NULL), (3, 'Test Company 3', 'test-company-3', 'test3@example.com', 'trigger');
RESET tenant_guard.mode;
INSERT INTO xr.notes SELECT g, 1 + g % 3, 'n' || g FROM pg_catalog.generate_series(1, 6) g;
INSERT INTO xr.decoy SELECT g FROM pg_catalog.generate_series(1, 6) g;
SET ROLE regress_xp_admin;
SELECT tenant_id, total_deleted FROM tenant_guard.purge_test_tenants(dry_run => false, ids => '{1}', force => true, tenants => 'xr.tenants');
SELECT tenant_id, total_deleted FROM tenant_guard.purge_test_tenants(dry_run => false, ids => '{3}', force => true, tenants => 'xr.tenants');
RESET ROLE;
SELECT count(*) AS archived FROM tenant_guard.purge_archive WHERE tenant_table = 'xr.tenants';
SELECT (SELECT count(*) FROM xr.notes) AS notes, (SELECT count(*) FROM xr.decoy) AS decoys,
  (SELECT count(*) FROM pg_rewrite WHERE rulename = 'sneak') AS rules,
  (SELECT tgenabled FROM pg_trigger WHERE tgname = 'keep') AS keep;
SELECT tenant_guard.detach('xr.tenants');
REVOKE ALL ON SCHEMA xr FROM regress_xp_admin;
DROP SCHEMA xr CASCADE;
DROP ROLE regress_xr_owner;
SELECT tenant_guard.prune_purge_archive('0');
ALTER TABLE tenant_guard.purge_journal DISABLE TRIGGER write_guard;
DELETE FROM tenant_guard.purge_journal WHERE tenant_table = 'xr.tenants';
ALTER TABLE tenant_guard.purge_journal ENABLE TRIGGER write_guard;

-- nor can that code rename a table the purge deletes from later and put
-- another in its place, or swap the names of its columns: the purge's
-- statements name them as planned, and would delete other rows (here
-- the impostor's, or those other_id matches) and journal and archive
-- them as the tenant's; each table must be as planned before its DELETE.
-- A column dropped and added again under its name fails too (the new
-- column, default 4, would match every note); a column added is absorbed
-- (the archived rows carry it)
CREATE ROLE regress_xn_owner;
CREATE SCHEMA xn AUTHORIZATION regress_xn_owner;
GRANT USAGE ON SCHEMA xn TO regress_xp_admin;
SET ROLE regress_xn_owner;
CREATE TYPE xn.kind AS ENUM ('table', 'columns', 'readd', 'add');
CREATE TABLE xn.tenants (id int PRIMARY KEY, name text, subdomain text, email text, kind xn.kind);
CREATE TABLE xn.notes (id int PRIMARY KEY, tenant_id int REFERENCES xn.tenants ON DELETE CASCADE, other_id int);
CREATE FUNCTION xn.kind_json(xn.kind) RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
  IF $1 = 'table' AND to_regclass('xn.notes_real') IS NULL THEN
    ALTER TABLE xn.notes RENAME TO notes_real;
    CREATE TABLE xn.notes (id int, tenant_id int, other_id int);
    INSERT INTO xn.notes VALUES (666, 1, NULL);
    GRANT SELECT, DELETE ON xn.notes TO regress_xp_admin;
  ELSIF $1 = 'columns' AND NOT EXISTS (SELECT FROM pg_attribute
      WHERE attrelid = 'xn.notes'::regclass AND attnum = 2 AND attname = 'other_id') THEN
    ALTER TABLE xn.notes RENAME COLUMN tenant_id TO swap;
    ALTER TABLE xn.notes RENAME COLUMN other_id TO tenant_id;
    ALTER TABLE xn.notes RENAME COLUMN swap TO other_id;
  ELSIF $1 = 'readd' AND EXISTS (SELECT FROM pg_attribute
      WHERE attrelid = 'xn.notes'::regclass AND attnum = 2 AND NOT attisdropped) THEN
    ALTER TABLE xn.notes DROP COLUMN tenant_id;
    ALTER TABLE xn.notes ADD COLUMN tenant_id int DEFAULT 4;
  ELSIF $1 = 'add' AND NOT EXISTS (SELECT FROM pg_attribute
      WHERE attrelid = 'xn.notes'::regclass AND attname = 'extra') THEN
    ALTER TABLE xn.notes ADD COLUMN extra int DEFAULT 7;
  END IF;
  RETURN pg_catalog.to_json($1::text);
END $$;
CREATE CAST (xn.kind AS json) WITH FUNCTION xn.kind_json(xn.kind);
GRANT SELECT, DELETE ON xn.tenants, xn.notes TO regress_xp_admin;
RESET ROLE;
SELECT tenant_guard.attach('xn.tenants');
SET tenant_guard.mode = off;
INSERT INTO xn.tenants VALUES (1, 'Test Company', 'test-company-1', 'test@example.com', 'table'),
  (2, 'Acme Corporation', 'acme', 'it@acme-corp.com', NULL), (3, 'Test Company 3', 'test-company-3', 'test3@example.com', 'columns'),
  (4, 'Test Company 4', 'test-company-4', 'test4@example.com', 'readd'), (5, 'Test Company 5', 'test-company-5', 'test5@example.com', 'add');
RESET tenant_guard.mode;
INSERT INTO xn.notes VALUES (1, 1, NULL), (2, 1, NULL), (3, 2, 3), (4, 3, NULL), (5, 4, NULL), (6, 5, NULL);
SET ROLE regress_xp_admin;
SELECT tenant_id, total_deleted FROM tenant_guard.purge_test_tenants(dry_run => false, ids => '{1}', force => true, tenants => 'xn.tenants');
SELECT tenant_id, total_deleted FROM tenant_guard.purge_test_tenants(dry_run => false, ids => '{3}', force => true, tenants => 'xn.tenants');
SELECT tenant_id, total_deleted FROM tenant_guard.purge_test_tenants(dry_run => false, ids => '{4}', force => true, tenants => 'xn.tenants');
RESET ROLE;
SELECT count(*) AS archived FROM tenant_guard.purge_archive WHERE tenant_table = 'xn.tenants';
SELECT * FROM xn.notes ORDER BY id;
SET ROLE regress_xp_admin;
SELECT tenant_id, total_deleted FROM tenant_guard.purge_test_tenants(dry_run => false, ids => '{5}', force => true, tenants => 'xn.tenants');
RESET ROLE;
SELECT t->>'table' AS tbl, t->'rows' AS rows FROM tenant_guard.purge_archive a, jsonb_array_elements(a.export->'tables') t
 WHERE a.tenant_table = 'xn.tenants' ORDER BY 1;
SELECT * FROM xn.notes ORDER BY id;
SELECT tenant_guard.detach('xn.tenants');
REVOKE ALL ON SCHEMA xn FROM regress_xp_admin;
DROP SCHEMA xn CASCADE;
DROP ROLE regress_xn_owner;
SELECT tenant_guard.prune_purge_archive('0');
ALTER TABLE tenant_guard.purge_journal DISABLE TRIGGER write_guard;
DELETE FROM tenant_guard.purge_journal WHERE tenant_table = 'xn.tenants';
ALTER TABLE tenant_guard.purge_journal ENABLE TRIGGER write_guard;

-- a trigger of the purge's ON DELETE SET NULL update that changes its
-- search_path for the rest of the transaction does not change how the
-- archive writes regclass and regtype values: schema-qualified, as the
-- restore (search_path pinned) reads them back
CREATE SCHEMA xq;
CREATE TABLE xq.t (x int);
CREATE TYPE xq.ty AS (a int);
CREATE TABLE xq.tenants (id int PRIMARY KEY, name text, subdomain text, email text);
CREATE TABLE xq.notes (id int PRIMARY KEY, tenant_id int REFERENCES xq.tenants ON DELETE CASCADE, rel regclass, typ regtype);
CREATE TABLE xq.memos (id int PRIMARY KEY, tenant_id int REFERENCES xq.tenants ON DELETE SET NULL);
CREATE FUNCTION xq.path() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_catalog.set_config('search_path', 'xq', true);
  RETURN NEW;
END $$;
CREATE TRIGGER path BEFORE UPDATE ON xq.memos FOR EACH ROW EXECUTE FUNCTION xq.path();
SELECT tenant_guard.attach('xq.tenants');
SET tenant_guard.mode = off;
INSERT INTO xq.tenants VALUES (1, 'Test Company', 'test-company-1', 'test@example.com'),
  (2, 'Acme Corporation', 'acme', 'it@acme-corp.com');
RESET tenant_guard.mode;
INSERT INTO xq.notes VALUES (1, 1, 'xq.t', 'xq.ty'), (2, 2, 'xq.t', 'xq.ty');
INSERT INTO xq.memos VALUES (1, 1);
SELECT tenant_id, total_deleted FROM tenant_guard.purge_test_tenants(dry_run => false, ids => '{1}', force => true, tenants => 'xq.tenants');
SELECT r FROM tenant_guard.purge_archive a, jsonb_array_elements(a.export->'tables') t, jsonb_array_elements(t->'rows') r
 WHERE a.tenant_table = 'xq.tenants' AND t->>'table' = 'xq.notes';
SELECT tenant_guard.restore_purged_tenant('1', 'xq.tenants');
SELECT * FROM xq.notes ORDER BY id;
SELECT tenant_guard.detach('xq.tenants');
DROP SCHEMA xq CASCADE;
SELECT tenant_guard.prune_purge_archive('0');
ALTER TABLE tenant_guard.purge_journal DISABLE TRIGGER write_guard;
DELETE FROM tenant_guard.purge_journal WHERE tenant_table = 'xq.tenants';
ALTER TABLE tenant_guard.purge_journal ENABLE TRIGGER write_guard;

-- purge_match() and purge_match_keep() (executable by all; false outside
-- a purge's DELETE) called during one with a key or kept value of another
-- type, here from a cast to json of a table owner's, fail with a SQLSTATE
-- of their own, not as an internal error
CREATE SCHEMA xz;
CREATE TYPE xz.kind AS ENUM ('a');
CREATE TABLE xz.tenants (id int PRIMARY KEY, name text, subdomain text, email text);
CREATE TABLE xz.projects (id int PRIMARY KEY, tenant_id int REFERENCES xz.tenants ON DELETE CASCADE, kind xz.kind);
CREATE TABLE xz.tasks (id int PRIMARY KEY, project_id int REFERENCES xz.projects ON DELETE CASCADE);
CREATE FUNCTION xz.kind_json(xz.kind) RETURNS json LANGUAGE plpgsql AS $$
BEGIN
  BEGIN
    PERFORM tenant_guard.purge_match('a'::text);
  EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'purge_match: %: %', SQLSTATE, SQLERRM;
  END;
  BEGIN
    PERFORM tenant_guard.purge_match_keep(1, 'a'::text);
  EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'purge_match_keep: %: %', SQLSTATE, SQLERRM;
  END;
  RETURN pg_catalog.to_json($1::text);
END $$;
CREATE CAST (xz.kind AS json) WITH FUNCTION xz.kind_json(xz.kind);
SELECT tenant_guard.attach('xz.tenants');
SET tenant_guard.mode = off;
INSERT INTO xz.tenants VALUES (1, 'Test Company', 'test-company-1', 'test@example.com'),
  (2, 'Acme Corporation', 'acme', 'it@acme-corp.com');
RESET tenant_guard.mode;
INSERT INTO xz.projects VALUES (1, 1, 'a');
INSERT INTO xz.tasks VALUES (1, 1);
SELECT tenant_id, total_deleted FROM tenant_guard.purge_test_tenants(dry_run => false, ids => '{1}', force => true, tenants => 'xz.tenants');
SELECT tenant_guard.detach('xz.tenants');
DROP SCHEMA xz CASCADE;
SELECT tenant_guard.prune_purge_archive('0');
ALTER TABLE tenant_guard.purge_journal DISABLE TRIGGER write_guard;
DELETE FROM tenant_guard.purge_journal WHERE tenant_table = 'xz.tenants';
ALTER TABLE tenant_guard.purge_journal ENABLE TRIGGER write_guard;

-- the archive writes each row as to_jsonb() does (the purge writes the
-- columns of the types it knows itself, to_jsonb() the others): every type
-- side by side, special values and NULLs; the archived document equals the
-- export taken before, whatever the session's output settings (both pin
-- them), and the restore gives that export back
CREATE SCHEMA xt;
CREATE TYPE xt.mood AS ENUM ('ok', 'sad');
CREATE DOMAIN xt.posint AS integer CHECK (VALUE > 0);
CREATE TABLE xt.tenants (id bigint PRIMARY KEY, name text NOT NULL, subdomain text, email text);
CREATE TABLE xt.kinds (id serial PRIMARY KEY, tenant_id bigint NOT NULL REFERENCES xt.tenants ON DELETE CASCADE,
  b boolean, i2 smallint, i4 integer, i8 bigint, f4 real, f8 double precision, n numeric(12,3), nn numeric,
  d date, ts timestamp, tz timestamptz, t text, vc varchar(5), bp char(4), u uuid, by bytea, ip inet,
  iv interval, m money, p xt.posint, "a much longer name" text, "é" text, dropme int);
ALTER TABLE xt.kinds DROP COLUMN dropme;
CREATE TABLE xt.odd (id int PRIMARY KEY, tenant_id bigint NOT NULL REFERENCES xt.tenants ON DELETE CASCADE,
  j jsonb, js json, arr int[], mood xt.mood);
INSERT INTO xt.tenants VALUES (1, 'Test Tenant', 'test', 'qa@example.com'), (2, 'Acme', 'acme', 'it@acme.com');
INSERT INTO xt.kinds (tenant_id, b, i2, i4, i8, f4, f8, n, nn, d, ts, tz, t, vc, bp, u, by, ip, iv, m, p,
                      "a much longer name", "é") VALUES
  (1, true, -32768, 2147483647, -9223372036854775808, 1.5, 'NaN', 123456789.125, 'NaN', '2026-02-28',
   '2026-02-28 12:34:56.789', '2026-02-28 12:34:56+05', 'line"1' || chr(10) || '\', 'abc', 'ab',
   'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\x00ff', '10.0.0.1/8', '1 day 2 hours', 12.34, 7, 'x', 'ü'),
  (1, false, 0, 0, 0, '-Infinity', 'Infinity', 0, 1e-20, 'infinity', '-infinity', 'infinity', '', '', '',
   NULL, '', '::1', '-1 year', -0.5, 1, NULL, NULL),
  (2, true, 1, 1, 1, 1, 1, 1, 1, '2026-01-01', '2026-01-01', '2026-01-01', 'other', 'o', 'o', NULL, NULL,
   NULL, NULL, 1, 1, NULL, NULL);
INSERT INTO xt.kinds (tenant_id) VALUES (1);
-- integers with zero base-10000 digits at either end (numeric's own layout)
INSERT INTO xt.kinds (tenant_id, i2, i4, i8) VALUES (1, 10000, -100000000, 9223372036854775807),
  (1, -10000, 20000, 1000000000000), (1, 32767, -2147483648, -10001);
INSERT INTO xt.odd VALUES (1, 1, '{"a": [1, {"b": null}], "c": 1.50}', '{"x": 1, "x": 2}', '{1,NULL,3}', 'sad'),
  (2, 1, NULL, NULL, NULL, NULL);
-- nor whatever code the purge runs before it writes the archive sets (a
-- trigger of its ON DELETE SET NULL update: SET LOCAL lasts to the end of
-- the purge)
CREATE TABLE xt.memos (id int PRIMARY KEY, tenant_id bigint REFERENCES xt.tenants ON DELETE SET NULL);
CREATE FUNCTION xt.unsettle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  SET LOCAL extra_float_digits = -10;
  SET LOCAL bytea_output = 'escape';
  SET LOCAL IntervalStyle = 'sql_standard';
  SET LOCAL TimeZone = 'Asia/Kolkata';
  SET LOCAL DateStyle = 'SQL, DMY';
  RETURN NEW;
END $$;
CREATE TRIGGER unsettle BEFORE UPDATE ON xt.memos FOR EACH ROW EXECUTE FUNCTION xt.unsettle();
INSERT INTO xt.memos VALUES (1, 1);
SELECT tenant_guard.attach('xt.tenants');
SET TimeZone = 'Asia/Kolkata';
SET DateStyle = 'SQL, DMY';
SET bytea_output = 'escape';
SET extra_float_digits = 0;
CREATE TEMP TABLE xt_before AS SELECT tenant_guard.export_tenant_document('1', 'xt.tenants') AS d;
SELECT d->'tables'->1->'rows'->0 FROM xt_before;
SELECT tenant_id, total_deleted FROM tenant_guard.purge_test_tenants(dry_run => false, ids => '{1}', tenants => 'xt.tenants');
SELECT a.export = b.d AS same_document, a.export::text = b.d::text AS same_text, a.row_count
  FROM tenant_guard.purge_archive a, xt_before b WHERE a.tenant_table = 'xt.tenants';
SELECT tenant_guard.restore_purged_tenant('1', 'xt.tenants');
SELECT d = tenant_guard.export_tenant_document('1', 'xt.tenants') AS restored_as_exported FROM xt_before;
RESET TimeZone;
RESET DateStyle;
RESET bytea_output;
RESET extra_float_digits;
SELECT tenant_guard.detach('xt.tenants');
DROP SCHEMA xt CASCADE;
SELECT tenant_guard.prune_purge_archive('0');
ALTER TABLE tenant_guard.purge_journal DISABLE TRIGGER write_guard;
DELETE FROM tenant_guard.purge_journal WHERE tenant_table = 'xt.tenants';
ALTER TABLE tenant_guard.purge_journal ENABLE TRIGGER write_guard;

DROP ROLE regress_xp_writer;
REVOKE ALL ON piece FROM regress_xp_admin;
REVOKE ALL ON ALL TABLES IN SCHEMA xp FROM regress_xp_admin;
REVOKE ALL ON SCHEMA xp FROM regress_xp_admin, regress_xp_nobody;
REVOKE EXECUTE ON FUNCTION tenant_guard.export_tenant_document(text, regclass), tenant_guard.import_tenant(jsonb),
  tenant_guard.restore_purged_tenant(text, regclass), tenant_guard.prune_purge_archive(interval) FROM regress_xp_nobody;
DROP ROLE regress_xp_admin;
DROP ROLE regress_xp_nobody;
SELECT tenant_guard.detach('xp.tenants');
DROP SCHEMA xp CASCADE;
-- leave the journal as found (the purge test counts it), the documented way
ALTER TABLE tenant_guard.purge_journal DISABLE TRIGGER write_guard;
DELETE FROM tenant_guard.purge_journal WHERE tenant_table = 'xp.tenants';
ALTER TABLE tenant_guard.purge_journal ENABLE TRIGGER write_guard;
