# Loading a maintained disposable-domain list with
# tenant_guard.import_email_domains(): the CC0 list of the npm package
# disposable-email-domains-js, fetched by test/check.sh at test time
# (TG_DISPOSABLE_LIST names its JSON file; the list is never committed).
# Then pg_dump / restore keeps the operator's rules exactly once.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TenantGuard::Test;

my $list = $ENV{TG_DISPOSABLE_LIST};
if (!defined $list || !-s $list)
{
	plan skip_all =>
	  'the npm registry could not be reached (TG_DISPOSABLE_LIST is not set): '
	  . 'disposable-email-domains-js import NOT tested';
}

my $node = tg_node('disposable');
$node->safe_psql('postgres', 'CREATE EXTENSION tenant_guard');

# the file is a JSON array of domains
open(my $fh, '<', $list) or die "cannot read $list: $!";
my $json = do { local $/; <$fh> };
close $fh;
$json =~ s/'/''/g;
my $version = $ENV{TG_DISPOSABLE_VERSION} // 'disposable-email-domains-js';

my $added = $node->safe_psql('postgres', qq{
  SELECT tenant_guard.import_email_domains(
           ARRAY(SELECT jsonb_array_elements_text('$json'::jsonb)), '$version')});
cmp_ok($added, '>=', 5000, "imported $added domains from $version");

is( $node->safe_psql('postgres', qq{
      SELECT tenant_guard.import_email_domains(
               ARRAY(SELECT jsonb_array_elements_text('$json'::jsonb)), '$version')}),
	'0', 'importing the same list again adds nothing');

# a domain of the list that is not built in is now caught, with its subdomains
my $extra = $node->safe_psql('postgres', q{
  SELECT d.domain FROM tenant_guard.email_domains d
   WHERE NOT EXISTS (SELECT 1 FROM tenant_guard.builtin_rules() b WHERE b.value = d.domain)
     AND d.domain ~ '^[a-z0-9-]+\.[a-z]+$'
   ORDER BY d.domain LIMIT 1});
isnt($extra, '', "a listed domain that is not built in: $extra");
like($node->safe_psql('postgres',
		"SELECT reason FROM tenant_guard.check_tenant(NULL, NULL, 'jane\@$extra')"),
	qr/^email: disposable domain \Q$extra\E$/, 'it is caught');
like($node->safe_psql('postgres',
		"SELECT reason FROM tenant_guard.check_tenant(NULL, NULL, 'jane\@inbox.$extra')"),
	qr/^email: disposable domain inbox\.\Q$extra\E \(under \Q$extra\E\)$/,
	'and so are its subdomains');

# the big providers of real mail are not on it
is( $node->safe_psql('postgres', q{
      SELECT string_agg(e, ', ') FROM unnest(ARRAY['jane@gmail.com', 'jane@outlook.com',
        'jane@yahoo.com', 'jane@icloud.com', 'jane@proton.me', 'jane@gmx.de']) e
       WHERE (tenant_guard.check_tenant(NULL, NULL, e)).is_suspicious}),
	'', 'common real providers still pass');

# every backend sees the new rules (a fresh connection compiles them)
my $n = $node->safe_psql('postgres', q{
  SELECT count(*) FROM (SELECT domain FROM tenant_guard.email_domains ORDER BY domain LIMIT 500) d
   WHERE (tenant_guard.check_tenant(NULL, NULL, 'x@' || d.domain)).is_suspicious});
is($n, '500', 'the first 500 imported domains are all caught');

# pg_dump keeps the operator's rules, once; built-in rules are not rows
$node->safe_psql('postgres', q{
  INSERT INTO tenant_guard.keywords (keyword, strength) VALUES ('widgets', 'strong');
  INSERT INTO tenant_guard.allowlist (kind, value) VALUES ('name', 'The Test Kitchen')});
my $count_sql = q{SELECT (SELECT count(*) FROM tenant_guard.keywords) || '/' ||
                         (SELECT count(*) FROM tenant_guard.email_domains) || '/' ||
                         (SELECT count(*) FROM tenant_guard.allowlist)};
my $before = $node->safe_psql('postgres', $count_sql);
my $dump = $node->basedir . '/rules.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres') ],
	'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '-d', $node->connstr('restored'), $dump ], 'pg_restore');
is($node->safe_psql('restored', $count_sql), $before, "restored rules: $before (keywords/domains/allowlist)");
is( $node->safe_psql('restored', q{
      SELECT string_agg(is_suspicious::text, ',' ORDER BY n) FROM (VALUES
        (1, (tenant_guard.check_tenant('Acme Widgets', NULL, NULL)).is_suspicious),
        (2, (tenant_guard.check_tenant('The Test Kitchen', NULL, NULL)).is_suspicious)) v(n, is_suspicious)}),
	'true,false', 'restored rules apply');

$node->stop;
done_testing();
