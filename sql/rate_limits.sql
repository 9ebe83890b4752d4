-- Tenant-creation rate limits: per client IP (tenant_guard.client_addr) and
-- per normalised e-mail, over a sliding hour of tenants actually created.
-- The counts live in shared memory for the whole cluster and outlive
-- transactions: start from a clean slate and leave one behind.
SELECT tenant_guard.rate_limit_reset() >= 0 AS reset;
CREATE TABLE tenants (
    id serial PRIMARY KEY,
    name text NOT NULL,
    subdomain text UNIQUE,
    email text
);
SELECT tenant_guard.attach('tenants');

-- the settings and their defaults
SELECT name, boot_val, min_val, max_val, context FROM pg_settings
 WHERE name IN ('tenant_guard.max_tenants_per_hour_per_ip',
                'tenant_guard.max_tenants_per_hour_per_email',
                'tenant_guard.rate_limit_capacity')
 ORDER BY name;
SET tenant_guard.max_tenants_per_hour_per_ip = 3;
SET tenant_guard.max_tenants_per_hour_per_email = 3;

-- per IP: three tenants in the hour, the fourth is refused (TG002)
BEGIN;
SET LOCAL tenant_guard.client_addr = '203.0.113.7';
INSERT INTO tenants (name, subdomain, email) VALUES ('Acme Corporation', 'acme', 'contact@acme.com');
COMMIT;
BEGIN;
SET LOCAL tenant_guard.client_addr = '203.0.113.7';
INSERT INTO tenants (name, subdomain, email) VALUES ('Globex', 'globex', 'it@globex.com'),
                                                    ('Initech', 'initech', 'it@initech.com');
COMMIT;
SELECT * FROM tenant_guard.rate_limit_usage('ip', '203.0.113.7');
BEGIN;
SET LOCAL tenant_guard.client_addr = '203.0.113.7';
INSERT INTO tenants (name, subdomain, email) VALUES ('Umbrella', 'umbrella', 'ops@umbrella.com');
ROLLBACK;
-- applications see their own SQLSTATE, message and detail
DO $$
DECLARE
  detail text;
BEGIN
  SET LOCAL tenant_guard.client_addr = '203.0.113.7';
  INSERT INTO tenants (name, subdomain, email) VALUES ('Hooli', 'hooli', 'a@hooli.com');
EXCEPTION WHEN SQLSTATE 'TG002' THEN
  GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
  RAISE NOTICE 'caught "%" as % with detail "%"', SQLERRM, SQLSTATE, detail;
END $$;
-- the same address written differently is the same address
BEGIN;
SET LOCAL tenant_guard.client_addr = '::ffff:203.0.113.7';
INSERT INTO tenants (name, subdomain, email) VALUES ('Hooli', 'hooli', 'a@hooli.com');
ROLLBACK;
-- another address, and no address at all, are not limited by it
BEGIN;
SET LOCAL tenant_guard.client_addr = '203.0.113.8';
INSERT INTO tenants (name, subdomain, email) VALUES ('Hooli', 'hooli', 'a@hooli.com');
COMMIT;
INSERT INTO tenants (name, subdomain, email) VALUES ('Pied Piper', 'piedpiper', 'r@piedpiper.com');
SELECT * FROM tenant_guard.rate_limit_usage('ip', '203.0.113.8');

-- IPv6 addresses count by their /64: a user holds the whole prefix
BEGIN;
SET LOCAL tenant_guard.client_addr = '2001:db8:1:2::1';
INSERT INTO tenants (name, subdomain, email) VALUES ('V6 One', 'v6-1', 'a@v6.org');
SET LOCAL tenant_guard.client_addr = '2001:db8:1:2::2';
INSERT INTO tenants (name, subdomain, email) VALUES ('V6 Two', 'v6-2', 'b@v6.org');
SET LOCAL tenant_guard.client_addr = '2001:db8:1:2:ffff:ffff:ffff:ffff';
INSERT INTO tenants (name, subdomain, email) VALUES ('V6 Three', 'v6-3', 'c@v6.org');
SET LOCAL tenant_guard.client_addr = '2001:db8:1:2::4';
INSERT INTO tenants (name, subdomain, email) VALUES ('V6 Four', 'v6-4', 'd@v6.org');
ROLLBACK;
-- (the whole transaction rolled back: nothing of it counts)
SELECT * FROM tenant_guard.rate_limit_usage('ip', '2001:db8:1:2::99');
BEGIN;
SET LOCAL tenant_guard.client_addr = '2001:db8:1:3::1';
INSERT INTO tenants (name, subdomain, email) VALUES ('V6 Other', 'v6-other', 'e@v6.org');
COMMIT;
SELECT * FROM tenant_guard.rate_limit_usage('ip', '2001:db8:1:3::ffff');

