-- Tampering: pg_write_all_data grants INSERT, UPDATE and DELETE on every
-- table whatever its ACL.  The extension's tables take writes only from the
-- extension's own code and, for what tenant_guard_admin is granted, from
-- its members (write_guard); superusers may INSERT (a restore) and must
-- disable the trigger for anything else.
\set SHOW_CONTEXT never
SELECT tenant_guard.log_queue_wait();
DELETE FROM tenant_guard.test_data_prevention_logs;
CREATE ROLE regress_tamper_writer LOGIN IN ROLE pg_write_all_data, pg_read_all_data;
CREATE ROLE regress_tamper_admin LOGIN IN ROLE tenant_guard_admin;
CREATE ROLE regress_tamper_both LOGIN IN ROLE tenant_guard_admin, pg_write_all_data;
CREATE ROLE regress_tamper_app LOGIN;

-- every table of the extension has the trigger, enabled: a table added
-- later without it is listed here
WITH tables AS (
  SELECT c.oid, c.relname,
         (SELECT t.tgenabled FROM pg_trigger t
           WHERE t.tgrelid = c.oid AND t.tgname = 'write_guard'
             AND t.tgfoid = 'tenant_guard.write_guard()'::regprocedure
             AND t.tgtype = (2 | 4 | 8 | 16 | 32)) AS guard  -- BEFORE INSERT, DELETE, UPDATE, TRUNCATE, per statement
    FROM pg_class c
    JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
                    AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
    JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'tenant_guard'
   WHERE c.relkind IN ('r', 'p'))
SELECT relname AS unguarded, guard FROM tables WHERE guard IS DISTINCT FROM 'O'
UNION ALL
SELECT 'tables: ' || count(*), NULL FROM tables HAVING count(*) < 8;

-- The extension's own writes, by an admin that is no superuser (and so
-- holds no INSERT right on the log, the journal or the registries).
CREATE TABLE tenants (id int PRIMARY KEY, name text, subdomain text, email text);
CREATE TABLE events (tenant_id int, what text);
ALTER TABLE tenants OWNER TO regress_tamper_admin;
ALTER TABLE events OWNER TO regress_tamper_admin;
GRANT INSERT ON tenants TO regress_tamper_app;
SET ROLE regress_tamper_admin;
SELECT tenant_guard.attach('tenants');
SELECT tenant_guard.add_tenant_table('events', 'tenant_id', 'tenants');
SET tenant_guard.mode = log;
INSERT INTO tenants VALUES (1, 'Northwind Traders', 'northwind', 'it@northwind.com'),
                           (2, 'Test Company', 'test-company-123', 'test@example.com'),
                           (3, 'Globex', 'globex', 'it@globex.com');
RESET tenant_guard.mode;
SELECT tenant_guard.protect('1', 'real customer');
SELECT tenant_guard.protect('3');
SELECT tenant_guard.unprotect('3');
SELECT tenant_id, total_deleted FROM tenant_guard.purge_test_tenants(dry_run => false, tenants => 'tenants');
SELECT tenant_guard.log_suspicious_request('/signup', '{"why": "burst"}', 'many signups', '192.0.2.1') > 0 AS logged;
SELECT tenant_guard.import_email_domains(ARRAY['mailinator.test', '# comment'], 'regress');
RESET ROLE;
-- a rejection, written by the durable log's writer
SET ROLE regress_tamper_app;
INSERT INTO tenants VALUES (4, 'Test Company', 'test-company-4', 'test@example.com');
RESET ROLE;
SELECT tenant_guard.log_queue_wait();
SELECT action, role_name, reason LIKE 'name: test keyword%' AS test_name
  FROM tenant_guard.test_data_prevention_logs ORDER BY id;
SELECT tenant_id, protected_by FROM tenant_guard.protected_tenants;
SELECT tenant_id, total_deleted, purged_by FROM tenant_guard.purge_journal
 WHERE purged_by = 'regress_tamper_admin';
SELECT tbl, id_column FROM tenant_guard.guarded_tables;
SELECT tbl, column_name FROM tenant_guard.tenant_tables;
SELECT domain, source FROM tenant_guard.email_domains;

