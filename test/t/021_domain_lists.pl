# Big e-mail domain lists (issue 15): the list is compiled once per change
# into shared memory and every backend reads it there (a change made in
# one session is seen by an open session at its next check; a restart
# rebuilds it); without preloading each backend compiles its own copy and
# says so; and README's import commands for the npm lists run as printed,
# as a member of tenant_guard_admin (skipped when the npm registry cannot
# be reached: the lists are never committed).
use strict;
use warnings;
use Cwd;
use File::Temp qw(tempdir);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TenantGuard::Test;

my $node = tg_node('lists', conf => qq{
log_min_messages = debug1
});
$node->safe_psql('postgres', q{
  CREATE EXTENSION tenant_guard;
  CREATE ROLE regress_lists_admin LOGIN IN ROLE tenant_guard_admin});

# how often the list was compiled into shared memory, from the server log
sub compiles
{
	my $log = slurp_file($node->logfile);
	return scalar(() = $log =~ /tenant_guard compiled \d+ e-mail domains/g);
}

sub reason
{
	my ($email) = @_;
	return $node->safe_psql('postgres',
		"SELECT (tenant_guard.check_tenant(NULL, NULL, '$email')).reason");
}

# --- an open session sees another session's change at its next check ---
my ($in, $out, $err) = ('', '', '');
my $open = IPC::Run::start(
	[ 'psql', '-X', '-A', '-t', '-q', '-d', $node->connstr('postgres'), '-f', '-' ],
	'<', \$in, '>', \$out, '2>', \$err);

# run a statement in the open session, return its output
sub in_open
{
	my ($sql) = @_;
	$out = '';
	$in .= "$sql;\n\\echo ==done==\n";
	$open->pump until $out =~ /==done==/;
	(my $r = $out) =~ s/\n?==done==\n//;
	return $r;
}

my $check = q{SELECT coalesce((tenant_guard.check_tenant(NULL, NULL, 'a@shared-trap.io')).reason, '')};
is(in_open($check), '', 'open session: not listed yet');
my $before = compiles();
$node->safe_psql('postgres', q{
  SELECT tenant_guard.import_email_domains(
           ARRAY(SELECT 'bulk' || i || '-trap.io' FROM generate_series(1, 30000) i)
             || ARRAY['shared-trap.io'], 'regress-bulk')});
is(in_open($check), 'email: disposable domain shared-trap.io',
	'open session: sees the import at its next check');
is(reason('a@x.bulk29999-trap.io'), 'email: disposable domain x.bulk29999-trap.io (under bulk29999-trap.io)',
	'a new session sees it too');
is(reason('a@bulk7-trap.io'), 'email: disposable domain bulk7-trap.io', 'and another');
is(compiles() - $before, 1, 'compiled once for all sessions');

# a transaction's own change: seen inside it at once, by others at commit
in_open("BEGIN");
in_open("DELETE FROM tenant_guard.email_domains WHERE domain = 'shared-trap.io'");
is(in_open($check), '', 'the changing transaction sees its own delete');
is(reason('a@shared-trap.io'), 'email: disposable domain shared-trap.io',
	'others do not, before it commits');
in_open("COMMIT");
is(reason('a@shared-trap.io'), '', 'others do after it commits');
is(in_open($check), '', 'and so does the changing session');
$in .= "\\q\n";
$open->finish;

# --- a restart: the list is compiled again from the table ---
$node->restart;
$before = compiles();
is(reason('a@bulk123-trap.io'), 'email: disposable domain bulk123-trap.io',
	'after a restart the list applies');
is(compiles() - $before, 1, 'compiled again after the restart');

# --- the keywords and the allowlist come from the shared copy too: a new
# backend's first check opens no rule table (counted by the table
# statistics a backend reports when it exits) ---
$node->safe_psql('postgres', q{
  INSERT INTO tenant_guard.keywords (keyword, strength) VALUES ('regressshared', 'strong');
  INSERT INTO tenant_guard.allowlist (kind, value) VALUES ('name', 'Regress Test Shared');
  CREATE TABLE regress_marker ()});
my $name_check = q{SELECT coalesce((tenant_guard.check_tenant('Regressshared Labs', NULL, NULL)).reason, '') || '|'
	|| coalesce((tenant_guard.check_tenant('Regress Test Shared', NULL, NULL)).reason, '')};
like($node->safe_psql('postgres', $name_check), qr/regressshared.*\|$/,
	"a new session applies another's keyword and allowlist rows");
my $scans = q{SELECT pg_stat_clear_snapshot();
  SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0) FROM pg_stat_user_tables
   WHERE schemaname = 'tenant_guard' AND relname IN ('keywords', 'email_domains', 'allowlist');
  SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'regress_marker'};
my (undef, $rule_scans, $marker) = split /\n/, $node->safe_psql('postgres', $scans);
like($node->safe_psql('postgres', "$name_check; SELECT FROM regress_marker"),
	qr/regressshared.*\|$/, 'a new backend checks with them');
$node->poll_query_until('postgres',
	"SELECT seq_scan > $marker FROM pg_stat_user_tables WHERE relname = 'regress_marker'")
  or die 'the backend\'s statistics never arrived';
my (undef, $rule_scans_after) = split /\n/, $node->safe_psql('postgres', $scans);
is($rule_scans_after, $rule_scans, "a new backend's first check reads no rule table");
$node->safe_psql('postgres', q{
  DELETE FROM tenant_guard.keywords WHERE keyword = 'regressshared';
  DELETE FROM tenant_guard.allowlist WHERE value = 'Regress Test Shared';
  DROP TABLE regress_marker});
