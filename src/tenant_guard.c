/*-------------------------------------------------------------------------
 *
 * tenant_guard.c
 *	  Module entry point: _PG_init only asks each module to set itself up.
 *
 * What lives where:
 *	  checker*.c  the deciding core (no PostgreSQL headers; see checker.h)
 *	  check.c     check_tenant() and the field conversions
 *	  rules.c     the rule tables, compiled and cached per backend
 *	  rules_shmem.c the e-mail domain list compiled once into shared memory
 *	  guc.c       configuration variables and who may change them
 *	  trigger.c   the row trigger installed by attach()
 *	  log.c       writing test_data_prevention_logs rows
 *	  protect.c   protected tenants: protect(), unprotect(), their trigger
 *	  registry.c  writes to guarded_tables and tenant_tables, with owner checks
 *	  own_tables.c who may write the extension's tables (write_guard)
 *	  fkgraph.c   the foreign-key graph the purge walks
 *	  purge.c     purge_test_tenants(): who, which tenants, the journal
 *	  purge_delete.c the purge's plan and deletes
 *	  purge_keyset.c the key sets a purge level may find its rows by
 *	  log_queue.c the durable log's shared-memory queue and its status
 *	  log_queue_file.c the queue kept across a clean restart
 *	  statefile.c what files of shared-memory state across restarts share
 *	  log_worker.c the durable log's launcher and writers
 *	  ratelimit.c tenant-creation rate limits (shared memory, callbacks)
 *	  ratelimit_admin.c their SQL functions and their file across restarts
 *	  ratekey.c   normalised e-mail and IP keys (no PostgreSQL headers)
 *	  creations.c committed tenant creations per table (alerts, diagnose)
 *	  alerts.c    the alert thresholds
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/guc.h"

#include "creations.h"
#include "purge.h"
#include "ratelimit.h"
#include "tenant_guard.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Load-time set-up of every module. */
void
_PG_init(void)
{
	tg_guc_init();
	tg_log_queue_init();
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
