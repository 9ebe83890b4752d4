# tenant_guard_redis against real redis-server processes: a plain server,
# passwords and ACL users, TLS with a CA made here, a three-primary cluster,
# a kill in the middle of --execute, integer ids with --key-pattern, bad
# URLs, an unreachable Redis, roles that may not do it, a database session
# that dies and a cluster resharded during the pass.
#
# Redis servers run without persistence on ports TG_REDIS_PORT_BASE (21000)
# to + 12; a cluster node also needs port + 10000.  The default keeps all of
# them below Linux's range for outgoing connections' local ports (32768 and
# up), where another program's connection may hold a port for a moment.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TenantGuard::Test;
use IPC::Run;
use Time::HiRes qw(usleep);

my $tool = 'tenant_guard_redis';
if ($ENV{PG_CONFIG})
{
	my $bindir = `$ENV{PG_CONFIG} --bindir`;
	chomp $bindir;
	$tool = "$bindir/tenant_guard_redis";
}
foreach my $prog ('redis-server', 'redis-cli', 'openssl')
{
	plan skip_all => "$prog is not installed (test/lib.sh installs it)"
	  unless system("command -v $prog >/dev/null 2>&1") == 0;
}

my $dir = PostgreSQL::Test::Utils::tempdir;
my $port_base = $ENV{TG_REDIS_PORT_BASE} || 21000;
my @redis_pids;

END
{
	kill 'KILL', @redis_pids if @redis_pids;
}

# Start a redis-server (no persistence) on $port with extra arguments;
# wait until it answers.
sub start_redis
{
	my ($port, @args) = @_;
	my $pidfile = "$dir/redis-$port.pid";
	system('redis-server', '--port', $port, '--bind', '127.0.0.1', '--save', '',
		'--appendonly', 'no', '--daemonize', 'yes', '--dir', $dir,
		'--pidfile', $pidfile, '--logfile', "$dir/redis-$port.log", @args) == 0
	  or die "redis-server on $port did not start";
	foreach (1 .. 100)
	{
		last if -s $pidfile;
		usleep(50_000);
	}
	open my $fh, '<', $pidfile or die "no pid file for redis $port";
	my $pid = <$fh>;
	chomp $pid;
	push @redis_pids, $pid;
	return $pid;
}

sub stop_redis
{
	my ($pid) = @_;
	kill 'KILL', $pid;
	@redis_pids = grep { $_ != $pid } @redis_pids;
	usleep(100_000);
}

# redis-cli with the given connection arguments, commands on stdin
sub rcli
{
	my ($conn, $stdin, @cmd) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'redis-cli', '--no-auth-warning', @$conn, @cmd ],
		'<', \$stdin, '>', \$out, '2>', \$err)
	  or die "redis-cli @cmd failed: $err";
	chomp $out;
	return $out;
}