-- inserts that roll back do not count, whatever rolls them back
BEGIN;
SET LOCAL tenant_guard.client_addr = '198.51.100.1';
INSERT INTO tenants (name, subdomain, email) VALUES ('Stark', 'stark', 's@stark.com');
SELECT * FROM tenant_guard.rate_limit_usage('ip', '198.51.100.1');
ROLLBACK;
-- a later error in the same statement (duplicate subdomain in row 2)
BEGIN;
SET LOCAL tenant_guard.client_addr = '198.51.100.1';
INSERT INTO tenants (name, subdomain, email) VALUES ('Wayne', 'wayne', 'b@wayne.com'),
                                                    ('Wayne Two', 'wayne', 'b2@wayne.com');
COMMIT;
-- a row refused by the checker
BEGIN;
SET LOCAL tenant_guard.client_addr = '198.51.100.1';
INSERT INTO tenants (name, subdomain, email) VALUES ('Test Company', 'test-company-123', 'test@example.com');
COMMIT;
-- savepoints: ROLLBACK TO frees, RELEASE keeps
BEGIN;
SET LOCAL tenant_guard.client_addr = '198.51.100.1';
INSERT INTO tenants (name, subdomain, email) VALUES ('Wonka', 'wonka', 'w@wonka.com');
SAVEPOINT a;
INSERT INTO tenants (name, subdomain, email) VALUES ('Soylent', 'soylent', 's@soylent.com');
SAVEPOINT b;
INSERT INTO tenants (name, subdomain, email) VALUES ('Tyrell', 'tyrell', 't@tyrell.com');
SELECT * FROM tenant_guard.rate_limit_usage('ip', '198.51.100.1');
ROLLBACK TO a;
SELECT * FROM tenant_guard.rate_limit_usage('ip', '198.51.100.1');
-- an error caught in PL/pgSQL rolls back its subtransaction
DO $$
BEGIN
  INSERT INTO tenants (name, subdomain, email) VALUES ('Vandelay', 'vandelay', 'v@vandelay.com');
  INSERT INTO tenants (name, subdomain, email) VALUES ('Vandelay Two', 'vandelay', 'v2@vandelay.com');
EXCEPTION WHEN unique_violation THEN
  RAISE NOTICE 'caught %', SQLSTATE;
END $$;
SELECT * FROM tenant_guard.rate_limit_usage('ip', '198.51.100.1');
SAVEPOINT c;
INSERT INTO tenants (name, subdomain, email) VALUES ('Cyberdyne', 'cyberdyne', 'c@cyberdyne.com');
RELEASE c;
COMMIT;
SELECT * FROM tenant_guard.rate_limit_usage('ip', '198.51.100.1');
SELECT name FROM tenants WHERE subdomain IN ('stark', 'wayne', 'wonka', 'soylent', 'tyrell', 'cyberdyne', 'vandelay')
 ORDER BY name;
-- so one more fits, and then it is full (the refusal rolls back the
-- transaction, Kramerica with it)
BEGIN;
SET LOCAL tenant_guard.client_addr = '198.51.100.1';
INSERT INTO tenants (name, subdomain, email) VALUES ('Kramerica', 'kramerica', 'k@kramerica.com');
INSERT INTO tenants (name, subdomain, email) VALUES ('Oscorp', 'oscorp', 'o@oscorp.com');
COMMIT;
-- COPY is counted like INSERT; UPDATE is not a creation
BEGIN;
SET LOCAL tenant_guard.client_addr = '198.51.100.2';
COPY tenants (name, subdomain, email) FROM stdin;
Gringotts	gringotts	g@gringotts.com
Pendant	pendant	p@pendant.com
\.
UPDATE tenants SET name = name || ' Ltd' WHERE subdomain IN ('gringotts', 'pendant');
SELECT * FROM tenant_guard.rate_limit_usage('ip', '198.51.100.2');
COMMIT;

