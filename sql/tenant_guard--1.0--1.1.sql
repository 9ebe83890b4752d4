/* tenant_guard--1.0--1.1.sql: ALTER EXTENSION tenant_guard UPDATE TO '1.1' */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION tenant_guard UPDATE TO '1.1'" to load this file. \quit

-- Every change here is also in tenant_guard--1.1.sql (a fresh install);
-- test/t/010_upgrade.pl proves that an updated 1.0 equals a fresh 1.1.

-- ==== the schema ====
--
-- First, before anything else changes: a 1.0 installed into a schema
-- tenant_guard that a non-superuser had created beforehand ("adopted") is
-- at that role's mercy -- it may drop the schema with the extension in it,
-- and it may have planted objects there.  1.1 refuses such a schema at
-- CREATE EXTENSION; the update refuses it too rather than carry it on.
DO $schema$
DECLARE
  nsp pg_catalog.oid := 'tenant_guard'::pg_catalog.regnamespace;
  owner pg_catalog.oid;
  acl pg_catalog.aclitem[];
  extowner pg_catalog.oid;
  grantees text;
  objects text;
  fix CONSTANT text := 'Safest: save the extension''s data (pg_dump --data-only --schema=tenant_guard), DROP EXTENSION tenant_guard CASCADE (it drops the guard''s triggers on your tables), DROP SCHEMA tenant_guard, CREATE EXTENSION tenant_guard, restore the data and run tenant_guard.attach() on your tables again. Or, once you have checked that the schema holds only the extension''s objects (\dx+ tenant_guard, \dn+ tenant_guard): ALTER SCHEMA tenant_guard OWNER TO a superuser, REVOKE CREATE ON SCHEMA tenant_guard from the other roles, then ALTER EXTENSION tenant_guard UPDATE again.';
BEGIN
  SELECT n.nspowner, n.nspacl INTO owner, acl FROM pg_catalog.pg_namespace n WHERE n.oid OPERATOR(pg_catalog.=) nsp;
  SELECT e.extowner INTO extowner FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'tenant_guard';
  IF owner OPERATOR(pg_catalog.<>) extowner
     AND NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.oid OPERATOR(pg_catalog.=) owner) THEN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
      MESSAGE = pg_catalog.format('schema tenant_guard is owned by role %s, which is not a superuser', owner::pg_catalog.regrole),
      DETAIL = 'The schema existed before CREATE EXTENSION tenant_guard: its owner can drop it with the extension''s tables, triggers and log, and could have planted objects in it.',
      HINT = fix;
  END IF;
  SELECT pg_catalog.string_agg(DISTINCT CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                                             ELSE a.grantee::pg_catalog.regrole::text END, ', ')
    INTO grantees
    FROM pg_catalog.aclexplode(acl) a
   WHERE a.privilege_type OPERATOR(pg_catalog.=) 'CREATE' AND a.grantee OPERATOR(pg_catalog.<>) owner
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.oid OPERATOR(pg_catalog.=) a.grantee AND r.rolsuper);
  IF grantees IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
      MESSAGE = pg_catalog.format('schema tenant_guard grants CREATE to %s', grantees),
      DETAIL = 'A role that may create objects in the extension''s schema could plant objects its functions use.',
      HINT = fix;
  END IF;
  -- objects in the schema that are not the extension's
  SELECT pg_catalog.string_agg(o, ', ' ORDER BY o) INTO objects
    FROM (SELECT pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) AS o
            FROM pg_catalog.pg_depend d
           WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass
             AND d.refobjid OPERATOR(pg_catalog.=) nsp
             AND NOT (d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
                      AND d.objid OPERATOR(pg_catalog.=) (SELECT e.oid FROM pg_catalog.pg_extension e
                                                          WHERE e.extname OPERATOR(pg_catalog.=) 'tenant_guard'))
             AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend m
                              WHERE m.classid OPERATOR(pg_catalog.=) d.classid
                                AND m.objid OPERATOR(pg_catalog.=) d.objid
                                AND m.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
                                AND m.deptype OPERATOR(pg_catalog.=) 'e')) x;
  IF objects IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
      MESSAGE = 'schema tenant_guard holds objects that are not tenant_guard''s',
      DETAIL = pg_catalog.format('It holds: %s.', pg_catalog.left(objects, 1000)),
      HINT = 'tenant_guard''s functions run with its schema in reach: move or drop these objects, then run ALTER EXTENSION tenant_guard UPDATE again.';
  END IF;
