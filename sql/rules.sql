-- Rule tables: operators' keywords, domains and allowlist, compiled once
-- per backend and recompiled after a change.
SELECT * FROM tenant_guard.check_tenant('Acme Widgets', NULL, NULL);
INSERT INTO tenant_guard.keywords (keyword, strength, note) VALUES ('widgets', 'strong', 'regression');
SELECT * FROM tenant_guard.check_tenant('Acme Widgets', NULL, NULL);

-- a rolled-back change is forgotten; inside the transaction it applies
BEGIN;
INSERT INTO tenant_guard.keywords (keyword, strength) VALUES ('gadgets', 'strong');
SELECT is_suspicious FROM tenant_guard.check_tenant('Acme Gadgets', NULL, NULL);
ROLLBACK;
SELECT is_suspicious FROM tenant_guard.check_tenant('Acme Gadgets', NULL, NULL);

-- each strength, and phrases
INSERT INTO tenant_guard.keywords (keyword, strength) VALUES
  ('pilot', 'weak'), ('holdings', 'generic'), ('tbc', 'placeholder'),
  ('Not For Production', 'strong');
SELECT n, (tenant_guard.check_tenant(n, NULL, NULL)).*
  FROM unnest(ARRAY['Pilot Holdings', 'Pilot Brewing', 'Holdings 7', 'TBC',
                    'not-for-production', 'NotForProduction', 'Production House']) AS n;

-- 'ignore' switches a built-in keyword off, and back on when deleted
SELECT is_suspicious FROM tenant_guard.check_tenant('QA Harbor', NULL, NULL);
INSERT INTO tenant_guard.keywords (keyword, strength) VALUES ('QA', 'ignore');
SELECT is_suspicious FROM tenant_guard.check_tenant('QA Harbor', NULL, NULL);
DELETE FROM tenant_guard.keywords WHERE keyword = 'QA';
SELECT is_suspicious FROM tenant_guard.check_tenant('QA Harbor', NULL, NULL);

-- bad rows are refused by the tables (terse: the rows hold timestamps)
\set VERBOSITY terse
INSERT INTO tenant_guard.keywords (keyword, strength) VALUES ('WIDGETS', 'weak');
INSERT INTO tenant_guard.keywords (keyword, strength) VALUES ('---', 'strong');
INSERT INTO tenant_guard.keywords (keyword, strength) VALUES ('one two three four', 'strong');
INSERT INTO tenant_guard.keywords (keyword, strength) VALUES ('gizmo', 'medium');
INSERT INTO tenant_guard.email_domains (domain) VALUES ('Not A Domain');
INSERT INTO tenant_guard.email_domains (domain) VALUES ('Upper.COM');
INSERT INTO tenant_guard.allowlist (kind, value) VALUES ('domain', 'not a domain');
INSERT INTO tenant_guard.allowlist (kind, value) VALUES ('email', 'x@y.z');
\set VERBOSITY default

-- operators' domains match their subdomains too
INSERT INTO tenant_guard.email_domains (domain, kind, source) VALUES
  ('throwaway-corp.io', 'disposable', 'regression'), ('qa-lab.net', 'test', 'regression');
SELECT e, (tenant_guard.check_tenant(NULL, NULL, e)).*
  FROM unnest(ARRAY['a@throwaway-corp.io', 'a@x.throwaway-corp.io', 'a@lab.qa-lab.net',
                    'a@throwaway-corp.io.example.net', 'a@corp.io']) AS e;

-- import_email_domains(): normalises, skips comments, blanks and junk,
-- counts only new rows
SELECT tenant_guard.import_email_domains(
  ARRAY['  Spam-Trap.IO ', '# a comment', '', '@at-sign.io', '*.wild.io', 'spam-trap.io',
        'not a domain', 'throwaway-corp.io', NULL], 'regression list');
