# tenant_guard/Makefile

MODULE_big = tenant_guard
# every src/*.c is part of the module (subdirectories hold stand-alone
# harnesses: unit tests and fuzzers of the PostgreSQL-free core)
OBJS := $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

EXTENSION = tenant_guard
DATA = $(wildcard sql/$(EXTENSION)--*.sql)
PGFILEDESC = "tenant_guard - reject, record, rate-limit and purge test-data tenants"

# One regression file per feature: sql/<feature>.sql, expected/<feature>.out
REGRESS := $(sort $(filter-out $(EXTENSION)--%,$(patsubst sql/%.sql,%,$(wildcard sql/*.sql))))
REGRESS_OPTS = --load-extension=$(EXTENSION)

# Isolation specs: test/specs/<name>.spec, test/expected/<name>.out
ISOLATION := $(sort $(patsubst test/specs/%.spec,%,$(wildcard test/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test --load-extension=$(EXTENSION)

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

# The checker normalises text with ICU (NFKC, case folding, spoof checker).
SHLIB_LINK += $(shell pkg-config --libs icu-uc icu-i18n 2>/dev/null || echo -licui18n -licuuc -licudata)

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

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

.PHONY: redis-all redis-install redis-clean

# PGXN release archive: $(EXTENSION)-$(DIST_VERSION).zip of the committed
# tree (git archive of HEAD), into DIST_DIR.  META.json and debian/changelog
# carry the same version; test/pgxn_meta.pl checks that.
DIST_VERSION = 1.1.0
DIST_DIR = .

dist:
	git archive --format=zip --prefix=$(EXTENSION)-$(DIST_VERSION)/ \
		-o $(DIST_DIR)/$(EXTENSION)-$(DIST_VERSION).zip HEAD

.PHONY: dist
