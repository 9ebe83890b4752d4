# Durable rejection log across crashes and shutdowns: a writer killed with
# SIGKILL takes the cluster through a crash restart after which rejections
# are logged again; rejections queued at a clean shutdown are written
# before the server stops, and those no writer could take any more are
# saved and written after the restart.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TenantGuard::Test;

my $node = tg_node('restart', conf => qq{
log_min_error_statement = panic
tenant_guard.log_writer_idle_time = '1h'
restart_after_crash = on
});

$node->safe_psql('postgres', q{
CREATE EXTENSION tenant_guard;
CREATE TABLE tenants (name text, subdomain text, email text);
SELECT tenant_guard.attach('tenants');
});

# Reject one row per name given.
sub reject
{
	for my $name (@_)
	{
		my ($ret, $out, $err) = $node->psql('postgres',
			"INSERT INTO tenants VALUES ('$name', 'x', 'a\@acme.com')");
		like($err, qr/Suspicious request detected/, "\"$name\" refused");
	}
}

sub logged
{
	my ($name) = @_;
	return $node->poll_query_until('postgres', qq{
		SELECT count(*) = 1 FROM tenant_guard.test_data_prevention_logs
		 WHERE data->>'name' = '$name' AND action = 'rejected'});
}

sub writer_pid
{
	$node->poll_query_until('postgres',
		'SELECT cardinality(writer_pids) = 1 FROM tenant_guard.log_queue_status()')
	  or die 'no writer';
	return $node->safe_psql('postgres',
		'SELECT writer_pids[1] FROM tenant_guard.log_queue_status()');
}

# --- (c) SIGKILL of the writer ---
reject('Test Before Kill');
ok(logged('Test Before Kill'), 'rejection logged before the kill');
my $since = $node->safe_psql('postgres', 'SELECT stats_since FROM tenant_guard.log_queue_status()');
my $launcher = $node->safe_psql('postgres', 'SELECT launcher_pid FROM tenant_guard.log_queue_status()');
my $writer = writer_pid();

my $offset = -s $node->logfile;
kill 'KILL', $writer;
$node->wait_for_log(qr/tenant_guard log writer.*was terminated by signal 9/, $offset);
$node->wait_for_log(qr/all server processes terminated; reinitializing/, $offset);
ok( $node->poll_query_until('postgres', q{SELECT status = 'ok' FROM tenant_guard.log_queue_status()}),
	'after the crash restart the durable log is working again');
my ($since2, $launcher2, $enq) = split /\|/, $node->safe_psql('postgres',
	'SELECT stats_since, launcher_pid, enqueued_total FROM tenant_guard.log_queue_status()');
isnt($since2, $since, 'shared memory was initialised afresh (stats_since moved)');
isnt($launcher2, $launcher, 'a new launcher runs');
is($enq, '0', 'counters start again from zero');

reject('Test After Kill');
ok(logged('Test After Kill'), 'a rejection after the crash restart is logged');
is($node->safe_psql('postgres', 'SELECT count(*) FROM tenant_guard.test_data_prevention_logs'),
	'2', 'the row written before the crash survived it');

# --- (d) clean (fast) shutdown with rejections queued ---
$writer = writer_pid();
kill 'STOP', $writer;
my $queued = 50;
$node->safe_psql('postgres', qq{
DO \$\$
BEGIN
  FOR i IN 1..$queued LOOP
    BEGIN
      INSERT INTO tenants VALUES ('Test Queued ' || i, 'q', 'a\@acme.com');
    EXCEPTION WHEN SQLSTATE 'TG001' THEN NULL;
    END;
  END LOOP;
END \$\$;});
is($node->safe_psql('postgres', 'SELECT queued_now FROM tenant_guard.log_queue_status()'),
	$queued, "$queued rejections are queued while the writer is stopped");
my $attempt_time = $node->safe_psql('postgres', 'SELECT now()');

$offset = -s $node->logfile;
kill 'INT', $node->{_pid};	# fast shutdown; the writer gets SIGTERM when it resumes
$node->wait_for_log(qr/received fast shutdown request/, $offset);
kill 'CONT', $writer;
$node->stop('fast', fail_ok => 1);	# waits until the postmaster is gone
my $log = slurp_file($node->logfile, $offset);
unlike($log, qr/rejections not written to the log table/,
	'the launcher did not have to give anything up');
like($log, qr/database system is shut down/, 'the server shut down cleanly');

$node->start;
is( $node->safe_psql('postgres', q{
	SELECT count(*) FROM tenant_guard.test_data_prevention_logs
	 WHERE data->>'name' LIKE 'Test Queued %'}),
	$queued, 'every rejection queued at the shutdown was written');
is( $node->safe_psql('postgres', qq{
	SELECT bool_and(created_at < pg_postmaster_start_time() AND created_at <= '$attempt_time')
	  FROM tenant_guard.test_data_prevention_logs WHERE data->>'name' LIKE 'Test Queued %'}),
	't', 'their created_at is the time of the attempt, not of the write');

# --- a shutdown that catches rejections nobody can write any more ---
# Database "other" has no writer yet, and the launcher (which would start
# one) is stopped until the shutdown has begun; a stopping server starts
# no new workers, so the entries stay queued, the postmaster saves them,
# and the next start writes them.
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('other', "CREATE EXTENSION tenant_guard; CREATE TABLE tenants (name text, subdomain text, email text); SELECT tenant_guard.attach('tenants')");
$launcher = $node->safe_psql('postgres', 'SELECT launcher_pid FROM tenant_guard.log_queue_status()');
kill 'STOP', $launcher;
$node->safe_psql('other', q{
DO $$
BEGIN
  FOR i IN 1..5 LOOP
    BEGIN
      INSERT INTO tenants VALUES ('Test Orphan ' || i, 'o', 'a@acme.com');
    EXCEPTION WHEN SQLSTATE 'TG001' THEN NULL;
    END;
  END LOOP;
END $$;});
$offset = -s $node->logfile;
kill 'INT', $node->{_pid};
$node->wait_for_log(qr/received fast shutdown request/, $offset);
kill 'CONT', $launcher;
$node->stop('fast', fail_ok => 1);
$log = slurp_file($node->logfile, $offset);
like($log, qr/tenant_guard log launcher stopped with 5 rejections not yet written to the log table/,
	'rejections that could not be written at shutdown are counted in a WARNING');
like($log, qr/tenant_guard saved 5 rejections not yet written to its log table/,
	'and saved by the postmaster');
$node->start;
ok( $node->poll_query_until('other', q{
	SELECT count(*) = 5 FROM tenant_guard.test_data_prevention_logs WHERE data->>'name' LIKE 'Test Orphan %'}),
	'they are written to the log table after the restart');

# --- the launcher terminated by hand comes back after 5 s ---
$launcher = $node->safe_psql('postgres', 'SELECT launcher_pid FROM tenant_guard.log_queue_status()');
is( $node->safe_psql('postgres',
		"SELECT backend_type FROM pg_stat_activity WHERE pid = $launcher"),
	'tenant_guard log launcher', 'the launcher shows in pg_stat_activity');
$node->safe_psql('postgres', "SELECT pg_terminate_backend($launcher)");
ok( $node->poll_query_until('postgres', qq{
	SELECT status = 'ok' AND launcher_pid <> $launcher FROM tenant_guard.log_queue_status()}),
	'a terminated launcher is restarted');
reject('Test After Launcher');
ok(logged('Test After Launcher'), 'and rejections are logged');

$node->stop;
done_testing();
