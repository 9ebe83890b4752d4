/*-------------------------------------------------------------------------
 *
 * purge_delete.c
 *	  Steps 4-7 of tenant_guard.purge_test_tenants() (purge.c): plan and run
 *	  the deletes of the chosen tenants and of every row that depends on them.
 *
 *	  4. plan: walk the foreign-key graph (fkgraph.c) from the tenants
 *		 table and refuse if a table's own ON DELETE triggers or rules would
 *		 be skipped;
 *	  5. delete top-down with session_replication_role = replica: the
 *		 tenants first (DELETE ... RETURNING into a temp table), then for
 *		 each foreign key into a table we deleted from, the referencing rows,
 *		 level after level until no rows are left -- self-references and
 *		 cycles just go round again.  Every row carries the ordinal of the
 *		 tenant it belongs to, so rows are counted per tenant and table.
 *		 PostgreSQL's per-row RI triggers stay quiet: their work is exactly
 *		 what this loop does, set-based.  A level finds its rows one of two
 *		 ways:
 *		 - a key set (purge_keyset.c), for a one-column key of an integer,
 *		   oid or uuid type when the child table has at most
 *		   TG_KEYSET_BLOCKS_PER_KEY blocks per key: the parent level's keys
 *		   and ordinals in memory, and "DELETE FROM child c WHERE
 *		   purge_match(c.fk)", a sequential scan with one lookup per row
 *		   that counts each match for its tenant.  A child whose own
 *		   children need only one column of it keeps that column's keys in
 *		   the next key set as it deletes (purge_match_keep), without
 *		   RETURNING and without a temp table (tg_plan_keep, made from the
 *		   set if a join needs one after all: tg_work_tmp);
 *		 - otherwise a join (DELETE ... USING the parent level's temp
 *		   table, ANALYZEd, with work_mem raised so that the hash fits:
 *		   tg_hash_room), RETURNING what the next level needs straight into
 *		   its temp table; a leaf's rows are counted inside the join by
 *		   purge_tally() instead (no RETURNING, which would fetch every row
 *		   back).
 *		 Matches (purge_match, purge_tally) are checked against the rows
 *		 deleted; when a concurrent change makes the two differ, steps 5-7
 *		 roll back and run again the exact way, every level by a join with
 *		 RETURNING (tg_run_counted).
 *		 Deleting a parent before its children is what keeps concurrent
 *		 writers safe: a row inserted under a tenant must lock the parent
 *		 row (FOR KEY SHARE), which our DELETE holds or waits for, so every
 *		 child either committed before we reach its level (and is deleted
 *		 there) or fails its foreign-key check after we commit;
 *		 With archive (archive.c), every DELETE also returns the rows it
 *		 deletes, with the tenant ordinal (or the key, looked up in the
 *		 level's key set by the receiver): the receiver keeps them for the
 *		 tenant's archive document (export_doc.c, tg_capture_col) and stores
 *		 the rest in the next level's temp table as before;
 *	  6. ON DELETE SET NULL / SET DEFAULT: those rows are updated, with
 *		 triggers back on, so PostgreSQL checks SET DEFAULT values and runs
 *		 ON UPDATE actions as it would;
 *	  7. refuse if a protected tenant of any guarded table was reached
 *		 through the graph;
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "tcop/dest.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "archive_at.h"
#include "names.h"
#include "tg_assert.h"
#include "safesql.h"
#include "purge_int.h"

/*
 * Memory a hash join takes per row of a temp table of keys (about 60
 * bytes for a bigint key, measured), with room; and the most one purge
 * join may hash in memory before it spills to disk in batches.
 */
#define TG_HASH_ROW_BYTES 128
#define TG_HASH_MAX_KB (1024 * 1024)

/*
 * A level is found through a key set (purge_keyset.c: a sequential scan
 * of the child table, one hash probe per row) rather than a join when the
 * child table has at most this many blocks per key: fewer keys are found
 * faster through the foreign key's index.
 */
#define TG_KEYSET_BLOCKS_PER_KEY 4

/*
 * A DestReceiver that counts rows per tenant ordinal (column 1) and, when
 * rel is set, stores them in that temp table: DELETE ... RETURNING goes
 * straight into the next level's table, with no CTE tuplestore between.
 */
typedef struct TgCountReceiver
{
	DestReceiver pub;
	int64	   *counts;
	int			n;
	Relation	rel;			/* NULL: count only */
	BulkInsertState bistate;
	CommandId	cid;
	List	   *setcols;		/* fill key sets of these columns */
	TgKeySet  **sets;			/* [list_length(setcols)], made here */
	MemoryContext setcxt;		/* in this context */
	int		   *setattnos;		/* their attribute numbers */
	Oid		   *settypes;		/* their base types */
	TgCapture  *capture;		/* keep the rows (last columns) for the archive */
	TgTable    *table;			/* as rows of this table */
	int			captureatt;		/* the first of those columns */
	TgRowPlan  *rowplan;		/* they are the row's columns; NULL: to_jsonb() */
	TupleTableSlot *storeslot;	/* rel's columns, without them */
	TgKeySet   *ordset;			/* column 1 is a key of ordtype in this set,
								 * not an ordinal */
	Oid			ordtype;
} TgCountReceiver;

/* Count one row for its tenant; store it if there is a table. */
static bool
tg_count_receive(TupleTableSlot *slot, DestReceiver *self)
{
	TgCountReceiver *r = (TgCountReceiver *) self;
	bool		isnull;
	Datum		d = slot_getattr(slot, 1, &isnull);

	if (r->ordset && !isnull)
	{
		int32		ord = tg_keyset_ord(r->ordset, r->ordtype, d);

		d = Int32GetDatum(ord);
		isnull = (ord == 0);
	}

	if (!isnull)
	{
		int			ord = DatumGetInt32(d);

		if (ord >= 1 && ord <= r->n)
			r->counts[ord]++;
		for (int i = 0; i < list_length(r->setcols); i++)
		{
			Datum		key;

			if (r->sets[i] == NULL)
				continue;
			key = slot_getattr(slot, r->setattnos[i], &isnull);
			if (!isnull)
				tg_keyset_add(r->sets[i], r->settypes[i], key, ord);
		}
	}
	if (r->capture && r->rowplan)
	{
		if (isnull)
			elog(ERROR, "purge archive: a deleted row without its tenant");
		tg_capture_add_slot(r->capture, DatumGetInt32(d), r->table->index, r->rowplan, slot,
							r->captureatt);
	}
	else if (r->capture)
	{
		bool		rownull;
		Datum		row = slot_getattr(slot, r->captureatt, &rownull);

		if (isnull || rownull)
			elog(ERROR, "purge archive: a deleted row without its tenant or its data");
		tg_capture_add(r->capture, DatumGetInt32(d), r->table->index, row);
	}
	if (r->rel && r->storeslot)
	{
		/* the same row without the archive's column */
		int			natts = r->storeslot->tts_tupleDescriptor->natts;

		slot_getallattrs(slot);
		ExecClearTuple(r->storeslot);
		memcpy(r->storeslot->tts_values, slot->tts_values, natts * sizeof(Datum));
		memcpy(r->storeslot->tts_isnull, slot->tts_isnull, natts * sizeof(bool));
		ExecStoreVirtualTuple(r->storeslot);
		table_tuple_insert(r->rel, r->storeslot, r->cid, TABLE_INSERT_SKIP_FSM, r->bistate);
	}
	else if (r->rel)
		table_tuple_insert(r->rel, slot, r->cid, TABLE_INSERT_SKIP_FSM, r->bistate);
	return true;
}

