# tenant_guard/Makefile

MODULE_big = tenant_guard
OBJS = \
	src/tenant_guard.o \
	src/checker.o \
	src/check.o \
	src/guc.o \
	src/log.o \
	src/trigger.o

EXTENSION = tenant_guard
DATA = $(wildcard sql/$(EXTENSION)--*.sql)
PGFILEDESC = "tenant_guard - reject, record, rate-limit and purge test-data tenants"

# One regression file per feature: sql/<feature>.sql, expected/<feature>.out
REGRESS = $(sort $(filter-out $(EXTENSION)--%,$(patsubst sql/%.sql,%,$(wildcard sql/*.sql))))
REGRESS_OPTS = --load-extension=$(EXTENSION)

PG_CONFIG ?= pg_config

# Our code builds warning-free with -Wall -Wextra; the server headers are
# included as system headers so their own -Wextra noise stays out.
PG_CFLAGS = -Wall -Wextra $(if $(WERROR),-Werror)
PG_CPPFLAGS = -isystem $(shell $(PG_CONFIG) --includedir-server)

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
