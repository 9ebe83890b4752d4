-- Failed tenant creations for monitoring: rejected log rows (suspicious
-- data and rate-limit refusals), overall, per client address and per hour.
-- The checks run on a log the test controls: in one REPEATABLE READ
-- transaction that empties the log (rows other sessions add meanwhile stay
-- invisible to it) and rolls back at the end; errors roll back to an
-- automatic savepoint.
\set ON_ERROR_ROLLBACK on
BEGIN ISOLATION LEVEL REPEATABLE READ;
DELETE FROM tenant_guard.test_data_prevention_logs;
INSERT INTO tenant_guard.test_data_prevention_logs
       (endpoint, reason, ip_address, role_name, action, created_at)
SELECT '/api/tenants', r.reason, r.ip::inet, 'app', r.action, now() - r.age
  FROM (VALUES
    -- the last hour: 8 + 3 from one address (3 of them rate limits) ...
    ('name: test keyword "test"', '203.0.113.7', 'rejected', interval '1 minute', 8),
    ('rate limit: 3 tenants per hour per IP 203.0.113.7', '203.0.113.7', 'rejected', interval '2 minutes', 3),
    -- ... 2 from another, 1 of unknown origin ...
    ('email: test domain "example.com"', '198.51.100.1', 'rejected', interval '59 minutes', 2),
    ('rate limit: 3 tenants per hour per email jane@acme.com', NULL, 'rejected', interval '30 minutes', 1),
    -- ... and rows that are not failed creations
    ('name: test keyword "demo"', '203.0.113.7', 'logged', interval '5 minutes', 4),
    ('the application said so', '203.0.113.7', 'reported', interval '5 minutes', 4),
    -- earlier: 2 and 26 hours ago
    ('name: test keyword "fake"', '203.0.113.7', 'rejected', interval '2 hours', 5),
    ('name: test keyword "fake"', '192.0.2.1', 'rejected', interval '26 hours', 7)
  ) AS r(reason, ip, action, age, n), generate_series(1, r.n);

-- the operator's alert rule: more than 10 failed creations in an hour
SELECT tenant_guard.failed_attempts() AS last_hour,
       tenant_guard.failed_attempts() > 10 AS alert;
SELECT tenant_guard.failed_attempts('3 hours') AS last_3_hours,
       tenant_guard.failed_attempts('1 day') AS last_day,
       tenant_guard.failed_attempts('1 week') AS last_week,
       tenant_guard.failed_attempts('30 seconds') AS last_30_seconds;
-- per address
SELECT tenant_guard.failed_attempts('1 hour', '203.0.113.7') AS from_7,
       tenant_guard.failed_attempts('1 day', '203.0.113.7') AS from_7_day,
       tenant_guard.failed_attempts('1 hour', '203.0.113.99') AS from_99;
SELECT ip_address, attempts, rate_limited,
       now() - first_attempt AS first_ago, now() - last_attempt AS last_ago
  FROM tenant_guard.failed_attempts_by_ip();
SELECT ip_address, attempts FROM tenant_guard.failed_attempts_by_ip('1 week');
-- per clock hour (the buckets depend on the time of day: check their sums)
SELECT sum(attempts) AS attempts, sum(rate_limited) AS rate_limited,
       bool_and(hour = date_trunc('hour', hour)) AS whole_hours,
       bool_and(addresses <= attempts) AS addresses_ok
  FROM tenant_guard.failed_attempts_hourly();
SELECT sum(attempts) AS attempts FROM tenant_guard.failed_attempts_hourly('2 days');

-- bad input
SELECT tenant_guard.failed_attempts(NULL);
SELECT tenant_guard.failed_attempts('-1 hour');
SELECT tenant_guard.failed_attempts('0');
SELECT tenant_guard.failed_attempts('1 hour', NULL);
SELECT * FROM tenant_guard.failed_attempts_by_ip(NULL);
SELECT * FROM tenant_guard.failed_attempts_hourly('-1 day');

-- who may: admins, and a monitoring role they grant it to, which gets the
-- counts without the log rows behind them
CREATE ROLE regress_nobody LOGIN;
CREATE ROLE regress_admin LOGIN IN ROLE tenant_guard_admin;
CREATE ROLE regress_monitor LOGIN;
GRANT EXECUTE ON FUNCTION tenant_guard.failed_attempts(interval) TO regress_monitor;
SET ROLE regress_nobody;
SELECT tenant_guard.failed_attempts();
SELECT * FROM tenant_guard.failed_attempts_by_ip();
RESET ROLE;
SET ROLE regress_admin;
SELECT tenant_guard.failed_attempts() AS admin_sees,
       (SELECT count(*) FROM tenant_guard.failed_attempts_by_ip()) AS addresses;
RESET ROLE;
SET ROLE regress_monitor;
SELECT tenant_guard.failed_attempts() AS monitor_sees;
SELECT count(*) FROM tenant_guard.test_data_prevention_logs;
RESET ROLE;

-- per-address counts can use an index over (ip_address, created_at)
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM tenant_guard.test_data_prevention_logs l
 WHERE l.action = 'rejected' AND l.ip_address = '203.0.113.7' AND l.created_at > now() - interval '1 hour';
ROLLBACK;
\unset ON_ERROR_ROLLBACK

-- the roles went with the transaction
SELECT rolname FROM pg_roles WHERE rolname IN ('regress_nobody', 'regress_admin', 'regress_monitor');
