-- The log table, request context GUCs and log_suspicious_request().
CREATE TABLE tenants (id serial, name text, subdomain text, email text);
SELECT tenant_guard.attach('tenants');

-- request context the application sets per transaction
BEGIN;
SET LOCAL tenant_guard.mode = log;
SET LOCAL tenant_guard.client_addr = '203.0.113.7';
SET LOCAL tenant_guard.endpoint = '/api/tenants';
SET LOCAL application_name = 'signup-service';
INSERT INTO tenants (name, subdomain, email) VALUES ('Test Company', 'test-company-123', 'test@example.com');
COMMIT;
SHOW tenant_guard.client_addr;
SELECT endpoint, data - 'id' AS data, reason, ip_address, role_name, application_name, action,
       created_at <= now() AS sane_time
  FROM tenant_guard.test_data_prevention_logs ORDER BY id;

-- IPv6 and empty (= unset) addresses
SET tenant_guard.client_addr = '2001:db8::1';
SET tenant_guard.client_addr = '';
-- invalid ones are refused at SET time
SET tenant_guard.client_addr = 'not-an-ip';
SET tenant_guard.client_addr = '300.1.1.1';
SET tenant_guard.client_addr = '10.0.0.1; DROP TABLE x';
-- as are spellings too long for the log to store whole
SET tenant_guard.client_addr = '1.2.3.4/00000000000000000000000000000000000000000000000000000000032';
SELECT set_config('tenant_guard.endpoint', repeat('x', 1025), false);
SELECT length(set_config('tenant_guard.endpoint', repeat('x', 1024), false));
RESET tenant_guard.endpoint;

-- log mode keeps a row whose json column jsonb could not hold; the log
-- row has that column as a JSON string of its text
-- (so are json[], composites with json inside, and types row_to_json
-- writes through their cast to json)
CREATE TYPE regress_meta AS (source text, payload json);
CREATE TYPE regress_mood AS ENUM ('happy', 'odd');
CREATE FUNCTION regress_mood_json(regress_mood) RETURNS json LANGUAGE sql IMMUTABLE
  AS $$ SELECT CASE WHEN $1 = 'odd' THEN '{"n": 1e999999}'::json ELSE '"happy"'::json END $$;
CREATE CAST (regress_mood AS json) WITH FUNCTION regress_mood_json(regress_mood);
ALTER TABLE tenants ADD COLUMN meta json, ADD COLUMN metas json[], ADD COLUMN tagged regress_meta,
  ADD COLUMN mood regress_mood;
BEGIN;
SET LOCAL tenant_guard.mode = log;
INSERT INTO tenants (name, subdomain, email, meta, metas, tagged, mood)
VALUES ('Demo Co', 'demo-co', 'a@acme.com', '{"a": "\u0000"}', ARRAY['"\u0000"'::json],
        ROW('crm', '{"n": 1e999999}'), 'odd') RETURNING name, meta;
COMMIT;
SELECT data->'meta' AS meta, data->'metas' AS metas, data->'tagged' AS tagged, data->'mood' AS mood, action
  FROM tenant_guard.test_data_prevention_logs WHERE data->>'subdomain' = 'demo-co';
ALTER TABLE tenants DROP COLUMN meta, DROP COLUMN metas, DROP COLUMN tagged, DROP COLUMN mood;
DROP TYPE regress_meta;
DROP CAST (regress_mood AS json);
DROP FUNCTION regress_mood_json(regress_mood);
DROP TYPE regress_mood;

-- the application's own checks
SELECT tenant_guard.log_suspicious_request('/api/signup', '{"email": "qa@acme.com"}', 'honeypot field filled', '198.51.100.4') > 0 AS logged;
-- NULL endpoint / ip fall back to the GUCs
BEGIN;
SET LOCAL tenant_guard.endpoint = '/api/other';
SET LOCAL tenant_guard.client_addr = '192.0.2.1';
SELECT tenant_guard.log_suspicious_request(NULL, NULL, 'too many fields') > 0 AS logged;
COMMIT;
SELECT endpoint, data, reason, ip_address, action FROM tenant_guard.test_data_prevention_logs
 WHERE action = 'reported' ORDER BY id;
-- bad input
SELECT tenant_guard.log_suspicious_request('/x', NULL, NULL, NULL);
SELECT tenant_guard.log_suspicious_request('/x', NULL, '', NULL);
SELECT tenant_guard.log_suspicious_request('/x', NULL, repeat('r', 8193), NULL);
SELECT tenant_guard.log_suspicious_request(repeat('e', 1025), NULL, 'r', NULL);
SELECT tenant_guard.log_suspicious_request('/x', NULL, 'r', 'bogus');
-- data is bounded too: at most 8192 bytes as JSON text, refused (not cut) beyond
SELECT tenant_guard.log_suspicious_request('/x', jsonb_build_object('x', repeat('a', 8183)), 'at the bound') > 0 AS logged;
SELECT tenant_guard.log_suspicious_request('/x', jsonb_build_object('x', repeat('a', 8184)), 'one byte over');
SELECT tenant_guard.log_suspicious_request('/x', jsonb_build_object('body', repeat('x', 1024 * 1024)), '1 MB');
SELECT tenant_guard.log_suspicious_request('/x', '"just a string"', 'data need not be an object') > 0 AS logged;
-- the bounds count bytes, not characters (é is 2 bytes in UTF-8)
SELECT tenant_guard.log_suspicious_request(repeat('é', 512), jsonb_build_object('x', repeat('é', 4091)), repeat('é', 4096)) > 0 AS logged;
SELECT tenant_guard.log_suspicious_request('/x', jsonb_build_object('x', repeat('é', 4092)), 'r');
SELECT tenant_guard.log_suspicious_request('/x', NULL, repeat('é', 4096) || 'r');
SELECT tenant_guard.log_suspicious_request(repeat('é', 512) || 'e', NULL, 'r');
SELECT length(endpoint) AS endpoint_chars, octet_length(endpoint) AS endpoint_bytes,
       octet_length(data::text) AS data_bytes, octet_length(reason) AS reason_bytes
  FROM tenant_guard.test_data_prevention_logs WHERE action = 'reported' AND reason LIKE 'é%';
-- odd Unicode is stored as given: right-to-left override, zero-width space,
-- combining accent, emoji, fullwidth letters
SELECT tenant_guard.log_suspicious_request(E'/api/\u202Esignup',
         jsonb_build_object('name', E'Te\u200Bst\u0301 \U0001F600 ｍara'),
         E'honeypot \u202Edellif') AS odd_id \gset
SELECT endpoint = E'/api/\u202Esignup' AS endpoint_kept,
       data->>'name' = E'Te\u200Bst\u0301 \U0001F600 ｍara' AS data_kept,
       reason = E'honeypot \u202Edellif' AS reason_kept
  FROM tenant_guard.test_data_prevention_logs WHERE id = :odd_id;
-- jsonb itself refuses what it cannot hold (a NUL, a lone surrogate) before the call
SELECT tenant_guard.log_suspicious_request('/x', '{"x": "\u0000"}', 'r');
SELECT tenant_guard.log_suspicious_request('/x', '{"x": "\ud800"}', 'r');

-- the latest 20 use the created_at index
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM tenant_guard.test_data_prevention_logs ORDER BY created_at DESC LIMIT 20;
RESET enable_seqscan;

-- the log is kept by pg_dump
SELECT extconfig::regclass[] FROM pg_extension WHERE extname = 'tenant_guard';

DROP TABLE tenants;
DELETE FROM tenant_guard.test_data_prevention_logs;
