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

-- ==== smarter checker ====
--
-- The built-in rules live in C (see tenant_guard.builtin_rules()); these
-- tables hold only what operators add, so pg_dump keeps them whole and a
-- restore cannot duplicate rows the install script made.  Each backend
-- compiles the rules once and recompiles after a change: the statement
-- triggers below send the invalidation.

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
LANGUAGE C STABLE PARALLEL SAFE;

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
LANGUAGE C;

COMMENT ON FUNCTION tenant_guard.rules_changed() IS
  'Statement trigger on the rule tables: every backend recompiles its rules before its next check';

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
    domains text[], source text DEFAULT NULL, kind text DEFAULT 'disposable')
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  added integer;
  unusable integer;
BEGIN
  IF kind IS NULL OR kind NOT IN ('disposable', 'test') THEN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
      MESSAGE = format('invalid domain kind "%s"', kind),
      HINT = 'Use ''disposable'' or ''test''.';
  END IF;
  -- blank lines and "#" comments (plain-text lists) are skipped
  WITH raw AS (
    SELECT btrim(d, E' \t\r\n') AS d FROM unnest(domains) AS d
  ), candidates AS (
    SELECT d, tenant_guard.normal_form(d, 'domain') AS nf
      FROM raw WHERE d IS NOT NULL AND d <> '' AND d NOT LIKE '#%'
  ), ins AS (
    INSERT INTO tenant_guard.email_domains (domain, kind, source)
    SELECT DISTINCT nf, import_email_domains.kind, import_email_domains.source
      FROM candidates WHERE nf IS NOT NULL
    ON CONFLICT (domain) DO NOTHING
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM ins),
         (SELECT count(*) FROM candidates WHERE nf IS NULL)
    INTO added, unusable;
  IF unusable > 0 THEN
    RAISE NOTICE '% entries skipped: not domains', unusable;
  END IF;
  RETURN added;
END
$$;

COMMENT ON FUNCTION tenant_guard.import_email_domains(text[], text, text) IS
  'Load a maintained list of e-mail domains (e.g. the disposable-email-domains lists) into tenant_guard.email_domains; returns how many were new. Blank lines and # comments are skipped';

-- Changes the rules: admins only.
REVOKE ALL ON FUNCTION tenant_guard.import_email_domains(text[], text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_guard.import_email_domains(text[], text, text) TO tenant_guard_admin;