/*
 * Inserts carry the command id of the statement that returns the rows;
 * make a key set for each column in setcols whose type one can hold (the
 * others get none: their levels take the join).
 */
static void
tg_count_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
	TgCountReceiver *r = (TgCountReceiver *) self;
	ListCell   *lc;

	(void) operation;
	if (r->rel)
		r->cid = GetCurrentCommandId(true);
	if (r->capture)
	{
		/*
		 * RETURNING ends with the row's columns, or the row as jsonb; the
		 * temp table has none of them
		 */
		r->captureatt = typeinfo->natts - Max(r->table->capture_n, 1) + 1;
		if (r->table->capture_n > 0)
			r->rowplan = tg_capture_plan(r->capture, r->table->index, typeinfo, r->captureatt);
		if (r->rel)
			r->storeslot = MakeSingleTupleTableSlot(RelationGetDescr(r->rel), &TTSOpsVirtual);
	}
	foreach(lc, r->setcols)
	{
		int			i = foreach_current_index(lc);
		char	   *name = psprintf("c_%s", (char *) lfirst(lc));

		r->sets[i] = NULL;
		for (int a = 0; a < typeinfo->natts; a++)
		{
			Form_pg_attribute att = TupleDescAttr(typeinfo, a);
			TgKeyKind	kind;

			if (att->attisdropped || strcmp(NameStr(att->attname), name) != 0)
				continue;
			r->setattnos[i] = a + 1;
			r->settypes[i] = getBaseType(att->atttypid);
			kind = tg_key_kind(r->settypes[i]);
			if (kind != TG_KEY_NONE)
				r->sets[i] = tg_keyset_create(r->settypes[i], r->setcxt);
			break;
		}
	}
}

/* Nothing to tear down. */
static void
tg_count_noop(DestReceiver *self)
{
	(void) self;
}

/* Drop the store slot while the executor's memory it lives in is there. */
static void
tg_count_shutdown(DestReceiver *self)
{
	TgCountReceiver *r = (TgCountReceiver *) self;

	if (r->storeslot)
		ExecDropSingleTupleTableSlot(r->storeslot);
	r->storeslot = NULL;
}

/* Log a purge statement and its duration at DEBUG1. */
static void
tg_debug_statement(const char *sql, TimestampTz start)
{
	long		secs;
	int			usecs;

	if (!message_level_is_interesting(DEBUG1))
		return;
	TimestampDifference(start, GetCurrentTimestamp(), &secs, &usecs);
	elog(DEBUG1, "tenant_guard purge: %.3f ms, " UINT64_FORMAT " rows, work_mem %d: %s",
		 secs * 1000.0 + usecs / 1000.0, SPI_processed, work_mem, sql);
}

/*
 * Run sql, counting its result rows (first column: ordinal) into counts;
 * with rel, also store them in that table; with setcols, also add the
 * values of those columns (c_<name>) to the key sets sets[]; with
 * capture, keep the last columns (tg_capture_col, not stored in rel) as
 * a deleted row of table.
 */
static uint64
tg_exec_counting_keyed(const char *sql, int64 *counts, int n, Relation rel,
					   List *setcols, TgKeySet **sets, MemoryContext setcxt,
					   TgCapture *capture, TgTable *table, TgKeySet *ordset, Oid ordtype)
{
	TgCountReceiver r;
	SPIExecuteOptions options;
	TimestampTz start;
	int			rc;

	memset(&r, 0, sizeof(r));
	r.pub.receiveSlot = tg_count_receive;
	r.pub.rStartup = tg_count_startup;
	r.pub.rShutdown = tg_count_shutdown;
	r.pub.rDestroy = tg_count_noop;
	r.pub.mydest = DestNone;
	r.counts = counts;
	r.n = n;
	r.rel = rel;
	if (rel)
		r.bistate = GetBulkInsertState();
	r.setcols = setcols;
	r.sets = sets;
	r.setcxt = setcxt;
	r.capture = capture;
	r.table = table;
	r.ordset = ordset;
	r.ordtype = ordtype;
	if (setcols != NIL)
	{
		r.setattnos = palloc0(sizeof(int) * list_length(setcols));
		r.settypes = palloc0(sizeof(Oid) * list_length(setcols));
	}

	memset(&options, 0, sizeof(options));
	options.dest = (DestReceiver *) &r;
	start = GetCurrentTimestamp();
	rc = SPI_execute_extended(sql, &options);
	if (rc < 0)
		elog(ERROR, "SPI_execute_extended failed: %s (%s)", SPI_result_code_string(rc), sql);
	if (rel)
	{
		FreeBulkInsertState(r.bistate);
		table_finish_bulk_insert(rel, TABLE_INSERT_SKIP_FSM);
	}
	tg_debug_statement(sql, start);
	return SPI_processed;
}

/* tg_exec_counting_keyed() of a statement whose column 1 is the ordinal. */
static uint64
tg_exec_counting(const char *sql, int64 *counts, int n, Relation rel,
				 List *setcols, TgKeySet **sets, MemoryContext setcxt,
				 TgCapture *capture, TgTable *table)
{
	return tg_exec_counting_keyed(sql, counts, n, rel, setcols, sets, setcxt, capture, table,
								  NULL, InvalidOid);
}

/*
 * Run a DELETE whose rows the DELETE itself counts (purge_match,
 * purge_tally); with capture its RETURNING list is (ordinal, row as
 * jsonb), kept for the archive as rows of table tableno.
 */
static uint64
tg_exec_capturing(const char *sql, TgCapture *capture, TgTable *table,
				  TgKeySet *ordset, Oid ordtype)
{
	if (capture == NULL)
		return tg_exec(sql);
	return tg_exec_counting_keyed(sql, NULL, 0, NULL, NIL, NULL, NULL, capture, table,
								  ordset, ordtype);
}

/*
 * What RETURNING adds for the archive: the row of t (alias) as its
 * columns, which the receiver writes as jsonb itself (export_doc.c), or,
 * for a table with a column type only to_jsonb() knows, to_jsonb() of it.
 */
