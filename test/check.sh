#!/usr/bin/env bash
# test/check.sh -- the test command: every test suite of tenant_guard.
#
# Installs missing Debian packages, builds with -Werror and the
# extension's own assertions (TG_ASSERTS=1), installs, starts a throwaway
# cluster (shared_preload_libraries = tenant_guard) as the postgres OS
# user, gives it a neighbour database that uses tenant_guard, and runs
# `make installcheck`: pg_regress files, isolation specs and TAP tests;
# then the pg_regress files and specs once more with the cluster restarted
# without the preload (what needs it says it is skipped); then the unit
# test under valgrind, the
# whole installcheck again against an ASan/UBSan build (sanitize_tests.sh)
# and a sqlsmith run (sqlsmith_tests.sh); TG_VALGRIND=0, TG_SANITIZE=0,
# TG_SQLSMITH=0 skip those; last the Debian package and the PGXN release
# (package_tests.sh; TG_PACKAGE=0 skips).  Ends with "N passed, N failed".
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/core_tests.sh"
source "$(dirname "$0")/sanitize_tests.sh"
source "$(dirname "$0")/sqlsmith_tests.sh"
source "$(dirname "$0")/package_tests.sh"

ensure_packages $(sanitize_packages) $(sqlsmith_packages) $(package_packages)
make_workdir .testrun
build_install "$WORK/src" TG_ASSERTS=1
check_asserts "$WORK/src"
run_core_tests
run_valgrind_unit
fetch_disposable_list
start_cluster
neighbour_database

say "make installcheck"
log=$(mktemp "${TMPDIR:-/tmp}/tenant_guard-check.XXXXXX")
set +e
installcheck "$WORK/src" "$log"
status=$?
[ "$status" -ne 0 ] && show_failures "$WORK/src"
# the same server without the preload: pg_regress and isolation only (the
# TAP tests start clusters of their own)
say "make installcheck TAP_TESTS= on the cluster restarted without shared_preload_libraries"
echo "shared_preload_libraries = ''" | reconfigure_cluster
installcheck "$WORK/src" "$log.plain" TAP_TESTS=
plain_status=$?
[ "$plain_status" -ne 0 ] && show_failures "$WORK/src"
echo "shared_preload_libraries = 'tenant_guard'" | reconfigure_cluster
cat "$log.plain" >>"$log"
rm -f "$log.plain"
[ "$status" -eq 0 ] && status=$plain_status
set -e

# pg_regress and isolation print "test x ... ok" / "... FAILED";
# prove prints "test/t/x.pl .. ok" per file.
passed=$(grep -cE '\.\.\. +ok|^test/t/.*\.\. ok' "$log" || true)
failed=$(grep -cE '\.\.\. +FAILED|\.\. Failed|\.\. Dubious' "$log" || true)
rm -f "$log"

[ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1

# the whole suite again against the extension built with ASan and UBSan
# (its own cluster: the plain one stops first), then sqlsmith against
# whichever cluster runs now
run_sanitize_suite
run_sqlsmith
# the Debian package (built, installed, tested, removed) and the PGXN release
run_package_tests

passed=$((passed + RESULTS_PASSED))
failed=$((failed + RESULTS_FAILED))
[ "$status" -eq 0 ] && [ "$RESULTS_FAILED" -ne 0 ] && status=1
echo
echo "$passed passed, $failed failed"
exit "$status"
