/*-------------------------------------------------------------------------
 *
 * import.c
 *	  tenant_guard.import_tenant(): put an export (export.c) back, all or
 *	  nothing, ids kept, sequences untouched.
 *
 * First every check, before any row is written: the document's format,
 * each table exists (42P01), each exported column exists (42703) with the
 * same type, typmod included (42804), and the caller may INSERT into and
 * SELECT from each table (42501).  Then, table after table, the rows go
 * in with session_replication_role = replica, as pg_restore
 * --disable-triggers loads data: triggers and rules of the tables (the
 * guard, which would refuse a purged test tenant again, the rate limits,
 * audit triggers) do not fire, and neither do PostgreSQL's per-row
 * foreign-key checks, so cycles and self-references load in any order.
 * PostgreSQL lets only a table's owner insert with its triggers off: a
 * caller who does not own a table may import into it only where no
 * trigger or rule of its own would be skipped (42501).
 * Unique indexes do apply: a row that exists already fails with 23505; a
 * table without a unique index is checked row by row (the whole row
 * equal) first.  Last, the foreign keys of every restored row are checked
 * here, set-based, with the constraints' own operators (23503): nothing
 * restored may point at a row that is not there.  Any error rolls back
 * the whole call.  Generated columns are recomputed, identity columns
 * keep their values (OVERRIDING SYSTEM VALUE).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/ruleutils.h"

#include "names.h"
#include "lookup.h"
#include "export.h"
#include "safesql.h"

/* One table of the document. */
typedef struct TgImTable
{
	char	   *name;			/* as in the document */
	Oid			relid;
	char	   *qualname;
	char		relkind;
	char	   *columns;		/* jsonb text */
	Datum		rows;			/* jsonb array */
	char	   *collist;		/* columns to insert */
	char	   *tmp;			/* the restored rows */
} TgImTable;

/* What an error during the restore of a table is about. */
static void
tg_import_context(void *arg)
{
	errcontext("restoring rows of table %s", (const char *) arg);
}

