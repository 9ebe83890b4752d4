-- A hostile role in the caller's search_path.  regress_hsp_mallory has
-- CREATE on public (as every role had before PostgreSQL 15) and puts there,
-- and in pg_temp, operators and functions for the types the extension's
-- SQL uses; each records that it ran and tries to make mallory superuser.
-- Every function of the extension is then called under
-- search_path = public, pg_catalog by a tenant_guard_admin member, by
-- mallory herself, and by the superuser: nothing of mallory's may run.
\set hostile 'SET search_path = public, pg_catalog;'
SET search_path = pg_catalog, pg_temp;
CREATE ROLE regress_hsp_mallory;
CREATE ROLE regress_hsp_admin IN ROLE tenant_guard_admin;
GRANT CREATE ON SCHEMA public TO regress_hsp_mallory;
CREATE TABLE public.hsp_ran (what text, run_by name);
GRANT INSERT ON public.hsp_ran TO PUBLIC;

SET ROLE regress_hsp_mallory;
CREATE FUNCTION public.hsp_hit(what text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.hsp_ran VALUES (what, current_user);
  BEGIN
    EXECUTE 'ALTER ROLE regress_hsp_mallory SUPERUSER';
  EXCEPTION WHEN OTHERS THEN NULL;
  END;
  RETURN true;
END
$$;
-- operators: the types of the catalogs, the registries and tenant keys
DO $$
DECLARE
  o record;
  n integer := 0;
BEGIN
  FOR o IN SELECT * FROM (VALUES
      ('=', 'oid', 'regclass'), ('=', 'regclass', 'oid'), ('=', 'regclass', 'regclass'),
      ('=', 'oid', 'oid'), ('=', 'text', 'text'), ('=', 'name', 'name'), ('=', 'name', 'text'),
      ('=', 'text', 'name'), ('=', 'int2', 'int2'), ('=', 'int4', 'int4'), ('=', 'int8', 'int8'),
      ('=', 'int8', 'int4'), ('=', 'uuid', 'uuid'), ('=', '"char"', '"char"'), ('=', 'jsonb', 'jsonb'),
      ('=', 'bool', 'bool'), ('=', 'inet', 'inet'), ('=', 'regprocedure', 'regprocedure'),
      ('=', 'oid', 'regprocedure'), ('=', 'timestamptz', 'timestamptz'),
      ('<>', 'oid', 'regclass'), ('<>', 'regclass', 'regclass'), ('<>', 'oid', 'regprocedure'),
      ('<>', 'oid', 'oid'), ('<>', 'int4', 'int4'), ('<>', 'text', 'text'),
      ('<', 'int4', 'int4'), ('<', 'int8', 'int4'), ('<', 'int8', 'int8'), ('<', 'text', 'text'),
      ('<', 'timestamptz', 'timestamptz'), ('>', 'int4', 'int4'), ('>', 'int8', 'int8'),
      ('<=', 'int4', 'int4'), ('>=', 'int4', 'int4'), ('>=', 'int8', 'int8'),
      ('>=', 'timestamptz', 'timestamptz'), ('+', 'int8', 'int8'), ('+', 'int8', 'int4'),
      ('&', 'int4', 'int4'), ('||', 'text', 'text'), ('~~', 'text', 'text'), ('~', 'text', 'text'))
      v(op, l, r)
  LOOP
    n := n OPERATOR(pg_catalog.+) 1;
    -- records, then answers as pg_catalog's would (so old code ran to the end)
    EXECUTE pg_catalog.format('CREATE FUNCTION public.hsp_op_%s(%s, %s) RETURNS %s LANGUAGE sql AS %L',
                              n, o.l, o.r,
                              CASE o.op WHEN '+' THEN 'bigint' WHEN '&' THEN 'integer'
                                        WHEN '||' THEN 'text' ELSE 'boolean' END,
                              pg_catalog.format('SELECT CASE WHEN public.hsp_hit(%L) THEN $1 OPERATOR(pg_catalog.%s) $2 END',
                                                pg_catalog.concat(o.op, '(', o.l, ',', o.r, ')'), o.op));
    EXECUTE pg_catalog.format('CREATE OPERATOR public.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = public.hsp_op_%s)',
                              o.op, o.l, o.r, n);
    -- and the same in pg_temp (never searched for operators: must stay silent)
    EXECUTE pg_catalog.format('CREATE OPERATOR pg_temp.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = public.hsp_op_%s)',
                              o.op, o.l, o.r, n);
  END LOOP;
END
$$;
-- functions the SQL might call by name, and type-named "casts"
DO $$
DECLARE
  f record;
  r text;
BEGIN
  FOR f IN SELECT * FROM (VALUES
      ('lower', 'text', 'text'), ('upper', 'text', 'text'), ('btrim', 'text', 'text'),
      ('btrim', 'text, text', 'text'), ('length', 'text', 'integer'), ('replace', 'text, text, text', 'text'),
      ('format', 'text', 'text'), ('format', 'text, text', 'text'), ('concat', 'text, text', 'text'),
      ('now', '', 'timestamptz'), ('pg_current_xact_id', '', 'xid8'),
      ('current_setting', 'text', 'text'), ('to_jsonb', 'text', 'jsonb'),
      ('array_length', 'text[], integer', 'integer'), ('coalesce', 'text, text', 'text'),
      ('text', 'name', 'text'), ('text', 'oid', 'text'), ('oid', 'regclass', 'oid'),
      ('regclass', 'text', 'regclass'), ('name', 'text', 'name'), ('int4', 'bigint', 'integer'),
      ('int8', 'integer', 'bigint'), ('jsonb', 'text', 'jsonb'), ('inet', 'text', 'inet'),
      ('uuid', 'text', 'uuid'), ('unnest', 'text[]', 'SETOF text'), ('unnest', 'oid[]', 'SETOF oid'),
      ('unnest', 'integer[]', 'SETOF integer'), ('pg_partition_tree', 'regclass', 'SETOF regclass'))
      v(fn, args, ret)
  LOOP
    r := CASE WHEN f.ret OPERATOR(pg_catalog.~~) 'SETOF %' THEN '' ELSE 'NULL' END;
    EXECUTE pg_catalog.format('CREATE FUNCTION public.%I(%s) RETURNS %s LANGUAGE plpgsql AS %L',
                              f.fn, f.args, f.ret,
                              pg_catalog.format('BEGIN PERFORM public.hsp_hit(%L); RETURN %s; END',
                                                pg_catalog.concat(f.fn, '(', f.args, ')'), r));
    EXECUTE pg_catalog.format('CREATE FUNCTION pg_temp.%I(%s) RETURNS %s LANGUAGE plpgsql AS %L',
                              f.fn, f.args, f.ret,
                              pg_catalog.format('BEGIN PERFORM public.hsp_hit(%L); RETURN %s; END',
                                                pg_catalog.concat('pg_temp.', f.fn, '(', f.args, ')'), r));
  END LOOP;
END
$$;
-- pg_temp is searched first for relations and types when the path omits it
CREATE TABLE pg_temp.protected_tenants (tenant_id text);
CREATE TABLE pg_temp.guarded_tables (tbl regclass);
CREATE TABLE pg_temp.tenant_tables (tbl regclass);
CREATE TABLE pg_temp.purge_journal (x int);
CREATE TABLE pg_temp.test_data_prevention_logs (x int);
CREATE TABLE pg_temp.pg_class (oid oid, relkind "char");
CREATE TYPE pg_temp.text AS (hostile integer);
CREATE TYPE pg_temp.regclass AS (hostile integer);
RESET ROLE;
SELECT pg_catalog.count(*) AS hostile_objects FROM pg_catalog.pg_proc
 WHERE proowner OPERATOR(pg_catalog.=) 'regress_hsp_mallory'::pg_catalog.regrole;

-- 1. a member of tenant_guard_admin, in a schema it owns
CREATE SCHEMA hsp1 AUTHORIZATION regress_hsp_admin;
SET ROLE regress_hsp_admin;
\set s hsp1
\ir sql/hostile_search_path_calls.psql
RESET ROLE;

-- 2. mallory herself: what PUBLIC may call, and an INSERT into a guarded table
CREATE SCHEMA hsp0;
CREATE TABLE hsp0.signups (name text, subdomain text, email text);
SELECT tenant_guard.attach('hsp0.signups');
GRANT USAGE ON SCHEMA hsp0 TO regress_hsp_mallory;
GRANT INSERT ON hsp0.signups TO regress_hsp_mallory;
SET ROLE regress_hsp_mallory;
:hostile SELECT * FROM tenant_guard.check_tenant('Test Company', 'test', 'qa@mailinator.com');
:hostile SELECT tenant_guard.normalize_email('Mara.Lind+x@Harbor-Cafe.de'), tenant_guard.normal_form('Ｔｅｓｔ　Ｃｏ');
:hostile SELECT status FROM tenant_guard.log_queue_status();
:hostile INSERT INTO hsp0.signups VALUES ('Harbor Cafe', 'harbor', 'mara.lind@hsp-harbor-cafe.de');
:hostile INSERT INTO hsp0.signups VALUES ('Test Company', 'hsp-test0', 'qa@example.com');
:hostile SELECT tenant_guard.log_queue_wait(10000);
:hostile SELECT tenant_guard.protect('1');
SET search_path = pg_catalog, pg_temp;
RESET ROLE;
SELECT tenant_guard.detach('hsp0.signups');
DROP SCHEMA hsp0 CASCADE;

-- 3. the superuser, owner of the tables
CREATE SCHEMA hsp2;
\set s hsp2
\ir sql/hostile_search_path_calls.psql
SET search_path = pg_catalog, pg_temp;

-- nothing of mallory's ran, and she is no superuser
SELECT what, run_by FROM public.hsp_ran ORDER BY 1, 2;
SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'regress_hsp_mallory';
-- the rejected and logged rows reached the log
SELECT action, COALESCE(data OPERATOR(pg_catalog.->>) 'subdomain', reason) AS what, pg_catalog.count(*)
  FROM tenant_guard.test_data_prevention_logs
 WHERE data OPERATOR(pg_catalog.->>) 'subdomain' OPERATOR(pg_catalog.~~) 'hsp-test_'
    OR reason OPERATOR(pg_catalog.=) 'hostile search_path test'
 GROUP BY 1, 2 ORDER BY 1, 2;

-- clean up (the pg_temp objects go with DROP OWNED); later tests read the log and the journal
DELETE FROM tenant_guard.test_data_prevention_logs
 WHERE data OPERATOR(pg_catalog.->>) 'subdomain' OPERATOR(pg_catalog.~~) 'hsp-test_'
    OR reason OPERATOR(pg_catalog.=) 'hostile search_path test';
-- (journal rows are evidence: the write guard lets nobody delete them,
-- so the test's own clean-up switches triggers off for this statement)
SET session_replication_role = replica;
DELETE FROM tenant_guard.purge_journal WHERE tenant_table OPERATOR(pg_catalog.~~) 'hsp_.tenants';
RESET session_replication_role;
DROP SCHEMA hsp1 CASCADE;
DROP SCHEMA hsp2 CASCADE;
DROP TABLE public.hsp_ran;
DROP OWNED BY regress_hsp_mallory;
REVOKE CREATE ON SCHEMA public FROM regress_hsp_mallory;
DROP ROLE regress_hsp_mallory;
DROP ROLE regress_hsp_admin;
