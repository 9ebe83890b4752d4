/*-------------------------------------------------------------------------
 *
 * purge.c
 *	  tenant_guard.purge_test_tenants(): remove test tenants and everything
 *	  that depends on them, set-based, all or nothing, with a journal.
 *
 * One call is one pass:
 *	  1. who: only superusers and members of tenant_guard_admin; and only
 *		 under READ COMMITTED, so that each statement sees what committed
 *		 before it (protections, concurrently inserted rows);
 *	  2. lock protected_tenants in SHARE ROW EXCLUSIVE mode until the end of
 *		 the transaction: concurrent purges queue behind each other, and
 *		 protect()/unprotect() wait, so protection cannot change under us;
 *	  3. targets: the ids given (each parsed as the key type, duplicates
 *		 merged; unknown or protected ids are an error), or the tenants the
 *		 checker (tenant_guard.check_tenant) flags minus protected ones;
 *		 refuse more than tenant_guard.purge_max_share of all tenants
 *		 unless force; keep the first batch_size by key;
 *	  4-7. plan the deletes along the foreign-key graph, run them level
 *		 by level, apply ON DELETE SET NULL / SET DEFAULT, and refuse if a
 *		 protected tenant was reached: purge_delete.c;
 *	  8. journal (real run): one purge_journal row per tenant, written as
 *		 the journal's owner; with archive, the rows the DELETEs of steps
 *		 4-7 returned go to purge_archive (archive.c).
 * A dry run does 3-7 inside a subtransaction and rolls it back: it reports
 * exactly what a real run at that moment would do, because it is one.
 *
 * Rights: the purge runs with the caller's rights (SECURITY INVOKER): the
 * caller needs SELECT and DELETE (UPDATE for SET NULL keys) on the tables
 * involved, as for a DELETE by hand.  row_security is off during the
 * purge, so a row-level security policy that would hide rows makes the
 * purge fail instead of leaving orphans.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "parser/parse_oper.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "names.h"
#include "guc.h"
#include "lookup.h"
#include "guarded.h"
#include "own_tables.h"
#include "tg_assert.h"
#include "archive.h"
#include "safesql.h"
#include "purge_int.h"

double		tg_purge_max_share = 0.5;

/* What one purged tenant reports; lives in the caller's memory context. */
typedef struct TgResult
{
	int			ord;			/* its ordinal in the purge */
	char	   *id;
	char	   *name;
	char	   *subdomain;
	char	   *email;
	char	   *reason;
	char	   *deleted;		/* JSON text */
	char	   *updated;		/* JSON text */
	char	   *row;			/* JSON text of the tenant row */
	int64		total;
} TgResult;

/*
 * Which guarded table, which key, which checked columns; the other
 * guarded tables with keys; the registered tenant tables.
 */
void
tg_resolve_root(TgPurge *p)
{
	List	   *guarded;
	ListCell   *lc;
	int			nfound = 0;

	guarded = tg_guarded_with_keys();
	foreach(lc, guarded)
	{
		TgGuarded  *g = lfirst(lc);

		p->guarded_relids = lappend_oid(p->guarded_relids, g->relid);
		p->guarded_keycols = lappend(p->guarded_keycols, g->keycol);
		if (OidIsValid(p->root_arg) ? g->relid != p->root_arg : list_length(guarded) != 1)
			continue;
		nfound++;
		p->root = g->relid;
		p->root_kind = g->relkind;
		p->keycol = g->keycol;
		p->keytype = g->keytype;
		for (int f = 0; f < TG_NUM_FIELDS; f++)
			p->fieldcol[f] = g->fieldcol[f];
	}
	if (nfound == 0 && OidIsValid(p->root_arg))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table \"%s\" is not a guarded tenants table with a key",
						get_rel_name(p->root_arg) ? get_rel_name(p->root_arg) : "?"),
				 errhint("Run tenant_guard.attach() on it first.")));
	if (nfound == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 guarded == NIL ?
				 errmsg("no table with a tenant key is guarded by tenant_guard") :
				 errmsg("several tables are guarded by tenant_guard"),
				 guarded == NIL ?
				 errhint("Run tenant_guard.attach() on the tenants table first.") :
				 errhint("Name the one to purge: tenants => 'my_tenants'.")));

	tg_rel_names(p->root, &p->root_name, &p->root_label);
	p->keyeqop = tg_key_eq_operator(p->keytype, p->root_label);
}

