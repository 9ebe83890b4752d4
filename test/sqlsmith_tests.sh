# test/sqlsmith_tests.sh -- sourced by test/check.sh: random SQL against a
# database with tenant_guard in use.
#
#   run_sqlsmith   sqlsmith (Debian package) sends TG_SQLSMITH_QUERIES
#                  (default 3000, about a minute) generated queries, seed
#                  TG_SQLSMITH_SEED (default 1: CI sees the same queries for
#                  the same catalog; set another to explore), to the running
#                  cluster (the sanitized one when the sanitize pass ran);
#                  passes when the server never crashed: no child process
#                  terminated by a signal or exception, no PANIC, no crash
#                  restart in the server log since the start, the postmaster
#                  still answers, and (sanitized) no new sanitizer report.
#                  TG_SQLSMITH=0 skips.
#
# The queries run as tg_sqlsmith, a member of tenant_guard_admin (so every
# admin function of the extension is in reach, and the trigger on its own
# tables) but not a superuser: a superuser's random queries call
# pg_terminate_backend() on the log writer, pg_reload_conf(), file and
# large-object functions, pg_promote() and the like, which stop or disturb
# the server on purpose and tell us nothing about the extension.
# statement_timeout and temp_file_limit keep a random cross join bounded.

sqlsmith_enabled() { [ "${TG_SQLSMITH:-1}" != 0 ]; }

sqlsmith_packages() {
	sqlsmith_enabled && echo sqlsmith
	return 0
}

# The database the queries run in: an attached tenants table with a few
# rows, a protected tenant, a child table by foreign key, one registered
# with add_tenant_table(), and a rejection in the log.
sqlsmith_setup() {
	psql_pg -q -d postgres >/dev/null <<-'SQL'
	SET client_min_messages = warning;
	DROP DATABASE IF EXISTS tg_sqlsmith;
	DROP ROLE IF EXISTS tg_sqlsmith;
	CREATE ROLE tg_sqlsmith LOGIN IN ROLE tenant_guard_admin;
	ALTER ROLE tg_sqlsmith SET statement_timeout = '2s';
	ALTER ROLE tg_sqlsmith SET lock_timeout = '1s';
	ALTER ROLE tg_sqlsmith SET temp_file_limit = '256MB';
	CREATE DATABASE tg_sqlsmith;
	SQL
	psql_pg -q -d tg_sqlsmith >/dev/null <<-'SQL'
	CREATE EXTENSION tenant_guard;
	CREATE SCHEMA app AUTHORIZATION tg_sqlsmith;
	SET ROLE tg_sqlsmith;
	CREATE TABLE app.tenants (id bigserial PRIMARY KEY, name text, subdomain text,
		email text, created_at timestamptz DEFAULT now());
	SELECT tenant_guard.attach('app.tenants');
	INSERT INTO app.tenants (name, subdomain, email) VALUES
		('Harbor Cafe', 'harbor-cafe', 'mara@harbor-cafe.de'),
		('Nordlicht Reisen', 'nordlicht', 'info@nordlicht-reisen.de'),
		('Blue Fin Sushi', 'bluefin', 'owner@bluefin-sushi.jp'),
		('Ferreira & Filhos', 'ferreira', 'contato@ferreira.com.br');
	SELECT tenant_guard.protect('1', 'real customer');
	CREATE TABLE app.projects (id serial PRIMARY KEY,
		tenant_id bigint REFERENCES app.tenants ON DELETE CASCADE, title text);
	INSERT INTO app.projects (tenant_id, title) VALUES (1, 'menu'), (2, 'tours'), (3, 'orders');
	CREATE TABLE app.sessions (tenant_key bigint, token text);
	SELECT tenant_guard.add_tenant_table('app.sessions', 'tenant_key');
	INSERT INTO app.sessions VALUES (1, 'a'), (4, 'b');
	SET tenant_guard.mode = 'log';
	INSERT INTO app.tenants (name, subdomain, email)
		VALUES ('Test Company', 'test-company-123', 'test@example.com');
	SQL
}

run_sqlsmith() {
	if ! sqlsmith_enabled; then
		echo "SKIP: sqlsmith (TG_SQLSMITH=0)"
		return 0
	fi
	local t0=$SECONDS dir="$WORK/sqlsmith" status=0 log offset before crashes
	local queries=${TG_SQLSMITH_QUERIES:-3000} seed=${TG_SQLSMITH_SEED:-1}
	log=$CLUSTER_LOG
	"${SUDO[@]}" mkdir -p "$dir"
	"${SUDO[@]}" chown "$(id -u)" "$dir"

	say "sqlsmith: $queries random queries (seed $seed) as a tenant_guard_admin member"
	sqlsmith_setup
	offset=$(as_postgres stat -c %s "$log")
	before=$(sanitizer_reports_now | wc -l)
	set +e
	as_postgres timeout 600 sqlsmith --verbose --exclude-catalog --seed="$seed" \
		--max-queries="$queries" \
		--target="host=$PGHOST port=$PGPORT user=tg_sqlsmith dbname=tg_sqlsmith" \
		>"$dir/queries.out" 2>"$dir/sqlsmith.err"
	status=$?
	set -e
	# its summary: the count and the most frequent errors
	grep -E '^queries:|^error rate' "$dir/sqlsmith.err" || tail -n 20 "$dir/sqlsmith.err"
	grep -qE "^queries: $queries\$" "$dir/sqlsmith.err" || {
		echo "sqlsmith did not run its $queries queries (exit status $status)"
		status=1
	}

	crashes=$(as_postgres tail -c +"$((offset + 1))" "$log" |
		grep -E 'terminated by (signal|exception)|was terminated|PANIC:|all server processes terminated' |
		head -n 20 || true)
	if [ -n "$crashes" ]; then
		echo "the server crashed:"
		echo "$crashes"
		status=1
	fi
	if ! psql_pg -d tg_sqlsmith -Atc 'SELECT 1' >/dev/null; then
		echo "the server does not answer after sqlsmith"
		status=1
	fi
	if [ "$(sanitizer_reports_now | wc -l)" -ne "$before" ]; then
		echo "sanitizer reports during sqlsmith:"
		show_reports $(sanitizer_reports_now)
		status=1
	fi
	result "$status" "sqlsmith"
	echo "(sqlsmith: $((SECONDS - t0)) s)"
}

# sanitizer_reports_now: the sanitize pass's report files, if it ran.
sanitizer_reports_now() {
	if sanitize_enabled && [ -n "${ASAN_WORK:-}" ]; then
		sanitizer_reports
	fi
	return 0
}
