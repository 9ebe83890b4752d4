# test/core_tests.sh -- sourced by test/check.sh: the tests of the deciding
# core that need no server, and fetching the public disposable-domain list
# the TAP test imports.
#
#   run_core_tests   test/layers.sh (the #include lines keep the layers),
#                    then the parts of `make check-core` (Makefile), each
#                    one named result: unit test (the checker and the
#                    rate-limit keys of src/core/ratekey*.c) + corpus score
#                    (fails below 700 cases, precision 0.99 or recall 0.98)
#                    + every word of Debian's wamerican dictionary, which
#                    must pass unless it is a keyword itself (gcc -Werror),
#                    the unit test again built without SSE2 (the portable
#                    fast path), then the libFuzzer harness for
#                    TG_FUZZ_SECONDS (default 60); all three built with
#                    -DTG_VERIFY_FAST_PATH, so every time the fast path
#                    calls text clean the full scan agrees; and the unit
#                    test once more as the server builds the core (without
#                    it)
#   fetch_disposable_list
#                    npm pack disposable-email-domains-js into $WORK/npm and
#                    export TG_DISPOSABLE_LIST (the JSON array); says so
#                    clearly when the registry cannot be reached
# Both count their results with result() (lib.sh).

core_result() {
	result "$1" "core test $2"
}

# core_make NAME TARGET LINES: run `make TARGET` (a part of make check-core)
# in the copied tree, showing tail -n LINES of its output (+1: all), and
# record the result as NAME.  Uses run_core_tests' src and out.
core_make() {
	local name=$1 target=$2 lines=$3 status
	set +e
	make -s -C "$src" --no-print-directory "$target" PG_CONFIG="$PG_CONFIG" CORE_OUT="$out" \
		TG_FUZZ_SECONDS="${TG_FUZZ_SECONDS:-60}" 2>&1 | tail -n "$lines"
	status=${PIPESTATUS[0]}
	set -e
	core_result "$status" "$name"
}

run_core_tests() {
	local src="$WORK/src" out="$WORK/core"
	"${SUDO[@]}" mkdir -p "$out"
	"${SUDO[@]}" chown "$(id -u)" "$out"

	say "layering of the sources: includes go one way (test/layers.sh)"
	set +e
	bash "$src/test/layers.sh" "$src/src"
	core_result $? layers
	set -e

	ensure_packages wamerican
	say "unit test, corpus score and dictionary words of the checker core (no server)"
	core_make unit_and_corpus check-core-unit +1

	# the same without SSE2: the byte-by-byte classification other CPUs use
	say "unit test of the checker core without SSE2 (the portable fast path)"
	core_make unit_portable check-core-portable 2

	# and as the server runs it: no verification behind the fast path, so
	# a fast path that only works because the check behind it ran first
	# (say, a table the check initialises) shows here
	say "unit test of the checker core as built into the server (no fast-path verification)"
	core_make unit_production check-core-production 2

	say "fuzzing the checker core for ${TG_FUZZ_SECONDS:-60} s (libFuzzer, ASan, UBSan)"
	core_make fuzz check-core-fuzz 25
}

fetch_disposable_list() {
	local dir="$WORK/npm" tgz
	say "fetching the CC0 disposable-domain list (npm: disposable-email-domains-js)"
	if ! command -v npm >/dev/null 2>&1; then
		ensure_packages npm || true
	fi
	if ! command -v npm >/dev/null 2>&1; then
		echo "SKIP: npm is not installed and could not be installed; the import test will be skipped"
		return 0
	fi
	"${SUDO[@]}" mkdir -p "$dir"
	"${SUDO[@]}" chown "$(id -u)" "$dir"
	if tgz=$(cd "$dir" && timeout 120 npm pack --silent disposable-email-domains-js 2>"$dir/npm.err") &&
		tar -xzf "$dir/$tgz" -C "$dir" &&
		[ -s "$dir/package/dist/dict/disposable_email_blocklist.json" ]; then
		chmod -R a+rX "$dir"
		export TG_DISPOSABLE_LIST="$dir/package/dist/dict/disposable_email_blocklist.json"
		export TG_DISPOSABLE_VERSION="${tgz%.tgz}"
		echo "fetched $tgz: $(grep -c '"' "$TG_DISPOSABLE_LIST") domains"
	else
		echo "SKIP: the npm registry could not be reached (see below); the import test will be skipped"
		tail -n 5 "$dir/npm.err" 2>/dev/null || true
	fi
}