-- pg_write_all_data (and pg_read_all_data), no admin: every write refused,
-- reads allowed
SET ROLE regress_tamper_writer;
SELECT count(*) > 0 AS reads_the_log FROM tenant_guard.test_data_prevention_logs;
INSERT INTO tenant_guard.test_data_prevention_logs (reason, action) VALUES ('forged', 'rejected');
COPY tenant_guard.test_data_prevention_logs (reason) FROM stdin;
forged by copy
\.
UPDATE tenant_guard.test_data_prevention_logs SET reason = 'nothing happened';
DELETE FROM tenant_guard.test_data_prevention_logs;
TRUNCATE tenant_guard.test_data_prevention_logs;
INSERT INTO tenant_guard.allowlist (kind, value) VALUES ('name', 'Test Company');
UPDATE tenant_guard.allowlist SET note = 'x';
DELETE FROM tenant_guard.allowlist;
TRUNCATE tenant_guard.allowlist;
INSERT INTO tenant_guard.keywords (keyword, strength) VALUES ('test', 'ignore');
UPDATE tenant_guard.keywords SET strength = 'ignore';
DELETE FROM tenant_guard.keywords;
TRUNCATE tenant_guard.keywords;
INSERT INTO tenant_guard.email_domains (domain) VALUES ('example.org');
UPDATE tenant_guard.email_domains SET kind = 'test';
DELETE FROM tenant_guard.email_domains;
TRUNCATE tenant_guard.email_domains;
INSERT INTO tenant_guard.protected_tenants (tenant_id, protected_by) VALUES ('2', 'postgres');
UPDATE tenant_guard.protected_tenants SET tenant_id = '0';
DELETE FROM tenant_guard.protected_tenants;
TRUNCATE tenant_guard.protected_tenants;
INSERT INTO tenant_guard.guarded_tables (tbl, id_column) VALUES ('events', 'tenant_id');
UPDATE tenant_guard.guarded_tables SET id_column = 'name';
DELETE FROM tenant_guard.guarded_tables;
TRUNCATE tenant_guard.guarded_tables;
INSERT INTO tenant_guard.tenant_tables (tbl, column_name, tenants) VALUES ('events', 'what', 'tenants');
UPDATE tenant_guard.tenant_tables SET column_name = 'what';
DELETE FROM tenant_guard.tenant_tables;
TRUNCATE tenant_guard.tenant_tables;
INSERT INTO tenant_guard.purge_journal DEFAULT VALUES;
UPDATE tenant_guard.purge_journal SET redis_cleaned_at = now();
UPDATE tenant_guard.purge_journal SET deleted = '{}';
DELETE FROM tenant_guard.purge_journal;
TRUNCATE tenant_guard.purge_journal;
RESET ROLE;
-- so the protection holds and the guard still refuses
DELETE FROM tenants WHERE id = 1;
INSERT INTO tenants VALUES (5, 'Test Company', 'test-company-5', 'test@example.com');

-- an admin's own writes: the rules, pruning the log, marking Redis
-- clean-ups done
SET ROLE regress_tamper_admin;
INSERT INTO tenant_guard.allowlist (kind, value, note) VALUES ('name', 'Sandbox VR', 'ticket 1');
UPDATE tenant_guard.allowlist SET note = 'ticket 2';
INSERT INTO tenant_guard.keywords (keyword, strength) VALUES ('qa-bot', 'strong');
DELETE FROM tenant_guard.keywords;
TRUNCATE tenant_guard.email_domains;
UPDATE tenant_guard.purge_journal SET redis_cleaned_at = now() WHERE purged_by = 'regress_tamper_admin';
DELETE FROM tenant_guard.test_data_prevention_logs WHERE action = 'reported';
RESET ROLE;
-- an admin with pg_write_all_data: what admins may, no more
SET ROLE regress_tamper_both;
DELETE FROM tenant_guard.allowlist;
UPDATE tenant_guard.purge_journal SET redis_cleaned_at = NULL WHERE purged_by = 'regress_tamper_admin';
UPDATE tenant_guard.purge_journal SET redis_cleaned_at = now(), total_deleted = 0 WHERE purged_by = 'regress_tamper_admin';
INSERT INTO tenant_guard.test_data_prevention_logs (reason) VALUES ('forged');
UPDATE tenant_guard.test_data_prevention_logs SET reason = 'nothing happened';
TRUNCATE tenant_guard.test_data_prevention_logs;
DELETE FROM tenant_guard.protected_tenants;
DELETE FROM tenant_guard.purge_journal;
RESET ROLE;
SELECT (SELECT count(*) FROM tenant_guard.allowlist) AS allowlist,
       (SELECT count(*) FROM tenant_guard.keywords) AS keywords,
       (SELECT count(*) FROM tenant_guard.email_domains) AS email_domains,
       (SELECT count(*) FROM tenant_guard.purge_journal
         WHERE purged_by = 'regress_tamper_admin' AND redis_cleaned_at IS NULL) AS redis_pending,
       (SELECT string_agg(action, ',' ORDER BY id) FROM tenant_guard.test_data_prevention_logs) AS log;

-- a superuser: INSERT (what a restore does) and the admins' rights; log
-- rows are not rewritten, journal rows not deleted, unless the trigger is
-- disabled explicitly
INSERT INTO tenant_guard.test_data_prevention_logs (reason) VALUES ('restored row');
UPDATE tenant_guard.test_data_prevention_logs SET reason = 'nothing happened';
DELETE FROM tenant_guard.purge_journal;
TRUNCATE tenant_guard.test_data_prevention_logs;
BEGIN;
SET LOCAL session_replication_role = replica;
DELETE FROM tenant_guard.purge_journal;
ROLLBACK;
BEGIN;
ALTER TABLE tenant_guard.purge_journal DISABLE TRIGGER write_guard;
DELETE FROM tenant_guard.purge_journal;
ROLLBACK;
SELECT count(*) AS journal FROM tenant_guard.purge_journal WHERE purged_by = 'regress_tamper_admin';

