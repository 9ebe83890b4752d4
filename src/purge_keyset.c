/*-------------------------------------------------------------------------
 *
 * purge_keyset.c
 *	  The purge's key sets: the keys of the rows one level just deleted,
 *	  each with the ordinal of its tenant, in an in-memory hash table, and
 *	  the SQL-callable filter that looks child rows up in them.
 *
 * A level's DELETE normally joins a temp table of the parent keys (a hash
 * join the planner builds per statement).  For a big level whose foreign
 * key is one column of a plain key type, the purge instead fills a key set
 * while the parent's DELETE ... RETURNING streams its rows (purge_delete.c's
 * receiver), and deletes the children with
 *		DELETE FROM child c WHERE tenant_guard.purge_match(c.fk)
 * a sequential scan whose filter is one hash probe per row: no join, no
 * join rows to build and project.  purge_match() counts each match for
 * its tenant, as purge_tally() does for a join, so a leaf needs no
 * RETURNING; tenant_guard.purge_ord(c.fk) gives the ordinal to a
 * RETURNING list.
 *
 * Only keys whose equality is equality of the value's bits qualify:
 * smallint, integer and bigint (compared as 64-bit integers, so cross-type
 * integer keys work), oid and uuid, with the built-in equality operators.
 * Anything else (composite keys, text, numeric, a user's operator) takes
 * the join.
 *
 * One key set is active at a time, for the statement that runs now
 * (tg_keyset_activate); outside it both functions find nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/itemptr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/uuid.h"

#include "export_doc.h"
#include "purge.h"
#include "tg_assert.h"

/* A key, normalised: an integer in a, or a uuid's 16 bytes in a and b. */
typedef struct TgKey
{
	uint64		a;
	uint64		b;
} TgKey;

/* One entry of the hash table: where a key is in the set's arrays. */
typedef struct TgKeyEntry
{
	TgKey		key;
	uint32		pos;
	char		status;			/* simplehash's */
} TgKeyEntry;

/* A 64-bit mix (the finaliser of splitmix64) of one key. */
static inline uint32
tg_key_hash(TgKey k)
{
	uint64		h = k.a ^ (k.b * UINT64CONST(0x9e3779b97f4a7c15));

	h ^= h >> 30;
	h *= UINT64CONST(0xbf58476d1ce4e5b9);
	h ^= h >> 27;
	h *= UINT64CONST(0x94d049bb133111eb);
	h ^= h >> 31;
	return (uint32) h;
}

#define SH_PREFIX		tgks
#define SH_ELEMENT_TYPE TgKeyEntry
#define SH_KEY_TYPE		TgKey
#define SH_KEY			key
#define SH_HASH_KEY(tb, k) tg_key_hash(k)
#define SH_EQUAL(tb, x, y) ((x).a == (y).a && (x).b == (y).b)
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/*
 * Most keys one set holds (20 bytes each in the arrays, 24 to 48 in the
 * hash table): beyond it the level takes the join, which can spill.
 */
#define TG_KEYSET_MAX_KEYS (8 * 1024 * 1024)

/*
 * Most memory all the key sets of one purge hold together (arrays and
 * hash tables), in kB: GUC tenant_guard.purge_keyset_memory, by default as
 * much as the joins they replace may use for one hash.  A set that would
 * go past it gives up, as a set past TG_KEYSET_MAX_KEYS does, and frees
 * what it held.
 */
int			tg_purge_keyset_memory = 1024 * 1024;

static Size tg_keyset_bytes = 0;	/* held by this purge's sets */

/*
 * A set keeps its keys in the order they came (the order the parent
 * level's scan deleted them), with their ordinals, in two arrays; a hash
 * table from key to position is built on the first lookup the order does
 * not answer.  Child rows often lie in the order of their parents (both
 * inserted over time), so a lookup first tries the key after the last one
 * found, and the one found last: sequential reads, where probing a big
 * hash table costs a cache miss per key.
 */
struct TgKeySet
{
	TgKeyKind	kind;
	Oid			basetype;		/* of the keys it was made for */
	TgKey	   *keys;			/* [nkeys], in the order they came */
	int32	   *ords;			/* their tenant ordinals */
	uint64		nkeys;
	uint64		maxkeys;		/* room in the arrays */
	bool		full;			/* gave up: too many keys or bytes */
	tgks_hash  *hash;			/* key -> position; NULL until needed */
	Size		bytes;			/* counted in tg_keyset_bytes */
	MemoryContext cxt;
};