/* The tables registered with add_tenant_table() for the root, as edges. */
void
tg_resolve_registered(TgPurge *p)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		args[1];
	int			rc;

	args[0] = ObjectIdGetDatum(p->root);
	rc = SPI_execute_with_args("SELECT t.tbl::pg_catalog.oid, c.relkind,"
							   " t.column_name::pg_catalog.text, a.atttypid"
							   " FROM " TG_SCHEMA ".tenant_tables t"
							   " JOIN pg_catalog.pg_class c"
							   "  ON c.oid OPERATOR(pg_catalog.=) t.tbl::pg_catalog.oid"
							   " JOIN pg_catalog.pg_attribute a"
							   "  ON a.attrelid OPERATOR(pg_catalog.=) t.tbl::pg_catalog.oid"
							   "  AND a.attname OPERATOR(pg_catalog.=) t.column_name AND NOT a.attisdropped"
							   " WHERE t.tenants::pg_catalog.oid OPERATOR(pg_catalog.=) $1 ORDER BY 1, 3",
							   1, argtypes, args, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		TgFkEdge   *e = palloc0(sizeof(TgFkEdge));
		bool		isnull;
		Oid			coltype;
		Operator	op;
		Oid			eqop;

		e->conoid = InvalidOid;
		e->child = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
		e->child_kind = DatumGetChar(SPI_getbinval(tup, desc, 2, &isnull));
		e->referenced = p->root;
		e->action = 'c';
		e->nkeys = 1;
		e->child_cols = palloc(sizeof(char *));
		e->child_cols[0] = SPI_getvalue(tup, desc, 3);
		e->parent_cols = palloc(sizeof(char *));
		e->parent_cols[0] = p->keycol;
		coltype = DatumGetObjectId(SPI_getbinval(tup, desc, 4, &isnull));

		/*
		 * The operator must not come from the caller's search_path: a role
		 * with CREATE on one of its schemas could define an "=" that
		 * matches better, decide what the purge deletes and run as the
		 * purging role.  When the key and the column compare with the same
		 * default equality (the same type, a domain over it, varchar and
		 * text), that one is used, as for the key itself (citext keys
		 * compare as citext); otherwise "=" as add_tenant_table() checked
		 * it, with search_path pinned.
		 */
		eqop = lookup_type_cache(coltype, TYPECACHE_EQ_OPR)->eq_opr;
		if (!OidIsValid(eqop) || eqop != lookup_type_cache(p->keytype, TYPECACHE_EQ_OPR)->eq_opr)
		{
			tg_pin_search_path();
			op = oper(NULL, list_make1(makeString("=")), p->keytype, coltype, false, -1);
			tg_unpin_search_path();
			eqop = oprid(op);
			ReleaseSysCache(op);
		}
		e->eqopids = palloc(sizeof(Oid));
		e->eqopids[0] = eqop;
		p->registered = lappend(p->registered, e);
	}
}

/* SQL for "the columns the checker reads" of the root row r. */
static char *
tg_checker_args(TgPurge *p)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int f = 0; f < TG_NUM_FIELDS; f++)
	{
		if (p->fieldcol[f])
			appendStringInfo(&buf, "%sr.%s::pg_catalog.text", f > 0 ? ", " : "",
							 quote_identifier(p->fieldcol[f]));
		else
			appendStringInfo(&buf, "%sNULL::pg_catalog.text", f > 0 ? ", " : "");
	}
	return buf.data;
}

