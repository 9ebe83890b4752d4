-- Alerts: creation counts (committed only), every rule of alerts(), the
-- thresholds, check_alerts() transitions, diagnose(), privileges.
-- Runs in a database of its own, so that other tests' guarded tables and
-- log rows do not show up in the rules.
CREATE DATABASE regress_tg_alerts;
\c regress_tg_alerts
SET client_min_messages = warning;
CREATE EXTENSION tenant_guard;
RESET client_min_messages;
CREATE TABLE tenants (id serial PRIMARY KEY, name text, subdomain text, email text UNIQUE);
SELECT tenant_guard.attach('tenants');
-- a table without created_at, partitioned: counted under the parent
CREATE TABLE orgs (id int, name text) PARTITION BY RANGE (id);
CREATE TABLE orgs_1 PARTITION OF orgs FOR VALUES FROM (0) TO (100);
CREATE TABLE orgs_2 PARTITION OF orgs FOR VALUES FROM (100) TO (200);
SELECT tenant_guard.attach('orgs', subdomain_column => NULL, email_column => NULL, id_column => 'id');

-- creations: committed rows only
INSERT INTO tenants (name, subdomain, email) VALUES ('Acme', 'acme', 'ops@acme.com'), ('Beta Labs', 'beta', 'ops@beta.io');
BEGIN;
INSERT INTO tenants (name, subdomain, email) VALUES ('Gamma', 'gamma', 'ops@gamma.io');
ROLLBACK;
-- ON CONFLICT: the skipped row and the updated row create no tenant
INSERT INTO tenants (name, subdomain, email) VALUES ('Acme again', 'acme2', 'ops@acme.com')
  ON CONFLICT (email) DO NOTHING;
INSERT INTO tenants (name, subdomain, email) VALUES ('Beta again', 'beta2', 'ops@beta.io')
  ON CONFLICT (email) DO UPDATE SET name = excluded.name;
INSERT INTO tenants (name, subdomain, email) VALUES ('Delta', 'delta', 'ops@delta.io')
  ON CONFLICT (email) DO NOTHING;
-- a rolled-back savepoint and a caught error take their rows back
BEGIN;
INSERT INTO tenants (name, subdomain, email) VALUES ('Epsilon', 'epsilon', 'ops@epsilon.io');
SAVEPOINT s1;
INSERT INTO tenants (name, subdomain, email) VALUES ('Zeta', 'zeta', 'ops@zeta.io');
SAVEPOINT s2;
INSERT INTO tenants (name, subdomain, email) VALUES ('Eta', 'eta', 'ops@eta.io');
RELEASE s2;
ROLLBACK TO s1;
INSERT INTO tenants (name, subdomain, email) VALUES ('Theta', 'theta', 'ops@theta.io');
COMMIT;
DO $$
BEGIN
  BEGIN
    INSERT INTO tenants (name, subdomain, email) VALUES ('Iota', 'iota', 'ops@iota.io');
    RAISE EXCEPTION 'undo';
  EXCEPTION WHEN raise_exception THEN NULL;
  END;
  INSERT INTO tenants (name, subdomain, email) VALUES ('Kappa', 'kappa', 'ops@kappa.io');
END
$$;
-- mode off: the guard sees nothing, counts nothing
SET tenant_guard.mode = off;
INSERT INTO tenants (name, subdomain, email) VALUES ('Lambda', 'lambda', 'ops@lambda.io');
-- log mode keeps (and counts) a suspicious row
SET tenant_guard.mode = log;
INSERT INTO tenants (name, subdomain, email) VALUES ('test company', 'test-co', 'qa@mailinator.com');
RESET tenant_guard.mode;
INSERT INTO orgs VALUES (1, 'Harbor Cafe'), (150, 'Blue Anchor');
-- Acme, Beta Labs, Delta, Epsilon, Theta, Kappa, test company; two orgs
SELECT * FROM tenant_guard.creations() ORDER BY tbl::text;
SELECT * FROM tenant_guard.creations('24 hours') ORDER BY tbl::text;
SELECT tbl, created FROM tenant_guard.creations_hourly() ORDER BY tbl::text;
SELECT * FROM tenant_guard.creations('0');
SELECT * FROM tenant_guard.creations(NULL);
SELECT * FROM tenant_guard.creations('25 hours');

-- every rule, one row each (values that depend on the whole cluster left out)
SELECT alert, firing, CASE WHEN alert IN ('rate_limit_memory_full') THEN NULL ELSE value END AS value, threshold
  FROM tenant_guard.alerts();
SELECT detail FROM tenant_guard.alerts() WHERE alert IN ('tenant_creation_rate', 'test_tenants');

