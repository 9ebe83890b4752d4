-- Key text is canonical: protection and the purge compare tenant keys as
-- text produced under pinned output settings, so a session's bytea_output,
-- TimeZone, DateStyle, IntervalStyle or extra_float_digits neither bypasses
-- protection nor changes the ids stored in protected_tenants/purge_journal.
SET tenant_guard.mode = off;   -- the fixtures are test data on purpose
CREATE TABLE btenants (id bytea PRIMARY KEY, name text, subdomain text, email text);
SELECT tenant_guard.attach('btenants', id_column => 'id');
INSERT INTO btenants VALUES
  ('\x0102', 'Harbor Cafe', 'harborb', 'x@harbor-cafe.de'),
  ('\x0103', 'Quay Bakery', 'quayb', 'x@quay-bakery.de');
CREATE TABLE ttenants (id timestamptz PRIMARY KEY, name text, subdomain text, email text);
SELECT tenant_guard.attach('ttenants', id_column => 'id');
INSERT INTO ttenants VALUES
  ('2026-01-31 19:00:00-05', 'Test Company', 'test-company-1', 'test@example.com'),
  ('2026-02-01 08:00:00+00', 'Demo Org', 'demo-org-2', 'x@mailinator.com'),
  ('2026-03-01 12:00:00+00', 'Harbor Hotel', 'harbort', 'x@harbor-hotel.de');
RESET tenant_guard.mode;
CREATE ROLE regress_keytext_app;
GRANT SELECT, UPDATE, DELETE ON btenants, ttenants TO regress_keytext_app;

-- protect() under odd settings protects the same tenants, stored canonical
SET bytea_output = 'escape';
SELECT tenant_guard.protect('\x0102', 'bytea');
SELECT tenant_guard.protect('\001\002');            -- the same key, escape form
RESET bytea_output;
SET TimeZone = 'America/New_York';
SET DateStyle = 'SQL, DMY';
SELECT tenant_guard.protect('2026-01-31 19:00:00-05', 'timestamptz');
SELECT tenant_guard.protect('2026-02-01 00:00:00+00');  -- the same instant in UTC
RESET TimeZone;
RESET DateStyle;
SELECT tenant_id, note FROM tenant_guard.protected_tenants ORDER BY tenant_id COLLATE "C";

-- the purge under another TimeZone skips the protected tenant and writes
-- the journal's tenant_id in the canonical form (protect() ran under New York)
SET TimeZone = 'Asia/Tokyo';
SET DateStyle = 'Postgres, DMY';
SELECT tenant_id, name, reason FROM tenant_guard.purge_test_tenants(dry_run => false, tenants => 'ttenants');
SELECT tenant_guard.purge_test_tenants(dry_run => false, ids => ARRAY['2026-01-31 19:00:00-05'], tenants => 'ttenants');
RESET TimeZone;
RESET DateStyle;
SELECT tenant_table, tenant_id FROM tenant_guard.purge_journal WHERE tenant_table LIKE '%.ttenants';
SELECT id AT TIME ZONE 'UTC', name FROM ttenants ORDER BY id;
-- the protected tenants survive DELETE, key UPDATE and TRUNCATE under any settings
SET ROLE regress_keytext_app;
DELETE FROM btenants WHERE name = 'Harbor Cafe';
SET bytea_output = 'escape';
DELETE FROM btenants WHERE name = 'Harbor Cafe';
UPDATE btenants SET id = '\x0104' WHERE name = 'Harbor Cafe';
RESET bytea_output;
DELETE FROM ttenants WHERE name = 'Test Company';
SET TimeZone = 'Asia/Tokyo';
DELETE FROM ttenants WHERE name = 'Test Company';
UPDATE ttenants SET id = id + interval '1 second' WHERE name = 'Test Company';
SET DateStyle = 'German';
DELETE FROM ttenants WHERE name = 'Test Company';
RESET DateStyle;
RESET TimeZone;
-- an UPDATE that keeps the key passes under any settings
SET bytea_output = 'escape';
UPDATE btenants SET email = 'y@harbor-cafe.de' WHERE name = 'Harbor Cafe';
RESET bytea_output;
RESET ROLE;
SET bytea_output = 'escape';
TRUNCATE btenants;
RESET bytea_output;
SET TimeZone = 'Pacific/Auckland';
SET DateStyle = 'Postgres, DMY';
TRUNCATE ttenants;
RESET TimeZone;
RESET DateStyle;
-- unprotected tenants go under odd settings as usual
SET ROLE regress_keytext_app;
SET bytea_output = 'escape';
DELETE FROM btenants WHERE name = 'Quay Bakery';
RESET bytea_output;
SET TimeZone = 'Asia/Tokyo';
DELETE FROM ttenants WHERE name = 'Harbor Hotel';
RESET TimeZone;
RESET ROLE;
SELECT encode(id, 'hex'), name FROM btenants ORDER BY id;
SELECT id AT TIME ZONE 'UTC', name FROM ttenants ORDER BY id;

-- protected_missing() finds the protected rows under any settings
SET TimeZone = 'Asia/Tokyo';
SET bytea_output = 'escape';
SELECT tenant_id FROM tenant_guard.protected_missing()
 WHERE tenant_id IN ('\x0102', '2026-02-01 00:00:00+00');
RESET TimeZone;
RESET bytea_output;
-- live_tenant_ids() gives the same canonical text under any settings
SET TimeZone = 'Asia/Tokyo';
SET bytea_output = 'escape';
SELECT tenant_table, tenant_id FROM tenant_guard.live_tenant_ids() WHERE tenant_table IN ('btenants'::regclass, 'ttenants'::regclass) ORDER BY 1, 2;
RESET TimeZone;
RESET bytea_output;

-- unprotect() under odd settings finds the canonical row
SET bytea_output = 'escape';
SELECT tenant_guard.unprotect('\001\002');
RESET bytea_output;
SET TimeZone = 'Asia/Tokyo';
SELECT tenant_guard.unprotect('2026-02-01 09:00:00+09');
RESET TimeZone;
SELECT count(*) FROM tenant_guard.protected_tenants;

-- which key types pin the settings: through domains, arrays, ranges, composites
CREATE DOMAIN regress_bytes AS bytea;
CREATE TYPE regress_pair AS (a int, b regress_bytes);
CREATE TABLE dtenants (id regress_pair[] PRIMARY KEY, name text, subdomain text, email text);
SELECT tenant_guard.attach('dtenants', id_column => 'id');
INSERT INTO dtenants VALUES (ARRAY[ROW(1, '\x01')::regress_pair], 'Pier Books', 'pier', 'x@pier-books.de');
SELECT tenant_guard.protect('{"(1,\"\\\\x01\")"}');
GRANT DELETE, SELECT ON dtenants TO regress_keytext_app;
SET ROLE regress_keytext_app;
SET bytea_output = 'escape';
DELETE FROM dtenants;
RESET bytea_output;
RESET ROLE;
SELECT tenant_guard.unprotect('{"(1,\"\\\\x01\")"}');

SELECT tenant_guard.detach('btenants');
SELECT tenant_guard.detach('ttenants');
SELECT tenant_guard.detach('dtenants');
DROP TABLE btenants, ttenants, dtenants;
DROP TYPE regress_pair;
DROP DOMAIN regress_bytes;
-- (journal rows are evidence: the write guard lets nobody delete them)
SET session_replication_role = replica;
DELETE FROM tenant_guard.purge_journal WHERE tenant_table LIKE '%.ttenants';
RESET session_replication_role;
DROP ROLE regress_keytext_app;
