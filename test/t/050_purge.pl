# Purge: all or nothing when the backend dies mid-purge (SIGKILL and
# pg_terminate_backend), and protection that survives pg_dump / restore.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TenantGuard::Test;

# the installation PG_CONFIG names (test/check.sh exports it), not the
# first postgres on PATH
my $node = tg_node('purge', conf => qq{restart_after_crash = on});

$node->safe_psql('postgres', q{
CREATE EXTENSION tenant_guard;
CREATE TABLE tenants (id uuid PRIMARY KEY, name text, subdomain text, email text);
SELECT tenant_guard.attach('tenants');
CREATE TABLE projects (id int PRIMARY KEY, tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE);
CREATE TABLE tasks (id int PRIMARY KEY, project_id int NOT NULL REFERENCES projects ON DELETE CASCADE);
SET tenant_guard.mode = off;
INSERT INTO tenants SELECT ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid,
       CASE WHEN g <= 3 THEN 'Test Company ' || g ELSE 'Real ' || g END, 'sub-' || g, 'x@acme.com'
  FROM generate_series(1, 10) g;
INSERT INTO tenants VALUES ('31c06fc4-db22-4740-83ea-48ac14f25810', 'Northwind Traders', 'northwind', 'it@northwind.com');
INSERT INTO projects SELECT g, ('00000000-0000-4000-8000-' || lpad(((g - 1) % 10 + 1)::text, 12, '0'))::uuid FROM generate_series(1, 50) g;
INSERT INTO tasks SELECT g, (g - 1) % 50 + 1 FROM generate_series(1, 500) g;
SELECT tenant_guard.protect('31C06FC4-DB22-4740-83EA-48AC14F25810', 'real customer');
});

my $counts_sql = q{SELECT (SELECT count(*) FROM tenants) || '/' || (SELECT count(*) FROM projects) || '/'
  || (SELECT count(*) FROM tasks) || '/' || (SELECT count(*) FROM tenant_guard.purge_journal)};
my $before = $node->safe_psql('postgres', $counts_sql);
is($before, '11/50/500/0', 'fixture: tenants/projects/tasks/journal');

# the dry run reports exactly what a real run does, and changes nothing
my $dry = $node->safe_psql('postgres',
	'SELECT sum(total_deleted) FROM tenant_guard.purge_test_tenants()');
is($dry, 3 + 15 + 150, 'dry run counts 3 tenants, 15 projects, 150 tasks');
is($node->safe_psql('postgres', $counts_sql), $before, 'dry run changed nothing');

# kill the purging backend while it waits in a dependent delete (another
# session holds a lock on task 1, of test tenant 1)
foreach my $how ('pg_terminate_backend', 'SIGKILL')
{
	my $holder = $node->background_psql('postgres', on_error_stop => 0);
	$holder->query_safe('BEGIN; SELECT 1 FROM tasks WHERE id = 1 FOR UPDATE;');
	my $bg = $node->background_psql('postgres', on_error_stop => 0);
	$bg->query_until(qr/started/, q{
\echo started
SELECT count(*) FROM tenant_guard.purge_test_tenants(dry_run => false);
});
	$node->poll_query_until('postgres', q{
SELECT count(*) > 0 FROM pg_stat_activity
 WHERE query LIKE '%purge_test_tenants(dry_run => false)%' AND wait_event_type = 'Lock'})
	  or die "purge did not reach the locked delete";
	my $pid = $node->safe_psql('postgres', q{
SELECT pid FROM pg_stat_activity
 WHERE query LIKE '%purge_test_tenants(dry_run => false)%' AND wait_event_type = 'Lock'});
	if ($how eq 'SIGKILL')
	{
		kill 'KILL', $pid;
	}
	else
	{
		$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
	}
	eval { $bg->quit; };
	eval { $holder->quit; };
	# after a SIGKILL the postmaster restarts every backend
	my $up = 0;
	foreach my $try (1 .. 300)
	{
		my ($rc) = $node->psql('postgres', 'SELECT 1');
		if ($rc == 0) { $up = 1; last; }
		select(undef, undef, undef, 0.2);
	}
	ok($up, "server accepts connections after $how");
	is($node->safe_psql('postgres', $counts_sql), $before,
		"$how mid-purge: nothing deleted, no journal row");
}

# the real run, to the end: exactly what the dry run said
my $real = $node->safe_psql('postgres',
	'SELECT sum(total_deleted) FROM tenant_guard.purge_test_tenants(dry_run => false)');
is($real, $dry, 'real run deletes what the dry run reported');
is($node->safe_psql('postgres', $counts_sql), '8/35/350/3', 'after the purge');

# protection and the registries survive pg_dump / restore
my $dump = $node->basedir . '/purge.sql';
$node->command_ok([ 'pg_dump', '-d', $node->connstr('postgres'), '-f', $dump ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('restored'), '-f', $dump ],
	'restore into a new database');