/* A one-row, one-column text query with one jsonb or oid parameter. */
static char *
tg_im_value(const char *sql, Oid type, Datum arg)
{
	Oid			argtypes[1];
	Datum		args[1];
	int			rc;

	argtypes[0] = type;
	args[0] = arg;
	rc = SPI_execute_with_args(sql, 1, argtypes, args, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		return NULL;
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

/* Refuse a document that is not an export. */
static void
tg_im_check_format(Datum doc)
{
	char	   *ok = tg_im_value("SELECT ($1 OPERATOR(pg_catalog.->>) 'format') OPERATOR(pg_catalog.=) '"
								 TG_EXPORT_FORMAT "' AND ($1 OPERATOR(pg_catalog.->>) 'version')"
								 " OPERATOR(pg_catalog.=) '1' AND pg_catalog.jsonb_typeof($1"
								 " OPERATOR(pg_catalog.->) 'tables') OPERATOR(pg_catalog.=) 'array'"
								 " AND NOT EXISTS (SELECT FROM pg_catalog.jsonb_array_elements($1"
								 " OPERATOR(pg_catalog.->) 'tables') t WHERE pg_catalog.jsonb_typeof(t)"
								 " OPERATOR(pg_catalog.<>) 'object' OR pg_catalog.jsonb_typeof(t"
								 " OPERATOR(pg_catalog.->) 'table') IS DISTINCT FROM 'string'"
								 " OR pg_catalog.jsonb_typeof(t OPERATOR(pg_catalog.->) 'columns')"
								 " IS DISTINCT FROM 'object' OR pg_catalog.jsonb_typeof(t"
								 " OPERATOR(pg_catalog.->) 'rows') IS DISTINCT FROM 'array')",
								 JSONBOID, doc);

	if (ok == NULL || strcmp(ok, "t") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("not a tenant_guard export"),
				 errdetail("An export is a document made by tenant_guard.export_tenant_document() (format \"%s\", version %d). Nothing was restored.",
						   TG_EXPORT_FORMAT, TG_EXPORT_VERSION)));
}

/* The tables of the document, in its order. */
static List *
tg_im_tables(Datum doc)
{
	Oid			argtypes[1] = {JSONBOID};
	Datum		args[1];
	List	   *tables = NIL;
	int			rc;

	args[0] = doc;
	rc = SPI_execute_with_args("SELECT t.value OPERATOR(pg_catalog.->>) 'table',"
							   " (t.value OPERATOR(pg_catalog.->) 'columns')::pg_catalog.text,"
							   " t.value OPERATOR(pg_catalog.->) 'rows'"
							   " FROM pg_catalog.jsonb_array_elements($1 OPERATOR(pg_catalog.->) 'tables')"
							   " WITH ORDINALITY t ORDER BY t.ordinality",
							   1, argtypes, args, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		TgImTable  *t = palloc0(sizeof(TgImTable));
		bool		isnull;

		t->name = SPI_getvalue(tup, desc, 1);
		t->columns = SPI_getvalue(tup, desc, 2);
		t->rows = SPI_getbinval(tup, desc, 3, &isnull);
		t->tmp = psprintf("pg_temp.tg_import_%d", (int) i + 1);
		tables = lappend(tables, t);
	}
	return tables;
}

/*
 * Tables an import never writes.  The import runs with
 * session_replication_role = replica, so a statement trigger does not
 * fire: the write_guard of the extension's own tables (the log, the
 * journal, the archive, the rules), which keeps pg_write_all_data out,
 * would be skipped, as would the system catalogs' own rules.  And a
 * DEFERRABLE unique or exclusion constraint checks its rows in an AFTER
 * trigger, which the replica role skips too: duplicates would go in
 * silently.  All of these are refused before anything is written.
 */
static void
tg_im_check_target(TgImTable *t)
{
	Oid			nsp = get_rel_namespace(t->relid);
	Oid			ext;
	char	   *deferred;

	if (tg_system_namespace(nsp) || tg_extension_table(t->relid, nsp, &ext))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("import_tenant() does not write table %s", t->qualname),
				 errdetail("An import writes only tables of your own schemas, not system tables or an extension's tables. Nothing was restored.")));
	deferred = tg_im_value("SELECT c.relname::pg_catalog.text FROM pg_catalog.pg_index i"
						   " JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.indexrelid"
						   " WHERE (i.indrelid OPERATOR(pg_catalog.=) $1 OR i.indrelid OPERATOR(pg_catalog.=) ANY"
						   "  (SELECT r.relid FROM pg_catalog.pg_partition_tree($1) r))"
						   " AND NOT i.indimmediate ORDER BY c.relname LIMIT 1",
						   REGCLASSOID, ObjectIdGetDatum(t->relid));
	if (deferred != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("table %s has a deferrable unique or exclusion constraint (index \"%s\")",
						t->qualname, deferred),
				 errdetail("An import inserts with triggers off, and such a constraint checks its rows in a trigger: duplicates would go in unchecked. Nothing was restored."),
				 errhint("Re-create the constraint NOT DEFERRABLE for the import, or insert that table's rows yourself.")));
}

/*
 * Inserting with a table's triggers and rules off is what PostgreSQL lets
 * only the table's owner do (ALTER TABLE ... DISABLE TRIGGER, pg_restore
 * --disable-triggers): a caller who does not own t may import into it
 * only if no trigger or rule of its own would be skipped (the extension's,
 * the foreign keys' and ENABLE ALWAYS ones aside).
 */