static const char *
tg_capture_col(TgPurge *p, TgTable *t, const char *alias)
{
	StringInfoData buf;
	ListCell   *lc;

	if (p->capture == NULL)
		return "";
	if (!t->capture_planned)
	{
		t->capture_planned = true;
		t->capture_n = 0;
		if (tg_rowplan_supported(t->relid))
		{
			Relation	rel = table_open(t->relid, AccessShareLock);
			TupleDesc	desc = RelationGetDescr(rel);

			for (int i = 0; i < desc->natts; i++)
			{
				Form_pg_attribute att = TupleDescAttr(desc, i);

				if (att->attisdropped)
					continue;
				t->capture_cols = lappend(t->capture_cols,
										  pstrdup(quote_identifier(NameStr(att->attname))));
				t->capture_n++;
			}
			table_close(rel, AccessShareLock);
		}
	}
	initStringInfo(&buf);
	if (t->capture_n == 0)
		appendStringInfo(&buf, ", pg_catalog.to_jsonb(%s) AS tg_archive", alias);
	foreach(lc, t->capture_cols)
		appendStringInfo(&buf, ", %s.%s", alias, (char *) lfirst(lc));
	return buf.data;
}

/*
 * Keep the archive's rows of t by address (purge_match_at(), archive_at.c)
 * instead of RETURNING them?  In the tally's run (whose matches are
 * proved to be the rows deleted; the run again counts with RETURNING),
 * for a table of heap tuples whose columns the row writer knows.
 */
static bool
tg_capture_by_address(TgPurge *p, TgTable *t)
{
	if (p->capture == NULL || !p->tally || tg_capture_col(p, t, "c")[0] == '\0')
		return false;
	if (t->capture_n == 0)
		return false;
	if (t->capture_at == 0)
	{
		t->capture_at = tg_at_supported(t->relid) ? 1 : -1;

		/*
		 * The archive shows every column: the caller must be able to read
		 * them, as RETURNING them would have required (the DELETE itself
		 * reads only its key columns)
		 */
		if (t->capture_at > 0 &&
			pg_class_aclcheck(t->relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK &&
			pg_attribute_aclcheck_all(t->relid, GetUserId(), ACL_SELECT, ACLMASK_ALL) != ACLCHECK_OK)
			aclcheck_error(ACLCHECK_NO_PRIV, get_relkind_objtype(t->relkind), get_rel_name(t->relid));
	}
	return t->capture_at > 0;
}

/* Run one statement that returns no rows we need. */
uint64
tg_exec(const char *sql)
{
	TimestampTz start = GetCurrentTimestamp();
	int			rc = SPI_execute(sql, false, 0);

	if (rc < 0)
		elog(ERROR, "SPI_execute failed: %s (%s)", SPI_result_code_string(rc), sql);
	tg_debug_statement(sql, start);
	return SPI_processed;
}

/*
 * The tally.  RETURNING makes the executor fetch every deleted row back
 * from the heap, which is a third of a big leaf DELETE's time; a leaf
 * table's rows are needed only as counts per tenant.  So a leaf DELETE
 * carries "AND tenant_guard.purge_tally(p.ord, c.key)" as its last join
 * condition instead, and this counts each call for its tenant.  A call is
 * not a deletion: the executor re-checks a row a concurrent transaction
 * updated (a second call) and skips one it deleted (no deletion).  Every
 * deleted row made at least one call, so calls = rows deleted proves the
 * counts exact; anything else makes the purge roll back and count again
 * with RETURNING (tg_run_counted).
 */
typedef struct TgTally
{
	int64	   *counts;			/* per tenant ordinal, [0..n] */
	int			n;
	uint64		calls;			/* every call */
	uint64		counted;		/* calls with an ordinal in 1..n */
} TgTally;

/* The tally of the statement running now; NULL: none. */
static TgTally *tg_tally = NULL;

PG_FUNCTION_INFO_V1(purge_tally);

/*
 * purge_tally(ord integer, key anyelement) RETURNS boolean: true; counts
 * ord while a purge's leaf DELETE of this backend runs, else nothing.
 */
Datum
purge_tally(PG_FUNCTION_ARGS)
{
	TgTally    *t = tg_tally;

	if (t != NULL)
	{
		t->calls++;
		if (!PG_ARGISNULL(0))
		{
			int32		ord = PG_GETARG_INT32(0);

			if (ord >= 1 && ord <= t->n)
			{
				t->counts[ord]++;
				t->counted++;
			}
		}
	}
	PG_RETURN_BOOL(true);
}

/*
 * Run a leaf DELETE whose join calls purge_tally(), counting into counts;
 * false when the tally does not match the rows deleted.
 */
static bool
tg_exec_tallied(const char *sql, int64 *counts, int n, TgCapture *capture, TgTable *table)
{
	TgTally		tally;
	TgTally    *saved = tg_tally;
	volatile uint64 deleted = 0;

	memset(&tally, 0, sizeof(tally));
	tally.counts = counts;
	tally.n = n;
	tg_tally = &tally;
	PG_TRY();
	{
		deleted = tg_exec_capturing(sql, capture, table, NULL, InvalidOid);
	}
	PG_FINALLY();
	{
		tg_tally = saved;
	}
	PG_END_TRY();
	TG_ASSERT(tally.counted <= tally.calls);
	return tally.calls == deleted && tally.counted == deleted;
}

/*
 * Run a DELETE that finds its rows with purge_match() (or, keeping their
 * own keys in keep, purge_match_keep()) in ks, counting into counts; sets
 * *deleted; false when the matches are not the rows deleted (a concurrent
 * transaction changed one: see the tally).  byaddr: sql calls
 * purge_match_at(), which keeps the address of each row in capture.
 */
static bool
tg_exec_matched(const char *sql, TgKeySet *ks, int64 *counts, int n, TgKeySet *keep,
				uint64 *deleted_out, TgCapture *capture, TgTable *table, Oid keytype,
				bool byaddr)
{
	volatile uint64 deleted = 0;
	uint64		matched = 0;

	tg_keyset_activate(ks, counts, n, keep);
	PG_TRY();
	{
		if (byaddr)
		{
			/* purge_match_at() keeps the addresses, sql returns nothing */
			tg_capture_plan_rel(capture, table->index, table->relid);
			tg_keyset_capture_to(capture, table->index);
			deleted = tg_exec(sql);
		}
		else
			deleted = tg_exec_capturing(sql, capture, table, ks, keytype);
	}
	PG_FINALLY();
	{
		matched = tg_keyset_deactivate();
	}
	PG_END_TRY();
	*deleted_out = deleted;
	/* a set that gave up during the statement found rows it should have */
	return matched == deleted && tg_keyset_usable(ks) &&
		!(byaddr && tg_capture_at_lost(capture));
}

/* A fresh temp table name. */
static char *
tg_new_tmp(TgPurge *p)
{
	char	   *name = psprintf("pg_temp.tg_purge_%d", ++p->ntmp);

	p->tmps = lappend(p->tmps, name);
	return name;
}

/* Quoted qualified name and schema.table label of a relation. */
void
tg_rel_names(Oid relid, char **qualname, char **label)
{
	char	   *nsp = get_namespace_name(get_rel_namespace(relid));
	char	   *rel = get_rel_name(relid);

	if (nsp == NULL || rel == NULL)
		elog(ERROR, "relation %u vanished", relid);
	*qualname = quote_qualified_identifier(nsp, rel);
	if (label)
		*label = psprintf("%s.%s", nsp, rel);
}

/*
 * The key column whose values must not be protected tenants when rows of
 * relid go, or NULL.  A partition of a guarded table holds that table's
 * tenants, whichever foreign key reaches it; a partitioned table reached
 * as a whole holds the tenants of a guarded partition (its rows from other
 * partitions are checked too: stricter, never laxer).
 */
static char *
tg_guarded_keycol(TgPurge *p, Oid relid, char relkind)
{
	List	   *family = list_make1_oid(relid);
	ListCell   *lc;

	if (get_rel_relispartition(relid))
		family = list_concat(family, get_partition_ancestors(relid));
	if (relkind == RELKIND_PARTITIONED_TABLE)
		family = list_concat(family, find_all_inheritors(relid, NoLock, NULL));
	foreach(lc, family)
	{
		ListCell   *lc2;
		ListCell   *lc3;

		forboth(lc2, p->guarded_relids, lc3, p->guarded_keycols)
		{
			if (lfirst_oid(lc2) == lfirst_oid(lc))
				return lfirst(lc3);
		}
	}
	return NULL;
}

/* The table entry for relid, created on first use. */
static TgTable *
tg_table(TgPurge *p, Oid relid, char relkind)
{
	ListCell   *lc;
	TgTable    *t;
	Relation	rel;

	foreach(lc, p->tables)
	{
		t = lfirst(lc);
		if (t->relid == relid)
			return t;
	}
	t = palloc0(sizeof(TgTable));
	t->relid = relid;
	t->index = list_length(p->tables);
	t->relkind = relkind;
	tg_rel_names(relid, &t->qualname, &t->label);
	rel = relation_open(relid, AccessShareLock);
	t->desc = CreateTupleDescCopy(RelationGetDescr(rel));
	relation_close(rel, AccessShareLock);
	t->deleted = palloc0(sizeof(int64) * (p->ntargets + 1));
	t->updated = palloc0(sizeof(int64) * (p->ntargets + 1));
	t->keycol = tg_guarded_keycol(p, relid, relkind);
	p->tables = lappend(p->tables, t);
	return t;
}

/*
 * Does now still have every column planned had, at the same number, with
 * the same name and type?  (Columns added since do not matter: no
 * statement of the purge names them.)  A column dropped, renamed or
 * retyped does: a name could now mean another column.
 */
static bool
tg_same_columns(TupleDesc planned, TupleDesc now)
{
	if (now->natts < planned->natts)
		return false;
	for (int i = 0; i < planned->natts; i++)
	{
		Form_pg_attribute p = TupleDescAttr(planned, i);
		Form_pg_attribute n = TupleDescAttr(now, i);

		if (p->attisdropped)
			continue;
		if (n->attisdropped ||
			strcmp(NameStr(p->attname), NameStr(n->attname)) != 0 ||
			p->atttypid != n->atttypid || p->atttypmod != n->atttypmod ||
			p->attcollation != n->attcollation)
			return false;
	}
	return true;
}

/*
 * Before a statement on t: the purge's SQL names t and its columns as they
 * were when it planned.  Code it runs in between (a cast to json of a
 * column's type, which to_jsonb() of the rows an earlier DELETE returns
 * calls; a trigger of an ON DELETE SET NULL update), or another session
 * before the purge reaches t, may rename t, its schema or its columns,
 * and put another table or column in their place: the statement would
 * delete or update other rows than the purge's walk found, and its
 * journal and archive would call them t's.  The lock taken here is kept,
 * so no other session changes t between this check and the statement.
 */
static void
tg_check_unchanged(TgTable *t)
{
	Relation	rel = try_relation_open(t->relid, AccessShareLock);
	bool		same = false;

	if (rel != NULL)
	{
		char	   *nsp = get_namespace_name(RelationGetNamespace(rel));

		same = nsp != NULL &&
			strcmp(quote_qualified_identifier(nsp, RelationGetRelationName(rel)),
				   t->qualname) == 0 &&
			tg_same_columns(t->desc, RelationGetDescr(rel));
		relation_close(rel, NoLock);
	}
	if (!same)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" changed during the purge", t->label),
				 errdetail("It was renamed, moved or dropped, or one of its columns was dropped, renamed or retyped, after the purge had planned its statements: by code the purge ran in its own transaction (a cast to json of a column's type, a trigger of a table it updates) or by another session. Nothing was purged.")));
}

