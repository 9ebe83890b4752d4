# Alerts pushed by pg_cron: Debian's postgresql-15-cron, preloaded beside
# tenant_guard, runs tenant_guard.check_alerts() every minute (the
# shortest schedule pg_cron 1.4 knows); a LISTEN session receives the
# NOTIFY of the transition, once.  Also: the creation counts behind
# tenant_creation_rate survive a clean restart and not a crash.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename;
use Time::HiRes qw(sleep);

my %install;
my $pkglibdir = '/usr/lib/postgresql/15/lib';
if ($ENV{PG_CONFIG})
{
	my $bindir = `$ENV{PG_CONFIG} --bindir`;
	chomp $bindir;
	$install{install_path} = dirname($bindir);
	$pkglibdir = `$ENV{PG_CONFIG} --pkglibdir`;
	chomp $pkglibdir;
}
plan skip_all => "pg_cron is not installed in $pkglibdir (Debian package postgresql-15-cron)"
  unless -e "$pkglibdir/pg_cron.so";

my $node = PostgreSQL::Test::Cluster->new('alerts_cron', %install);
$node->init;
$node->append_conf('postgresql.conf', qq{shared_preload_libraries = 'tenant_guard,pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 20
restart_after_crash = on});
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION pg_cron;
CREATE EXTENSION tenant_guard;
CREATE TABLE tenants (id serial PRIMARY KEY, name text, subdomain text UNIQUE, email text);
SELECT tenant_guard.attach('tenants');
});

sub creations
{
	return $node->safe_psql('postgres',
		q{SELECT created FROM tenant_guard.creations() WHERE tbl = 'tenants'::regclass});
}

# six real tenants: one over the default threshold of 5
$node->safe_psql('postgres', qq{INSERT INTO tenants (name, subdomain, email)
  VALUES ('Harbor Cafe $_', 'harbor-cafe-$_', 'owner$_\@harbor$_.com')}) for 1 .. 6;
is(creations(), '6', 'six creations counted');

# clean restart: the counts come back from the state file
$node->restart;
is(creations(), '6', 'the counts survive a clean restart');
ok(!-e $node->data_dir . '/pg_stat/tenant_guard_creations.stat',
	'the state file is removed once read');

# the LISTEN session, then pg_cron every minute
my $listener = $node->background_psql('postgres');
$listener->query_safe('LISTEN tenant_guard_alerts');
$node->safe_psql('postgres',
	q{SELECT cron.schedule('tenant_guard_alerts', '* * * * *', 'SELECT tenant_guard.check_alerts()')});

# wait for pg_cron's run (up to a minute to the next full minute, and some)
my $got = '';
foreach my $i (1 .. 150)
{
	$got .= $listener->query_safe('SELECT 1');
	last if $got =~ /tenant_creation_rate/;
	sleep 1;
}
like($got, qr/Asynchronous notification "tenant_guard_alerts" with payload "\{.*"alert": "tenant_creation_rate".*"state": "firing"/,
	'the LISTEN session received the firing notification from the pg_cron run');
is($node->safe_psql('postgres',
	q{SELECT count(*) FROM cron.job_run_details WHERE command LIKE '%check_alerts%' AND status = 'succeeded'}) >= 1,
	1, 'pg_cron ran check_alerts()');
is($node->safe_psql('postgres',
	q{SELECT state || ' ' || value FROM tenant_guard.alert_transitions WHERE alert = 'tenant_creation_rate'}),
	'firing 6', 'the transition was recorded');

# a second evaluation while it keeps firing: no transition, no notification
is($node->safe_psql('postgres', q{SELECT count(*) FROM tenant_guard.check_alerts()}),
	'0', 'no repeated transition while it keeps firing');
my $again = $listener->query_safe('SELECT 1');
unlike($again, qr/tenant_creation_rate/, 'no repeated notification');

$node->safe_psql('postgres', q{SELECT cron.unschedule('tenant_guard_alerts')});
$listener->quit;

# a crash: the counts start empty
$node->stop('immediate');
$node->start;
is(creations(), '0', 'after an immediate shutdown the counts start empty');

$node->stop;
done_testing();
