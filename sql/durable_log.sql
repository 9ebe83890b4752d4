-- The durable rejection log: in enforce mode every rejected row leaves
-- exactly one log row (action 'rejected'), although the rejecting
-- transaction rolls back.  A background writer inserts it shortly after.
SELECT tenant_guard.log_queue_wait();
DELETE FROM tenant_guard.test_data_prevention_logs;
CREATE TABLE tenants (id serial, name text, subdomain text, email text);
SELECT tenant_guard.attach('tenants');
CREATE ROLE regress_app LOGIN;
GRANT INSERT, UPDATE, SELECT ON tenants TO regress_app;
GRANT USAGE ON SEQUENCE tenants_id_seq TO regress_app;

-- the regression cluster preloads the library: the log is durable
SELECT preloaded, durable, status, launcher_pid IS NOT NULL AS launcher_running,
       queue_bytes >= 64 * 1024 AS has_queue
  FROM tenant_guard.log_queue_status();
SELECT enqueued_total AS enq0, written_total AS wr0, dropped_total AS dr0
  FROM tenant_guard.log_queue_status() \gset
SELECT clock_timestamp() AS t0 \gset

-- a rejected row, with the request context the application sets
BEGIN;
SET LOCAL tenant_guard.client_addr = '203.0.113.9';
SET LOCAL tenant_guard.endpoint = '/api/signup';
SET LOCAL application_name = 'signup-service';
INSERT INTO tenants (name, subdomain, email) VALUES ('Test Company', 'test-company-123', 'test@example.com');
ROLLBACK;
SELECT count(*) FROM tenants;
-- wait for the writer: poll at most 10 s
DO $$
BEGIN
  FOR i IN 1..100 LOOP
    EXIT WHEN EXISTS (SELECT 1 FROM tenant_guard.test_data_prevention_logs
                       WHERE endpoint = '/api/signup');
    PERFORM pg_sleep(0.1);
  END LOOP;
END $$;
-- created_at is the time of the attempt
SELECT endpoint, data - 'id' AS data, reason, ip_address, role_name, application_name, action,
       created_at BETWEEN :'t0' AND clock_timestamp() AS attempt_time
  FROM tenant_guard.test_data_prevention_logs ORDER BY id;
-- exactly one: nothing else arrives once the queue has drained
SELECT tenant_guard.log_queue_wait();
SELECT count(*) FROM tenant_guard.test_data_prevention_logs;
DELETE FROM tenant_guard.test_data_prevention_logs;

-- an application role without rights on the log; a caught rejection
-- (savepoint) counts too; a multi-row INSERT stops at its first bad row;
-- an UPDATE is logged with the new row; a good row leaves nothing
SET ROLE regress_app;
INSERT INTO tenants (name, subdomain, email) VALUES ('Acme Corporation', 'acme-corp', 'contact@acme.com');
DO $$
BEGIN
  INSERT INTO tenants (name, subdomain, email) VALUES ('Fake Co', 'fake', 'a@acme.com');
EXCEPTION WHEN SQLSTATE 'TG001' THEN
  RAISE NOTICE 'caught %', SQLSTATE;
END $$;
INSERT INTO tenants (name, subdomain, email)
VALUES ('Dummy One', 'one', 'a@acme.com'), ('Dummy Two', 'two', 'b@acme.com');
UPDATE tenants SET email = 'boss@mailinator.com' WHERE subdomain = 'acme-corp';
SELECT count(*) FROM tenant_guard.test_data_prevention_logs;
RESET ROLE;
SELECT tenant_guard.log_queue_wait();
SELECT role_name, action, data->>'name' AS name, data->>'email' AS email, reason
  FROM tenant_guard.test_data_prevention_logs ORDER BY created_at, id;
DELETE FROM tenant_guard.test_data_prevention_logs;

-- large values are cut to 1024 bytes (at a character boundary) and the
-- row is marked "truncated"; other columns are kept whole
INSERT INTO tenants (name, subdomain, email)
VALUES ('Test ' || repeat('x', 100000), 'big', 'big@acme.com');
INSERT INTO tenants (name, subdomain, email)
VALUES ('Demo ' || repeat('é', 600), 'accents', 'a@acme.com');
SELECT tenant_guard.log_queue_wait();
SELECT octet_length(data->>'name') AS name_bytes, data->>'subdomain' AS subdomain,
       data->>'email' AS email, data->'truncated' AS truncated,
       right(data->>'name', 3) AS name_ends
  FROM tenant_guard.test_data_prevention_logs ORDER BY id;
DELETE FROM tenant_guard.test_data_prevention_logs;

-- a json column may hold what jsonb refuses (\u0000, a number beyond
-- numeric's range): such a column is logged as a JSON string of its text,
-- a jsonb column as it is
ALTER TABLE tenants ADD COLUMN meta json, ADD COLUMN extra jsonb;
INSERT INTO tenants (name, subdomain, email, meta, extra)
VALUES ('Test Company', 'nul', 'a@acme.com', '{"a": "\u0000", "n": 1e999999}', '{"b": 1}');
SELECT tenant_guard.log_queue_wait();
SELECT data->'meta' AS meta, data->'extra' AS extra, data->>'subdomain' AS subdomain
  FROM tenant_guard.test_data_prevention_logs ORDER BY id;
DELETE FROM tenant_guard.test_data_prevention_logs;
ALTER TABLE tenants DROP COLUMN meta, DROP COLUMN extra;

-- superusers may turn the queue off (rejections then reach only the
-- server log); application roles may not
SET ROLE regress_app;
SET tenant_guard.durable_log = off;
RESET ROLE;
SET tenant_guard.durable_log = off;
INSERT INTO tenants (name, subdomain, email) VALUES ('Dummy Ltd', 'dummy', 'a@acme.com');
SELECT durable, status FROM tenant_guard.log_queue_status();
RESET tenant_guard.durable_log;
SELECT tenant_guard.log_queue_wait();
SELECT count(*) FROM tenant_guard.test_data_prevention_logs;

-- every rejection above was queued once and written, none dropped
SELECT enqueued_total - :enq0 AS enqueued, written_total - :wr0 AS written,
       dropped_total - :dr0 AS dropped, queued_now
  FROM tenant_guard.log_queue_status();

-- bad input
SELECT tenant_guard.log_queue_wait(-1);
SELECT tenant_guard.log_queue_wait(NULL);
-- the status is public (counts, no end-user data)
SET ROLE regress_app;
SELECT preloaded, status FROM tenant_guard.log_queue_status();
RESET ROLE;

DROP TABLE tenants;
DROP ROLE regress_app;