/* Add a column name to a list unless it is there (export.c too). */
List *
tg_add_column(List *cols, char *col)
{
	ListCell   *lc;

	foreach(lc, cols)
	{
		if (strcmp(lfirst(lc), col) == 0)
			return cols;
	}
	return lappend(cols, col);
}

/* Column name in a temp table for a carried column. */
static const char *
tg_tmp_col(const char *col)
{
	return quote_identifier(psprintf("c_%s", col));
}

/*
 * Can the rows of t be deleted without RETURNING?  Its children need only
 * the keys of one column (all foreign keys into t are one column, delete
 * rather than update, and compare with an operator a key set serves), and
 * nothing else needs its rows (not a guarded table, not a partition that
 * is referenced on its own): then the DELETE keeps those keys in a key set
 * with purge_match_keep() as it goes, and a join that needs them after
 * all gets a temp table made from the set (tg_work_tmp).
 */
static void
tg_plan_keep(TgTable *t)
{
	ListCell   *lc;
	char	   *col;
	AttrNumber	attnum;

	if (t->keycol != NULL || t->needs_rel || list_length(t->needed) != 1 ||
		list_length(t->setcols) != 1 ||
		(t->relkind != RELKIND_RELATION && t->relkind != RELKIND_PARTITIONED_TABLE))
		return;
	col = linitial(t->needed);
	if (strcmp(col, linitial(t->setcols)) != 0)
		return;
	foreach(lc, t->edges)
	{
		TgFkEdge   *e = lfirst(lc);

		if (e->action == 'n' || e->action == 'd' || e->nkeys != 1 ||
			e->referenced_is_partition ||
			tg_key_kind_of_operator(e->eqopids[0]) == TG_KEY_NONE)
			return;
	}
	attnum = get_attnum(t->relid, col);
	if (attnum == InvalidAttrNumber || tg_key_kind(get_atttype(t->relid, attnum)) == TG_KEY_NONE)
		return;
	t->keepcol = col;
}

/*
 * The purge plan: every table rows may be deleted from, the edges into
 * it and what its temp tables must carry.  Nothing is deleted here, so
 * refusals (triggers, rules) come before any work.
 */
