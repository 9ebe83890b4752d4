# test/sanitize_tests.sh -- sourced by test/check.sh: memory and undefined
# behaviour checkers over the code the other passes run.
#
#   run_valgrind_unit    the checker core's unit test (with the corpus) under
#                        valgrind memcheck; any error or definite leak fails
#                        (TG_VALGRIND=0 skips)
#   run_sanitize_suite   the extension built with -fsanitize=address,undefined
#                        and installed into a private copy of the PostgreSQL
#                        installation (the normal build stays where it is);
#                        stops the plain cluster, starts one from the copy and
#                        runs the whole `make installcheck` again (pg_regress,
#                        isolation, TAP); fails on any test failure and on any
#                        sanitizer report (TG_SANITIZE=0 skips; the plain
#                        cluster then keeps running)
#   sanitizer_reports    lists the reports written since the pass started
#
# The server binary is not instrumented: every server started from the copy
# (ours, and the clusters TAP tests start with PostgreSQL::Test::Cluster,
# which find initdb/pg_ctl/postgres through PATH = the copy's bindir) runs
# through a wrapper that replaces the copy's `postgres` and preloads the ASan
# runtime with the options below, so no test has to pass the environment on.
#
# What it sees: overflows of our stack and global buffers, of malloc'd memory
# (ICU's, ours) and of palloc chunks big enough to get their own malloc block
# (over 8 kB); use after free of malloc'd memory; UBSan's checks (shifts,
# misaligned or null pointers, bounds of arrays and objects of known size,
# ...; not signed overflow, which PostgreSQL's -fwrapv defines as wrapping,
# for the server and for us). What it cannot see: an overrun inside one palloc block, or use
# of a pfree'd small chunk: the uninstrumented server's allocator hands out
# pieces of blocks ASan considers addressable as a whole.

sanitize_enabled() { [ "${TG_SANITIZE:-1}" != 0 ]; }
valgrind_enabled() { [ "${TG_VALGRIND:-1}" != 0 ]; }

# The Debian packages these passes need beyond TG_PACKAGES.
sanitize_packages() {
	valgrind_enabled && echo valgrind
	# libasan / libubsan come with gcc
	return 0
}

run_valgrind_unit() {
	if ! valgrind_enabled; then
		echo "SKIP: valgrind unit test (TG_VALGRIND=0)"
		return 0
	fi
	local src="$WORK/src" out="$WORK/core" icu t0=$SECONDS
	icu=$(pkg-config --libs icu-uc icu-i18n)
	say "unit test of the checker core under valgrind (memcheck)"
	# -O1: memcheck's advice (at -O2 the compiler may read past a string's
	# end in ways memcheck reports as errors); definite leaks only, ICU keeps
	# its caches reachable until exit
	UNIT_RUNNER="valgrind -q --error-exitcode=99 --leak-check=full
		--errors-for-leak-kinds=definite --show-leak-kinds=definite" \
		core_unit unit_valgrind 3 "" -O1 -DTG_VERIFY_FAST_PATH
	echo "(valgrind unit test: $((SECONDS - t0)) s)"
}

# make_pg_copy DEST: a relocated copy of $PG_CONFIG's installation under
# DEST (the same layout, so pg_config and the server find everything
# relative to their own place); prints the copy's pg_config.
make_pg_copy() {
	local dest=$1 bindir
	bindir=$("$PG_CONFIG" --bindir)
	"${SUDO[@]}" rm -rf "$dest"
	"${SUDO[@]}" mkdir -p "$dest"
	"${SUDO[@]}" rsync -aR "$(dirname "$bindir")" "$("$PG_CONFIG" --sharedir)" \
		"$("$PG_CONFIG" --includedir)" "$dest/"
	echo "$dest$PG_CONFIG"
}

