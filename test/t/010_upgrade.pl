# Upgrade: CREATE EXTENSION tenant_guard VERSION '1.0' followed by ALTER
# EXTENSION tenant_guard UPDATE equals a fresh install of the default
# version -- member objects, definitions, comments, privileges, triggers on
# attached tables, config-dump registrations (catalog queries and
# pg_dump --schema-only) -- and 1.0's data is kept.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename;

my %install;
if ($ENV{PG_CONFIG})
{
	my $bindir = `$ENV{PG_CONFIG} --bindir`;
	chomp $bindir;
	$install{install_path} = dirname($bindir);
}
my $node = PostgreSQL::Test::Cluster->new('upgrade', %install);
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'tenant_guard'");
$node->start;

my $default = $node->safe_psql('postgres',
	q{SELECT default_version FROM pg_available_extensions WHERE name = 'tenant_guard'});
isnt($default, '1.0', "the default version ($default) is newer than the frozen 1.0");

# The same user schema in both databases: an attached tenants table (with
# a partition, so triggers cloned to partitions are compared too), a child
# table, a registered tenant table without a foreign key.
my $schema = q{
CREATE TABLE tenants (id uuid PRIMARY KEY, name text, subdomain text, email text);
CREATE TABLE accounts (id int, name text, subdomain text, email text) PARTITION BY RANGE (id);
CREATE TABLE accounts_1 PARTITION OF accounts FOR VALUES FROM (0) TO (1000);
ALTER TABLE accounts ADD PRIMARY KEY (id);
SELECT tenant_guard.attach('tenants');
SELECT tenant_guard.attach('accounts');
CREATE TABLE projects (id int PRIMARY KEY, tenant_id uuid REFERENCES tenants ON DELETE CASCADE);
CREATE TABLE events (tenant_id uuid, what text);
SELECT tenant_guard.add_tenant_table('events', 'tenant_id', 'tenants');
};

my $data = q{
INSERT INTO tenants VALUES ('31c06fc4-db22-4740-83ea-48ac14f25810', 'Northwind Traders', 'northwind', 'it@northwind.com');
SET tenant_guard.mode = log;
INSERT INTO tenants VALUES ('00000000-0000-4000-8000-000000000001', 'Test Company', 'test-company-123', 'test@example.com');
RESET tenant_guard.mode;
SELECT tenant_guard.protect('31c06fc4-db22-4740-83ea-48ac14f25810', 'real customer');
INSERT INTO tenant_guard.allowlist (kind, value, note) VALUES ('name', 'Sandbox VR', 'ticket 1');
INSERT INTO tenant_guard.keywords (keyword, strength) VALUES ('qa-bot', 'strong');
SELECT count(*) FROM tenant_guard.purge_test_tenants(dry_run => false, tenants => 'tenants');
SELECT tenant_guard.log_suspicious_request('/signup', '{"why": "burst"}', 'many signups', '192.0.2.1');
SELECT tenant_guard.log_queue_wait();
};

$node->safe_psql('postgres', 'CREATE DATABASE updated; CREATE DATABASE fresh;');
$node->safe_psql('updated', "CREATE EXTENSION tenant_guard VERSION '1.0';" . $schema . $data);
# a rejection (enforce mode), stored by the durable log
my ($rc) = $node->psql('updated',
	q{INSERT INTO tenants VALUES ('00000000-0000-4000-8000-000000000009', 'Test Company', 'test-company-9', 'test@example.com')});
isnt($rc, 0, 'fixture: 1.0 refuses a test tenant');
$node->safe_psql('updated', 'SELECT tenant_guard.log_queue_wait()');
$node->safe_psql('fresh', "CREATE EXTENSION tenant_guard;" . $schema);

