#!/usr/bin/env bash
# test/demo.sh -- the demo: replays the incident's signup scenario.
#
# Installs missing Debian packages, builds and installs tenant_guard,
# starts a throwaway cluster in .demo/ (as the postgres OS user), creates
# the extension, attaches it to a tenants table and shows the blocked and
# the allowed signup, the rate limit, the log rows and a protected purge.
# The cluster is stopped at the end.
source "$(dirname "$0")/lib.sh"

ensure_packages
make_workdir .demo
build_install
TG_PORT=54349 start_cluster

say "the demo (psql output follows)"
psql_pg -d postgres --echo-queries -v ON_ERROR_STOP=0 <<'SQL'
CREATE EXTENSION tenant_guard;

CREATE TABLE tenants (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name       text NOT NULL,
    subdomain  text NOT NULL UNIQUE,
    email      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
SELECT tenant_guard.attach('tenants');

-- the application sets the request context per transaction
BEGIN;
SET LOCAL tenant_guard.client_addr = '203.0.113.7';
SET LOCAL tenant_guard.endpoint = '/api/tenants';
-- the seed's test signup: blocked
INSERT INTO tenants (name, subdomain, email)
VALUES ('Test Company', 'test-company-123', 'test@example.com');
ROLLBACK;

BEGIN;
SET LOCAL tenant_guard.client_addr = '198.51.100.23';
SET LOCAL tenant_guard.endpoint = '/api/tenants';
-- a real customer: allowed
INSERT INTO tenants (name, subdomain, email)
VALUES ('Acme Corporation', 'acme-corp', 'contact@acme.com')
RETURNING name, subdomain, email;
COMMIT;

-- what the checker says, and why
SELECT name, subdomain, email, c.is_suspicious, c.reason
  FROM (VALUES ('Test Company', 'test-company-123', 'test@example.com'),
               ('Acme Corporation', 'acme-corp', 'contact@acme.com'),
               ('Contest Media', 'contest-media', 'hello@contestmedia.com'),
               ('Demo Org', 'demo', 'x@mailinator.com')) AS v(name, subdomain, email),
       tenant_guard.check_tenant(name, subdomain, email) AS c;

-- three more signups from the same address within the hour: the third is refused
-- (3 tenants per hour per IP by default)
BEGIN;
SET LOCAL tenant_guard.client_addr = '198.51.100.23';
INSERT INTO tenants (name, subdomain, email) VALUES ('Globex Logistics', 'globex', 'ops@globex.com');
COMMIT;
BEGIN;
SET LOCAL tenant_guard.client_addr = '198.51.100.23';
INSERT INTO tenants (name, subdomain, email) VALUES ('Initech Labs', 'initech', 'it@initech.io');
COMMIT;
BEGIN;
SET LOCAL tenant_guard.client_addr = '198.51.100.23';
INSERT INTO tenants (name, subdomain, email) VALUES ('Hooli Media', 'hooli', 'press@hooli.com');
ROLLBACK;

-- an administrator switches to log mode for a migration: rows are kept and logged
BEGIN;
SET LOCAL tenant_guard.mode = 'log';
SET LOCAL tenant_guard.client_addr = '192.0.2.10';
SET LOCAL tenant_guard.endpoint = '/admin/import';
INSERT INTO tenants (name, subdomain, email) VALUES ('Sample Org', 'sample-org', 'ops@acme.com');
COMMIT;

-- the application reports a check of its own
SELECT tenant_guard.log_suspicious_request('/api/signup', '{"email": "qa+1@acme.com"}',
                                           'honeypot field filled', '203.0.113.99') AS log_id;

-- the log: rejected rows arrive through the durable queue although their
-- transactions rolled back
SELECT tenant_guard.log_queue_wait();
SELECT id, created_at::timestamp(0) AS at, action, endpoint, ip_address, reason
  FROM tenant_guard.test_data_prevention_logs ORDER BY created_at DESC, id DESC LIMIT 20;
SELECT * FROM tenant_guard.failed_attempts_by_ip();

-- clean-up: protect the real customer, look at the dry run, then purge
SELECT tenant_guard.protect(id::text, 'the real customer') FROM tenants WHERE subdomain = 'acme-corp';
SELECT tenant_id, name, reason, total_deleted FROM tenant_guard.purge_test_tenants();
SELECT count(*) AS purged FROM tenant_guard.purge_test_tenants(dry_run => false);
DELETE FROM tenants WHERE subdomain = 'acme-corp';
SELECT name, subdomain, email FROM tenants ORDER BY created_at;
SELECT tenant->>'name' AS purged_tenant, purged_by, redis_cleaned_at FROM tenant_guard.purge_journal;
SQL

say "demo done; the cluster in $WORK/cluster is stopped now"
