# A bulk transaction counts its own tenants beyond its share (security
# review of issue 12 item 6).  Beyond its share of the rate-limit memory a
# transaction's tenants were checked only against the shared counts, which
# do not hold its own uncounted tenants: after 600 other rows, one
# transaction could create any number of tenants for one e-mail or IP.
# Now it counts them in backend memory: its 4th tenant for one e-mail or
# IP is refused (TG002), a ROLLBACK TO SAVEPOINT gives counts back, and
# past tenant_guard.rate_limit_bulk_memory further rows are refused
# rather than let through uncounted.  The smallest capacity (1024: 16
# partitions of 64, a transaction's share about 32 each) keeps it small.
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
my $node = PostgreSQL::Test::Cluster->new('bulk_own', %install);
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'tenant_guard'
tenant_guard.rate_limit_capacity = 1024
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION tenant_guard;
CREATE TABLE tenants (id serial PRIMARY KEY, name text, subdomain text, email text);
SELECT tenant_guard.attach('tenants');
CREATE ROLE signup LOGIN;
GRANT INSERT, SELECT, DELETE ON tenants TO signup;
GRANT USAGE ON SEQUENCE tenants_id_seq TO signup;
});

# 1000 bakery branches with distinct addresses: far beyond the share in
# every partition.
my $bakery = q{
INSERT INTO tenants (name, subdomain, email)
  SELECT 'Bäckerei Nr ' || g, 'baeckerei' || g, 'filiale' || g || '@baeckerei-kette.de'
    FROM generate_series(1, 1000) g;
};

# Run a script in a fresh state as the application role; returns stdout and stderr.
sub run
{
	my ($sql) = @_;
	$node->safe_psql('postgres', q{DELETE FROM tenants; SELECT tenant_guard.rate_limit_reset();});
	my ($ret, $out, $err) = $node->psql('postgres',
		"\\set VERBOSITY verbose\nSET ROLE signup;\n$sql");
	return ($out, $err);
}

# One signup of the ice cream parlour, as SQL.
sub ins
{
	my ($i, $email) = @_;
	return "INSERT INTO tenants (name, subdomain, email) VALUES ('Eis Cafe $i', 'eiscaferoma$i', '$email');";
}

# A script that echoes "three in" after three tenants for one key and
# "four in" after a fourth: the first three were accepted, the fourth was
# refused with TG002 naming the key (detail).
sub fourth_refused
{
	my ($what, $out, $err, $detail) = @_;
	like($out, qr/three in/, "$what: three tenants are accepted");
	unlike($out, qr/four in/, "$what: the 4th tenant is not");
	like($err, qr/ERROR:  TG002: .*\n.*$detail/, "$what: the 4th is refused with TG002");
}

# the review's case: one statement of ten tenants for one address
my ($out, $err) = run(qq{
BEGIN;
$bakery
\\echo bakery in
INSERT INTO tenants (name, subdomain, email)
  SELECT 'Eis Cafe ' || g, 'eiscaferoma' || g, 'gino\@eiscafe-roma.de' FROM generate_series(1, 10) g;
DELETE FROM tenants WHERE email LIKE '%\@baeckerei-kette.de';
COMMIT;});
like($out, qr/bakery in/, 'the bulk rows beyond the share are accepted');
like($err, qr/WARNING:  53400: tenant_guard does not count this transaction's further tenant creations/,
	'the bulk transaction is told that it went beyond its share');
like($err, qr/ERROR:  TG002: .*\n.*At most 3 tenants per hour may be created with one e-mail address; gino\@eiscafe-roma.de/,
	'ten tenants for one e-mail in the bulk transaction: refused with TG002');
is($node->safe_psql('postgres', q{SELECT count(*) FROM tenants WHERE email = 'gino@eiscafe-roma.de'}),
	'0', 'none of the ten was created');