/*
 * The key set of the statement running now, what it counts and where
 * purge_match_keep() keeps the keys of the rows it matches.
 */
static TgKeySet *tg_active = NULL;
static int64 *tg_active_counts = NULL;
static int	tg_active_n = 0;
static uint64 tg_active_matched = 0;
static TgKeySet *tg_active_keep = NULL;

/* Where purge_match_at() keeps the addresses of the rows it matches. */
static TgCapture *tg_active_capture = NULL;
static int	tg_active_tableno = -1;

/* Position of the key the active set found last; -1: none yet. */
static int64 tg_last_pos = -1;

/* What kind of key a value of typid is (domains count as their base type). */
TgKeyKind
tg_key_kind(Oid typid)
{
	switch (getBaseType(typid))
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
			return TG_KEY_INT;
		case OIDOID:
			return TG_KEY_OID;
		case UUIDOID:
			return TG_KEY_UUID;
		default:
			return TG_KEY_NONE;
	}
}

/*
 * The kind of key set that can serve a foreign key compared with eqop
 * (parent type on the left, child type on the right), or TG_KEY_NONE.
 */
TgKeyKind
tg_key_kind_of_operator(Oid eqop)
{
	HeapTuple	tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(eqop));
	Form_pg_operator form;
	TgKeyKind	left;
	TgKeyKind	right;
	bool		builtin;

	if (!HeapTupleIsValid(tup))
		return TG_KEY_NONE;
	form = (Form_pg_operator) GETSTRUCT(tup);
	switch (form->oprcode)
	{
		case F_INT2EQ:
		case F_INT4EQ:
		case F_INT8EQ:
		case F_INT24EQ:
		case F_INT42EQ:
		case F_INT28EQ:
		case F_INT82EQ:
		case F_INT48EQ:
		case F_INT84EQ:
		case F_OIDEQ:
		case F_UUID_EQ:
			builtin = true;
			break;
		default:
			builtin = false;
	}
	left = tg_key_kind(form->oprleft);
	right = tg_key_kind(form->oprright);
	ReleaseSysCache(tup);
	return builtin && left == right ? left : TG_KEY_NONE;
}

/* The normalised key of a value of a kind. */
static inline TgKey
tg_key_of(TgKeyKind kind, Oid typid, Datum value)
{
	TgKey		k = {0, 0};

	if (kind == TG_KEY_UUID)
		memcpy(&k, DatumGetUUIDP(value), sizeof(k));
	else if (kind == TG_KEY_OID)
		k.a = DatumGetObjectId(value);
	else if (typid == INT2OID)
		k.a = (uint64) (int64) DatumGetInt16(value);
	else if (typid == INT4OID)
		k.a = (uint64) (int64) DatumGetInt32(value);
	else
		k.a = (uint64) DatumGetInt64(value);
	return k;
}

/* A new purge starts: none of its key sets holds memory yet. */
void
tg_keyset_budget_reset(void)
{
	tg_keyset_bytes = 0;
}

/*
 * The set gives up (too many keys, or no memory left in the budget): it
 * frees its keys and hash table and tg_keyset_usable() turns false.
 */
static void
tg_keyset_give_up(TgKeySet *ks)
{
	ks->full = true;
	tg_keyset_bytes -= Min(ks->bytes, tg_keyset_bytes);
	ks->bytes = 0;
	if (ks->hash != NULL)
		tgks_destroy(ks->hash);
	if (ks->keys != NULL)
		pfree(ks->keys);
	if (ks->ords != NULL)
		pfree(ks->ords);
	ks->hash = NULL;
	ks->keys = NULL;
	ks->ords = NULL;
	ks->nkeys = ks->maxkeys = 0;
}

/*
 * Count n more bytes for ks against tenant_guard.purge_keyset_memory;
 * false (and the set given up) when they do not fit.
 */
static bool
tg_keyset_reserve(TgKeySet *ks, Size n)
{
	if (tg_keyset_bytes + n > (Size) tg_purge_keyset_memory * 1024)
	{
		tg_keyset_give_up(ks);
		return false;
	}
	tg_keyset_bytes += n;
	ks->bytes += n;
	return true;
}

/*
 * An empty key set for keys of type basetype (a type tg_key_kind() knows),
 * in a memory context of its own under parent.
 */
