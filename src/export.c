/*-------------------------------------------------------------------------
 *
 * export.c
 *	  tenant_guard.export_tenant_document(): every row of a tenant as one
 *	  jsonb document, found along the foreign-key graph the purge uses
 *	  (fkgraph.c, registered tenant tables); and the walk behind it, which
 *	  the purge's archive (archive.c) shares.
 *
 * The walk is the purge's, reading instead of deleting: the tenant rows
 * first, then for each foreign key into a table rows were found in, the
 * referencing rows, level after level until none are new.  Each table's
 * rows are kept in a temp table with the tenant's ordinal, the row's
 * tableoid and ctid (a row found twice, through a cycle or two foreign
 * keys, is kept once), the level ("round") that found it, the row as
 * jsonb, and the columns the next levels join on (c_<name>, as the
 * purge's temp tables: tg_edge_condition() serves both).  Foreign keys
 * ON DELETE SET NULL / SET DEFAULT are not followed: a purge keeps those
 * rows.
 *
 * Which rows belong to the tenant (the export's rule; the archive takes
 * every row the purge deletes):
 *	  - rows of the tenants table other than the tenant itself are other
 *		tenants: the walk stops there (a cycle through the tenants table,
 *		e.g. tenants.owner_id -> users, never exports another tenant);
 *	  - a row whose tenant key column (a one-column foreign key to the
 *		tenants table's key, or a registered tenant table's column) names
 *		another tenant belongs to that tenant, even when it references a
 *		row of ours (a cross-tenant link): not exported, nor what hangs
 *		below it only through it;
 *	  - a row that references rows outside the export (a shared parent: a
 *		plan, a country, another tenant's row through a column that is not
 *		a tenant key) is exported; its parent is not.  The import checks
 *		every foreign key of the rows it restores, so such a parent must
 *		exist where the export is restored.
 *
 * Rights: the caller's (SECURITY INVOKER), with row_security off so that
 * a policy hiding rows fails the export instead of leaving rows out.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "tenant_guard.h"
#include "export.h"
#include "safesql.h"

/* A table the walk collects rows from. */
typedef struct TgExTable
{
	Oid			relid;
	char	   *qualname;		/* quoted, schema-qualified */
	char		relkind;
	List	   *edges;			/* TgFkEdge into it that the walk follows */
	List	   *needed;			/* columns its children join on */
	bool		needs_rel;		/* a child references one partition */
	List	   *tenantcols;		/* TgFkEdge from the tenants table's key */
	char	   *tmp;			/* pg_temp table of its rows */
	uint64		rows;
	uint64		analyzed;		/* rows when tmp was last ANALYZEd */
} TgExTable;

/* Rows of one table found by one statement, waiting for their children. */
typedef struct TgExWork
{
	TgExTable  *table;
	int			round;
} TgExWork;

struct TgExport
{
	TgPurge    *p;
	const char *targets;		/* pg_temp table (ord int4, key) */
	bool		whole;
	List	   *tables;			/* TgExTable, in the order reached */
	int			round;
	uint64		rows;
};

/* Is relid the tenants table or one of its partitions? */
static bool
tg_is_tenants_table(TgPurge *p, Oid relid)
{
	if (relid == p->root)
		return true;
	return get_rel_relispartition(relid) &&
		list_member_oid(get_partition_ancestors(relid), p->root);
}

/* The walk's entry for relid, created on first use. */
static TgExTable *
tg_ex_table(TgExport *x, Oid relid, char relkind)
{
	ListCell   *lc;
	TgExTable  *t;

	foreach(lc, x->tables)
	{
		t = lfirst(lc);
		if (t->relid == relid)
			return t;
	}
	t = palloc0(sizeof(TgExTable));
	t->relid = relid;
	t->relkind = relkind;
	tg_rel_names(relid, &t->qualname, NULL);
	t->tmp = psprintf("pg_temp.tg_export_%d", list_length(x->tables) + 1);
	x->tables = lappend(x->tables, t);
	return t;
}

/* "ONLY " for a plain table: inheritance children are not its rows. */
static const char *
tg_ex_only(TgExTable *t)
{
	return t->relkind == RELKIND_PARTITIONED_TABLE ? "" : "ONLY ";
}

