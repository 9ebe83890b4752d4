# Durable rejection log set-ups: without shared_preload_libraries (loud
# degradation), several databases (one writer each, in queue order), a
# database that has the trigger but not the extension's log table (its
# entries are dropped with a reason, the writer does not loop), and a
# standby (nothing is attempted until promotion).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $setup = q{
CREATE TABLE tenants (name text, subdomain text, email text);
SELECT tenant_guard.attach('tenants');
};

# --- (e) not preloaded ---
my $plain = PostgreSQL::Test::Cluster->new('plain');
$plain->init;
$plain->append_conf('postgresql.conf', "log_min_error_statement = panic\n");
$plain->start;
my ($ret, $out, $err) = $plain->psql('postgres', 'CREATE EXTENSION tenant_guard');
is($ret, 0, 'CREATE EXTENSION works without shared_preload_libraries');
like($err, qr/WARNING:  tenant_guard is not in shared_preload_libraries: rejected rows will reach only the server log/,
	'and warns that rejections reach only the server log');
like($err, qr/HINT:  Add tenant_guard to shared_preload_libraries/, 'with a hint');
is( $plain->safe_psql('postgres', 'SELECT preloaded, durable, status FROM tenant_guard.log_queue_status()'),
	'f|f|not preloaded: rejections reach only the server log',
	'the status says so');
$plain->safe_psql('postgres', $setup);
($ret, $out, $err) = $plain->psql('postgres',
	"INSERT INTO tenants VALUES ('Test Co', 'tc', 'a\@acme.com')");
like($err, qr/Suspicious request detected/, 'the guard still refuses');
ok( $plain->log_contains(
		'Not in tenant_guard.test_data_prevention_logs: tenant_guard is not in shared_preload_libraries'),
	'the rejection has its server-log line, saying why');
is($plain->safe_psql('postgres', 'SELECT tenant_guard.log_queue_wait(100)'), 'f',
	'log_queue_wait() cannot wait for anything');
$plain->stop;

# --- several databases, and one without the log table ---
my $node = PostgreSQL::Test::Cluster->new('primary');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'tenant_guard'
log_min_error_statement = panic
});
$node->start;
for my $db (qw(db1 db2))
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, "CREATE EXTENSION tenant_guard; $setup");
}
# db3 has the trigger function but no tenant_guard schema or log table
$node->safe_psql('postgres', 'CREATE DATABASE db3');
$node->safe_psql('db3', q{
CREATE FUNCTION guard() RETURNS trigger AS '$libdir/tenant_guard', 'guard_trigger' LANGUAGE C;
CREATE TABLE tenants (name text, subdomain text, email text);
CREATE TRIGGER tenant_guard BEFORE INSERT OR UPDATE ON tenants
  FOR EACH ROW EXECUTE FUNCTION guard('name', 'subdomain', 'email');
});

# interleave rejections in db1, db2 and db3 from one loop, so that the
# queue holds runs of each
my $rounds = 30;
for my $i (1 .. $rounds)
{
	for my $db (qw(db1 db2 db3))
	{
		$node->psql($db, "INSERT INTO tenants VALUES ('Test $db $i', 't', 'a\@acme.com')");
	}
}
ok($node->poll_query_until('db1', "SELECT tenant_guard.log_queue_wait(1000)"),
	'the queue drains');
for my $db (qw(db1 db2))
{
	is( $node->safe_psql($db, qq{
		SELECT count(*) || ' ' || count(*) FILTER (WHERE data->>'name' LIKE 'Test $db %')
		  FROM tenant_guard.test_data_prevention_logs}),
		"$rounds $rounds", "$db has its $rounds rows and only its own");
}
is( $node->safe_psql('db1', q{
	SELECT written_total || ' ' || dropped_no_extension || ' ' || dropped_total
	  FROM tenant_guard.log_queue_status()}),
	(2 * $rounds) . " $rounds $rounds",
	'the database without the log table: its entries are counted as dropped, nothing else is');
ok( $node->log_contains(
		'Not in tenant_guard.test_data_prevention_logs: the database has no tenant_guard log table'),
	'and each has its server-log line');
my $log = slurp_file($node->logfile);
my $errors = () = $log =~ /ERROR:  (?!Suspicious)/g;
is($errors, 0, 'no writer ran into errors');

# a row the INSERT refuses costs only itself: the batch is retried row by row
$node->safe_psql('db1', q{
ALTER TABLE tenant_guard.test_data_prevention_logs
  ADD CONSTRAINT regress_no_poison CHECK (data->>'name' <> 'Test Poison');
DO $$
DECLARE n text;
BEGIN
  FOREACH n IN ARRAY ARRAY['Test A', 'Test Poison', 'Test B'] LOOP
    BEGIN
      INSERT INTO tenants VALUES (n, 'p', 'a@acme.com');
    EXCEPTION WHEN SQLSTATE 'TG001' THEN NULL;
    END;
  END LOOP;
END $$;});
ok($node->poll_query_until('db1', 'SELECT tenant_guard.log_queue_wait(1000)'), 'the queue drains');
is( $node->safe_psql('db1', q{
	SELECT string_agg(data->>'name', ',' ORDER BY id) FROM tenant_guard.test_data_prevention_logs
	 WHERE data->>'subdomain' = 'p'}),
	'Test A,Test B', 'the rows around the refused one are written');
