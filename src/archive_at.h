/*-------------------------------------------------------------------------
 *
 * archive_at.h
 *	  Reading back the rows a purge deleted, by their address (archive_at.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_ARCHIVE_AT_H
#define TENANT_GUARD_ARCHIVE_AT_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "storage/itemptr.h"

/*
 * Where a deleted row is: its table (a partition's own oid) and its tuple.
 * 12 bytes, 4-aligned.
 */
typedef struct TgRowAt
{
	Oid			rel;
	ItemPointerData tid;
} TgRowAt;

typedef struct TgAtReader TgAtReader;

/*
 * A reader of rows of table relid (or of its partitions) with the columns
 * of desc, found by name in each table.
 */
extern TgAtReader *tg_at_reader_create(Oid relid, TupleDesc desc, MemoryContext cxt);

/*
 * Note the table (relid: the reader's table or one of its partitions) of
 * a row the purge's DELETE is deleting, before keeping its address: its
 * storage and columns now, which the rows are read back with.  false:
 * its rows cannot be read back by address (not a heap table, not one of
 * the reader's: a partition of another access method attached meanwhile).
 */
extern bool tg_at_note(TgAtReader *r, Oid relid);

/* A DELETE that keeps addresses of r's rows begins. */
extern void tg_at_next_statement(TgAtReader *r);

/*
 * The row at *at, which this transaction deleted, into values/isnull (in
 * desc's order); they point into a pinned buffer until the next call or
 * tg_at_reader_release().  The addresses after it, up to end, are read
 * next (those on the same page are checked with it).
 */
extern void tg_at_read(TgAtReader *r, const TgRowAt *at, const TgRowAt *end,
					   Datum *values, bool *isnull);

/* Drop the buffer pin (the rows read so far are no longer needed). */
extern void tg_at_reader_release(TgAtReader *r);

/* Release the pin and close the tables. */
extern void tg_at_reader_free(TgAtReader *r);

/*
 * Can rows of relid (a table, or a partitioned table whose leaf partitions
 * are all tables) be read back by address?  Heap tables only.
 */
extern bool tg_at_supported(Oid relid);

#endif							/* TENANT_GUARD_ARCHIVE_AT_H */