END
$schema$;

-- ==== forget dropped tables ====
--
-- The event trigger becomes C (registry.c): its DELETEs are the
-- extension's own writes, which the write guard below lets through.
CREATE OR REPLACE FUNCTION tenant_guard.forget_dropped_tables()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'forget_dropped_tables'
LANGUAGE C;

-- ==== rate limits: INSERT ... ON CONFLICT counts creations, not attempts ====
--
-- attach() also installs an AFTER INSERT trigger, tenant_guard_created,
-- that counts the rows of INSERT ... ON CONFLICT that were really inserted.

CREATE FUNCTION tenant_guard.guard_created_trigger()
RETURNS trigger
AS 'MODULE_PATHNAME', 'guard_created_trigger'
LANGUAGE C;

COMMENT ON FUNCTION tenant_guard.guard_created_trigger() IS
  'AFTER INSERT row trigger installed by tenant_guard.attach() as tenant_guard_created: counts the rows of INSERT ... ON CONFLICT that were really inserted against the rate limits; arguments as guard_trigger';

-- Only attach() installs it, for the reasons given for guard_trigger.
REVOKE ALL ON FUNCTION tenant_guard.guard_created_trigger() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.guard_created_trigger() TO tenant_guard_admin;

CREATE FUNCTION tenant_guard.creation_deferred()
RETURNS boolean
AS 'MODULE_PATHNAME', 'creation_deferred'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION tenant_guard.creation_deferred() IS
  'WHEN clause of the tenant_guard_created trigger: true (once) for a row of INSERT ... ON CONFLICT whose rate-limit count the guard trigger left to that trigger';

-- Stays executable by PUBLIC: a trigger's WHEN clause runs with the
-- privileges of the role that inserts.  It only reads and clears a flag
-- of the calling backend.

