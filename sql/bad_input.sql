-- Bad input of every kind gets a decision or a clear error, never a crash.
CREATE TABLE tenants (name text, subdomain text, email text);
SELECT tenant_guard.attach('tenants');

-- 1 MB strings
SELECT is_suspicious, reason FROM tenant_guard.check_tenant(repeat('a', 1000000), repeat('b', 1000000), repeat('c', 1000000) || '@acme.com');
SELECT is_suspicious, reason FROM tenant_guard.check_tenant(repeat('a', 1000000) || ' test', NULL, NULL);
SELECT is_suspicious, length(reason) < 1100 AS bounded FROM tenant_guard.check_tenant(repeat('test ', 200000), NULL, NULL);
INSERT INTO tenants VALUES (repeat('x', 1000000), 'big', 'a@acme.com');
INSERT INTO tenants VALUES (repeat('x', 1000000) || ' demo', 'big2', 'a@acme.com');
-- a very long domain
SELECT is_suspicious FROM tenant_guard.check_tenant(NULL, NULL, 'a@' || repeat('x', 100000) || '.test.com');

-- empty strings, whitespace and punctuation only
SELECT is_suspicious, reason FROM tenant_guard.check_tenant('', ' ', '@');
SELECT is_suspicious, reason FROM tenant_guard.check_tenant('---', '...', '@@@');

-- odd Unicode: combining marks, right-to-left override, emoji, NUL-free controls
SELECT is_suspicious, reason FROM tenant_guard.check_tenant(E'Te\u0301st', NULL, NULL);
SELECT is_suspicious, reason FROM tenant_guard.check_tenant(E'\u202Etset\u202C Co', NULL, NULL);
SELECT is_suspicious, reason FROM tenant_guard.check_tenant(E'\U0001F600 test', NULL, NULL);
SELECT is_suspicious, reason FROM tenant_guard.check_tenant(E'tab\ttest\nline', NULL, NULL);
SELECT is_suspicious, reason FROM tenant_guard.check_tenant(NULL, NULL, E'\u00fcser@t\u00e9st.com');

-- NULL columns in the table are no evidence
INSERT INTO tenants VALUES ('Acme', NULL, NULL);
INSERT INTO tenants VALUES (NULL, NULL, NULL);
SELECT count(*) FROM tenants;

DROP TABLE tenants;

-- rejected rows reach the log asynchronously (see durable_log.sql)
SELECT tenant_guard.log_queue_wait();
DELETE FROM tenant_guard.test_data_prevention_logs;
