/*-------------------------------------------------------------------------
 *
 * archive.c
 *	  The purge's undo: each purged tenant's rows kept in
 *	  tenant_guard.purge_archive (one export document per tenant, linked to
 *	  its journal row), restore_purged_tenant() and prune_purge_archive().
 *
 * A real purge with archive => true walks the graph before it deletes
 * (export.c, in "whole" mode: every row the purge deletes, other tenants
 * reached through a cycle included, each row once), keeps the documents
 * in a temp table, and after the journal writes one archive row per
 * tenant as the archive's owner.  Rows inserted by others between the
 * walk and the deletes would be deleted without being archived: the purge
 * compares the rows archived with the rows deleted and, when they differ,
 * rolls back and goes again (tg_archive_run), failing with 40001 (nothing
 * purged) after three attempts.
 *
 * The archive is evidence: nobody updates it (write_guard), rows go only
 * through prune_purge_archive(); admins read it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "tenant_guard.h"
#include "own_tables.h"
#include "export.h"
#include "safesql.h"
#include "archive.h"

#define TG_ARCHIVE_TABLE	"purge_archive"
#define TG_ARCHIVE_DOCS		"pg_temp.tg_purge_archive_docs"

/* tg_export_documents() callback: one tenant's document to the temp table. */
static void
tg_archive_keep(int ord, Jsonb *doc, int64 nrows, void *arg)
{
	Oid			argtypes[2] = {JSONBOID, INT8OID};
	Datum		args[2];
	int			rc;

	(void) ord;
	(void) arg;
	args[0] = JsonbPGetDatum(doc);
	args[1] = Int64GetDatum(nrows);
	rc = SPI_execute_with_args("INSERT INTO " TG_ARCHIVE_DOCS " VALUES ($1, $2)",
							   2, argtypes, args, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
}

/* Collect the purge's targets' rows (before the deletes); rows found. */
static uint64
tg_archive_collect(TgPurge *p)
{
	TimestampTz start = GetCurrentTimestamp();
	TgExport   *x = tg_export_walk(p, "pg_temp.tg_purge_targets", true);
	uint64		rows = tg_export_rows(x);
	TimestampTz walked = GetCurrentTimestamp();

	/* kept uncompressed here: the archive compresses them once */
	tg_exec("CREATE TEMP TABLE " TG_ARCHIVE_DOCS " (doc pg_catalog.jsonb, nrows pg_catalog.int8)"
			" ON COMMIT DROP");
	tg_exec("ALTER TABLE " TG_ARCHIVE_DOCS " ALTER doc SET STORAGE EXTERNAL");
	tg_export_documents(x, tg_archive_keep, NULL);
	tg_export_drop(x);
	elog(DEBUG1, "tenant_guard purge archive: " UINT64_FORMAT " rows, walk %.1f ms, documents %.1f ms",
		 rows, (double) (walked - start) / 1000.0,
		 (double) (GetCurrentTimestamp() - walked) / 1000.0);
	return rows;
}

/* Rows the purge deleted, all tenants and tables together. */
static uint64
tg_archive_deleted(TgPurge *p)
{
	uint64		deleted = 0;
	ListCell   *lc;

	foreach(lc, p->tables)
	{
		TgTable    *t = lfirst(lc);

		for (int ord = 1; ord <= p->ntargets; ord++)
			deleted += t->deleted[ord];
	}
	return deleted;
}

/*
 * Steps 4-7 with the rows collected first, in a subtransaction; when the
 * rows deleted are not the rows collected (a concurrent transaction
 * committed rows under a purged tenant, or deleted some, between the walk
 * and the deletes), roll back and go again, up to TG_ARCHIVE_ATTEMPTS
 * times: each walk sees what committed before it.
 */
#define TG_ARCHIVE_ATTEMPTS 3

void
tg_archive_run(TgPurge *p)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	tg_plan(p);
	for (int attempt = 1;; attempt++)
	{
		uint64		collected = 0;
		uint64		deleted;

		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(cxt);
		PG_TRY();
		{
			collected = tg_archive_collect(p);
			tg_run_counted(p);
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(cxt);
			edata = CopyErrorData();
			FlushErrorState();
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt);
			CurrentResourceOwner = owner;
			ReThrowError(edata);
		}
		PG_END_TRY();
		deleted = tg_archive_deleted(p);
		if (deleted == collected)
		{
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt);
			CurrentResourceOwner = owner;
			return;
		}
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		if (attempt == TG_ARCHIVE_ATTEMPTS)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("purge archive incomplete: " UINT64_FORMAT " rows archived, " UINT64_FORMAT " deleted",
							collected, deleted),
					 errdetail("Rows under the purged tenants kept changing while the purge ran (%d attempts). Nothing was purged.",
							   attempt),
					 errhint("Run the purge again, or with archive => false.")));
		elog(DEBUG1, "tenant_guard purge: " UINT64_FORMAT " rows archived, " UINT64_FORMAT " deleted; again",
			 collected, deleted);
		tg_run_reset(p);
	}
}