SELECT tenant_guard.import_email_domains(ARRAY['x.io'], NULL, 'bogus');
SELECT domain, kind, source FROM tenant_guard.email_domains ORDER BY domain;
SELECT e, (tenant_guard.check_tenant(NULL, NULL, e)).*
  FROM unnest(ARRAY['a@spam-trap.io', 'a@mx.wild.io']) AS e;

-- the allowlist: exact names and subdomains, domains with their subdomains
INSERT INTO tenant_guard.allowlist (kind, value, note) VALUES
  ('name', 'The Kitchen Test', 'a real restaurant'),
  ('subdomain', 'kitchen-test', 'theirs'),
  ('domain', 'example.com', 'our own staff');
SELECT n, s, e, (tenant_guard.check_tenant(n, s, e)).*
  FROM (VALUES ('The Kitchen Test', 'kitchen-test', 'chef@kitchentest.co.za'),
               ('the  kitchen  TEST', NULL, NULL),
               ('The Kitchen Test 2', 'kitchen-test-2', NULL),
               (NULL, NULL, 'jane@example.com'),
               (NULL, NULL, 'test@mail.example.com'),
               (NULL, NULL, 'jane@example.org')) AS t(n, s, e);

-- the trigger uses the same rules; an application role needs no rights
-- on the rule tables, and may neither read nor change them
CREATE TABLE tenants (name text, subdomain text, email text);
SELECT tenant_guard.attach('tenants');
CREATE ROLE regress_rules_app;
CREATE ROLE regress_rules_admin IN ROLE tenant_guard_admin;
GRANT INSERT, SELECT ON tenants TO regress_rules_app;
SET ROLE regress_rules_app;
INSERT INTO tenants VALUES ('Acme Widgets', 'acme', 'a@acme.com');
INSERT INTO tenants VALUES ('The Kitchen Test', 'kitchen-test', 'chef@kitchentest.co.za');
SELECT count(*) FROM tenant_guard.keywords;
INSERT INTO tenant_guard.keywords (keyword, strength) VALUES ('acme', 'ignore');
SELECT tenant_guard.import_email_domains(ARRAY['gmail.com']);
SELECT count(*) > 0 FROM tenant_guard.builtin_rules();
RESET ROLE;
SET ROLE regress_rules_admin;
INSERT INTO tenant_guard.keywords (keyword, strength) VALUES ('sprockets', 'strong');
SELECT tenant_guard.import_email_domains(ARRAY['admin-list.io'], 'admin');
RESET ROLE;
SELECT name FROM tenants;

-- the built-in rules, by kind
SELECT kind, strength, count(*) FROM tenant_guard.builtin_rules() GROUP BY 1, 2 ORDER BY 1, 2;
SELECT value FROM tenant_guard.builtin_rules() WHERE strength = 'reserved' ORDER BY 1;

-- clean up
DROP TABLE tenants;
DROP ROLE regress_rules_app, regress_rules_admin;
DELETE FROM tenant_guard.keywords;
DELETE FROM tenant_guard.email_domains;
DELETE FROM tenant_guard.allowlist;
SELECT is_suspicious FROM tenant_guard.check_tenant('Acme Widgets', NULL, NULL);
-- the rejection above reached the durable log with the operator's rule as reason
SELECT tenant_guard.log_queue_wait();
SELECT action, reason FROM tenant_guard.test_data_prevention_logs;
DELETE FROM tenant_guard.test_data_prevention_logs;

-- in a database that is not UTF-8, built-in rules with characters it
-- cannot hold (the non-Latin keywords) are listed with <U+XXXX>
SELECT current_database() AS regress_db \gset
CREATE DATABASE regress_tg_latin1 TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C';
\c regress_tg_latin1
CREATE EXTENSION tenant_guard;
SELECT count(*) > 0 AS listed, count(*) FILTER (WHERE value LIKE '%<U+%') > 0 AS escaped,
       count(*) FILTER (WHERE value ~ '[^\x01-\x7f]') AS not_ascii
  FROM tenant_guard.builtin_rules();
\c :regress_db
DROP DATABASE regress_tg_latin1;