/* Plan: every table the walk may reach, its edges and carried columns. */
static void
tg_ex_plan(TgExport *x)
{
	TgPurge    *p = x->p;
	TgExTable  *root = tg_ex_table(x, p->root, p->root_kind);
	List	   *queue = list_make1(root);
	List	   *seen = list_make1_oid(p->root);
	ListCell   *lc;

	while (queue != NIL)
	{
		TgExTable  *t = linitial(queue);
		List	   *edges = tg_fk_edges_into(t->relid);

		queue = list_delete_first(queue);
		if (t == root)
			edges = list_concat(edges, p->registered);
		foreach(lc, edges)
		{
			TgFkEdge   *e = lfirst(lc);
			TgExTable  *c;

			if (e->action == 'n' || e->action == 'd')
				continue;		/* a purge keeps those rows */
			if (!x->whole && tg_is_tenants_table(p, e->child))
				continue;		/* other tenants */
			c = tg_ex_table(x, e->child, e->child_kind);
			if (t == root && e->nkeys == 1 && strcmp(e->parent_cols[0], p->keycol) == 0)
				c->tenantcols = lappend(c->tenantcols, e);
			t->edges = lappend(t->edges, e);
			for (int i = 0; i < e->nkeys; i++)
				t->needed = tg_add_column(t->needed, e->parent_cols[i]);
			if (e->referenced_is_partition)
				t->needs_rel = true;
			if (!list_member_oid(seen, c->relid))
			{
				seen = lappend_oid(seen, c->relid);
				queue = lappend(queue, c);
			}
		}
	}
}

/* The columns of a row of t (alias a) that its temp table carries. */
static void
tg_ex_select_list(StringInfo buf, TgExTable *t, const char *a)
{
	ListCell   *lc;

	appendStringInfo(buf, "%s.tableoid AS tg_rel, %s.ctid AS tg_tid, pg_catalog.to_jsonb(%s) AS tg_row",
					 a, a, a);
	foreach(lc, t->needed)
	{
		char	   *col = lfirst(lc);

		appendStringInfo(buf, ", %s.%s AS %s", a, quote_identifier(col),
						 quote_identifier(psprintf("c_%s", col)));
	}
}

/* Create the temp tables, empty. */
static void
tg_ex_create(TgExport *x)
{
	ListCell   *lc;

	foreach(lc, x->tables)
	{
		TgExTable  *t = lfirst(lc);
		StringInfoData sql;

		initStringInfo(&sql);
		appendStringInfo(&sql, "CREATE TEMP TABLE %s ON COMMIT DROP AS"
						 " SELECT 0::pg_catalog.int4 AS ord, ", t->tmp);
		tg_ex_select_list(&sql, t, "c");
		appendStringInfo(&sql, ", 0::pg_catalog.int4 AS tg_round FROM %s%s c WITH NO DATA",
						 tg_ex_only(t), t->qualname);
		tg_exec(sql.data);
	}
}

/* ANALYZE a temp table whose rows doubled since the last time. */
static void
tg_ex_analyze(TgExTable *t)
{
	if (t->rows > 2 * t->analyzed)
	{
		tg_exec(psprintf("ANALYZE %s", t->tmp));
		t->analyzed = t->rows;
	}
}

/* Rows of the tenants themselves: round 1. */
static void
tg_ex_root(TgExport *x, TgExTable *root)
{
	TgPurge    *p = x->p;
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO %s SELECT x.ord, ", root->tmp);
	tg_ex_select_list(&sql, root, "r");
	appendStringInfo(&sql, ", 1 FROM %s%s r JOIN %s x ON %s",
					 tg_ex_only(root), root->qualname, x->targets,
					 tg_eq_sql(p->keyeqop, psprintf("r.%s", quote_identifier(p->keycol)),
							   "x.key"));
	root->rows = tg_exec(sql.data);
	x->rows += root->rows;
	x->round = 1;
}

/*
 * Rows of edge e's child referencing the rows of t found in round r;
 * returns how many were new.
 */
