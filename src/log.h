/*-------------------------------------------------------------------------
 *
 * log.h
 *	  Rows of tenant_guard.test_data_prevention_logs (log.c): written in the
 *	  caller's transaction (log mode, log_suspicious_request()) or, for a
 *	  rejected row, queued for the durable log's writers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_LOG_H
#define TENANT_GUARD_LOG_H

#include "postgres.h"

#include "access/htup.h"
#include "utils/jsonb.h"
#include "utils/relcache.h"

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(hidden)
#endif

/* What a log row says happened */
#define TG_ACTION_REJECTED	"rejected"	/* enforce mode refused the row */
#define TG_ACTION_LOGGED	"logged"	/* log mode kept the row */
#define TG_ACTION_REPORTED	"reported"	/* the application reported it */

/* The columns every writer of the log table fills, in this order. */
#define TG_LOG_COLUMNS \
	"endpoint, data, reason, ip_address, role_name, application_name, action"

extern int64 tg_log_write(const char *action, Jsonb *data, const char *reason,
						  Datum ip_address, bool ip_isnull,
						  const char *endpoint);
extern Datum tg_client_addr_datum(bool *isnull);
extern void tg_log_kept(Relation rel, HeapTuple tuple, const char *reason);
extern bool tg_log_suspicious_row(Relation rel, HeapTuple tuple, const char *reason);
extern void tg_log_rejection(Relation rel, HeapTuple tuple, const char *reason);
extern void tg_log_rejection_json(const char *relname, const char *data_json,
								  const char *reason);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#endif							/* TENANT_GUARD_LOG_H */
