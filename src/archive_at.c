/*-------------------------------------------------------------------------
 *
 * archive_at.c
 *	  Reading back, by address, the rows a purge with archive deleted.
 *
 * A purge's big levels find their rows with purge_match_at() (a key set
 * look-up in the DELETE's WHERE clause, purge_keyset.c), which is handed
 * each matching row's table oid and ctid and keeps that address instead
 * of the row: no RETURNING (which makes the executor fetch every deleted
 * row back from the heap), no copy of the row.  Matches are proved to be
 * exactly the rows deleted by their count, as for the tally: an update or
 * delete by a concurrent transaction shows as a second call or a call
 * without a deletion, and the purge runs again with RETURNING.
 *
 * The archive is written later in the same transaction.  A row this
 * transaction deleted stays on its page until the transaction ends and
 * VACUUM comes: pruning keeps a tuple whose deleter is still in progress,
 * and a tuple's bytes do not change once it is deleted (a later locker
 * waits for us).  So the reader pins the page, checks under a share lock
 * that the item is a tuple this transaction deleted (anything else is an
 * error: the archive must be exactly the rows deleted), and deforms it
 * with the pin alone, as a sequential scan reads its tuples.  Its TOAST
 * values are fetched from the TOAST table, whose rows are deleted with
 * the row and are read regardless of that (a TOAST snapshot looks at
 * their inserters only).
 *
 * Only this transaction can move those tuples: between the DELETE and the
 * archive, the purge's own transaction runs other code (the triggers,
 * constraints and defaults of its ON DELETE SET NULL updates, casts to
 * json of other tables' rows), which may TRUNCATE, CLUSTER or rewrite a
 * table it owns, or rename and add columns.  Then an address would name
 * another tuple (rows forged, or another tenant's), or a column another
 * column.  So each table is noted as the DELETE first hands over one of
 * its rows (tg_at_note): its storage and its columns at that moment.  The
 * rows are deformed with those columns; a later DELETE that finds either
 * changed runs again with RETURNING (as after a concurrent change), and a
 * table whose storage changed after the last DELETE is an error: the
 * archive cannot hold its rows any more.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/attmap.h"
#include "access/heapam.h"
#include "access/relation.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_class.h"
#include "catalog/partition.h"
#include "catalog/pg_inherits.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "archive_at.h"

/* One table whose deleted rows the reader reads back. */
typedef struct TgAtRel
{
	Oid			relid;
	RelFileNode node;			/* its storage when the DELETEs saw it */
	TupleDesc	tupdesc;		/* its columns then (a copy) */
	uint32		stmt;			/* the last DELETE that saw it */
	AttrMap    *map;			/* desc's column i: tupdesc's attno map->attnums[i] */
	Relation	rel;			/* opened by the first read; NULL before */
	Datum	   *values;			/* [tupdesc's natts] */
	bool	   *isnull;
} TgAtRel;

struct TgAtReader
{
	Oid			relid;			/* the table, or its partitions */
	TupleDesc	desc;
	MemoryContext cxt;
	List	   *rels;			/* TgAtRel, noted by tg_at_note() */
	TgAtRel    *last;
	uint32		stmt;			/* the DELETE running now */
	Buffer		buf;			/* pinned, or InvalidBuffer */
	Oid			bufrel;
	BlockNumber bufblock;
	const TgRowAt *checked;		/* addresses checked on buf's page: */
	const TgRowAt *checked_end; /* [checked, checked_end) */
};

/* See archive_at.h. */
TgAtReader *
tg_at_reader_create(Oid relid, TupleDesc desc, MemoryContext cxt)
{
	TgAtReader *r = MemoryContextAllocZero(cxt, sizeof(TgAtReader));

	r->relid = relid;
	r->desc = desc;
	r->cxt = cxt;
	r->buf = InvalidBuffer;
	return r;
}

/* The table relid as noted, or NULL. */
static TgAtRel *
tg_at_find(TgAtReader *r, Oid relid)
{
	ListCell   *lc;

	if (r->last && r->last->relid == relid)
		return r->last;
	foreach(lc, r->rels)
	{
		TgAtRel    *a = lfirst(lc);

		if (a->relid == relid)
			return r->last = a;
	}
	return NULL;
}