static uint64
tg_ex_edge(TgExport *x, TgExTable *t, int r, TgFkEdge *e)
{
	TgExTable  *c = tg_ex_table(x, e->child, e->child_kind);
	StringInfoData sql;
	ListCell   *lc;
	uint64		n;
	int			nest;
	bool		filter = !x->whole && c->tenantcols != NIL;

	tg_ex_analyze(t);
	initStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO %s SELECT p.ord, ", c->tmp);
	tg_ex_select_list(&sql, c, "c");
	appendStringInfo(&sql, ", %d FROM %s%s c JOIN %s p ON p.tg_round OPERATOR(pg_catalog.=) %d AND ",
					 x->round + 1, tg_ex_only(c), c->qualname, t->tmp, r);
	tg_edge_condition(&sql, e, "p", "c");
	if (filter)
		appendStringInfo(&sql, " JOIN %s x ON x.ord OPERATOR(pg_catalog.=) p.ord", x->targets);
	appendStringInfo(&sql, " WHERE NOT EXISTS (SELECT FROM %s a"
					 " WHERE a.tg_rel OPERATOR(pg_catalog.=) c.tableoid"
					 " AND a.tg_tid OPERATOR(pg_catalog.=) c.ctid)", c->tmp);
	if (filter)
	{
		foreach(lc, c->tenantcols)
		{
			TgFkEdge   *k = lfirst(lc);
			char	   *col = psprintf("c.%s", quote_identifier(k->child_cols[0]));

			appendStringInfo(&sql, " AND (%s IS NULL OR %s)", col,
							 tg_eq_sql(k->eqopids[0], "x.key", col));
		}
	}
	nest = tg_hash_room(t->rows);	/* the parent rows' hash fits */
	n = tg_exec(sql.data);
	AtEOXact_GUC(true, nest);
	if (n > 0)
	{
		x->round++;
		c->rows += n;
		x->rows += n;
	}
	return n;
}

TgExport *
tg_export_walk(TgPurge *p, const char *targets, bool whole)
{
	TgExport   *x = palloc0(sizeof(TgExport));
	List	   *work;
	int			nest = NewGUCNestLevel();

	x->p = p;
	x->targets = targets;
	x->whole = whole;
	tg_ex_plan(x);
	tg_ex_create(x);

	/* a policy hiding rows must fail the export, not leave rows out */
	(void) set_config_option("row_security", "off",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	tg_ex_root(x, linitial(x->tables));
	work = NIL;
	if (((TgExTable *) linitial(x->tables))->rows > 0)
	{
		TgExWork   *w = palloc(sizeof(TgExWork));

		w->table = linitial(x->tables);
		w->round = 1;
		work = list_make1(w);
	}
	while (work != NIL)
	{
		TgExWork   *w = linitial(work);
		ListCell   *lc;

		work = list_delete_first(work);
		foreach(lc, w->table->edges)
		{
			TgFkEdge   *e = lfirst(lc);

			if (tg_ex_edge(x, w->table, w->round, e) > 0)
			{
				TgExWork   *next = palloc(sizeof(TgExWork));

				next->table = tg_ex_table(x, e->child, e->child_kind);
				next->round = x->round;
				work = lappend(work, next);
			}
			CHECK_FOR_INTERRUPTS();
		}
	}
	AtEOXact_GUC(true, nest);
	return x;
}

uint64
tg_export_rows(TgExport *x)
{
	return x->rows;
}

/* {"column": "type", ...} of a table, as jsonb. */
static Jsonb *
tg_ex_columns(Oid relid)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		args[1];
	int			rc;
	bool		isnull;
	Jsonb	   *result;
	int			nest = NewGUCNestLevel();

	/*
	 * Type names as import_tenant() (pinned search_path) spells them: the
	 * purge's archive runs under the caller's search_path, which would
	 * leave a type of one of its schemas unqualified.
	 */
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	args[0] = ObjectIdGetDatum(relid);
	rc = SPI_execute_with_args("SELECT pg_catalog.jsonb_object_agg(a.attname,"
							   " pg_catalog.format_type(a.atttypid, a.atttypmod))"
							   " FROM pg_catalog.pg_attribute a"
							   " WHERE a.attrelid OPERATOR(pg_catalog.=) $1"
							   " AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped",
							   1, argtypes, args, NULL, false, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	result = DatumGetJsonbPCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	AtEOXact_GUC(true, nest);
	return result;
}

/* A table's rows, read in tenant order through a cursor. */
typedef struct TgExCursor
{
	TgExTable  *table;
	Jsonb	   *columns;
	Portal		portal;
	SPITupleTable *batch;
	uint64		pos;
	bool		done;
} TgExCursor;

#define TG_EX_FETCH 1000

/* The tenant ordinal of the cursor's next row; INT_MAX at the end. */
static int
tg_ex_peek(TgExCursor *c)
{
	bool		isnull;

	while (!c->done && (c->batch == NULL || c->pos >= c->batch->numvals))
	{
		if (c->batch)
			SPI_freetuptable(c->batch);
		SPI_cursor_fetch(c->portal, true, TG_EX_FETCH);
		c->batch = SPI_tuptable;
		c->pos = 0;
		if (SPI_processed == 0)
		{
			c->done = true;
			SPI_cursor_close(c->portal);
		}
	}
	if (c->done)
		return INT_MAX;
	return DatumGetInt32(SPI_getbinval(c->batch->vals[c->pos], c->batch->tupdesc, 1, &isnull));
}

/* Push a string value (or key) onto a jsonb under construction. */
static void
tg_ex_push_string(JsonbParseState **st, JsonbIteratorToken tok, const char *s)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = unconstify(char *, s);
	v.val.string.len = strlen(s);
	(void) pushJsonbValue(st, tok, &v);
}

