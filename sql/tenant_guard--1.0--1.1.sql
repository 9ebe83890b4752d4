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
