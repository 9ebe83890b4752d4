# test/core_tests.sh -- sourced by test/check.sh: the tests of the deciding
# core that need no server, and fetching the public disposable-domain list
# the TAP test imports.
#
#   run_core_tests   unit test (the checker and the rate-limit keys of
#                    src/ratekey*.c) + corpus score (fails below 700 cases,
#                    precision 0.99 or recall 0.98) + every word of Debian's
#                    wamerican dictionary, which must pass unless it is a
#                    keyword itself (gcc -Werror), the unit test
#                    again built without SSE2 (the portable fast path), then
#                    the libFuzzer harness for TG_FUZZ_SECONDS (default 60);
#                    all three built with -DTG_VERIFY_FAST_PATH, so every
#                    time the fast path calls text clean the full scan
#                    agrees; and the unit test once more as the server
#                    builds the core (without it)
#   fetch_disposable_list
#                    npm pack disposable-email-domains-js into $WORK/npm and
#                    export TG_DISPOSABLE_LIST (the JSON array); says so
#                    clearly when the registry cannot be reached
# Both count their results with result() (lib.sh).

core_result() {
	result "$1" "core test $2"
}

# core_unit NAME LINES WORDS [CFLAGS...]: build the unit test with CFLAGS,
# run it on the corpus and the dictionary WORDS ("" for none; showing
# tail -n LINES of its output: +1 for all) and record the result as NAME.
# Uses run_core_tests' src, out and icu.
# Runs the test under $UNIT_RUNNER when that is set (a command and options).
core_unit() {
	local name=$1 lines=$2 words=$3 status
	shift 3
	set +e
	gcc -O2 -g -Wall -Wextra -Werror "$@" -I"$src/src" "$src"/src/checker*.c \
		"$src"/src/ratekey*.c "$src/test/unit/test_checker.c" $icu -o "$out/test_checker_$name" &&
		${UNIT_RUNNER:-} "$out/test_checker_$name" "$src/test/corpus/corpus.tsv" $words | tail -n "$lines"
	status=${PIPESTATUS[0]}
	set -e
	core_result "$status" "$name"
}

run_core_tests() {
	local src="$WORK/src" out="$WORK/core" icu status
	icu=$(pkg-config --libs icu-uc icu-i18n)
	"${SUDO[@]}" mkdir -p "$out"
	"${SUDO[@]}" chown "$(id -u)" "$out"

	ensure_packages wamerican
	say "unit test, corpus score and dictionary words of the checker core (no server)"
	core_unit unit_and_corpus +1 /usr/share/dict/words -DTG_VERIFY_FAST_PATH

	# the same without SSE2: the byte-by-byte classification other CPUs use
	say "unit test of the checker core without SSE2 (the portable fast path)"
	core_unit unit_portable 2 "" -U__SSE2__ -DTG_VERIFY_FAST_PATH

	# and as the server runs it: no verification behind the fast path, so
	# a fast path that only works because the check behind it ran first
	# (say, a table the check initialises) shows here
	say "unit test of the checker core as built into the server (no fast-path verification)"
	core_unit unit_production 2 ""

	say "fuzzing the checker core for ${TG_FUZZ_SECONDS:-60} s (libFuzzer, ASan, UBSan)"
	set +e
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -DTG_VERIFY_FAST_PATH \
		-I"$src/src" "$src"/src/checker*.c "$src"/src/ratekey*.c "$src/test/fuzz/fuzz_checker.c" $icu \
		-o "$out/fuzz_checker" &&
		mkdir -p "$out/fuzz-corpus" &&
		(cd "$out" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
			./fuzz_checker -max_total_time="${TG_FUZZ_SECONDS:-60}" -max_len=8192 \
			-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
			fuzz-corpus "$src/test/fuzz/seeds" 2>&1 | tail -n 25)
	status=${PIPESTATUS[0]}
	[ "$status" -eq 0 ] && status=$(ls "$out"/crash-* "$out"/leak-* "$out"/timeout-* 2>/dev/null | wc -l)
	set -e
	core_result "$status" fuzz
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