/* Push a jsonb datum as a value or element. */
static void
tg_ex_push_jsonb(JsonbParseState **st, JsonbIteratorToken tok, Jsonb *j)
{
	JsonbValue	v;

	v.type = jbvBinary;
	v.val.binary.data = &j->root;
	v.val.binary.len = VARSIZE(j) - VARHDRSZ;
	(void) pushJsonbValue(st, tok, &v);
}

/*
 * Build each tenant's document in one pass (export.h), in tenant order,
 * and hand it to fn with its row count: every table is read once through
 * a cursor sorted by tenant, and each row is converted once (jsonb_agg
 * and jsonb_build_object nested in SQL convert every row at each level).
 */
void
tg_export_documents(TgExport *x, void (*fn) (int ord, Jsonb *doc, int64 nrows, void *arg),
					void *arg)
{
	List	   *cursors = NIL;
	ListCell   *lc;
	char	  **ids;
	int			nids;
	MemoryContext doccxt;
	MemoryContext old;
	int			rc;
	int			nest;

	/* the tenants' ids, by ordinal */
	rc = SPI_execute(psprintf("SELECT ord, pg_catalog.format('%%s', key) FROM %s", x->targets),
					 false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	nids = 0;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		nids = Max(nids, DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull)));
	}
	ids = palloc0(sizeof(char *) * (nids + 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int			ord = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));

		ids[ord] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
	}

	foreach(lc, x->tables)
	{
		TgExTable  *t = lfirst(lc);
		TgExCursor *c;
		SPIPlanPtr	plan;

		if (t->rows == 0)
			continue;
		c = palloc0(sizeof(TgExCursor));
		c->table = t;
		c->columns = tg_ex_columns(t->relid);
		plan = SPI_prepare(psprintf("SELECT ord, tg_row FROM %s ORDER BY ord, tg_round, tg_rel, tg_tid",
									t->tmp), 0, NULL);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		/* not read-only: it must see the rows this call just wrote */
		c->portal = SPI_cursor_open(NULL, plan, NULL, NULL, false);
		cursors = lappend(cursors, c);
	}

	/* the cursors' sorts in memory: about 256 bytes a row, up to 1 GB */
	nest = NewGUCNestLevel();
	{
		char		value[32];
		double		kb = Min((double) x->rows * 256.0 / 1024.0, 1024.0 * 1024.0);

		if (kb > (double) work_mem)
		{
			snprintf(value, sizeof(value), "%.0f", kb);
			(void) set_config_option("work_mem", value, PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_SAVE, true, 0, false);
		}
	}
	doccxt = AllocSetContextCreate(CurrentMemoryContext, "tenant_guard export document",
								   ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		int			ord = INT_MAX;
		JsonbParseState *st = NULL;
		JsonbValue	v;
		JsonbValue *res;
		int64		nrows = 0;

		foreach(lc, cursors)
			ord = Min(ord, tg_ex_peek(lfirst(lc)));
		if (ord == INT_MAX)
			break;
		if (ord < 1 || ord > nids || ids[ord] == NULL)
			elog(ERROR, "unexpected tenant ordinal %d", ord);

		old = MemoryContextSwitchTo(doccxt);
		(void) pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		tg_ex_push_string(&st, WJB_KEY, "format");
		tg_ex_push_string(&st, WJB_VALUE, TG_EXPORT_FORMAT);
		tg_ex_push_string(&st, WJB_KEY, "version");
		v.type = jbvNumeric;
		v.val.numeric = int64_to_numeric(TG_EXPORT_VERSION);
		(void) pushJsonbValue(&st, WJB_VALUE, &v);
		tg_ex_push_string(&st, WJB_KEY, "tenants");
		tg_ex_push_string(&st, WJB_VALUE, ((TgExTable *) linitial(x->tables))->qualname);
		tg_ex_push_string(&st, WJB_KEY, "tenant_id");
		tg_ex_push_string(&st, WJB_VALUE, ids[ord]);
		tg_ex_push_string(&st, WJB_KEY, "tables");
		(void) pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
		MemoryContextSwitchTo(old);
		foreach(lc, cursors)
		{
			TgExCursor *c = lfirst(lc);

			if (tg_ex_peek(c) != ord)
				continue;
			old = MemoryContextSwitchTo(doccxt);
			(void) pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
			tg_ex_push_string(&st, WJB_KEY, "table");
			tg_ex_push_string(&st, WJB_VALUE, c->table->qualname);
			tg_ex_push_string(&st, WJB_KEY, "columns");
			tg_ex_push_jsonb(&st, WJB_VALUE, c->columns);
			tg_ex_push_string(&st, WJB_KEY, "rows");
			(void) pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
			MemoryContextSwitchTo(old);
			while (tg_ex_peek(c) == ord)
			{
				bool		isnull;
				Datum		d = SPI_getbinval(c->batch->vals[c->pos], c->batch->tupdesc, 2, &isnull);

				/* a copy: the tree points into it, and batches are freed */
				old = MemoryContextSwitchTo(doccxt);
				tg_ex_push_jsonb(&st, WJB_ELEM, DatumGetJsonbPCopy(d));
				MemoryContextSwitchTo(old);
				c->pos++;
				nrows++;
			}
			old = MemoryContextSwitchTo(doccxt);
			(void) pushJsonbValue(&st, WJB_END_ARRAY, NULL);
			(void) pushJsonbValue(&st, WJB_END_OBJECT, NULL);
			MemoryContextSwitchTo(old);
		}
		old = MemoryContextSwitchTo(doccxt);
		(void) pushJsonbValue(&st, WJB_END_ARRAY, NULL);
		res = pushJsonbValue(&st, WJB_END_OBJECT, NULL);
		MemoryContextSwitchTo(old);
		fn(ord, JsonbValueToJsonb(res), nrows, arg);
		MemoryContextReset(doccxt);
		CHECK_FOR_INTERRUPTS();
	}
	MemoryContextDelete(doccxt);
	AtEOXact_GUC(true, nest);
}