TgKeySet *
tg_keyset_create(Oid basetype, MemoryContext parent)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "tenant_guard purge key set",
											  ALLOCSET_DEFAULT_SIZES);
	TgKeySet   *ks = MemoryContextAllocZero(cxt, sizeof(TgKeySet));

	ks->kind = tg_key_kind(basetype);
	if (ks->kind == TG_KEY_NONE)
		elog(ERROR, "no purge key set for type %s", format_type_be(basetype));
	ks->basetype = getBaseType(basetype);
	ks->cxt = cxt;
	if (!tg_keyset_reserve(ks, (sizeof(TgKey) + sizeof(int32)) * 1024))
		return ks;
	ks->maxkeys = 1024;
	ks->keys = MemoryContextAlloc(cxt, sizeof(TgKey) * ks->maxkeys);
	ks->ords = MemoryContextAlloc(cxt, sizeof(int32) * ks->maxkeys);
	return ks;
}

/*
 * Add a key of type basetype for tenant ord.  Past TG_KEYSET_MAX_KEYS the
 * set gives up: tg_keyset_usable() turns false.
 */
void
tg_keyset_add(TgKeySet *ks, Oid basetype, Datum value, int32 ord)
{
	TgKey		key;

	if (ks->full)
		return;
	if (ks->nkeys >= TG_KEYSET_MAX_KEYS)
	{
		tg_keyset_give_up(ks);
		return;
	}
	if (ks->nkeys == ks->maxkeys)
	{
		if (!tg_keyset_reserve(ks, (sizeof(TgKey) + sizeof(int32)) * ks->maxkeys))
			return;
		ks->maxkeys *= 2;
		ks->keys = repalloc(ks->keys, sizeof(TgKey) * ks->maxkeys);
		ks->ords = repalloc(ks->ords, sizeof(int32) * ks->maxkeys);
	}
	key = tg_key_of(ks->kind, basetype, value);
	TG_ASSERT(ks->nkeys < ks->maxkeys);
	ks->keys[ks->nkeys] = key;
	ks->ords[ks->nkeys] = ord;
	if (ks->hash != NULL)
	{
		bool		found;
		TgKeyEntry *e;

		/* (simplehash doubles at 90 % full: count the doubling first) */
		if (ks->hash->members + 1 >= ks->hash->grow_threshold &&
			!tg_keyset_reserve(ks, sizeof(TgKeyEntry) * ks->hash->size))
			return;
		e = tgks_insert(ks->hash, key, &found);
		if (!found)
			e->pos = (uint32) ks->nkeys;
	}
	ks->nkeys++;
}

/*
 * The hash table of a set's keys, built the first time it is needed; NULL
 * when it does not fit the memory budget (the set is given up: the
 * statement's count check then sends the purge round again by joins).
 */