void
tg_plan(TgPurge *p)
{
	List	   *queue;
	ListCell   *lc;
	TgTable    *root = tg_table(p, p->root, p->root_kind);

	root->deletes = true;
	queue = list_make1(root);
	while (queue != NIL)
	{
		TgTable    *t = linitial(queue);

		queue = list_delete_first(queue);
		t->edges = tg_fk_edges_into(t->relid);
		if (t == root)
			t->edges = list_concat(t->edges, p->registered);
		if (t->keycol)
			t->needed = tg_add_column(t->needed, t->keycol);
		foreach(lc, t->edges)
		{
			TgFkEdge   *e = lfirst(lc);
			TgTable    *c;

			for (int i = 0; i < e->nkeys; i++)
				t->needed = tg_add_column(t->needed, e->parent_cols[i]);
			if (e->referenced_is_partition)
				t->needs_rel = true;
			c = tg_table(p, e->child, e->child_kind);
			if (e->action == 'n' || e->action == 'd')
				continue;		/* updated, not deleted: no further cascade */
			if (e->nkeys == 1 && !e->referenced_is_partition &&
				tg_key_kind_of_operator(e->eqopids[0]) != TG_KEY_NONE)
				t->setcols = tg_add_column(t->setcols, e->parent_cols[0]);
			if (!c->deletes)
			{
				c->deletes = true;
				queue = lappend(queue, c);
			}
		}
		tg_fk_check_triggers(t->relid);
	}
	foreach(lc, p->tables)
	{
		TgTable    *t = lfirst(lc);

		if (t != root && t->deletes)
			tg_plan_keep(t);
	}
}

/* The column list a temp table of t carries, for RETURNING. */
static void
tg_returning_list(StringInfo buf, TgTable *t, const char *alias)
{
	ListCell   *lc;

	if (t->needs_rel)
		appendStringInfo(buf, ", %s.tableoid AS tg_rel", alias);
	foreach(lc, t->needed)
	{
		char	   *col = lfirst(lc);

		appendStringInfo(buf, ", %s.%s AS %s", alias, quote_identifier(col), tg_tmp_col(col));
	}
}

/*
 * The parent side of key column i of edge e, read from the temp table
 * (which has the parent column's collation).  When the child column has
 * another collation, the child's is put on the parent side, as
 * PostgreSQL's own foreign-key checks do: two different implicit
 * collations could not be compared (or hashed) at all.
 */
static char *
tg_parent_operand(TgFkEdge *e, int i, const char *parent_alias)
{
	char	   *expr = psprintf("%s.%s", parent_alias, tg_tmp_col(e->parent_cols[i]));
	AttrNumber	pattnum = get_attnum(e->referenced, e->parent_cols[i]);
	AttrNumber	cattnum = get_attnum(e->child, e->child_cols[i]);
	Oid			typid;
	int32		typmod;
	Oid			pcoll;
	Oid			ccoll;

	if (pattnum == InvalidAttrNumber || cattnum == InvalidAttrNumber)
		return expr;
	get_atttypetypmodcoll(e->referenced, pattnum, &typid, &typmod, &pcoll);
	get_atttypetypmodcoll(e->child, cattnum, &typid, &typmod, &ccoll);
	if (!OidIsValid(ccoll) || pcoll == ccoll)
		return expr;
	return psprintf("(%s) COLLATE %s", expr, generate_collation_name(ccoll));
}

/*
 * The join condition "child row references a row in the temp table",
 * for edge e into parent table t.
 */
void
tg_edge_condition(StringInfo buf, TgFkEdge *e, const char *parent_alias,
				  const char *child_alias)
{
	for (int i = 0; i < e->nkeys; i++)
		appendStringInfo(buf, "%s%s",
						 i > 0 ? " AND " : "",
						 tg_eq_sql(e->eqopids[i],
								   tg_parent_operand(e, i, parent_alias),
								   psprintf("%s.%s", child_alias, quote_identifier(e->child_cols[i]))));
	if (e->referenced_is_partition)
		appendStringInfo(buf,
						 " AND %s.tg_rel OPERATOR(pg_catalog.=) ANY (SELECT t.relid::pg_catalog.oid"
						 " FROM pg_catalog.pg_partition_tree(%u::pg_catalog.oid::pg_catalog.regclass) t)",
						 parent_alias, e->referenced);
}

/*
 * Room for the next statement to hash rows rows of a temp table in one
 * batch: raise work_mem (never lower it) until work_mem times
 * hash_mem_multiplier holds them, up to TG_HASH_MAX_KB.  A hash join that
 * does not fit splits both sides into batch files, and at ten times the
 * benchmark's rows that doubles the purge's time.  Returns the GUC nest
 * level to pop after the statement.
 */
int
tg_hash_room(uint64 rows)
{
	int			nest = NewGUCNestLevel();
	double		need_kb = Min((double) rows * TG_HASH_ROW_BYTES / 1024.0, TG_HASH_MAX_KB);
	double		kb = need_kb / Max(hash_mem_multiplier, 1.0);

	if (kb > (double) work_mem)
	{
		char		value[32];

		snprintf(value, sizeof(value), "%.0f", Min(kb + 1.0, (double) MAX_KILOBYTES));
		(void) set_config_option("work_mem", value,
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	}
	return nest;
}

/*
 * ANALYZE a temp table for the next level's join.  Its join columns hold
 * keys the child tables reference, unique or nearly: a small sample tells
 * the planner that as well as the default one, at a tenth of the cost.
 */
static void
tg_analyze(const char *tmp, TgTable *t)
{
	int			nest;
	StringInfoData sql;
	ListCell   *lc;

	initStringInfo(&sql);
	appendStringInfo(&sql, "ANALYZE %s (", tmp);
	if (t->needs_rel)
		appendStringInfoString(&sql, "tg_rel, ");
	foreach(lc, t->needed)
		appendStringInfo(&sql, "%s, ", tg_tmp_col(lfirst(lc)));
	if (sql.data[sql.len - 1] == '(')
		return;					/* nothing joins on it */
	sql.len -= 2;
	appendStringInfoChar(&sql, ')');

	nest = NewGUCNestLevel();
	(void) set_config_option("default_statistics_target", "10",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	tg_exec(sql.data);
	AtEOXact_GUC(true, nest);
}

/*
 * ANALYZE the temp table of w before the first join against it (levels
 * served by key sets never join it).  Even a few rows: without statistics
 * the planner takes a fresh temp table for a couple of thousand rows and
 * hashes the whole child table instead of looking the few keys up in its
 * index (a one-tenant purge over a million child rows: 300 ms without,
 * 16 ms with; an ANALYZE of a small table costs about 0.1 ms).
 */
static void
tg_work_analyze(TgWork *w)
{
	if (w->analyzed)
		return;
	w->analyzed = true;
	if (w->rows > 0)
		tg_analyze(w->tmp, w->table);
}

/*
 * Create temp table tmp (for rows of t) with the columns of the query shape
 * (SELECT ... WITH NO DATA), run the DELETE ... RETURNING sql straight into it,
 * counting its rows per tenant into counts, and queue the rows as work for
 * the next level, with key sets of t's setcols filled on the way.
 */
static void
tg_delete_into(TgPurge *p, TgTable *t, char *tmp, const char *shape,
			   const char *sql, int64 *counts, TgKeySet *ks)
{
	Oid			relid;
	Relation	rel;
	TgKeySet  **volatile sets = NULL;
	volatile uint64 n = 0;

	tg_exec(psprintf("CREATE TEMP TABLE %s ON COMMIT DROP AS %s WITH NO DATA", tmp, shape));
	relid = RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(tmp)),
							 NoLock, false);
	/* we created it: AccessExclusiveLock is ours until the end */
	rel = table_open(relid, NoLock);
	if (p->tally && t->setcols != NIL)
		sets = palloc0(sizeof(TgKeySet *) * list_length(t->setcols));
	/* with ks, purge_ord() finds the ordinals RETURNING counts */
	tg_keyset_activate(ks, NULL, 0, NULL);
	PG_TRY();
	{
		n = tg_exec_counting(sql, counts, p->ntargets, rel, sets ? t->setcols : NIL, sets,
							 p->setcxt, p->capture, t);
	}
	PG_FINALLY();
	{
		(void) tg_keyset_deactivate();
	}
	PG_END_TRY();
	/* a set that gave up during the statement missed rows: go round again */
	if (ks != NULL && !tg_keyset_usable(ks))
		p->tally_missed = true;
	table_close(rel, NoLock);
	if (n > 0)
	{
		TgWork	   *w = palloc0(sizeof(TgWork));

		w->table = t;
		w->tmp = tmp;
		w->rows = n;
		w->sets = sets;
		p->work = lappend(p->work, w);
	}
	else if (sets)
	{
		for (int i = 0; i < list_length(t->setcols); i++)
			tg_keyset_free(sets[i]);
	}
}

