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

# Debian packages the build, the tests and the demo need (the last line:
# tenant_guard_redis and its tests against real Redis servers; then pg_cron,
# Prometheus and its exporter for the alert tests).
TG_PACKAGES=(make gcc rsync postgresql-15 postgresql-server-dev-15 libipc-run-perl
	libicu-dev pkg-config clang libclang-rt-14-dev
	libpq-dev libhiredis-dev libssl-dev openssl redis-server redis-tools
	postgresql-15-cron prometheus prometheus-postgres-exporter curl jq)

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

# build_install [DIR [MAKEVAR=VALUE...]]: copy the tree into DIR (default
# $WORK/src), build it there as postgres with the make variables given
# (say COPT=...) and install it into $PG_CONFIG's installation.
build_install() {
	local dir=${1:-$WORK/src}
	[ $# -gt 0 ] && shift
	say "building and installing tenant_guard ($PG_CONFIG${*:+; $*})"
	"${SUDO[@]}" rsync -a --delete --exclude .git --exclude '.testrun' \
		--exclude '.demo' --exclude '.benchrun' "$PROJ/" "$dir/"
	"${SUDO[@]}" chown -R postgres: "$dir"
	as_postgres make -C "$dir" -s clean >/dev/null
	as_postgres make -C "$dir" -s WERROR=1 PG_CONFIG="$PG_CONFIG" "$@"
	"${SUDO[@]}" make -C "$dir" -s install PG_CONFIG="$PG_CONFIG" "$@" >/dev/null
	install_pg_cron
}

# pg_cron (Debian's postgresql-15-cron, for the alert tests) into the
# installation PG_CONFIG names, when that is a private copy made before
# the package was installed.
install_pg_cron() {
	local lib share
	lib=$("$PG_CONFIG" --pkglibdir)
	share=$("$PG_CONFIG" --sharedir)/extension
	if [ ! -e "$lib/pg_cron.so" ] && [ -e /usr/lib/postgresql/15/lib/pg_cron.so ]; then
		"${SUDO[@]}" cp /usr/lib/postgresql/15/lib/pg_cron.so "$lib/"
		"${SUDO[@]}" cp /usr/share/postgresql/15/extension/pg_cron* "$share/"
	fi
}

# installcheck DIR LOG: `make installcheck` (pg_regress, isolation, TAP)
# in the built tree DIR against the running cluster, as postgres, output
# shown and kept in LOG.  Returns make's status.
installcheck() {
	local dir=$1 log=$2
	as_postgres env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" \
		TG_DISPOSABLE_LIST="${TG_DISPOSABLE_LIST:-}" TG_DISPOSABLE_VERSION="${TG_DISPOSABLE_VERSION:-}" \
		make -C "$dir" installcheck PG_CONFIG="$PG_CONFIG" 2>&1 | tee "$log"
	return "${PIPESTATUS[0]}"
}

# show_failures DIR: the diffs and TAP logs of a failed installcheck in DIR.
show_failures() {
	local f
	for f in "$1"/regression.diffs "$1"/output_iso/regression.diffs; do
		[ -f "$f" ] && { echo "---- $f"; head -c 60000 "$f"; }
	done
	for f in "$1"/tmp_check/log/regress_log_*; do
		[ -f "$f" ] && { echo "---- $f"; tail -n 80 "$f"; }
	done
	return 0
}

# Named results outside make installcheck's own ("NAME ... ok"), counted
# into check.sh's final line.
RESULTS_PASSED=0
RESULTS_FAILED=0

# result STATUS NAME: print and count one named result.
result() {
	if [ "$1" -eq 0 ]; then
		RESULTS_PASSED=$((RESULTS_PASSED + 1)); echo "$2 ... ok"
	else
		RESULTS_FAILED=$((RESULTS_FAILED + 1)); echo "$2 ... FAILED"
	fi
}

# Start a throwaway cluster in $WORK/cluster, Unix socket only.
# Sets PGHOST, PGPORT, PGUSER, PGDATABASE and CLUSTER_LOG (its server log)
# for the rest of the script.
start_cluster() {
	local bindir
	bindir=$("$PG_CONFIG" --bindir)
	export PGHOST="$WORK/sock" PGPORT=${TG_PORT:-54329} PGUSER=postgres PGDATABASE=postgres
	CLUSTER_LOG="$WORK/cluster.log"
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