# 1.0's data, before the update
my $data_sql = q{
SELECT 'log ' || action || ' ' || coalesce(reason, '') FROM tenant_guard.test_data_prevention_logs
UNION ALL SELECT 'protected ' || tenant_id FROM tenant_guard.protected_tenants
UNION ALL SELECT 'allowlist ' || value FROM tenant_guard.allowlist
UNION ALL SELECT 'keyword ' || keyword FROM tenant_guard.keywords
UNION ALL SELECT 'journal ' || tenant_id || ' ' || total_deleted FROM tenant_guard.purge_journal
UNION ALL SELECT 'guarded ' || tbl::text FROM tenant_guard.guarded_tables
UNION ALL SELECT 'tenant table ' || tbl::text FROM tenant_guard.tenant_tables
UNION ALL SELECT 'tenant ' || id || ' ' || name FROM tenants
ORDER BY 1};
my $data_before = $node->safe_psql('updated', $data_sql);
like($data_before, qr/journal 00000000-0000-4000-8000-000000000001/, 'fixture: a purge journal row');
like($data_before, qr/log rejected/, 'fixture: a rejection in the log');
like($data_before, qr/protected 31c06fc4/, 'fixture: a protected tenant');

$node->safe_psql('updated', 'ALTER EXTENSION tenant_guard UPDATE');
is($node->safe_psql('updated', q{SELECT extversion FROM pg_extension WHERE extname = 'tenant_guard'}),
	$default, "ALTER EXTENSION UPDATE reaches $default");
is($node->safe_psql('updated', $data_sql), $data_before, "1.0's data is kept");