-- per e-mail: the normalised address counts (case, +tag, gmail dots)
SELECT e AS email, tenant_guard.normalize_email(e) AS counted_as
  FROM (VALUES ('Ana.Lima@Example.org'), ('ana.lima+signup@example.org'),
               ('  ana.lima@EXAMPLE.ORG.  '), ('A.n.a.Lima+x@GoogleMail.com'),
               ('analima@gmail.com'), ('ana.lima@outlook.com'), ('+tag@acme.com'),
               ('no-at-sign'), ('a@b@c.com'), ('"x+y"@acme.com'), (''), ('   '),
               ('Ünïcode@Acme.com')) v(e);
SELECT tenant_guard.normalize_email(NULL) IS NULL AS null_is_null;
INSERT INTO tenants (name, subdomain, email) VALUES ('Jane One', 'jane-1', 'Ana.Lima@gmail.com');
INSERT INTO tenants (name, subdomain, email) VALUES ('Jane Two', 'jane-2', 'analima+crm@gmail.com');
INSERT INTO tenants (name, subdomain, email) VALUES ('Jane Three', 'jane-3', 'ANALIMA@googlemail.com');
INSERT INTO tenants (name, subdomain, email) VALUES ('Jane Four', 'jane-4', 'a.n.a.l.i.m.a@gmail.com');
SELECT * FROM tenant_guard.rate_limit_usage('email', 'AnaLima@GMail.com');
-- outside gmail, dots matter
INSERT INTO tenants (name, subdomain, email) VALUES ('Dots One', 'dots-1', 'j.doe@acme.com'),
                                                    ('Dots Two', 'dots-2', 'jdoe@acme.com');
-- NULL, empty and blank addresses are not counted
INSERT INTO tenants (name, subdomain, email)
  SELECT 'No Mail ' || i, 'no-mail-' || i, CASE i % 3 WHEN 0 THEN NULL WHEN 1 THEN '' ELSE '  ' END
    FROM generate_series(1, 9) i;
-- a very long address is counted (its key is the whole normalised address);
-- the checker calls such an address malformed, so log mode keeps the rows
-- and lets the limit decide
SET tenant_guard.mode = log;
INSERT INTO tenants (name, subdomain, email)
  SELECT 'Long ' || i, 'long-' || i, repeat('x', 100000) || '@acme.com' FROM generate_series(1, 3) i;
INSERT INTO tenants (name, subdomain, email) VALUES ('Long Four', 'long-4', repeat('X', 100000) || '+4@acme.com');
RESET tenant_guard.mode;
SELECT tenant_guard.log_queue_wait();
-- (the background writer stores the refusals above while log mode writes its
-- rows itself: order by action, then id)
SELECT action, left(reason, 60) AS reason FROM tenant_guard.test_data_prevention_logs
 ORDER BY action = 'logged', id;
DELETE FROM tenant_guard.test_data_prevention_logs;
-- both limits at once: the e-mail limit refuses although the IP is fresh
BEGIN;
SET LOCAL tenant_guard.client_addr = '192.0.2.55';
INSERT INTO tenants (name, subdomain, email) VALUES ('Jane Five', 'jane-5', 'analima@gmail.com');
ROLLBACK;
SELECT * FROM tenant_guard.rate_limit_usage('ip', '192.0.2.55');

-- 0 refuses every tenant with a key; -1 switches a limit off
SET tenant_guard.max_tenants_per_hour_per_email = 0;
INSERT INTO tenants (name, subdomain, email) VALUES ('Zero', 'zero', 'z@zero.com');
INSERT INTO tenants (name, subdomain, email) VALUES ('Zero No Mail', 'zero-no-mail', NULL);
SET tenant_guard.max_tenants_per_hour_per_email = -1;
INSERT INTO tenants (name, subdomain, email) VALUES ('Jane Six', 'jane-6', 'analima@gmail.com');
-- (a creation made while a limit is off is not counted for it)
SELECT * FROM tenant_guard.rate_limit_usage('email', 'analima@gmail.com');
SET tenant_guard.max_tenants_per_hour_per_email = 3;
-- both off: nothing is counted at all; back on, counting resumes
BEGIN;
SET LOCAL tenant_guard.max_tenants_per_hour_per_ip = -1;
SET LOCAL tenant_guard.max_tenants_per_hour_per_email = -1;
SET LOCAL tenant_guard.client_addr = '192.0.2.77';
INSERT INTO tenants (name, subdomain, email) VALUES ('Harbor One', 'harbor-1', 'ops@harbor.com');
COMMIT;
SELECT * FROM tenant_guard.rate_limit_usage('ip', '192.0.2.77');
SELECT * FROM tenant_guard.rate_limit_usage('email', 'ops@harbor.com');
BEGIN;
SET LOCAL tenant_guard.client_addr = '192.0.2.77';
INSERT INTO tenants (name, subdomain, email) VALUES ('Harbor Two', 'harbor-2', 'ops@harbor.com');
COMMIT;
SELECT * FROM tenant_guard.rate_limit_usage('ip', '192.0.2.77');
SELECT * FROM tenant_guard.rate_limit_usage('email', 'ops@harbor.com');