/* Run a query and return the first column of its rows, comma-separated. */
static char *
tg_list_of(const char *sql, uint64 *n)
{
	StringInfoData buf;
	int			rc = SPI_execute(sql, false, 0);

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s (%s)", SPI_result_code_string(rc), sql);
	*n = SPI_processed;
	initStringInfo(&buf);
	for (uint64 i = 0; i < SPI_processed && i < 5; i++)
		appendStringInfo(&buf, "%s\"%s\"", i > 0 ? ", " : "",
						 SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
	if (SPI_processed > 5)
		appendStringInfoString(&buf, ", ...");
	return buf.data;
}

/* Step 3 with ids given: parse, merge, and refuse unknown or protected. */
static void
tg_targets_from_ids(TgPurge *p)
{
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	Datum	   *keys;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Oid			arraytype = get_array_type(p->keytype);
	Datum		args[1];
	Oid			argtypes[1];
	int			rc;
	char	   *list;
	char	   *keymatch;
	uint64		n;
	const char *only = p->root_kind == 'p' ? "" : "ONLY ";

	deconstruct_array(p->ids, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &nelems);
	if (nelems == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ids must not be empty"),
				 errhint("Pass ids => NULL to purge the tenants the checker flags.")));
	if (!OidIsValid(arraytype))
		elog(ERROR, "key type %s has no array type", format_type_be(p->keytype));
	get_typlenbyvalalign(p->keytype, &typlen, &typbyval, &typalign);
	keys = palloc(sizeof(Datum) * nelems);
	for (int i = 0; i < nelems; i++)
	{
		char	   *s;
		char	   *canon;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("ids must not contain NULL")));
		s = TextDatumGetCString(elems[i]);
		if (!tg_parse_tenant_id(s, p->keytype, &keys[i], &canon))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid tenant id \"%s\"", tg_abbrev_id(s)),
					 errdetail("It is not a valid %s, the type of the key \"%s\" of \"%s\". Nothing was purged.",
							   format_type_be(p->keytype), p->keycol, p->root_label)));
	}
	args[0] = PointerGetDatum(construct_array(keys, nelems, p->keytype, typlen, typbyval, typalign));
	argtypes[0] = arraytype;
	rc = SPI_execute_with_args("CREATE TEMP TABLE pg_temp.tg_purge_targets ON COMMIT DROP AS"
							   " SELECT (pg_catalog.row_number() OVER (ORDER BY k.key))::pg_catalog.int4 AS ord,"
							   " k.key, NULL::pg_catalog.text AS reason"
							   " FROM (SELECT DISTINCT u.key FROM pg_catalog.unnest($1) AS u(key)) k",
							   1, argtypes, args, NULL, false, 0);
	if (rc < 0)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));

	keymatch = tg_eq_sql(p->keyeqop, psprintf("r.%s", quote_identifier(p->keycol)), "x.key");
	list = tg_list_of(psprintf("SELECT pg_catalog.format('%%s', x.key) FROM pg_temp.tg_purge_targets x"
							   " WHERE NOT EXISTS (SELECT FROM %s%s r WHERE %s)"
							   " ORDER BY x.ord",
							   only, p->root_name, keymatch),
					  &n);
	if (n > 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg_plural("%llu requested tenant does not exist in \"%s\"",
							   "%llu requested tenants do not exist in \"%s\"",
							   n, (unsigned long long) n, p->root_label),
				 errdetail("Unknown: %s. Nothing was purged.", list)));

	/* protected_tenants holds the rows' own key text: compare that */
	list = tg_list_of(psprintf("SELECT pg_catalog.format('%%s', r.%s) FROM pg_temp.tg_purge_targets x"
							   " JOIN %s%s r ON %s"
							   " WHERE pg_catalog.format('%%s', r.%s) OPERATOR(pg_catalog.=) ANY"
							   " (SELECT tenant_id FROM " TG_SCHEMA "." TG_PROTECTED_TABLE ")"
							   " ORDER BY x.ord",
							   quote_identifier(p->keycol), only, p->root_name,
							   keymatch, quote_identifier(p->keycol)),
					  &n);
	if (n > 0)
		ereport(ERROR,
				(errcode(ERRCODE_TG_PROTECTED),
				 errmsg_plural("%llu requested tenant is protected",
							   "%llu requested tenants are protected",
							   n, (unsigned long long) n),
				 errdetail("Protected: %s. Nothing was purged.", list),
				 errhint("Leave them out, or lift the protection with tenant_guard.unprotect().")));

	tg_exec(psprintf("UPDATE pg_temp.tg_purge_targets x SET reason ="
					 " CASE WHEN c.is_suspicious THEN 'requested by id; ' OPERATOR(pg_catalog.||) c.reason"
					 " ELSE 'requested by id; not flagged by the checker' END"
					 " FROM %s%s r CROSS JOIN LATERAL " TG_SCHEMA ".check_tenant(%s) c"
					 " WHERE %s",
					 only, p->root_name, tg_checker_args(p), keymatch));
}