/* See archive_at.h. */
void
tg_at_next_statement(TgAtReader *r)
{
	r->stmt++;
}

/*
 * See archive_at.h.  Runs inside the DELETE, which holds its lock on the
 * table; a table this DELETE saw before costs a comparison.  A table an
 * earlier DELETE saw must still have the same storage and columns: if
 * code run between the two changed them, the rows of both cannot be read
 * with one set of columns.
 */
bool
tg_at_note(TgAtReader *r, Oid relid)
{
	Relation	rel;
	TgAtRel    *a = tg_at_find(r, relid);
	MemoryContext old;

	if (a != NULL && a->stmt == r->stmt)
		return true;
	rel = try_relation_open(relid, AccessShareLock);
	if (rel == NULL)
		return false;
	if (a != NULL)
	{
		bool		same = RelFileNodeEquals(a->node, rel->rd_node) &&
			equalTupleDescs(a->tupdesc, RelationGetDescr(rel));

		relation_close(rel, AccessShareLock);
		a->stmt = r->stmt;
		return same;
	}
	/* the table's own rows, or a partition's (one attached meanwhile too) */
	if (rel->rd_rel->relkind != RELKIND_RELATION ||
		rel->rd_rel->relam != HEAP_TABLE_AM_OID ||
		(relid != r->relid && !list_member_oid(get_partition_ancestors(relid), r->relid)))
	{
		relation_close(rel, AccessShareLock);
		return false;
	}
	old = MemoryContextSwitchTo(r->cxt);
	a = palloc0(sizeof(TgAtRel));
	a->relid = relid;
	a->stmt = r->stmt;
	a->node = rel->rd_node;
	a->tupdesc = CreateTupleDescCopyConstr(RelationGetDescr(rel));
	a->map = build_attrmap_by_name(a->tupdesc, r->desc);
	a->values = palloc(sizeof(Datum) * Max(a->tupdesc->natts, 1));
	a->isnull = palloc(sizeof(bool) * Max(a->tupdesc->natts, 1));
	r->rels = lappend(r->rels, a);
	MemoryContextSwitchTo(old);
	relation_close(rel, AccessShareLock);
	r->last = a;
	return true;
}

/*
 * The table relid, opened on first use (the purge holds its lock): its
 * storage must be the one its rows were deleted from.
 */
static TgAtRel *
tg_at_rel(TgAtReader *r, Oid relid)
{
	TgAtRel    *a = tg_at_find(r, relid);

	if (a == NULL)
		elog(ERROR, "purge archive: a row of table %u kept as one of table %u", relid, r->relid);
	if (a->rel == NULL)
	{
		Relation	rel = try_relation_open(relid, AccessShareLock);

		if (rel == NULL || !RelFileNodeEquals(rel->rd_node, a->node))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 rel ? errmsg("table \"%s\" was rewritten during the purge",
								  RelationGetRelationName(rel)) :
					 errmsg("table %u was dropped during the purge", relid),
					 errdetail("The rows the purge deleted from it are no longer where it deleted them: TRUNCATE, CLUSTER or a rewriting ALTER TABLE ran in the purge's own transaction (from a trigger, constraint or default of a table it updates). The archive could not hold them. Nothing was purged.")));
		a->rel = rel;
	}
	return a;
}

/* Is the item at off of page a tuple this transaction deleted? */
static bool
tg_at_ours(Page page, OffsetNumber off)
{
	ItemId		lp;
	HeapTupleHeader tup;

	if (off < FirstOffsetNumber || off > PageGetMaxOffsetNumber(page))
		return false;
	lp = PageGetItemId(page, off);
	if (!ItemIdIsNormal(lp))
		return false;
	tup = (HeapTupleHeader) PageGetItem(page, lp);
	return !(tup->t_infomask & HEAP_XMAX_INVALID) &&
		!HEAP_XMAX_IS_LOCKED_ONLY(tup->t_infomask) &&
		TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetUpdateXid(tup));
}

