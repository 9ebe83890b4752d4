# Logical replication: the publisher's guard decides, the subscriber applies
# what the publisher committed and never stalls -- also when the
# subscriber's guard and protection triggers are ENABLE ALWAYS (they then
# fire in the apply worker) -- and a row the publisher refused never
# reaches the subscriber.  Plus session_replication_role = replica, a
# superuser's way past the guard (documented in README's Security).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TenantGuard::Test;

my $setup = q{
CREATE EXTENSION tenant_guard;
CREATE TABLE tenants (id int PRIMARY KEY, name text, subdomain text, email text);
SELECT tenant_guard.attach('tenants');
};

my $pub = tg_node('publisher', init => { allows_streaming => 'logical' });
$pub->safe_psql('postgres', $setup . 'CREATE PUBLICATION tg_pub FOR TABLE tenants;');

my $sub = tg_node('subscriber');
$sub->safe_psql('postgres', $setup);
my $connstr = $pub->connstr . ' dbname=postgres';
$sub->safe_psql('postgres',
	"CREATE SUBSCRIPTION tg_sub CONNECTION '$connstr' PUBLICATION tg_pub");
$sub->wait_for_subscription_sync($pub, 'tg_sub');

# How many rows named $name the subscriber has, once it has caught up.
sub arrived
{
	my ($name) = @_;
	return $sub->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM tenants WHERE name = '$name'");
}

# --- the default: the subscriber's triggers do not fire in the apply worker ---
$pub->safe_psql('postgres', q{
INSERT INTO tenants VALUES (1, 'Harbor Cafe', 'harbor-cafe', 'mara@harbor-cafe.de');
SET tenant_guard.mode = log;
INSERT INTO tenants VALUES (2, 'Test Company', 'test-co', 'test@example.com');
});
is( $pub->safe_psql('postgres',
		"SELECT action FROM tenant_guard.test_data_prevention_logs WHERE data->>'name' = 'Test Company'"),
	'logged', 'the publisher logged the test tenant it kept in log mode');
ok(arrived('Harbor Cafe'), 'an accepted tenant reaches the subscriber');
ok(arrived('Test Company'), 'a tenant the publisher kept in log mode reaches it too');
is($sub->safe_psql('postgres', 'SELECT count(*) FROM tenant_guard.test_data_prevention_logs'),
	'0', 'the subscriber logs nothing: the publisher decided');

# --- a refused row never leaves the publisher ---
my ($ret, $out, $err) = $pub->psql('postgres',
	"INSERT INTO tenants VALUES (3, 'Test Refused', 'test-refused', 'test\@example.com')");
like($err, qr/Suspicious request detected/, 'the publisher refuses a test tenant in enforce mode');
$pub->safe_psql('postgres',
	"INSERT INTO tenants VALUES (4, 'Nordlicht Bakery', 'nordlicht', 'info\@nordlicht.de')");
ok(arrived('Nordlicht Bakery'), 'the next accepted tenant arrives');
is($sub->safe_psql('postgres', "SELECT count(*) FROM tenants WHERE name = 'Test Refused'"),
	'0', 'the refused one never does');

# --- ENABLE ALWAYS on the subscriber: the triggers fire, and pass ---
$sub->safe_psql('postgres', q{
ALTER TABLE tenants ENABLE ALWAYS TRIGGER tenant_guard;
ALTER TABLE tenants ENABLE ALWAYS TRIGGER tenant_guard_protect;
SELECT tenant_guard.protect('1', 'protected on the subscriber');
});
my $offset = -s $sub->logfile;
$pub->safe_psql('postgres', q{
SET tenant_guard.mode = log;
INSERT INTO tenants VALUES (5, 'Test Always', 'test-always', 'test@example.com');
UPDATE tenants SET name = 'Demo Org', subdomain = 'demo' WHERE id = 2;
});
$pub->safe_psql('postgres',
	"INSERT INTO tenants VALUES (6, 'Fjord Freight', 'fjord-freight', 'ops\@fjord-freight.no')");
ok(arrived('Test Always'),
	'with ENABLE ALWAYS, a row the publisher kept is applied (replication does not stall)');
ok(arrived('Demo Org'), 'and so is an UPDATE to a suspicious name');
ok(arrived('Fjord Freight'), 'and what follows');
$pub->safe_psql('postgres', 'DELETE FROM tenants WHERE id = 1');
$pub->safe_psql('postgres',
	"INSERT INTO tenants VALUES (7, 'Kestrel Labs', 'kestrel', 'hello\@kestrel-labs.io')");
ok(arrived('Kestrel Labs'), 'a DELETE of a tenant protected only on the subscriber is applied');
is($sub->safe_psql('postgres', 'SELECT count(*) FROM tenants WHERE id = 1'),
	'0', 'the tenant is gone on the subscriber too');
my $log = slurp_file($sub->logfile, $offset);
unlike($log, qr/Suspicious request detected|is protected/,
	'the apply worker never failed on a tenant_guard error');
is($sub->safe_psql('postgres', 'SELECT count(*) FROM tenant_guard.test_data_prevention_logs'),
	'0', 'and the subscriber logged nothing');

# local statements on the subscriber are still guarded by the same triggers
($ret, $out, $err) = $sub->psql('postgres',
	"INSERT INTO tenants VALUES (100, 'Test Local', 'test-local', 'test\@example.com')");
like($err, qr/Suspicious request detected/, "the subscriber's own inserts are still checked");
$sub->safe_psql('postgres', "SELECT tenant_guard.protect('4')");
($ret, $out, $err) = $sub->psql('postgres', 'DELETE FROM tenants WHERE id = 4');
like($err, qr/is protected/, "and its own DELETEs of its protected tenants refused");

# --- ENABLE REPLICA: the same ---
$sub->safe_psql('postgres', 'ALTER TABLE tenants ENABLE REPLICA TRIGGER tenant_guard');
$pub->safe_psql('postgres', q{
SET tenant_guard.mode = off;
INSERT INTO tenants VALUES (8, 'Test Replica', 'test-replica', 'test@example.com');
});
ok(arrived('Test Replica'), 'with ENABLE REPLICA the row is applied as well');

# --- session_replication_role = replica skips ORIGIN triggers: superuser only ---
$pub->safe_psql('postgres', q{
CREATE ROLE regress_tg_app LOGIN;
GRANT INSERT ON tenants TO regress_tg_app;
});
($ret, $out, $err) = $pub->psql('postgres', q{
SET ROLE regress_tg_app;
SET session_replication_role = replica;
}, on_error_stop => 0);
like($err, qr/permission denied to set parameter "session_replication_role"/,
	'an application role cannot set session_replication_role');
$pub->safe_psql('postgres', q{
SET session_replication_role = replica;
INSERT INTO tenants VALUES (9, 'Test Bypass', 'test-bypass', 'test@example.com');
});
is($pub->safe_psql('postgres', "SELECT count(*) FROM tenants WHERE name = 'Test Bypass'"),
	'1', 'a superuser with session_replication_role = replica bypasses the guard (documented)');
$pub->safe_psql('postgres', q{
ALTER TABLE tenants ENABLE ALWAYS TRIGGER tenant_guard;
SET session_replication_role = replica;
});
($ret, $out, $err) = $pub->psql('postgres', q{
SET session_replication_role = replica;
INSERT INTO tenants VALUES (10, 'Test Bypass Again', 'test-bypass-2', 'test@example.com');
});
like($err, qr/Suspicious request detected/,
	'with ENABLE ALWAYS on the publisher, session_replication_role no longer skips the guard');

$sub->stop;
$pub->stop;
done_testing();