# Everything about the extension's objects that a fresh install decides.
# No oids: objects are named.  One line per fact, sorted.
my $catalog_sql = q{
WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'tenant_guard'),
members AS (
  SELECT d.classid, d.objid, d.objsubid FROM pg_depend d, ext
   WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'),
rels AS (
  SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'tenant_guard'),
procs AS (
  SELECT p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname = 'tenant_guard')
SELECT line FROM (
  SELECT 'member ' || pg_describe_object(classid, objid, objsubid) AS line FROM members
  UNION ALL
  SELECT 'extension ' || e.extname || ' owner-superuser=' || r.rolsuper || ' relocatable=' || e.extrelocatable
         || ' schema=' || e.extnamespace::regnamespace
         || ' config=' || coalesce((SELECT string_agg(c::regclass::text || ':' || coalesce(w, '<null>'), ', ' ORDER BY c::regclass::text)
                                      FROM unnest(e.extconfig, e.extcondition) AS u(c, w)), '')
    FROM pg_extension e JOIN pg_roles r ON r.oid = e.extowner WHERE e.extname = 'tenant_guard'
  UNION ALL
  SELECT 'schema ' || n.nspname || ' acl=' || coalesce(n.nspacl::text, '') || ' comment='
         || coalesce(obj_description(n.oid, 'pg_namespace'), '')
    FROM pg_namespace n WHERE n.nspname = 'tenant_guard'
  UNION ALL
  SELECT 'function ' || p.oid::regprocedure || E'\n' || pg_get_functiondef(p.oid)
         || E'\n acl=' || coalesce(p.proacl::text, '') || ' comment=' || coalesce(obj_description(p.oid, 'pg_proc'), '')
    FROM pg_proc p WHERE p.oid IN (SELECT oid FROM procs) AND p.prokind <> 'a'
  UNION ALL
  SELECT 'relation ' || c.oid::regclass || ' kind=' || c.relkind::text || ' persistence=' || c.relpersistence::text
         || ' options=' || coalesce(c.reloptions::text, '') || ' rls=' || c.relrowsecurity
         || ' acl=' || coalesce(c.relacl::text, '') || ' comment=' || coalesce(obj_description(c.oid, 'pg_class'), '')
    FROM pg_class c WHERE c.oid IN (SELECT oid FROM rels)
  UNION ALL
  -- columns in their order (dropped ones left out: a fresh install has none)
  SELECT 'column ' || a.attrelid::regclass || ' #' || row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum)
         || ' ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
         || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
         || coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '')
         || coalesce(' generated=' || nullif(a.attgenerated::text, ''), '')
         || coalesce(' identity=' || nullif(a.attidentity::text, ''), '')
         || ' collation=' || coalesce(a.attcollation::regcollation::text, '')
         || ' acl=' || coalesce(a.attacl::text, '') || ' comment=' || coalesce(col_description(a.attrelid, a.attnum), '')
    FROM pg_attribute a LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
   WHERE a.attrelid IN (SELECT oid FROM rels) AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'constraint ' || co.conrelid::regclass || ' ' || co.conname || ' ' || pg_get_constraintdef(co.oid)
         || ' comment=' || coalesce(obj_description(co.oid, 'pg_constraint'), '')
    FROM pg_constraint co WHERE co.conrelid IN (SELECT oid FROM rels)
  UNION ALL
  SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid IN (SELECT oid FROM rels)
  UNION ALL
  -- triggers on every table, the extension's and the attached ones
  SELECT 'trigger ' || pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text
         || ' comment=' || coalesce(obj_description(t.oid, 'pg_trigger'), '')
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE NOT t.tgisinternal AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  UNION ALL
  SELECT 'sequence ' || s.seqrelid::regclass || ' ' || format_type(s.seqtypid, NULL) || ' ' || s.seqstart
         || ' ' || s.seqincrement || ' ' || s.seqmax || ' ' || s.seqmin || ' ' || s.seqcache || ' ' || s.seqcycle
         || ' owned by ' || coalesce((SELECT d.refobjid::regclass || '.' || a.attname FROM pg_depend d
                                        JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                                       WHERE d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid
                                         AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')), '-')
    FROM pg_sequence s WHERE s.seqrelid IN (SELECT oid FROM rels)
  UNION ALL
  SELECT 'event trigger ' || e.evtname || ' ' || e.evtevent || ' ' || e.evtfoid::regproc || ' enabled=' || e.evtenabled::text
         || ' tags=' || coalesce(e.evttags::text, '') || ' comment=' || coalesce(obj_description(e.oid, 'pg_event_trigger'), '')
    FROM pg_event_trigger e
  UNION ALL
  SELECT 'type ' || t.oid::regtype || ' ' || t.typtype::text || ' comment=' || coalesce(obj_description(t.oid, 'pg_type'), '')
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
   WHERE n.nspname = 'tenant_guard' AND t.typrelid = 0 AND t.typelem = 0
  UNION ALL
  SELECT 'operator ' || o.oid::regoperator FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
   WHERE n.nspname = 'tenant_guard'
  UNION ALL
  SELECT 'policy ' || p.polrelid::regclass || ' ' || p.polname || ' ' || p.polcmd::text || ' '
         || coalesce(pg_get_expr(p.polqual, p.polrelid), '') || ' ' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '')
    FROM pg_policy p WHERE p.polrelid IN (SELECT oid FROM rels)
  UNION ALL
  SELECT 'default acl ' || d.defaclobjtype::text || ' ' || d.defaclacl::text FROM pg_default_acl d
   WHERE d.defaclnamespace = 'tenant_guard'::regnamespace
) facts ORDER BY line};

my $updated = $node->safe_psql('updated', $catalog_sql);
my $fresh = $node->safe_psql('fresh', $catalog_sql);
cmp_ok(scalar(() = $fresh =~ /^member /mg), '>', 50, 'the fingerprint sees the member objects');
like($fresh, qr/^trigger CREATE TRIGGER tenant_guard BEFORE INSERT OR UPDATE ON public\.tenants/m,
	'the fingerprint sees the attached tables\' triggers');
is_deeply([ split /\n/, $updated ], [ split /\n/, $fresh ],
	'catalog: an updated 1.0 equals a fresh install');