-- thresholds: superusers only
SET tenant_guard.alert_creations_per_hour = 6;
SELECT alert, firing, value, threshold, detail FROM tenant_guard.alerts() WHERE alert = 'tenant_creation_rate';
SET tenant_guard.alert_creations_per_hour = -1;
CREATE ROLE regress_tg_alert_admin;
GRANT tenant_guard_admin TO regress_tg_alert_admin;
CREATE ROLE regress_tg_nobody;
SET ROLE regress_tg_alert_admin;
SET tenant_guard.alert_creations_per_hour = 100;
SELECT alert, firing FROM tenant_guard.alerts() WHERE alert = 'tenant_creation_rate';
SET ROLE regress_tg_nobody;
SELECT * FROM tenant_guard.alerts();
SELECT * FROM tenant_guard.check_alerts();
SELECT * FROM tenant_guard.diagnose();
SELECT * FROM tenant_guard.creations();
RESET ROLE;

-- failed_creations: real rejections, written by the durable log
SET tenant_guard.alert_failed_per_hour = 1;
INSERT INTO tenants (name, subdomain, email) VALUES ('test one', 'test-one', 'a@mailinator.com');
INSERT INTO tenants (name, subdomain, email) VALUES ('test two', 'test-two', 'b@mailinator.com');
SELECT tenant_guard.log_queue_wait();
SELECT alert, firing, value, threshold, detail FROM tenant_guard.alerts() WHERE alert = 'failed_creations';

-- check_alerts(): transitions recorded once, resolved when they stop
SELECT alert, state, value FROM tenant_guard.check_alerts() ORDER BY alert;
SELECT alert, state, value FROM tenant_guard.check_alerts() ORDER BY alert;
-- guard_disabled, mode_not_enforce, protected_missing start firing
ALTER TABLE orgs_2 DISABLE TRIGGER tenant_guard;
ALTER ROLE regress_tg_nobody IN DATABASE regress_tg_alerts SET tenant_guard.mode = 'log';
SELECT tenant_guard.protect('150', 'an org');
SELECT tenant_guard.protect('2', 'a tenant');
SET session_replication_role = replica;
DELETE FROM orgs WHERE id = 150;
RESET session_replication_role;
SELECT alert, state, value, detail FROM tenant_guard.check_alerts() ORDER BY alert;
-- the test tenant goes, the limits rise: resolved
DELETE FROM tenants WHERE name = 'test company';
SET tenant_guard.alert_creations_per_hour = 100;
SET tenant_guard.alert_failed_per_hour = 100;
SELECT alert, state, value FROM tenant_guard.check_alerts() ORDER BY alert;
SELECT alert, state FROM tenant_guard.alert_transitions ORDER BY id;
-- only check_alerts() writes the transitions
SET ROLE regress_tg_alert_admin;
INSERT INTO tenant_guard.alert_transitions (alert, state) VALUES ('forged', 'firing');
SELECT count(*) FROM tenant_guard.alerts();
RESET ROLE;
UPDATE tenant_guard.alert_transitions SET state = 'resolved';

-- protected_missing() looks ids up by the key's base type: a domain's
-- CHECK (the table owner's code) does not run as the function's owner
CREATE FUNCTION regress_is_even(int) RETURNS boolean LANGUAGE plpgsql AS
  $$BEGIN RAISE NOTICE 'domain check ran as %', current_user; RETURN $1 % 2 = 0; END$$;
CREATE DOMAIN regress_even AS int CHECK (regress_is_even(VALUE));
CREATE TABLE dom_tenants (id regress_even PRIMARY KEY, name text);
SELECT tenant_guard.attach('dom_tenants', subdomain_column => NULL, email_column => NULL, id_column => 'id');
SET client_min_messages = warning;
INSERT INTO dom_tenants VALUES (4, 'Harbor Cafe');
RESET client_min_messages;
SELECT tenant_guard.protect('4', 'even');
SELECT * FROM tenant_guard.protected_missing();

-- flagged_tenants(): bad input
SELECT * FROM tenant_guard.flagged_tenants('pg_class');
SELECT * FROM tenant_guard.flagged_tenants('tenants', -1);
SELECT * FROM tenant_guard.flagged_tenants('tenants', NULL);
SELECT tenants, flagged FROM tenant_guard.flagged_tenants('tenants', 0);

-- diagnose(): hour rows and cluster-wide values left out
SELECT section, item, CASE WHEN section IN ('rate limits', 'durable log') THEN NULL ELSE value END AS value, status
  FROM tenant_guard.diagnose()
 WHERE item NOT LIKE 'created 20%';

-- leave the cluster-wide rate-limit memory as we found it
SELECT tenant_guard.rate_limit_reset() > 0 AS forgot_some;
\c contrib_regression
DROP DATABASE regress_tg_alerts;
DROP ROLE regress_tg_alert_admin;
DROP ROLE regress_tg_nobody;