void
tg_export_drop(TgExport *x)
{
	ListCell   *lc;

	foreach(lc, x->tables)
		tg_exec(psprintf("DROP TABLE IF EXISTS %s", ((TgExTable *) lfirst(lc))->tmp));
}

/* Refuse callers that are not admins ("permission denied to <what>"). */
void
tg_require_admin(const char *what)
{
	if (!tg_is_admin(GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s", what),
				 errdetail("Only superusers and members of role \"%s\" may.", TG_ADMIN_ROLE)));
}

/*
 * Start of a call naming a tenant (tenant_id text, tenants regclass): the
 * caller is an admin, SPI is connected, p knows the tenants table, *key
 * and *canon are the id parsed as its key.
 */
void
tg_export_begin(FunctionCallInfo fcinfo, const char *what, TgPurge *p, Datum *key, char **canon)
{
	char	   *id;

	tg_require_admin(what);
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tenant_id must not be null")));
	id = text_to_cstring(PG_GETARG_TEXT_PP(0));
	memset(p, 0, sizeof(*p));
	p->root_arg = PG_ARGISNULL(1) ? InvalidOid : PG_GETARG_OID(1);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	tg_resolve_root(p);
	if (!tg_parse_tenant_id(id, p->keytype, key, canon))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid tenant id \"%s\"", tg_abbrev_id(id)),
				 errdetail("It is not a valid %s, the type of the key \"%s\" of \"%s\".",
						   format_type_be(p->keytype), p->keycol, p->root_label)));
}

