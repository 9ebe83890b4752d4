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
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/attmap.h"
#include "access/heapam.h"
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

/* One table the reader has read from. */
typedef struct TgAtRel
{
	Oid			relid;
	Relation	rel;
	AttrMap    *map;			/* desc's column i: rel's attno map->attnums[i] */
	Datum	   *values;			/* [rel's natts] */
	bool	   *isnull;
} TgAtRel;

struct TgAtReader
{
	Oid			relid;			/* the table, or its partitions */
	TupleDesc	desc;
	MemoryContext cxt;
	List	   *rels;			/* TgAtRel */
	TgAtRel    *last;
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

/* The table relid, opened on first use (the purge holds its lock). */
static TgAtRel *
tg_at_rel(TgAtReader *r, Oid relid)
{
	ListCell   *lc;
	TgAtRel    *a;
	MemoryContext old;

	if (r->last && r->last->relid == relid)
		return r->last;
	foreach(lc, r->rels)
	{
		a = lfirst(lc);
		if (a->relid == relid)
			return r->last = a;
	}
	/* the table's own rows, or a partition's */
	if (relid != r->relid &&
		!list_member_oid(get_partition_ancestors(relid), r->relid))
		elog(ERROR, "purge archive: a row of table %u kept as one of table %u", relid, r->relid);
	old = MemoryContextSwitchTo(r->cxt);
	a = palloc0(sizeof(TgAtRel));
	a->relid = relid;
	a->rel = table_open(relid, AccessShareLock);
	if (a->rel->rd_rel->relkind != RELKIND_RELATION ||
		a->rel->rd_rel->relam != HEAP_TABLE_AM_OID)
		elog(ERROR, "purge archive: rows of \"%s\" cannot be read back by address",
			 RelationGetRelationName(a->rel));
	a->map = build_attrmap_by_name(RelationGetDescr(a->rel), r->desc);
	a->values = palloc(sizeof(Datum) * Max(RelationGetDescr(a->rel)->natts, 1));
	a->isnull = palloc(sizeof(bool) * Max(RelationGetDescr(a->rel)->natts, 1));
	r->rels = lappend(r->rels, a);
	MemoryContextSwitchTo(old);
	return r->last = a;
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
	heap_deform_tuple(&tuple, RelationGetDescr(a->rel), a->values, a->isnull);
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

		table_close(a->rel, AccessShareLock);
	}
	r->rels = NIL;
	r->last = NULL;
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
