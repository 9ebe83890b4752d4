# tenant_guard.mode cannot be relaxed by an application role by any route:
# connection options, SET before the library is loaded (a placeholder), or
# stored settings it places itself; administrators can.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TenantGuard::Test;

# Set up a node, its roles and an attached tenants table.
sub setup_node
{
	my ($name, $preload) = @_;
	return tg_node($name, preload => $preload ? 'tenant_guard' : '', sql => q{
		CREATE EXTENSION tenant_guard;
		CREATE ROLE regress_app LOGIN;
		CREATE ROLE regress_admin LOGIN IN ROLE tenant_guard_admin;
		CREATE TABLE tenants (name text, subdomain text, email text);
		SELECT tenant_guard.attach('tenants');
		GRANT INSERT, SELECT ON tenants TO regress_app, regress_admin;
	});
}

my $bad = q{INSERT INTO tenants VALUES ('Test Company', 'test-company-123', 'test@example.com')};

foreach my $preload (1, 0)
{
	my $what = $preload ? 'preloaded' : 'loaded on first use';
	my $node = setup_node($preload ? 'preload' : 'lazy', $preload);
	my ($ret, $out, $err);

	# connection option -c tenant_guard.mode=off from an application role
	$ret = $node->psql('postgres', "$bad; SHOW tenant_guard.mode",
		connstr => $node->connstr('postgres')
		  . " user=regress_app options='-c tenant_guard.mode=off'",
		stdout => \$out, stderr => \$err);
	if ($preload)
	{
		isnt($ret, 0, "$what: application role cannot connect with mode=off");
		like($err, qr/permission denied to set tenant_guard\.mode to "off"/,
			"$what: connection option refused with a clear message");
	}
	else
	{
		isnt($ret, 0, "$what: the suspicious insert still fails");
		like($err, qr/Suspicious request detected/,
			"$what: placeholder from connection option is not honoured");
	}

	# SET in the session (before the library is loaded, when lazy)
	$ret = $node->psql('postgres', "SET tenant_guard.mode = off; $bad",
		connstr => $node->connstr('postgres') . " user=regress_app",
		stderr => \$err);
	isnt($ret, 0, "$what: SET mode=off by an application role does not let test data in");
	like($err, qr/permission denied to set tenant_guard\.mode|Suspicious request detected/,
		"$what: refused clearly");
	is($node->safe_psql('postgres', 'SELECT count(*) FROM tenants'), '0',
		"$what: no test row got in");

	# an administrator may, by connection option too
	$out = $node->safe_psql('postgres', 'SHOW tenant_guard.mode',
		connstr => $node->connstr('postgres')
		  . " user=regress_admin options='-c tenant_guard.mode=log'");
	is($out, 'log', "$what: tenant_guard_admin member may choose log");

	# a setting a superuser stored for the role applies at login
	$node->safe_psql('postgres', 'ALTER ROLE regress_app SET tenant_guard.mode = log');
	$node->safe_psql('postgres', $bad,
		connstr => $node->connstr('postgres') . " user=regress_app");
	is($node->safe_psql('postgres', 'SELECT count(*) FROM tenants'), '1',
		"$what: mode stored by a superuser for the role is honoured");

	$node->stop;
}

done_testing();