CREATE OR REPLACE FUNCTION tenant_guard.attach(
    tbl regclass,
    name_column name DEFAULT 'name',
    subdomain_column name DEFAULT 'subdomain',
    email_column name DEFAULT 'email',
    id_column name DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  col name;
  cols name[] := ARRAY[name_column, subdomain_column, email_column];
  kind "char";
  persistence "char";
  typ oid;
  generated "char";
  foreign_trigger name;
BEGIN
  IF tbl IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
      MESSAGE = 'table must not be null';
  END IF;

  SELECT c.relkind, c.relpersistence INTO kind, persistence FROM pg_catalog.pg_class c WHERE c.oid = tbl;
  IF kind NOT IN ('r', 'p') THEN
    RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
      MESSAGE = pg_catalog.format('"%s" is not a table', tbl),
      HINT = 'tenant_guard guards ordinary and partitioned tables.';
  END IF;
  -- a temporary table goes away without a DROP: guarded_tables would keep it
  IF persistence = 't' THEN
    RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
      MESSAGE = pg_catalog.format('"%s" is a temporary table', tbl),
      HINT = 'tenant_guard guards permanent and unlogged tables.';
  END IF;
  -- rows inserted into an inheritance child do not fire the parent's trigger
  IF kind = 'r' AND EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i WHERE i.inhparent = tbl) THEN
    RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
      MESSAGE = pg_catalog.format('table "%s" has inheritance children', tbl),
      HINT = 'Attach the guard to each table rows are inserted into, or use declarative partitioning.';
  END IF;

  IF name_column IS NULL AND subdomain_column IS NULL AND email_column IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
      MESSAGE = 'at least one column must be guarded';
  END IF;

  FOREACH col IN ARRAY cols LOOP
    CONTINUE WHEN col IS NULL;
    SELECT a.atttypid, a.attgenerated INTO typ, generated
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = tbl AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'undefined_column',
        MESSAGE = pg_catalog.format('column "%s" of table "%s" does not exist', col, tbl),
        HINT = 'Name the columns: tenant_guard.attach(tbl, name_column => ..., subdomain_column => ..., email_column => ...); pass NULL for a column the table does not have.';
    END IF;
    -- a BEFORE trigger sees a generated column still empty
    IF generated <> '' THEN
      RAISE EXCEPTION USING ERRCODE = 'feature_not_supported',
        MESSAGE = pg_catalog.format('column "%s" of table "%s" is a generated column', col, tbl),
        HINT = 'Guard the columns it is computed from.';
    END IF;
    -- follow domains down to the base type: a varlena string type reads as text
    IF NOT EXISTS (
        WITH RECURSIVE b AS (
          SELECT t.oid, t.typbasetype, t.typcategory, t.typlen
            FROM pg_catalog.pg_type t WHERE t.oid = typ
          UNION ALL
          SELECT t.oid, t.typbasetype, t.typcategory, t.typlen
            FROM pg_catalog.pg_type t JOIN b ON t.oid = b.typbasetype)
        SELECT 1 FROM b
         WHERE b.typbasetype = 0 AND b.typcategory = 'S' AND b.typlen = -1) THEN
      RAISE EXCEPTION USING ERRCODE = 'datatype_mismatch',
        MESSAGE = pg_catalog.format('column "%s" of table "%s" is of type %s, not a text type',
                                    col, tbl, pg_catalog.format_type(typ, NULL)),
        HINT = 'tenant_guard reads text, varchar, char and citext columns (and domains over them).';
    END IF;
  END LOOP;

  -- re-attaching replaces the triggers (and their column lists); a trigger
  -- of one of their names that is not ours is left alone
  SELECT t.tgname INTO foreign_trigger FROM pg_catalog.pg_trigger t
   WHERE t.tgrelid = tbl AND NOT t.tgisinternal
     AND ((t.tgname = 'tenant_guard'
           AND t.tgfoid <> 'tenant_guard.guard_trigger()'::pg_catalog.regprocedure)
       OR (t.tgname = 'tenant_guard_created'
           AND t.tgfoid <> 'tenant_guard.guard_created_trigger()'::pg_catalog.regprocedure))
   LIMIT 1;
  IF foreign_trigger IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'duplicate_object',
      MESSAGE = pg_catalog.format('table "%s" has a trigger named "%s" that tenant_guard did not install', tbl, foreign_trigger),
      HINT = 'Rename or drop that trigger first.';
  END IF;
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
              WHERE t.tgrelid = tbl AND t.tgname = 'tenant_guard' AND NOT t.tgisinternal) THEN
    EXECUTE pg_catalog.format('DROP TRIGGER tenant_guard ON %s', tbl);
  END IF;
  EXECUTE pg_catalog.format(
    'CREATE TRIGGER tenant_guard BEFORE INSERT OR UPDATE ON %s '
    'FOR EACH ROW EXECUTE FUNCTION tenant_guard.guard_trigger(%L, %L, %L)',
    tbl, coalesce(name_column, ''), coalesce(subdomain_column, ''),
    coalesce(email_column, ''));
  -- rows of INSERT ... ON CONFLICT count for the rate limits once inserted
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
              WHERE t.tgrelid = tbl AND t.tgname = 'tenant_guard_created' AND NOT t.tgisinternal) THEN
    EXECUTE pg_catalog.format('DROP TRIGGER tenant_guard_created ON %s', tbl);
  END IF;
  EXECUTE pg_catalog.format(
    'CREATE TRIGGER tenant_guard_created AFTER INSERT ON %s FOR EACH ROW '
    'WHEN (tenant_guard.creation_deferred()) '
    'EXECUTE FUNCTION tenant_guard.guard_created_trigger(%L, %L, %L)',
    tbl, coalesce(name_column, ''), coalesce(subdomain_column, ''),
    coalesce(email_column, ''));
  -- protection triggers and the registry the purge reads (see the end of this file)
  PERFORM tenant_guard.attach_protection(tbl, id_column, name_column, subdomain_column, email_column);
