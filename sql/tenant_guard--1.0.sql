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

-- ==== durable rejection log ====
--
-- In enforce mode the rejecting transaction rolls back; its log row is
-- written by a background worker from a shared-memory queue (src/log_queue.c,
-- src/log_worker.c).  That needs shared_preload_libraries = 'tenant_guard'.
--
CREATE FUNCTION tenant_guard.log_queue_status(
    OUT preloaded boolean,
    OUT durable boolean,
    OUT status text,
    OUT launcher_pid integer,
    OUT writer_pids integer[],
    OUT queue_bytes bigint,
    OUT queued_now bigint,
    OUT queued_bytes bigint,
    OUT enqueued_total bigint,
    OUT written_total bigint,
    OUT dropped_total bigint,
    OUT dropped_queue_full bigint,
    OUT dropped_too_many_databases bigint,
    OUT dropped_no_extension bigint,
    OUT dropped_no_database bigint,
    OUT dropped_insert_failed bigint,
    OUT stats_since timestamptz)
RETURNS record
AS 'MODULE_PATHNAME', 'log_queue_status'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION tenant_guard.log_queue_status() IS
  'Is the durable rejection log working (preloaded, durable, status), its workers, and how many rejections were queued, written and dropped (by cause) since stats_since';

-- Counters and process ids only, cluster-wide, no end-user data (as in
-- pg_stat_database and pg_stat_activity's pids): everyone may read them,
-- so that monitoring needs no special role.
GRANT EXECUTE ON FUNCTION tenant_guard.log_queue_status() TO PUBLIC;

CREATE FUNCTION tenant_guard.log_queue_wait(timeout_ms integer DEFAULT 10000)
RETURNS boolean
AS 'MODULE_PATHNAME', 'log_queue_wait'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION tenant_guard.log_queue_wait(integer) IS
  'Wait until as many rejections as were queued at the call have been written or dropped; false after timeout_ms (or without the preloaded library)';

-- It only waits and reveals nothing: everyone may call it.
GRANT EXECUTE ON FUNCTION tenant_guard.log_queue_wait(integer) TO PUBLIC;

-- Say so, loudly, when rejections cannot be logged durably.
DO $preload$
BEGIN
  IF NOT (SELECT s.preloaded FROM tenant_guard.log_queue_status() s) THEN
    RAISE WARNING USING ERRCODE = '01000',
      MESSAGE = 'tenant_guard is not in shared_preload_libraries: rejected rows will reach only the server log',
      DETAIL = 'In enforce mode the rejecting transaction rolls back; only the preloaded library''s background worker can write its row into tenant_guard.test_data_prevention_logs.',
      HINT = 'Add tenant_guard to shared_preload_libraries in postgresql.conf and restart the server. tenant_guard.log_queue_status() shows the state.';
  END IF;
END
$preload$;