/* After the journal: one archive row per purged tenant. */
void
tg_archive_write(TgPurge *p)
{
	int			rc;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	Oid			save_userid;
	int			save_sec;

	args[0] = CStringGetTextDatum(p->root_label);
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(tg_relation_owner(tg_extension_relid(TG_ARCHIVE_TABLE)),
						   save_sec | SECURITY_LOCAL_USERID_CHANGE);
	rc = tg_own_write_spi("INSERT INTO " TG_SCHEMA "." TG_ARCHIVE_TABLE
						  " (journal_id, tenant_table, tenant_id, row_count, export)"
						  " SELECT j.id, j.tenant_table, j.tenant_id, d.nrows, d.doc"
						  " FROM " TG_ARCHIVE_DOCS " d"
						  " CROSS JOIN LATERAL (SELECT j.id, j.tenant_table, j.tenant_id"
						  "  FROM " TG_SCHEMA "." TG_JOURNAL_TABLE " j"
						  "  WHERE j.purge_xid OPERATOR(pg_catalog.=) pg_catalog.pg_current_xact_id()"
						  "    AND j.tenant_table OPERATOR(pg_catalog.=) $1"
						  "    AND j.tenant_id OPERATOR(pg_catalog.=)"
						  "        (d.doc OPERATOR(pg_catalog.->>) 'tenant_id')"
						  "  ORDER BY j.id DESC LIMIT 1) j",
						  1, argtypes, args, NULL, 0);
	SetUserIdAndSecContext(save_userid, save_sec);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	tg_exec("DROP TABLE " TG_ARCHIVE_DOCS);
}

PG_FUNCTION_INFO_V1(restore_purged_tenant);

/*
 * restore_purged_tenant(tenant_id text, tenants regclass) RETURNS jsonb:
 * import the latest archive of the tenant; rows restored per table.
 */
Datum
restore_purged_tenant(PG_FUNCTION_ARGS)
{
	TgPurge		p;
	Datum		key;
	char	   *canon;
	Oid			argtypes[2];
	Datum		args[2];
	int			rc;
	bool		isnull;
	Datum		doc;
	int64		journal_id;
	StringInfoData counts;
	int64		total;
	Datum		result;

	tg_export_begin(fcinfo, "restore tenants", &p, &key, &canon);

	/* re-created since: the import would collide; say so plainly */
	argtypes[0] = p.keytype;
	args[0] = key;
	rc = SPI_execute_with_args(psprintf("SELECT FROM %s%s r WHERE %s",
										p.root_kind == 'p' ? "" : "ONLY ", p.root_name,
										tg_eq_sql(p.keyeqop, psprintf("r.%s", quote_identifier(p.keycol)), "$1")),
							   1, argtypes, args, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("tenant \"%s\" exists in \"%s\"", tg_abbrev_id(canon), p.root_label),
				 errdetail("It has been re-created (or restored) since the purge. Nothing was restored."),
				 errhint("Export and delete the new one first, or restore the archive by hand with import_tenant().")));

	argtypes[0] = TEXTOID;
	args[0] = CStringGetTextDatum(p.root_label);
	argtypes[1] = TEXTOID;
	args[1] = CStringGetTextDatum(canon);
	rc = SPI_execute_with_args("SELECT a.journal_id, a.export FROM " TG_SCHEMA "." TG_ARCHIVE_TABLE " a"
							   " WHERE a.tenant_table OPERATOR(pg_catalog.=) $1"
							   "   AND a.tenant_id OPERATOR(pg_catalog.=) $2"
							   " ORDER BY a.journal_id DESC LIMIT 1",
							   2, argtypes, args, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("no archive of tenant \"%s\" of \"%s\"", tg_abbrev_id(canon), p.root_label),
				 errdetail("It was not purged, purged with archive => false, or its archive was pruned.")));
	journal_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	doc = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);

	initStringInfo(&counts);
	total = tg_import_document(doc, &counts);
	ereport(LOG,
			(errmsg("tenant_guard: restore_purged_tenant() by \"%s\" restored tenant \"%s\" of \"%s\" (purge journal id " INT64_FORMAT "), " INT64_FORMAT " rows with triggers off: %s",
					GetUserNameFromId(GetUserId(), false), canon, p.root_label, journal_id,
					total, counts.data)));
	result = DirectFunctionCall1(jsonb_in, CStringGetDatum(counts.data));
	result = SPI_datumTransfer(result, false, -1);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

PG_FUNCTION_INFO_V1(prune_purge_archive);

/* prune_purge_archive(older_than interval) RETURNS bigint: archives dropped. */
Datum
prune_purge_archive(PG_FUNCTION_ARGS)
{
	Interval   *older;
	Interval	zero;
	Oid			argtypes[1] = {INTERVALOID};
	Datum		args[1];
	Oid			save_userid;
	int			save_sec;
	int			rc;
	uint64		n;

	tg_require_admin("prune the purge archive");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("older_than must not be null")));
	older = PG_GETARG_INTERVAL_P(0);
	memset(&zero, 0, sizeof(zero));
	if (DatumGetInt32(DirectFunctionCall2(interval_cmp, IntervalPGetDatum(older),
										  IntervalPGetDatum(&zero))) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("older_than must not be negative")));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	args[0] = IntervalPGetDatum(older);
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(tg_relation_owner(tg_extension_relid(TG_ARCHIVE_TABLE)),
						   save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	rc = tg_own_write_spi("DELETE FROM " TG_SCHEMA "." TG_ARCHIVE_TABLE
						  " WHERE archived_at OPERATOR(pg_catalog.<)"
						  " (pg_catalog.now() OPERATOR(pg_catalog.-) $1)",
						  1, argtypes, args, NULL, 0);
	SetUserIdAndSecContext(save_userid, save_sec);
	if (rc != SPI_OK_DELETE)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	n = SPI_processed;
	SPI_finish();
	PG_RETURN_INT64((int64) n);
}