static tgks_hash *
tg_keyset_hash(TgKeySet *ks)
{
	if (ks->hash == NULL && !ks->full)
	{
		tgks_hash  *h = tgks_create(ks->cxt, ks->nkeys, NULL);

		if (!tg_keyset_reserve(ks, sizeof(TgKeyEntry) * h->size))
		{
			tgks_destroy(h);
			return NULL;
		}
		for (uint64 i = 0; i < ks->nkeys; i++)
		{
			bool		found;
			TgKeyEntry *e;

			if ((i & 0xFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
			e = tgks_insert(h, ks->keys[i], &found);
			if (!found)
				e->pos = (uint32) i;
		}
		ks->hash = h;
	}
	return ks->hash;
}

/* The kind of keys a set holds. */
TgKeyKind
tg_keyset_kind(TgKeySet *ks)
{
	return ks->kind;
}

/* Can the set serve a level (it did not give up)? */
bool
tg_keyset_usable(TgKeySet *ks)
{
	return ks != NULL && !ks->full;
}

/* How many keys the set holds. */
uint64
tg_keyset_size(TgKeySet *ks)
{
	return ks->nkeys;
}

/* Free a key set. */
void
tg_keyset_free(TgKeySet *ks)
{
	if (ks != NULL)
	{
		tg_keyset_bytes -= Min(ks->bytes, tg_keyset_bytes);
		MemoryContextDelete(ks->cxt);
	}
}

/*
 * Call fn for each key of ks, in the order they came, as a Datum of the
 * set's type, with its ordinal (uuids point into memory that lives until
 * the next call).
 */
void
tg_keyset_foreach(TgKeySet *ks, void (*fn) (Datum key, int32 ord, void *arg), void *arg)
{
	pg_uuid_t	uuid;

	if (ks->full)
		elog(ERROR, "purge key set was given up and cannot be read");
	for (uint64 i = 0; i < ks->nkeys; i++)
	{
		TgKey	   *k = &ks->keys[i];
		Datum		d;

		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		if (ks->kind == TG_KEY_UUID)
		{
			memcpy(&uuid, k, sizeof(uuid));
			d = UUIDPGetDatum(&uuid);
		}
		else if (ks->kind == TG_KEY_OID)
			d = ObjectIdGetDatum((Oid) k->a);
		else if (ks->basetype == INT2OID)
			d = Int16GetDatum((int16) (int64) k->a);
		else if (ks->basetype == INT4OID)
			d = Int32GetDatum((int32) (int64) k->a);
		else
			d = Int64GetDatum((int64) k->a);
		fn(d, ks->ords[i], arg);
	}
}

/*
 * Make ks the set purge_match() and purge_ord() look in; purge_match()
 * counts each match into counts[ord] (counts may be NULL), and
 * purge_match_keep() adds the matched rows' own keys to keep.
 */
void
tg_keyset_activate(TgKeySet *ks, int64 *counts, int n, TgKeySet *keep)
{
	/*
	 * One at a time: a purge started from a trigger of a row the outer
	 * purge deletes would otherwise end the outer statement's set, and the
	 * rest of its rows would go unmatched and uncounted alike.
	 */
	if (tg_active != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("a purge cannot start while another purge is deleting rows in this session")));
	tg_active = ks;
	tg_active_counts = counts;
	tg_active_n = n;
	tg_active_matched = 0;
	tg_active_keep = keep;
	tg_active_capture = NULL;
	tg_active_tableno = -1;
	tg_last_pos = -1;
}

/*
 * While ks is active, purge_match_at() keeps the address of each row it
 * matches in capture, as a row of table tableno.
 */
void
tg_keyset_capture_to(TgCapture *capture, int tableno)
{
	if (tg_active == NULL)
		elog(ERROR, "purge archive: no key set is active");
	tg_active_capture = capture;
	tg_active_tableno = tableno;
}

/* No set active any more; returns the matches purge_match() counted. */
uint64
tg_keyset_deactivate(void)
{
	uint64		matched = tg_active_matched;

	tg_active = NULL;
	tg_active_counts = NULL;
	tg_active_n = 0;
	tg_active_matched = 0;
	tg_active_keep = NULL;
	tg_active_capture = NULL;
	tg_active_tableno = -1;
	tg_last_pos = -1;
	return matched;
}

/* The base types of a call's arguments, looked up once per call site. */
static Oid *
tg_arg_types(FunctionCallInfo fcinfo)
{
	Oid		   *types = (Oid *) fcinfo->flinfo->fn_extra;

	if (types == NULL)
	{
		types = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(Oid) * 2);
		for (int i = 0; i < 2; i++)
			types[i] = i < PG_NARGS() ?
				getBaseType(get_fn_expr_argtype(fcinfo->flinfo, i)) : InvalidOid;
		fcinfo->flinfo->fn_extra = types;
	}
	return types;
}

/*
 * The ordinal of key argument 0 (not NULL) of a purge_match/purge_ord
 * call in the active set, or 0 (no set, not found).  A key of another
 * kind than the set's is an error: the purge never asks for one, and a
 * silent "not found" would leave rows behind.
 */
static int32
tg_lookup_arg(FunctionCallInfo fcinfo)
{
	Oid		   *types;
	tgks_hash  *h;
	TgKeyEntry *e;
	TgKey		key;

	if (tg_active == NULL || tg_active->full)
		return 0;
	types = tg_arg_types(fcinfo);
	if (tg_key_kind(types[0]) != tg_active->kind)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("a key of type %s cannot be looked up in a purge key set of another kind",
						format_type_be(types[0]))));
	key = tg_key_of(tg_active->kind, types[0], PG_GETARG_DATUM(0));
	/* the key found last, or the next one */
	for (int64 pos = tg_last_pos; pos <= tg_last_pos + 1; pos++)
	{
		if (pos >= 0 && (uint64) pos < tg_active->nkeys &&
			tg_active->keys[pos].a == key.a && tg_active->keys[pos].b == key.b)
		{
			tg_last_pos = pos;
			return tg_active->ords[pos];
		}
	}
	h = tg_keyset_hash(tg_active);
	if (h == NULL)
		return 0;				/* given up: the caller sees the set unusable */
	e = tgks_lookup(h, key);
	if (e == NULL)
		return 0;
	tg_last_pos = e->pos;
	return tg_active->ords[e->pos];
}

