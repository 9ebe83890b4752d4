/*-------------------------------------------------------------------------
 *
 * guarded.h
 *	  The guarded tables with a key column and the tenant ids that name
 *	  their rows (guarded.c), for protect.c and the purge.
 *
 * Tenant ids are text in the SQL API.  Internally an id is parsed with the
 * input function of the guarded table's key column and compared in that
 * type; protected_tenants stores the key's text output, so uuids are
 * compared case-insensitively and '007' names the same bigint as '7'.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_GUARDED_H
#define TENANT_GUARD_GUARDED_H

#include "postgres.h"

#include "nodes/pg_list.h"

#include "checker.h"

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(hidden)
#endif

/* A guarded table with a key column (tenant_guard.guarded_tables). */
typedef struct TgGuarded
{
	Oid			relid;
	char		relkind;
	char	   *relname;		/* qualified, for SQL and messages */
	char	   *keycol;
	Oid			keytype;
	Oid			owner;
	char	   *fieldcol[TG_NUM_FIELDS];	/* checked columns; NULL: none */
} TgGuarded;

extern List *tg_guarded_with_keys(void);
extern char *tg_abbrev_id(const char *id);
extern bool tg_parse_tenant_id(const char *text, Oid typid, Datum *value,
							   char **canonical);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#endif							/* TENANT_GUARD_GUARDED_H */
