/*-------------------------------------------------------------------------
 *
 * purge.h
 *	  Declarations shared by the foreign-key graph (fkgraph.c) and the
 *	  purge (purge.c, purge_delete.c, purge_keyset.c); tg_purge_init() for
 *	  _PG_init.  Tenant ids and the guarded tables: guarded.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_PURGE_H
#define TENANT_GUARD_PURGE_H

#include "postgres.h"

#include "nodes/pg_list.h"

/* GUC tenant_guard.purge_max_share */
extern double tg_purge_max_share;

/* GUC tenant_guard.purge_keyset_memory (kB) */
extern int	tg_purge_keyset_memory;

/*
 * fkgraph.c: one way rows of "child" depend on rows of the table a purge
 * deletes from.  Column lists are names: a partition may number its
 * columns differently from its parent.
 */
typedef struct TgFkEdge
{
	Oid			conoid;			/* pg_constraint row; InvalidOid: registered */
	Oid			child;			/* referencing table */
	char		child_kind;		/* its relkind: 'r' or 'p' */
	Oid			referenced;		/* confrelid: the parent or a relative */
	bool		referenced_is_partition;	/* a strict partition of the
											 * table we delete from */
	char		action;			/* confdeltype: a r c n d */
	int			nkeys;
	char	  **child_cols;		/* referencing columns */
	char	  **parent_cols;	/* referenced columns */
	Oid		   *eqopids;		/* the same operators' OIDs */
	int			nsetcols;		/* ON DELETE SET NULL (cols): which */
	char	  **setcols;
} TgFkEdge;

extern List *tg_fk_edges_into(Oid relid);
extern void tg_fk_check_triggers(Oid relid);
extern void tg_fk_recheck_triggers(Oid relid);

/*
 * purge_keyset.c: keys of deleted rows with their tenant ordinals, in
 * memory, and the filter purge_match() that probes them.
 */
typedef enum TgKeyKind
{
	TG_KEY_NONE,				/* no key set for this type */
	TG_KEY_INT,					/* smallint, integer, bigint */
	TG_KEY_OID,
	TG_KEY_UUID
} TgKeyKind;

typedef struct TgKeySet TgKeySet;

extern TgKeyKind tg_key_kind(Oid typid);
extern TgKeyKind tg_key_kind_of_operator(Oid eqop);
extern void tg_keyset_budget_reset(void);
extern TgKeySet *tg_keyset_create(Oid basetype, MemoryContext parent);
extern void tg_keyset_add(TgKeySet *ks, Oid basetype, Datum value, int32 ord);
extern TgKeyKind tg_keyset_kind(TgKeySet *ks);
extern bool tg_keyset_usable(TgKeySet *ks);
extern uint64 tg_keyset_size(TgKeySet *ks);
extern int32 tg_keyset_ord(TgKeySet *ks, Oid basetype, Datum value);
extern void tg_keyset_free(TgKeySet *ks);
extern void tg_keyset_foreach(TgKeySet *ks,
							  void (*fn) (Datum key, int32 ord, void *arg), void *arg);
extern void tg_keyset_activate(TgKeySet *ks, int64 *counts, int n, TgKeySet *keep);
extern uint64 tg_keyset_deactivate(void);
struct TgCapture;
extern void tg_keyset_capture_to(struct TgCapture *capture, int tableno);

/* purge.c */
extern void tg_purge_init(void);

#endif							/* TENANT_GUARD_PURGE_H */