/*
 * The tenant ordinal of a key (of basetype) in ks, or 0: for a receiver of
 * the rows a DELETE through ks returns (the purge's archive), with no SQL
 * function call per row.
 */
int32
tg_keyset_ord(TgKeySet *ks, Oid basetype, Datum value)
{
	tgks_hash  *h;
	TgKeyEntry *e;
	TgKey		key;

	if (ks == NULL || ks->full)
		return 0;
	key = tg_key_of(ks->kind, basetype, value);
	/* the active set's last find: purge_match() of the row being returned */
	if (ks == tg_active && tg_last_pos >= 0 && (uint64) tg_last_pos < ks->nkeys &&
		ks->keys[tg_last_pos].a == key.a && ks->keys[tg_last_pos].b == key.b)
		return ks->ords[tg_last_pos];
	h = tg_keyset_hash(ks);
	if (h == NULL)
		return 0;
	e = tgks_lookup(h, key);
	return e ? ks->ords[e->pos] : 0;
}

PG_FUNCTION_INFO_V1(purge_match);

/*
 * purge_match(key anyelement) RETURNS boolean, STRICT: is key in the
 * active key set?  Counts each match for its tenant.  False outside a
 * purge's DELETE.
 */
Datum
purge_match(PG_FUNCTION_ARGS)
{
	int32		ord = tg_lookup_arg(fcinfo);

	if (ord == 0)
		PG_RETURN_BOOL(false);
	tg_active_matched++;
	if (tg_active_counts != NULL && ord >= 1 && ord <= tg_active_n)
		tg_active_counts[ord]++;
	PG_RETURN_BOOL(true);
}

/*
 * The body of purge_match_keep() and purge_match_at(): the tenant ordinal
 * of key argument 0 (not NULL) in the active set, or 0; a match is
 * counted and argument 1, when not NULL, kept in the next level's set.
 */
static int32
tg_match_keep(FunctionCallInfo fcinfo)
{
	int32		ord;

	ord = tg_lookup_arg(fcinfo);
	if (ord == 0)
		return 0;
	tg_active_matched++;
	if (tg_active_counts != NULL && ord >= 1 && ord <= tg_active_n)
		tg_active_counts[ord]++;
	if (tg_active_keep != NULL && !PG_ARGISNULL(1))
	{
		Oid			keeptype = tg_arg_types(fcinfo)[1];

		if (keeptype != tg_active_keep->basetype)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("a key of type %s cannot be kept in a purge key set of type %s",
							format_type_be(keeptype), format_type_be(tg_active_keep->basetype))));
		tg_keyset_add(tg_active_keep, keeptype, PG_GETARG_DATUM(1), ord);
	}
	return ord;
}

PG_FUNCTION_INFO_V1(purge_match_keep);

/*
 * purge_match_keep(key "any", keep "any") RETURNS boolean: purge_match()
 * of key that also keeps the matched row's own key keep (when not NULL)
 * in the set the next level will look in, with the same tenant ordinal.
 */
Datum
purge_match_keep(PG_FUNCTION_ARGS)
{
	if (PG_NARGS() != 2 || PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(tg_match_keep(fcinfo) != 0);
}

PG_FUNCTION_INFO_V1(purge_match_at);

/*
 * purge_match_at(key "any", keep "any", tableoid oid, ctid tid) RETURNS
 * boolean: purge_match_keep() that also keeps where the matched row is
 * (its table and ctid) for the purge's archive (archive_at.c), when the
 * purge asked for that (tg_keyset_capture_to).
 */
Datum
purge_match_at(PG_FUNCTION_ARGS)
{
	int32		ord;

	if (PG_NARGS() != 4 || PG_ARGISNULL(0) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_BOOL(false);
	ord = tg_match_keep(fcinfo);
	if (ord == 0)
		PG_RETURN_BOOL(false);
	if (tg_active_capture != NULL)
		tg_capture_add_at(tg_active_capture, ord, tg_active_tableno, PG_GETARG_OID(2),
						  (ItemPointer) PG_GETARG_POINTER(3));
	PG_RETURN_BOOL(true);
}

PG_FUNCTION_INFO_V1(purge_ord);

/*
 * purge_ord(key anyelement) RETURNS integer, STRICT: the tenant ordinal of
 * key in the active key set; NULL when it is not there.
 */
Datum
purge_ord(PG_FUNCTION_ARGS)
{
	int32		ord = tg_lookup_arg(fcinfo);

	if (ord == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT32(ord);
}
