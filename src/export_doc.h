/*-------------------------------------------------------------------------
 *
 * export_doc.h
 *	  Export documents written straight in jsonb's binary form from rows
 *	  already in jsonb, and the rows a purge with archive captures as it
 *	  deletes them (export_doc.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_EXPORT_DOC_H
#define TENANT_GUARD_EXPORT_DOC_H

#include "postgres.h"

#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "storage/itemptr.h"
#include "utils/jsonb.h"

#define TG_EXPORT_FORMAT	"tenant_guard export"
#define TG_EXPORT_VERSION	1

typedef struct TgRowPlan TgRowPlan;

/*
 * The rows of one table of a document, kept as jsonb containers, or
 * (plan set) as minimal tuples the row writer turns into jsonb when the
 * document is written.
 */
typedef struct TgRowSeg TgRowSeg;
typedef struct TgRows
{
	TgRowPlan  *plan;			/* NULL: jsonb containers */
	struct TgArena *arena;		/* where its pieces go; NULL: cxt */
	TgRowSeg   *head;
	TgRowSeg   *tail;
	Size		bytes;
	int64		nrows;
	MemoryContext cxt;			/* where its pieces go */
} TgRows;

extern void tg_rows_init(TgRows *rows, MemoryContext cxt);

/* Append one row (a jsonb datum). */
extern void tg_rows_add_jsonb(TgRows *rows, Datum row);

/* One table of a document: its name, {"column": "type"} and rows. */
typedef struct TgDocTable
{
	const char *qualname;
	Jsonb	   *columns;
	TgRows	   *rows;			/* NULL: none */
} TgDocTable;

/*
 * The document {"format", "version", "tenants", "tenant_id", "tables"}
 * of the tables given (in that order; tables without rows left out).
 */
extern Jsonb *tg_doc_build(const char *tenants, const char *tenant_id,
						   TgDocTable *tables, int ntables);

/*
 * The rows a purge deletes, per tenant ordinal and table number, kept in
 * memory until the archive is written.
 */
typedef struct TgCapture TgCapture;

extern TgCapture *tg_capture_create(int ntargets, int ntables);
extern void tg_capture_add(TgCapture *c, int ord, int tableno, Datum row);

/*
 * The row writer: a deleted row's columns straight to the jsonb that
 * to_jsonb() would make of it, for tables whose columns are all of types
 * it knows (tg_rowplan_supported).  A capture keeps one plan per table
 * (tg_capture_plan), for the slot's attributes from first on, named as
 * the table's; tg_capture_add_slot() keeps those attributes as a minimal
 * tuple, written as jsonb by tg_doc_build().
 */
extern bool tg_rowplan_supported(Oid relid);
extern TgRowPlan *tg_capture_plan(TgCapture *c, int tableno, TupleDesc typeinfo, int first);
extern void tg_capture_add_slot(TgCapture *c, int ord, int tableno, TgRowPlan *plan,
								TupleTableSlot *slot, int first);

/*
 * Rows kept by address (archive_at.c): the row writer of table tableno
 * made from relid's columns (called before each DELETE that keeps them),
 * and the table oid and ctid of a deleted row, read back when the
 * document is written.
 */
extern TgRowPlan *tg_capture_plan_rel(TgCapture *c, int tableno, Oid relid);
extern void tg_capture_add_at(TgCapture *c, int ord, int tableno, Oid relid, ItemPointer tid);

/*
 * A row's address was not kept (its table's rows cannot be read back by
 * address): the statement's matches are not the rows kept.
 */
extern bool tg_capture_at_lost(TgCapture *c);
extern void tg_capture_reset(TgCapture *c);
extern TgRows *tg_capture_rows(TgCapture *c, int ord, int tableno);
extern bool tg_capture_table_used(TgCapture *c, int tableno);
extern Size tg_capture_bytes(TgCapture *c);
extern void tg_capture_free(TgCapture *c);

#endif							/* TENANT_GUARD_EXPORT_DOC_H */
