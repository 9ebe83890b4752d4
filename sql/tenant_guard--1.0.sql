/* tenant_guard--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION tenant_guard" to load this file. \quit

COMMENT ON SCHEMA tenant_guard IS
  'tenant_guard: rejects, records, rate-limits and purges test-data tenants';

--
-- Roles.  Roles are cluster-wide, so a second database that installs the
-- extension reuses them, and DROP EXTENSION leaves them in place.
--
DO $roles$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'tenant_guard_admin') THEN
    CREATE ROLE tenant_guard_admin NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'tenant_guard_app') THEN
    CREATE ROLE tenant_guard_app NOLOGIN;
  END IF;
END
$roles$;

COMMENT ON ROLE tenant_guard_admin IS
  'tenant_guard: may attach the guard, relax tenant_guard.mode, read and prune logs';
COMMENT ON ROLE tenant_guard_app IS
  'tenant_guard: for application roles; may report suspicious requests';

GRANT USAGE ON SCHEMA tenant_guard TO PUBLIC;

--
-- The checker.
--
CREATE FUNCTION tenant_guard.check_tenant(
    name text, subdomain text, email text,
    OUT is_suspicious boolean, OUT reason text)
RETURNS record
AS 'MODULE_PATHNAME', 'check_tenant'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION tenant_guard.check_tenant(text, text, text) IS
  'Is (name, subdomain, email) test data? reason names every rule that fired; NULL arguments are no evidence';

--
-- The log.
--
CREATE SEQUENCE tenant_guard.test_data_prevention_logs_id_seq;

CREATE TABLE tenant_guard.test_data_prevention_logs (
    id               bigint NOT NULL
                     DEFAULT pg_catalog.nextval('tenant_guard.test_data_prevention_logs_id_seq'::pg_catalog.regclass)
                     PRIMARY KEY,
    endpoint         text,
    data             jsonb,
    reason           text NOT NULL,
    ip_address       inet,
    role_name        name NOT NULL DEFAULT CURRENT_USER,
    application_name text,
    action           text NOT NULL DEFAULT 'reported'
                     CHECK (action IN ('rejected', 'logged', 'reported')),
    created_at       timestamptz NOT NULL DEFAULT pg_catalog.now()
);

ALTER SEQUENCE tenant_guard.test_data_prevention_logs_id_seq
  OWNED BY tenant_guard.test_data_prevention_logs.id;
COMMENT ON SEQUENCE tenant_guard.test_data_prevention_logs_id_seq IS
  'tenant_guard: ids of test_data_prevention_logs';

-- "the latest 20" is the query operators run most
CREATE INDEX test_data_prevention_logs_created_at_idx
  ON tenant_guard.test_data_prevention_logs (created_at DESC);

COMMENT ON TABLE tenant_guard.test_data_prevention_logs IS
  'tenant_guard: one row per suspicious tenant attempt, from the trigger or from log_suspicious_request()';
COMMENT ON COLUMN tenant_guard.test_data_prevention_logs.endpoint IS
  'tenant_guard.endpoint (or the argument of log_suspicious_request) at the time';
COMMENT ON COLUMN tenant_guard.test_data_prevention_logs.data IS
  'the offending row (trigger) or what the application passed';
COMMENT ON COLUMN tenant_guard.test_data_prevention_logs.reason IS
  'every rule that fired, e.g. name: test keyword "test"';
COMMENT ON COLUMN tenant_guard.test_data_prevention_logs.ip_address IS
  'tenant_guard.client_addr (the end user''s address) at the time';
COMMENT ON COLUMN tenant_guard.test_data_prevention_logs.role_name IS
  'current_user of the session that made the attempt';
COMMENT ON COLUMN tenant_guard.test_data_prevention_logs.application_name IS
  'application_name of that session';
COMMENT ON COLUMN tenant_guard.test_data_prevention_logs.action IS
  'rejected (enforce mode), logged (log mode, row kept) or reported (log_suspicious_request)';
COMMENT ON COLUMN tenant_guard.test_data_prevention_logs.created_at IS
  'when the attempt was recorded';

-- Log rows are evidence: pg_dump keeps them.
SELECT pg_catalog.pg_extension_config_dump('tenant_guard.test_data_prevention_logs', '');
SELECT pg_catalog.pg_extension_config_dump('tenant_guard.test_data_prevention_logs_id_seq', '');

-- Logs hold end users' data: nobody reads them by default; admins read
-- and prune.  Rows are written by the extension's C code as the table
-- owner, so no role needs INSERT.
REVOKE ALL ON tenant_guard.test_data_prevention_logs FROM PUBLIC;
REVOKE ALL ON SEQUENCE tenant_guard.test_data_prevention_logs_id_seq FROM PUBLIC;
GRANT SELECT, DELETE ON tenant_guard.test_data_prevention_logs TO tenant_guard_admin;

CREATE FUNCTION tenant_guard.log_suspicious_request(
    endpoint text, data jsonb, reason text, ip_address inet DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'log_suspicious_request'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION tenant_guard.log_suspicious_request(text, jsonb, text, inet) IS
  'Record a suspicious request the application caught itself; returns the log row id. NULL endpoint / ip_address fall back to tenant_guard.endpoint / client_addr';

-- Writes the log: only applications and admins that were granted it.
REVOKE ALL ON FUNCTION tenant_guard.log_suspicious_request(text, jsonb, text, inet) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.log_suspicious_request(text, jsonb, text, inet)
  TO tenant_guard_app, tenant_guard_admin;

--
-- The trigger and attaching it.
--
CREATE FUNCTION tenant_guard.guard_trigger()
RETURNS trigger
AS 'MODULE_PATHNAME', 'guard_trigger'
LANGUAGE C;

COMMENT ON FUNCTION tenant_guard.guard_trigger() IS
  'Row trigger installed by tenant_guard.attach(); arguments: name, subdomain and email column names ('''' = not guarded)';

CREATE FUNCTION tenant_guard.attach(
    tbl regclass,
    name_column name DEFAULT 'name',
    subdomain_column name DEFAULT 'subdomain',
    email_column name DEFAULT 'email')
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  col name;
  cols name[] := ARRAY[name_column, subdomain_column, email_column];
  kind "char";
  typ oid;
BEGIN
  IF tbl IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
      MESSAGE = 'table must not be null';
  END IF;

  SELECT c.relkind INTO kind FROM pg_catalog.pg_class c WHERE c.oid = tbl;
  IF kind NOT IN ('r', 'p') THEN
    RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
      MESSAGE = pg_catalog.format('"%s" is not a table', tbl),
      HINT = 'tenant_guard guards ordinary and partitioned tables.';
  END IF;

  IF name_column IS NULL AND subdomain_column IS NULL AND email_column IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
      MESSAGE = 'at least one column must be guarded';
  END IF;

  FOREACH col IN ARRAY cols LOOP
    CONTINUE WHEN col IS NULL;
    SELECT a.atttypid INTO typ
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = tbl AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'undefined_column',
        MESSAGE = pg_catalog.format('column "%s" of table "%s" does not exist', col, tbl),
        HINT = 'Name the columns: tenant_guard.attach(tbl, name_column => ..., subdomain_column => ..., email_column => ...); pass NULL for a column the table does not have.';
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

  -- re-attaching replaces the trigger (and its column list)
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
              WHERE t.tgrelid = tbl AND t.tgname = 'tenant_guard' AND NOT t.tgisinternal) THEN
    EXECUTE pg_catalog.format('DROP TRIGGER tenant_guard ON %s', tbl);
  END IF;
  EXECUTE pg_catalog.format(
    'CREATE TRIGGER tenant_guard BEFORE INSERT OR UPDATE ON %s '
    'FOR EACH ROW EXECUTE FUNCTION tenant_guard.guard_trigger(%L, %L, %L)',
    tbl, coalesce(name_column, ''), coalesce(subdomain_column, ''),
    coalesce(email_column, ''));
END
$$;

COMMENT ON FUNCTION tenant_guard.attach(regclass, name, name, name) IS
  'Install the tenant_guard row trigger (BEFORE INSERT OR UPDATE) on a tenants table; NULL for a column the table lacks. Re-running replaces it';

CREATE FUNCTION tenant_guard.detach(tbl regclass)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
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

COMMENT ON FUNCTION tenant_guard.detach(regclass) IS
  'Remove the tenant_guard trigger from a table; false (with a NOTICE) when it was not attached';

-- Installing or removing the guard is an administrator's decision.
REVOKE ALL ON FUNCTION tenant_guard.attach(regclass, name, name, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenant_guard.detach(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.attach(regclass, name, name, name) TO tenant_guard_admin;
GRANT EXECUTE ON FUNCTION tenant_guard.detach(regclass) TO tenant_guard_admin;

-- ==== rate limits ====
--
-- The limits themselves are GUCs (tenant_guard.max_tenants_per_hour_per_ip,
-- tenant_guard.max_tenants_per_hour_per_email) counted in shared memory by
-- the trigger; these functions show and manage that memory.

CREATE FUNCTION tenant_guard.normalize_email(email text)
RETURNS text
AS 'MODULE_PATHNAME', 'normalize_email'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION tenant_guard.normalize_email(text) IS
  'The key an e-mail address is counted under by the per-email rate limit: trimmed, lower case, +tag cut, gmail dots removed; NULL for an empty address';

CREATE FUNCTION tenant_guard.rate_limit_usage(
    kind text, value text, OUT created integer, OUT pending integer)
RETURNS record
AS 'MODULE_PATHNAME', 'rate_limit_usage'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION tenant_guard.rate_limit_usage(text, text) IS
  'Tenants counted now for kind ''ip'' or ''email'' and a value: created (committed in the last hour) and pending (in running transactions)';

CREATE FUNCTION tenant_guard.rate_limit_status(
    OUT enforced boolean, OUT capacity integer, OUT in_use integer,
    OUT keys integer, OUT refused bigint, OUT waited bigint,
    OUT not_counted bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'rate_limit_status'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION tenant_guard.rate_limit_status() IS
  'Rate-limit memory, cluster-wide since startup: enforced (false without shared_preload_libraries), capacity and in_use (tenant creations), keys, refused (TG002 errors), waited (waits for other transactions), not_counted (creations not counted because memory was full)';

CREATE FUNCTION tenant_guard.rate_limit_reset()
RETURNS bigint
AS 'MODULE_PATHNAME', 'rate_limit_reset'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION tenant_guard.rate_limit_reset() IS
  'Forget the committed tenant creations counted in this database (pending ones stay); returns how many were forgotten';

-- Usage reveals who signed up recently, reset lifts the limits: admins only.
-- The key rule is no secret.
REVOKE ALL ON FUNCTION tenant_guard.rate_limit_usage(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenant_guard.rate_limit_status() FROM PUBLIC;
REVOKE ALL ON FUNCTION tenant_guard.rate_limit_reset() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.rate_limit_usage(text, text) TO tenant_guard_admin;
GRANT EXECUTE ON FUNCTION tenant_guard.rate_limit_status() TO tenant_guard_admin;
GRANT EXECUTE ON FUNCTION tenant_guard.rate_limit_reset() TO tenant_guard_admin;

-- ==== monitoring ====
--
-- Failed tenant creations are log rows with action 'rejected': suspicious
-- data refused in enforce mode, and rate-limit refusals (reason starting
-- with 'rate limit: ').  The functions are SECURITY DEFINER so that a
-- monitoring role can be given the counts without the log rows.

-- per-IP counts over a window
CREATE INDEX test_data_prevention_logs_rejected_ip_idx
  ON tenant_guard.test_data_prevention_logs (ip_address, created_at)
  WHERE action = 'rejected';

CREATE FUNCTION tenant_guard.failed_attempts(since interval DEFAULT '1 hour')
RETURNS bigint
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF since IS NULL OR since <= interval '0' THEN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
      MESSAGE = pg_catalog.format('since must be a positive interval, not %s',
                                  coalesce(since::text, 'NULL'));
  END IF;
  RETURN (SELECT pg_catalog.count(*)
            FROM tenant_guard.test_data_prevention_logs l
           WHERE l.action = 'rejected'
             AND l.created_at > pg_catalog.now() - since);
END
$$;

COMMENT ON FUNCTION tenant_guard.failed_attempts(interval) IS
  'Failed tenant creations (log rows with action rejected, rate-limit refusals included) in the last since, default 1 hour; alert when > 10';

CREATE FUNCTION tenant_guard.failed_attempts(since interval, ip_address inet)
RETURNS bigint
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF since IS NULL OR since <= interval '0' THEN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
      MESSAGE = pg_catalog.format('since must be a positive interval, not %s',
                                  coalesce(since::text, 'NULL'));
  END IF;
  IF ip_address IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
      MESSAGE = 'ip_address must not be null',
      HINT = 'Use tenant_guard.failed_attempts_by_ip() for attempts without a known address.';
  END IF;
  RETURN (SELECT pg_catalog.count(*)
            FROM tenant_guard.test_data_prevention_logs l
           WHERE l.action = 'rejected'
             AND l.ip_address OPERATOR(pg_catalog.=) failed_attempts.ip_address
             AND l.created_at > pg_catalog.now() - since);
END
$$;

COMMENT ON FUNCTION tenant_guard.failed_attempts(interval, inet) IS
  'Failed tenant creations from one client address in the last since';

CREATE FUNCTION tenant_guard.failed_attempts_by_ip(since interval DEFAULT '1 hour')
RETURNS TABLE (ip_address inet, attempts bigint, rate_limited bigint,
               first_attempt timestamptz, last_attempt timestamptz)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF since IS NULL OR since <= interval '0' THEN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
      MESSAGE = pg_catalog.format('since must be a positive interval, not %s',
                                  coalesce(since::text, 'NULL'));
  END IF;
  RETURN QUERY
    SELECT l.ip_address,
           pg_catalog.count(*),
           pg_catalog.count(*) FILTER (WHERE l.reason LIKE 'rate limit: %'),
           pg_catalog.min(l.created_at),
           pg_catalog.max(l.created_at)
      FROM tenant_guard.test_data_prevention_logs l
     WHERE l.action = 'rejected'
       AND l.created_at > pg_catalog.now() - since
     GROUP BY l.ip_address
     ORDER BY 2 DESC, 1 NULLS LAST;
END
$$;

COMMENT ON FUNCTION tenant_guard.failed_attempts_by_ip(interval) IS
  'Failed tenant creations per client address in the last since (NULL address: unknown), most first; rate_limited counts the rate-limit refusals among them';

CREATE FUNCTION tenant_guard.failed_attempts_hourly(since interval DEFAULT '24 hours')
RETURNS TABLE (hour timestamptz, attempts bigint, rate_limited bigint,
               addresses bigint)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF since IS NULL OR since <= interval '0' THEN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
      MESSAGE = pg_catalog.format('since must be a positive interval, not %s',
                                  coalesce(since::text, 'NULL'));
  END IF;
  RETURN QUERY
    SELECT pg_catalog.date_trunc('hour', l.created_at),
           pg_catalog.count(*),
           pg_catalog.count(*) FILTER (WHERE l.reason LIKE 'rate limit: %'),
           pg_catalog.count(DISTINCT l.ip_address)
      FROM tenant_guard.test_data_prevention_logs l
     WHERE l.action = 'rejected'
       AND l.created_at > pg_catalog.now() - since
     GROUP BY 1
     ORDER BY 1;
END
$$;

COMMENT ON FUNCTION tenant_guard.failed_attempts_hourly(interval) IS
  'Failed tenant creations per clock hour over the last since (default 24 hours), for dashboards: attempts, rate-limit refusals among them, distinct known addresses';

-- They read the log: admins (and whoever they grant them to) only.
REVOKE ALL ON FUNCTION tenant_guard.failed_attempts(interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenant_guard.failed_attempts(interval, inet) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenant_guard.failed_attempts_by_ip(interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenant_guard.failed_attempts_hourly(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.failed_attempts(interval) TO tenant_guard_admin;
GRANT EXECUTE ON FUNCTION tenant_guard.failed_attempts(interval, inet) TO tenant_guard_admin;
GRANT EXECUTE ON FUNCTION tenant_guard.failed_attempts_by_ip(interval) TO tenant_guard_admin;
GRANT EXECUTE ON FUNCTION tenant_guard.failed_attempts_hourly(interval) TO tenant_guard_admin;
