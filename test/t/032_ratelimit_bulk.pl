# One bulk insert must not blind the rate limits for everyone (issue 12,
# item 6).  A transaction inserting 1,000,000 tenants with distinct e-mail
# addresses and the default limits would take every event of the shared
# memory (262,144), and while it ran every other session's creations went
# uncounted; its backend kept its memory after ROLLBACK.  Now one
# transaction holds at most half of the memory: while the bulk transaction
# is open, after it commits and after it rolls back, another session's
# signups are limited exactly (three, then TG002), and the bulk backend's
# memory returns to what it was before.
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
my $node = PostgreSQL::Test::Cluster->new('bulk', %install);
$node->init;
$node->append_conf('postgresql.conf', q{shared_preload_libraries = 'tenant_guard'});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION tenant_guard;
CREATE TABLE tenants (id serial PRIMARY KEY, name text, subdomain text, email text);
SELECT tenant_guard.attach('tenants');
});

# Four signups for one e-mail from one address, each its own transaction,
# as an application makes them: how many were created?
sub signups
{
	my ($tag) = @_;
	my $created = 0;
	for my $i (1 .. 4)
	{
		my ($ret, $out, $err) = $node->psql('postgres', qq{
BEGIN;
SET LOCAL tenant_guard.client_addr = '198.51.100.$tag';
INSERT INTO tenants (name, subdomain, email)
  VALUES ('Harbor Cafe $tag-$i', 'harbor-cafe-$tag-$i', 'mara+$i\@harbor-cafe-$tag.de');
COMMIT;});
		if ($ret == 0) { $created++; }
		elsif ($err !~ /Too many tenants created recently/) { diag($err); }
	}
	return $created;
}

# The bulk session's memory: its memory contexts in bytes, and its
# resident anonymous memory in kB (/proc).
my $bulk = $node->background_psql('postgres', timeout => 600);
my $pid = $bulk->query_safe('SELECT pg_backend_pid()');
# Under AddressSanitizer (the sanitize pass of test/check.sh) freed memory
# goes to ASan's quarantine, not back to the system: resident memory says
# nothing there, the memory contexts still do.
my $asan = do {
	open my $maps, '<', "/proc/$pid/maps" or die "/proc/$pid/maps: $!";
	scalar grep { /libasan/ } <$maps>;
};
sub memory
{
	my $contexts = $bulk->query_safe(
		'SELECT sum(total_bytes) FROM pg_backend_memory_contexts');
	open my $fh, '<', "/proc/$pid/status" or die "/proc/$pid/status: $!";
	my ($rss) = map { /^RssAnon:\s+(\d+)/ ? $1 : () } <$fh>;
	close $fh;
	return ($contexts, $rss);
}

# The same statements with 1,000 rows: the caches they fill (catalog,
# plans, our rules) are there before the baseline is taken.
sub bulk_insert
{
	my ($end, $rows) = @_;
	$bulk->{stderr} = '';
	$bulk->query_safe('BEGIN');
	my ($out, $ret) = $bulk->query(qq{
INSERT INTO tenants (name, subdomain, email)
  SELECT 'Bulk ' || i, 'bulk-$end-' || i, 'owner' || i || '\@bulk-$end.com'
    FROM generate_series(1, $rows) i;});
	my $err = $bulk->{stderr};
	$bulk->{stderr} = '';
	return $err;
}
sub contexts
{
	return $bulk->query_safe(q{SELECT string_agg(name || ' ' || total_bytes, ', ' ORDER BY total_bytes DESC)
		FROM (SELECT name, sum(total_bytes) AS total_bytes FROM pg_backend_memory_contexts
		       GROUP BY name ORDER BY 2 DESC LIMIT 8) c});
}
for my $end ('COMMIT', 'ROLLBACK')
{
	bulk_insert($end, 1000);
	memory();
	$bulk->query_safe($end);
}
$bulk->query_safe(q{DELETE FROM tenants; SELECT tenant_guard.rate_limit_reset();});
my ($ctx0, $rss0) = memory();
note "baseline: contexts $ctx0 bytes, RssAnon $rss0 kB: ", contexts();

my $n = 1;
for my $end ('COMMIT', 'ROLLBACK')
{
	my $err = bulk_insert($end, 1000000);
	my @warnings = ($err =~ /WARNING:  tenant_guard does not count this transaction's further tenant creations/g);
	is(scalar(@warnings), 1, "$end: the bulk insert is told once that its further tenants are not counted");
	unlike($err, qr/ERROR/, "$end: the bulk insert succeeds");

	# bulk transactions take at most half; beyond it each takes 8 per partition
	my ($in_use, $capacity) = split /\|/, $node->safe_psql('postgres',
		'SELECT in_use, capacity FROM tenant_guard.rate_limit_status()');
	cmp_ok($in_use, '<=', $capacity / 2 + 2 * 16 * 8 + 64,
		"$end: bulk loads hold at most half of the memory ($in_use of $capacity)");
	is(signups($n++), 3, "$end: while the bulk transaction is open, another session creates exactly three tenants for one e-mail and IP");

	$bulk->query_safe($end);
	is($node->safe_psql('postgres', "SELECT count(*) FROM tenants WHERE subdomain LIKE 'bulk-$end-%'"),
		$end eq 'COMMIT' ? '1000000' : '0', "$end: the bulk rows are there or gone");
	is(signups($n++), 3, "$end: after the bulk transaction, another session creates exactly three tenants");

	my ($ctx, $rss) = memory();
	note "after $end: contexts $ctx bytes, RssAnon $rss kB: ", contexts();
	cmp_ok($ctx - $ctx0, '<', 128 * 1024, "$end: the bulk backend's memory contexts are back to the baseline");
	SKIP:
	{
		skip "$end: resident memory under AddressSanitizer (its quarantine keeps freed memory)", 1 if $asan;
		cmp_ok($rss - $rss0, '<', 1024, "$end: the bulk backend's resident memory is back to the baseline");
	}
}
$node->safe_psql('postgres', 'SELECT tenant_guard.log_queue_wait()');
is($node->safe_psql('postgres', q{SELECT count(*) FROM tenant_guard.test_data_prevention_logs
	WHERE reason LIKE 'rate limit: 3 tenants per hour per %'}), '4',
	'the four refused signups were logged');

$bulk->quit;
$node->stop;
done_testing();
