/* tenant_guard--1.0--1.1.sql: ALTER EXTENSION tenant_guard UPDATE TO '1.1' */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION tenant_guard UPDATE TO '1.1'" to load this file. \quit

-- Every change here is also in tenant_guard--1.1.sql (a fresh install);
-- test/t/010_upgrade.pl proves that an updated 1.0 equals a fresh 1.1.

-- ==== the Redis clean-up (tenant_guard_redis) ====

ALTER TABLE tenant_guard.purge_journal ADD COLUMN redis_keys_deleted bigint;
COMMENT ON COLUMN tenant_guard.purge_journal.redis_keys_deleted IS 'Redis keys of the tenant deleted by the tenant_guard_redis run that marked it cleaned';
GRANT UPDATE (redis_cleaned_at, redis_keys_deleted) ON tenant_guard.purge_journal TO tenant_guard_admin;

-- The Redis clean-up (tenant_guard_redis) keeps every key that names a
-- live tenant: it reads their ids here.  The caller's rights (it needs
-- SELECT on the key column of every guarded table, as the purge does), and
-- row_security off so that a policy hiding rows is an error instead of a
-- live tenant's keys deleted.  Ids in the key type's text output form, as
-- protected_tenants and purge_journal hold them.
CREATE FUNCTION tenant_guard.live_tenant_ids(tenants regclass DEFAULT NULL)
RETURNS TABLE (tenant_table regclass, tenant_id text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET row_security = off
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
