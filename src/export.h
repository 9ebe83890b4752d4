/*-------------------------------------------------------------------------
 *
 * export.h
 *	  The rows of tenants, found along the purge's foreign-key graph
 *	  (export.c), and their restore (import.c).
 *
 * An export is one jsonb document per tenant:
 *	  {"format": "tenant_guard export", "version": 1,
 *	   "tenants": "public.tenants", "tenant_id": "42",
 *	   "tables": [{"table": "public.tenants",
 *				   "columns": {"id": "bigint", ...},
 *				   "rows": [{...}, ...]}, ...]}
 * tables in the order the walk reached them (parents before children;
 * within a table, rows found earlier first).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_EXPORT_H
#define TENANT_GUARD_EXPORT_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/jsonb.h"

#include "export_doc.h"
#include "purge_int.h"

/* export.c */

/*
 * Walk from the tenants in the temp table targets (ord int4, key) along
 * p's graph, collecting rows in temp tables (SPI connected, p's root and
 * registered tables resolved), by the export's rule: no other tenant's
 * row.  Returns the rows found.
 */
typedef struct TgExport TgExport;
extern TgExport *tg_export_walk(TgPurge *p, const char *targets);
extern uint64 tg_export_rows(TgExport *x);

/* Refuse callers that are not admins ("permission denied to <what>"). */
extern void tg_require_admin(const char *what);

/* Admin check, SPI_connect, tenants table and parsed id of a call. */
extern void tg_export_begin(FunctionCallInfo fcinfo, const char *what, TgPurge *p,
							Datum *key, char **canon);

/* {"column": "type", ...} of a table, as the import spells the types. */
extern Jsonb *tg_export_columns(Oid relid);

/* Drop the walk's temp tables. */
extern void tg_export_drop(TgExport *x);

/* import.c: restore one export document (SPI connected); total rows. */
extern int64 tg_import_document(Datum doc, StringInfo counts);

#endif							/* TENANT_GUARD_EXPORT_H */