-- log mode keeps the tenant and writes a log row naming the limit
-- (first let the background writer store the refusals above: ids in order)
SELECT tenant_guard.log_queue_wait();
SET tenant_guard.mode = log;
INSERT INTO tenants (name, subdomain, email) VALUES ('Jane Seven', 'jane-7', 'ana.lima@gmail.com');
SELECT action, reason, data->>'subdomain' AS subdomain FROM tenant_guard.test_data_prevention_logs
 WHERE reason LIKE 'rate limit:%' ORDER BY id;
RESET tenant_guard.mode;
SELECT count(*) AS jane_tenants FROM tenants WHERE subdomain LIKE 'jane-%';

-- bad values
SET tenant_guard.max_tenants_per_hour_per_ip = -2;
SET tenant_guard.max_tenants_per_hour_per_ip = 1000001;
SET tenant_guard.max_tenants_per_hour_per_ip = 'three';
SET tenant_guard.max_tenants_per_hour_per_email = '3 per hour';
SET tenant_guard.rate_limit_capacity = 100;
SELECT * FROM tenant_guard.rate_limit_usage('mac', 'x');
SELECT * FROM tenant_guard.rate_limit_usage('ip', 'not an ip');
SELECT * FROM tenant_guard.rate_limit_usage('email', ' ');
SELECT * FROM tenant_guard.rate_limit_usage(NULL, 'x');

-- who may change the limits: anyone may lower them, only admins raise them
CREATE ROLE regress_app LOGIN;
CREATE ROLE regress_admin LOGIN IN ROLE tenant_guard_admin;
GRANT INSERT, SELECT ON tenants TO regress_app;
GRANT USAGE ON SEQUENCE tenants_id_seq TO regress_app;
SET ROLE regress_app;
SHOW tenant_guard.max_tenants_per_hour_per_ip;
SET tenant_guard.max_tenants_per_hour_per_ip = 10;
SET tenant_guard.max_tenants_per_hour_per_ip = -1;
SET tenant_guard.max_tenants_per_hour_per_email = 4;
SELECT set_config('tenant_guard.max_tenants_per_hour_per_ip', '100', true);
SET tenant_guard.max_tenants_per_hour_per_ip = 3;
SET tenant_guard.max_tenants_per_hour_per_ip = 1;
SHOW tenant_guard.max_tenants_per_hour_per_ip;
-- lowered, the application's own stricter limit applies to it
BEGIN;
SET LOCAL tenant_guard.client_addr = '203.0.113.8';
INSERT INTO tenants (name, subdomain, email) VALUES ('Strict', 'strict', 'a@strict.com');
ROLLBACK;
-- and it cannot go back up except by RESET (to the configured value)
SET tenant_guard.max_tenants_per_hour_per_ip = 3;
RESET tenant_guard.max_tenants_per_hour_per_ip;
SHOW tenant_guard.max_tenants_per_hour_per_ip;
-- nor place a looser value where it would apply later
ALTER ROLE regress_app SET tenant_guard.max_tenants_per_hour_per_email = 50;
-- not even one an administrator allowed in this session (say, for an
-- import database): a stored setting is compared with the default
RESET ROLE;
SET tenant_guard.max_tenants_per_hour_per_email = -1;
SET ROLE regress_app;
SHOW tenant_guard.max_tenants_per_hour_per_email;
SET tenant_guard.max_tenants_per_hour_per_email = -1;
ALTER ROLE regress_app SET tenant_guard.max_tenants_per_hour_per_email = -1;
ALTER ROLE regress_app SET tenant_guard.max_tenants_per_hour_per_email = 2;
SELECT setconfig FROM pg_db_role_setting WHERE setrole = 'regress_app'::regrole;
ALTER ROLE regress_app RESET ALL;
RESET ROLE;
RESET tenant_guard.max_tenants_per_hour_per_email;
SET ROLE regress_app;
-- and it may not see or reset the counts
SELECT * FROM tenant_guard.rate_limit_usage('ip', '203.0.113.7');
SELECT tenant_guard.rate_limit_reset();
SELECT enforced FROM tenant_guard.rate_limit_status();
RESET ROLE;
SET ROLE regress_admin;
SET tenant_guard.max_tenants_per_hour_per_ip = 100;
SET tenant_guard.max_tenants_per_hour_per_ip = -1;
SHOW tenant_guard.max_tenants_per_hour_per_ip;
SELECT enforced, capacity >= 1024 AS has_capacity, in_use > 0 AS in_use,
       refused > 0 AS refused_some FROM tenant_guard.rate_limit_status();
