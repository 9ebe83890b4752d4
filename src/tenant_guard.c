/*-------------------------------------------------------------------------
 *
 * tenant_guard.c
 *	  Module entry point: _PG_init only asks each module to set itself up.
 *
 * What lives where, in layers: a file calls (and includes the headers of)
 * its own module and the modules listed above it, never one below
 * (test/layers.sh checks the #include lines).
 *
 *	core (src/core/): no PostgreSQL headers, built without the server's include path
 *	  checker*.c  the deciding core (see checker.h)
 *	  ratekey*.c  normalised e-mail and IP keys of the rate limits
 *	base: names, configuration, catalog and row helpers
 *	  names.h     the extension's schema, tables, SQLSTATEs (constants)
 *	  guc.c       configuration variables and who may change them
 *	  statefile.c what files of shared-memory state across restarts share
 *	  lookup.c    catalog look-ups: the extension's tables, owners
 *	  safesql.c   SQL run from C, safe from the caller's search_path
 *	  own_tables.c who may write the extension's tables (write_guard)
 *	  row.c       text fields for the checker, rows as JSON for the log
 *	  guarded.c   guarded tables with keys, tenant ids
 *	services: state and writers the entry points share
 *	  rules.c     the rule tables, compiled and cached per backend
 *	  rules_shmem.c the e-mail domain list compiled once into shared memory
 *	  log_queue.c the durable log's shared-memory queue and its status
 *	  log_queue_file.c the queue kept across a clean restart
 *	  log.c       writing test_data_prevention_logs rows, queueing rejections
 *	  ratelimit.c tenant-creation rate limits (shared memory, callbacks)
 *	  ratelimit_admin.c their SQL functions and their file across restarts
 *	  log_worker.c the durable log's launcher and writers
 *	  creations.c committed tenant creations per table (alerts, diagnose)
 *	entry points: what SQL and triggers call
 *	  check.c     check_tenant()
 *	  trigger.c   the row trigger installed by attach()
 *	  registry.c  writes to guarded_tables and tenant_tables, with owner checks
 *	  protect.c   protected tenants: protect(), unprotect(), their trigger
 *	  purge.c     purge_test_tenants(): who, which tenants, the journal
 *	  purge_delete.c the purge's plan and deletes
 *	  purge_keyset.c the key sets a purge level may find its rows by
 *	  fkgraph.c   the foreign-key graph the purge walks
 *	  alerts.c    the alert thresholds
 *	tenant_guard.c: _PG_init, which alone registers workers and hooks
 *	  through the modules' init functions
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/guc.h"

#include "guc.h"
#include "rules.h"
#include "log_queue.h"
#include "log_worker.h"
#include "ratelimit.h"
#include "creations.h"
#include "purge.h"
#include "alerts.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Load-time set-up of every module. */
void
_PG_init(void)
{
	tg_guc_init();
	tg_log_queue_init();
	if (process_shared_preload_libraries_in_progress)
		tg_log_worker_register();
	tg_ratelimit_init();
	tg_rules_init();
	tg_purge_init();
	tg_creations_init();
	tg_alerts_init();

	/*
	 * Last: every module has defined its GUCs, so placeholders left under
	 * our prefix are typos; reserving earlier would discard the
	 * postgresql.conf values of GUCs defined after it.
	 */
	MarkGUCPrefixReserved("tenant_guard");
}