/* tg_export_documents() callback: keep the one document, out of SPI. */
static void
tg_ex_keep_document(int ord, Jsonb *doc, int64 nrows, void *arg)
{
	(void) ord;
	(void) nrows;
	*(Datum *) arg = SPI_datumTransfer(JsonbPGetDatum(doc), false, -1);
}

/*
 * The walk of one tenant named by a call's arguments (tenant_id, tenants):
 * admin check, SPI connected, rows in temp tables.
 */
static TgExport *
tg_export_one(FunctionCallInfo fcinfo, TgPurge *p, char **canon)
{
	Datum		key;
	Oid			argtypes[1];
	Datum		args[1];
	int			rc;
	TgExport   *x;

	tg_export_begin(fcinfo, "export tenants", p, &key, canon);
	tg_resolve_registered(p);
	argtypes[0] = p->keytype;
	args[0] = key;
	rc = SPI_execute_with_args("CREATE TEMP TABLE pg_temp.tg_export_targets ON COMMIT DROP AS"
							   " SELECT 1::pg_catalog.int4 AS ord, $1 AS key",
							   1, argtypes, args, NULL, false, 0);
	if (rc < 0)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	x = tg_export_walk(p, "pg_temp.tg_export_targets", false);
	if (tg_export_rows(x) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("tenant \"%s\" does not exist in \"%s\"", tg_abbrev_id(*canon), p->root_label)));
	return x;
}

/* Drop what tg_export_one() made and disconnect SPI. */
static void
tg_export_one_done(TgExport *x)
{
	tg_export_drop(x);
	tg_exec("DROP TABLE pg_temp.tg_export_targets");
	SPI_finish();
}

PG_FUNCTION_INFO_V1(export_tenant);

/*
 * export_tenant(tenant_id text, tenants regclass)
 *	  RETURNS TABLE (table_name regclass, row_data jsonb)
 * the rows of the walk, table after table in the order reached.
 */
Datum
export_tenant(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TgPurge		p;
	char	   *canon;
	TgExport   *x;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	x = tg_export_one(fcinfo, &p, &canon);
	foreach(lc, x->tables)
	{
		TgExTable  *t = lfirst(lc);
		int			rc;

		if (t->rows == 0)
			continue;
		rc = SPI_execute(psprintf("SELECT tg_row FROM %s ORDER BY tg_round, tg_rel, tg_tid", t->tmp),
						 false, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			Datum		values[2];
			bool		nulls[2] = {false, false};

			values[0] = ObjectIdGetDatum(t->relid);
			values[1] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &nulls[1]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	tg_export_one_done(x);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(export_tenant_document);

/*
 * export_tenant_document(tenant_id text, tenants regclass) RETURNS jsonb:
 * the tenant's rows as one document (export.h).
 */
Datum
export_tenant_document(PG_FUNCTION_ARGS)
{
	TgPurge		p;
	char	   *canon;
	TgExport   *x;
	Datum		result = (Datum) 0;

	x = tg_export_one(fcinfo, &p, &canon);
	tg_export_documents(x, tg_ex_keep_document, &result);
	if (result == (Datum) 0)
		elog(ERROR, "export of tenant \"%s\" produced no document", tg_abbrev_id(canon));
	tg_export_one_done(x);
	PG_RETURN_DATUM(result);
}