/* Step 3 without ids: the checker's candidates minus protected tenants. */
static void
tg_targets_from_checker(TgPurge *p)
{
	tg_exec(psprintf("CREATE TEMP TABLE pg_temp.tg_purge_targets ON COMMIT DROP AS"
					 " SELECT (pg_catalog.row_number() OVER (ORDER BY s.key))::pg_catalog.int4 AS ord,"
					 " s.key, s.reason FROM ("
					 "  SELECT DISTINCT ON (r.%s) r.%s AS key, c.reason"
					 "    FROM %s%s r CROSS JOIN LATERAL " TG_SCHEMA ".check_tenant(%s) c"
					 "   WHERE c.is_suspicious AND r.%s IS NOT NULL"
					 "     AND NOT pg_catalog.format('%%s', r.%s) OPERATOR(pg_catalog.=) ANY"
					 "         (SELECT tenant_id FROM " TG_SCHEMA "." TG_PROTECTED_TABLE ")"
					 "   ORDER BY r.%s) s",
					 quote_identifier(p->keycol), quote_identifier(p->keycol),
					 p->root_kind == 'p' ? "" : "ONLY ", p->root_name, tg_checker_args(p),
					 quote_identifier(p->keycol), quote_identifier(p->keycol),
					 quote_identifier(p->keycol)));
}

/* A single bigint from a query. */
static int64
tg_count_of(const char *sql)
{
	bool		isnull;
	int			rc = SPI_execute(sql, false, 0);

	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "SPI_execute failed: %s (%s)", SPI_result_code_string(rc), sql);
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* Step 3: the targets, the share check and the batch. */
static void
tg_targets(TgPurge *p)
{
	int64		n;
	int64		total;
	int			rc;

	if (p->ids)
		tg_targets_from_ids(p);
	else
		tg_targets_from_checker(p);

	n = tg_count_of("SELECT pg_catalog.count(*) FROM pg_temp.tg_purge_targets");
	total = tg_count_of(psprintf("SELECT pg_catalog.count(*) FROM %s%s",
								 p->root_kind == 'p' ? "" : "ONLY ", p->root_name));
	/* a dry run deletes nothing: it lists them and says what a real run needs */
	if (n > 0 && !p->force && (double) n > tg_purge_max_share * (double) total && p->dry_run)
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("a real purge would be refused: it would remove " INT64_FORMAT " of " INT64_FORMAT " tenants (%.1f%%)",
						n, total, 100.0 * (double) n / (double) total),
				 errdetail("tenant_guard.purge_max_share is %g.", tg_purge_max_share),
				 errhint("Check the list; if that many must go, run it with dry_run => false, force => true.")));
	else if (n > 0 && !p->force && (double) n > tg_purge_max_share * (double) total)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("purge refused: it would remove " INT64_FORMAT " of " INT64_FORMAT " tenants (%.1f%%)",
						n, total, 100.0 * (double) n / (double) total),
				 errdetail("tenant_guard.purge_max_share is %g.", tg_purge_max_share),
				 errhint("Check the dry run; if that many must go, pass force => true.")));

	if (p->batch_size > 0 && n > p->batch_size)
	{
		tg_exec(psprintf("DELETE FROM pg_temp.tg_purge_targets WHERE ord OPERATOR(pg_catalog.>) %d", p->batch_size));
		n = p->batch_size;
	}
	p->ntargets = (int) n;
	p->targets = palloc0(sizeof(TgTarget) * (n + 1));
	if (n == 0)
		return;
	/* even one row: see tg_work_analyze() */
	tg_exec("ANALYZE pg_temp.tg_purge_targets");

	rc = SPI_execute("SELECT ord, pg_catalog.format('%s', key), reason FROM pg_temp.tg_purge_targets",
					 false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		bool		isnull;
		int			ord = DatumGetInt32(SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &isnull));

		if (ord < 1 || ord > n)
			elog(ERROR, "unexpected tenant ordinal %d", ord);
		p->targets[ord].id = SPI_getvalue(tup, SPI_tuptable->tupdesc, 2);
		p->targets[ord].reason = SPI_getvalue(tup, SPI_tuptable->tupdesc, 3);
	}
	/* the ordinals are 1..n, each once */
	TG_ASSERT(SPI_processed == (uint64) n);
}