/* Delete the rows of the tenants table (step 5, first level). */
static void
tg_delete_root(TgPurge *p)
{
	TgTable    *root = linitial(p->tables);
	StringInfoData list;
	char	   *tmp = tg_new_tmp(p);
	const char *only = p->root_kind == 'p' ? "" : "ONLY ";

	/* as it was when the purge began (p->root_name), and planned */
	if (strcmp(p->root_name, root->qualname) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" changed during the purge", p->root_label),
				 errdetail("It was renamed or moved by code the purge ran in its own transaction. Nothing was purged.")));
	tg_check_unchanged(root);
	initStringInfo(&list);
	appendStringInfoString(&list, "x.ord, pg_catalog.to_jsonb(r.*)::pg_catalog.text AS tg_row");
	for (int i = 0; i < TG_NUM_FIELDS; i++)
	{
		if (p->fieldcol[i])
			appendStringInfo(&list, ", r.%s::pg_catalog.text AS tg_f%d",
							 quote_identifier(p->fieldcol[i]), i);
		else
			appendStringInfo(&list, ", NULL::pg_catalog.text AS tg_f%d", i);
	}
	tg_returning_list(&list, root, "r");
	tg_delete_into(p, root, tmp,
				   psprintf("SELECT %s FROM %s%s r, pg_temp.tg_purge_targets x",
							list.data, only, p->root_name),
				   psprintf("DELETE FROM %s%s r USING pg_temp.tg_purge_targets x"
							" WHERE %s RETURNING %s%s",
							only, p->root_name,
							tg_eq_sql(p->keyeqop, psprintf("r.%s", quote_identifier(p->keycol)), "x.key"),
							list.data, tg_capture_col(p, root, "r")),
				   root->deleted, NULL);
	p->root_tmp = tmp;
}

/*
 * Blocks a DELETE of t scans: the table, or all partitions of a
 * partitioned one; locked as that DELETE will lock them.
 */
static BlockNumber
tg_rel_blocks(TgTable *t)
{
	List	   *rels;
	ListCell   *lc;
	BlockNumber blocks = 0;

	if (t->relkind == RELKIND_PARTITIONED_TABLE)
		rels = find_all_inheritors(t->relid, RowExclusiveLock, NULL);
	else
	{
		LockRelationOid(t->relid, RowExclusiveLock);
		rels = list_make1_oid(t->relid);
	}
	foreach(lc, rels)
	{
		Relation	rel;

		if (!RELKIND_HAS_STORAGE(get_rel_relkind(lfirst_oid(lc))))
			continue;
		rel = table_open(lfirst_oid(lc), NoLock);
		blocks += RelationGetNumberOfBlocks(rel);
		table_close(rel, NoLock);
	}
	return blocks;
}

/*
 * The key set that can find the rows of c referencing the rows in w
 * through e, or NULL: then a join does.  A key set needs a one-column key
 * of a kind it holds on both sides, and pays when the scan it implies is
 * not much bigger than the index probes a join could do instead: at most
 * TG_KEYSET_BLOCKS_PER_KEY blocks of c per key.
 */
static TgKeySet *
tg_edge_keyset(TgPurge *p, TgWork *w, TgFkEdge *e, TgTable *c)
{
	TgKeySet   *ks = NULL;
	TgKeyKind	kind;
	ListCell   *lc;
	AttrNumber	attnum;

	if (!p->tally || w->sets == NULL || e->nkeys != 1 || e->referenced_is_partition)
		return NULL;
	if (c->relkind != RELKIND_RELATION && c->relkind != RELKIND_PARTITIONED_TABLE)
		return NULL;
	foreach(lc, w->table->setcols)
	{
		if (strcmp(lfirst(lc), e->parent_cols[0]) == 0)
			ks = w->sets[foreach_current_index(lc)];
	}
	if (!tg_keyset_usable(ks))
		return NULL;
	kind = tg_key_kind_of_operator(e->eqopids[0]);
	attnum = get_attnum(c->relid, e->child_cols[0]);
	if (kind != tg_keyset_kind(ks) || attnum == InvalidAttrNumber ||
		tg_key_kind(get_atttype(c->relid, attnum)) != kind)
		return NULL;
	if ((double) tg_rel_blocks(c) >
		(double) tg_keyset_size(ks) * TG_KEYSET_BLOCKS_PER_KEY)
		return NULL;
	return ks;
}

/* The base type of edge e's (one) key column in child table c. */
static Oid
tg_child_key_type(TgTable *c, TgFkEdge *e)
{
	return getBaseType(get_atttype(c->relid, get_attnum(c->relid, e->child_cols[0])));
}

/*
 * Delete the rows of c that reference keys in ks through e, keeping their
 * own keys (c->keepcol) in a key set for the next level instead of
 * returning them: purge_match_keep() sees each row it deletes, and
 * matches = rows deleted proves that it saw nothing else (as for a leaf).
 */
static void
tg_delete_keeping(TgPurge *p, TgTable *c, TgFkEdge *e, TgKeySet *ks)
{
	AttrNumber	attnum = get_attnum(c->relid, c->keepcol);
	TgKeySet   *keep = tg_keyset_create(get_atttype(c->relid, attnum), p->setcxt);
	char	   *sql;
	uint64		deleted;
	TgWork	   *w;

	bool		byaddr = tg_capture_by_address(p, c);

	if (byaddr)
		sql = psprintf("DELETE FROM %s%s c WHERE " TG_SCHEMA ".purge_match_at(c.%s, c.%s, c.tableoid, c.ctid)",
					   c->relkind == RELKIND_PARTITIONED_TABLE ? "" : "ONLY ", c->qualname,
					   quote_identifier(e->child_cols[0]), quote_identifier(c->keepcol));
	else
		sql = psprintf("DELETE FROM %s%s c WHERE " TG_SCHEMA ".purge_match_keep(c.%s, c.%s)",
					   c->relkind == RELKIND_PARTITIONED_TABLE ? "" : "ONLY ", c->qualname,
					   quote_identifier(e->child_cols[0]), quote_identifier(c->keepcol));
	if (p->capture && !byaddr)
		sql = psprintf("%s RETURNING c.%s%s", sql,
					   quote_identifier(e->child_cols[0]), tg_capture_col(p, c, "c"));
	if (!tg_exec_matched(sql, ks, c->deleted, p->ntargets, keep, &deleted,
						 p->capture, c, tg_child_key_type(c, e), byaddr) ||
		!tg_keyset_usable(keep))
	{
		/* tg_run_counted runs again with RETURNING */
		p->tally_missed = true;
		return;
	}
	if (deleted == 0)
	{
		tg_keyset_free(keep);
		return;
	}
	w = palloc0(sizeof(TgWork));
	w->table = c;
	w->rows = deleted;
	w->sets = palloc0(sizeof(TgKeySet *));
	w->sets[0] = keep;			/* setcols is (keepcol) */
	p->work = lappend(p->work, w);
}

