/*-------------------------------------------------------------------------
 *
 * export.c
 *	  tenant_guard.export_tenant_document(): every row of a tenant as one
 *	  jsonb document, found along the foreign-key graph the purge uses
 *	  (fkgraph.c, registered tenant tables), and export_tenant(), the same
 *	  rows one by one.  (The purge's archive does not walk: it keeps the
 *	  rows its DELETEs return, archive.c.)
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
 * Which rows belong to the tenant (the export's rule; the archive holds
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

#include "names.h"
#include "guc.h"
#include "guarded.h"
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
	int			nin;			/* edges into it the walk follows */
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
			if (tg_is_tenants_table(p, e->child))
				continue;		/* other tenants */
			c = tg_ex_table(x, e->child, e->child_kind);
			if (t == root && e->nkeys == 1 && strcmp(e->parent_cols[0], p->keycol) == 0)
				c->tenantcols = lappend(c->tenantcols, e);
			t->edges = lappend(t->edges, e);
			c->nin++;
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
	bool		filter = c->tenantcols != NIL;

	/*
	 * A row can be found twice only through two edges or a self-reference;
	 * through one edge from another table, each row of c references one
	 * parent row, found once.
	 */
	bool		dedupe = c->nin > 1 || c == t;

	tg_ex_analyze(t);
	initStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO %s SELECT p.ord, ", c->tmp);
	tg_ex_select_list(&sql, c, "c");
	appendStringInfo(&sql, ", %d FROM %s%s c JOIN %s p ON p.tg_round OPERATOR(pg_catalog.=) %d AND ",
					 x->round + 1, tg_ex_only(c), c->qualname, t->tmp, r);
	tg_edge_condition(&sql, e, "p", "c");
	if (filter)
		appendStringInfo(&sql, " JOIN %s x ON x.ord OPERATOR(pg_catalog.=) p.ord", x->targets);
	appendStringInfoString(&sql, " WHERE true");
	if (dedupe)
		appendStringInfo(&sql, " AND NOT EXISTS (SELECT FROM %s a"
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
tg_export_walk(TgPurge *p, const char *targets)
{
	TgExport   *x = palloc0(sizeof(TgExport));
	List	   *work;
	int			nest = NewGUCNestLevel();

	x->p = p;
	x->targets = targets;
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

/* {"column": "type", ...} of a table, as jsonb (export.h). */
Jsonb *
tg_export_columns(Oid relid)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		args[1];
	int			rc;
	bool		isnull;
	Jsonb	   *result;
	int			nest = NewGUCNestLevel();

	/*
	 * Type names as import_tenant() (pinned search_path) spells them,
	 * whatever search_path the caller runs under.
	 */
	tg_set_catalog_search_path();
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

/*
 * The walk's rows as one document (export.h): each table's rows read in
 * the order found and copied as they are (export_doc.c).
 */
static Jsonb *
tg_export_document(TgExport *x, const char *tenant_id)
{
	int			ntables = list_length(x->tables);
	TgDocTable *tables = palloc0(sizeof(TgDocTable) * ntables);
	ListCell   *lc;

	foreach(lc, x->tables)
	{
		TgExTable  *t = lfirst(lc);
		TgDocTable *d = &tables[foreach_current_index(lc)];
		int			rc;

		d->qualname = t->qualname;
		if (t->rows == 0)
			continue;
		d->columns = tg_export_columns(t->relid);
		d->rows = palloc(sizeof(TgRows));
		tg_rows_init(d->rows, CurrentMemoryContext);
		rc = SPI_execute(psprintf("SELECT tg_row FROM %s ORDER BY tg_round, tg_rel, tg_tid", t->tmp),
						 false, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			bool		isnull;
			Datum		row = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);

			if (!isnull)
				tg_rows_add_jsonb(d->rows, row);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	return tg_doc_build(((TgExTable *) linitial(x->tables))->qualname, tenant_id, tables, ntables);
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
	x = tg_export_walk(p, "pg_temp.tg_export_targets");
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
	Datum		result;

	x = tg_export_one(fcinfo, &p, &canon);
	result = SPI_datumTransfer(JsonbPGetDatum(tg_export_document(x, canon)), false, -1);
	tg_export_one_done(x);
	PG_RETURN_DATUM(result);
}