is($node->safe_psql('db1', 'SELECT dropped_insert_failed FROM tenant_guard.log_queue_status()'),
	'1', 'the refused one is counted as dropped_insert_failed');
ok($node->log_contains('violates check constraint "regress_no_poison"'),
	'the INSERT error is in the server log');
ok($node->log_contains('Not in tenant_guard.test_data_prevention_logs: inserting the log row failed'),
	'and so is the rejection it lost');
$node->safe_psql('db1',
	'ALTER TABLE tenant_guard.test_data_prevention_logs DROP CONSTRAINT regress_no_poison');

# settings stored for a database (a read-only default, a 1 ms statement
# timeout) do not stop its writer: it only inserts log rows
$node->safe_psql('db2', q{
ALTER DATABASE db2 SET default_transaction_read_only = on;
ALTER DATABASE db2 SET statement_timeout = '1ms';});
$node->restart;
# our own sessions override both as connection options: a SET would itself
# run under the 1 ms timeout (and be cancelled on a slow machine, say under
# the sanitizers)
my $db2_unlimited = $node->connstr('db2')
  . q{ options='-c statement_timeout=0 -c default_transaction_read_only=off'};
$node->psql('db2', q{
INSERT INTO tenants VALUES ('Test Stored Settings', 's', 'a@acme.com');},
	connstr => $db2_unlimited);
ok($node->poll_query_until('db1', 'SELECT tenant_guard.log_queue_wait(1000)'), 'the queue drains');
is( $node->safe_psql('db2', q{
	SELECT count(*) FROM tenant_guard.test_data_prevention_logs WHERE data->>'subdomain' = 's'},
		connstr => $db2_unlimited),
	'1', "the database's stored settings do not stop its writer");
$node->safe_psql('db2', 'ALTER DATABASE db2 RESET ALL', connstr => $db2_unlimited);

# an idle writer leaves its database soon enough for DROP DATABASE (which
# waits 5 s for other sessions); db3's writer has just been busy
$node->psql('db3', "INSERT INTO tenants VALUES ('Test again', 't', 'a\@acme.com')");
($ret, $out, $err) = $node->psql('postgres', 'DROP DATABASE db3');
is($ret, 0, 'DROP DATABASE is not blocked by a log writer') or diag $err;

# rejections in a database no writer may connect to (datallowconn =
# false, set after the rejecting session connected): three writers fail,
# then its entries go to the server log
$node->safe_psql('postgres', 'CREATE DATABASE db4');
$node->safe_psql('db4', "CREATE EXTENSION tenant_guard; $setup");
my $session = $node->background_psql('db4', on_error_stop => 0);
$node->safe_psql('postgres', 'ALTER DATABASE db4 ALLOW_CONNECTIONS false');
$session->query("INSERT INTO tenants VALUES ('Test Closed $_', 'c', 'a\@acme.com')") for 1 .. 3;
ok( $node->poll_query_until('db1',
		'SELECT dropped_no_database = 3 AND queued_now = 0 FROM tenant_guard.log_queue_status()'),
	'entries of a database no writer can connect to are counted as dropped_no_database');
ok($node->log_contains('tenant_guard log writer cannot connect to database'),
	'a WARNING says the launcher gave up on it');
$log = slurp_file($node->logfile);
my $closed = () = $log =~ /Not in tenant_guard\.test_data_prevention_logs: no log writer could connect to the database/g;
is($closed, 3, 'each of its rejections has its server-log line');
$session->quit;

# --- (f) a standby attempts nothing ---
$node->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($node, 'b', has_streaming => 1);
$standby->start;
$node->wait_for_catchup($standby);
is( $standby->safe_psql('db1', q{
	SELECT preloaded, durable, status, launcher_pid IS NULL, writer_pids
	  FROM tenant_guard.log_queue_status()}),
	't|f|standby: nothing is written until promotion|t|{}',
	'on the standby: no launcher, no writer, status says standby');
is( $standby->safe_psql('postgres', q{
	SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'tenant_guard%'}),
	'0', 'no tenant_guard worker process on the standby');
($ret, $out, $err) = $standby->psql('db1', "INSERT INTO tenants VALUES ('Test S', 's', 'a\@acme.com')");
like($err, qr/read-only transaction/, 'tenants cannot be inserted on a standby anyway');
ok(!$standby->log_contains('tenant_guard log launcher started'),
	'the standby never started the launcher');

$standby->promote;
ok( $standby->poll_query_until('db1', q{SELECT status = 'ok' FROM tenant_guard.log_queue_status()}),
	'after promotion the launcher starts');
($ret, $out, $err) = $standby->psql('db1', "INSERT INTO tenants VALUES ('Test Promoted', 'p', 'a\@acme.com')");
ok( $standby->poll_query_until('db1', q{
	SELECT count(*) = 1 FROM tenant_guard.test_data_prevention_logs WHERE data->>'name' = 'Test Promoted'}),
	'and rejections are logged');

$standby->stop;
$node->stop;
done_testing();