/* Read what the root delete returned: the rows and the checked fields. */
static void
tg_read_root_rows(TgPurge *p, const char *root_tmp)
{
	int			rc = SPI_execute(psprintf("SELECT ord, tg_row, tg_f0, tg_f1, tg_f2 FROM %s", root_tmp),
								 false, 0);

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		int			ord = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
		TgTarget   *t = &p->targets[ord];

		/* the root DELETE returned x.ord of a target */
		TG_ASSERT(!isnull && ord >= 1 && ord <= p->ntargets);
		t->row = SPI_getvalue(tup, desc, 2);
		t->name = SPI_getvalue(tup, desc, 3);
		t->subdomain = SPI_getvalue(tup, desc, 4);
		t->email = SPI_getvalue(tup, desc, 5);
	}
}

/* {"schema.table": n, ...} of one tenant, from per-table counters. */
static char *
tg_counts_json(TgPurge *p, int ord, bool updated, int64 *total)
{
	StringInfoData buf;
	ListCell   *lc;
	bool		first = true;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	foreach(lc, p->tables)
	{
		TgTable    *t = lfirst(lc);
		int64		n = updated ? t->updated[ord] : t->deleted[ord];

		if (n == 0)
			continue;
		if (!first)
			appendStringInfoString(&buf, ", ");
		first = false;
		escape_json(&buf, t->label);
		appendStringInfo(&buf, ": " INT64_FORMAT, n);
		if (total)
			*total += n;
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/*
 * The journal's INSERT of the rows in $3..$8 (but the tenants in $9): ON
 * CONFLICT (id), since the id sequence may have been set back (see
 * own_tables.c).  Returns how many went in; their tenant ids are in
 * SPI_tuptable, and their journal ids in p->journal_ids (by the ordinal of
 * results[], the $3 ids in order).
 */
static uint64
tg_journal_insert(TgPurge *p, TgResult **results, int n, Oid *argtypes, Datum *args,
				  const char *nulls, bool retry)
{
	char	   *sql;
	int			rc;
	int			k = 0;

	sql = psprintf("INSERT INTO " TG_SCHEMA "." TG_JOURNAL_TABLE
				   " (purge_xid, tenant_table, tenant_id, tenant, reason, deleted, updated,"
				   "  total_deleted, purged_by, application_name)"
				   " SELECT pg_catalog.pg_current_xact_id(), $1, u.id, u.t::pg_catalog.jsonb,"
				   "  CASE WHEN u.reason OPERATOR(pg_catalog.<>) '' THEN u.reason END, u.del::pg_catalog.jsonb, u.upd::pg_catalog.jsonb,"
				   "  u.total, $2, pg_catalog.current_setting('application_name')"
				   " FROM ROWS FROM (pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5),"
				   "  pg_catalog.unnest($6), pg_catalog.unnest($7), pg_catalog.unnest($8))"
				   "  AS u(id, t, reason, del, upd, total)"
				   "%s"
				   " ON CONFLICT (id) DO NOTHING RETURNING tenant_id, id",
				   retry ? " WHERE u.id OPERATOR(pg_catalog.<>) ALL ($9)" : "");
	rc = tg_own_write_spi(sql, retry ? 9 : 8, argtypes, args, nulls, 0);
	if (rc != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	pfree(sql);

	/* rows come back in the order of $3 (less those skipped): one pass */
	for (uint64 j = 0; j < SPI_processed; j++)
	{
		bool		isnull;
		char	   *id = SPI_getvalue(SPI_tuptable->vals[j], SPI_tuptable->tupdesc, 1);
		int64		jid = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[j],
													  SPI_tuptable->tupdesc, 2, &isnull));
		int			tries;

		for (tries = 0; tries < n && strcmp(results[k]->id, id) != 0; tries++)
			k = (k + 1) % n;
		if (tries == n)
			elog(ERROR, "purge journal: returned tenant \"%s\" is not one purged", id);
		p->journal_ids[results[k]->ord] = jid;
		pfree(id);
	}
	return SPI_processed;
}

/* Step 8: one journal row per purged tenant, written as the journal's owner. */
static void
tg_write_journal(TgPurge *p, List *results)
{
	int			n = list_length(results);
	Datum	   *cols[5];
	Datum	   *totals;
	Datum		args[9];
	Oid			argtypes[9] = {TEXTOID, NAMEOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
	TEXTARRAYOID, TEXTARRAYOID, INT8ARRAYOID, TEXTARRAYOID};
	char		nulls[9] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	Oid			save_userid;
	int			save_sec;
	uint64		done;
	int			i = 0;
	ListCell   *lc;
	TgResult  **rs;

	p->journal_ids = palloc0(sizeof(int64) * (p->ntargets + 1));
	if (n == 0)
		return;
	rs = palloc(sizeof(TgResult *) * n);
	for (int c = 0; c < 5; c++)
		cols[c] = palloc(sizeof(Datum) * n);
	totals = palloc(sizeof(Datum) * n);
	foreach(lc, results)
	{
		TgResult   *r = lfirst(lc);

		rs[i] = r;
		cols[0][i] = CStringGetTextDatum(r->id);
		cols[1][i] = CStringGetTextDatum(r->row ? r->row : "null");
		cols[2][i] = CStringGetTextDatum(r->reason ? r->reason : "");
		cols[3][i] = CStringGetTextDatum(r->deleted);
		cols[4][i] = CStringGetTextDatum(r->updated);
		totals[i] = Int64GetDatum(r->total);
		i++;
	}
	args[0] = CStringGetTextDatum(p->root_label);
	args[1] = DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(GetUserId(), false)));
	for (int c = 0; c < 5; c++)
		args[2 + c] = PointerGetDatum(construct_array(cols[c], n, TEXTOID, -1, false, TYPALIGN_INT));
	args[7] = PointerGetDatum(construct_array(totals, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(tg_relation_owner(tg_extension_relid(TG_JOURNAL_TABLE)),
						   save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	done = tg_journal_insert(p, rs, n, argtypes, args, nulls, false);
	if (done < (uint64) n)
	{
		/* some ids were taken: move the sequence on, insert the others */
		Datum	   *ids = palloc(sizeof(Datum) * (done + 1));
		bool		isnull;

		for (uint64 j = 0; j < done; j++)
			ids[j] = SPI_getbinval(SPI_tuptable->vals[j], SPI_tuptable->tupdesc, 1, &isnull);
		args[8] = PointerGetDatum(construct_array(ids, (int) done, TEXTOID, -1, false, TYPALIGN_INT));
		tg_own_id_seq_repair(TG_JOURNAL_TABLE);
		if (done + tg_journal_insert(p, rs, n, argtypes, args, nulls, true) != (uint64) n)
			tg_own_id_taken(TG_JOURNAL_TABLE);
	}
	SetUserIdAndSecContext(save_userid, save_sec);
}

/* Copy a string into the result context (NULL stays NULL). */
static char *
tg_keep(TgPurge *p, const char *s)
{
	return s ? MemoryContextStrdup(p->resultcxt, s) : NULL;
}

/* Steps 3-8 with SPI connected; returns the TgResults. */
static List *
tg_purge(TgPurge *p)
{
	List	   *results = NIL;
	bool		archive = p->archive && !p->dry_run;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	tg_resolve_root(p);
	tg_resolve_registered(p);
	tg_targets(p);
	if (p->ntargets > 0)
	{
		if (archive)
			tg_archive_run(p);	/* steps 4-7, keeping the rows deleted */
		else
		{
			tg_plan(p);
			tg_run_counted(p);
		}
		tg_read_root_rows(p, p->root_tmp);

		for (int ord = 1; ord <= p->ntargets; ord++)
		{
			TgTable    *root = linitial(p->tables);
			TgTarget   *t = &p->targets[ord];
			TgResult   *r;
			MemoryContext old;

			if (root->deleted[ord] == 0)
				continue;		/* gone meanwhile */
			old = MemoryContextSwitchTo(p->resultcxt);
			r = palloc0(sizeof(TgResult));
			MemoryContextSwitchTo(old);
			r->ord = ord;
			r->id = tg_keep(p, t->id);
			r->name = tg_keep(p, t->name);
			r->subdomain = tg_keep(p, t->subdomain);
			r->email = tg_keep(p, t->email);
			r->reason = tg_keep(p, t->reason);
			r->row = tg_keep(p, t->row);
			r->deleted = tg_keep(p, tg_counts_json(p, ord, false, &r->total));
			r->updated = tg_keep(p, tg_counts_json(p, ord, true, NULL));
			/* the total counts the tenant's own row, once per table */
			TG_ASSERT(root->deleted[ord] > 0 && r->total >= root->deleted[ord]);
			old = MemoryContextSwitchTo(p->resultcxt);
			results = lappend(results, r);
			MemoryContextSwitchTo(old);
		}
	}

	if (!p->dry_run)
	{
		ListCell   *lc;
		StringInfoData drop;

		tg_write_journal(p, results);
		if (archive && p->ntargets > 0)
			tg_archive_write(p);
		/* the temp tables go now: a second call in this transaction needs the names */
		initStringInfo(&drop);
		appendStringInfoString(&drop, "DROP TABLE IF EXISTS pg_temp.tg_purge_targets");
		foreach(lc, p->tmps)
			appendStringInfo(&drop, ", %s", (char *) lfirst(lc));
		tg_exec(drop.data);
	}

	SPI_finish();
	return results;
}

PG_FUNCTION_INFO_V1(purge_test_tenants);

/*
 * purge_test_tenants(dry_run boolean, ids text[], force boolean,
 *					  batch_size integer, tenants regclass, archive boolean)
 *	  RETURNS TABLE (tenant_id, name, subdomain, email, reason, deleted jsonb,
 *					 updated jsonb, total_deleted bigint)
 */
Datum
purge_test_tenants(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext callercxt;
	ResourceOwner oldowner = CurrentResourceOwner;
	TgPurge		p;
	List	   *results;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	callercxt = CurrentMemoryContext;

	if (!tg_is_admin(GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to purge tenants"),
				 errdetail("Only superusers and members of role \"%s\" may.", TG_ADMIN_ROLE)));

	/*
	 * A transaction snapshot taken before our lock would miss a protect()
	 * that committed meanwhile, and rows inserted concurrently under a
	 * purged tenant (the foreign-key checks are off while we delete).
	 */
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot purge tenants in a %s transaction",
						IsolationIsSerializable() ? "SERIALIZABLE" : "REPEATABLE READ"),
				 errdetail("The purge must see every protection and every row committed before each of its statements."),
				 errhint("Run it in a READ COMMITTED transaction.")));

	memset(&p, 0, sizeof(p));
	p.resultcxt = callercxt;
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("dry_run must not be null")));
	p.dry_run = PG_GETARG_BOOL(0);
	p.ids = PG_ARGISNULL(1) ? NULL : PG_GETARG_ARRAYTYPE_P(1);
	p.force = PG_ARGISNULL(2) ? false : PG_GETARG_BOOL(2);
	if (!PG_ARGISNULL(3))
	{
		p.batch_size = PG_GETARG_INT32(3);
		if (p.batch_size < 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("batch_size must be at least 1")));
	}
	p.root_arg = PG_ARGISNULL(4) ? InvalidOid : PG_GETARG_OID(4);
	/* the 1.0 definition has no archive argument (and no archive table) */
	if (PG_NARGS() > 5 && PG_ARGISNULL(5))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("archive must not be null")));
	p.archive = PG_NARGS() > 5 && PG_GETARG_BOOL(5);

	/*
	 * Held to the end of the transaction, dry run or not: purges serialise,
	 * and protect()/unprotect() wait for us.  lock_timeout applies.
	 */
	LockRelationOid(tg_extension_relid(TG_PROTECTED_TABLE), ShareRowExclusiveLock);

	if (!p.dry_run)
		results = tg_purge(&p);
	else
	{
		/* the real thing, rolled back: same deletes, same counts */
		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(callercxt);
		PG_TRY();
		{
			results = tg_purge(&p);
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(callercxt);
			edata = CopyErrorData();
			FlushErrorState();
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(callercxt);
			CurrentResourceOwner = oldowner;
			ReThrowError(edata);
		}
		PG_END_TRY();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(callercxt);
		CurrentResourceOwner = oldowner;
	}

	foreach(lc, results)
	{
		TgResult   *r = lfirst(lc);
		Datum		values[8];
		bool		nulls[8] = {false, false, false, false, false, false, false, false};

		values[0] = CStringGetTextDatum(r->id);
		nulls[1] = r->name == NULL;
		values[1] = r->name ? CStringGetTextDatum(r->name) : (Datum) 0;
		nulls[2] = r->subdomain == NULL;
		values[2] = r->subdomain ? CStringGetTextDatum(r->subdomain) : (Datum) 0;
		nulls[3] = r->email == NULL;
		values[3] = r->email ? CStringGetTextDatum(r->email) : (Datum) 0;
		nulls[4] = r->reason == NULL;
		values[4] = r->reason ? CStringGetTextDatum(r->reason) : (Datum) 0;
		values[5] = DirectFunctionCall1(jsonb_in, CStringGetDatum(r->deleted));
		values[6] = DirectFunctionCall1(jsonb_in, CStringGetDatum(r->updated));
		values[7] = Int64GetDatum(r->total);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* Define tenant_guard.purge_max_share and purge_keyset_memory. */
void
tg_purge_init(void)
{
	DefineCustomIntVariable("tenant_guard.purge_keyset_memory",
							"Most memory the key sets of one purge may hold together.",
							"Past it a level finds its rows by a join instead (see the README).",
							&tg_purge_keyset_memory,
							1024 * 1024, 64, MAX_KILOBYTES,
							PGC_SUSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomRealVariable("tenant_guard.purge_max_share",
							 "Largest share of all tenants one purge may remove without force.",
							 "purge_test_tenants() refuses to remove more than this fraction of the tenants table unless called with force => true.",
							 &tg_purge_max_share,
							 0.5, 0.0, 1.0,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
}