# row by row: the 4th for one e-mail is refused, the first three are not;
# counts in shared memory (a tenant committed before) and the transaction's
# own add up
($out, $err) = run(qq{
@{[ins(0, 'gino@eiscafe-roma.de')]}
BEGIN;
$bakery
@{[ins(1, 'Gino@eiscafe-roma.de')]}
@{[ins(2, 'gino+zwei@eiscafe-roma.de')]}
\\echo three in
@{[ins(3, 'gino@eiscafe-roma.de')]}
\\echo four in
COMMIT;});
fourth_refused('e-mail (one committed before)', $out, $err, qr/one e-mail address; gino\@eiscafe-roma.de/);

# the same per IP, with distinct e-mails
($out, $err) = run(qq{
BEGIN;
$bakery
SET LOCAL tenant_guard.client_addr = '203.0.113.7';
@{[ins(1, 'gino1@eiscafe-roma.de')]}
@{[ins(2, 'gino2@eiscafe-roma.de')]}
@{[ins(3, 'gino3@eiscafe-roma.de')]}
\\echo three in
@{[ins(4, 'gino4@eiscafe-roma.de')]}
\\echo four in
COMMIT;});
fourth_refused('IP', $out, $err, qr/one IP address; 203.0.113.7/);

# savepoints: a rolled-back subtransaction gives its tenants back (also
# those of a released inner one); a released one keeps them
($out, $err) = run(qq{
BEGIN;
$bakery
SAVEPOINT a;
@{[ins(1, 'gino@eiscafe-roma.de')]}
SAVEPOINT b;
@{[ins(2, 'gino@eiscafe-roma.de')]}
@{[ins(3, 'gino@eiscafe-roma.de')]}
RELEASE b;
ROLLBACK TO a;
SAVEPOINT c;
@{[ins(4, 'gino@eiscafe-roma.de')]}
SAVEPOINT d;
@{[ins(5, 'gino@eiscafe-roma.de')]}
RELEASE d;
RELEASE c;
@{[ins(6, 'gino@eiscafe-roma.de')]}
\\echo three in
SAVEPOINT e;
@{[ins(7, 'gino@eiscafe-roma.de')]}
\\echo four in
COMMIT;});
fourth_refused('savepoints (three rolled back, three kept by RELEASE)', $out, $err,
	qr/one e-mail address; gino\@eiscafe-roma.de/);

# the transaction's own counts are bounded: past rate_limit_bulk_memory
# further rows are refused, not let through uncounted
($out, $err) = run(q{
BEGIN;
SET LOCAL tenant_guard.rate_limit_bulk_memory = '64kB';
INSERT INTO tenants (name, subdomain, email)
  SELECT 'Bulk ' || g, 'bulk' || g, 'owner' || g || '@grosshandel-import.de' FROM generate_series(1, 20000) g;
\echo bulk in
COMMIT;});
unlike($out, qr/bulk in/, 'past rate_limit_bulk_memory the bulk insert fails');
like($err, qr/ERROR:  54000: tenant_guard cannot count more tenant creations in this transaction\n.*rate_limit_bulk_memory \(64 kB\).*\n.*HINT:  .*to -1/,
	'with a clear error and hint');
is($node->safe_psql('postgres', 'SELECT count(*) FROM tenants'), '0', 'nothing of it was created');

# as the hint says: an administrator loads with the limits off
$node->safe_psql('postgres', q{
BEGIN;
SET LOCAL tenant_guard.rate_limit_bulk_memory = '64kB';
SET LOCAL tenant_guard.max_tenants_per_hour_per_email = -1;
INSERT INTO tenants (name, subdomain, email)
  SELECT 'Bulk ' || g, 'bulk' || g, 'owner' || g || '@grosshandel-import.de' FROM generate_series(1, 20000) g;
COMMIT;});
is($node->safe_psql('postgres', 'SELECT count(*) FROM tenants'), '20000', 'with the limits off the bulk load succeeds');

$node->stop;
done_testing();
