#!/usr/bin/env bash
# test/check.sh -- the test command: every test suite of tenant_guard.
#
# Installs missing Debian packages, builds with -Werror, installs, starts a
# throwaway cluster (shared_preload_libraries = tenant_guard) as the
# postgres OS user and runs `make installcheck`: pg_regress files,
# isolation specs and TAP tests.  Ends with "N passed, N failed".
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/core_tests.sh"

ensure_packages
make_workdir .testrun
build_install
run_core_tests
fetch_disposable_list
start_cluster

say "make installcheck"
log=$(mktemp "${TMPDIR:-/tmp}/tenant_guard-check.XXXXXX")
set +e
as_postgres env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" \
	TG_DISPOSABLE_LIST="${TG_DISPOSABLE_LIST:-}" TG_DISPOSABLE_VERSION="${TG_DISPOSABLE_VERSION:-}" \
	make -C "$WORK/src" installcheck PG_CONFIG="$PG_CONFIG" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# pg_regress and isolation print "test x ... ok" / "... FAILED";
# prove prints "test/t/x.pl .. ok" per file.
passed=$(grep -cE '\.\.\. +ok|^test/t/.*\.\. ok' "$log" || true)
failed=$(grep -cE '\.\.\. +FAILED|\.\. Failed|\.\. Dubious' "$log" || true)
rm -f "$log"

if [ "$status" -ne 0 ]; then
	for f in "$WORK"/src/regression.diffs "$WORK"/src/output_iso/regression.diffs; do
		[ -f "$f" ] && { echo "---- $f"; head -c 60000 "$f"; }
	done
	for f in "$WORK"/src/tmp_check/log/regress_log_*; do
		[ -f "$f" ] && { echo "---- $f"; tail -n 80 "$f"; }
	done
	[ "$failed" -eq 0 ] && failed=1
fi
passed=$((passed + CORE_PASSED))
failed=$((failed + CORE_FAILED))
[ "$status" -eq 0 ] && [ "$CORE_FAILED" -ne 0 ] && status=1
echo
echo "$passed passed, $failed failed"
exit "$status"
