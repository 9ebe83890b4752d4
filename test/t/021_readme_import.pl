# README's command for loading the disposable-domain list, run exactly as
# README prints it (all but the "npm pack" line, which needs the
# registry): the list is longer than one command-line argument may be on
# Linux (128 KB), which is what broke the 1.0 README's psql -v list=...
# The list is the real one when test/check.sh could fetch it
# (TG_DISPOSABLE_LIST), otherwise a generated JSON array of the same size.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename;
use File::Path qw(make_path);
use IPC::Run;

my %install;
if ($ENV{PG_CONFIG})
{
	my $bindir = `$ENV{PG_CONFIG} --bindir`;
	chomp $bindir;
	$install{install_path} = dirname($bindir);
}

# the shell block of README that follows "Loading a maintained list"
my $readme = slurp_file((dirname(__FILE__)) . '/../../README.md');
my ($block) = $readme =~ /\*\*Loading a maintained list\.\*\*.*?```sh\n(.*?)```/s;
ok(defined $block, 'README shows the import command');
my @lines = grep { !/^npm pack/ } split /\n/, $block;
my $script = join("\n", @lines) . "\n";
like($script, qr/disposable_email_blocklist\.json/, 'the command reads the JSON file');

# the file where README expects it
my $dir = PostgreSQL::Test::Utils::tempdir;
make_path("$dir/package/dist/dict");
my $file = "$dir/package/dist/dict/disposable_email_blocklist.json";
my $expected;
if ($ENV{TG_DISPOSABLE_LIST} && -s $ENV{TG_DISPOSABLE_LIST})
{
	my $json = slurp_file($ENV{TG_DISPOSABLE_LIST});
	open(my $out, '>', $file) or die "cannot write $file: $!";
	print $out $json;
	close $out;
}
else
{
	open(my $out, '>', $file) or die "cannot write $file: $!";
	print $out "[\n" . join(",\n", map { qq{  "throwaway-inbox-$_.example-mail.net"} } 1 .. 9000) . "\n]\n";
	close $out;
	$expected = 9000;
}
cmp_ok(-s $file, '>', 131072, 'the list is longer than one argument may be (128 KB)');

my $node = PostgreSQL::Test::Cluster->new('readme_import', %install);
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'tenant_guard'");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION tenant_guard');

# run it as printed, from the directory npm pack would have unpacked into
local %ENV = (%ENV, $node->_get_env());
my ($stdout, $stderr);
my $ok = IPC::Run::run([ 'bash', '-e', '-c', "cd '$dir' && $script" ],
	'>', \$stdout, '2>', \$stderr);
ok($ok, 'README\'s command runs') or diag($stderr);
unlike($stderr // '', qr/Argument list too long|ERROR/, 'without errors');
my $n = $node->safe_psql('postgres', q{SELECT count(*) FROM tenant_guard.email_domains});
cmp_ok($n, '>=', 5000, "it imported the list ($n domains)");
is($n, $expected, 'every domain of the generated list') if defined $expected;

$node->stop;
done_testing();