END
$$;

COMMENT ON FUNCTION tenant_guard.attach(regclass, name, name, name, name) IS
  'Install the tenant_guard row triggers (tenant_guard BEFORE INSERT OR UPDATE, tenant_guard_created AFTER INSERT for the rate limits of INSERT ... ON CONFLICT) on a tenants table; NULL for a column the table lacks. Re-running replaces it. Also installs the protection triggers keyed on id_column (NULL: the single-column primary key, else "id") and registers the table for purge_test_tenants()';

CREATE OR REPLACE FUNCTION tenant_guard.detach(tbl regclass)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM tenant_guard.detach_protection(tbl);
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
              WHERE t.tgrelid = tbl AND t.tgname = 'tenant_guard_created'
                AND t.tgfoid = 'tenant_guard.guard_created_trigger()'::pg_catalog.regprocedure
                AND NOT t.tgisinternal) THEN
    EXECUTE pg_catalog.format('DROP TRIGGER tenant_guard_created ON %s', tbl);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
                  WHERE t.tgrelid = tbl AND t.tgname = 'tenant_guard'
                    AND t.tgfoid = 'tenant_guard.guard_trigger()'::pg_catalog.regprocedure
                    AND NOT t.tgisinternal) THEN
    RAISE NOTICE 'tenant_guard is not attached to "%"', tbl;
    RETURN false;
  END IF;
  EXECUTE pg_catalog.format('DROP TRIGGER tenant_guard ON %s', tbl);
  RETURN true;
END
$$;

-- tables attached before 1.1 get the trigger attach() now installs
DO $$
DECLARE
  g record;
BEGIN
  FOR g IN SELECT gt.tbl, gt.name_column, gt.subdomain_column, gt.email_column
             FROM tenant_guard.guarded_tables gt
            WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
                           WHERE t.tgrelid = gt.tbl AND t.tgname = 'tenant_guard' AND NOT t.tgisinternal
                             AND t.tgfoid = 'tenant_guard.guard_trigger()'::pg_catalog.regprocedure)
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
                               WHERE t.tgrelid = gt.tbl AND t.tgname = 'tenant_guard_created')
  LOOP
    EXECUTE pg_catalog.format(
      'CREATE TRIGGER tenant_guard_created AFTER INSERT ON %s FOR EACH ROW '
      'WHEN (tenant_guard.creation_deferred()) '
      'EXECUTE FUNCTION tenant_guard.guard_created_trigger(%L, %L, %L)',
      g.tbl, coalesce(g.name_column, ''), coalesce(g.subdomain_column, ''),
      coalesce(g.email_column, ''));
  END LOOP;
END
$$;

--
-- purge_test_tenants() gains archive (its signature changes: drop and
-- create; purge_test_tenants_in_batches() calls it by named arguments).
--
DROP FUNCTION tenant_guard.purge_test_tenants(boolean, text[], boolean, integer, regclass);

CREATE FUNCTION tenant_guard.purge_test_tenants(
    dry_run boolean DEFAULT true,
    ids text[] DEFAULT NULL,
    force boolean DEFAULT false,
    batch_size integer DEFAULT NULL,
    tenants regclass DEFAULT NULL,
    archive boolean DEFAULT true)
RETURNS TABLE (
    tenant_id text,
    name text,
    subdomain text,
    email text,
    reason text,
    deleted jsonb,
    updated jsonb,
    total_deleted bigint)