/* Fill the temp table being made by tg_work_tmp with one key. */
static void
tg_tmp_insert_key(Datum key, int32 ord, void *arg)
{
	TgTmpFill  *f = arg;

	ExecClearTuple(f->slot);
	f->slot->tts_values[0] = Int32GetDatum(ord);
	f->slot->tts_isnull[0] = false;
	f->slot->tts_values[1] = key;
	f->slot->tts_isnull[1] = false;
	ExecStoreVirtualTuple(f->slot);
	table_tuple_insert(f->rel, f->slot, f->cid, TABLE_INSERT_SKIP_FSM, f->bistate);
}

/*
 * The temp table of w's rows, for a join, when w was deleted keeping only
 * a key set: (ord, c_<keepcol>) made from the set.
 */
static void
tg_work_tmp(TgPurge *p, TgWork *w)
{
	TgTable    *t = w->table;
	TgTmpFill	f;
	Oid			relid;

	if (w->tmp != NULL)
		return;
	w->tmp = tg_new_tmp(p);
	tg_exec(psprintf("CREATE TEMP TABLE %s ON COMMIT DROP AS"
					 " SELECT 0::pg_catalog.int4 AS ord, c.%s AS %s FROM %s%s c WITH NO DATA",
					 w->tmp, quote_identifier(t->keepcol), tg_tmp_col(t->keepcol),
					 t->relkind == RELKIND_PARTITIONED_TABLE ? "" : "ONLY ", t->qualname));
	relid = RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(w->tmp)),
							 NoLock, false);
	f.rel = table_open(relid, NoLock);
	f.slot = MakeSingleTupleTableSlot(RelationGetDescr(f.rel), &TTSOpsVirtual);
	f.bistate = GetBulkInsertState();
	f.cid = GetCurrentCommandId(true);
	tg_keyset_foreach(w->sets[0], tg_tmp_insert_key, &f);
	FreeBulkInsertState(f.bistate);
	table_finish_bulk_insert(f.rel, TABLE_INSERT_SKIP_FSM);
	ExecDropSingleTupleTableSlot(f.slot);
	table_close(f.rel, NoLock);
	/* the next statement sees the rows */
	CommandCounterIncrement();
}

/* Delete the rows that reference the rows in w through edge e. */
static void
tg_delete_edge(TgPurge *p, TgWork *w, TgFkEdge *e)
{
	TgTable    *c = tg_table(p, e->child, e->child_kind);
	StringInfoData sql;
	const char *only = e->child_kind == 'p' ? "" : "ONLY ";
	bool		leaf = c->needed == NIL && !c->needs_rel;
	TgKeySet   *ks;

	/* code run since the plan may have changed c, or added a trigger or rule */
	tg_check_unchanged(c);
	tg_fk_recheck_triggers(c->relid);
	ks = tg_edge_keyset(p, w, e, c);
	initStringInfo(&sql);
	if (ks)
		appendStringInfo(&sql, "DELETE FROM %s%s c WHERE " TG_SCHEMA ".purge_match(c.%s)",
						 only, c->qualname, quote_identifier(e->child_cols[0]));
	else
	{
		tg_work_tmp(p, w);
		tg_work_analyze(w);
		appendStringInfo(&sql, "DELETE FROM %s%s c USING %s p WHERE ",
						 only, c->qualname, w->tmp);
		tg_edge_condition(&sql, e, "p", "c");
	}

	if (leaf && ks)
	{
		uint64		deleted;
		bool		byaddr = tg_capture_by_address(p, c);

		if (byaddr)
		{
			resetStringInfo(&sql);
			appendStringInfo(&sql, "DELETE FROM %s%s c WHERE " TG_SCHEMA
							 ".purge_match_at(c.%s, NULL::pg_catalog.int4, c.tableoid, c.ctid)",
							 only, c->qualname, quote_identifier(e->child_cols[0]));
		}
		else if (p->capture)
			appendStringInfo(&sql, " RETURNING c.%s%s",
							 quote_identifier(e->child_cols[0]), tg_capture_col(p, c, "c"));
		if (!tg_exec_matched(sql.data, ks, c->deleted, p->ntargets, NULL, &deleted,
							 p->capture, c, tg_child_key_type(c, e), byaddr))
			p->tally_missed = true;
	}
	else if (ks && c->keepcol)
		tg_delete_keeping(p, c, e, ks);
	else if (leaf)
	{
		/* nothing references it, only its counts are needed */
		if (p->tally)
		{
			appendStringInfo(&sql, " AND " TG_SCHEMA ".purge_tally(p.ord, c.%s)",
							 quote_identifier(e->child_cols[0]));
			if (p->capture)
				appendStringInfo(&sql, " RETURNING p.ord%s", tg_capture_col(p, c, "c"));
			if (!tg_exec_tallied(sql.data, c->deleted, p->ntargets, p->capture, c))
				p->tally_missed = true;
		}
		else
		{
			appendStringInfo(&sql, " RETURNING p.ord%s", tg_capture_col(p, c, "c"));
			tg_exec_counting(sql.data, c->deleted, p->ntargets, NULL, NIL, NULL, NULL,
							 p->capture, c);
		}
	}
	else
	{
		char	   *tmp = tg_new_tmp(p);
		StringInfoData list;
		char	   *shape;

		initStringInfo(&list);
		if (ks)
			appendStringInfo(&list, TG_SCHEMA ".purge_ord(c.%s) AS ord",
							 quote_identifier(e->child_cols[0]));
		else
			appendStringInfoString(&list, "p.ord");
		tg_returning_list(&list, c, "c");
		appendStringInfo(&sql, " RETURNING %s%s", list.data, tg_capture_col(p, c, "c"));
		/* (a key-set level may have no temp table: its list names no "p") */
		if (ks)
			shape = psprintf("SELECT %s FROM %s%s c", list.data, only, c->qualname);
		else
			shape = psprintf("SELECT %s FROM %s%s c, %s p",
							 list.data, only, c->qualname, w->tmp);
		tg_delete_into(p, c, tmp, shape, sql.data, c->deleted, ks);
	}
}