static void
tg_im_check_skipped(TgImTable *t)
{
	char	   *skipped;

	if (pg_class_ownercheck(t->relid, GetUserId()))
		return;
	skipped = tg_im_value("SELECT x.what FROM ("
						  " SELECT 1 AS k, 'trigger \"' OPERATOR(pg_catalog.||) g.tgname OPERATOR(pg_catalog.||) '\"' AS what,"
						  "  g.tgrelid AS rel FROM pg_catalog.pg_trigger g"
						  "  WHERE NOT g.tgisinternal AND g.tgenabled OPERATOR(pg_catalog.=) 'O'"
						  "  AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d"
						  "   JOIN pg_catalog.pg_extension e ON e.oid OPERATOR(pg_catalog.=) d.refobjid"
						  "   WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass"
						  "   AND d.objid OPERATOR(pg_catalog.=) g.tgfoid"
						  "   AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass"
						  "   AND d.deptype OPERATOR(pg_catalog.=) 'e' AND e.extname OPERATOR(pg_catalog.=) 'tenant_guard')"
						  " UNION ALL"
						  " SELECT 2, 'rule \"' OPERATOR(pg_catalog.||) r.rulename OPERATOR(pg_catalog.||) '\"', r.ev_class"
						  "  FROM pg_catalog.pg_rewrite r WHERE r.ev_enabled OPERATOR(pg_catalog.=) 'O') x"
						  " WHERE x.rel OPERATOR(pg_catalog.=) $1 OR x.rel OPERATOR(pg_catalog.=) ANY"
						  "  (SELECT p.relid FROM pg_catalog.pg_partition_tree($1) p)"
						  " ORDER BY x.k, x.what LIMIT 1",
						  REGCLASSOID, ObjectIdGetDatum(t->relid));
	if (skipped != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("import_tenant() would skip %s of table %s", skipped, t->qualname),
				 errdetail("An import inserts with the tables' triggers and rules off, which only a table's owner may do. Nothing was restored."),
				 errhint("Let the owner of %s or a superuser run the import (a trigger that must fire during imports too can be made ENABLE ALWAYS).",
						 t->qualname)));
}

/* Does t exist, may the caller write it, do its columns match? */
static void
tg_im_check_table(TgImTable *t)
{
	List	   *names;
	Oid			argtypes[2] = {TEXTOID, OIDOID};
	Datum		args[2];
	StringInfoData cols;
	int			rc;

	names = stringToQualifiedNameList(t->name);
	t->relid = RangeVarGetRelid(makeRangeVarFromNameList(names), NoLock, true);
	if (!OidIsValid(t->relid) ||
		(get_rel_relkind(t->relid) != RELKIND_RELATION &&
		 get_rel_relkind(t->relid) != RELKIND_PARTITIONED_TABLE))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table %s of the export does not exist", t->name),
				 errdetail("Nothing was restored.")));
	t->relkind = get_rel_relkind(t->relid);
	tg_rel_names(t->relid, &t->qualname, NULL);
	tg_im_check_target(t);
	if (pg_class_aclcheck(t->relid, GetUserId(), ACL_INSERT) != ACLCHECK_OK ||
		pg_class_aclcheck(t->relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", t->qualname),
				 errdetail("import_tenant() needs INSERT and SELECT on every table of the export. Nothing was restored.")));
	tg_im_check_skipped(t);

	args[0] = CStringGetTextDatum(t->columns);
	args[1] = ObjectIdGetDatum(t->relid);
	rc = SPI_execute_with_args("SELECT c.key, c.value OPERATOR(pg_catalog.#>>) '{}',"
							   " pg_catalog.format_type(a.atttypid, a.atttypmod), a.attgenerated"
							   " FROM pg_catalog.jsonb_each($1::pg_catalog.jsonb) c"
							   " LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) $2"
							   "  AND a.attname OPERATOR(pg_catalog.=) c.key"
							   "  AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped"
							   " ORDER BY a.attnum",
							   2, argtypes, args, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	initStringInfo(&cols);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *col = SPI_getvalue(tup, desc, 1);
		char	   *type = SPI_getvalue(tup, desc, 2);
		char	   *have = SPI_getvalue(tup, desc, 3);
		char	   *gen = SPI_getvalue(tup, desc, 4);

		if (have == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of table %s of the export does not exist", col, t->qualname),
					 errdetail("Nothing was restored.")));
		if (type == NULL || strcmp(type, have) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of table %s is of type %s, the export's is %s",
							col, t->qualname, have, type ? type : "?"),
					 errdetail("Nothing was restored.")));
		if (gen != NULL && gen[0] != '\0')
			continue;			/* generated: recomputed */
		appendStringInfo(&cols, "%s%s", cols.len > 0 ? ", " : "", quote_identifier(col));
	}
	if (cols.len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the export lists no column to restore of table %s", t->qualname),
				 errdetail("Nothing was restored.")));
	t->collist = cols.data;
}

