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
LANGUAGE C
SET search_path = pg_catalog, pg_temp;

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

-- ==== rate-limit keys ====
--
-- Rate limits: normalize_email() (the same C function) now folds look-alike
-- spellings of an address into one key.
COMMENT ON FUNCTION tenant_guard.normalize_email(text) IS
  'The key an e-mail address is counted under by the per-email rate limit: trimmed, case-folded, +tag cut, gmail dots removed, look-alike spellings folded (invisible characters dropped, NFKC, letters that look Latin read as Latin, the domain as IDNA maps it); NULL for an empty address';

-- ==== search_path pinned ====
--
-- search_path pinned (issue 12): the C functions that run SQL, and those
-- that may one day, run under search_path = pg_catalog, pg_temp, so that no
-- operator or function a role put in the caller's path runs in them.  The
-- per-row ones (check_tenant, the triggers, the purge's helpers) pin it in
-- C around their SQL instead; sql/search_path.sql lists them all.
ALTER FUNCTION tenant_guard.log_suspicious_request(text, jsonb, text, inet) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION tenant_guard.log_queue_status() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION tenant_guard.log_queue_wait(integer) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION tenant_guard.rate_limit_usage(text, text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION tenant_guard.rate_limit_status() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION tenant_guard.rate_limit_reset() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION tenant_guard.builtin_rules() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION tenant_guard.rules_changed() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION tenant_guard.protect(text, text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION tenant_guard.unprotect(text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION tenant_guard.register_guarded_table(regclass, name, name, name, name) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION tenant_guard.unregister_guarded_table(regclass) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION tenant_guard.register_tenant_table(regclass, name, regclass) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION tenant_guard.unregister_tenant_table(regclass, name) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION tenant_guard.purge_test_tenants(boolean, text[], boolean, integer, regclass) SET search_path = pg_catalog, pg_temp;

-- Key text is produced under pinned output settings, whatever the
-- session's (bytea_output, TimeZone, DateStyle, ... change what a key
-- type prints, and protection compares that text); protect_trigger pins
-- the same list in C (safesql.c).
ALTER FUNCTION tenant_guard.protect(text, text)
  SET DateStyle = 'ISO, MDY' SET IntervalStyle = 'postgres' SET TimeZone = 'UTC' SET bytea_output = 'hex' SET extra_float_digits = 1 SET lc_monetary = 'C';
ALTER FUNCTION tenant_guard.unprotect(text)
  SET DateStyle = 'ISO, MDY' SET IntervalStyle = 'postgres' SET TimeZone = 'UTC' SET bytea_output = 'hex' SET extra_float_digits = 1 SET lc_monetary = 'C';
ALTER FUNCTION tenant_guard.purge_test_tenants(boolean, text[], boolean, integer, regclass)
  SET DateStyle = 'ISO, MDY' SET IntervalStyle = 'postgres' SET TimeZone = 'UTC' SET bytea_output = 'hex' SET extra_float_digits = 1 SET lc_monetary = 'C';

-- operators named by schema: a procedure cannot SET search_path and COMMIT
CREATE OR REPLACE PROCEDURE tenant_guard.purge_test_tenants_in_batches(
    batch_size integer DEFAULT 100,
    force boolean DEFAULT false,
    tenants regclass DEFAULT NULL)
LANGUAGE plpgsql
AS $$
-- No SET search_path: a procedure with one cannot COMMIT.  Every operator
-- and function below is named by schema; purge_test_tenants() pins it.
DECLARE
  n bigint;
  total bigint := 0;
BEGIN
  IF batch_size IS NULL OR batch_size OPERATOR(pg_catalog.<) 1 THEN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
      MESSAGE = 'batch_size must be at least 1';
  END IF;
  LOOP
    SELECT pg_catalog.count(*) INTO n
      FROM tenant_guard.purge_test_tenants(dry_run => false, force => force,
                                           batch_size => batch_size, tenants => tenants);
    total := total OPERATOR(pg_catalog.+) n;
    COMMIT;
    EXIT WHEN n OPERATOR(pg_catalog.<) batch_size;
  END LOOP;
  RAISE NOTICE 'tenant_guard purged % tenants', total;
END
$$;

-- ==== the Redis clean-up (tenant_guard_redis) ====

ALTER TABLE tenant_guard.purge_journal ADD COLUMN redis_keys_deleted bigint;
COMMENT ON COLUMN tenant_guard.purge_journal.redis_keys_deleted IS 'Redis keys of the tenant deleted by the tenant_guard_redis run that marked it cleaned';
GRANT UPDATE (redis_cleaned_at, redis_keys_deleted) ON tenant_guard.purge_journal TO tenant_guard_admin;

-- The Redis clean-up (tenant_guard_redis) keeps every key that names a
-- live tenant: it reads their ids here.  The caller's rights (it needs
-- SELECT on the key column of every guarded table, as the purge does), and
-- row_security off so that a policy hiding rows is an error instead of a
-- live tenant's keys deleted.  Ids in the key type's text output form, as
-- protected_tenants and purge_journal hold them, under the same pinned
-- output settings (bytea_output, TimeZone, DateStyle, ...).
CREATE FUNCTION tenant_guard.live_tenant_ids(tenants regclass DEFAULT NULL)
RETURNS TABLE (tenant_table regclass, tenant_id text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET row_security = off
SET DateStyle = 'ISO, MDY'
SET IntervalStyle = 'postgres'
SET TimeZone = 'UTC'
SET bytea_output = 'hex'
SET extra_float_digits = 1
SET lc_monetary = 'C'
AS $$
DECLARE
  g record;
BEGIN
  FOR g IN SELECT t.tbl, t.id_column FROM tenant_guard.guarded_tables t
            WHERE t.id_column IS NOT NULL
              AND (live_tenant_ids.tenants IS NULL OR t.tbl OPERATOR(pg_catalog.=) live_tenant_ids.tenants)
            ORDER BY t.tbl::pg_catalog.oid
  LOOP
    RETURN QUERY EXECUTE pg_catalog.format(
      'SELECT $1, pg_catalog.format(''%%s'', k.%I) FROM %s k WHERE k.%I IS NOT NULL',
      g.id_column, g.tbl, g.id_column) USING g.tbl;
  END LOOP;
END
$$;

COMMENT ON FUNCTION tenant_guard.live_tenant_ids(regclass) IS
  'Ids of the tenants in every guarded table, or in the one named (key text output form), for tenant_guard_redis; runs with the caller''s rights';

-- Tenant ids are the admins' business.
REVOKE ALL ON FUNCTION tenant_guard.live_tenant_ids(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.live_tenant_ids(regclass) TO tenant_guard_admin;

-- 1.0 stored protected tenant ids as key text under the protecting
-- session's settings (bytea_output = escape, another TimeZone, ...).  Put
-- each one in the canonical form: read it with the key type's input under
-- the settings this update runs with (those of the database, most likely
-- what protect() ran with), find its row as protect() did (the first
-- guarded table, oldest attachment first, that holds it), and store that
-- row's key text under the pinned settings.  Ids that name no row are left
-- as they are.  purge_journal rows are history and keep their text.
DO $canonical_keys$
DECLARE
  g record;
  p record;
  found_ctid tid;
  saved text[];
  found_oid pg_catalog.oid;
  todo_oid pg_catalog.oid[] := '{}';
  todo_tbl regclass[] := '{}';
  todo_col name[] := '{}';
  todo_id text[] := '{}';
  todo_ctid tid[] := '{}';
  canon text;
BEGIN
  FOR p IN SELECT pt.tenant_id FROM tenant_guard.protected_tenants pt LOOP
    FOR g IN SELECT t.tbl, t.id_column, a.atttypid::pg_catalog.regtype AS keytype
               FROM tenant_guard.guarded_tables t
               JOIN pg_catalog.pg_attribute a
                 ON a.attrelid OPERATOR(pg_catalog.=) t.tbl::pg_catalog.oid
                AND a.attname OPERATOR(pg_catalog.=) t.id_column AND NOT a.attisdropped
              WHERE t.id_column IS NOT NULL
              ORDER BY t.attached_at, t.tbl::pg_catalog.oid
    LOOP
      BEGIN
        EXECUTE pg_catalog.format('SELECT k.tableoid, k.ctid FROM %s k WHERE k.%I OPERATOR(pg_catalog.=) $1::%s LIMIT 1 FOR KEY SHARE',
                                  g.tbl, g.id_column, g.keytype)
          INTO found_oid, found_ctid USING p.tenant_id;
      EXCEPTION WHEN OTHERS THEN
        found_ctid := NULL;     -- not a valid id of this key type
      END;
      IF found_ctid IS NOT NULL THEN
        todo_tbl := todo_tbl OPERATOR(pg_catalog.||) g.tbl;
        todo_col := todo_col OPERATOR(pg_catalog.||) g.id_column;
        todo_id := todo_id OPERATOR(pg_catalog.||) p.tenant_id;
        todo_ctid := todo_ctid OPERATOR(pg_catalog.||) found_ctid;
        todo_oid := todo_oid OPERATOR(pg_catalog.||) found_oid;
        EXIT;
      END IF;
    END LOOP;
  END LOOP;
  -- the rows' key text under the settings protect() now pins
  saved := ARRAY[pg_catalog.current_setting('DateStyle'), pg_catalog.current_setting('IntervalStyle'),
                 pg_catalog.current_setting('TimeZone'), pg_catalog.current_setting('bytea_output'),
                 pg_catalog.current_setting('extra_float_digits'), pg_catalog.current_setting('lc_monetary')];
  SET LOCAL DateStyle = 'ISO, MDY';
  SET LOCAL IntervalStyle = 'postgres';
  SET LOCAL TimeZone = 'UTC';
  SET LOCAL bytea_output = 'hex';
  SET LOCAL extra_float_digits = 1;
  SET LOCAL lc_monetary = 'C';
  FOR i IN 1 .. COALESCE(pg_catalog.array_length(todo_id, 1), 0) LOOP
    EXECUTE pg_catalog.format('SELECT pg_catalog.format(''%%s'', k.%I) FROM %s k'
                              ' WHERE k.tableoid OPERATOR(pg_catalog.=) $2 AND k.ctid OPERATOR(pg_catalog.=) $1',
                              todo_col[i], todo_tbl[i])
      INTO canon USING todo_ctid[i], todo_oid[i];
    CONTINUE WHEN canon IS NULL OR canon OPERATOR(pg_catalog.=) todo_id[i];
    IF EXISTS (SELECT FROM tenant_guard.protected_tenants pt
                WHERE pt.tenant_id OPERATOR(pg_catalog.=) canon) THEN
      DELETE FROM tenant_guard.protected_tenants pt
       WHERE pt.tenant_id OPERATOR(pg_catalog.=) todo_id[i];
    ELSE
      UPDATE tenant_guard.protected_tenants pt SET tenant_id = canon
       WHERE pt.tenant_id OPERATOR(pg_catalog.=) todo_id[i];
    END IF;
  END LOOP;
  PERFORM pg_catalog.set_config('DateStyle', saved[1], true),
          pg_catalog.set_config('IntervalStyle', saved[2], true),
          pg_catalog.set_config('TimeZone', saved[3], true),
          pg_catalog.set_config('bytea_output', saved[4], true),
          pg_catalog.set_config('extra_float_digits', saved[5], true),
          pg_catalog.set_config('lc_monetary', saved[6], true);
END
$canonical_keys$;

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