# the program; returns (exit status, stdout, stderr)
sub run_tool
{
	my ($env, @args) = @_;
	my ($out, $err) = ('', '');
	local %ENV = (%ENV, %$env);
	delete $ENV{REDIS_URL};
	delete $ENV{TENANT_GUARD_REDIS_URL} unless exists $env->{TENANT_GUARD_REDIS_URL};
	IPC::Run::run([ $tool, @args ], '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

my $node = tg_node('redis');

# tenants 1-10 (uuid); 1-3 are test tenants and get purged; one real
# customer, protected
sub uuid { return sprintf('00000000-0000-4000-8000-%012d', $_[0]); }
my $protected = '31c06fc4-db22-4740-83ea-48ac14f25810';
$node->safe_psql('postgres', qq{
CREATE EXTENSION tenant_guard;
CREATE TABLE tenants (id uuid PRIMARY KEY, name text, subdomain text, email text);
SELECT tenant_guard.attach('tenants');
SET tenant_guard.mode = off;
INSERT INTO tenants SELECT ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid,
       CASE WHEN g <= 3 THEN 'Test Company ' || g ELSE 'Real ' || g END, 'sub-' || g, 'x\@acme.com'
  FROM generate_series(1, 10) g;
INSERT INTO tenants VALUES ('$protected', 'Northwind Traders', 'northwind', 'it\@northwind.com');
SELECT tenant_guard.protect('31C06FC4-DB22-4740-83EA-48AC14F25810', 'real customer');
SELECT count(*) FROM tenant_guard.purge_test_tenants(dry_run => false);
CREATE ROLE regress_redis_admin LOGIN IN ROLE tenant_guard_admin;
GRANT SELECT (id) ON tenants TO regress_redis_admin;
CREATE ROLE regress_redis_nobody LOGIN;
});
is($node->safe_psql('postgres',
	'SELECT count(*) FROM tenant_guard.purge_journal WHERE redis_cleaned_at IS NULL'),
	'3', 'fixture: three purged tenants wait for their Redis clean-up');

my $db_admin = $node->connstr('postgres') . ' user=regress_redis_admin';
my $db_super = $node->connstr('postgres');

sub reset_journal
{
	$node->safe_psql('postgres',
		'UPDATE tenant_guard.purge_journal SET redis_cleaned_at = NULL, redis_keys_deleted = NULL');
}

sub journal
{
	return $node->safe_psql('postgres',
		q{SELECT string_agg(tenant_id || '=' || coalesce(redis_keys_deleted::text, 'pending'), ',' ORDER BY tenant_id)
		  FROM tenant_guard.purge_journal});
}

# The keyspace: $n keys per tenant 1-10 and the protected one, and the
# keys the rules are about: 62 + 3 ($n - 20) of them are to go.
sub fill
{
	my ($conn, $n) = @_;
	$n //= 20;
	my $cmds = '';
	foreach my $t (1 .. 10)
	{
		$cmds .= "SET tenant:" . uuid($t) . ":cache:$_ x\r\n" foreach 1 .. $n;
	}
	$cmds .= "SET tenant:$protected:settings x\r\n";
	# a purged tenant's key that names the protected one: kept
	$cmds .= "SET session:" . uuid(1) . ":impersonated-by:$protected x\r\n";
	# a purged tenant's key that names a live one: kept
	$cmds .= "SET share:" . uuid(2) . ":with:" . uuid(5) . " x\r\n";
	# a purged tenant's key with another uuid that is no tenant: deleted
	$cmds .= "SET tenant:" . uuid(3) . ":request:aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee x\r\n";
	# upper case spelling of a purged tenant: deleted
	$cmds .= "SET TENANT:" . uc(uuid(3)) . " x\r\n";
	# keys of no tenant: never touched
	$cmds .= "SET feature:flags x\r\nSET celery-task-meta-1f2e x\r\nSET maintenance on\r\n";
	# a uuid glued to letters is not a token: kept
	$cmds .= "SET x" . uuid(1) . " x\r\n";
	rcli($conn, "FLUSHALL\r\n$cmds", '--pipe');
}

sub dbsize { return rcli($_[0], '', 'DBSIZE'); }

sub count_keys
{
	my ($conn, $pattern) = @_;
	my $out = rcli($conn, '', '--scan', '--pattern', $pattern);
	return scalar(grep { $_ ne '' } split /\n/, $out);
}

# ---- a plain server ----
my $p_plain = $port_base;
start_redis($p_plain);
my @plain = ('-p', $p_plain);
my %plain_env = (TENANT_GUARD_REDIS_URL => "redis://127.0.0.1:$p_plain");
fill(\@plain);
my $total = dbsize(\@plain);
is($total, 11 * 20 - 19 + 8, 'fixture: keyspace');

my ($rc, $out, $err) = run_tool(\%plain_env, 'clean', '--db', $db_admin);
is($rc, 0, 'dry run as an admin exits 0') or diag($err);
like($out, qr/would delete: 62 keys of 3 purged tenants/, 'dry run says how many keys it would delete');
like($out, qr/naming a protected tenant: 2 .*session:/, 'dry run: kept for a protected tenant, with a sample');
like($out, qr/naming a live tenant: 141\b/, 'dry run: kept for live tenants');
like($out, qr/naming no tenant: 4 \(e.g. /, 'dry run: keys of no tenant kept, with samples');
is(dbsize(\@plain), $total, 'dry run deleted nothing');
like(journal(), qr/^(.{36}=pending,?){3}$/, 'dry run marked nothing');

# a progress line on stderr when it is a terminal (script(1) gives it one), none otherwise
SKIP:
{
	skip 'script(1) is not installed', 2 unless system('command -v script >/dev/null 2>&1') == 0;
	my $tty = '';
	local $ENV{TENANT_GUARD_REDIS_URL} = "redis://127.0.0.1:$p_plain";
	IPC::Run::run([ 'script', '-qec', qq{"$tool" clean --db "$db_admin" --scan-count 10}, '/dev/null' ],
		'<', \undef, '>', \$tty, '2>', \my $ignored);
	like($tty, qr/\rscanned \d+ of about 209 keys, deleted 0, \d+ keys\/s/, 'a terminal gets a progress line');
	unlike($err, qr/scanned/, 'no progress line when stderr is not a terminal');
}

($rc, $out, $err) = run_tool(\%plain_env, 'clean', '--db', $db_admin, '--json');
is($rc, 0, 'dry run --json exits 0');
like($out, qr/^\{.*"mode":"dry-run".*"scanned":209,"matched":62,"deleted":0,"tenants_with_keys":3,"kept":\{"protected":2,"live":141,"unknown_tenant":0,"no_tenant":4\}.*"round_trips":\d+,"seconds":[0-9.]+\}\n$/,
	'--json: one object with the counts');

($rc, $out, $err) = run_tool(\%plain_env, 'clean', '--db', $db_admin, '--execute');
is($rc, 0, '--execute as an admin exits 0') or diag($err);
like($out, qr/deleted: 62 keys of 3 purged tenants/, '--execute reports what it deleted');
is(dbsize(\@plain), $total - 62, 'exactly the purged tenants\' keys are gone');
is(count_keys(\@plain, 'tenant:' . uuid(1) . ':*') + count_keys(\@plain, 'tenant:' . uuid(3) . ':*'),
	0, 'no key of a purged tenant is left');
is(rcli(\@plain, '', 'EXISTS', 'session:' . uuid(1) . ":impersonated-by:$protected",
		'share:' . uuid(2) . ':with:' . uuid(5), 'feature:flags', 'x' . uuid(1)),
	'4', 'keys naming a protected or live tenant, and keys of no tenant, stay');
is(journal(), join(',', map { uuid($_) . '=' . (20 + ($_ == 3 ? 2 : 0)) } 1 .. 3),
	'journal rows marked with the keys deleted per tenant');
is($node->safe_psql('postgres',
	'SELECT count(*) FROM tenant_guard.purge_journal WHERE redis_cleaned_at IS NULL'), '0',
	'redis_cleaned_at set');

($rc, $out, $err) = run_tool(\%plain_env, 'clean', '--db', $db_admin, '--execute', '--json');
is($rc, 0, 'a second run exits 0');
like($out, qr/"deleted":0,/, 'a second run deletes nothing');
is(dbsize(\@plain), $total - 62, 'a second run leaves the keyspace alone');

# ---- who may run it ----
reset_journal();
fill(\@plain);
($rc, $out, $err) = run_tool(\%plain_env, 'clean', '--execute', '--db',
	$node->connstr('postgres') . ' user=regress_redis_nobody');
is($rc, 1, 'a role that is not an admin: exit 1');
like($err, qr/role "regress_redis_nobody" is not a member of tenant_guard_admin/, '... and says so');
$node->safe_psql('postgres', 'CREATE ROLE regress_redis_admin2 LOGIN IN ROLE tenant_guard_admin');
($rc, $out, $err) = run_tool(\%plain_env, 'clean', '--execute', '--db',
	$node->connstr('postgres') . ' user=regress_redis_admin2');
is($rc, 1, 'an admin who may not read the tenants table: exit 1');
like($err, qr/permission denied for table tenants/, '... naming the table');
is(dbsize(\@plain), $total, 'nothing deleted when the live tenants cannot be read');

# row-level security would hide live tenants: an error, not their keys deleted
$node->safe_psql('postgres', q{
GRANT SELECT ON tenants TO regress_redis_admin2;
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
CREATE POLICY regress_hide ON tenants USING (name NOT LIKE 'Real 5');});
($rc, $out, $err) = run_tool(\%plain_env, 'clean', '--execute', '--db',
	$node->connstr('postgres') . ' user=regress_redis_admin2');
is($rc, 1, 'row-level security on the tenants table: exit 1');
like($err, qr/row-level security/, '... says why');
$node->safe_psql('postgres', 'DROP POLICY regress_hide ON tenants; ALTER TABLE tenants DISABLE ROW LEVEL SECURITY');
($rc, $out, $err) = run_tool(\%plain_env, 'clean', '--execute', '--db',
	$node->connstr('postgres') . ' user=regress_redis_admin2');
is($rc, 0, 'with SELECT on the tenants table an admin cleans') or diag($err);
is(dbsize(\@plain), $total - 62, '... the same 62 keys');

# ---- bad input ----
foreach my $bad ('http://127.0.0.1:6379', 'redis://', 'redis://:s3cret@127.0.0.1:notaport',
	'redis://127.0.0.1:99999', 'redis://127.0.0.1/x', 'redis://u:s3cret%zz@127.0.0.1', '')
{
	($rc, $out, $err) = run_tool({}, 'clean', '--db', $db_admin, '--redis', $bad);
	is($rc, 2, "bad URL '$bad': usage error");
	like($err, qr/^tenant_guard_redis: error: (bad|empty) Redis URL[^\n]*\n$/, "bad URL '$bad': one line");
	unlike($err . $out, qr/s3cret/, "bad URL '$bad': the password is not printed");
}
($rc, $out, $err) = run_tool({}, 'clean', '--db', $db_admin);
is($rc, 2, 'no Redis URL at all: usage error');
like($err, qr/TENANT_GUARD_REDIS_URL/, '... naming the variable');
($rc, $out, $err) = run_tool(\%plain_env, 'clean', '--db', $db_admin, '--bogus');
is($rc, 2, 'unknown option: usage error');
($rc, $out, $err) = run_tool(\%plain_env, 'clean', '--db', $db_admin, '--orphans');
is($rc, 2, '--orphans without --key-pattern: usage error');
($rc, $out, $err) = run_tool(\%plain_env, 'clean', '--db', $db_admin, '--key-pattern', 'tenant:*');
is($rc, 2, 'a pattern without {id}: usage error');

# an unreachable Redis: nothing marked
reset_journal();
($rc, $out, $err) = run_tool({ TENANT_GUARD_REDIS_URL => 'redis://:s3cret@127.0.0.1:' . ($port_base + 9) },
	'clean', '--db', $db_admin, '--execute');
is($rc, 1, 'unreachable Redis: exit 1');
like($err, qr/cannot connect to Redis at 127\.0\.0\.1:\d+: Connection refused/, '... says where');
unlike($err, qr/s3cret/, '... without the password');
like(journal(), qr/^(.{36}=pending,?){3}$/, 'unreachable Redis: nothing marked');

# ---- kill in the middle of --execute, then rerun ----
fill(\@plain, 2000);
my $big = dbsize(\@plain);
my $h = IPC::Run::start([ $tool, 'clean', '--db', $db_admin, '--execute',
		'--redis', "redis://127.0.0.1:$p_plain", '--max-keys-per-second', '4000' ],
	'<', \undef, '>', \my $kout, '2>', \my $kerr);
my $mid;
foreach (1 .. 400)
{
	$mid = dbsize(\@plain);
	last if $mid < $big - 200;
	usleep(20_000);
}
$h->signal('KILL');
$h->finish;
usleep(200_000);
$mid = dbsize(\@plain);
ok($mid < $big && $mid > $big - 3 * 2000 - 2, "killed mid-run: some keys deleted ($big -> $mid)");
like(journal(), qr/^(.{36}=pending,?){3}$/, 'killed mid-run: nothing marked');
($rc, $out, $err) = run_tool(\%plain_env, 'clean', '--db', $db_admin, '--execute', '--json');
is($rc, 0, 'the rerun exits 0') or diag($err);
is(dbsize(\@plain), $big - (3 * 2000 + 2), 'the rerun finishes the work');
my $left = $mid - ($big - (3 * 2000 + 2));
like($out, qr/"deleted":$left,/, 'the rerun deleted what was left');
like(journal(), qr/^(.{36}=\d+,?){3}$/, 'the rerun marks the journal');

# the database connection dies during a long pass: the program connects
# again to mark the journal
reset_journal();
fill(\@plain, 1000);
$big = dbsize(\@plain);
$h = IPC::Run::start([ $tool, 'clean', '--db', $db_admin, '--execute',
		'--redis', "redis://127.0.0.1:$p_plain", '--max-keys-per-second', '4000' ],
	'<', \undef, '>', \$kout, '2>', \$kerr);
foreach (1 .. 400)
{
	last if dbsize(\@plain) < $big - 200;
	usleep(20_000);
}
is($node->safe_psql('postgres', q{SELECT count(pg_catalog.pg_terminate_backend(pid)) FROM pg_stat_activity
  WHERE usename = 'regress_redis_admin'}), '1', 'the program\'s database session, terminated mid-pass');
$h->finish;
is($h->result(0), 0, 'the program still exits 0') or diag($kerr);
like(journal(), qr/^(.{36}=1\d\d\d,?){3}$/, '... after marking the journal on a new connection');

# ---- passwords and ACL users ----
my $p_auth = $port_base + 1;
start_redis($p_auth, '--requirepass', 'pw-default', '--user', 'cleaner', 'on', '>pw-cleaner', '~*', '&*', '+@all');
my @auth = ('-p', $p_auth, '--user', 'cleaner', '--pass', 'pw-cleaner');
fill(\@auth);
reset_journal();
($rc, $out, $err) = run_tool({ TENANT_GUARD_REDIS_URL => "redis://127.0.0.1:$p_auth" }, 'clean', '--db', $db_admin);
is($rc, 1, 'no password for a server that wants one: exit 1');
like($err, qr/wants a password/, '... says so');
($rc, $out, $err) = run_tool({ TENANT_GUARD_REDIS_URL => "redis://cleaner:wrong-s3cret\@127.0.0.1:$p_auth" },
	'clean', '--db', $db_admin, '--execute');
is($rc, 1, 'a wrong password: exit 1');
like($err, qr/refused the user name and password: WRONGPASS/, '... says so');
unlike($err, qr/s3cret/, '... without the password');
($rc, $out, $err) = run_tool({}, 'clean', '--db', $db_admin, "--redis=redis://:pw-default\@127.0.0.1:$p_auth");
is($rc, 0, 'password only (requirepass): dry run works') or diag($err);
like($err, qr/WARNING: a password on the command line is visible to every local user/,
	'a password in argv: a warning');
like($out, qr/would delete: 62 keys/, '... and finds the keys');
($rc, $out, $err) = run_tool({ TENANT_GUARD_REDIS_URL => "redis://cleaner:pw-cleaner\@127.0.0.1:$p_auth/0" },
	'clean', '--db', $db_admin, '--execute');
is($rc, 0, 'an ACL user: --execute works') or diag($err);
is(dbsize(\@auth), $total - 62, 'an ACL user: the keys are gone');

# ---- TLS, with a CA made here ----
my $ca = "$dir/ca";
system("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=tenant_guard test CA' -keyout $ca.key -out $ca.crt 2>/dev/null") == 0
  or die 'openssl CA';
system("openssl req -newkey rsa:2048 -nodes -subj '/CN=localhost' -keyout $dir/server.key -out $dir/server.csr 2>/dev/null") == 0
  or die 'openssl CSR';
open my $ext, '>', "$dir/server.ext" or die;
print $ext "subjectAltName=DNS:localhost\n";
close $ext;
system("openssl x509 -req -in $dir/server.csr -CA $ca.crt -CAkey $ca.key -CAcreateserial -days 2 -extfile $dir/server.ext -out $dir/server.crt 2>/dev/null") == 0
  or die 'openssl sign';
my $p_tls = $port_base + 2;
start_redis($p_tls, '--port', 0, '--tls-port', $p_tls, '--tls-cert-file', "$dir/server.crt",
	'--tls-key-file', "$dir/server.key", '--tls-ca-cert-file', "$ca.crt", '--tls-auth-clients', 'no',
	'--requirepass', 'pw-tls');
my @tls = ('-p', $p_tls, '--tls', '--cacert', "$ca.crt", '-a', 'pw-tls', '-h', 'localhost');
fill(\@tls);
reset_journal();
my %tls_env = (TENANT_GUARD_REDIS_URL => "rediss://:pw-tls\@localhost:$p_tls");
($rc, $out, $err) = run_tool(\%tls_env, 'clean', '--db', $db_admin, '--execute');
is($rc, 1, 'TLS with a certificate the system does not trust: exit 1');
like($err, qr/not trusted .*--cacert/, '... says to give --cacert');
($rc, $out, $err) = run_tool({ TENANT_GUARD_REDIS_URL => "rediss://:pw-tls\@127.0.0.1:$p_tls" },
	'clean', '--db', $db_admin, '--execute', '--cacert', "$ca.crt");
is($rc, 1, 'TLS to a name the certificate does not hold: exit 1');
like($err, qr/not trusted \(IP address mismatch\)/, '... says the host does not match');
($rc, $out, $err) = run_tool({ TENANT_GUARD_REDIS_URL => "redis://:pw-tls\@localhost:$p_tls" },
	'clean', '--db', $db_admin, '--execute');
is($rc, 1, 'redis:// to a TLS port: exit 1');
is(dbsize(\@tls), $total, 'no TLS refusal deleted anything');
($rc, $out, $err) = run_tool(\%tls_env, 'clean', '--db', $db_admin, '--insecure');
is($rc, 0, '--insecure connects') or diag($err);
like($err, qr/WARNING: --insecure: the Redis server's certificate and host name are NOT checked/, '--insecure says loudly what it skips');
($rc, $out, $err) = run_tool(\%tls_env, 'clean', '--db', $db_admin, '--execute', '--cacert', "$ca.crt");
is($rc, 0, 'TLS with --cacert: --execute works') or diag($err);
is(dbsize(\@tls), $total - 62, 'TLS: the keys are gone');

# a self-signed server certificate: refused without --cacert, accepted with it
system("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=localhost' -addext 'subjectAltName=DNS:localhost' -keyout $dir/self.key -out $dir/self.crt 2>/dev/null") == 0
  or die 'openssl self-signed';
my $p_self = $port_base + 3;
start_redis($p_self, '--port', 0, '--tls-port', $p_self, '--tls-cert-file', "$dir/self.crt",
	'--tls-key-file', "$dir/self.key", '--tls-ca-cert-file', "$dir/self.crt", '--tls-auth-clients', 'no');
($rc, $out, $err) = run_tool({ TENANT_GUARD_REDIS_URL => "rediss://localhost:$p_self" }, 'clean', '--db', $db_admin);
is($rc, 1, 'a self-signed server without --cacert: exit 1');
like($err, qr/not trusted \(self-signed certificate\)/, '... says why');
($rc, $out, $err) = run_tool({ TENANT_GUARD_REDIS_URL => "rediss://localhost:$p_self" }, 'clean', '--db', $db_admin,
	'--cacert', "$dir/self.crt");
is($rc, 0, 'a self-signed server with its certificate as --cacert: exit 0') or diag($err);

# ---- integer tenant ids with --key-pattern ----
$node->safe_psql('postgres', 'CREATE DATABASE intdb');
$node->safe_psql('intdb', q{
CREATE EXTENSION tenant_guard;
CREATE TABLE accounts (id bigint PRIMARY KEY, name text, subdomain text, email text);
SELECT tenant_guard.attach('accounts');
GRANT SELECT ON accounts TO tenant_guard_admin;
SET tenant_guard.mode = off;
-- more ids than the program's first hash table holds: it grows while loading
INSERT INTO accounts SELECT g, 'Account ' || g, 'acct-' || g, 'a@acme.com' FROM generate_series(1, 1200) g;
SELECT tenant_guard.protect('12', 'real');
SELECT count(*) FROM tenant_guard.purge_test_tenants(ids => ARRAY['1', '2'], dry_run => false);});
my $intdb = $node->connstr('intdb') . ' user=regress_redis_admin';
my $cmds = "FLUSHALL\r\n";
foreach my $t (1, 2, 10, 11, 12, 9999)
{
	$cmds .= "SET acct:$t:k$_ x\r\n" foreach 1 .. 5;
}
$cmds .= "SET acct:01:legacy x\r\nSET acct:abc:k x\r\nSET counters:1 x\r\nSET jobs:2:x x\r\n";
rcli(\@plain, $cmds, '--pipe');
my $int_total = dbsize(\@plain);
($rc, $out, $err) = run_tool(\%plain_env, 'clean', '--db', $intdb);
is($rc, 2, 'integer ids without --key-pattern: usage error');
like($err, qr/tenant ids are not UUIDs .*--key-pattern/, '... says to give --key-pattern');
($rc, $out, $err) = run_tool(\%plain_env, 'clean', '--db', $intdb, '--execute', '--key-pattern', 'acct:{id}:*');
is($rc, 0, 'integer ids with --key-pattern: exit 0') or diag($err);
like($out, qr/deleted: 11 keys of 2 purged tenants/, 'tenants 1 and 2 (also written 01), not 10, 11 or 12');
is(rcli(\@plain, '', 'EXISTS', 'acct:10:k1', 'acct:11:k1', 'acct:12:k1', 'acct:9999:k1', 'counters:1', 'jobs:2:x'),
	'6', 'live, protected and unknown ids and keys outside the pattern stay');
is($node->safe_psql('intdb', q{SELECT string_agg(tenant_id || '=' || redis_keys_deleted, ',' ORDER BY tenant_id)
  FROM tenant_guard.purge_journal}), '1=6,2=5', 'integer ids: the journal counts each tenant\'s keys');
$node->safe_psql('intdb', 'UPDATE tenant_guard.purge_journal SET redis_cleaned_at = NULL');
($rc, $out, $err) = run_tool(\%plain_env, 'clean', '--db', $intdb, '--execute', '--orphans',
	'--key-pattern', 'acct:{id}:*', '--key-pattern', 'jobs:{id}:*');
is($rc, 0, '--orphans: exit 0') or diag($err);
is(rcli(\@plain, '', 'EXISTS', 'acct:9999:k1', 'jobs:2:x', 'acct:abc:k', 'acct:10:k1', 'acct:12:k1', 'counters:1'),
	'4', '--orphans deletes an unknown integer id\'s keys, keeps non-integer ids, live and protected');
is(dbsize(\@plain), $int_total - 11 - 5 - 1, '--orphans: exactly those');

# ---- a cluster of three primaries ----
my @cports = map { $port_base + 10 + $_ } 0 .. 2;
my @cpids = map { start_redis($_, '--cluster-enabled', 'yes', '--cluster-config-file', "$dir/nodes-$_.conf",
		'--cluster-node-timeout', '2000') } @cports;
rcli([], '', '--cluster', 'create', (map { "127.0.0.1:$_" } @cports), '--cluster-yes');
foreach my $p (@cports)
{
	foreach (1 .. 200)
	{
		last if rcli([ '-p', $p ], '', 'CLUSTER', 'INFO') =~ /cluster_state:ok/;
		usleep(50_000);
	}
}
my @c = ('-c', '-p', $cports[0]);
my $ccmds = '';
foreach my $t (1 .. 10)
{
	$ccmds .= "SET tenant:" . uuid($t) . ":cache:$_ x\n" foreach 1 .. 20;
}
$ccmds .= "SET tenant:$protected:x x\nSET flags x\n";
rcli(\@c, $ccmds);
my $csize = 0;
$csize += dbsize([ '-p', $_ ]) foreach @cports;
is($csize, 202, 'cluster: keys spread over the primaries');
ok((grep { dbsize([ '-p', $_ ]) > 0 } @cports) == 3, 'cluster: every primary holds keys');
reset_journal();
($rc, $out, $err) = run_tool({ TENANT_GUARD_REDIS_URL => "redis://127.0.0.1:$cports[1]" },
	'clean', '--db', $db_admin, '--execute', '--json');
is($rc, 0, 'cluster: exit 0') or diag($err);
like($out, qr/"cluster":true,"primaries":3,.*"scanned":202,"matched":60,"deleted":60,/,
	'cluster: every primary scanned, 60 keys deleted');
$csize = 0;
$csize += dbsize([ '-p', $_ ]) foreach @cports;
is($csize, 142, 'cluster: the purged tenants\' keys are gone from every primary');

# slots that move during the pass (resharding) may carry keys to a primary
# already scanned: nothing is marked, and a rerun finishes the work
reset_journal();
$ccmds = '';
foreach my $t (1 .. 3)
{
	$ccmds .= "SET tenant:" . uuid($t) . ":more:$_ x\n" foreach 1 .. 100;
}
rcli(\@c, $ccmds);
sub cluster_size
{
	my $n = 0;
	$n += dbsize([ '-p', $_ ]) foreach @cports;
	return $n;
}
my $before_reshard = cluster_size();
$h = IPC::Run::start([ $tool, 'clean', '--db', $db_admin, '--execute',
		'--redis', "redis://127.0.0.1:$cports[0]", '--max-keys-per-second', '150' ],
	'<', \undef, '>', \$kout, '2>', \$kerr);
foreach (1 .. 400)
{
	last if cluster_size() < $before_reshard;
	usleep(20_000);
}
my ($from, $to) = map { rcli([ '-p', $_ ], '', 'CLUSTER', 'MYID') } @cports[ 0, 1 ];
rcli([], '', '--cluster', 'reshard', "127.0.0.1:$cports[0]", '--cluster-from', $from,
	'--cluster-to', $to, '--cluster-slots', '500', '--cluster-yes');
$h->finish;
is($h->result(0), 1, 'cluster resharded during the pass: exit 1') or diag($kout);
like($kerr, qr/slots moved during the pass .* nothing is marked; run it again/, '... says to run it again');
like(journal(), qr/^(.{36}=pending,?){3}$/, 'cluster resharded during the pass: nothing marked');
($rc, $out, $err) = run_tool({ TENANT_GUARD_REDIS_URL => "redis://127.0.0.1:$cports[2]" },
	'clean', '--db', $db_admin, '--execute', '--json');
is($rc, 0, 'the rerun on the resharded cluster: exit 0') or diag($err);
is(cluster_size(), 142, 'the rerun leaves exactly the keys to keep');
like(journal(), qr/^(.{36}=\d+,?){3}$/, 'the rerun marks the journal');

# a primary down: refused, nothing marked
reset_journal();
stop_redis($cpids[2]);
($rc, $out, $err) = run_tool({ TENANT_GUARD_REDIS_URL => "redis://127.0.0.1:$cports[0]" },
	'clean', '--db', $db_admin, '--execute');
is($rc, 1, 'cluster with a primary down: exit 1');
like($err, qr/cannot connect to Redis at 127\.0\.0\.1:$cports[2]|not in state ok/, '... says why');
like(journal(), qr/^(.{36}=pending,?){3}$/, 'cluster with a primary down: nothing marked');

done_testing();
