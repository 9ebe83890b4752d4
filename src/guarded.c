/*-------------------------------------------------------------------------
 *
 * guarded.c
 *	  The guarded tables with a key column and the tenant ids that name
 *	  their rows: what protect()/unprotect() and the purge both start from.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/resowner.h"

#include "names.h"
#include "guarded.h"

/*
 * Parse text as a value of typid, without raising an error: false when it
 * does not parse.  On success *value is the parsed Datum and *canonical its
 * text output, both allocated in the caller's memory context.  The attempt
 * runs in a subtransaction (PostgreSQL 15 has no soft input errors).
 */
bool
tg_parse_tenant_id(const char *text, Oid typid, Datum *value, char **canonical)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile bool ok = false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		Oid			infunc;
		Oid			ioparam;
		Oid			outfunc;
		bool		varlena;

		getTypeInputInfo(typid, &infunc, &ioparam);
		*value = OidInputFunctionCall(infunc, unconstify(char *, text), ioparam, -1);
		getTypeOutputInfo(typid, &outfunc, &varlena);
		*canonical = OidOutputFunctionCall(outfunc, *value);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		ok = true;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcontext);
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_END_TRY();
	return ok;
}

/* An id shortened for messages: at most about 64 bytes, then "...". */
char *
tg_abbrev_id(const char *id)
{
	int			len = strlen(id);
	int			clip;

	if (len <= 64)
		return pstrdup(id);
	clip = pg_mbcliplen(id, len, 60);
	return psprintf("%.*s...", clip, id);
}

/*
 * The guarded tables that have a key, oldest attachment first (SPI
 * connected): what protect()/unprotect() look through and what a purge
 * starts from.
 */
List *
tg_guarded_with_keys(void)
{
	List	   *result = NIL;
	int			rc;

	rc = SPI_execute("SELECT g.tbl::pg_catalog.oid, g.id_column::pg_catalog.text,"
					 " a.atttypid, c.relowner, c.relkind, g.name_column::pg_catalog.text,"
					 " g.subdomain_column::pg_catalog.text, g.email_column::pg_catalog.text"
					 " FROM " TG_SCHEMA "." TG_GUARDED_TABLE " g"
					 " JOIN pg_catalog.pg_class c"
					 "  ON c.oid OPERATOR(pg_catalog.=) g.tbl::pg_catalog.oid"
					 " JOIN pg_catalog.pg_attribute a"
					 "  ON a.attrelid OPERATOR(pg_catalog.=) g.tbl::pg_catalog.oid"
					 "  AND a.attname OPERATOR(pg_catalog.=) g.id_column AND NOT a.attisdropped"
					 " WHERE g.id_column IS NOT NULL ORDER BY g.attached_at, 1",
					 false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		TgGuarded  *g = palloc(sizeof(TgGuarded));
		bool		isnull;

		g->relid = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
		g->keycol = SPI_getvalue(tup, desc, 2);
		g->keytype = DatumGetObjectId(SPI_getbinval(tup, desc, 3, &isnull));
		g->owner = DatumGetObjectId(SPI_getbinval(tup, desc, 4, &isnull));
		g->relkind = DatumGetChar(SPI_getbinval(tup, desc, 5, &isnull));
		for (int f = 0; f < TG_NUM_FIELDS; f++)
			g->fieldcol[f] = SPI_getvalue(tup, desc, 6 + f);
		g->relname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(g->relid)),
												get_rel_name(g->relid));
		result = lappend(result, g);
	}
	return result;
}
