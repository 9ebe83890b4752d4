/*-------------------------------------------------------------------------
 *
 * tenant_guard.h
 *	  Declarations shared by the PostgreSQL side of tenant_guard: GUCs,
 *	  SQLSTATEs, the log writer and the field conversion helpers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_H
#define TENANT_GUARD_H

#include "postgres.h"

#include "checker.h"
#include "access/htup.h"
#include "fmgr.h"
#include "utils/jsonb.h"
#include "utils/relcache.h"

/*
 * Internal to the library, as the declarations of checker.h are (called
 * directly, not through the PLT).  SQL-callable functions and _PG_init
 * are declared in the .c files and stay visible.
 */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(hidden)
#endif

/* Schema and objects the C code refers to. */
#define TG_SCHEMA			"tenant_guard"
#define TG_ADMIN_ROLE		"tenant_guard_admin"
#define TG_LOG_TABLE		"test_data_prevention_logs"

/*
 * SQLSTATEs of the errors applications see.  Class "TG" is ours; the
 * values are documented in README and must never change.
 *	  TG001: the row looks like test data (map to HTTP 400)
 *	  TG002: a tenant-creation rate limit was hit (map to HTTP 429)
 *	  TG003: the tenant is protected from deletion (map to HTTP 409)
 */
#define ERRCODE_TG_SUSPICIOUS_DATA	MAKE_SQLSTATE('T','G','0','0','1')
#define ERRCODE_TG_RATE_LIMITED		MAKE_SQLSTATE('T','G','0','0','2')
#define ERRCODE_TG_PROTECTED		MAKE_SQLSTATE('T','G','0','0','3')

/* The message applications show to end users: exact wording, keep it. */
#define TG_SUSPICIOUS_MESSAGE \
	"Suspicious request detected. Please use a real business name and email."

/* Longest endpoint accepted anywhere, in bytes. */
#define TG_MAX_ENDPOINT_LEN 1024

/* Longest tenant_guard.client_addr: any address in any usual spelling. */
#define TG_MAX_CLIENT_ADDR_LEN (NAMEDATALEN - 1)

/* tenant_guard.mode */
typedef enum TgMode
{
	TG_MODE_ENFORCE = 0,
	TG_MODE_LOG,
	TG_MODE_OFF
} TgMode;

/* GUC variables (guc.c) */
extern int	tg_mode;
extern char *tg_client_addr;
extern char *tg_endpoint;

/* guc.c */
extern void tg_guc_init(void);
extern void tg_alerts_init(void);	/* alerts.c: alert thresholds */
extern bool tg_is_admin(Oid roleid);

/* check.c */
extern void tg_text_field(Datum value, bool isnull, TgText *out);
extern int	tg_text_convert;

/*
 * tg_text_field() for the trigger's per-row path: a short (1-byte header)
 * text in a database whose text needs no conversion to UTF-8 -- every
 * name, subdomain and address of a real row -- without a call.  A TOAST
 * pointer has a 1-byte header too (INSERT ... SELECT and UPDATE ... FROM
 * pass them on): it takes tg_text_field(), which fetches the value.
 */
static inline void
tg_text_field_fast(Datum value, bool isnull, TgText *out)
{
	struct varlena *t = (struct varlena *) DatumGetPointer(value);

	if (!isnull && tg_text_convert == 0 && VARATT_IS_SHORT(t) && !VARATT_IS_EXTERNAL(t))
	{
		out->data = VARDATA_SHORT(t);
		out->len = VARSIZE_SHORT(t) - VARHDRSZ_SHORT;
		return;
	}
	tg_text_field(value, isnull, out);
}

/* rules.c */
extern void tg_rules_init(void);
extern const TgRules *tg_current_rules(void);

/* log.c: what a log row says happened */
#define TG_ACTION_REJECTED	"rejected"	/* enforce mode refused the row */
#define TG_ACTION_LOGGED	"logged"	/* log mode kept the row */
#define TG_ACTION_REPORTED	"reported"	/* the application reported it */

extern int64 tg_log_write(const char *action, Jsonb *data, const char *reason,
						  Datum ip_address, bool ip_isnull,
						  const char *endpoint);
extern Datum tg_client_addr_datum(bool *isnull);
extern Oid	tg_relation_owner(Oid relid);
extern Oid	tg_extension_relid(const char *relname);
extern Oid	tg_extension_relid_if_exists(const char *relname);
extern void tg_log_kept(Relation rel, HeapTuple tuple, const char *reason);
extern void tg_log_rejection(Relation rel, HeapTuple tuple, const char *reason);
extern void tg_log_rejection_json(const char *relname, const char *data_json,
								  const char *reason);

/* log_queue.c */
extern void tg_log_queue_init(void);

/* statefile.c */
extern bool tg_statefile_shutdown_clean(const char *what);
extern FILE *tg_statefile_create(const char *path);
extern bool tg_statefile_commit(FILE *file, bool ok, const char *path);
extern FILE *tg_statefile_open(const char *path);

/* trigger.c */
extern char *tg_row_json_text(HeapTuple tuple, TupleDesc tupdesc);
extern Jsonb *tg_row_to_jsonb(HeapTuple tuple, TupleDesc tupdesc);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#endif							/* TENANT_GUARD_H */