/* Apply one ON DELETE SET NULL / SET DEFAULT edge (step 6). */
static void
tg_apply_pending(TgPurge *p, TgPending *pd)
{
	TgFkEdge   *e = pd->edge;
	StringInfoData sql;
	int			nset = e->nsetcols > 0 ? e->nsetcols : e->nkeys;
	char	  **set = e->nsetcols > 0 ? e->setcols : e->child_cols;

	tg_check_unchanged(pd->child);
	initStringInfo(&sql);
	appendStringInfo(&sql, "UPDATE %s%s c SET ",
					 e->child_kind == 'p' ? "" : "ONLY ", pd->child->qualname);
	for (int i = 0; i < nset; i++)
		appendStringInfo(&sql, "%s%s = %s", i > 0 ? ", " : "",
						 quote_identifier(set[i]), e->action == 'n' ? "NULL" : "DEFAULT");
	tg_work_analyze(pd->work);
	appendStringInfo(&sql, " FROM %s p WHERE ", pd->work->tmp);
	tg_edge_condition(&sql, e, "p", "c");
	appendStringInfoString(&sql, " RETURNING p.ord");
	tg_exec_counting(sql.data, pd->child->updated, p->ntargets, NULL, NIL, NULL, NULL, NULL, NULL);

	/*
	 * A default equal to a deleted key leaves the row as it was, and
	 * PostgreSQL's update check sees no change; its own SET DEFAULT action
	 * re-checks for that case, and so do we.
	 */
	if (e->action == 'd')
	{
		resetStringInfo(&sql);
		appendStringInfo(&sql, "SELECT 1 FROM %s%s c, %s p WHERE ",
						 e->child_kind == 'p' ? "" : "ONLY ", pd->child->qualname, pd->work->tmp);
		tg_edge_condition(&sql, e, "p", "c");
		appendStringInfoString(&sql, " LIMIT 1");
		if (tg_exec(sql.data) > 0)
			ereport(ERROR,
					(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
					 errmsg("update or delete on table \"%s\" violates foreign key constraint \"%s\" on table \"%s\"",
							pd->parent->label, get_constraint_name(e->conoid), pd->child->label),
					 errdetail("ON DELETE SET DEFAULT sets the key to a value that is being deleted. Nothing was purged.")));
	}
}

/* Steps 5-7: the deletes, the updates and the protection check. */
static void
tg_run(TgPurge *p)
{
	int			nest = NewGUCNestLevel();
	List	   *done = NIL;		/* TgWork already processed */
	ListCell   *lc;

	/* per-row RI triggers off: the loop below does their work */
	(void) set_config_option("session_replication_role", "replica",
							 PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	/* a policy hiding rows must fail the purge, not leave orphans */
	(void) set_config_option("row_security", "off",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	p->setcxt = AllocSetContextCreate(CurrentMemoryContext, "tenant_guard purge key sets",
									  ALLOCSET_DEFAULT_SIZES);
	tg_keyset_budget_reset();

	tg_delete_root(p);
	while (p->work != NIL && !p->tally_missed)
	{
		TgWork	   *w = linitial(p->work);

		p->work = list_delete_first(p->work);
		foreach(lc, w->table->edges)
		{
			TgFkEdge   *e = lfirst(lc);

			if (p->tally_missed)
				break;
			if (e->action == 'n' || e->action == 'd')
			{
				TgPending  *pd = palloc(sizeof(TgPending));

				pd->edge = e;
				pd->parent = w->table;
				pd->child = tg_table(p, e->child, e->child_kind);
				pd->work = w;
				p->pending = lappend(p->pending, pd);
			}
			else
			{
				int			room = tg_hash_room(w->rows);

				tg_delete_edge(p, w, e);
				AtEOXact_GUC(true, room);
			}
		}
		/* its children are done: its key sets are not needed any more */
		for (int i = 0; w->sets && i < list_length(w->table->setcols); i++)
			tg_keyset_free(w->sets[i]);
		w->sets = NULL;
		done = lappend(done, w);
	}
	MemoryContextDelete(p->setcxt);
	p->setcxt = NULL;
	if (p->tally_missed)
	{
		/* tg_run_counted rolls this back and runs again */
		AtEOXact_GUC(true, nest);
		return;
	}

	/* step 7, before anything else can fail on those rows */
	foreach(lc, done)
	{
		TgWork	   *w = lfirst(lc);
		char	   *found;
		int			rc;

		if (w->table->keycol == NULL)
			continue;
		rc = SPI_execute(psprintf("SELECT pg_catalog.format('%%s', x.%s) FROM %s x"
								  " WHERE pg_catalog.format('%%s', x.%s) OPERATOR(pg_catalog.=) ANY"
								  " (SELECT tenant_id FROM " TG_SCHEMA "." TG_PROTECTED_TABLE ")"
								  " LIMIT 1",
								  tg_tmp_col(w->table->keycol), w->tmp,
								  tg_tmp_col(w->table->keycol)),
						 false, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
		if (SPI_processed == 0)
			continue;
		found = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		ereport(ERROR,
				(errcode(ERRCODE_TG_PROTECTED),
				 errmsg("purge would delete protected tenant \"%s\" of \"%s\"",
						found, w->table->label),
				 errdetail("Its row depends through foreign keys on a tenant being purged. Nothing was purged."),
				 errhint("Purge the other tenants without the one it depends on, or lift the protection.")));
	}

	/* triggers back on for the updates: SET DEFAULT values get checked */
	AtEOXact_GUC(true, nest);
	foreach(lc, p->pending)
	{
		TgPending  *pd = lfirst(lc);
		int			room = tg_hash_room(pd->work->rows);

		tg_apply_pending(p, pd);
		AtEOXact_GUC(true, room);
	}
}

/*
 * Forget a run rolled back with its subtransaction (its temp tables went
 * with it), to run again.
 */
void
tg_run_reset(TgPurge *p)
{
	ListCell   *lc;

	p->tally_missed = false;
	p->work = NIL;
	p->pending = NIL;
	if (p->capture)
		tg_capture_reset(p->capture);
	p->tmps = NIL;
	p->root_tmp = NULL;
	foreach(lc, p->tables)
	{
		TgTable    *t = lfirst(lc);

		memset(t->deleted, 0, sizeof(int64) * (p->ntargets + 1));
		memset(t->updated, 0, sizeof(int64) * (p->ntargets + 1));
	}
}

/*
 * Steps 5-7 in a subtransaction, leaf rows counted by the tally; if a
 * tally missed (a concurrent transaction changed a row being deleted),
 * roll that back and run again counting with RETURNING, which is exact
 * whatever happens concurrently.
 */
void
tg_run_counted(TgPurge *p)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	p->tally = true;
	p->tally_missed = false;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		tg_run(p);
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

	if (!p->tally_missed)
	{
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		return;
	}
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	elog(DEBUG1, "tenant_guard purge: a tally did not match the rows deleted; counting again with RETURNING");

	tg_run_reset(p);
	p->tally = false;
	tg_run(p);
	if (p->tally_missed)
		elog(ERROR, "purge stopped short without a tally");
}
