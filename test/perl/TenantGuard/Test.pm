# test/perl/TenantGuard/Test.pm -- what every TAP test of tenant_guard
# (test/t/*.pl) starts with: a cluster of the installation under test, with
# the library preloaded, started, and its first SQL run.
#
# The Makefile puts test/perl on prove's include path (PG_PROVE_FLAGS), so
# `make installcheck` finds it; by hand: prove -I test/perl test/t/x.pl
# (PostgreSQL::Test::* come from PGXS's src/test/perl).
package TenantGuard::Test;

use strict;
use warnings;

use Exporter 'import';
use File::Basename;
use PostgreSQL::Test::Cluster;

our @EXPORT = qw(tg_node tg_install);

# The installation PG_CONFIG names (test/check.sh exports it) as
# PostgreSQL::Test::Cluster->new's install_path; none: the one in PATH
# (make installcheck puts PG_CONFIG's bindir first).
sub tg_install
{
	return () unless $ENV{PG_CONFIG};
	my $bindir = `$ENV{PG_CONFIG} --bindir`;
	chomp $bindir;
	return (install_path => dirname($bindir));
}

# tg_node(NAME, OPTIONS): a new cluster NAME, initialised, configured and
# started.  OPTIONS:
#   preload  shared_preload_libraries (default 'tenant_guard'; '' or 0:
#            none, the library then loads on first use)
#   conf     more postgresql.conf lines
#   init     hash ref of options for init (say allows_streaming => 1)
#   sql      run in database postgres once started (say CREATE EXTENSION)
#   start    0: leave it stopped (default 1)
sub tg_node
{
	my ($name, %opt) = @_;
	my $preload = $opt{preload} // 'tenant_guard';
	my $node = PostgreSQL::Test::Cluster->new($name, tg_install());

	$node->init(%{ $opt{init} // {} });
	$node->append_conf('postgresql.conf', "shared_preload_libraries = '$preload'")
	  if $preload;
	$node->append_conf('postgresql.conf', $opt{conf}) if defined $opt{conf};
	return $node if defined $opt{start} && !$opt{start};
	$node->start;
	$node->safe_psql('postgres', $opt{sql}) if defined $opt{sql};
	return $node;
}

1;
