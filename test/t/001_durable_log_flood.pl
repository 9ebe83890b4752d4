# Durable rejection log under load: a flood of rejected INSERTs from three
# sessions is written completely; a queue too small for the load counts
# what it drops and keeps no backend waiting.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time);
use TenantGuard::Test;

my $node = tg_node('flood', conf => q{
log_min_error_statement = panic
# keep the writer connected between the parts of this test
tenant_guard.log_writer_idle_time = '1h'
}, sql => q{
CREATE EXTENSION tenant_guard;
CREATE TABLE tenants (id serial, name text, subdomain text, email text);
SELECT tenant_guard.attach('tenants');
});

# Run psql on a file of statements; psql goes on after each error.
sub start_psql_file
{
	my ($file, $out, $err) = @_;
	return IPC::Run::start(
		[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=0', '-d', $node->connstr('postgres'),
		  '-f', $file ],
		'>', $out, '2>', $err);
}

# --- (a) flood: 3 sessions x 1000 rejected single-row INSERTs, at once ---
my $per_session = 1000;
my @files;
for my $s (1 .. 3)
{
	my $file = $node->basedir . "/flood_$s.sql";
	open my $fh, '>', $file or die "open $file: $!";
	print $fh "SET application_name = 'flood-$s';\n";
	print $fh "INSERT INTO tenants (name, subdomain, email) VALUES "
	  . "('Test Company $s-$_', 'test-$s-$_', 'test\@example.com');\n"
	  for 1 .. $per_session;
	close $fh;
	push @files, $file;
}

my (@h, @out, @err);
my $t0 = time;
for my $i (0 .. 2)
{
	$out[$i] = '';
	$err[$i] = '';
	push @h, start_psql_file($files[$i], \$out[$i], \$err[$i]);
}
$_->finish for @h;
my $t_flood = time - $t0;

my $refused = 0;
$refused += () = $_ =~ /Suspicious request detected/g for @err;
is($refused, 3 * $per_session, 'every INSERT of the flood was refused');
is($node->safe_psql('postgres', 'SELECT count(*) FROM tenants'), '0',
	'no tenant was created');

ok( $node->poll_query_until('postgres',
		'SELECT count(*) = 3000 FROM tenant_guard.test_data_prevention_logs'),
	'all 3000 rejections reached the log table');
my $t_all = time - $t0;
note sprintf('flood: %.2f s for 3000 rejected INSERTs, all written after %.2f s',
	$t_flood, $t_all);

is( $node->safe_psql('postgres', q{
	SELECT count(DISTINCT data->>'subdomain') || ' ' ||
	       count(*) FILTER (WHERE action = 'rejected') || ' ' ||
	       count(DISTINCT application_name)
	  FROM tenant_guard.test_data_prevention_logs}),
	'3000 3000 3',
	'one row per attempt, none duplicated, from all three sessions');

is( $node->safe_psql('postgres', q{
	SELECT enqueued_total || ' ' || written_total || ' ' || dropped_total || ' ' || queued_now
	  FROM tenant_guard.log_queue_status()}),
	'3000 3000 0 0',
	'status: 3000 queued and written, none dropped');

# --- (b) overflow: a 64 kB queue while the writer is stopped ---
$node->append_conf('postgresql.conf', "tenant_guard.log_queue_size = '64kB'\n");
$node->restart;
$node->safe_psql('postgres', 'DELETE FROM tenant_guard.test_data_prevention_logs');
is($node->safe_psql('postgres', 'SELECT queue_bytes FROM tenant_guard.log_queue_status()'),
	'65536', 'the queue is 64 kB');

# one rejection brings a writer up
$node->psql('postgres', q{INSERT INTO tenants VALUES (1, 'Demo', 'demo', 'a@acme.com')});
ok( $node->poll_query_until('postgres',
		'SELECT written_total = 1 AND cardinality(writer_pids) = 1 FROM tenant_guard.log_queue_status()'),
	'a writer is up and wrote the first rejection');
my $writer = $node->safe_psql('postgres',
	'SELECT writer_pids[1] FROM tenant_guard.log_queue_status()');
kill 'STOP', $writer;

# 1000 rejections of ~1.1 kB each: the queue holds about 55 of them
my $attempts = 1000;
my $t1 = time;
my ($ret, $stdout, $stderr) = $node->psql('postgres', qq{
DO \$\$
BEGIN
  FOR i IN 1..$attempts LOOP
    BEGIN
      INSERT INTO tenants (name, subdomain, email)
      VALUES ('Test ' || repeat('x', 1000) || i, 'overflow-' || i, 'a\@acme.com');
    EXCEPTION WHEN SQLSTATE 'TG001' THEN NULL;
    END;
  END LOOP;
END \$\$;});
my $t_overflow = time - $t1;
is($ret, 0, 'the rejecting session ran to its end while the queue was full');
note sprintf('overflow: %d rejections against a full queue took %.2f s', $attempts, $t_overflow);

my ($enq, $full, $queued) = split /\|/, $node->safe_psql('postgres', q{
	SELECT enqueued_total - 1, dropped_queue_full, queued_now FROM tenant_guard.log_queue_status()});
cmp_ok($full, '>', 0, "overflow drops are counted ($full dropped_queue_full)");
is($enq + $full, $attempts, 'every rejection was either queued or counted as dropped');
is($queued, $enq, 'what was queued is still queued while the writer is stopped');
ok($node->log_contains('Not in tenant_guard.test_data_prevention_logs: the log queue is full'),
	'dropped rejections have their line in the server log');

kill 'CONT', $writer;
ok( $node->poll_query_until('postgres', qq{
	SELECT count(*) = $enq + 1 FROM tenant_guard.test_data_prevention_logs}),
	'after the writer resumes, every queued rejection is written');
is( $node->safe_psql('postgres', q{
	SELECT written_total = enqueued_total AND queued_now = 0 FROM tenant_guard.log_queue_status()}),
	't', 'status agrees: all queued entries written');

$node->stop;
done_testing();
