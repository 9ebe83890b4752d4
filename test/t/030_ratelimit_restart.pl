# Rate limits across restarts: a clean restart keeps the counts of the last
# hour (dumped by the postmaster, read back at startup); a crash loses them;
# without shared_preload_libraries the limits are announced as not enforced.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename;
use IPC::Run;
use Time::HiRes qw(sleep time);

# the installation PG_CONFIG names (test/check.sh exports it)
my %install;
if ($ENV{PG_CONFIG})
{
	my $bindir = `$ENV{PG_CONFIG} --bindir`;
	chomp $bindir;
	$install{install_path} = dirname($bindir);
}
my $node = PostgreSQL::Test::Cluster->new('ratelimit', %install);
$node->init;
$node->append_conf('postgresql.conf', qq{shared_preload_libraries = 'tenant_guard'
restart_after_crash = on});
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION tenant_guard;
CREATE TABLE tenants (id serial PRIMARY KEY, name text, subdomain text UNIQUE, email text);
SELECT tenant_guard.attach('tenants');
});

# Sleep until the given time (seconds since the epoch, fractions allowed).
sub sleep_until
{
	my ($when) = @_;
	my $left = $when - time;
	sleep($left) if $left > 0;
	return;
}

# one tenant from 203.0.113.7 with a fresh e-mail; returns psql's stderr
sub create
{
	my ($n) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', qq{
BEGIN;
SET LOCAL tenant_guard.client_addr = '203.0.113.7';
INSERT INTO tenants (name, subdomain, email) VALUES ('Harbor Cafe $n', 'harbor-cafe-$n', 'owner$n\@acme.com');
COMMIT;});
	return $err;
}

is(create($_), '', "tenant $_ created") for 1 .. 3;
like(create(4), qr/Too many tenants created recently/, '4th refused');

# clean restart: the counts come back
$node->restart;
ok($node->log_contains('tenant_guard restored 6 recent tenant creations'),
	'restart restores the counts (3 per IP, 3 per e-mail)');
is($node->safe_psql('postgres', q{SELECT created FROM tenant_guard.rate_limit_usage('ip', '203.0.113.7')}),
	'3', 'the IP still counts 3');
like(create(5), qr/Too many tenants created recently/, 'still refused after a restart');
ok(!-e $node->data_dir . '/pg_stat/tenant_guard_ratelimit.stat',
	'the dump file is removed once read');

# crash (a backend killed): shared memory is reinitialised, counts are lost
my ($stdin, $stdout, $stderr) = ('', '', '');
my $sleeper = IPC::Run::start(
	[ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-c', 'SELECT pg_sleep(600)' ],
	'<', \$stdin, '>', \$stdout, '2>', \$stderr);
$node->poll_query_until('postgres',
	q{SELECT count(*) = 1 FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(600)'})
  or die 'sleeper did not start';
my $pid = $node->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(600)'});
kill 'KILL', $pid;
$sleeper->finish;
$node->poll_query_until('postgres', 'SELECT 1', '1')
  or die 'server did not come back after the crash';
is($node->safe_psql('postgres', q{SELECT created FROM tenant_guard.rate_limit_usage('ip', '203.0.113.7')}),
	'0', 'a crash loses the counts');
is(create(6), '', 'so a tenant is created again');

# an immediate shutdown kills backends wherever they are, like a crash: the
# counts are not written from that memory (and start empty)
is($node->safe_psql('postgres', q{SELECT created FROM tenant_guard.rate_limit_usage('ip', '203.0.113.7')}),
	'1', 'one tenant counted before an immediate shutdown');
my $log_offset = -s $node->logfile;
$node->stop('immediate');
$node->start;
ok(!$node->log_contains('tenant_guard restored', $log_offset),
	'an immediate shutdown restores no counts');
ok($node->log_contains('tenant_guard did not save its rate-limit counts', $log_offset),
	'and says so in the server log');
is($node->safe_psql('postgres', q{SELECT created FROM tenant_guard.rate_limit_usage('ip', '203.0.113.7')}),
	'0', 'the counts start empty');

# without shared_preload_libraries: a WARNING, and status says so
$node->stop;
$node->adjust_conf('postgresql.conf', 'shared_preload_libraries', "''");
$node->start;
my ($ret, $out, $err) = $node->psql('postgres', q{
SET tenant_guard.client_addr = '203.0.113.7';
INSERT INTO tenants (name, subdomain, email) VALUES ('Harbor Cafe 7', 'harbor-cafe-7', 'owner7@acme.com');
INSERT INTO tenants (name, subdomain, email) VALUES ('Harbor Cafe 8', 'harbor-cafe-8', 'owner8@acme.com');
SELECT enforced FROM tenant_guard.rate_limit_status();});
is($ret, 0, 'inserts work without the library preloaded');
is($out, 'f', 'rate_limit_status() says the limits are not enforced');
my @warnings = ($err =~ /WARNING:  tenant_guard rate limits are not enforced/g);
is(scalar(@warnings), 1, 'one WARNING per session');

# a full structure fails open: creations are not counted, one WARNING;
# and the window slides (shortened to 10 seconds, a testing aid)
$node->stop;
$node->adjust_conf('postgresql.conf', 'shared_preload_libraries', "'tenant_guard'");
$node->append_conf('postgresql.conf', qq{tenant_guard.rate_limit_capacity = 1024
tenant_guard.rate_limit_window = '10s'});
$node->start;

# Waits count from the creations' own times (taken around each create()),
# so that a slow server (the sanitize pass: an ASan build) keeps the
# premises: each create() may take up to ~2 s.
$node->safe_psql('postgres', 'TRUNCATE tenants; SELECT tenant_guard.rate_limit_reset()');
is(create(11), '', 'window: first tenant');
my $first_made = time;    # the first creation's event is older than this
sleep 3;
is(create(12), '', 'window: second tenant, 3 s later');
is(create(13), '', 'window: third tenant');
like(create(14), qr/Too many tenants created recently/, 'window: 4th refused');
sleep_until($first_made + 10.5);
# the first has left the window, the other two (3 s younger) have not
is(create(15), '', 'window: one slot free again once the oldest is 10 s old');
like(create(16), qr/Too many tenants created recently/, 'window: and only one');
sleep_until(time + 10.5);
is($node->safe_psql('postgres', q{SELECT created FROM tenant_guard.rate_limit_usage('ip', '203.0.113.7')}),
	'0', 'window: all expired');

# (twelve transactions of 100 tenants: one transaction alone would take
# only half of the memory, see 032_ratelimit_bulk.pl)
($ret, $out, $err) = $node->psql('postgres', join('', map { sprintf(q{
INSERT INTO tenants (name, subdomain, email)
  SELECT 'Bulk ' || i, 'bulk-' || i, 'owner' || i || '@bulk.com' FROM generate_series(%d, %d) i;},
	$_ * 100 + 1, $_ * 100 + 100) } 0 .. 11) . q{
SELECT count(*) FROM tenants WHERE subdomain LIKE 'bulk-%';});
is($out, '1200', 'all tenants of a bulk load larger than the capacity are created');
@warnings = ($err =~ /WARNING:  tenant_guard rate-limit memory is full/g);
is(scalar(@warnings), 1, 'one WARNING (not one per row or per statement)');
my ($in_use, $not_counted) = split /\|/, $node->safe_psql('postgres',
	'SELECT in_use, not_counted FROM tenant_guard.rate_limit_status()');
cmp_ok($in_use, '>', 900, "memory is (nearly) full: $in_use of 1024");
cmp_ok($not_counted, '>=', 1200 - 1024, "creations not counted: $not_counted");

$node->stop;
done_testing();