is($node->safe_psql('restored', 'SELECT tenant_id, note FROM tenant_guard.protected_tenants'),
	'31c06fc4-db22-4740-83ea-48ac14f25810|real customer', 'protected tenant restored');
is($node->safe_psql('restored', 'SELECT tbl, id_column FROM tenant_guard.guarded_tables'),
	'tenants|id', 'guarded table restored');
is($node->safe_psql('restored', 'SELECT count(*) FROM tenant_guard.purge_journal'), '3', 'journal restored');
my ($ret, $out, $err) = $node->psql('restored',
	q{DELETE FROM tenants WHERE id = '31c06fc4-db22-4740-83ea-48ac14f25810'});
like($err, qr/tenant "31c06fc4-db22-4740-83ea-48ac14f25810" is protected/, 'still protected after restore');
($ret, $out, $err) = $node->psql('restored', 'TRUNCATE tenants CASCADE');
like($err, qr/cannot truncate table "tenants"/, 'TRUNCATE still refused after restore');
is($node->safe_psql('restored', q{SELECT count(*) FROM tenant_guard.purge_test_tenants(ids => ARRAY['00000000-0000-4000-8000-000000000004'], force => true)}),
	'1', 'the restored registry drives a purge');

# a partitioned tenants table, with a partition added after attach, goes
# through pg_dump -Fc / pg_restore --single-transaction without an error
# (the restore's own ALTER TABLEs must not add the TRUNCATE triggers the
# dump then creates) and keeps its protection
$node->safe_psql('postgres', 'CREATE DATABASE parts');
$node->safe_psql('parts', q{
CREATE EXTENSION tenant_guard;
CREATE TABLE ptenants (id bigint, region text, name text, subdomain text, email text,
                       PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE ptenants_eu PARTITION OF ptenants FOR VALUES IN ('eu');
SELECT tenant_guard.attach('ptenants', id_column => 'id');
CREATE TABLE ptenants_us PARTITION OF ptenants FOR VALUES IN ('us');
INSERT INTO ptenants VALUES (1, 'us', 'Route 66 Diner', 'route66', 'eat@route66.com');
SELECT tenant_guard.protect('1');});
my $pdump = $node->basedir . '/parts.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('parts'), '-f', $pdump ], 'pg_dump -Fc');
$node->safe_psql('postgres', 'CREATE DATABASE parts_restored');
$node->command_ok([ 'pg_restore', '--single-transaction', '--exit-on-error',
		'-d', $node->connstr('parts_restored'), $pdump ],
	'pg_restore of a partitioned guarded table');
is($node->safe_psql('parts_restored', q{SELECT string_agg(tgrelid::regclass::text, ',' ORDER BY 1)
	FROM pg_trigger WHERE tgname = 'tenant_guard_protect_truncate'}),
	'ptenants,ptenants_eu,ptenants_us', 'each table has its TRUNCATE trigger once');
($ret, $out, $err) = $node->psql('parts_restored', 'TRUNCATE ptenants_us');
like($err, qr/cannot truncate table "ptenants_us"/,
	'TRUNCATE of the partition added after attach still refused after restore');

# the archive is evidence: a restore and a prune are logged, with who did it
$node->safe_psql('postgres', q{
CREATE DATABASE undo;});
my $logstart = -s $node->logfile;
$node->safe_psql('undo', q{
CREATE EXTENSION tenant_guard;
CREATE TABLE tenants (id int PRIMARY KEY, name text, subdomain text, email text);
CREATE TABLE notes (id int PRIMARY KEY, tenant_id int REFERENCES tenants ON DELETE CASCADE, body text);
SELECT tenant_guard.attach('tenants');
SET tenant_guard.mode = off;
INSERT INTO tenants VALUES (1, 'Test Company', 'test-company-1', 'test@example.com'),
                           (2, 'Acme Corporation', 'acme', 'it@acme-corp.com');
RESET tenant_guard.mode;
INSERT INTO notes VALUES (10, 1, 'a'), (11, 1, 'b');
CREATE ROLE regress_undo_admin IN ROLE tenant_guard_admin;
GRANT SELECT, INSERT, DELETE ON tenants, notes TO regress_undo_admin;
SET ROLE regress_undo_admin;
SELECT count(*) FROM tenant_guard.purge_test_tenants(dry_run => false, ids => '{1}');
SELECT tenant_guard.restore_purged_tenant('1');
SELECT tenant_guard.prune_purge_archive('0');});
my $log = slurp_file($node->logfile, $logstart);
like($log, qr/restore_purged_tenant\(\) by "regress_undo_admin" restored tenant "1" of "public.tenants" \(purge journal id \d+\), 3 rows with triggers off/,
	'a restore is logged with who did it');
like($log, qr/prune_purge_archive\(\) by "regress_undo_admin" dropped 1 archived tenants purged more than 00:00:00 ago/,
	'a prune is logged with who did it and how many');
$node->safe_psql('undo', 'DROP OWNED BY regress_undo_admin; DROP ROLE regress_undo_admin');

$node->stop;
done_testing();