-- The id sequences: no trigger guards a sequence, and pg_write_all_data
-- may setval() them.  Set back so that the next id is taken, each writer
-- of the extension moves its sequence past the highest id (a WARNING
-- names the tampering) and still records its row.
-- Three ids in a row are taken, so that the durable log's writer, which
-- retries a failed batch row by row, meets a taken id twice.
\set VERBOSITY terse
SET ROLE regress_tamper_admin;
SELECT count(tenant_guard.log_suspicious_request('/signup', NULL, 'taken ' || i, NULL))
  FROM generate_series(1, 3) i;
RESET ROLE;
SELECT tenant_guard.log_queue_wait();
SELECT dropped_insert_failed AS failed_before FROM tenant_guard.log_queue_status() \gset
-- a rejection, written by the durable log's writer
SET ROLE regress_tamper_writer;
SELECT setval('tenant_guard.test_data_prevention_logs_id_seq', min(id), false) > 0 AS set_back
  FROM tenant_guard.test_data_prevention_logs WHERE reason LIKE 'taken %';
SET ROLE regress_tamper_app;
INSERT INTO tenants VALUES (7, 'Test Company', 'test-company-7', 'seq-7@example.com');
RESET ROLE;
SELECT tenant_guard.log_queue_wait();
SELECT dropped_insert_failed - :failed_before AS dropped
  FROM tenant_guard.log_queue_status();
-- a log-mode row
SET ROLE regress_tamper_writer;
SELECT setval('tenant_guard.test_data_prevention_logs_id_seq', min(id), false) > 0 AS set_back
  FROM tenant_guard.test_data_prevention_logs WHERE reason LIKE 'taken %';
SET ROLE regress_tamper_admin;
SET tenant_guard.mode = log;
INSERT INTO tenants VALUES (6, 'Test Company', 'test-company-6', 'seq-6@example.com');
RESET tenant_guard.mode;
-- log_suspicious_request()
SET ROLE regress_tamper_writer;
SELECT setval('tenant_guard.test_data_prevention_logs_id_seq', min(id), false) > 0 AS set_back
  FROM tenant_guard.test_data_prevention_logs WHERE reason LIKE 'taken %';
SET ROLE regress_tamper_admin;
SELECT tenant_guard.log_suspicious_request('/signup', NULL, 'sequence set back', NULL) > 0 AS logged;
-- the purge's journal
SET ROLE regress_tamper_writer;
SELECT setval('tenant_guard.purge_journal_id_seq', min(id), false) > 0 AS set_back
  FROM tenant_guard.purge_journal;
SET ROLE regress_tamper_admin;
SELECT tenant_id, total_deleted FROM tenant_guard.purge_test_tenants(dry_run => false, tenants => 'tenants');
RESET ROLE;
\set VERBOSITY default
SELECT action, reason LIKE 'name: test keyword%' AS test_name,
       data->>'id' AS tenant, reason = 'sequence set back' AS reported
  FROM tenant_guard.test_data_prevention_logs
 WHERE data->>'id' IN ('6', '7') OR reason = 'sequence set back' ORDER BY id;
SELECT tenant_id, total_deleted FROM tenant_guard.purge_journal
 WHERE purged_by = 'regress_tamper_admin' AND tenant_id = '6';
-- both sequences continue after the highest id
SELECT (SELECT last_value FROM tenant_guard.test_data_prevention_logs_id_seq)
         >= (SELECT max(id) FROM tenant_guard.test_data_prevention_logs) AS log_seq_ahead,
       (SELECT last_value FROM tenant_guard.purge_journal_id_seq)
         >= (SELECT max(id) FROM tenant_guard.purge_journal) AS journal_seq_ahead;

-- the extension's own deletes: detach, remove_tenant_table, and the event
-- trigger that forgets a dropped table, for the admin that owns them
SET ROLE regress_tamper_admin;
SELECT tenant_guard.remove_tenant_table('events', 'tenant_id');
SELECT tenant_guard.add_tenant_table('events', 'tenant_id', 'tenants');
DROP TABLE events;
SELECT count(*) AS tenant_tables FROM tenant_guard.tenant_tables;
SELECT tenant_guard.unprotect('1');
SELECT tenant_guard.detach('tenants');
SELECT count(*) AS guarded FROM tenant_guard.guarded_tables;
RESET ROLE;

SELECT tenant_guard.log_queue_wait();
DELETE FROM tenant_guard.test_data_prevention_logs;
BEGIN;
SET LOCAL session_replication_role = replica;
DELETE FROM tenant_guard.purge_journal WHERE purged_by = 'regress_tamper_admin';
COMMIT;
DROP TABLE tenants;
DROP ROLE regress_tamper_writer, regress_tamper_admin, regress_tamper_both, regress_tamper_app;
