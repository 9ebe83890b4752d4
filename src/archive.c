/*-------------------------------------------------------------------------
 *
 * archive.c
 *	  The purge's undo: each purged tenant's rows kept in
 *	  tenant_guard.purge_archive (one export document per tenant, linked to
 *	  its journal row), restore_purged_tenant() and prune_purge_archive().
 *
 * A real purge with archive => true captures the rows as it deletes
 * them: a key-set DELETE keeps each deleted row's address
 * (purge_match_at(), read back from its page by archive_at.c), the others
 * return the row (purge_delete.c); either way kept per tenant and table
 * in memory (export_doc.c).  So the archive holds exactly the rows deleted (other
 * tenants' rows a cycle reached included), whatever other transactions
 * do meanwhile, and the graph is walked once.  After the journal, each
 * tenant's document is written in jsonb's binary form from those rows,
 * and one archive row per tenant is inserted as the archive's owner,
 * TOAST-compressed (LZ4 where the server has it).
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
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "names.h"
#include "lookup.h"
#include "guarded.h"
#include "own_tables.h"
#include "export.h"
#include "safesql.h"
#include "archive.h"

#define TG_ARCHIVE_TABLE	"purge_archive"

/*
 * Steps 4-7 of the purge, each DELETE also returning its rows as jsonb
 * into p->capture (purge_delete.c): the archive holds exactly the rows
 * deleted, whatever other transactions do meanwhile.
 */
void
tg_archive_run(TgPurge *p)
{
	tg_plan(p);
	p->capture = tg_capture_create(p->ntargets, list_length(p->tables));
	tg_run_counted(p);
}

/*
 * After the journal: one archive row per purged tenant, its document
 * written from the rows captured, linked to the tenant's journal row of
 * this transaction.
 */
void
tg_archive_write(TgPurge *p)
{
	TgCapture  *c = p->capture;
	int			ntables = list_length(p->tables);
	TgDocTable *tables = palloc0(sizeof(TgDocTable) * ntables);
	int64	   *journal;
	TimestampTz start = GetCurrentTimestamp();
	ListCell   *lc;
	Oid			argtypes[5] = {TEXTOID, INT8OID, TEXTOID, INT8OID, JSONBOID};
	Datum		args[5];
	SPIPlanPtr	insert;
	int			rc;
	uint64		archived = 0;
	Oid			save_userid;
	int			save_sec;
	int			nest;

	if (c == NULL)
		elog(ERROR, "purge archive: no rows were captured");
	foreach(lc, p->tables)
	{
		TgTable    *t = lfirst(lc);

		tables[t->index].qualname = t->qualname;
		if (tg_capture_table_used(c, t->index))
			tables[t->index].columns = tg_export_columns(t->relid);
	}

	/* the journal rows this purge wrote, by tenant ordinal (step 8) */
	if (p->journal_ids == NULL)
		elog(ERROR, "purge archive: the journal was not written");
	journal = p->journal_ids;

	/*
	 * One INSERT per tenant, as the archive's owner past its write guard;
	 * TOAST compresses each document: with LZ4 (where the server has it)
	 * several times faster than with pglz.
	 */
	insert = SPI_prepare("INSERT INTO " TG_SCHEMA "." TG_ARCHIVE_TABLE
						 " (tenant_table, journal_id, tenant_id, row_count, export)"
						 " VALUES ($1, $2, $3, $4, $5)", 5, argtypes);
	if (insert == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	/*
	 * Rows are written as jsonb here (export_doc.c), with the output
	 * functions of their types: under the purge's own output settings
	 * again, which code it ran since its DELETEs (a trigger of an ON
	 * DELETE SET NULL update) may have changed with SET LOCAL or
	 * set_config(..., true).
	 */
	nest = tg_pin_key_output();
	/* and its search_path, which the text of regclass, regtype ... follows */
	tg_set_catalog_search_path();
#ifdef USE_LZ4
	(void) set_config_option("default_toast_compression", "lz4",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
#endif
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(tg_relation_owner(tg_extension_relid(TG_ARCHIVE_TABLE)),
						   save_sec | SECURITY_LOCAL_USERID_CHANGE);
	for (int ord = 1; ord <= p->ntargets; ord++)
	{
		int64		nrows = 0;
		Jsonb	   *doc;

		for (int i = 0; i < ntables; i++)
		{
			tables[i].rows = tg_capture_rows(c, ord, i);
			if (tables[i].rows)
				nrows += tables[i].rows->nrows;
		}
		if (nrows == 0)
			continue;			/* gone meanwhile: not purged */
		if (journal[ord] == 0)
			elog(ERROR, "purge archive: tenant \"%s\" has no journal row", p->targets[ord].id);
		doc = tg_doc_build(p->root_name, p->targets[ord].id, tables, ntables);
		args[0] = CStringGetTextDatum(p->root_label);
		args[1] = Int64GetDatum(journal[ord]);
		args[2] = CStringGetTextDatum(p->targets[ord].id);
		args[3] = Int64GetDatum(nrows);
		args[4] = JsonbPGetDatum(doc);
		rc = tg_own_write_plan(insert, args, NULL);
		if (rc != SPI_OK_INSERT)
			elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
		pfree(doc);
		archived++;
		CHECK_FOR_INTERRUPTS();
	}
	SetUserIdAndSecContext(save_userid, save_sec);
	AtEOXact_GUC(true, nest);
	SPI_freeplan(insert);
	elog(DEBUG1, "tenant_guard purge archive: " UINT64_FORMAT " tenants, %zu bytes of rows, written in %.1f ms",
		 archived, tg_capture_bytes(c), (double) (GetCurrentTimestamp() - start) / 1000.0);
	tg_capture_free(c);
	p->capture = NULL;
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

/*
 * prune_purge_archive(older_than interval) RETURNS bigint: archives
 * dropped; logged.
 */
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
	/* the archive is evidence: say who dropped what */
	ereport(LOG,
			(errmsg("tenant_guard: prune_purge_archive() by \"%s\" dropped " UINT64_FORMAT " archived tenants purged more than %s ago",
					GetUserNameFromId(GetUserId(), false), n,
					DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(older))))));
	PG_RETURN_INT64((int64) n);
}
