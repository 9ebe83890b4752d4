# tenant_guard/Makefile

MODULE_big = tenant_guard
# every src/*.c is part of the module (subdirectories hold stand-alone
# harnesses: unit tests and fuzzers of the PostgreSQL-free core)
OBJS := $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

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
PG_CPPFLAGS = -isystem $(shell $(PG_CONFIG) --includedir-server)

# `make TG_ASSERTS=1` compiles in the extension's own assertions
# (src/tg_assert.h); test/check.sh builds that way.  Without it they
# compile to nothing.
ifeq ($(TG_ASSERTS),1)
PG_CPPFLAGS += -DTG_USE_ASSERT
endif

# The checker normalises text with ICU (NFKC, case folding, spoof checker).
SHLIB_LINK += $(shell pkg-config --libs icu-uc icu-i18n 2>/dev/null || echo -licui18n -licuuc -licudata)

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