/* See archive_at.h. */
void
tg_at_read(TgAtReader *r, const TgRowAt *at, const TgRowAt *end, Datum *values, bool *isnull)
{
	TgAtRel    *a = tg_at_rel(r, at->rel);
	BlockNumber block = ItemPointerGetBlockNumber(&at->tid);
	OffsetNumber off = ItemPointerGetOffsetNumber(&at->tid);
	Page		page;
	ItemId		lp;
	HeapTupleData tuple;

	if (r->buf == InvalidBuffer || r->bufrel != at->rel || r->bufblock != block)
	{
		tg_at_reader_release(r);
		r->buf = ReadBuffer(a->rel, block);
		r->bufrel = at->rel;
		r->bufblock = block;
	}
	page = BufferGetPage(r->buf);
	if (at < r->checked || at >= r->checked_end)
	{
		/* check this address and the next ones on the same page at once */
		const TgRowAt *next = at;

		LockBuffer(r->buf, BUFFER_LOCK_SHARE);
		while (next < end && next->rel == at->rel &&
			   ItemPointerGetBlockNumber(&next->tid) == block &&
			   tg_at_ours(page, ItemPointerGetOffsetNumber(&next->tid)))
			next++;
		LockBuffer(r->buf, BUFFER_LOCK_UNLOCK);
		if (next == at)
			elog(ERROR, "purge archive: the row at (%u,%u) of \"%s\" is not one this purge deleted",
				 block, off, RelationGetRelationName(a->rel));
		r->checked = at;
		r->checked_end = next;
	}

	/*
	 * The tuple cannot change now (nor its line pointer: pruning needs the
	 * page to itself, and we hold a pin): read it with the pin alone
	 */
	lp = PageGetItemId(page, off);
	tuple.t_data = (HeapTupleHeader) PageGetItem(page, lp);
	tuple.t_len = ItemIdGetLength(lp);
	tuple.t_tableOid = at->rel;
	tuple.t_self = at->tid;
	heap_deform_tuple(&tuple, a->tupdesc, a->values, a->isnull);
	for (int i = 0; i < r->desc->natts; i++)
	{
		AttrNumber	attno = a->map->attnums[i];

		if (attno <= 0)
			elog(ERROR, "purge archive: column \"%s\" is not in \"%s\"",
				 NameStr(TupleDescAttr(r->desc, i)->attname), RelationGetRelationName(a->rel));
		values[i] = a->values[attno - 1];
		isnull[i] = a->isnull[attno - 1];
	}
}

/* See archive_at.h. */
void
tg_at_reader_release(TgAtReader *r)
{
	if (r->buf != InvalidBuffer)
		ReleaseBuffer(r->buf);
	r->buf = InvalidBuffer;
	r->checked = r->checked_end = NULL;
}

/* See archive_at.h. */
void
tg_at_reader_free(TgAtReader *r)
{
	ListCell   *lc;

	tg_at_reader_release(r);
	foreach(lc, r->rels)
	{
		TgAtRel    *a = lfirst(lc);

		if (a->rel)
			relation_close(a->rel, AccessShareLock);
		a->rel = NULL;
	}
}

/* A heap table? */
static bool
tg_at_heap(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	bool		heap;

	if (!HeapTupleIsValid(tup))
		return false;
	heap = ((Form_pg_class) GETSTRUCT(tup))->relkind == RELKIND_RELATION &&
		((Form_pg_class) GETSTRUCT(tup))->relam == HEAP_TABLE_AM_OID;
	ReleaseSysCache(tup);
	return heap;
}

/* See archive_at.h. */
bool
tg_at_supported(Oid relid)
{
	char		relkind = get_rel_relkind(relid);
	List	   *all;
	ListCell   *lc;

	if (relkind == RELKIND_RELATION)
		return tg_at_heap(relid);
	if (relkind != RELKIND_PARTITIONED_TABLE)
		return false;
	/*
	 * The DELETE's lock, parent first.  (ATTACH PARTITION does not wait
	 * for it: a partition attached meanwhile that is not a heap table
	 * makes tg_at_read() fail, and the purge with it.)
	 */
	LockRelationOid(relid, RowExclusiveLock);
	all = find_all_inheritors(relid, RowExclusiveLock, NULL);
	foreach(lc, all)
	{
		Oid			part = lfirst_oid(lc);
		char		kind = get_rel_relkind(part);

		if (kind != RELKIND_PARTITIONED_TABLE && !tg_at_heap(part))
			return false;
	}
	return true;
}