# pg_dump --schema-only: what a restore would create
my @dump = ('pg_dump', '--schema-only', '--no-owner', '-h', $node->host, '-p', $node->port);
my ($dump_updated, $dump_fresh);
IPC::Run::run([ @dump, 'updated' ], '>', \$dump_updated) or die 'pg_dump updated failed';
IPC::Run::run([ @dump, 'fresh' ], '>', \$dump_fresh) or die 'pg_dump fresh failed';
# (\restrict and \unrestrict carry a random key per dump)
s/^\\(?:un)?restrict .*$//mg for ($dump_updated, $dump_fresh);
like($dump_fresh, qr/CREATE EXTENSION IF NOT EXISTS tenant_guard/, 'pg_dump names the extension');
is($dump_updated, $dump_fresh, 'pg_dump --schema-only: an updated 1.0 equals a fresh install');

# and the updated database still works: the guard refuses, the purge runs
my ($ret, $out, $err) = $node->psql('updated',
	q{INSERT INTO tenants VALUES ('00000000-0000-4000-8000-000000000002', 'Test Company', 'test-co', 'test@example.com')});
isnt($ret, 0, 'the updated guard refuses a test tenant');
like($err, qr/Suspicious request detected/, '... with the checker\'s error');
is($node->safe_psql('updated',
	q{SELECT count(*) FROM tenant_guard.purge_test_tenants(tenants => 'tenants')}),
	'0', 'the updated purge finds nothing left to purge');

# 1.0 stored protected ids as key text under the protecting session's
# settings; the update puts them in the canonical form (pinned settings),
# reading them under the settings the update runs with, and restores those
$node->safe_psql('postgres', 'CREATE DATABASE canon');
$node->safe_psql('canon', q{
CREATE EXTENSION tenant_guard VERSION '1.0';
SET tenant_guard.mode = off;
CREATE TABLE btenants (id bytea PRIMARY KEY, name text, subdomain text, email text);
SELECT tenant_guard.attach('btenants', id_column => 'id');
CREATE TABLE ttenants (id timestamptz PRIMARY KEY, name text, subdomain text, email text);
SELECT tenant_guard.attach('ttenants', id_column => 'id');
CREATE TABLE xtenants (id text PRIMARY KEY, name text, subdomain text, email text);
SELECT tenant_guard.attach('xtenants', id_column => 'id');
INSERT INTO btenants VALUES ('\x0102', 'Harbor Cafe', 'harbor', 'x@harbor-cafe.de'),
  ('\x0304', 'Quay Bakery', 'quay', 'x@quay-bakery.de');
INSERT INTO ttenants VALUES ('2026-01-31 19:00:00-05', 'Harbor Hotel', 'hotel', 'x@harbor-hotel.de');
INSERT INTO xtenants VALUES ('plain', 'Pier Books', 'pier', 'x@pier-books.de');
SET bytea_output = 'escape';
SELECT tenant_guard.protect('\x0102');
SELECT tenant_guard.protect('\x0304');
RESET bytea_output;
SELECT tenant_guard.protect('\x0304');
SET TimeZone = 'America/New_York';
SET DateStyle = 'SQL, DMY';
SELECT tenant_guard.protect('2026-01-31 19:00:00-05');
RESET TimeZone;
RESET DateStyle;
SELECT tenant_guard.protect('plain');
});
is($node->safe_psql('canon', q{
SET TimeZone = 'America/New_York';
SET DateStyle = 'SQL, DMY';
SET bytea_output = 'escape';
ALTER EXTENSION tenant_guard UPDATE;
SELECT current_setting('TimeZone') || ' ' || current_setting('DateStyle') || ' ' || current_setting('bytea_output');
RESET ALL;
SELECT string_agg(tenant_id, ' ' ORDER BY tenant_id COLLATE "C") FROM tenant_guard.protected_tenants;
}),
	"America/New_York SQL, DMY escape\n2026-02-01 00:00:00+00 \\x0102 \\x0304 plain",
	'the update re-canonicalises protected ids and keeps the session\'s settings');
for my $t ('btenants', 'ttenants')
{
	($ret, $out, $err) = $node->psql('canon',
		"SET bytea_output = 'escape'; SET TimeZone = 'Asia/Tokyo'; DELETE FROM $t");
	like($err, qr/is protected/, "the re-canonicalised ids of $t stay protected under any settings");
}

$node->stop;
done_testing();
