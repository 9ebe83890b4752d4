# Prometheus: the rules of monitoring/alerts.yml pass promtool's check and
# unit tests; Debian's prometheus-postgres-exporter, started against a test
# cluster with --extend.query-path=monitoring/queries.yaml as a monitoring
# role holding only the grants README names, serves the tenant_guard_*
# metrics with the values of real accepted and rejected inserts.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TenantGuard::Test;
use File::Basename;
use IPC::Run;
use Time::HiRes qw(sleep);

my $exporter = '/usr/bin/prometheus-postgres-exporter';
plan skip_all => 'promtool and prometheus-postgres-exporter are not installed (Debian packages prometheus, prometheus-postgres-exporter)'
  unless -x '/usr/bin/promtool' && -x $exporter;

my $mon = dirname(__FILE__) . '/../../monitoring';

# the rules (promtool's unit tests need a writable temporary directory)
local $ENV{TMPDIR} = PostgreSQL::Test::Utils::tempdir;
my ($out, $err) = ('', '');
ok(IPC::Run::run([ 'promtool', 'check', 'rules', "$mon/alerts.yml" ], '>', \$out, '2>', \$err),
	'promtool check rules monitoring/alerts.yml') or diag("$out$err");
($out, $err) = ('', '');
ok(IPC::Run::run([ 'promtool', 'test', 'rules', "$mon/alerts_test.yml" ], '>', \$out, '2>', \$err),
	'promtool test rules monitoring/alerts_test.yml') or diag("$out$err");

my $node = tg_node('prometheus');

# the monitoring role gets exactly what README's Monitoring chapter grants
my $readme = slurp_file(dirname(__FILE__) . '/../../README.md');
my ($grants) = $readme =~ /<!-- monitoring-role -->\s*```sql\n(.*?)```/s;
ok(defined $grants, 'README names the monitoring role\'s grants');
$node->safe_psql('postgres', q{
CREATE EXTENSION tenant_guard;
CREATE TABLE tenants (id serial PRIMARY KEY, name text, subdomain text, email text);
SELECT tenant_guard.attach('tenants');
});
$node->safe_psql('postgres', $grants);

# real inserts: 3 accepted, 2 rejected, 1 kept in log mode (a live test tenant)
$node->safe_psql('postgres', qq{INSERT INTO tenants (name, subdomain, email)
  VALUES ('Harbor Cafe $_', 'harbor-cafe-$_', 'owner\@harbor$_.com')}) for 1 .. 3;
for my $n (1 .. 2)
{
	my ($ret) = $node->psql('postgres', qq{INSERT INTO tenants (name, subdomain, email)
	  VALUES ('test $n', 'test-$n', 'x$n\@mailinator.com')});
	isnt($ret, 0, "test tenant $n rejected");
}
$node->safe_psql('postgres', q{SET tenant_guard.mode = log;
  INSERT INTO tenants (name, subdomain, email) VALUES ('Fake Shop', 'fake-shop', 'qa@mailinator.com')});
is($node->safe_psql('postgres', 'SELECT tenant_guard.log_queue_wait()'), 't', 'rejections written');

# the exporter, on a port of the test's range
my $port = $ENV{TG_EXPORTER_PORT} // 21117;    # below the ephemeral ports
local $ENV{DATA_SOURCE_NAME} = sprintf('host=%s port=%d user=regress_tg_monitor dbname=postgres sslmode=disable',
	$node->host, $node->port);
my ($eout, $eerr) = ('', '');
my $h = IPC::Run::start(
	[ $exporter, "--extend.query-path=$mon/queries.yaml", '--disable-default-metrics',
	  '--disable-settings-metrics', "--web.listen-address=127.0.0.1:$port" ],
	'>', \$eout, '2>', \$eerr);

my $metrics = '';
foreach (1 .. 100)
{
	my ($body, $cerr) = ('', '');
	IPC::Run::run([ 'curl', '-sf', "http://127.0.0.1:$port/metrics" ], '>', \$body, '2>', \$cerr);
	if ($body =~ /tenant_guard_alert_firing/)
	{
		$metrics = $body;
		last;
	}
	sleep 0.2;
}
$h->kill_kill;
$h->finish;
ok($metrics ne '', 'the exporter serves tenant_guard metrics') or diag($eerr);
note(join("\n", grep { /^tenant_guard/ } split /\n/, $metrics));

# the value of a metric with these labels (the exporter adds a "server" label)
sub metric
{
	my ($name, $label) = @_;
	foreach my $line (split /\n/, $metrics)
	{
		next unless $line =~ /^\Q$name\E\{([^}]*)\} (\S+)$/;
		my ($labels, $value) = ($1, $2);
		return $value if !defined $label || index($labels, $label) >= 0;
	}
	return undef;
}
is(metric('tenant_guard_creations_last_hour', 'table="tenants"'), '4', 'creations in the last hour: 3 accepted + 1 logged');
is(metric('tenant_guard_failed_last_hour'), '2', 'failed creations in the last hour');
is(metric('tenant_guard_failed_rate_limited_last_hour'), '0', 'none of them by the rate limits');
is(metric('tenant_guard_suspicious_live_tenants', 'table="tenants"'), '1', 'one live suspicious tenant');
is(metric('tenant_guard_alert_firing', 'alert="test_tenants"'), '1', 'test_tenants fires');
is(metric('tenant_guard_alert_firing', 'alert="tenant_creation_rate"'), '0', 'tenant_creation_rate does not (4 <= 5)');
is(metric('tenant_guard_alert_value', 'alert="failed_creations"'), '2', 'failed_creations measures 2');
is(metric('tenant_guard_alert_threshold', 'alert="failed_creations"'), '10', 'against 10');
is(metric('tenant_guard_alert_firing', 'alert="not_preloaded"'), '0', 'preloaded');
is(metric('tenant_guard_log_dropped_total'), '0', 'no log drops');
is(metric('tenant_guard_log_preloaded'), '1', 'log preloaded');
is(metric('tenant_guard_rate_limit_refused_total'), '0', 'no rate-limit refusals');
unlike($eerr, qr/permission denied/, 'the monitoring role had every grant it needs');

$node->stop;
done_testing();