# (the first check after a change renews the shared copy: not measured below)
is(reason('a@bulk5-trap.io'), 'email: disposable domain bulk5-trap.io', 'the list still applies');

# private memory per backend: the list is not copied (a backend that only
# maps it touches a few pages of it; a private copy of 30,000 domains is
# over 2 MB)
my $private = q{
  SELECT (tenant_guard.check_tenant(NULL, NULL, 'a@bulk5-trap.io')).is_suspicious;
  SELECT sum(substring(l, '\d+')::bigint)
    FROM regexp_split_to_table(pg_read_file('/proc/' || pg_backend_pid() || '/smaps_rollup'), E'\n') l
   WHERE l ~ '^Private_(Dirty|Clean):'};
my ($flag, $kb_list) = split /\n/, $node->safe_psql('postgres', $private);
is($flag, 't', 'a new backend checks against the list');
$node->safe_psql('postgres', 'CREATE DATABASE nolist');
$node->safe_psql('nolist', 'CREATE EXTENSION tenant_guard');
(my $private_nolist = $private) =~ s/bulk5-trap/example/;
my (undef, $kb_none) = split /\n/, $node->safe_psql('nolist', $private_nolist);
cmp_ok($kb_list - $kb_none, '<', 1024,
	"a backend's private memory with 30,000 domains: ${kb_list} kB, without: ${kb_none} kB");

# --- without preloading: each backend compiles its own copy, and says so ---
my $lazy = tg_node('lists_lazy', preload => '');
$lazy->safe_psql('postgres', q{
  CREATE EXTENSION tenant_guard;
  SELECT tenant_guard.import_email_domains(
           ARRAY(SELECT 'bulk' || i || '-trap.io' FROM generate_series(1, 25000) i), 'regress-bulk')});
my ($ret, $stdout, $stderr) = $lazy->psql('postgres',
	q{SELECT (tenant_guard.check_tenant(NULL, NULL, 'a@bulk9-trap.io')).reason});
is($stdout, 'email: disposable domain bulk9-trap.io', 'not preloaded: the list applies');
like($stderr, qr/WARNING:  tenant_guard compiles its \d+ e-mail domains in every backend/,
	'not preloaded: a WARNING says what it costs');
$lazy->stop;

# --- README's import commands, as printed ---
my @blocks;
{
	my $readme = slurp_file(Cwd::abs_path(__FILE__) =~ s{test/t/[^/]+$}{README.md}r);
	while ($readme =~ /<!-- tested as printed: test\/t\/021_domain_lists\.pl -->\n```sh\n(.*?)```/sg)
	{
		push @blocks, $1;
	}
}
is(scalar @blocks, 2, "README has the two import commands");

SKIP:
{
	skip 'npm or jq is not installed: README import commands NOT tested', 8
	  if system('command -v npm >/dev/null && command -v jq >/dev/null') != 0;
	my $dir = tempdir(CLEANUP => 1);
	local $ENV{PGHOST} = $node->host;
	local $ENV{PGPORT} = $node->port;
	local $ENV{PGDATABASE} = 'postgres';
	local $ENV{PGUSER} = 'regress_lists_admin';
	# the first block fetches from the registry: unreachable means skip
	my $first = system('bash', '-c', "cd '$dir' && set -eo pipefail\n$blocks[0]");
	skip 'the npm registry could not be reached: README import commands NOT tested', 8
	  if $first != 0 && !-e "$dir/package/package.json";
	is($first, 0, 'README command 1 (disposable-email-domains-js) ran as printed');
	my $js = $node->safe_psql('postgres', q{
	  SELECT count(*) FROM tenant_guard.email_domains WHERE source = 'disposable-email-domains-js'});
	cmp_ok($js, '>=', 5000, "$js domains from disposable-email-domains-js");

	is(system('bash', '-c', "cd '$dir' && set -eo pipefail\n$blocks[1]"), 0,
		'README command 2 (disposable-email-domains) ran as printed');
	my $big = $node->safe_psql('postgres', q{
	  SELECT count(*) FROM tenant_guard.email_domains WHERE source = 'disposable-email-domains'});
	cmp_ok($big, '>=', 50000, "$big more domains from disposable-email-domains");

	# a wildcard entry catches its subdomains
	my $wild = `jq -r '.[0]' '$dir/package/wildcard.json'`;
	chomp $wild;
	like(reason("jane\@anything.$wild"), qr/^email: disposable domain anything\.\Q$wild\E/,
		"a wildcard.json entry ($wild) catches its subdomains");

	# running it again replaces the source: nothing new, nothing lost
	is(system('bash', '-c', "cd '$dir' && set -eo pipefail\n$blocks[1]"), 0,
		'README command 2 runs again');
	is($node->safe_psql('postgres', q{
	  SELECT count(*) FROM tenant_guard.email_domains WHERE source = 'disposable-email-domains'}),
		$big, 'the re-import replaced the source with the same rows');

	# the big providers of real mail are not on it
	is($node->safe_psql('postgres', q{
	  SELECT string_agg(e, ', ') FROM unnest(ARRAY['jane@gmail.com', 'jane@outlook.com',
	    'jane@yahoo.com', 'jane@icloud.com', 'jane@proton.me', 'jane@gmx.de']) e
	   WHERE (tenant_guard.check_tenant(NULL, NULL, e)).is_suspicious}),
		'', 'common real providers still pass');
}

$node->stop;
done_testing();