/*
 * Refuse rows that exist already in a table without a unique index (a
 * partial one refuses only the rows its predicate covers).
 */
static void
tg_im_check_duplicates(TgImTable *t)
{
	char	   *n;

	if (strcmp(tg_im_value("SELECT EXISTS (SELECT FROM pg_catalog.pg_index i"
						   " WHERE i.indrelid OPERATOR(pg_catalog.=) $1 AND i.indisunique"
						   " AND i.indpred IS NULL)",
						   OIDOID, ObjectIdGetDatum(t->relid)), "t") == 0)
		return;					/* the index refuses duplicates itself */
	n = tg_im_value(psprintf("SELECT pg_catalog.count(*) FROM %s%s t"
							 " WHERE pg_catalog.to_jsonb(t) OPERATOR(pg_catalog.=) ANY"
							 " (SELECT r FROM pg_catalog.jsonb_array_elements($1) r)",
							 t->relkind == RELKIND_PARTITIONED_TABLE ? "" : "ONLY ", t->qualname),
					JSONBOID, t->rows);
	if (n != NULL && strcmp(n, "0") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("%s row(s) of table %s in the export exist already", n, t->qualname),
				 errdetail("Nothing was restored.")));
}

/* Insert t's rows, keeping them (with tableoid) in t->tmp; row count. */
static uint64
tg_im_insert(TgImTable *t)
{
	Oid			argtypes[1] = {JSONBOID};
	Datum		args[1];
	int			rc;
	ErrorContextCallback cb;

	tg_exec(psprintf("CREATE TEMP TABLE %s ON COMMIT DROP AS"
					 " SELECT t.tableoid AS tg_rel, t.* FROM %s t WITH NO DATA",
					 t->tmp, t->qualname));
	cb.callback = tg_import_context;
	cb.arg = t->qualname;
	cb.previous = error_context_stack;
	error_context_stack = &cb;
	args[0] = t->rows;
	rc = SPI_execute_with_args(psprintf("WITH ins AS (INSERT INTO %s AS t (%s) OVERRIDING SYSTEM VALUE"
										" SELECT %s FROM pg_catalog.jsonb_populate_recordset(NULL::%s, $1)"
										" RETURNING t.tableoid, t.*)"
										" INSERT INTO %s SELECT * FROM ins",
										t->qualname, t->collist, t->collist, t->qualname, t->tmp),
							   1, argtypes, args, NULL, false, 0);
	error_context_stack = cb.previous;
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

/*
 * The parent side of a foreign key column, with the child column's
 * collation when it differs (as PostgreSQL's RI checks compare).
 */
static char *
tg_im_parent_operand(Oid parent, const char *pcol, Oid child, const char *ccol)
{
	char	   *expr = psprintf("p.%s", quote_identifier(pcol));
	Oid			typid;
	int32		typmod;
	Oid			pcoll;
	Oid			ccoll;

	get_atttypetypmodcoll(parent, get_attnum(parent, pcol), &typid, &typmod, &pcoll);
	get_atttypetypmodcoll(child, get_attnum(child, ccol), &typid, &typmod, &ccoll);
	if (!OidIsValid(ccoll) || pcoll == ccoll)
		return expr;
	return psprintf("(%s) COLLATE %s", expr, generate_collation_name(ccoll));
}

/* Check the foreign keys of the rows restored into t (23503). */
static void
tg_im_check_fks(TgImTable *t)
{
	static const char *sql =
		"SELECT c.conname::pg_catalog.text, c.conrelid, c.confrelid, c.confmatchtype,"
		"  c.conrelid OPERATOR(pg_catalog.<>) $1"
		"   AND c.conrelid OPERATOR(pg_catalog.=) ANY (SELECT r.relid FROM pg_catalog.pg_partition_tree($1) r),"
		"  ARRAY(SELECT a.attname::pg_catalog.text"
		"          FROM pg_catalog.unnest(c.conkey) WITH ORDINALITY k(n, i)"
		"          JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.conrelid AND a.attnum OPERATOR(pg_catalog.=) k.n"
		"         ORDER BY k.i),"
		"  ARRAY(SELECT a.attname::pg_catalog.text"
		"          FROM pg_catalog.unnest(c.confkey) WITH ORDINALITY k(n, i)"
		"          JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.confrelid AND a.attnum OPERATOR(pg_catalog.=) k.n"
		"         ORDER BY k.i),"
		"  c.conpfeqop"
		" FROM pg_catalog.pg_constraint c"
		" WHERE c.contype OPERATOR(pg_catalog.=) 'f' AND c.conparentid OPERATOR(pg_catalog.=) 0"
		"   AND (c.conrelid OPERATOR(pg_catalog.=) $1"
		"        OR c.conrelid OPERATOR(pg_catalog.=) ANY (SELECT a.relid FROM pg_catalog.pg_partition_ancestors($1) a)"
		"        OR c.conrelid OPERATOR(pg_catalog.=) ANY (SELECT r.relid FROM pg_catalog.pg_partition_tree($1) r))"
		" ORDER BY c.conname";
	Oid			argtypes[1] = {REGCLASSOID};
	Datum		args[1];
	int			rc;
	SPITupleTable *cons;
	uint64		ncons;

	args[0] = ObjectIdGetDatum(t->relid);
	rc = SPI_execute_with_args(sql, 1, argtypes, args, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	cons = SPI_tuptable;
	ncons = SPI_processed;
	for (uint64 i = 0; i < ncons; i++)
	{
		HeapTuple	tup = cons->vals[i];
		TupleDesc	desc = cons->tupdesc;
		bool		isnull;
		char	   *conname = SPI_getvalue(tup, desc, 1);
		Oid			conrel = DatumGetObjectId(SPI_getbinval(tup, desc, 2, &isnull));
		Oid			confrel = DatumGetObjectId(SPI_getbinval(tup, desc, 3, &isnull));
		char		match = DatumGetChar(SPI_getbinval(tup, desc, 4, &isnull));
		bool		partition = DatumGetBool(SPI_getbinval(tup, desc, 5, &isnull));
		Datum	   *ccols;
		Datum	   *pcols;
		Datum	   *opd;
		Oid		   *ops;
		int			n;
		StringInfoData q;
		StringInfoData allset;
		StringInfoData vals;
		StringInfoData colnames;
		char	   *pqual;
		char	   *bad;

		deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(tup, desc, 6, &isnull)),
						  TEXTOID, -1, false, TYPALIGN_INT, &ccols, NULL, &n);
		deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(tup, desc, 7, &isnull)),
						  TEXTOID, -1, false, TYPALIGN_INT, &pcols, NULL, &n);
		deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(tup, desc, 8, &isnull)),
						  OIDOID, sizeof(Oid), true, TYPALIGN_INT, &opd, NULL, &n);
		ops = palloc(sizeof(Oid) * n);
		for (int k = 0; k < n; k++)
			ops[k] = DatumGetObjectId(opd[k]);
		tg_rel_names(confrel, &pqual, NULL);

		initStringInfo(&allset);
		initStringInfo(&vals);
		initStringInfo(&colnames);
		initStringInfo(&q);
		for (int k = 0; k < n; k++)
		{
			char	   *cc = TextDatumGetCString(ccols[k]);

			appendStringInfo(&allset, "%si.%s IS NOT NULL", k > 0 ? " AND " : "", quote_identifier(cc));
			appendStringInfo(&vals, "%si.%s::pg_catalog.text", k > 0 ? ", " : "", quote_identifier(cc));
			appendStringInfo(&colnames, "%s%s", k > 0 ? ", " : "", cc);
		}
		/* a violation: all columns set and no parent; MATCH FULL: some set */
		appendStringInfo(&q, "SELECT pg_catalog.concat_ws(', ', %s) FROM %s i WHERE ((%s)"
						 " AND NOT EXISTS (SELECT FROM %s%s p WHERE ",
						 vals.data, t->tmp, allset.data,
						 get_rel_relkind(confrel) == RELKIND_PARTITIONED_TABLE ? "" : "ONLY ", pqual);
		for (int k = 0; k < n; k++)
		{
			char	   *cc = TextDatumGetCString(ccols[k]);
			char	   *pc = TextDatumGetCString(pcols[k]);

			appendStringInfo(&q, "%s%s", k > 0 ? " AND " : "",
							 tg_eq_sql(ops[k],
									   tg_im_parent_operand(confrel, pc, conrel, cc),
									   psprintf("i.%s", quote_identifier(cc))));
		}
		appendStringInfoString(&q, ")");
		if (match == 'f' && n > 1)
			appendStringInfo(&q, " OR (NOT (%s) AND pg_catalog.num_nonnulls(%s) OPERATOR(pg_catalog.>) 0)",
							 allset.data, vals.data);
		appendStringInfoString(&q, ")");
		/* a constraint of one partition: only the rows that went there */
		if (partition)
			appendStringInfo(&q, " AND i.tg_rel OPERATOR(pg_catalog.=) ANY (SELECT r.relid FROM pg_catalog.pg_partition_tree(%u::pg_catalog.oid::pg_catalog.regclass) r)",
							 conrel);
		appendStringInfoString(&q, " LIMIT 1");
		rc = SPI_execute(q.data, false, 1);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute failed: %s (%s)", SPI_result_code_string(rc), q.data);
		if (SPI_processed == 0)
			continue;
		bad = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("restored rows of table %s violate foreign key constraint \"%s\"",
						t->qualname, conname),
				 errdetail("Key (%s)=(%s) is not present in table %s. Nothing was restored.",
						   colnames.data, bad ? bad : "", pqual),
				 errhint("Restore the rows it references first (another tenant's export, say).")));
	}
}

