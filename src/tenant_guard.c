/*-------------------------------------------------------------------------
 *
 * tenant_guard.c
 *	  Module entry point: _PG_init only asks each module to set itself up.
 *
 * What lives where:
 *	  checker.c   the deciding core (no PostgreSQL headers)
 *	  check.c     check_tenant() and the field conversions
 *	  guc.c       configuration variables and who may change them
 *	  trigger.c   the row trigger installed by attach()
 *	  log.c       writing test_data_prevention_logs rows
 *	  log_queue.c the durable log's shared-memory queue and its status
 *	  log_worker.c the durable log's launcher and writers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "tenant_guard.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Load-time set-up of every module. */
void
_PG_init(void)
{
	/* before tg_guc_init(), which reserves the prefix for defined GUCs */
	tg_log_queue_init();
	tg_guc_init();
}
