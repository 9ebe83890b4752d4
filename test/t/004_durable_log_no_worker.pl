# Durable rejection log without room for its workers: with
# max_worker_processes too low for a log writer (or for the launcher), the
# status says "stalled" with the reason and the count, the server log has
# a WARNING with a hint, log_queue_wait() does not claim success, and a
# clean restart with the setting raised writes what waited: nothing is
# lost silently.  Also a writer that stops taking entries (SIGSTOP) makes
# the queue "stalled" after TG_QUEUE_STALL_MS (10 s).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TenantGuard::Test;

# The tenant_guard log launcher (registered while preloading) takes the
# first worker slot and the postmaster's logical replication launcher the
# second: none is left for a log writer.  No parallel workers, so that
# nothing else competes for slots.
my $node = tg_node('starved', conf => q{
max_worker_processes = 2
max_logical_replication_workers = 4
max_parallel_workers = 0
log_min_error_statement = panic
}, sql => q{
CREATE EXTENSION tenant_guard;
CREATE TABLE tenants (name text, subdomain text, email text);
SELECT tenant_guard.attach('tenants');
});
ok( $node->poll_query_until('postgres',
		'SELECT launcher_pid IS NOT NULL FROM tenant_guard.log_queue_status()'),
	'the launcher runs');

sub reject
{
	my ($name) = @_;
	my ($ret, $out, $err) = $node->psql('postgres',
		"INSERT INTO tenants VALUES ('$name', 'starved', 'a\@acme.com')");
	like($err, qr/Suspicious request detected/, "'$name' is refused");
}

my $status_sql = 'SELECT durable, status, queued_now, written_total, dropped_total FROM tenant_guard.log_queue_status()';
my $offset = -s $node->logfile;
reject('Test Starved 1');
ok( $node->poll_query_until('postgres',
		"SELECT status LIKE 'stalled: no log writer%' FROM tenant_guard.log_queue_status()"),
	'the status turns "stalled" once a writer could not start');
is( $node->safe_psql('postgres', $status_sql),
	'f|stalled: no log writer can start (max_worker_processes = 2 is too low); 1 rejection waiting|1|0|0',
	'it says why and how many wait; not durable; nothing written, nothing dropped');
$node->wait_for_log(qr/WARNING:  tenant_guard could not start a log writer for database \d+/, $offset);
my $log = slurp_file($node->logfile, $offset);
like($log, qr/DETAIL:  No background worker slot is free \(max_worker_processes = 2\)\. 1 rejection of this database waits in the queue/,
	'the server-log WARNING says how many wait');
like($log, qr/HINT:  Raise max_worker_processes/, 'with a hint to raise max_worker_processes');

my ($ret, $out, $err) = $node->psql('postgres', 'SELECT tenant_guard.log_queue_wait(60000)');
is($out, 'f', 'log_queue_wait() does not pretend the rejection was written');
like($err, qr/WARNING:  tenant_guard log queue is stalled: no log writer can start/,
	'and says why (at once, not after its timeout)');

reject('Test Starved 2');
is( $node->safe_psql('postgres', 'SELECT status FROM tenant_guard.log_queue_status()'),
	'stalled: no log writer can start (max_worker_processes = 2 is too low); 2 rejections waiting',
	'the count follows');

# --- raise the setting, restart cleanly: what waited is written ---
$node->append_conf('postgresql.conf', "max_worker_processes = 8\n");
$offset = -s $node->logfile;
$node->restart;
$log = slurp_file($node->logfile, $offset);
like($log, qr/tenant_guard saved 2 rejections not yet written to its log table/,
	'the clean shutdown saved the 2 waiting rejections');
like($log, qr/tenant_guard queued 2 rejections saved at the last shutdown/,
	'the start queued them again');
ok( $node->poll_query_until('postgres', q{
	SELECT count(*) = 2 FROM tenant_guard.test_data_prevention_logs
	 WHERE action = 'rejected' AND data->>'name' LIKE 'Test Starved %'}),
	'both are written to the log table after the restart');
is( $node->safe_psql('postgres', q{
	SELECT bool_and(created_at < pg_postmaster_start_time())
	  FROM tenant_guard.test_data_prevention_logs WHERE data->>'name' LIKE 'Test Starved %'}),
	't', 'with the time of the attempt');
ok(!-e $node->data_dir . '/pg_stat/tenant_guard_queue', 'the file is gone once read');
is( $node->safe_psql('postgres', 'SELECT durable, status, dropped_total FROM tenant_guard.log_queue_status()'),
	't|ok|0', 'the status is ok again');

# --- a writer that stops taking entries: stalled after 10 s ---
$node->safe_psql('postgres', 'ALTER SYSTEM SET tenant_guard.log_writer_idle_time = 3600000; SELECT pg_reload_conf()');
reject('Test Wake');
ok($node->poll_query_until('postgres', q{
	SELECT tenant_guard.log_queue_wait(1000) AND cardinality(writer_pids) = 1
	  FROM tenant_guard.log_queue_status()}), 'a writer stays connected');
my $writer = $node->safe_psql('postgres', 'SELECT writer_pids[1] FROM tenant_guard.log_queue_status()');
kill 'STOP', $writer;
$offset = -s $node->logfile;
reject('Test Stuck');
ok( $node->poll_query_until('postgres',
		"SELECT status LIKE 'stalled: 1 rejection waiting, for % s without a log writer taking any' FROM tenant_guard.log_queue_status()"),
	'entries that wait 10 s without progress make the queue "stalled"');
$node->wait_for_log(qr/WARNING:  tenant_guard log queue is stalled: 1 rejection waiting/, $offset);
pass('and the launcher warns in the server log');
kill 'CONT', $writer;
ok( $node->poll_query_until('postgres', q{
	SELECT tenant_guard.log_queue_wait(1000) AND status = 'ok' FROM tenant_guard.log_queue_status()}),
	'the writer resumes and the status is ok again');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET tenant_guard.log_writer_idle_time; SELECT pg_reload_conf()');

# --- no slot even for the launcher ---
$node->append_conf('postgresql.conf', "max_worker_processes = 0\n");
$offset = -s $node->logfile;
$node->restart;
like(slurp_file($node->logfile, $offset), qr/too many background workers/,
	'the postmaster says it could not register the launcher');
reject('Test No Launcher');
is( $node->safe_psql('postgres', 'SELECT durable, status FROM tenant_guard.log_queue_status()'),
	'f|stalled: the log launcher is not running (see max_worker_processes); 1 rejection waiting',
	'the status says no launcher runs');
($ret, $out, $err) = $node->psql('postgres', 'SELECT tenant_guard.log_queue_wait(60000)');
is($out, 'f', 'log_queue_wait() returns false');
like($err, qr/WARNING:  tenant_guard log queue is stalled: the log launcher is not running/, 'at once, saying why');
$node->append_conf('postgresql.conf', "max_worker_processes = 8\n");
$node->restart;
ok( $node->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM tenant_guard.test_data_prevention_logs WHERE data->>'name' = 'Test No Launcher'}),
	'after a restart with room, it is written');

$node->stop;
done_testing();