AS 'MODULE_PATHNAME', 'purge_test_tenants'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION tenant_guard.purge_test_tenants(boolean, text[], boolean, integer, regclass, boolean) IS
  'Remove test tenants and everything that depends on them (foreign keys and add_tenant_table() tables), one row per tenant with rows deleted per table. dry_run (default) reports exactly what a real run would do and rolls it back; ids NULL = the tenants the checker flags, minus protected ones; archive (default) keeps each purged tenant''s rows in purge_archive for restore_purged_tenant()';

REVOKE ALL ON FUNCTION tenant_guard.purge_test_tenants(boolean, text[], boolean, integer, regclass, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.purge_test_tenants(boolean, text[], boolean, integer, regclass, boolean) TO tenant_guard_admin;

--
-- Export, import and the purge's archive (export.c, import.c, archive.c).
--
-- One row per purged tenant: its export document, kept by a real purge
-- with archive => true (the default).  Evidence: admins read it, nobody
-- updates it, rows go only through prune_purge_archive() (write_guard).
CREATE TABLE tenant_guard.purge_archive (
    journal_id   bigint PRIMARY KEY,
    tenant_table text NOT NULL,
    tenant_id    text NOT NULL,
    archived_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    row_count    bigint NOT NULL,
    export       jsonb NOT NULL
);

CREATE INDEX purge_archive_tenant_id_idx ON tenant_guard.purge_archive (tenant_id);
CREATE INDEX purge_archive_archived_at_idx ON tenant_guard.purge_archive (archived_at);

COMMENT ON TABLE tenant_guard.purge_archive IS
  'tenant_guard: the rows of each tenant a purge removed, as an export document; restore_purged_tenant() puts them back, prune_purge_archive() drops old ones';
COMMENT ON COLUMN tenant_guard.purge_archive.journal_id IS 'the tenant''s purge_journal row (purge_journal.id)';
COMMENT ON COLUMN tenant_guard.purge_archive.tenant_table IS 'the guarded table the tenant was removed from';
COMMENT ON COLUMN tenant_guard.purge_archive.tenant_id IS 'the key, in its text output form';
COMMENT ON COLUMN tenant_guard.purge_archive.archived_at IS 'when the purge ran';
COMMENT ON COLUMN tenant_guard.purge_archive.row_count IS 'rows in the export, the tenant row included';
COMMENT ON COLUMN tenant_guard.purge_archive.export IS 'the export document (export_tenant_document() format), compressed by TOAST';

SELECT pg_catalog.pg_extension_config_dump('tenant_guard.purge_archive', '');

REVOKE ALL ON tenant_guard.purge_archive FROM PUBLIC;
GRANT SELECT ON tenant_guard.purge_archive TO tenant_guard_admin;

CREATE FUNCTION tenant_guard.export_tenant_document(tenant_id text, tenants regclass DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'export_tenant_document'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION tenant_guard.export_tenant_document(text, regclass) IS
  'Every row of a tenant (the tenant row and what a purge of it would delete, other tenants'' rows excluded) as one jsonb document for import_tenant()';

CREATE FUNCTION tenant_guard.export_tenant(tenant_id text, tenants regclass DEFAULT NULL)
RETURNS TABLE (table_name regclass, row_data jsonb)
AS 'MODULE_PATHNAME', 'export_tenant'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION tenant_guard.export_tenant(text, regclass) IS
  'Every row of a tenant, one (table, row as jsonb) per row, parents before children; export_tenant_document() gives the same as one document';

CREATE FUNCTION tenant_guard.import_tenant(export jsonb)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'import_tenant'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION tenant_guard.import_tenant(jsonb) IS
  'Restore an export_tenant_document() all or nothing, ids kept, triggers off, foreign keys checked; rows restored per table';

CREATE FUNCTION tenant_guard.restore_purged_tenant(tenant_id text, tenants regclass DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'restore_purged_tenant'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION tenant_guard.restore_purged_tenant(text, regclass) IS
  'Undo the purge of a tenant: import its latest purge_archive row (refused when the tenant exists again or a row collides); rows restored per table';

CREATE FUNCTION tenant_guard.prune_purge_archive(older_than interval)
RETURNS bigint
AS 'MODULE_PATHNAME', 'prune_purge_archive'
LANGUAGE C VOLATILE STRICT
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION tenant_guard.prune_purge_archive(interval) IS
  'Drop purge_archive rows archived more than older_than ago; how many';

-- Reading every row of a tenant and writing rows back are administrators'
-- decisions; they run with the caller's rights on the tables.
REVOKE ALL ON FUNCTION tenant_guard.export_tenant_document(text, regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenant_guard.export_tenant(text, regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenant_guard.import_tenant(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenant_guard.restore_purged_tenant(text, regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenant_guard.prune_purge_archive(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.export_tenant_document(text, regclass) TO tenant_guard_admin;
GRANT EXECUTE ON FUNCTION tenant_guard.export_tenant(text, regclass) TO tenant_guard_admin;
GRANT EXECUTE ON FUNCTION tenant_guard.import_tenant(jsonb) TO tenant_guard_admin;
GRANT EXECUTE ON FUNCTION tenant_guard.restore_purged_tenant(text, regclass) TO tenant_guard_admin;
GRANT EXECUTE ON FUNCTION tenant_guard.prune_purge_archive(interval) TO tenant_guard_admin;

-- ==== write guard ====
--
-- Table privileges do not keep a role with pg_write_all_data out of the
-- extension's tables.  A statement trigger on each of them (own_tables.c)
-- lets through only the extension's own C code (log rows, the journal,
-- protect()/unprotect(), the registries), its install and update scripts,
-- members of tenant_guard_admin for what tenant_guard_admin is granted on
-- the table (the rules; reading and pruning the log; redis_cleaned_at),
-- and INSERTs by superusers (a restore reloads the rows).  Nobody else,
-- superusers included, updates log rows or deletes journal rows without
-- disabling the trigger first.
CREATE FUNCTION tenant_guard.write_guard()
RETURNS trigger
AS 'MODULE_PATHNAME', 'write_guard'
LANGUAGE C;

COMMENT ON FUNCTION tenant_guard.write_guard() IS
  'Statement trigger on every table of tenant_guard: refuses writes other than the extension''s own and those tenant_guard_admin is granted';

-- Only this script installs it.
REVOKE ALL ON FUNCTION tenant_guard.write_guard() FROM PUBLIC;

-- Keep this last: it guards every table created above.
DO $write_guard$
DECLARE
  t pg_catalog.regclass;
BEGIN
  FOR t IN SELECT c.oid FROM pg_catalog.pg_class c
            WHERE c.relnamespace OPERATOR(pg_catalog.=) 'tenant_guard'::pg_catalog.regnamespace
              AND c.relkind IN ('r', 'p')
              AND EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                           WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                             AND d.objid OPERATOR(pg_catalog.=) c.oid
                             AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
                             AND d.deptype OPERATOR(pg_catalog.=) 'e')
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger tr
                               WHERE tr.tgrelid OPERATOR(pg_catalog.=) c.oid
                                 AND tr.tgname OPERATOR(pg_catalog.=) 'write_guard')
            ORDER BY c.relname LOOP
    EXECUTE pg_catalog.format(
      'CREATE TRIGGER write_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s '
      'FOR EACH STATEMENT EXECUTE FUNCTION tenant_guard.write_guard()', t);
    EXECUTE pg_catalog.format('COMMENT ON TRIGGER write_guard ON %s IS %L', t,
      'tenant_guard: only the extension''s own code and the rights tenant_guard_admin is granted write this table');
  END LOOP;
END
$write_guard$;
