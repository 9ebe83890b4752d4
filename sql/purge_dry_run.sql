-- The incident's first step: a dry run over tenant_guard.purge_max_share
-- lists the tenants (with a WARNING) instead of failing; the real run is
-- still refused without force.
CREATE TABLE dry_tenants (id int PRIMARY KEY, name text, subdomain text, email text);
SELECT tenant_guard.attach('dry_tenants');
SET tenant_guard.mode = off;   -- the fixtures are test data on purpose
INSERT INTO dry_tenants VALUES
  (1, 'Northwind Traders', 'northwind', 'it@northwind.com'),
  (2, 'Test Company', 'test-company-123', 'test@example.com'),
  (3, 'Demo Org', 'demo-org', 'x@mailinator.com'),
  (4, 'Fake Shop', 'fake-shop', 'qa@mailinator.com');
RESET tenant_guard.mode;
-- 3 of 4 (75%) over the default share of 50%: listed, with a WARNING
SELECT tenant_id, reason FROM tenant_guard.purge_test_tenants(tenants => 'dry_tenants') ORDER BY 1;
SELECT count(*) FROM dry_tenants;
-- the real run: refused without force, done with it (rolled back: the
-- journal keeps no rows of this test)
SELECT tenant_id FROM tenant_guard.purge_test_tenants(dry_run => false, tenants => 'dry_tenants');
BEGIN;
SELECT tenant_id FROM tenant_guard.purge_test_tenants(dry_run => false, force => true, tenants => 'dry_tenants') ORDER BY 1;
SELECT id, name FROM dry_tenants;
ROLLBACK;
SELECT tenant_guard.detach('dry_tenants');
DROP TABLE dry_tenants;