RESET tenant_guard.max_tenants_per_hour_per_ip;
RESET ROLE;

-- look-alikes: the key folds what the checker folds (invisible characters,
-- NFKC, case, letters of other scripts that look Latin), so every spelling
-- of one address shares one count; different addresses keep their own
SELECT label, tenant_guard.normalize_email(e) AS counted_as
  FROM (VALUES ('plain', 'mara@harbor-cafe.de'),
               ('zero-width space', U&'ma\200Bra@harbor-cafe.de'),
               ('two zero-width spaces', U&'m\200Ba\200Bra@harbor-cafe.de'),
               ('fullwidth m', U&'\FF4Dara@harbor-cafe.de'),
               ('Cyrillic a', U&'m\0430ra@harbor-cafe.de'),
               ('Cyrillic a in the domain', U&'mara@h\0430rbor-cafe.de'),
               ('BOM, right-to-left override, soft hyphen', U&'\FEFF\202Ema\00ADra@harbor-cafe.de'),
               ('fullwidth @, ideographic full stop', U&'mara\FF20harbor-cafe\3002de'),
               ('Latin alpha, capitals', U&'M\0251RA@Harbor-Cafe.DE'),
               ('fullwidth +tag', U&'mara\FF0Bnews@harbor-cafe.de'),
               ('gmail with a Cyrillic a', U&'Ana.Lima+x@gm\0430il.com'),
               ('accent', U&'ren\00E9@acme.fr'),
               ('no accent', 'rene@acme.fr'),
               ('sharp s', U&'stra\00DFe@stra\00DFe.de'),
               ('ss', 'strasse@strasse.de'),
               ('a Cyrillic word', U&'\0421\041E\0420@mail.ru'),
               ('a Latin word', 'COP@mail.ru'),
               ('a Greek word', U&'\03A3\039F\03A6\0399\0391@acme.gr'),
               ('an IDN domain', U&'a@B\00DCCHER.de'),
               ('its A-label', 'a@xn--bcher-kva.de'),
               ('digit zero', 'j0hn@acme.com'),
               ('letter o', 'john@acme.com'),
               ('only invisible', U&'\200B\00AD')) v(label, e);
-- three tenants for mara@harbor-cafe.de, then every look-alike is refused
SET tenant_guard.max_tenants_per_hour_per_email = 3;
INSERT INTO tenants (name, subdomain, email) VALUES ('Harbor Cafe', 'harbor-cafe-1', 'mara@harbor-cafe.de'),
                                                    ('Harbor Cafe', 'harbor-cafe-2', 'Mara@Harbor-Cafe.de'),
                                                    ('Harbor Cafe', 'harbor-cafe-3', 'mara+2@harbor-cafe.de');
INSERT INTO tenants (name, subdomain, email) VALUES ('Harbor Cafe', 'harbor-cafe-4', U&'ma\200Bra@harbor-cafe.de');
INSERT INTO tenants (name, subdomain, email) VALUES ('Harbor Cafe', 'harbor-cafe-5', U&'m\200Ba\200Bra@harbor-cafe.de');
INSERT INTO tenants (name, subdomain, email) VALUES ('Harbor Cafe', 'harbor-cafe-6', U&'\FF4Dara@harbor-cafe.de');
INSERT INTO tenants (name, subdomain, email) VALUES ('Harbor Cafe', 'harbor-cafe-7', U&'m\0430ra@harbor-cafe.de');
INSERT INTO tenants (name, subdomain, email) VALUES ('Harbor Cafe', 'harbor-cafe-8', U&'mara@h\0430rbor-cafe\3002de');
SELECT * FROM tenant_guard.rate_limit_usage('email', U&'\FF2D\0430RA@harbor-cafe.de');
-- different addresses are not limited by it
INSERT INTO tenants (name, subdomain, email) VALUES ('Harbor Cafe', 'harbor-cafe-9', 'rnara@harbor-cafe.de'),
                                                    ('Harbor Cafe', 'harbor-cafe-10', U&'m\00E1ra@harbor-cafe.de');
