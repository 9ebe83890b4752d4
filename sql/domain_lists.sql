-- Big e-mail domain lists: import_email_domains(replace => true) replaces
-- one source's rows in one transaction, wildcard lists (every subdomain
-- disposable) import as plain domains, the allowlist wins, and a
-- transaction sees its own changes to the list before it commits.
CREATE EXTENSION IF NOT EXISTS tenant_guard;
DELETE FROM tenant_guard.email_domains;
DELETE FROM tenant_guard.allowlist;

-- version 1 of a list, then a second source sharing one of its domains
SELECT tenant_guard.import_email_domains(
  ARRAY['old-trap.io', 'kept-trap.io', 'shared-trap.io'], 'list-a');
SELECT tenant_guard.import_email_domains(
  ARRAY['shared-trap.io', 'b-only.io'], 'list-b');
-- wildcard.json entries are domains whose every subdomain is disposable:
-- every domain rule matches its subdomains, so they import as they are
-- (a leading "*." is dropped)
SELECT tenant_guard.import_email_domains(
  ARRAY['*.wild-trap.io', 'wild2-trap.io'], 'list-a-wildcards');
SELECT domain, kind, source FROM tenant_guard.email_domains ORDER BY domain;
SELECT e, (tenant_guard.check_tenant(NULL, NULL, e)).reason
  FROM unnest(ARRAY['a@old-trap.io', 'a@mx.wild-trap.io', 'a@a.b.wild2-trap.io',
                    'a@wild-trap.io', 'a@notwild-trap.io']) AS e;

-- version 2 of list-a: old-trap.io is gone from it, new-trap.io is new;
-- other sources' rows (list-b, list-a-wildcards) are left alone, and
-- shared-trap.io stays under list-b, which imported it first
SELECT tenant_guard.import_email_domains(
  ARRAY['kept-trap.io', 'new-trap.io', 'KEPT-TRAP.IO', '# comment', 'not a domain'],
  'list-a', replace => true);
SELECT domain, kind, source FROM tenant_guard.email_domains ORDER BY domain;
SELECT e, (tenant_guard.check_tenant(NULL, NULL, e)).reason
  FROM unnest(ARRAY['a@old-trap.io', 'a@new-trap.io', 'a@kept-trap.io']) AS e;
-- the same list again: nothing added, nothing removed
SELECT tenant_guard.import_email_domains(
  ARRAY['kept-trap.io', 'new-trap.io'], 'list-a', replace => true);
-- an empty new version empties the source (and says so)
SELECT tenant_guard.import_email_domains(ARRAY[]::text[], 'list-a', replace => true);
SELECT source, count(*) FROM tenant_guard.email_domains GROUP BY 1 ORDER BY 1;

-- bad calls: replace needs a source and a list; NULL options; the old signature
-- (positional, three arguments) still works
SELECT tenant_guard.import_email_domains(ARRAY['x-trap.io'], NULL, replace => true);
SELECT tenant_guard.import_email_domains(ARRAY['x-trap.io'], 'list-x', 'disposable', NULL);
SELECT tenant_guard.import_email_domains(ARRAY['x-trap.io'], 'list-x', 'test');
SELECT tenant_guard.import_email_domains(NULL, 'list-x', replace => true);
SELECT source, count(*) FROM tenant_guard.email_domains GROUP BY 1 ORDER BY 1;

-- a replace that fails half-way changes nothing (one transaction)
BEGIN;
SELECT tenant_guard.import_email_domains(ARRAY['y-trap.io'], 'list-b', replace => true);
SELECT (tenant_guard.check_tenant(NULL, NULL, 'a@b-only.io')).reason;
ROLLBACK;
SELECT (tenant_guard.check_tenant(NULL, NULL, 'a@b-only.io')).reason;
SELECT (tenant_guard.check_tenant(NULL, NULL, 'a@y-trap.io')).reason;

-- the allowlist still wins over a listed domain and its subdomains
INSERT INTO tenant_guard.allowlist (kind, value, note)
  VALUES ('domain', 'mx.wild-trap.io', 'a customer''s own mail host');
SELECT e, (tenant_guard.check_tenant(NULL, NULL, e)).reason
  FROM unnest(ARRAY['a@mx.wild-trap.io', 'a@in.mx.wild-trap.io', 'a@other.wild-trap.io']) AS e;

-- a transaction sees its own uncommitted rows; a prepared transaction may
-- not change the list (the shared copy is renewed at commit)
BEGIN;
INSERT INTO tenant_guard.email_domains (domain, source) VALUES ('own-trap.io', 'regress');
SELECT (tenant_guard.check_tenant(NULL, NULL, 'a@own-trap.io')).reason;
PREPARE TRANSACTION 'regress_domain_lists';
SELECT (tenant_guard.check_tenant(NULL, NULL, 'a@own-trap.io')).reason;
-- the same for the keywords and the allowlist (kept in the same shared copy)
BEGIN;
INSERT INTO tenant_guard.keywords (keyword, strength) VALUES ('regressprepared', 'strong');
SELECT (tenant_guard.check_tenant('Regressprepared Inc', NULL, NULL)).reason;
PREPARE TRANSACTION 'regress_domain_lists';
SELECT (tenant_guard.check_tenant('Regressprepared Inc', NULL, NULL)).reason;
BEGIN;
INSERT INTO tenant_guard.allowlist (kind, value) VALUES ('name', 'Regress Test Prepared');
PREPARE TRANSACTION 'regress_domain_lists';

-- clean up
DELETE FROM tenant_guard.allowlist;
DELETE FROM tenant_guard.email_domains;
SELECT (tenant_guard.check_tenant(NULL, NULL, 'a@kept-trap.io')).reason;
