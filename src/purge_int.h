/*-------------------------------------------------------------------------
 *
 * purge_int.h
 *	  What the two halves of the purge share: purge.c (who may purge, which
 *	  tenants, the journal, the result rows) and purge_delete.c (the plan
 *	  and the deletes); export.c and archive.c walk the same graph.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_PURGE_INT_H
#define TENANT_GUARD_PURGE_INT_H

#include "postgres.h"

#include "access/heapam.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/array.h"
#include "utils/rel.h"

#include "checker.h"
#include "export_doc.h"
#include "purge.h"

/* One tenant to purge. */
typedef struct TgTarget
{
	char	   *id;				/* canonical text of the key */
	char	   *reason;
	char	   *name;
	char	   *subdomain;
	char	   *email;
	char	   *row;			/* the tenant row as JSON text */
} TgTarget;

/* A table the purge deletes from or updates. */
typedef struct TgTable
{
	Oid			relid;
	int			index;			/* its place in TgPurge.tables */
	char	   *qualname;		/* quoted, schema-qualified */
	char	   *label;			/* schema.table, for counts */
	char		relkind;
	bool		deletes;		/* rows are deleted (else only updated) */
	List	   *edges;			/* TgFkEdge: foreign keys into this table */
	List	   *needed;			/* columns carried in its temp tables */
	bool		needs_rel;		/* carry tableoid too */
	char	   *keycol;			/* guarded table: its key column */
	List	   *setcols;		/* columns worth a key set (of needed) */
	char	   *keepcol;		/* deleted without RETURNING, keeping the
								 * keys of this column (tg_plan_keep) */
	bool		capture_planned;	/* capture_cols decided */
	List	   *capture_cols;	/* RETURNING's columns for the archive */
	int			capture_n;		/* how many; 0: to_jsonb() of the row */
	int			capture_at;		/* rows kept by address (archive_at.c): 1
								 * yes, -1 no, 0 not decided yet */
	int64	   *deleted;		/* per tenant ordinal, [0..ntargets] */
	int64	   *updated;
	TupleDesc	desc;			/* its columns when planned (a copy) */
} TgTable;

/* State of tg_work_tmp's insert of a key set into a temp table. */
typedef struct TgTmpFill
{
	Relation	rel;
	TupleTableSlot *slot;
	BulkInsertState bistate;
	CommandId	cid;
} TgTmpFill;

/* Rows just deleted from a table, waiting for their dependents. */
typedef struct TgWork
{
	TgTable    *table;
	char	   *tmp;			/* pg_temp table holding them; NULL: only
								 * in sets (table->keepcol), until a join
								 * needs them (tg_work_tmp) */
	uint64		rows;			/* how many */
	bool		analyzed;		/* tmp ANALYZEd (or too small for it) */
	TgKeySet  **sets;			/* per table->setcols; NULL: none */
} TgWork;

/* An ON DELETE SET NULL / SET DEFAULT edge to apply at the end. */
typedef struct TgPending
{
	TgFkEdge   *edge;
	TgTable    *parent;
	TgTable    *child;
	TgWork	   *work;			/* the parent rows */
} TgPending;

/* Everything one purge call knows. */
typedef struct TgPurge
{
	/* arguments */
	bool		dry_run;
	bool		force;
	bool		archive;		/* keep the rows in purge_archive */
	TgCapture  *capture;		/* the rows deleted, when archive (archive.c) */
	int64	   *journal_ids;	/* [1..ntargets]: the journal row written for
								 * each tenant, 0: none (step 8) */
	int			batch_size;		/* 0: no limit */
	ArrayType  *ids;			/* NULL: the checker's candidates */
	Oid			root_arg;		/* InvalidOid: the only guarded table */

	/* the tenants table */
	Oid			root;
	char	   *root_name;
	char	   *root_label;
	char		root_kind;
	char	   *keycol;
	Oid			keytype;
	Oid			keyeqop;		/* the key type's equality (tg_eq_sql) */
	char	   *fieldcol[TG_NUM_FIELDS];	/* NULL: not guarded */

	/* other guarded tables with keys: relid -> key column */
	List	   *guarded_relids;
	List	   *guarded_keycols;

	/* registered tenant tables: tg_fk edges with conoid = InvalidOid */
	List	   *registered;

	/* the plan and the run */
	int			ntargets;
	TgTarget   *targets;		/* [1..ntargets] */
	List	   *tables;			/* TgTable */
	List	   *work;			/* TgWork, FIFO */
	List	   *pending;		/* TgPending */
	List	   *tmps;			/* names of temp tables to drop */
	char	   *root_tmp;		/* the one holding the deleted tenant rows */
	int			ntmp;
	bool		tally;			/* count leaf rows with purge_tally() */
	bool		tally_missed;	/* a tally did not match: count again */
	MemoryContext setcxt;		/* key sets live here */
	MemoryContext resultcxt;	/* where results live */
} TgPurge;

/* purge_delete.c: steps 4-7 */
extern void tg_plan(TgPurge *p);
extern void tg_run_counted(TgPurge *p);
extern void tg_run_reset(TgPurge *p);

/* purge.c: the tenants table and the registered tables (export.c too) */
extern void tg_resolve_root(TgPurge *p);
extern void tg_resolve_registered(TgPurge *p);

/* purge_delete.c: helpers purge.c (and export.c, import.c) use too */
extern uint64 tg_exec(const char *sql);
extern void tg_edge_condition(StringInfo buf, TgFkEdge *e, const char *parent_alias,
							  const char *child_alias);
extern void tg_rel_names(Oid relid, char **qualname, char **label);
extern List *tg_add_column(List *cols, char *col);
extern int	tg_hash_room(uint64 rows);

#endif							/* TENANT_GUARD_PURGE_INT_H */