# install_asan_wrapper BINDIR REPORTS: make BINDIR/postgres start the real
# server (renamed postgres.bin) with the ASan runtime preloaded; reports go
# to files REPORTS/asan.PID or to the server log.
install_asan_wrapper() {
	local bindir=$1 reports=$2 asan shim="$1/tg_asan_shim.so"
	asan=$(gcc -print-file-name=libasan.so)
	[ -e "$asan" ] || { echo "no ASan runtime ($asan)" >&2; return 1; }
	# A library defining swift_demangle.  The ASan runtime initialises on
	# the server's first malloc, which happens inside glibc's newlocale()
	# in p11-kit's constructor (the server loads p11-kit through libldap
	# and gnutls; its constructor runs before the preloaded runtime's own).
	# The runtime's initialisation looks swift_demangle up, and when the
	# lookup fails it calls dlerror(), whose gettext takes the locale lock
	# newlocale() holds: the lock's reader count underflows and the next
	# setlocale() or bindtextdomain() waits forever (postgres -V hangs).
	# Defined, the lookup succeeds and no dlerror() message is made; it
	# returns NULL, "not a Swift name", so reports demangle as before.
	printf '%s\n' '#include <stddef.h>' \
		'char *swift_demangle(const char *m, size_t n, char *o, size_t *on, unsigned f);' \
		'char *swift_demangle(const char *m, size_t n, char *o, size_t *on, unsigned f)' \
		'{ (void) m; (void) n; (void) o; (void) on; (void) f; return NULL; }' |
		"${SUDO[@]}" gcc -shared -fPIC -x c -o "$shim" -
	"${SUDO[@]}" mv "$bindir/postgres" "$bindir/postgres.bin"
	# ASan options:
	#   detect_leaks=0   a backend exits without freeing what the server
	#                    allocated (by design: memory contexts die with
	#                    the process); leak reports would be all noise
	#   log_path         a file per reporting process; but once UBSan has
	#                    reported in a process (its runtime shares the
	#                    report file with ASan's and resets it to stderr),
	#                    both go to stderr, the server log: sanitizer_reports
	#                    reads both, so a report in a TAP cluster or in a
	#                    backend whose client only saw "server closed the
	#                    connection" still fails the pass
	#   detect_stack_use_after_return=0
	#                    (gcc 12's default, written so it stays): with it
	#                    our frames live on ASan's fake stacks, which
	#                    ereport()'s siglongjmp out of them leaves for ASan
	#                    to reclaim late; more memory per backend for bugs
	#                    (returning a local's address) -Wall already warns of
	#   halt_on_error    (default 1): the reporting backend exits; the
	#                    test that ran it fails too, where it happened
	# handle_segv stays on (PostgreSQL installs no SIGSEGV handler of its
	# own, so allow_user_segv_handler is moot): a SIGSEGV in a backend
	# becomes a report with a stack trace, not only "terminated by signal".
	# UBSan: print_stacktrace=1 and recovery (no -fno-sanitize-recover):
	# a report does not end the backend, so one pass lists every site.
	# Its reports go to stderr, the server log, which sanitizer_reports
	# searches; any one fails.
	"${SUDO[@]}" tee "$bindir/postgres" >/dev/null <<-WRAPPER
	#!/bin/bash
	# tenant_guard's sanitize pass (test/sanitize_tests.sh): the server of
	# this copy runs with the ASan runtime preloaded.
	export LD_PRELOAD="$asan:$shim\${LD_PRELOAD:+:\$LD_PRELOAD}"
	export ASAN_OPTIONS="detect_leaks=0:detect_stack_use_after_return=0:log_path=$reports/asan"
	export UBSAN_OPTIONS="print_stacktrace=1"
	exec -a "\$0" "\$0.bin" "\$@"
	WRAPPER
	"${SUDO[@]}" chmod 755 "$bindir/postgres" "$shim"
	"${SUDO[@]}" mkdir -p "$reports"
	"${SUDO[@]}" chown postgres: "$reports"
}

# sanitizer_reports: the report files of the pass and the logs that hold a
# report: our server log, the TAP clusters' server logs and the TAP tests'
# own logs (initdb's bootstrap server writes there).
sanitizer_reports() {
	as_postgres find "$ASAN_WORK/reports" -type f 2>/dev/null || true
	as_postgres grep -lE '^==[0-9]+==ERROR: AddressSanitizer|: runtime error: ' \
		"$ASAN_WORK/cluster.log" "$ASAN_WORK"/src/tmp_check/log/* 2>/dev/null || true
}

# show_reports FILE...: the start of each report (at most five files).
show_reports() {
	local f
	for f in $(printf '%s\n' "$@" | head -n 5); do
		echo "---- $f"
		as_postgres grep -E -A 30 '^==[0-9]+==(ERROR|WARNING)|runtime error:' "$f" | head -n 50 ||
			as_postgres head -n 60 "$f"
	done
}

stop_sanitize_cluster() {
	WORK=$ASAN_WORK PG_CONFIG=$ASAN_PG_CONFIG stop_cluster
}

run_sanitize_suite() {
	if ! sanitize_enabled; then
		echo "SKIP: sanitize suite (TG_SANITIZE=0)"
		return 0
	fi
	local t0=$SECONDS status log reports
	ASAN_WORK="$WORK/asan"
	"${SUDO[@]}" mkdir -p "$ASAN_WORK"
	"${SUDO[@]}" chown postgres: "$ASAN_WORK"

	say "sanitize suite: the extension built with ASan and UBSan, in a copy of the installation"
	ASAN_PG_CONFIG=$(make_pg_copy "$ASAN_WORK/pg")
	install_asan_wrapper "$("$ASAN_PG_CONFIG" --bindir)" "$ASAN_WORK/reports"
	# (a subshell, so that a build failure is this pass's failure and the
	# final count still comes)
	set +e
	(set -e; PG_CONFIG=$ASAN_PG_CONFIG build_install "$ASAN_WORK/src" \
		"COPT=-fsanitize=address,undefined -fno-omit-frame-pointer")
	status=$?
	set -e
	if [ "$status" -ne 0 ]; then
		result "$status" "sanitize suite (build)"
		return 0
	fi
	stop_cluster
	WORK=$ASAN_WORK PG_CONFIG=$ASAN_PG_CONFIG start_cluster
	trap 'stop_cluster; stop_sanitize_cluster' EXIT

	log=$(mktemp "${TMPDIR:-/tmp}/tenant_guard-sanitize.XXXXXX")
	set +e
	PG_CONFIG=$ASAN_PG_CONFIG installcheck "$ASAN_WORK/src" "$log"
	status=$?
	set -e
	rm -f "$log"
	[ "$status" -ne 0 ] && show_failures "$ASAN_WORK/src"
	# a clean restart runs the shutdown paths (the postmaster's rate-limit
	# dump, the log writers' exit) under ASan too; sqlsmith uses the cluster
	# next
	as_postgres "$("$ASAN_PG_CONFIG" --bindir)/pg_ctl" -D "$ASAN_WORK/cluster" \
		-l "$CLUSTER_LOG" -m fast -w restart >/dev/null || status=1

	reports=$(sanitizer_reports)
	if [ -n "$reports" ]; then
		echo "sanitizer reports:"
		show_reports $reports
		status=1
	fi
	result "$status" "sanitize suite"
	echo "(sanitize suite: $((SECONDS - t0)) s, build included)"
}