int64
tg_import_document(Datum doc, StringInfo counts)
{
	List	   *tables;
	ListCell   *lc;
	int64		total = 0;
	int			nest;

	tg_im_check_format(doc);
	tables = tg_im_tables(doc);
	foreach(lc, tables)
		tg_im_check_table(lfirst(lc));

	nest = NewGUCNestLevel();
	/* triggers, rules and per-row RI checks off: see the file header */
	(void) set_config_option("session_replication_role", "replica",
							 PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	/* a policy must not hide existing rows from the duplicate checks */
	(void) set_config_option("row_security", "off",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	appendStringInfoChar(counts, '{');
	foreach(lc, tables)
	{
		TgImTable  *t = lfirst(lc);
		uint64		n;

		tg_im_check_duplicates(t);
		n = tg_im_insert(t);
		total += n;
		if (foreach_current_index(lc) > 0)
			appendStringInfoString(counts, ", ");
		escape_json(counts, t->qualname);
		appendStringInfo(counts, ": " UINT64_FORMAT, n);
	}
	appendStringInfoChar(counts, '}');
	foreach(lc, tables)
		tg_im_check_fks(lfirst(lc));
	AtEOXact_GUC(true, nest);
	foreach(lc, tables)
		tg_exec(psprintf("DROP TABLE %s", ((TgImTable *) lfirst(lc))->tmp));
	return total;
}

PG_FUNCTION_INFO_V1(import_tenant);

/* import_tenant(export jsonb) RETURNS jsonb: rows restored per table. */
Datum
import_tenant(PG_FUNCTION_ARGS)
{
	StringInfoData counts;
	int64		total;
	Datum		result;

	tg_require_admin("import tenants");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the export must not be null")));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	initStringInfo(&counts);
	total = tg_import_document(PG_GETARG_DATUM(0), &counts);
	ereport(LOG,
			(errmsg("tenant_guard: import_tenant() by \"%s\" restored " INT64_FORMAT " rows with triggers off: %s",
					GetUserNameFromId(GetUserId(), false), total, counts.data)));
	result = DirectFunctionCall1(jsonb_in, CStringGetDatum(counts.data));
	result = SPI_datumTransfer(result, false, -1);
	SPI_finish();
	PG_RETURN_DATUM(result);
}