SELECT subdomain, email FROM tenants WHERE subdomain LIKE 'harbor-cafe-%' ORDER BY id;
-- the per-IP key: every spelling of one address parses to the same bytes
-- (and spellings that are not an address are refused)
BEGIN;
SET LOCAL tenant_guard.max_tenants_per_hour_per_email = -1;
SET LOCAL tenant_guard.max_tenants_per_hour_per_ip = 3;
SET LOCAL tenant_guard.client_addr = '203.0.113.99';
INSERT INTO tenants (name, subdomain, email) VALUES ('Spelling One', 'spelling-1', 'a@spelling.com');
SET LOCAL tenant_guard.client_addr = '203.000.113.099';
INSERT INTO tenants (name, subdomain, email) VALUES ('Spelling Two', 'spelling-2', 'a@spelling.com');
SET LOCAL tenant_guard.client_addr = '0:0:0:0:0:FFFF:CB00:7163';
INSERT INTO tenants (name, subdomain, email) VALUES ('Spelling Three', 'spelling-3', 'a@spelling.com');
SET LOCAL tenant_guard.client_addr = '::ffff:203.0.113.99/96';
INSERT INTO tenants (name, subdomain, email) VALUES ('Spelling Four', 'spelling-4', 'a@spelling.com');
ROLLBACK;
SET tenant_guard.client_addr = '0xcb.0.113.99';
SET tenant_guard.client_addr = '3405803875';
SET tenant_guard.client_addr = ' 203.0.113.99';
RESET tenant_guard.max_tenants_per_hour_per_email;
SELECT tenant_guard.log_queue_wait();
SELECT action, reason FROM tenant_guard.test_data_prevention_logs
 WHERE data->>'subdomain' LIKE 'harbor-cafe-%' OR data->>'subdomain' LIKE 'spelling-%' ORDER BY id;

-- in a database that is not UTF-8, the key is made from the address as the
-- checker sees it (converted to UTF-8) and shown in the database encoding;
-- a refusal names the key in ASCII (<U+XXXX>), as reasons there are
SELECT current_database() AS regress_db \gset
CREATE DATABASE regress_tg_rate_latin1 TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C';
\c regress_tg_rate_latin1
CREATE EXTENSION tenant_guard;
SELECT tenant_guard.normalize_email(U&'\00C4RGER+x@X.de') = U&'\00E4rger@x.de' AS folded;
-- (NFKC makes the one-half sign "1/2" with a fraction slash, which LATIN1 lacks)
SELECT tenant_guard.normalize_email(U&'\00BD@x.de');
CREATE TABLE tenants (id serial PRIMARY KEY, name text NOT NULL, subdomain text UNIQUE, email text);
SELECT tenant_guard.attach('tenants');
SET tenant_guard.max_tenants_per_hour_per_email = 1;
INSERT INTO tenants (name, subdomain, email) VALUES ('Harbor Cafe', 'harbor-cafe-1', U&'\00C4rger@x.de');
INSERT INTO tenants (name, subdomain, email) VALUES ('Harbor Cafe', 'harbor-cafe-2', U&'\00E4rger@X.DE');
SELECT * FROM tenant_guard.rate_limit_usage('email', U&'\00C4RGER@x.de');
SELECT tenant_guard.log_queue_wait();
SELECT tenant_guard.rate_limit_reset();
\c :regress_db
DROP DATABASE regress_tg_rate_latin1;

DROP TABLE tenants;
DROP ROLE regress_app, regress_admin;
SELECT tenant_guard.log_queue_wait();
DELETE FROM tenant_guard.test_data_prevention_logs;
SELECT tenant_guard.rate_limit_reset() > 0 AS forgot_some;
SELECT in_use FROM tenant_guard.rate_limit_status();
