# tenant_guard/Makefile

MODULE_big = tenant_guard
# every src/*.c and src/core/*.c is part of the module: src/core/ is the
# PostgreSQL-free deciding core (checker, rate-limit keys), the rest the
# server side in layers (see src/tenant_guard.c and test/layers.sh)
OBJS := $(patsubst %.c,%.o,$(sort $(wildcard src/*.c src/core/*.c)))

EXTENSION = tenant_guard
DATA = $(wildcard sql/$(EXTENSION)--*.sql)
PGFILEDESC = "tenant_guard - reject, record, rate-limit and purge test-data tenants"

# One regression file per feature: sql/<feature>.sql, expected/<feature>.out
TG_REGRESS := $(sort $(filter-out $(EXTENSION)--%,$(patsubst sql/%.sql,%,$(wildcard sql/*.sql))))
REGRESS = $(call tg_runnable,$(TG_REGRESS))
REGRESS_OPTS = --load-extension=$(EXTENSION)

# Isolation specs: test/specs/<name>.spec, test/expected/<name>.out
TG_ISOLATION := $(sort $(patsubst test/specs/%.spec,%,$(wildcard test/specs/*.spec)))
ISOLATION = $(call tg_runnable,$(TG_ISOLATION))
ISOLATION_OPTS = --inputdir=test --load-extension=$(EXTENSION)

# The tests that need tenant_guard in shared_preload_libraries: rejections
# they check in the log (the durable log's writer) or tenants they count
# (the rate limits' shared memory).  `make installcheck` asks the server
# (PGHOST, PGPORT, PGUSER as for pg_regress) once; when it does not preload
# the library, these are left out and named.  test/check.sh runs the rest
# on its cluster restarted without the preload, so a test missing here
# fails there.
TG_NEEDS_PRELOAD = adopted_schema alerts attach bad_input durable_log \
	hostile_search_path key_text logging modes monitoring privileges protect \
	purge rate_limits rate_limits_on_conflict rules tamper trigger_paths \
	durable_log_sessions ratelimit_deadlock ratelimit_email ratelimit_ip \
	ratelimit_isolation ratelimit_lookalike ratelimit_on_conflict \
	ratelimit_rollback

# "t" when the server preloads tenant_guard or cannot be asked (then
# pg_regress says why); asked on first use only.
tg_preloaded = $(eval tg_preloaded := $(or $(shell '$(bindir)/psql' -XAtq -d postgres \
	-f test/preloaded.sql 2>/dev/null),t))$(tg_preloaded)
tg_runnable = $(if $(filter t,$(tg_preloaded)),$(1),$(filter-out $(TG_NEEDS_PRELOAD),$(1)))

# TAP tests: test/t/*.pl (they start their own clusters)
ifneq ($(wildcard test/t/*.pl),)
TAP_TESTS = 1
PROVE_TESTS = $(sort $(wildcard test/t/*.pl))
endif

PG_CONFIG ?= pg_config

# Our code builds warning-free with -Wall -Wextra; the server headers are
# included as system headers so their own -Wextra noise stays out.
PG_CFLAGS = -Wall -Wextra $(if $(WERROR),-Werror)
PG_CPPFLAGS = -isystem $(shell $(PG_CONFIG) --includedir-server) -Isrc/core

# `make TG_ASSERTS=1` compiles in the extension's own assertions
# (src/tg_assert.h); test/check.sh builds that way.  Without it they
# compile to nothing.
ifeq ($(TG_ASSERTS),1)
PG_CPPFLAGS += -DTG_USE_ASSERT
endif

# The checker normalises text with ICU (NFKC, case folding, spoof checker).
ICU_LIBS := $(shell pkg-config --libs icu-uc icu-i18n 2>/dev/null || echo -licui18n -licuuc -licudata)
SHLIB_LINK += $(ICU_LIBS)

# What the tests and tools leave in the tree besides what PGXS removes
# itself (results/, regression.*, output_iso/, tmp_check/, log/): the work
# directories of test/check.sh, test/demo.sh and bench/*.sh.
EXTRA_CLEAN = .testrun/ .demo/ .benchrun/

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The TAP tests share test/perl/TenantGuard/Test.pm (prove runs in the
# top directory).  After PGXS, which sets PROVE_FLAGS for the user.
PG_PROVE_FLAGS += -I test/perl

# Before the tests: say which ones the server cannot run.
installcheck: tg-preload-note
tg-preload-note:
	@$(if $(filter t,$(tg_preloaded)),:,echo "skipped, the server lacks shared_preload_libraries = 'tenant_guard':" \
		$(filter $(TG_REGRESS) $(TG_ISOLATION),$(TG_NEEDS_PRELOAD)))
# The core is compiled without the server's include paths (PGXS puts them
# into CPPFLAGS), so a PostgreSQL header included there fails the build;
# only PGXS's -D options stay.
CORE_CPPFLAGS := -Isrc/core $(filter -D%,$(CPPFLAGS))
src/core/%.o src/core/%.bc: override CPPFLAGS := $(CORE_CPPFLAGS)

# The Redis clean-up program (redis/) has its own Makefile: PGXS builds one
# module per Makefile.  all, install and clean reach into it.
all: redis-all
install: redis-install
clean: redis-clean

redis-all:
	$(MAKE) -C redis PG_CONFIG=$(PG_CONFIG) $(if $(WERROR),WERROR=1)
redis-install: redis-all
	$(MAKE) -C redis PG_CONFIG=$(PG_CONFIG) install
redis-clean:
	$(MAKE) -C redis PG_CONFIG=$(PG_CONFIG) clean

.PHONY: redis-all redis-install redis-clean tg-preload-note

# make check-core: the tests of the PostgreSQL-free core (src/core/), no
# server: the unit test with the corpus score and the dictionary words, built
# three ways (with the fast path checked against the full scan, the same
# without SSE2, and as the server builds the core), then TG_FUZZ_SECONDS
# (default 60) of libFuzzer.  check-core-valgrind runs the unit test under
# valgrind memcheck.  Each part is a target of its own (test/core_tests.sh
# runs them one by one); everything is built in CORE_OUT.
CORE_OUT ?= $(CURDIR)/test/core-build
CORE_SRCS = $(sort $(wildcard src/core/*.c))
CORE_DEPS = $(CORE_SRCS) $(wildcard src/core/*.h)
CORE_CORPUS = test/corpus/corpus.tsv
CORE_WORDS ?= $(wildcard /usr/share/dict/words)
TG_FUZZ_SECONDS ?= 60
VALGRIND ?= valgrind -q --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite --show-leak-kinds=definite

# the unit test's builds: TG_VERIFY_FAST_PATH checks every "clean" of the
# fast path against the full scan; -U__SSE2__ takes the portable fast path;
# -O1 for memcheck (at -O2 the compiler may read past a string's end in
# ways memcheck reports)
$(CORE_OUT)/test_checker_verify: CORE_VARIANT = -DTG_VERIFY_FAST_PATH
$(CORE_OUT)/test_checker_portable: CORE_VARIANT = -U__SSE2__ -DTG_VERIFY_FAST_PATH
$(CORE_OUT)/test_checker_production: CORE_VARIANT =
$(CORE_OUT)/test_checker_valgrind: CORE_VARIANT = -O1 -DTG_VERIFY_FAST_PATH
$(addprefix $(CORE_OUT)/test_checker_,verify portable production valgrind): $(CORE_DEPS) test/unit/test_checker.c
	@mkdir -p $(CORE_OUT)
	gcc -O2 -g -Wall -Wextra -Werror $(CORE_VARIANT) -Isrc/core $(CORE_SRCS) \
		test/unit/test_checker.c $(ICU_LIBS) -o $@

$(CORE_OUT)/fuzz_checker: $(CORE_DEPS) test/fuzz/fuzz_checker.c
	@mkdir -p $(CORE_OUT)
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-DTG_VERIFY_FAST_PATH -Isrc/core $(CORE_SRCS) test/fuzz/fuzz_checker.c $(ICU_LIBS) -o $@

check-core-unit: $(CORE_OUT)/test_checker_verify
	$< $(CORE_CORPUS) $(CORE_WORDS)
check-core-portable: $(CORE_OUT)/test_checker_portable
	$< $(CORE_CORPUS)
check-core-production: $(CORE_OUT)/test_checker_production
	$< $(CORE_CORPUS)
check-core-valgrind: $(CORE_OUT)/test_checker_valgrind
	$(VALGRIND) $< $(CORE_CORPUS)
# fails on libFuzzer's status and on any crash, leak or timeout it saved
check-core-fuzz: $(CORE_OUT)/fuzz_checker
	@mkdir -p $(CORE_OUT)/fuzz-corpus
	rm -f $(CORE_OUT)/crash-* $(CORE_OUT)/leak-* $(CORE_OUT)/timeout-*
	cd $(CORE_OUT) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		./fuzz_checker -max_total_time=$(TG_FUZZ_SECONDS) -max_len=8192 -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 fuzz-corpus $(CURDIR)/test/fuzz/seeds
	@! ls $(CORE_OUT)/crash-* $(CORE_OUT)/leak-* $(CORE_OUT)/timeout-* 2>/dev/null

check-core: check-core-unit check-core-portable check-core-production check-core-fuzz

check-core-clean:
	rm -rf $(CURDIR)/test/core-build
clean: check-core-clean

.PHONY: check-core check-core-unit check-core-portable check-core-production \
	check-core-valgrind check-core-fuzz check-core-clean

# PGXN release archive: $(EXTENSION)-$(DIST_VERSION).zip of the committed
# tree (git archive of HEAD), into DIST_DIR.  META.json and debian/changelog
# carry the same version; test/pgxn_meta.pl checks that.
DIST_VERSION = 1.1.0
DIST_DIR = .

dist:
	git archive --format=zip --prefix=$(EXTENSION)-$(DIST_VERSION)/ \
		-o $(DIST_DIR)/$(EXTENSION)-$(DIST_VERSION).zip HEAD

.PHONY: dist
