# A row counted under two keys in the same partition of the shared table
# (its client address and its e-mail) reserves two events there at once:
# this backend's list of pending events must have room for both, even when
# it is one short of full.  Before that was so, such a row wrote past the
# list and a later row crashed the server (and every session with it).
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
my $node = PostgreSQL::Test::Cluster->new('partition', %install);
$node->init;
$node->append_conf('postgresql.conf', q{shared_preload_libraries = 'tenant_guard'});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION tenant_guard;
CREATE TABLE tenants (id serial PRIMARY KEY, name text, subdomain text, email text);
SELECT tenant_guard.attach('tenants');
});

# e-mail addresses in the partition of the address, computed with the
# extension's own key code (src/ratekey*.c)
my $ip = '198.51.100.60';
my $helper = PostgreSQL::Test::Utils::tempdir() . '/rate_partition';
# (the e-mail key folds look-alikes with the checker's ICU code)
my @icu = split ' ', `pkg-config --libs icu-uc icu-i18n`;
system($ENV{CC} // 'cc', '-O2', '-Isrc', '-o', $helper,
	'test/t/rate_partition.c', glob('src/ratekey*.c'), glob('src/checker*.c'), @icu) == 0
  or die 'could not build test/t/rate_partition.c';
my $dboid = $node->safe_psql('postgres',
	q{SELECT oid FROM pg_database WHERE datname = 'postgres'});
my @emails = split /\n/, `$helper $dboid $ip 1100`;
is(scalar(@emails), 1100, 'helper found 1,100 addresses in the partition of the IP');

# the list of a partition starts with room for 64 events and doubles; with
# 1,023 of 1,024 taken, the next row needs two more
my $list = sub { join ',', map { "'$_'" } @_ };
my ($ret, $out, $err) = $node->psql('postgres', sprintf(q{
BEGIN;
INSERT INTO tenants (name, subdomain, email)
  SELECT 'Northwind Traders', 'northwind', e FROM unnest(ARRAY[%s]) e;
SET LOCAL tenant_guard.client_addr = '%s';
INSERT INTO tenants (name, subdomain, email) VALUES ('Northwind Traders', 'northwind', '%s');
RESET tenant_guard.client_addr;
INSERT INTO tenants (name, subdomain, email)
  SELECT 'Northwind Traders', 'northwind', e FROM unnest(ARRAY[%s]) e;
COMMIT;
SELECT count(*) FROM tenants;},
	$list->(@emails[0 .. 1022]), $ip, $emails[1023], $list->(@emails[1024 .. 1099])));
is($ret, 0, 'the transaction succeeds') or diag($err);
is($out, '1100', 'every tenant was created');
ok(!$node->log_contains('terminated by signal'), 'no server process crashed');
is($node->safe_psql('postgres',
		"SELECT created FROM tenant_guard.rate_limit_usage('ip', '$ip')"),
	'1', 'the address counts its one tenant');
is($node->safe_psql('postgres',
		"SELECT created FROM tenant_guard.rate_limit_usage('email', '$emails[1023]')"),
	'1', 'and so does the e-mail address');

$node->stop;
done_testing();
