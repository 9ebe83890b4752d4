/* tenant_guard--1.0--1.1.sql: ALTER EXTENSION tenant_guard UPDATE TO '1.1' */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION tenant_guard UPDATE TO '1.1'" to load this file. \quit

-- Every change here is also in tenant_guard--1.1.sql (a fresh install);
-- test/t/010_upgrade.pl proves that an updated 1.0 equals a fresh 1.1.

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
