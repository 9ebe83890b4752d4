/* tenant_guard--1.1.sql: a fresh install of version 1.1 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION tenant_guard" to load this file. \quit

-- ==== the schema ====
--
-- First, before anything is created in it: CREATE EXTENSION installs into
-- an existing schema tenant_guard as it finds it.  Its owner (or a role
-- that may create objects in it) could have planted objects the script
-- then uses, and could later DROP SCHEMA tenant_guard CASCADE: the guard,
-- the log and the protected tenants gone.  Only an empty schema of a
-- superuser's (one that DROP EXTENSION left behind, or one pg_dump's
-- restore creates) is used; anything else is refused.
DO $schema$
DECLARE
  nsp pg_catalog.oid := pg_catalog.to_regnamespace('tenant_guard');
  owner pg_catalog.oid;
  acl pg_catalog.aclitem[];
  grantees text;
  objects text;
BEGIN
  SELECT n.nspowner, n.nspacl INTO owner, acl FROM pg_catalog.pg_namespace n WHERE n.oid OPERATOR(pg_catalog.=) nsp;
  IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.oid OPERATOR(pg_catalog.=) owner) THEN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
      MESSAGE = pg_catalog.format('schema tenant_guard is owned by role %s, which is not a superuser', owner::pg_catalog.regrole),
      DETAIL = 'The schema existed before CREATE EXTENSION: its owner could have planted objects in it, and could drop it with the extension''s tables, triggers and log.',
      HINT = 'Check what the schema holds (\dn+ tenant_guard), drop it (DROP SCHEMA tenant_guard) and run CREATE EXTENSION tenant_guard again: it creates the schema itself.';
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
      HINT = 'Check what the schema holds (\dn+ tenant_guard), drop it (DROP SCHEMA tenant_guard) and run CREATE EXTENSION tenant_guard again: it creates the schema itself.';
  END IF;
  SELECT pg_catalog.string_agg(o, ', ' ORDER BY o) INTO objects
    FROM (SELECT pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) AS o
            FROM pg_catalog.pg_depend d
           WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass
             AND d.refobjid OPERATOR(pg_catalog.=) nsp
             AND NOT (d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
                      AND d.objid OPERATOR(pg_catalog.=) (SELECT e.oid FROM pg_catalog.pg_extension e
                                                          WHERE e.extname OPERATOR(pg_catalog.=) 'tenant_guard'))) x;
  IF objects IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
      MESSAGE = 'schema tenant_guard is not empty',
      DETAIL = pg_catalog.format('It holds: %s.', pg_catalog.left(objects, 1000)),
      HINT = 'tenant_guard installs only into a schema of its own: move or drop these objects (or the schema), then run CREATE EXTENSION tenant_guard again.';
  END IF;
END
$schema$;

COMMENT ON SCHEMA tenant_guard IS
  'tenant_guard: rejects, records, rate-limits and purges test-data tenants';

-- ==== roles ====
--
-- Roles.  Roles are cluster-wide, so a second database that installs the
-- extension reuses them, and DROP EXTENSION leaves them in place.
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

-- ==== the log ====
--
-- test_data_prevention_logs: rows kept in log mode, rejections (written by
-- the durable log's worker, below) and the application's own reports.
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

-- per-IP counts over a window
CREATE INDEX test_data_prevention_logs_rejected_ip_idx
  ON tenant_guard.test_data_prevention_logs (ip_address, created_at)
  WHERE action = 'rejected';

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
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION tenant_guard.log_suspicious_request(text, jsonb, text, inet) IS
  'Record a suspicious request the application caught itself; returns the log row id. NULL endpoint / ip_address fall back to tenant_guard.endpoint / client_addr';

-- Writes the log: only applications and admins that were granted it.
REVOKE ALL ON FUNCTION tenant_guard.log_suspicious_request(text, jsonb, text, inet) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.log_suspicious_request(text, jsonb, text, inet)
  TO tenant_guard_app, tenant_guard_admin;

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
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION tenant_guard.log_queue_status() IS
  'Is the durable rejection log working (preloaded, durable, status), its workers, and how many rejections were queued, written and dropped (by cause) since stats_since';

-- Counters and process ids only, cluster-wide, no end-user data (as in
-- pg_stat_database and pg_stat_activity's pids): everyone may read them,
-- so that monitoring needs no special role.
GRANT EXECUTE ON FUNCTION tenant_guard.log_queue_status() TO PUBLIC;

CREATE FUNCTION tenant_guard.log_queue_wait(timeout_ms integer DEFAULT 10000)
RETURNS boolean
AS 'MODULE_PATHNAME', 'log_queue_wait'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

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

-- ==== the checker and its rules ====
--
-- check_tenant() decides.  The built-in rules live in C (see
-- tenant_guard.builtin_rules()); the tables below hold only what operators
-- add, so pg_dump keeps them whole and a restore cannot duplicate rows the
-- install script made.  Each backend compiles the rules once and
-- recompiles after a change: the statement triggers below send the
-- invalidation.

CREATE FUNCTION tenant_guard.check_tenant(
    name text, subdomain text, email text,
    OUT is_suspicious boolean, OUT reason text)
RETURNS record
AS 'MODULE_PATHNAME', 'check_tenant'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION tenant_guard.check_tenant(text, text, text) IS
  'Is (name, subdomain, email) test data? reason names every rule that fired; NULL arguments are no evidence';

CREATE FUNCTION tenant_guard.normal_form(value text, kind text DEFAULT 'text')
RETURNS text
AS 'MODULE_PATHNAME', 'normal_form'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION tenant_guard.normal_form(text, text) IS
  'How the checker reads a value: kind ''text'' (names, subdomains, keywords: NFKC, case folding, look-alikes, words joined by spaces) or ''domain''; NULL when unusable as a rule';

CREATE FUNCTION tenant_guard.builtin_rules(
    OUT kind text, OUT value text, OUT strength text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'builtin_rules'
LANGUAGE C STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION tenant_guard.builtin_rules() IS
  'The rules compiled into the checker: keywords and their strength, phrases, compound prefixes, stop words, e-mail domains (disposable, test, reserved)';

CREATE TABLE tenant_guard.keywords (
    keyword    text PRIMARY KEY
               CHECK (tenant_guard.normal_form(keyword) IS NOT NULL
                      AND pg_catalog.array_length(pg_catalog.string_to_array(tenant_guard.normal_form(keyword), ' '), 1) <= 3),
    strength   text NOT NULL
               CHECK (strength IN ('strong', 'weak', 'generic', 'placeholder', 'ignore')),
    note       text,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by name NOT NULL DEFAULT CURRENT_USER
);
CREATE UNIQUE INDEX keywords_normal_form_idx
  ON tenant_guard.keywords (tenant_guard.normal_form(keyword));

COMMENT ON TABLE tenant_guard.keywords IS
  'tenant_guard: keywords operators add to the built-in ones (or switch off with strength ''ignore''); matched as whole words or phrases of up to 3 words';
COMMENT ON COLUMN tenant_guard.keywords.keyword IS
  'a word or a phrase of up to 3 words; compared in normal form (see normal_form())';
COMMENT ON COLUMN tenant_guard.keywords.strength IS
  'strong: test data alone; weak: needs a second signal; generic: made-up names are built of it; placeholder: a name nobody chooses; ignore: switch a built-in keyword off';
COMMENT ON COLUMN tenant_guard.keywords.note IS 'why the keyword is here';
COMMENT ON COLUMN tenant_guard.keywords.created_at IS 'when it was added';
COMMENT ON COLUMN tenant_guard.keywords.created_by IS 'who added it';

CREATE TABLE tenant_guard.email_domains (
    domain     text PRIMARY KEY
               CHECK (COALESCE(domain = tenant_guard.normal_form(domain, 'domain'), false)),
    kind       text NOT NULL DEFAULT 'disposable'
               CHECK (kind IN ('disposable', 'test')),
    source     text,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);

COMMENT ON TABLE tenant_guard.email_domains IS
  'tenant_guard: e-mail domains operators add to the built-in lists; a domain also matches its subdomains';
COMMENT ON COLUMN tenant_guard.email_domains.domain IS
  'a domain in normal form (lower case, no "@", no trailing dot): use import_email_domains() to load lists';
COMMENT ON COLUMN tenant_guard.email_domains.kind IS
  'disposable (throw-away mailbox provider) or test (a domain used for test data)';
COMMENT ON COLUMN tenant_guard.email_domains.source IS 'where the entry came from, e.g. the list and its version';
COMMENT ON COLUMN tenant_guard.email_domains.created_at IS 'when it was added';

CREATE TABLE tenant_guard.allowlist (
    kind       text NOT NULL CHECK (kind IN ('name', 'subdomain', 'domain')),
    value      text NOT NULL
               CHECK (tenant_guard.normal_form(value, CASE kind WHEN 'domain' THEN 'domain' ELSE 'text' END) IS NOT NULL),
    note       text,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by name NOT NULL DEFAULT CURRENT_USER,
    PRIMARY KEY (kind, value)
);

COMMENT ON TABLE tenant_guard.allowlist IS
  'tenant_guard: exact names and subdomains, and e-mail domains (with their subdomains), that always pass the checker';
COMMENT ON COLUMN tenant_guard.allowlist.kind IS
  'name or subdomain (the whole field, compared in normal form) or domain (the e-mail address passes whole)';
COMMENT ON COLUMN tenant_guard.allowlist.value IS 'the exempt name, subdomain or domain';
COMMENT ON COLUMN tenant_guard.allowlist.note IS 'why it is exempt, e.g. the customer ticket';
COMMENT ON COLUMN tenant_guard.allowlist.created_at IS 'when it was added';
COMMENT ON COLUMN tenant_guard.allowlist.created_by IS 'who added it';

-- Operators' rules are configuration: pg_dump keeps them.  Built-in rules
-- are not rows, so a restore adds nothing twice.
SELECT pg_catalog.pg_extension_config_dump('tenant_guard.keywords', '');
SELECT pg_catalog.pg_extension_config_dump('tenant_guard.email_domains', '');
SELECT pg_catalog.pg_extension_config_dump('tenant_guard.allowlist', '');

-- Rules decide who may sign up: only admins edit (or read) them.  The
-- checker reads them from C, whoever inserts the tenant.
REVOKE ALL ON tenant_guard.keywords, tenant_guard.email_domains, tenant_guard.allowlist FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE
  ON tenant_guard.keywords, tenant_guard.email_domains, tenant_guard.allowlist
  TO tenant_guard_admin;

CREATE FUNCTION tenant_guard.rules_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'rules_changed'
LANGUAGE C
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION tenant_guard.rules_changed() IS
  'Statement trigger on the rule tables: every backend recompiles its rules before its next check';

REVOKE ALL ON FUNCTION tenant_guard.rules_changed() FROM PUBLIC;

CREATE TRIGGER rules_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenant_guard.keywords
  FOR EACH STATEMENT EXECUTE FUNCTION tenant_guard.rules_changed();
CREATE TRIGGER rules_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenant_guard.email_domains
  FOR EACH STATEMENT EXECUTE FUNCTION tenant_guard.rules_changed();
CREATE TRIGGER rules_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenant_guard.allowlist
  FOR EACH STATEMENT EXECUTE FUNCTION tenant_guard.rules_changed();

CREATE FUNCTION tenant_guard.import_email_domains(
    domains text[], source text DEFAULT NULL, kind text DEFAULT 'disposable',
    replace boolean DEFAULT false)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  nfs text[];
  added integer;
  removed integer;
  unusable integer;
BEGIN
  IF kind IS NULL OR kind NOT IN ('disposable', 'test') THEN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
      MESSAGE = format('invalid domain kind "%s"', kind),
      HINT = 'Use ''disposable'' or ''test''.';
  END IF;
  IF replace IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
      MESSAGE = 'replace must be true or false';
  END IF;
  IF replace AND source IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
      MESSAGE = 'replace needs a source',
      HINT = 'Name the list being replaced: import_email_domains(domains, ''its source'', replace => true).';
  END IF;
  -- a missing list must not empty the one it would replace
  IF replace AND domains IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
      MESSAGE = 'the list of domains is NULL',
      HINT = 'To empty a source, pass an empty array or DELETE its rows.';
  END IF;
  -- blank lines and "#" comments (plain-text lists) are skipped
  WITH raw AS (
    SELECT btrim(d, E' \t\r\n') AS d FROM unnest(domains) AS d
  ), candidates AS (
    SELECT tenant_guard.normal_form(d, 'domain') AS nf
      FROM raw WHERE d IS NOT NULL AND d OPERATOR(pg_catalog.<>) '' AND d NOT LIKE '#%'
  )
  SELECT array_agg(DISTINCT nf) FILTER (WHERE nf IS NOT NULL),
         count(*) FILTER (WHERE nf IS NULL)
    INTO nfs, unusable
    FROM candidates;
  IF unusable > 0 THEN
    RAISE NOTICE '% entries skipped: not domains', unusable;
  END IF;
  -- a new version of a list replaces the old one: its rows that are gone
  -- from the list go (rows of other sources stay), in this one statement's
  -- transaction
  IF replace THEN
    DELETE FROM tenant_guard.email_domains e
     WHERE e.source OPERATOR(pg_catalog.=) import_email_domains.source
       AND NOT EXISTS (SELECT FROM unnest(nfs) AS n(d)
                        WHERE n.d OPERATOR(pg_catalog.=) e.domain);
    GET DIAGNOSTICS removed = ROW_COUNT;
    IF removed > 0 THEN
      RAISE NOTICE '% domains of "%" removed: no longer on the list', removed, source;
    END IF;
  END IF;
  INSERT INTO tenant_guard.email_domains (domain, kind, source)
  SELECT n.d, import_email_domains.kind, import_email_domains.source
    FROM unnest(nfs) AS n(d)
  ON CONFLICT (domain) DO NOTHING;
  GET DIAGNOSTICS added = ROW_COUNT;
  RETURN added;
END
$$;

COMMENT ON FUNCTION tenant_guard.import_email_domains(text[], text, text, boolean) IS
  'Load a maintained list of e-mail domains (e.g. the disposable-email-domains lists) into tenant_guard.email_domains; returns how many were new. Blank lines and # comments are skipped. With replace => true, the rows of that source that are no longer on the list are deleted in the same transaction';

-- Changes the rules: admins only.
REVOKE ALL ON FUNCTION tenant_guard.import_email_domains(text[], text, text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.import_email_domains(text[], text, text, boolean) TO tenant_guard_admin;

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
  'The key an e-mail address is counted under by the per-email rate limit: trimmed, case-folded, +tag cut, gmail dots removed, look-alike spellings folded (invisible characters dropped, NFKC, letters that look Latin read as Latin, the domain as IDNA maps it); NULL for an empty address';

CREATE FUNCTION tenant_guard.rate_limit_usage(
    kind text, value text, OUT created integer, OUT pending integer)
RETURNS record
AS 'MODULE_PATHNAME', 'rate_limit_usage'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION tenant_guard.rate_limit_usage(text, text) IS
  'Tenants counted now for kind ''ip'' or ''email'' and a value: created (committed in the last hour) and pending (in running transactions)';

CREATE FUNCTION tenant_guard.rate_limit_status(
    OUT enforced boolean, OUT capacity integer, OUT in_use integer,
    OUT keys integer, OUT refused bigint, OUT waited bigint,
    OUT not_counted bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'rate_limit_status'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION tenant_guard.rate_limit_status() IS
  'Rate-limit memory, cluster-wide since startup: enforced (false without shared_preload_libraries), capacity and in_use (tenant creations), keys, refused (TG002 errors), waited (waits for other transactions), not_counted (creations not counted because memory was full)';

CREATE FUNCTION tenant_guard.rate_limit_reset()
RETURNS bigint
AS 'MODULE_PATHNAME', 'rate_limit_reset'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

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

-- ==== attaching the guard ====
--
-- attach() installs the guard's row triggers and the protection triggers
-- (attach_protection()) and registers each guarded table in
-- guarded_tables, with the column that identifies a tenant; protect() and
-- purge_test_tenants() read it.
--
CREATE TABLE tenant_guard.guarded_tables (
    tbl              regclass PRIMARY KEY,
    id_column        name,
    name_column      name,
    subdomain_column name,
    email_column     name,
    attached_at      timestamptz NOT NULL DEFAULT pg_catalog.now()
);

COMMENT ON TABLE tenant_guard.guarded_tables IS
  'tenant_guard: tables attach() guards; id_column NULL means the table has no usable key (no protection, no purge)';
COMMENT ON COLUMN tenant_guard.guarded_tables.id_column IS
  'the column identifying a tenant: protection triggers and the purge key on it';

-- Configuration: pg_dump keeps it.  Admins read it; attach()/detach()
-- write it as its owner, after checking that the caller owns the table
-- (protect() reads a guarded table as its owner: only the owner may
-- register it).
SELECT pg_catalog.pg_extension_config_dump('tenant_guard.guarded_tables', '');
REVOKE ALL ON tenant_guard.guarded_tables FROM PUBLIC;
GRANT SELECT ON tenant_guard.guarded_tables TO tenant_guard_admin;

CREATE FUNCTION tenant_guard.guard_trigger()
RETURNS trigger
AS 'MODULE_PATHNAME', 'guard_trigger'
LANGUAGE C;

COMMENT ON FUNCTION tenant_guard.guard_trigger() IS
  'Row trigger installed by tenant_guard.attach(); arguments: name, subdomain and email column names ('''' = not guarded)';

-- Only attach() installs it: on a table of its own, any role could
-- otherwise write "rejected" rows with a client_addr of its choosing and
-- use up other users' rate limits.  (Firing a trigger checks no privilege.)
REVOKE ALL ON FUNCTION tenant_guard.guard_trigger() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.guard_trigger() TO tenant_guard_admin;

CREATE FUNCTION tenant_guard.guard_created_trigger()
RETURNS trigger
AS 'MODULE_PATHNAME', 'guard_created_trigger'
LANGUAGE C;

COMMENT ON FUNCTION tenant_guard.guard_created_trigger() IS
  'AFTER INSERT row trigger installed by tenant_guard.attach() as tenant_guard_created: for the rows of INSERT ... ON CONFLICT that were really inserted, logs the suspicious ones (log mode) and counts them against the rate limits; arguments as guard_trigger';

-- Only attach() installs it, for the reasons given for guard_trigger.
REVOKE ALL ON FUNCTION tenant_guard.guard_created_trigger() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.guard_created_trigger() TO tenant_guard_admin;

CREATE FUNCTION tenant_guard.creation_deferred()
RETURNS boolean
AS 'MODULE_PATHNAME', 'creation_deferred'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION tenant_guard.creation_deferred() IS
  'WHEN clause of the tenant_guard_created trigger: true (once) for a row of INSERT ... ON CONFLICT whose log row (log mode) and rate-limit count the guard trigger left to that trigger';

-- Stays executable by PUBLIC: a trigger's WHEN clause runs with the
-- privileges of the role that inserts.  It only reads and clears a flag
-- of the calling backend.

-- The registries' writers (registry.c): called with the caller's rights,
-- they check them on the table and write as the registry's owner.
CREATE FUNCTION tenant_guard.register_guarded_table(
    tbl regclass, id_column name, name_column name, subdomain_column name, email_column name)
RETURNS void
AS 'MODULE_PATHNAME', 'register_guarded_table'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION tenant_guard.register_guarded_table(regclass, name, name, name, name) IS
  'Internal to attach(): add a table to guarded_tables; the caller must own it';

CREATE FUNCTION tenant_guard.unregister_guarded_table(tbl regclass)
RETURNS boolean
AS 'MODULE_PATHNAME', 'unregister_guarded_table'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION tenant_guard.unregister_guarded_table(regclass) IS
  'Internal to detach() and attach(): remove a table from guarded_tables; the caller must own it; true if it was there';

REVOKE ALL ON FUNCTION tenant_guard.register_guarded_table(regclass, name, name, name, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenant_guard.unregister_guarded_table(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.register_guarded_table(regclass, name, name, name, name) TO tenant_guard_admin;
GRANT EXECUTE ON FUNCTION tenant_guard.unregister_guarded_table(regclass) TO tenant_guard_admin;

-- attach()'s second half: runs with attach's caller's rights (creating a
-- trigger needs ownership of the table).
CREATE FUNCTION tenant_guard.attach_protection(
    tbl regclass, id_column name, name_column name, subdomain_column name, email_column name)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  keycol name := id_column;
  member regclass;
BEGIN
  PERFORM tenant_guard.detach_protection(tbl);
  IF keycol IS NULL THEN
    -- the single-column primary key, else a column called "id"
    SELECT a.attname INTO keycol
      FROM pg_catalog.pg_constraint c
      JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
     WHERE c.conrelid = tbl AND c.contype = 'p' AND pg_catalog.cardinality(c.conkey) = 1;
    IF keycol IS NULL AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                                WHERE a.attrelid = tbl AND a.attname = 'id'
                                  AND a.attnum > 0 AND NOT a.attisdropped) THEN
      keycol := 'id';
    END IF;
  ELSIF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                     WHERE a.attrelid = tbl AND a.attname = keycol
                       AND a.attnum > 0 AND NOT a.attisdropped) THEN
    RAISE EXCEPTION USING ERRCODE = 'undefined_column',
      MESSAGE = pg_catalog.format('column "%s" of table "%s" does not exist', keycol, tbl),
      HINT = 'id_column names the column that identifies a tenant, e.g. its primary key.';
  END IF;

  -- without a key the table is guarded against test data, but its tenants
  -- cannot be protected or purged (guarded_tables.id_column stays NULL;
  -- protect() and the purge say so)
  IF keycol IS NOT NULL THEN
    -- row triggers on a partitioned table are cloned to its partitions;
    -- TRUNCATE triggers are not, so each member of the tree gets one
    EXECUTE pg_catalog.format(
      'CREATE TRIGGER tenant_guard_protect BEFORE DELETE OR UPDATE OF %I ON %s '
      'FOR EACH ROW EXECUTE FUNCTION tenant_guard.protect_trigger(%L)', keycol, tbl, keycol);
    FOR member IN SELECT tbl UNION SELECT t.relid FROM pg_catalog.pg_partition_tree(tbl) t LOOP
      EXECUTE pg_catalog.format(
        'CREATE TRIGGER tenant_guard_protect_truncate BEFORE TRUNCATE ON %s '
        'FOR EACH STATEMENT EXECUTE FUNCTION tenant_guard.protect_trigger(%L)', member, keycol);
    END LOOP;
  END IF;

  PERFORM tenant_guard.register_guarded_table(tbl, keycol, name_column, subdomain_column, email_column);
  RETURN keycol IS NOT NULL;
END
$$;

COMMENT ON FUNCTION tenant_guard.attach_protection(regclass, name, name, name, name) IS
  'Called by attach(): install the protection triggers on a guarded table and register it in guarded_tables; false when the table has no usable key';

CREATE FUNCTION tenant_guard.detach_protection(tbl regclass)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  t record;
  found_any boolean := false;
BEGIN
  FOR t IN SELECT tr.tgrelid::pg_catalog.regclass AS rel, tr.tgname
             FROM pg_catalog.pg_trigger tr
            WHERE tr.tgrelid IN (SELECT tbl UNION SELECT p.relid FROM pg_catalog.pg_partition_tree(tbl) p)
              AND tr.tgname IN ('tenant_guard_protect', 'tenant_guard_protect_truncate')
              AND tr.tgfoid = 'tenant_guard.protect_trigger()'::pg_catalog.regprocedure
              AND tr.tgparentid = 0 AND NOT tr.tgisinternal LOOP
    EXECUTE pg_catalog.format('DROP TRIGGER %I ON %s', t.tgname, t.rel);
    found_any := true;
  END LOOP;
  RETURN tenant_guard.unregister_guarded_table(tbl) OR found_any;
END
$$;

COMMENT ON FUNCTION tenant_guard.detach_protection(regclass) IS
  'Called by detach() and attach(): drop the protection triggers of a table and forget it in guarded_tables';

REVOKE ALL ON FUNCTION tenant_guard.attach_protection(regclass, name, name, name, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenant_guard.detach_protection(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.attach_protection(regclass, name, name, name, name) TO tenant_guard_admin;
GRANT EXECUTE ON FUNCTION tenant_guard.detach_protection(regclass) TO tenant_guard_admin;

CREATE FUNCTION tenant_guard.attach(
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
  IF kind IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'undefined_table',
      MESSAGE = pg_catalog.format('relation with OID %s does not exist', tbl::pg_catalog.oid);
  END IF;
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

CREATE FUNCTION tenant_guard.detach(tbl regclass)
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

COMMENT ON FUNCTION tenant_guard.detach(regclass) IS
  'Remove the tenant_guard triggers (guard and protection) from a table and forget it in guarded_tables; false (with a NOTICE) when it was not attached';

-- Installing or removing the guard is an administrator's decision.
REVOKE ALL ON FUNCTION tenant_guard.attach(regclass, name, name, name, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenant_guard.detach(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.attach(regclass, name, name, name, name) TO tenant_guard_admin;
GRANT EXECUTE ON FUNCTION tenant_guard.detach(regclass) TO tenant_guard_admin;

-- ==== protected tenants ====
--
-- Tenant ids are text in the API and compared in the key's text output
-- form, so '31C06FC4-...' and '31c06fc4-...' name the same uuid tenant.
--
CREATE TABLE tenant_guard.protected_tenants (
    tenant_id    text PRIMARY KEY CHECK (tenant_id <> ''),
    note         text,
    protected_by name NOT NULL,
    protected_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);

COMMENT ON TABLE tenant_guard.protected_tenants IS
  'tenant_guard: tenants that no DELETE, key UPDATE, TRUNCATE or purge may remove; write it through protect() / unprotect()';
COMMENT ON COLUMN tenant_guard.protected_tenants.tenant_id IS
  'the key in its text output form (canonical: uuids lower case)';
COMMENT ON COLUMN tenant_guard.protected_tenants.protected_by IS
  'current_user of the protect() call';

-- Configuration: pg_dump keeps it.  Admins read it; protect()/unprotect()
-- write it as its owner (so protected_by cannot be forged and ids are
-- always canonical).
SELECT pg_catalog.pg_extension_config_dump('tenant_guard.protected_tenants', '');
REVOKE ALL ON tenant_guard.protected_tenants FROM PUBLIC;
GRANT SELECT ON tenant_guard.protected_tenants TO tenant_guard_admin;

CREATE FUNCTION tenant_guard.protect_trigger()
RETURNS trigger
AS 'MODULE_PATHNAME', 'protect_trigger'
LANGUAGE C;

COMMENT ON FUNCTION tenant_guard.protect_trigger() IS
  'Trigger installed by attach(): BEFORE DELETE OR UPDATE OF the key (row) refuses to remove a protected tenant, BEFORE TRUNCATE (statement) refuses while the table holds one; argument: the key column';

-- Only attach() installs it (on a table of its own, a role could probe
-- which tenant ids are protected).
REVOKE ALL ON FUNCTION tenant_guard.protect_trigger() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.protect_trigger() TO tenant_guard_admin;

CREATE FUNCTION tenant_guard.protect(tenant_id text, note text DEFAULT NULL)
RETURNS boolean
AS 'MODULE_PATHNAME', 'protect_tenant'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
SET DateStyle = 'ISO, MDY'
SET IntervalStyle = 'postgres'
SET TimeZone = 'UTC'
SET bytea_output = 'hex'
SET extra_float_digits = 1
SET lc_monetary = 'C';

COMMENT ON FUNCTION tenant_guard.protect(text, text) IS
  'Protect a tenant (its key as text) from DELETE, key UPDATE, TRUNCATE and the purge; true if newly protected, false if it already was (a non-NULL note replaces the old one)';

CREATE FUNCTION tenant_guard.unprotect(tenant_id text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'unprotect_tenant'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
SET DateStyle = 'ISO, MDY'
SET IntervalStyle = 'postgres'
SET TimeZone = 'UTC'
SET bytea_output = 'hex'
SET extra_float_digits = 1
SET lc_monetary = 'C';

COMMENT ON FUNCTION tenant_guard.unprotect(text) IS
  'Lift the protection of a tenant; false (with a NOTICE) when it was not protected';

-- Protection is an administrator's decision.
REVOKE ALL ON FUNCTION tenant_guard.protect(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenant_guard.unprotect(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.protect(text, text) TO tenant_guard_admin;
GRANT EXECUTE ON FUNCTION tenant_guard.unprotect(text) TO tenant_guard_admin;

-- TRUNCATE triggers are not cloned to new partitions as row triggers are:
-- give each partition created or attached under a guarded table its own.
-- SECURITY DEFINER: whoever creates the partition need not read
-- guarded_tables; it creates only our fixed trigger.
-- Partitions created or attached under a guarded table get the TRUNCATE
-- trigger too: a TRUNCATE of a partition fires no trigger of its parent.
CREATE FUNCTION tenant_guard.protect_partitions(rels pg_catalog.oid[])
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  part regclass;
  keycol name;
  n integer := 0;
BEGIN
  -- each partition (not a foreign table) in the partition trees of rels
  -- that has a guarded ancestor and lacks the trigger, keyed like its
  -- nearest guarded ancestor
  FOR part, keycol IN
    SELECT DISTINCT ON (m.relid) m.relid, g.id_column
      FROM pg_catalog.unnest(rels) AS r(relid)
      CROSS JOIN LATERAL pg_catalog.pg_partition_tree(r.relid) m
      JOIN pg_catalog.pg_class k ON k.oid = m.relid AND k.relkind IN ('r', 'p') AND k.relispartition
      CROSS JOIN LATERAL pg_catalog.pg_partition_ancestors(m.relid) WITH ORDINALITY AS a(relid, depth)
      JOIN tenant_guard.guarded_tables g ON g.tbl = a.relid AND g.id_column IS NOT NULL
     WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
                        WHERE t.tgrelid = m.relid AND t.tgname = 'tenant_guard_protect_truncate')
     ORDER BY m.relid, a.depth
  LOOP
    EXECUTE pg_catalog.format(
      'CREATE TRIGGER tenant_guard_protect_truncate BEFORE TRUNCATE ON %s '
      'FOR EACH STATEMENT EXECUTE FUNCTION tenant_guard.protect_trigger(%L)', part, keycol);
    n := n + 1;
  END LOOP;
  RETURN n;
END
$$;

COMMENT ON FUNCTION tenant_guard.protect_partitions(pg_catalog.oid[]) IS
  'Give the partitions of guarded tables in the partition trees of rels the protection''s TRUNCATE trigger they lack; returns how many were added (called by the event trigger)';

-- Only for CREATE TABLE ... PARTITION OF (also inside CREATE SCHEMA) and
-- ALTER TABLE ... ATTACH PARTITION, which the C function tells from the
-- statement, and only in the trees of the tables the statement created or
-- altered: a restore creates the dump's own triggers after its other
-- ALTER TABLEs, and other tables' partitions are none of its business.
CREATE FUNCTION tenant_guard.protect_new_partitions()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'protect_new_partitions'
LANGUAGE C
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION tenant_guard.protect_new_partitions() IS
  'Event trigger: give partitions created or attached under a guarded table the protection''s TRUNCATE trigger';

CREATE EVENT TRIGGER tenant_guard_protect_new_partitions ON ddl_command_end
  WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE', 'CREATE SCHEMA')
  EXECUTE FUNCTION tenant_guard.protect_new_partitions();

COMMENT ON EVENT TRIGGER tenant_guard_protect_new_partitions IS
  'tenant_guard: partitions created or attached under a guarded table refuse TRUNCATE while they hold a protected tenant';

REVOKE ALL ON FUNCTION tenant_guard.protect_partitions(pg_catalog.oid[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenant_guard.protect_new_partitions() FROM PUBLIC;

-- ==== tables holding a tenant key without a foreign key ====
--
-- add_tenant_table() registers them; the purge deletes their rows with the
-- tenant.  An event trigger keeps both registries free of dropped tables.
--
CREATE TABLE tenant_guard.tenant_tables (
    tbl         regclass NOT NULL,
    column_name name NOT NULL,
    tenants     regclass NOT NULL,
    added_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tbl, column_name)
);

COMMENT ON TABLE tenant_guard.tenant_tables IS
  'tenant_guard: tables holding a tenant key without a declared foreign key; the purge deletes their rows as if the key were ON DELETE CASCADE';

-- Configuration: pg_dump keeps it.  Admins read it;
-- add_tenant_table()/remove_tenant_table() write it as its owner, after
-- checking the caller's rights on the table.
SELECT pg_catalog.pg_extension_config_dump('tenant_guard.tenant_tables', '');
REVOKE ALL ON tenant_guard.tenant_tables FROM PUBLIC;
GRANT SELECT ON tenant_guard.tenant_tables TO tenant_guard_admin;

CREATE FUNCTION tenant_guard.register_tenant_table(tbl regclass, column_name name, tenants regclass)
RETURNS void
AS 'MODULE_PATHNAME', 'register_tenant_table'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION tenant_guard.register_tenant_table(regclass, name, regclass) IS
  'Internal to add_tenant_table(): add or update a tenant_tables row; the caller needs SELECT and DELETE on the table';

CREATE FUNCTION tenant_guard.unregister_tenant_table(tbl regclass, column_name name)
RETURNS boolean
AS 'MODULE_PATHNAME', 'unregister_tenant_table'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION tenant_guard.unregister_tenant_table(regclass, name) IS
  'Internal to remove_tenant_table(): remove a tenant_tables row; the caller needs SELECT and DELETE on the table; true if it was there';

REVOKE ALL ON FUNCTION tenant_guard.register_tenant_table(regclass, name, regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenant_guard.unregister_tenant_table(regclass, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.register_tenant_table(regclass, name, regclass) TO tenant_guard_admin;
GRANT EXECUTE ON FUNCTION tenant_guard.unregister_tenant_table(regclass, name) TO tenant_guard_admin;

CREATE FUNCTION tenant_guard.add_tenant_table(tbl regclass, column_name name, tenants regclass DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  parent regclass := tenants;
  key name;
  keytype oid;
  coltype oid;
BEGIN
  IF tbl IS NULL OR column_name IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
      MESSAGE = 'table and column must not be null';
  END IF;
  IF parent IS NULL THEN
    IF (SELECT pg_catalog.count(*) FROM tenant_guard.guarded_tables g
         WHERE g.id_column IS NOT NULL
           AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = g.tbl)) <> 1 THEN
      RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
        MESSAGE = 'cannot tell which tenants table the key refers to',
        HINT = 'Attach the guard to your tenants table first, or pass tenants => ... when several are guarded.';
    END IF;
    SELECT g.tbl INTO parent FROM tenant_guard.guarded_tables g
     WHERE g.id_column IS NOT NULL
       AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = g.tbl);
  END IF;
  SELECT g.id_column, a.atttypid INTO key, keytype
    FROM tenant_guard.guarded_tables g
    JOIN pg_catalog.pg_attribute a ON a.attrelid = g.tbl AND a.attname = g.id_column
   WHERE g.tbl = parent AND g.id_column IS NOT NULL;
  IF key IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
      MESSAGE = pg_catalog.format('table "%s" is not a guarded tenants table with a key', parent),
      HINT = 'Run tenant_guard.attach() on it first.';
  END IF;
  IF (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = tbl) NOT IN ('r', 'p') THEN
    RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
      MESSAGE = pg_catalog.format('"%s" is not a table', tbl);
  END IF;
  IF (SELECT c.relpersistence FROM pg_catalog.pg_class c WHERE c.oid = tbl) = 't' THEN
    RAISE EXCEPTION USING ERRCODE = 'wrong_object_type',
      MESSAGE = pg_catalog.format('"%s" is a temporary table', tbl);
  END IF;
  SELECT a.atttypid INTO coltype FROM pg_catalog.pg_attribute a
   WHERE a.attrelid = tbl AND a.attname = column_name AND a.attnum > 0 AND NOT a.attisdropped;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'undefined_column',
      MESSAGE = pg_catalog.format('column "%s" of table "%s" does not exist', column_name, tbl);
  END IF;
  -- the purge joins with "=": the column must compare with the key as is
  BEGIN
    EXECUTE pg_catalog.format('SELECT NULL::%s = NULL::%s',
                              pg_catalog.format_type(coltype, NULL), pg_catalog.format_type(keytype, NULL));
  EXCEPTION WHEN undefined_function THEN
    RAISE EXCEPTION USING ERRCODE = 'datatype_mismatch',
      MESSAGE = pg_catalog.format('column "%s" of table "%s" (%s) cannot be compared with the key "%s" of "%s" (%s)',
                                  column_name, tbl, pg_catalog.format_type(coltype, NULL),
                                  key, parent, pg_catalog.format_type(keytype, NULL)),
      HINT = 'Store the tenant key with the key''s type.';
  END;
  PERFORM tenant_guard.register_tenant_table(tbl, column_name, parent);
END
$$;

COMMENT ON FUNCTION tenant_guard.add_tenant_table(regclass, name, regclass) IS
  'Register a table whose column holds a tenant key without a foreign key: the purge deletes its rows (and what depends on them) with the tenant. tenants defaults to the only guarded table';

CREATE FUNCTION tenant_guard.remove_tenant_table(tbl regclass, column_name name)
RETURNS boolean
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT tenant_guard.unregister_tenant_table(remove_tenant_table.tbl, remove_tenant_table.column_name);
$$;

COMMENT ON FUNCTION tenant_guard.remove_tenant_table(regclass, name) IS
  'Forget a table registered with add_tenant_table(); false when it was not registered';

REVOKE ALL ON FUNCTION tenant_guard.add_tenant_table(regclass, name, regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenant_guard.remove_tenant_table(regclass, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.add_tenant_table(regclass, name, regclass) TO tenant_guard_admin;
GRANT EXECUTE ON FUNCTION tenant_guard.remove_tenant_table(regclass, name) TO tenant_guard_admin;

-- Forget dropped tables in the registries (a regclass holds no dependency).
-- (registry.c: the rows go as the extension's own writes, whoever drops
-- the table)
CREATE FUNCTION tenant_guard.forget_dropped_tables()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'forget_dropped_tables'
LANGUAGE C
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION tenant_guard.forget_dropped_tables() IS
  'Event trigger: remove dropped tables from guarded_tables and tenant_tables';

CREATE EVENT TRIGGER tenant_guard_forget_dropped_tables ON sql_drop
  WHEN TAG IN ('DROP TABLE', 'DROP SCHEMA', 'DROP OWNED', 'DROP TYPE')
  EXECUTE FUNCTION tenant_guard.forget_dropped_tables();

COMMENT ON EVENT TRIGGER tenant_guard_forget_dropped_tables IS
  'tenant_guard: keeps guarded_tables and tenant_tables free of dropped tables';

REVOKE ALL ON FUNCTION tenant_guard.forget_dropped_tables() FROM PUBLIC;

-- ==== the purge ====
--
-- purge_test_tenants() removes test tenants and everything that depends on
-- them; purge_journal records each one and is the outbox of the Redis
-- clean-up.
--
CREATE SEQUENCE tenant_guard.purge_journal_id_seq;

CREATE TABLE tenant_guard.purge_journal (
    id               bigint NOT NULL
                     DEFAULT pg_catalog.nextval('tenant_guard.purge_journal_id_seq'::pg_catalog.regclass)
                     PRIMARY KEY,
    purge_xid        xid8 NOT NULL,
    tenant_table     text NOT NULL,
    tenant_id        text NOT NULL,
    tenant           jsonb NOT NULL,
    reason           text,
    deleted          jsonb NOT NULL,
    updated          jsonb NOT NULL,
    total_deleted    bigint NOT NULL,
    purged_by        name NOT NULL,
    application_name text,
    purged_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    redis_cleaned_at timestamptz,
    redis_keys_deleted bigint
);

ALTER SEQUENCE tenant_guard.purge_journal_id_seq OWNED BY tenant_guard.purge_journal.id;
COMMENT ON SEQUENCE tenant_guard.purge_journal_id_seq IS 'tenant_guard: ids of purge_journal';

CREATE INDEX purge_journal_tenant_id_idx ON tenant_guard.purge_journal (tenant_id);
-- the outbox: purged tenants whose Redis keys are still to be removed
CREATE INDEX purge_journal_redis_pending_idx ON tenant_guard.purge_journal (id)
  WHERE redis_cleaned_at IS NULL;

COMMENT ON TABLE tenant_guard.purge_journal IS
  'tenant_guard: one row per tenant removed by purge_test_tenants(); also the outbox of Redis clean-ups (redis_cleaned_at IS NULL)';
COMMENT ON COLUMN tenant_guard.purge_journal.purge_xid IS 'transaction of the purge: rows of one call share it';
COMMENT ON COLUMN tenant_guard.purge_journal.tenant_table IS 'the guarded table the tenant was removed from';
COMMENT ON COLUMN tenant_guard.purge_journal.tenant_id IS 'the key, in its text output form';
COMMENT ON COLUMN tenant_guard.purge_journal.tenant IS 'the whole tenant row as it was';
COMMENT ON COLUMN tenant_guard.purge_journal.reason IS 'why it was purged: the checker''s reason, or requested by id';
COMMENT ON COLUMN tenant_guard.purge_journal.deleted IS 'rows deleted per table, {"schema.table": n}, the tenant row included';
COMMENT ON COLUMN tenant_guard.purge_journal.updated IS 'rows updated per table by ON DELETE SET NULL / SET DEFAULT';
COMMENT ON COLUMN tenant_guard.purge_journal.total_deleted IS 'sum of deleted';
COMMENT ON COLUMN tenant_guard.purge_journal.purged_by IS 'current_user of the purge';
COMMENT ON COLUMN tenant_guard.purge_journal.application_name IS 'application_name of the purging session';
COMMENT ON COLUMN tenant_guard.purge_journal.redis_cleaned_at IS 'when the tenant''s Redis keys were removed; NULL = still to do';
COMMENT ON COLUMN tenant_guard.purge_journal.redis_keys_deleted IS 'Redis keys of the tenant deleted by the tenant_guard_redis run that marked it cleaned';

-- Evidence: pg_dump keeps it.  Admins read it; the purge writes it as its
-- owner; admins may only mark Redis clean-ups done.
SELECT pg_catalog.pg_extension_config_dump('tenant_guard.purge_journal', '');
SELECT pg_catalog.pg_extension_config_dump('tenant_guard.purge_journal_id_seq', '');
REVOKE ALL ON tenant_guard.purge_journal FROM PUBLIC;
REVOKE ALL ON SEQUENCE tenant_guard.purge_journal_id_seq FROM PUBLIC;
GRANT SELECT ON tenant_guard.purge_journal TO tenant_guard_admin;
GRANT UPDATE (redis_cleaned_at, redis_keys_deleted) ON tenant_guard.purge_journal TO tenant_guard_admin;

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
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
SET DateStyle = 'ISO, MDY'
SET IntervalStyle = 'postgres'
SET TimeZone = 'UTC'
SET bytea_output = 'hex'
SET extra_float_digits = 1
SET lc_monetary = 'C';

COMMENT ON FUNCTION tenant_guard.purge_test_tenants(boolean, text[], boolean, integer, regclass, boolean) IS
  'Remove test tenants and everything that depends on them (foreign keys and add_tenant_table() tables), one row per tenant with rows deleted per table. dry_run (default) reports exactly what a real run would do and rolls it back; ids NULL = the tenants the checker flags, minus protected ones; archive (default) keeps each purged tenant''s rows in purge_archive for restore_purged_tenant()';

-- Counts a purge's leaf rows per tenant inside its DELETE (see purge.c).
-- Left executable by PUBLIC: it changes no data and reads nothing; outside
-- a purge of the same backend it only returns true, and a purge cross-checks
-- its counts against the rows deleted, so no caller can skew them.
CREATE FUNCTION tenant_guard.purge_tally(ord integer, key anyelement)
RETURNS boolean
AS 'MODULE_PATHNAME', 'purge_tally'
LANGUAGE C VOLATILE PARALLEL UNSAFE COST 10;

COMMENT ON FUNCTION tenant_guard.purge_tally(integer, anyelement) IS
  'Internal to purge_test_tenants(): counts a deleted leaf row for its tenant during the purge''s DELETE; always true';

-- A purge's big levels find their rows with these instead of a join (see
-- purge_keyset.c): purge_match(key) looks key up in the keys of the rows
-- the purge's previous level deleted, counting a match for its tenant;
-- purge_match_keep(key, own key) also keeps the row's own key for the
-- next level; purge_ord(key) returns the tenant's ordinal.  Left executable by PUBLIC
-- for the same reasons as purge_tally(): outside a purge's DELETE of the
-- same backend they find nothing, and the purge cross-checks its counts.
CREATE FUNCTION tenant_guard.purge_match(key anyelement)
RETURNS boolean
AS 'MODULE_PATHNAME', 'purge_match'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE COST 1;

COMMENT ON FUNCTION tenant_guard.purge_match(anyelement) IS
  'Internal to purge_test_tenants(): is key among the keys the purge''s previous level deleted (counting it for its tenant)? false outside a purge''s DELETE';

CREATE FUNCTION tenant_guard.purge_match_keep(key "any", keep "any")
RETURNS boolean
AS 'MODULE_PATHNAME', 'purge_match_keep'
LANGUAGE C VOLATILE PARALLEL UNSAFE COST 1;

COMMENT ON FUNCTION tenant_guard.purge_match_keep("any", "any") IS
  'Internal to purge_test_tenants(): purge_match(key) that also keeps the matched row''s own key for the purge''s next level; false outside a purge''s DELETE';

-- A purge with archive finds its big levels' rows with this instead of
-- purge_match_keep() (see archive_at.c): it also keeps where each matched
-- row is (its table and ctid), and the archive reads the deleted rows back
-- from there.  Outside a purge's DELETE of the same backend it finds
-- nothing; only the purge's callers need it.
CREATE FUNCTION tenant_guard.purge_match_at(key "any", keep "any", tableoid oid, at tid)
RETURNS boolean
AS 'MODULE_PATHNAME', 'purge_match_at'
LANGUAGE C VOLATILE PARALLEL UNSAFE COST 1;

COMMENT ON FUNCTION tenant_guard.purge_match_at("any", "any", oid, tid) IS
  'Internal to purge_test_tenants(): purge_match_keep() that also keeps the matched row''s address for the purge''s archive; false outside a purge''s DELETE';

REVOKE ALL ON FUNCTION tenant_guard.purge_match_at("any", "any", oid, tid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.purge_match_at("any", "any", oid, tid) TO tenant_guard_admin;

CREATE FUNCTION tenant_guard.purge_ord(key anyelement)
RETURNS integer
AS 'MODULE_PATHNAME', 'purge_ord'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE COST 1;

COMMENT ON FUNCTION tenant_guard.purge_ord(anyelement) IS
  'Internal to purge_test_tenants(): the purge''s ordinal of the tenant key belongs to; NULL outside a purge''s DELETE';

-- Each call is one transaction: a huge purge runs as several batches.
CREATE PROCEDURE tenant_guard.purge_test_tenants_in_batches(
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

COMMENT ON PROCEDURE tenant_guard.purge_test_tenants_in_batches(integer, boolean, regclass) IS
  'Purge the checker''s candidates batch_size tenants per transaction (CALL it outside a transaction block); see purge_journal for what went';

-- Removing data is an administrator's decision.
REVOKE ALL ON FUNCTION tenant_guard.purge_test_tenants(boolean, text[], boolean, integer, regclass, boolean) FROM PUBLIC;
REVOKE ALL ON PROCEDURE tenant_guard.purge_test_tenants_in_batches(integer, boolean, regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.purge_test_tenants(boolean, text[], boolean, integer, regclass, boolean) TO tenant_guard_admin;
GRANT EXECUTE ON PROCEDURE tenant_guard.purge_test_tenants_in_batches(integer, boolean, regclass) TO tenant_guard_admin;

-- ==== export, import and the purge's archive ====
--
-- export.c, import.c, archive.c.
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
SET search_path = pg_catalog, pg_temp
SET DateStyle = 'ISO, MDY'
SET IntervalStyle = 'postgres'
SET TimeZone = 'UTC'
SET bytea_output = 'hex'
SET extra_float_digits = 1
SET lc_monetary = 'C';

COMMENT ON FUNCTION tenant_guard.export_tenant_document(text, regclass) IS
  'Every row of a tenant (the tenant row and what a purge of it would delete, other tenants'' rows excluded) as one jsonb document for import_tenant()';

CREATE FUNCTION tenant_guard.export_tenant(tenant_id text, tenants regclass DEFAULT NULL)
RETURNS TABLE (table_name regclass, row_data jsonb)
AS 'MODULE_PATHNAME', 'export_tenant'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
SET DateStyle = 'ISO, MDY'
SET IntervalStyle = 'postgres'
SET TimeZone = 'UTC'
SET bytea_output = 'hex'
SET extra_float_digits = 1
SET lc_monetary = 'C';

COMMENT ON FUNCTION tenant_guard.export_tenant(text, regclass) IS
  'Every row of a tenant, one (table, row as jsonb) per row, parents before children; export_tenant_document() gives the same as one document';

CREATE FUNCTION tenant_guard.import_tenant(export jsonb)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'import_tenant'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
SET DateStyle = 'ISO, MDY'
SET IntervalStyle = 'postgres'
SET TimeZone = 'UTC'
SET bytea_output = 'hex'
SET extra_float_digits = 1
SET lc_monetary = 'C';

COMMENT ON FUNCTION tenant_guard.import_tenant(jsonb) IS
  'Restore an export_tenant_document() all or nothing, ids kept, triggers off, foreign keys checked; rows restored per table';

CREATE FUNCTION tenant_guard.restore_purged_tenant(tenant_id text, tenants regclass DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'restore_purged_tenant'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp
SET DateStyle = 'ISO, MDY'
SET IntervalStyle = 'postgres'
SET TimeZone = 'UTC'
SET bytea_output = 'hex'
SET extra_float_digits = 1
SET lc_monetary = 'C';

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
-- decisions; they run with the caller's rights on the tables.  Like the
-- purge, they name tenants by key text and write rows as text under pinned
-- output settings: an export, an archive and a restore agree whatever the
-- session's TimeZone, DateStyle or bytea_output.
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

-- ==== the Redis clean-up ====
--
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

-- ==== failed attempts ====
--
-- Failed tenant creations are log rows with action 'rejected': suspicious
-- data refused in enforce mode, and rate-limit refusals (reason starting
-- with 'rate limit: ').  The functions are SECURITY DEFINER so that a
-- monitoring role can be given the counts without the log rows.

-- the window every monitoring function takes
CREATE FUNCTION tenant_guard.check_window(since interval)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF since IS NULL OR since <= interval '0' THEN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
      MESSAGE = pg_catalog.format('since must be a positive interval, not %s',
                                  coalesce(since::text, 'NULL'));
  END IF;
END
$$;

COMMENT ON FUNCTION tenant_guard.check_window(interval) IS
  'Raises invalid_parameter_value unless since is a positive interval: the window argument of the failed_attempts functions';

CREATE FUNCTION tenant_guard.failed_attempts(since interval DEFAULT '1 hour')
RETURNS bigint
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM tenant_guard.check_window(since);
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
  PERFORM tenant_guard.check_window(since);
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
  PERFORM tenant_guard.check_window(since);
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
  PERFORM tenant_guard.check_window(since);
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

-- ==== alerts, check_alerts() and diagnose() ====
--
-- Tenant creations are counted by the guard trigger, committed only, in
-- shared memory (src/creations.c; kept across a clean restart).  alerts()
-- evaluates every rule, check_alerts() records and NOTIFYs the
-- transitions (for pg_cron), diagnose() is the incident report.  The
-- thresholds: a row of alert_thresholds (admins, this database), else the
-- GUCs only superusers set (src/alerts.c).

CREATE FUNCTION tenant_guard.creation_counts(
    OUT relid pg_catalog.oid, OUT kind text, OUT bucket_start timestamptz,
    OUT created bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'creation_counts'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION tenant_guard.creation_counts() IS
  'Committed tenant creations in this database per relation the guard counted (a partition under itself): kind minute (buckets of the last hour) and hour (buckets of the last 24 hours); empty without shared_preload_libraries';

CREATE FUNCTION tenant_guard.creation_counts_lost()
RETURNS bigint
AS 'MODULE_PATHNAME', 'creation_counts_lost'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

COMMENT ON FUNCTION tenant_guard.creation_counts_lost() IS
  'Tenant creations not counted since startup because the counters'' shared memory (1024 tables) was full';

-- Raw counts of relations: admins (use creations() for monitoring).
REVOKE ALL ON FUNCTION tenant_guard.creation_counts() FROM PUBLIC;
REVOKE ALL ON FUNCTION tenant_guard.creation_counts_lost() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.creation_counts() TO tenant_guard_admin;
GRANT EXECUTE ON FUNCTION tenant_guard.creation_counts_lost() TO tenant_guard_admin;

CREATE FUNCTION tenant_guard.creations(since interval DEFAULT '1 hour')
RETURNS TABLE (tbl regclass, created bigint)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM tenant_guard.check_window(since);
  IF since > interval '24 hours' THEN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
      MESSAGE = pg_catalog.format('since must be at most 24 hours, not %s', since),
      DETAIL = 'Creations are kept per minute for an hour and per hour for a day.';
  END IF;
  RETURN QUERY
    SELECT g.tbl,
           coalesce((SELECT pg_catalog.sum(c.created)::bigint
                       FROM tenant_guard.creation_counts() c
                      WHERE c.relid OPERATOR(pg_catalog.=) ANY
                            (SELECT g.tbl::pg_catalog.oid UNION ALL SELECT p.relid::pg_catalog.oid FROM pg_catalog.pg_partition_tree(g.tbl) p)
                        AND CASE WHEN since <= interval '1 hour'
                                 THEN c.kind OPERATOR(pg_catalog.=) 'minute'
                                      AND c.bucket_start > pg_catalog.now() - since - interval '1 minute'
                                 ELSE c.kind OPERATOR(pg_catalog.=) 'hour'
                                      AND c.bucket_start > pg_catalog.now() - since - interval '1 hour' END), 0)
      FROM tenant_guard.guarded_tables g
     ORDER BY g.tbl::text;
END
$$;

COMMENT ON FUNCTION tenant_guard.creations(interval) IS
  'Tenants created (committed) per guarded table in the last since (at most 24 hours; to the minute up to 1 hour, to the hour beyond), as the guard counted them: rows skipped by ON CONFLICT, rolled back, or inserted with tenant_guard.mode = off are not counted';

CREATE FUNCTION tenant_guard.creations_hourly(since interval DEFAULT '24 hours')
RETURNS TABLE (tbl regclass, hour timestamptz, created bigint)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM tenant_guard.check_window(since);
  RETURN QUERY
    SELECT g.tbl, c.bucket_start, pg_catalog.sum(c.created)::bigint
      FROM tenant_guard.guarded_tables g
      JOIN tenant_guard.creation_counts() c
        ON c.relid OPERATOR(pg_catalog.=) ANY
           (SELECT g.tbl::pg_catalog.oid UNION ALL SELECT p.relid::pg_catalog.oid FROM pg_catalog.pg_partition_tree(g.tbl) p)
     WHERE c.kind OPERATOR(pg_catalog.=) 'hour'
       AND c.bucket_start > pg_catalog.now() - since - interval '1 hour'
     GROUP BY g.tbl, c.bucket_start
     ORDER BY g.tbl::text, c.bucket_start;
END
$$;

COMMENT ON FUNCTION tenant_guard.creations_hourly(interval) IS
  'Tenants created (committed) per guarded table and clock hour over the last since (default and at most 24 hours); hours without creations are left out';

-- The counts tell how many tenants sign up: admins, and the roles they
-- grant them to (a monitoring role).
REVOKE ALL ON FUNCTION tenant_guard.creations(interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenant_guard.creations_hourly(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.creations(interval) TO tenant_guard_admin;
GRANT EXECUTE ON FUNCTION tenant_guard.creations_hourly(interval) TO tenant_guard_admin;

CREATE FUNCTION tenant_guard.flagged_tenants(tbl regclass, sample_size integer DEFAULT 5)
RETURNS TABLE (tenants bigint, flagged bigint, sample text[])
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  g tenant_guard.guarded_tables;
BEGIN
  SELECT * INTO g FROM tenant_guard.guarded_tables x WHERE x.tbl OPERATOR(pg_catalog.=) flagged_tenants.tbl;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
      MESSAGE = pg_catalog.format('table "%s" is not guarded by tenant_guard', tbl),
      HINT = 'tenant_guard.guarded_tables lists the guarded tables.';
  END IF;
  IF sample_size IS NULL OR sample_size < 0 OR sample_size > 1000 THEN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
      MESSAGE = 'sample_size must be between 0 and 1000';
  END IF;
  RETURN QUERY EXECUTE pg_catalog.format(
    'SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE c.is_suspicious),'
    '       (pg_catalog.array_agg(%s::text OPERATOR(pg_catalog.||) '' ('' OPERATOR(pg_catalog.||) c.reason OPERATOR(pg_catalog.||) '')'')'
    '          FILTER (WHERE c.is_suspicious))[1:%s]'
    '  FROM %s t, LATERAL tenant_guard.check_tenant(%s::text, %s::text, %s::text) c',
    CASE WHEN g.id_column IS NULL THEN 't.ctid' ELSE 't.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(g.id_column) END,
    sample_size, g.tbl,
    CASE WHEN g.name_column IS NULL THEN 'NULL' ELSE 't.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(g.name_column) END,
    CASE WHEN g.subdomain_column IS NULL THEN 'NULL' ELSE 't.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(g.subdomain_column) END,
    CASE WHEN g.email_column IS NULL THEN 'NULL' ELSE 't.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(g.email_column) END);
END
$$;

COMMENT ON FUNCTION tenant_guard.flagged_tenants(regclass, integer) IS
  'Scan a guarded table with the checker: its tenants, how many the checker flags (they got in through log mode, mode off, a disabled trigger, or before attach()), and a sample "id (reason)"';

REVOKE ALL ON FUNCTION tenant_guard.flagged_tenants(regclass, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.flagged_tenants(regclass, integer) TO tenant_guard_admin;

-- guarded tables and partitions whose guard trigger is missing or will not fire
CREATE FUNCTION tenant_guard.guard_trigger_problems()
RETURNS TABLE (tbl regclass, rel regclass, problem text)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT g.tbl, p.relid,
         CASE WHEN t.tgenabled IS NULL THEN 'trigger tenant_guard missing'
              ELSE 'trigger tenant_guard disabled' END
    FROM tenant_guard.guarded_tables g
    -- the table itself, or the leaves of a partitioned one
    CROSS JOIN LATERAL (SELECT g.tbl AS relid
                         WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_partition_tree(g.tbl))
                        UNION ALL
                        SELECT x.relid FROM pg_catalog.pg_partition_tree(g.tbl) x WHERE x.isleaf) p
    LEFT JOIN pg_catalog.pg_trigger t
      ON t.tgrelid OPERATOR(pg_catalog.=) p.relid
     AND t.tgname OPERATOR(pg_catalog.=) 'tenant_guard'
     AND t.tgfoid OPERATOR(pg_catalog.=) 'tenant_guard.guard_trigger()'::pg_catalog.regprocedure
   WHERE t.tgenabled IS NULL OR t.tgenabled NOT IN ('O', 'A')
   ORDER BY g.tbl::text, p.relid::text
$$;

COMMENT ON FUNCTION tenant_guard.guard_trigger_problems() IS
  'Guarded tables (and their partitions) whose tenant_guard trigger is missing or disabled (ENABLE REPLICA counts as disabled)';

REVOKE ALL ON FUNCTION tenant_guard.guard_trigger_problems() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.guard_trigger_problems() TO tenant_guard_admin;

-- where tenant_guard.mode is set to something other than enforce
CREATE FUNCTION tenant_guard.mode_settings()
RETURNS TABLE (place text, mode text)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT 'server', s.reset_val
    FROM pg_catalog.pg_settings s WHERE s.name OPERATOR(pg_catalog.=) 'tenant_guard.mode'
  UNION ALL
  SELECT CASE WHEN d.setrole OPERATOR(pg_catalog.=) 0 THEN 'database ' OPERATOR(pg_catalog.||) pg_catalog.current_database()
              WHEN d.setdatabase OPERATOR(pg_catalog.=) 0 THEN 'role ' OPERATOR(pg_catalog.||) d.setrole::pg_catalog.regrole::text
              ELSE 'role ' OPERATOR(pg_catalog.||) d.setrole::pg_catalog.regrole::text OPERATOR(pg_catalog.||) ' in this database' END,
         pg_catalog.substr(c.conf, pg_catalog.length('tenant_guard.mode=') OPERATOR(pg_catalog.+) 1)
    FROM pg_catalog.pg_db_role_setting d
    CROSS JOIN LATERAL pg_catalog.unnest(d.setconfig) c(conf)
   WHERE d.setdatabase IN (0, (SELECT x.oid FROM pg_catalog.pg_database x
                                WHERE x.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()))
     AND c.conf LIKE 'tenant_guard.mode=%'
$$;

COMMENT ON FUNCTION tenant_guard.mode_settings() IS
  'tenant_guard.mode as the server sets it and every ALTER DATABASE / ALTER ROLE ... SET of it that applies in this database';

REVOKE ALL ON FUNCTION tenant_guard.mode_settings() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.mode_settings() TO tenant_guard_admin;

CREATE FUNCTION tenant_guard.protected_missing()
RETURNS TABLE (tenant_id text)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET DateStyle = 'ISO, MDY'
SET IntervalStyle = 'postgres'
SET TimeZone = 'UTC'
SET bytea_output = 'hex'
SET extra_float_digits = 1
SET lc_monetary = 'C'
AS $$
DECLARE
  g record;
  ids text[];
  present text[] := '{}';
  found_ids text[];
  one text;
BEGIN
  SELECT pg_catalog.array_agg(p.tenant_id) INTO ids FROM tenant_guard.protected_tenants p;
  IF ids IS NULL THEN
    RETURN;
  END IF;
  -- look the ids up by the key's type (its index); an id that is not a
  -- value of that type is in no row of the table.  A domain is cast to its
  -- base type: its CHECK constraints (the table owner's code) must not run
  -- as this function's owner.
  FOR g IN SELECT x.tbl, x.id_column,
                  (WITH RECURSIVE b AS (
                     SELECT t.oid, t.typbasetype, 0 AS depth FROM pg_catalog.pg_type t
                      WHERE t.oid OPERATOR(pg_catalog.=) a.atttypid
                     UNION ALL
                     SELECT t.oid, t.typbasetype, b.depth OPERATOR(pg_catalog.+) 1
                       FROM pg_catalog.pg_type t JOIN b ON t.oid OPERATOR(pg_catalog.=) b.typbasetype)
                   SELECT pg_catalog.format_type(b.oid, NULL) FROM b
                    WHERE b.typbasetype OPERATOR(pg_catalog.=) 0) AS typ
             FROM tenant_guard.guarded_tables x
             JOIN pg_catalog.pg_attribute a
               ON a.attrelid OPERATOR(pg_catalog.=) x.tbl
              AND a.attname OPERATOR(pg_catalog.=) x.id_column AND NOT a.attisdropped
            ORDER BY x.tbl::text LOOP
    BEGIN
      EXECUTE pg_catalog.format(
        'SELECT pg_catalog.array_agg(t.%1$I::text) FROM %2$s t WHERE t.%1$I OPERATOR(pg_catalog.=) ANY ($1::%3$s[])',
        g.id_column, g.tbl, g.typ) INTO found_ids USING ids;
    EXCEPTION WHEN data_exception THEN
      found_ids := '{}';
      FOREACH one IN ARRAY ids LOOP
        BEGIN
          EXECUTE pg_catalog.format(
            'SELECT pg_catalog.array_agg(t.%1$I::text) FROM %2$s t WHERE t.%1$I OPERATOR(pg_catalog.=) $1::%3$s',
            g.id_column, g.tbl, g.typ) INTO found_ids USING one;
          present := present OPERATOR(pg_catalog.||) coalesce(found_ids, '{}');
        EXCEPTION WHEN data_exception THEN NULL;
        END;
      END LOOP;
      found_ids := NULL;
    END;
    present := present OPERATOR(pg_catalog.||) coalesce(found_ids, '{}');
  END LOOP;
  RETURN QUERY SELECT i FROM pg_catalog.unnest(ids) i
                WHERE NOT i OPERATOR(pg_catalog.=) ANY (present)
                ORDER BY 1;
END
$$;

COMMENT ON FUNCTION tenant_guard.protected_missing() IS
  'Protected tenant ids that no guarded table holds any more (deleted with the trigger disabled, or the registration changed)';

REVOKE ALL ON FUNCTION tenant_guard.protected_missing() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.protected_missing() TO tenant_guard_admin;

-- Thresholds admins set for this database (a row overrides the GUC a
-- superuser sets for the whole server); read by alerts() and diagnose(),
-- so that the session pg_cron runs check_alerts() in sees them too.
CREATE TABLE tenant_guard.alert_thresholds (
    alert      text PRIMARY KEY
               CHECK (alert IN ('tenant_creation_rate', 'failed_creations')),
    threshold  bigint NOT NULL CHECK (threshold >= 0),
    changed_by name NOT NULL DEFAULT CURRENT_USER,
    changed_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);

COMMENT ON TABLE tenant_guard.alert_thresholds IS
  'tenant_guard: alert thresholds for this database, set by admins; a row overrides tenant_guard.alert_creations_per_hour / alert_failed_per_hour';

SELECT pg_catalog.pg_extension_config_dump('tenant_guard.alert_thresholds', '');

REVOKE ALL ON tenant_guard.alert_thresholds FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_guard.alert_thresholds TO tenant_guard_admin;

-- The threshold in force for one alert: this database's row, else the
-- server's GUC, else the default.
CREATE FUNCTION tenant_guard.alert_threshold(alert text)
RETURNS bigint
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT coalesce(
           (SELECT t.threshold FROM tenant_guard.alert_thresholds t
             WHERE t.alert OPERATOR(pg_catalog.=) $1),
           CASE $1
             WHEN 'tenant_creation_rate' THEN
               coalesce(pg_catalog.current_setting('tenant_guard.alert_creations_per_hour', true), '5')::bigint
             WHEN 'failed_creations' THEN
               coalesce(pg_catalog.current_setting('tenant_guard.alert_failed_per_hour', true), '10')::bigint
           END)
$$;

COMMENT ON FUNCTION tenant_guard.alert_threshold(text) IS
  'The threshold alerts() uses for tenant_creation_rate or failed_creations: alert_thresholds'' row, else the GUC';

REVOKE ALL ON FUNCTION tenant_guard.alert_threshold(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.alert_threshold(text) TO tenant_guard_admin;

CREATE FUNCTION tenant_guard.alerts()
RETURNS TABLE (alert text, firing boolean, value numeric, threshold numeric, detail text)
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  creations_max numeric := tenant_guard.alert_threshold('tenant_creation_rate');
  failed_max numeric := tenant_guard.alert_threshold('failed_creations');
  q record;
  r record;
  n numeric;
  d text;
BEGIN
  -- tenant_creation_rate: the busiest guarded table of the last hour
  SELECT pg_catalog.max(c.created),
         pg_catalog.string_agg(pg_catalog.format('%s: %s', c.tbl, c.created), ', ' ORDER BY c.created DESC, c.tbl::text)
           FILTER (WHERE c.created > creations_max)
    INTO n, d FROM tenant_guard.creations('1 hour') c;
  alert := 'tenant_creation_rate'; value := coalesce(n, 0); threshold := creations_max;
  firing := value > threshold;
  detail := CASE WHEN firing THEN 'created in the last hour: ' OPERATOR(pg_catalog.||) d
                 ELSE pg_catalog.format('at most %s tenants created in one guarded table in the last hour', value) END;
  RETURN NEXT;

  -- failed_creations
  SELECT pg_catalog.count(*) AS rejected, pg_catalog.count(*) FILTER (WHERE l.reason LIKE 'rate limit: %') AS rate_limited
    INTO q FROM tenant_guard.test_data_prevention_logs l
   WHERE l.action OPERATOR(pg_catalog.=) 'rejected' AND l.created_at > pg_catalog.now() - interval '1 hour';
  alert := 'failed_creations'; value := q.rejected; threshold := failed_max;
  firing := value > threshold;
  detail := pg_catalog.format('%s rejected in the last hour, %s of them by the rate limits', q.rejected, q.rate_limited);
  RETURN NEXT;

  -- test_tenants: live rows the checker flags
  n := 0; d := NULL;
  FOR r IN SELECT g.tbl, f.flagged, f.sample FROM tenant_guard.guarded_tables g
             CROSS JOIN LATERAL tenant_guard.flagged_tenants(g.tbl, 3) f
            ORDER BY g.tbl::text LOOP
    CONTINUE WHEN r.flagged OPERATOR(pg_catalog.=) 0;
    n := n + r.flagged;
    d := pg_catalog.concat_ws('; ', d, pg_catalog.format('%s: %s, e.g. %s', r.tbl, r.flagged,
                                                        pg_catalog.array_to_string(r.sample, ', ')));
  END LOOP;
  alert := 'test_tenants'; value := n; threshold := 0; firing := n > 0;
  detail := coalesce(d, 'no live tenant is flagged by the checker');
  RETURN NEXT;

  -- guard_disabled
  SELECT pg_catalog.count(*), pg_catalog.string_agg(pg_catalog.format('%s: %s', p.rel, p.problem), ', ')
    INTO n, d FROM tenant_guard.guard_trigger_problems() p;
  alert := 'guard_disabled'; value := n; threshold := 0; firing := n > 0;
  detail := coalesce(d, 'every guarded table has its tenant_guard trigger enabled');
  RETURN NEXT;

  -- mode_not_enforce: this session's mode and every setting that applies
  SELECT pg_catalog.count(*), pg_catalog.string_agg(pg_catalog.format('%s: %s', m.place, m.mode), ', ')
    INTO n, d
    FROM (SELECT 'this session' AS place, pg_catalog.current_setting('tenant_guard.mode') AS mode
          UNION ALL SELECT s.place, s.mode FROM tenant_guard.mode_settings() s) m
   WHERE m.mode OPERATOR(pg_catalog.<>) 'enforce';
  alert := 'mode_not_enforce'; value := n; threshold := 0; firing := n > 0;
  detail := coalesce('tenant_guard.mode is not enforce in ' OPERATOR(pg_catalog.||) d, 'tenant_guard.mode is enforce');
  RETURN NEXT;

  SELECT * INTO q FROM tenant_guard.log_queue_status();
  alert := 'not_preloaded'; value := CASE WHEN q.preloaded THEN 0 ELSE 1 END; threshold := 0;
  firing := NOT q.preloaded;
  detail := CASE WHEN q.preloaded THEN 'tenant_guard is in shared_preload_libraries'
                 ELSE 'tenant_guard is not in shared_preload_libraries: no durable rejection log, no rate limits, no creation counts' END;
  RETURN NEXT;

  alert := 'log_drops'; value := q.dropped_total; threshold := 0; firing := q.dropped_total > 0;
  detail := pg_catalog.format('%s rejections not written to the log since %s (queue full %s, insert failed %s); log status: %s',
                              q.dropped_total, q.stats_since, q.dropped_queue_full, q.dropped_insert_failed, q.status);
  RETURN NEXT;

  SELECT * INTO q FROM tenant_guard.rate_limit_status();
  alert := 'rate_limit_memory_full'; threshold := 90;
  IF q.enforced AND q.capacity > 0 THEN
    value := pg_catalog.round(100.0 * q.in_use / q.capacity, 1);
    firing := value >= threshold;
    detail := pg_catalog.format('%s of %s creations remembered (%s%%); %s not counted since startup',
                                q.in_use, q.capacity, value, q.not_counted);
  ELSE
    value := NULL; firing := false;
    detail := 'no rate-limit memory: tenant_guard is not in shared_preload_libraries';
  END IF;
  RETURN NEXT;

  SELECT pg_catalog.count(*), pg_catalog.string_agg(m.tenant_id, ', ')
    INTO n, d FROM (SELECT x.tenant_id FROM tenant_guard.protected_missing() x LIMIT 10) m;
  IF n > 0 THEN
    SELECT pg_catalog.count(*) INTO n FROM tenant_guard.protected_missing();
  END IF;
  alert := 'protected_missing'; value := n; threshold := 0; firing := n > 0;
  detail := coalesce('protected tenants no guarded table holds: ' OPERATOR(pg_catalog.||) d,
                     'every protected tenant is present');
  RETURN NEXT;
END
$$;

COMMENT ON FUNCTION tenant_guard.alerts() IS
  'One row per alert rule, firing or not: tenant_creation_rate, failed_creations, test_tenants, guard_disabled, mode_not_enforce, not_preloaded, log_drops, rate_limit_memory_full, protected_missing';

-- It reads the log and names tenants: admins, and the roles they grant it to.
REVOKE ALL ON FUNCTION tenant_guard.alerts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.alerts() TO tenant_guard_admin;

CREATE SEQUENCE tenant_guard.alert_transitions_id_seq;

CREATE TABLE tenant_guard.alert_transitions (
    id        bigint NOT NULL
              DEFAULT pg_catalog.nextval('tenant_guard.alert_transitions_id_seq'::pg_catalog.regclass)
              PRIMARY KEY,
    alert     text NOT NULL,
    state     text NOT NULL CHECK (state IN ('firing', 'resolved')),
    value     numeric,
    threshold numeric,
    detail    text,
    at        timestamptz NOT NULL DEFAULT pg_catalog.now()
);

ALTER SEQUENCE tenant_guard.alert_transitions_id_seq OWNED BY tenant_guard.alert_transitions.id;
COMMENT ON SEQUENCE tenant_guard.alert_transitions_id_seq IS 'tenant_guard: ids of alert_transitions';

CREATE INDEX alert_transitions_alert_idx ON tenant_guard.alert_transitions (alert, id);

COMMENT ON TABLE tenant_guard.alert_transitions IS
  'tenant_guard: each time an alert started (firing) or stopped (resolved) firing, as check_alerts() saw it';

SELECT pg_catalog.pg_extension_config_dump('tenant_guard.alert_transitions', '');
SELECT pg_catalog.pg_extension_config_dump('tenant_guard.alert_transitions_id_seq', '');

-- Written by check_alerts() only (as its owner); admins read and prune it.
REVOKE ALL ON tenant_guard.alert_transitions FROM PUBLIC;
REVOKE ALL ON SEQUENCE tenant_guard.alert_transitions_id_seq FROM PUBLIC;
GRANT SELECT, DELETE ON tenant_guard.alert_transitions TO tenant_guard_admin;

CREATE FUNCTION tenant_guard.check_alerts()
RETURNS SETOF tenant_guard.alert_transitions
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  r record;
  t tenant_guard.alert_transitions;
BEGIN
  -- one evaluation at a time, so that a transition is recorded once
  LOCK TABLE tenant_guard.alert_transitions IN SHARE ROW EXCLUSIVE MODE;
  FOR r IN SELECT a.alert, coalesce(a.firing, false) AS firing, a.value, a.threshold, a.detail,
                  (SELECT x.state FROM tenant_guard.alert_transitions x
                    WHERE x.alert OPERATOR(pg_catalog.=) a.alert ORDER BY x.id DESC LIMIT 1) AS last_state
             FROM tenant_guard.alerts() a LOOP
    CONTINUE WHEN r.firing = (r.last_state IS NOT DISTINCT FROM 'firing');
    INSERT INTO tenant_guard.alert_transitions (alert, state, value, threshold, detail)
      VALUES (r.alert, CASE WHEN r.firing THEN 'firing' ELSE 'resolved' END, r.value, r.threshold, r.detail)
      RETURNING * INTO t;
    PERFORM pg_catalog.pg_notify('tenant_guard_alerts',
      pg_catalog.jsonb_build_object('alert', t.alert, 'state', t.state, 'value', t.value,
                                    'threshold', t.threshold, 'detail', pg_catalog.left(t.detail, 2000),
                                    'at', t.at, 'database', pg_catalog.current_database())::text);
    RETURN NEXT t;
  END LOOP;
END
$$;

COMMENT ON FUNCTION tenant_guard.check_alerts() IS
  'Evaluate alerts(); record each alert that started or stopped firing in alert_transitions and NOTIFY tenant_guard_alerts with a JSON payload per transition (nothing while an alert keeps firing); returns the transitions. Schedule it every minute with pg_cron';

REVOKE ALL ON FUNCTION tenant_guard.check_alerts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.check_alerts() TO tenant_guard_admin;

CREATE FUNCTION tenant_guard.diagnose()
RETURNS TABLE (section text, item text, value text, status text)
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  g record;
  f record;
  q record;
  s text;
  n bigint;
  k bigint;
BEGIN
  -- the mode and the preloaded library
  section := 'configuration';
  FOR q IN SELECT 'this session' AS place, pg_catalog.current_setting('tenant_guard.mode') AS mode
           UNION ALL SELECT m.place, m.mode FROM tenant_guard.mode_settings() m LOOP
    item := 'tenant_guard.mode (' OPERATOR(pg_catalog.||) q.place OPERATOR(pg_catalog.||) ')';
    value := q.mode;
    status := CASE q.mode WHEN 'enforce' THEN 'ok' WHEN 'log' THEN 'warning' ELSE 'critical' END;
    RETURN NEXT;
  END LOOP;
  SELECT * INTO q FROM tenant_guard.log_queue_status();
  item := 'shared_preload_libraries'; value := CASE WHEN q.preloaded THEN 'tenant_guard loaded' ELSE 'tenant_guard missing' END;
  status := CASE WHEN q.preloaded THEN 'ok' ELSE 'critical' END;
  RETURN NEXT;

  -- per guarded table
  FOR g IN SELECT x.* FROM tenant_guard.guarded_tables x ORDER BY x.tbl::text LOOP
    section := 'table ' OPERATOR(pg_catalog.||) g.tbl::text;
    SELECT * INTO f FROM tenant_guard.flagged_tenants(g.tbl, 10);
    item := 'tenants'; value := f.tenants::text; status := 'ok'; RETURN NEXT;
    item := 'flagged by the checker'; value := f.flagged::text;
    status := CASE WHEN f.flagged > 0 THEN 'critical' ELSE 'ok' END; RETURN NEXT;
    FOR s IN SELECT u FROM pg_catalog.unnest(f.sample) u LOOP
      item := 'flagged tenant'; value := s; status := 'critical'; RETURN NEXT;
    END LOOP;
    SELECT pg_catalog.string_agg(pg_catalog.format('%s: %s', p.rel, p.problem), ', ')
      INTO s FROM tenant_guard.guard_trigger_problems() p WHERE p.tbl OPERATOR(pg_catalog.=) g.tbl;
    item := 'guard trigger'; value := coalesce(s, 'enabled');
    status := CASE WHEN s IS NULL THEN 'ok' ELSE 'critical' END; RETURN NEXT;
    SELECT c.created INTO n FROM tenant_guard.creations('1 hour') c WHERE c.tbl OPERATOR(pg_catalog.=) g.tbl;
    item := 'created in the last hour'; value := coalesce(n, 0)::text;
    status := CASE WHEN coalesce(n, 0) > tenant_guard.alert_threshold('tenant_creation_rate')
                   THEN 'warning' ELSE 'ok' END;
    RETURN NEXT;
    FOR q IN SELECT h.hour, h.created FROM tenant_guard.creations_hourly('24 hours') h
              WHERE h.tbl OPERATOR(pg_catalog.=) g.tbl ORDER BY h.hour LOOP
      item := 'created ' OPERATOR(pg_catalog.||) pg_catalog.to_char(q.hour, 'YYYY-MM-DD HH24:00');
      value := q.created::text; status := 'ok'; RETURN NEXT;
    END LOOP;
  END LOOP;
  IF NOT FOUND THEN
    section := 'tables'; item := 'guarded tables'; value := '0'; status := 'warning'; RETURN NEXT;
  END IF;

  -- protected tenants
  section := 'protected tenants';
  SELECT pg_catalog.count(*) INTO n FROM tenant_guard.protected_tenants;
  SELECT pg_catalog.count(*) INTO k FROM tenant_guard.protected_missing();
  item := 'present'; value := (n - k)::text; status := 'ok'; RETURN NEXT;
  item := 'missing'; value := k::text; status := CASE WHEN k > 0 THEN 'critical' ELSE 'ok' END; RETURN NEXT;
  FOR s IN SELECT m.tenant_id FROM tenant_guard.protected_missing() m LIMIT 20 LOOP
    item := 'missing tenant'; value := s; status := 'critical'; RETURN NEXT;
  END LOOP;

  -- failed attempts
  section := 'failed attempts';
  item := 'last hour'; n := tenant_guard.failed_attempts('1 hour'); value := n::text;
  status := CASE WHEN n > tenant_guard.alert_threshold('failed_creations')
                 THEN 'warning' ELSE 'ok' END;
  RETURN NEXT;
  item := 'last 24 hours'; value := tenant_guard.failed_attempts('24 hours')::text; status := 'ok'; RETURN NEXT;
  FOR q IN SELECT b.ip_address, b.attempts FROM tenant_guard.failed_attempts_by_ip('24 hours') b LIMIT 5 LOOP
    item := 'from ' OPERATOR(pg_catalog.||) coalesce(pg_catalog.host(q.ip_address), 'unknown address') OPERATOR(pg_catalog.||) ' (24 hours)';
    value := q.attempts::text; status := 'ok'; RETURN NEXT;
  END LOOP;

  -- purges and Redis
  section := 'purges';
  SELECT pg_catalog.count(*) FILTER (WHERE j.purged_at > pg_catalog.now() - interval '24 hours'),
         pg_catalog.count(*) FILTER (WHERE j.redis_cleaned_at IS NULL)
    INTO n, k FROM tenant_guard.purge_journal j;
  item := 'tenants purged in the last 24 hours'; value := n::text; status := 'ok'; RETURN NEXT;
  item := 'Redis clean-ups pending'; value := k::text;
  status := CASE WHEN k > 0 THEN 'warning' ELSE 'ok' END; RETURN NEXT;

  -- the durable log and the rate limits
  section := 'durable log';
  SELECT * INTO q FROM tenant_guard.log_queue_status();
  item := 'status'; value := q.status;
  status := CASE WHEN q.status = 'ok' THEN 'ok' WHEN NOT q.preloaded THEN 'critical' ELSE 'warning' END;
  RETURN NEXT;
  item := 'queued now'; value := coalesce(q.queued_now, 0)::text; status := 'ok'; RETURN NEXT;
  item := 'rejections dropped'; value := coalesce(q.dropped_total, 0)::text;
  status := CASE WHEN q.dropped_total > 0 THEN 'critical' ELSE 'ok' END; RETURN NEXT;

  section := 'rate limits';
  SELECT * INTO q FROM tenant_guard.rate_limit_status();
  item := 'memory in use';
  value := CASE WHEN q.enforced THEN pg_catalog.format('%s of %s', q.in_use, q.capacity) ELSE 'not enforced (not preloaded)' END;
  status := CASE WHEN NOT q.enforced THEN 'critical'
                 WHEN q.capacity > 0 AND q.in_use * 10 >= q.capacity * 9 THEN 'warning' ELSE 'ok' END;
  RETURN NEXT;
  item := 'refused since startup'; value := coalesce(q.refused, 0)::text; status := 'ok'; RETURN NEXT;
  item := 'not counted (memory full)'; value := coalesce(q.not_counted, 0)::text;
  status := CASE WHEN q.not_counted > 0 THEN 'warning' ELSE 'ok' END; RETURN NEXT;
END
$$;

COMMENT ON FUNCTION tenant_guard.diagnose() IS
  'The incident report as rows (section, item, value, status ok / warning / critical): the mode, per guarded table its tenants, flagged tenants with reasons, guard trigger and creations per hour, protected tenants present or missing, failed attempts, purges and pending Redis clean-ups, the durable log and the rate-limit memory';

REVOKE ALL ON FUNCTION tenant_guard.diagnose() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.diagnose() TO tenant_guard_admin;

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
