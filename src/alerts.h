/*-------------------------------------------------------------------------
 *
 * alerts.h
 *	  The thresholds of tenant_guard.alerts() (alerts.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_ALERTS_H
#define TENANT_GUARD_ALERTS_H

#include "postgres.h"

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(hidden)
#endif

/* Define the alert thresholds; called from _PG_init. */
extern void tg_alerts_init(void);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#endif							/* TENANT_GUARD_ALERTS_H */
