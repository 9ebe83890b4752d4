# test/lib.sh -- shared by test/check.sh, test/demo.sh and bench/run.sh.
#
# Works as root (CI) and as a normal user with sudo.  The PostgreSQL
# server refuses to run as root, so every server and every test that
# starts one runs as the "postgres" OS user; the tree is copied to a
# work directory that user owns.

set -euo pipefail

PROJ=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
export PG_CONFIG

if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi

say() { printf '\n==> %s\n' "$*"; }

# Run a command as the postgres OS user, keeping the environment we need.
# (from / so that a home directory postgres cannot enter is no problem)
as_postgres() {
	if [ "$(id -un)" = postgres ]; then
		"$@"
	elif [ "$(id -u)" -eq 0 ]; then
		(cd / && runuser -u postgres -- "$@")
	else
		(cd / && sudo -u postgres -- "$@")
	fi
}

# Debian packages the build, the tests and the demo need.
TG_PACKAGES=(make gcc rsync postgresql-15 postgresql-server-dev-15 libipc-run-perl
	libicu-dev pkg-config clang libclang-rt-14-dev jq)

ensure_packages() {
	local missing=()
	for p in "${TG_PACKAGES[@]}" "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
			|| missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		say "installing Debian packages: ${missing[*]}"
		"${SUDO[@]}" apt-get update -qq
		"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
	# Debian's postgresql-common may start a "main" cluster we do not use.
	id postgres >/dev/null 2>&1 || { echo "no postgres OS user after install" >&2; exit 1; }
}

# Pick a work directory the postgres user can write: inside the project
# when postgres can reach it, otherwise under /tmp.  Sets WORK.
make_workdir() {
	local name=$1
	if as_postgres test -x "$PROJ" -a -r "$PROJ/Makefile" 2>/dev/null; then
		WORK="$PROJ/$name"
	else
		WORK="/tmp/tenant_guard-$name-$(id -u)"
		echo "note: the postgres user cannot reach $PROJ; working in $WORK"
	fi
	"${SUDO[@]}" rm -rf "$WORK"
	"${SUDO[@]}" mkdir -p "$WORK"
	"${SUDO[@]}" chown postgres: "$WORK"
}

# Copy the tree into $WORK/src and build it there as postgres; install.
build_install() {
	say "building and installing tenant_guard ($PG_CONFIG)"
	"${SUDO[@]}" rsync -a --delete --exclude .git --exclude '.testrun' \
		--exclude '.demo' --exclude '.benchrun' "$PROJ/" "$WORK/src/"
	"${SUDO[@]}" chown -R postgres: "$WORK/src"
	as_postgres make -C "$WORK/src" -s clean >/dev/null
	as_postgres make -C "$WORK/src" -s WERROR=1 PG_CONFIG="$PG_CONFIG"
	"${SUDO[@]}" make -C "$WORK/src" -s install PG_CONFIG="$PG_CONFIG" >/dev/null
}

# Start a throwaway cluster in $WORK/cluster, Unix socket only.
# Sets PGHOST, PGPORT, PGUSER, PGDATABASE for the rest of the script.
start_cluster() {
	local bindir
	bindir=$("$PG_CONFIG" --bindir)
	export PGHOST="$WORK/sock" PGPORT=${TG_PORT:-54329} PGUSER=postgres PGDATABASE=postgres
	as_postgres mkdir -p "$PGHOST"
	say "starting a throwaway cluster in $WORK/cluster"
	as_postgres "$bindir/initdb" -D "$WORK/cluster" -U postgres --auth=trust \
		--encoding=UTF8 --locale=C.UTF-8 >/dev/null
	as_postgres tee -a "$WORK/cluster/postgresql.conf" >/dev/null <<CONF
listen_addresses = ''
unix_socket_directories = '$PGHOST'
port = $PGPORT
shared_preload_libraries = 'tenant_guard'
fsync = off
max_worker_processes = 16
log_line_prefix = '%m [%p] %q%u@%d '
CONF
	as_postgres "$bindir/pg_ctl" -D "$WORK/cluster" -l "$WORK/cluster.log" -w start >/dev/null
	trap stop_cluster EXIT
}

# Add the settings on stdin to the running cluster's postgresql.conf and
# restart it (benchmarks: memory, checkpoints, autovacuum).
reconfigure_cluster() {
	as_postgres tee -a "$WORK/cluster/postgresql.conf" >/dev/null
	as_postgres "$("$PG_CONFIG" --bindir)/pg_ctl" -D "$WORK/cluster" -l "$WORK/cluster.log" \
		-w restart >/dev/null
}

stop_cluster() {
	local bindir
	bindir=$("$PG_CONFIG" --bindir)
	# (as postgres: the data directory is not readable by anyone else)
	if as_postgres test -f "$WORK/cluster/postmaster.pid"; then
		as_postgres "$bindir/pg_ctl" -D "$WORK/cluster" -m fast -w stop >/dev/null || true
	fi
}

psql_pg() {
	as_postgres env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" \
		"$("$PG_CONFIG" --bindir)/psql" -X -v ON_ERROR_STOP=1 "$@"
}
