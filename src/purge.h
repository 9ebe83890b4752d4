/*-------------------------------------------------------------------------
 *
 * purge.h
 *	  Declarations shared by the protection (protect.c), the foreign-key
 *	  graph (fkgraph.c) and the purge (purge.c, purge_delete.c,
 *	  purge_keyset.c).
 *
 * Tenant ids are text in the SQL API.  Internally an id is parsed with the
 * input function of the guarded table's key column and compared in that
 * type; protected_tenants stores the key's text output, so uuids are
 * compared case-insensitively and '007' names the same bigint as '7'.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_PURGE_H
#define TENANT_GUARD_PURGE_H

#include "postgres.h"

#include "nodes/pg_list.h"

#include "checker.h"

#define TG_PROTECTED_TABLE	"protected_tenants"
#define TG_GUARDED_TABLE	"guarded_tables"
#define TG_JOURNAL_TABLE	"purge_journal"
#define TG_TENANT_TABLES	"tenant_tables"

/* GUC tenant_guard.purge_max_share */
extern double tg_purge_max_share;

/* GUC tenant_guard.purge_keyset_memory (kB) */
extern int	tg_purge_keyset_memory;

/* A guarded table with a key column (tenant_guard.guarded_tables). */
typedef struct TgGuarded
{
	Oid			relid;
	char		relkind;
	char	   *relname;		/* qualified, for SQL and messages */
	char	   *keycol;
	Oid			keytype;
	Oid			owner;
	char	   *fieldcol[TG_NUM_FIELDS];	/* checked columns; NULL: none */
} TgGuarded;

/* protect.c */
extern List *tg_guarded_with_keys(void);
extern char *tg_abbrev_id(const char *id);
extern bool tg_parse_tenant_id(const char *text, Oid typid, Datum *value,
							   char **canonical);

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

/* purge.c */
extern void tg_purge_init(void);

/* registry.c */
extern uint64 tg_exec_as_table_owner(const char *table, const char *sql, int nargs,
									 Oid *argtypes, Datum *args, const char *nulls);

#endif							/* TENANT_GUARD_PURGE_H */
