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
 *	  ratelimit.c tenant-creation rate limits (shared memory, callbacks)
 *	  ratekey.c   normalised e-mail and IP keys (no PostgreSQL headers)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "ratelimit.h"
#include "tenant_guard.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Load-time set-up of every module. */
void
_PG_init(void)
{
	tg_ratelimit_init();		/* before tg_guc_init reserves the prefix */
	tg_guc_init();
}
