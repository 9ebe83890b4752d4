/*-------------------------------------------------------------------------
 *
 * alerts.c
 *	  The thresholds of tenant_guard.alerts() (the rules themselves are SQL,
 *	  in the install script): GUCs only superusers -- or roles granted SET
 *	  on them -- may change, so that no database owner can raise them in
 *	  the session pg_cron runs check_alerts() in.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "utils/guc.h"

#include "tenant_guard.h"

static int	tg_alert_creations = 5;
static int	tg_alert_failed = 10;

/* Define the alert thresholds; called from _PG_init. */
void
tg_alerts_init(void)
{
	DefineCustomIntVariable("tenant_guard.alert_creations_per_hour",
							"tenant_creation_rate alert: fires when a guarded table got more tenants than this in the last hour.",
							"Committed creations the guard counted (tenant_guard.creations()).",
							&tg_alert_creations,
							5, 0, INT_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("tenant_guard.alert_failed_per_hour",
							"failed_creations alert: fires when more tenant creations than this were rejected in the last hour.",
							"Rejected rows of tenant_guard.test_data_prevention_logs, rate-limit refusals included.",
							&tg_alert_failed,
							10, 0, INT_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
}
