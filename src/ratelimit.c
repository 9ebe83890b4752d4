/*-------------------------------------------------------------------------
 *
 * ratelimit.c
 *	  Tenant-creation rate limits: at most tenant_guard.max_tenants_per_
 *	  hour_per_ip tenants per client address and max_tenants_per_hour_per_
 *	  email per normalised e-mail address, over a sliding one-hour window of
 *	  tenants actually created (committed).
 *
 * The counts live in shared memory, not in a table, so that counting costs
 * no index scan and no WAL per row:
 *
 *	- keys: a 64-bit hash of (kind, database, normalised value) plus the
 *	  database, in TG_RATE_PARTITIONS open-addressing tables (linear
 *	  probing, backward-shift deletion, at most half full), 16 bytes a slot,
 *	  so that finding or adding a key costs one cache miss, which the
 *	  trigger starts (tg_ratelimit_prepare) before the checker runs;
 *	- events: one per tenant creation, in a pool split the same way, linked
 *	  from their key.  An event is "pending" (xid valid: the (sub)transaction
 *	  that reserved it is still running) or "confirmed" (xid invalid; ts =
 *	  commit time).  A key lives as long as it has events.
 *
 * Locking: partition p = hash % TG_RATE_PARTITIONS owns its slot table,
 * every event list of its keys and its part of the event pool, under one
 * LWLock.  A row's two keys may need two partitions: they are locked in
 * increasing order.  The sweep, reset, status and transaction-end code
 * visit partitions one at a time.  No LWLock is held while waiting for a
 * transaction or raising an error.
 *
 * Transactional semantics: the trigger reserves a pending event under the
 * partition lock after counting; RegisterXactCallback confirms the
 * backend's events at commit (and PREPARE) and frees them at abort;
 * RegisterSubXactCallback frees those of an aborted subtransaction.  Those
 * callbacks run before the transaction's locks are released, so a session
 * whose tenant would be over the limit only because of other sessions'
 * pending events waits for one of them with XactLockTableWait (deadlocks
 * are detected by the lock manager) and counts again: the outcome is
 * exact whatever the isolation level, since no snapshot is involved.
 *
 * Creations, not attempts: a row of INSERT ... ON CONFLICT may be skipped
 * or update the row it conflicts with after the BEFORE trigger has run.
 * ExecutorRun/ExecutorFinish hooks note per statement whether it inserts
 * with ON CONFLICT; for such a statement the guard trigger leaves the row
 * to the AFTER INSERT trigger attach() installs (TG_CREATED_TRIGGER, with
 * the WHEN clause creation_deferred()), which counts it -- with the same
 * locking and waiting -- once it was really inserted.  An ExecutorStart
 * hook takes that trigger out of the executor's copy of the trigger
 * descriptors of every other statement, so plain INSERTs pay nothing for it.
 *
 * A transaction's share of memory: its first TG_RATE_TXN_FLOOR events of a
 * partition are taken while any is free, further ones only while more
 * than half of the partition is free.  Beyond that (and when the memory is
 * full) its tenants are not counted for other sessions (a WARNING,
 * not_counted), so a bulk load never takes the room other sessions'
 * creations need -- but the transaction still counts them for itself, in
 * backend memory (tg_over: key hash -> count, at most
 * tenant_guard.rate_limit_bulk_memory), so that no key passes its limit
 * within one transaction.  This backend's lists of pending events live in
 * a context reset after a transaction that grew them; tg_over's context
 * is deleted at the end of every transaction that made it.
 *
 * Persistence (ratelimit_admin.c, with the SQL functions): the postmaster
 * writes the confirmed events to pg_stat/tenant_guard_ratelimit.stat at a
 * clean shutdown and reads them back at startup (as pg_stat_statements
 * does); after a crash or an immediate shutdown the counts start empty.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <sys/socket.h>

#include "access/parallel.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_trigger.h"
#include "executor/executor.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/plannodes.h"
#include "port/atomics.h"
#include "port/pg_bitutils.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "storage/lwlock.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inet.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "ratekey.h"
#include "ratelimit.h"
#include "ratelimit_int.h"
#include "tenant_guard.h"

/* A sweep for expired events runs at most this often when memory is full. */
#define TG_RATE_SWEEP_INTERVAL	((TimestampTz) 1 * USECS_PER_SEC)

/* Built-in default of both limits: tenants per hour. */
#define TG_RATE_DEFAULT_MAX	3

/* Longest e-mail key shown in messages and log reasons, in bytes. */
#define TG_RATE_DISPLAY_MAX	100

#define TG_RATE_TRANCHE		"tenant_guard rate limits"

/*
 * A transaction's share of the event pool: its first TG_RATE_TXN_FLOOR
 * events of a partition are taken while any is free, further ones only
 * while more than half of the partition is free.  Bulk loads together
 * therefore never hold more than half of the memory, and the other half
 * stays for everyone's ordinary signups.
 */
#define TG_RATE_TXN_FLOOR	8

/*
 * A key (hash; the database is always MyDatabaseId) and how many of this
 * transaction's tenants were counted under it only in backend memory.
 */
typedef struct TgOverEntry
{
	uint64		hash;
	int32		count;
	char		status;			/* simplehash's */
} TgOverEntry;

#define SH_PREFIX			tg_overtab
#define SH_ELEMENT_TYPE		TgOverEntry
#define SH_KEY_TYPE			uint64
#define SH_KEY				hash
#define SH_HASH_KEY(tb, key)	((uint32) ((key) >> 32))
#define SH_EQUAL(tb, a, b)	((a) == (b))
#define SH_SCOPE			static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/*
 * One tenant counted in tg_over inside a subtransaction, so that a
 * ROLLBACK TO SAVEPOINT can take it back (as tg_mine's subid does for
 * shared events).  Tenants of the top transaction need no entry.
 */
typedef struct TgOverSub
{
	uint64		hash;
	SubTransactionId subid;
} TgOverSub;

/* One event this backend reserved and has not seen end yet. */
typedef struct TgRateMine
{
	uint64		hash;			/* its key */
	Oid			dbid;
	int32		event;
	SubTransactionId subid;
} TgRateMine;

/* This backend's pending events of one partition, oldest first. */
typedef struct TgRateMineList
{
	TgRateMine *items;
	int			n;
	int			max;
} TgRateMineList;

int			tg_max_per_ip = TG_RATE_DEFAULT_MAX;
int			tg_max_per_email = TG_RATE_DEFAULT_MAX;
int			tg_rate_capacity = 262144;
int			tg_rate_window = 3600;
static int	tg_rate_bulk_memory = 65536;	/* kB */

TgRateShared *tg_rate = NULL;
TgRateEvent *tg_events = NULL;	/* per_part * TG_RATE_PARTITIONS */
TgRateSlot *tg_slots = NULL;	/* slots_per_part * TG_RATE_PARTITIONS */

static TgRateMineList tg_mine[TG_RATE_PARTITIONS];
static int	tg_mine_total = 0;
static MemoryContext tg_mine_cxt = NULL;	/* the lists' items */
static bool tg_mine_grown = false;	/* a list outgrew its first size */
static TimestampTz tg_full_warned_at = 0;	/* last "memory is full" WARNING */
static bool tg_share_warned = false;	/* "share used up" said in this xact */
static bool tg_unloaded_warned = false; /* in this session */

/* This transaction's tenants counted only here (see the file header). */
static MemoryContext tg_over_cxt = NULL;
static tg_overtab_hash *tg_over = NULL;	/* NULL: none in this transaction */
static TgOverSub *tg_over_sub = NULL;
static int	tg_over_nsub = 0;
static int	tg_over_maxsub = 0;

/* The e-mail key prepared for the row the trigger is working on. */
static struct
{
	bool		valid;
	const char *data;			/* the field it was made from */
	size_t		len;
	char	   *key;			/* normalised address */
	size_t		klen;
	TgRateReq	req;
	char		buf[256];
} tg_prep;

/*
 * ON CONFLICT statements count in the AFTER INSERT trigger (see
 * tg_ratelimit_defer): is the plan the executor is running one with an
 * INSERT ... ON CONFLICT, and did the guard trigger just leave the current
 * row to the AFTER trigger?
 */
bool		tg_rate_on_conflict = false;
bool		tg_rate_row_deferred = false;

static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ExecutorRun_hook_type prev_ExecutorRun = NULL;
static ExecutorFinish_hook_type prev_ExecutorFinish = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* ---------------------------------------------------------------------
 * Configuration
 * ---------------------------------------------------------------------
 */

/* How loose is a limit?  -1 (no limit) is the loosest of all. */
static int
tg_limit_looseness(int limit)
{
	return limit < 0 ? INT_MAX : limit;
}

/*
 * Check hook of both limits: anyone may tighten a limit (a lower value, or
 * the same), only superusers and tenant_guard_admin may loosen it.  As for
 * tenant_guard.mode, stored settings and the configuration file were
 * vetted when placed; RESET and the end of SET LOCAL need no check.
 *
 * SET is compared with the value in force.  A setting about to be stored
 * (ALTER ROLE or ALTER DATABASE ... SET, a function's SET clause: checked
 * with PGC_S_TEST) will apply where another value is in force, so it is
 * compared with the built-in default: otherwise a role in a database whose
 * limit an administrator loosened could carry that value everywhere.
 */
static bool
tg_check_limit(int *newval, int oldval, const char *name, GucSource source)
{
	if (source == PGC_S_TEST)
		oldval = TG_RATE_DEFAULT_MAX;
	if (tg_limit_looseness(*newval) <= tg_limit_looseness(oldval))
		return true;
	if (source < PGC_S_CLIENT)
		return true;
	if (IsParallelWorker())
		return true;
	if (IsTransactionState() && tg_is_admin(GetUserId()))
		return true;

	GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
	if (*newval < 0)
		GUC_check_errmsg("permission denied to switch off %s", name);
	else
		GUC_check_errmsg("permission denied to raise %s to %d", name, *newval);
	if (source == PGC_S_TEST)
		GUC_check_errdetail("A stored setting (ALTER ROLE or ALTER DATABASE ... SET, a function's SET clause) looser than the default of %d needs a superuser or a member of role \"%s\".",
							TG_RATE_DEFAULT_MAX, TG_ADMIN_ROLE);
	else
		GUC_check_errdetail("Only superusers and members of role \"%s\" may loosen a rate limit; other roles may lower it.",
							TG_ADMIN_ROLE);
	return false;
}

/* Check hook of tenant_guard.max_tenants_per_hour_per_ip. */
static bool
tg_check_max_per_ip(int *newval, void **extra, GucSource source)
{
	(void) extra;
	return tg_check_limit(newval, tg_max_per_ip,
						  "tenant_guard.max_tenants_per_hour_per_ip", source);
}

/* Check hook of tenant_guard.max_tenants_per_hour_per_email. */
static bool
tg_check_max_per_email(int *newval, void **extra, GucSource source)
{
	(void) extra;
	return tg_check_limit(newval, tg_max_per_email,
						  "tenant_guard.max_tenants_per_hour_per_email", source);
}

/* ---------------------------------------------------------------------
 * Shared memory: slots, events, partitions
 * ---------------------------------------------------------------------
 */

/* Events per partition for the configured capacity. */
static int
tg_rate_per_part(void)
{
	return (tg_rate_capacity + TG_RATE_PARTITIONS - 1) / TG_RATE_PARTITIONS;
}

/* Slots per partition: a power of 2, at least twice the events. */
static int
tg_rate_slots_per_part(void)
{
	int			n = 64;

	while (n < 2 * tg_rate_per_part())
		n *= 2;
	return n;
}

/* Bytes of shared memory the structure needs. */
static Size
tg_rate_shmem_size(void)
{
	Size		size = MAXALIGN(sizeof(TgRateShared));

	size = add_size(size, MAXALIGN(mul_size((Size) tg_rate_per_part() * TG_RATE_PARTITIONS,
											sizeof(TgRateEvent))));
	size = add_size(size, mul_size((Size) tg_rate_slots_per_part() * TG_RATE_PARTITIONS,
								   sizeof(TgRateSlot)));
	return size;
}

/*
 * Find a key in partition part: its slot index, or -1 with *free_slot set
 * to where it would be added.  Caller holds the partition lock.
 */
int
tg_slot_find(int part, uint64 hash, Oid dbid, int *free_slot)
{
	TgRateSlot *slots = tg_part_slots(part);
	int			mask = tg_rate->slots_per_part - 1;

	for (int i = tg_slot_home(hash);; i = (i + 1) & mask)
	{
		if (slots[i].head < 0)
		{
			if (free_slot)
				*free_slot = i;
			return -1;
		}
		if (slots[i].hash == hash && slots[i].dbid == dbid)
			return i;
	}
}

/*
 * Empty slot i of partition part, shifting later keys of its probe run
 * back so that lookups need no tombstones.  Caller holds the lock.
 */
void
tg_slot_delete(int part, int i)
{
	TgRateSlot *slots = tg_part_slots(part);
	int			mask = tg_rate->slots_per_part - 1;
	int			j = i;

	for (;;)
	{
		int			home;

		j = (j + 1) & mask;
		if (slots[j].head < 0)
			break;
		home = tg_slot_home(slots[j].hash);
		/* may slots[j] move to i?  Only if its home is not in (i, j]. */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
		{
			slots[i] = slots[j];
			i = j;
		}
	}
	slots[i].head = -1;
	tg_rate->part[part].nkeys--;
}

/* Take an event from partition part's pool; -1 if it is empty. */
int32
tg_event_alloc(int part)
{
	TgRatePart *p = &tg_rate->part[part];
	int32		ev = p->freelist;

	if (ev < 0)
		return -1;
	p->freelist = tg_events[ev].next;
	p->nfree--;
	return ev;
}

/* Return an event to partition part's pool. */
static void
tg_event_free(int part, int32 ev)
{
	TgRatePart *p = &tg_rate->part[part];

	tg_events[ev].xid = InvalidTransactionId;
	tg_events[ev].ts = 0;
	tg_events[ev].next = p->freelist;
	p->freelist = ev;
	p->nfree++;
}

/*
 * Add event ev to the key (hash, dbid) of partition part, creating the key
 * in slot free_slot (from tg_slot_find) if idx < 0.  Caller holds the lock.
 */
void
tg_slot_add_event(int part, int idx, int free_slot, uint64 hash, Oid dbid, int32 ev)
{
	TgRateSlot *slots = tg_part_slots(part);

	if (idx < 0)
	{
		idx = free_slot;
		slots[idx].hash = hash;
		slots[idx].dbid = dbid;
		tg_events[ev].next = -1;
		tg_rate->part[part].nkeys++;
	}
	else
		tg_events[ev].next = slots[idx].head;
	slots[idx].head = ev;
}

/*
 * Unlink event ev from its key and free it, removing the key when it was
 * its last event.  Runs in transaction-end callbacks, so an inconsistency
 * is reported, not raised.  Caller holds the lock.
 */
static void
tg_drop_event(int part, uint64 hash, Oid dbid, int32 ev)
{
	int			idx = tg_slot_find(part, hash, dbid, NULL);
	int32	   *link;

	if (idx < 0)
	{
		elog(WARNING, "tenant_guard: rate-limit key of event %d is missing", ev);
		return;
	}
	link = &tg_part_slots(part)[idx].head;
	while (*link >= 0 && *link != ev)
		link = &tg_events[*link].next;
	if (*link != ev)
	{
		elog(WARNING, "tenant_guard: rate-limit event %d is missing from its key", ev);
		return;
	}
	*link = tg_events[ev].next;
	tg_event_free(part, ev);
	if (tg_part_slots(part)[idx].head < 0)
		tg_slot_delete(part, idx);
}

/*
 * Count the events of the key in slot idx, freeing confirmed events older
 * than the window.  *now is read lazily (0 = not yet).  An event still
 * pending for an xid that was already waited for and is no longer running
 * was left behind by a backend that could not clean up: it is settled by
 * the commit log.  Returns false when the key has no events left (the
 * caller then deletes its slot).  Caller holds the partition lock.
 */
bool
tg_slot_count(int part, int idx, TimestampTz *now, TransactionId waited,
			  TgRateCount *cnt)
{
	int32	   *link = &tg_part_slots(part)[idx].head;

	memset(cnt, 0, sizeof(*cnt));
	while (*link >= 0)
	{
		int32		cur = *link;
		TgRateEvent *ev = &tg_events[cur];

		if (TransactionIdIsValid(ev->xid))
		{
			if (TransactionIdIsCurrentTransactionId(ev->xid))
				cnt->mine++;
			else if (ev->xid == waited && !TransactionIdIsInProgress(ev->xid))
			{
				if (!TransactionIdDidCommit(ev->xid))
				{
					*link = ev->next;
					tg_event_free(part, cur);
					continue;
				}
				if (*now == 0)
					*now = GetCurrentTimestamp();
				ev->xid = InvalidTransactionId;
				ev->ts = *now;
				cnt->confirmed++;
			}
			else
			{
				cnt->others++;
				if (!TransactionIdIsValid(cnt->wait_xid))
					cnt->wait_xid = ev->xid;
			}
		}
		else
		{
			if (*now == 0)
				*now = GetCurrentTimestamp();
			if (ev->ts <= *now - TG_RATE_WINDOW)
			{
				*link = ev->next;
				tg_event_free(part, cur);
				continue;
			}
			cnt->confirmed++;
		}
		link = &ev->next;
	}
	return tg_part_slots(part)[idx].head >= 0;
}

/*
 * Chain the free events of a partition in index order, so that the next
 * bulk of reservations walks the pool sequentially (frees come in slot
 * order, which is random).  A free event is the only kind with neither an
 * xid nor a timestamp.  Caller holds the partition lock.
 */
static void
tg_part_rebuild_freelist(int part)
{
	TgRatePart *p = &tg_rate->part[part];
	int32		first = part * tg_rate->per_part;

	p->freelist = -1;
	for (int32 i = tg_rate->per_part - 1; i >= 0; i--)
	{
		TgRateEvent *ev = &tg_events[first + i];

		if (!TransactionIdIsValid(ev->xid) && ev->ts == 0)
		{
			ev->next = p->freelist;
			p->freelist = first + i;
		}
	}
}

/*
 * Free the expired events of every key of a partition whose dbid matches
 * (InvalidOid: all), or with forget_confirmed every confirmed event.
 * Returns how many events were freed.  Caller holds the partition lock.
 */
int64
tg_part_prune(int part, Oid dbid, bool forget_confirmed, TimestampTz *now)
{
	TgRateSlot *slots = tg_part_slots(part);
	int64		freed = 0;

	for (int i = 0; i < tg_rate->slots_per_part;)
	{
		int32	   *link;

		if (slots[i].head < 0 || (OidIsValid(dbid) && slots[i].dbid != dbid))
		{
			i++;
			continue;
		}
		link = &slots[i].head;
		while (*link >= 0)
		{
			int32		cur = *link;
			TgRateEvent *ev = &tg_events[cur];

			if (!TransactionIdIsValid(ev->xid) &&
				(forget_confirmed || ev->ts <= *now - TG_RATE_WINDOW))
			{
				*link = ev->next;
				tg_event_free(part, cur);
				freed++;
				continue;
			}
			link = &ev->next;
		}
		/* a deletion may shift a later key into slot i: look at it again */
		if (slots[i].head < 0)
			tg_slot_delete(part, i);
		else
			i++;
	}
	if (freed > 0)
		tg_part_rebuild_freelist(part);
	return freed;
}

/* Make room in this backend's list of partition part for more events. */
static void
tg_mine_room(int part, int more)
{
	TgRateMineList *l = &tg_mine[part];

	if (l->n + more <= l->max)
		return;
	if (tg_mine_cxt == NULL)
		tg_mine_cxt = AllocSetContextCreate(TopMemoryContext,
											"tenant_guard rate-limit events",
											ALLOCSET_SMALL_SIZES);
	if (l->items == NULL)
	{
		l->max = 64;
		l->items = MemoryContextAlloc(tg_mine_cxt, l->max * sizeof(TgRateMine));
	}
	else
	{
		l->max *= 2;
		l->items = repalloc(l->items, l->max * sizeof(TgRateMine));
		tg_mine_grown = true;
	}
	Assert(l->n + more <= l->max);
}

/*
 * Free every expired event of every key, holding all partition locks.
 * Runs when an allocation finds its part of memory full, at most once per
 * TG_RATE_SWEEP_INTERVAL cluster-wide.  Returns whether anything was freed.
 */
static bool
tg_rate_sweep(void)
{
	TimestampTz now = GetCurrentTimestamp();
	uint64		last = pg_atomic_read_u64(&tg_rate->last_sweep);
	int64		freed = 0;

	if (now - (TimestampTz) last < TG_RATE_SWEEP_INTERVAL ||
		!pg_atomic_compare_exchange_u64(&tg_rate->last_sweep, &last, (uint64) now))
		return false;

	for (int p = 0; p < TG_RATE_PARTITIONS; p++)
	{
		LWLockAcquire(tg_rate_lock(p), LW_EXCLUSIVE);
		freed += tg_part_prune(p, InvalidOid, false, &now);
		LWLockRelease(tg_rate_lock(p));
	}
	return freed > 0;
}

/* Bit mask of the partitions of the requests not done yet. */
static uint32
tg_rate_parts_of(TgRateReq *req, int nreq)
{
	uint32		mask = 0;

	for (int i = 0; i < nreq; i++)
		if (!req[i].done)
			mask |= (uint32) 1 << req[i].part;
	return mask;
}

/* Take (in increasing order) or release the partition locks in mask. */
static void
tg_rate_lock_parts(uint32 mask, bool acquire)
{
	for (; mask != 0; mask &= mask - 1)
	{
		int			p = pg_rightmost_one_pos32(mask);

		if (acquire)
			LWLockAcquire(tg_rate_lock(p), LW_EXCLUSIVE);
		else
			LWLockRelease(tg_rate_lock(p));
	}
}

/*
 * Take an event of partition part for this transaction: -1 when the pool
 * is empty, -2 when the transaction has used up its share of it (see
 * TG_RATE_TXN_FLOOR).  Caller holds the partition lock.
 */
static inline int32
tg_event_take(int part)
{
	if (unlikely(tg_mine[part].n >= TG_RATE_TXN_FLOOR) &&
		tg_rate->part[part].nfree <= tg_rate->per_part / 2)
		return -2;
	return tg_event_alloc(part);
}

/* How many of this transaction's tenants tg_over counts under a key. */
static inline int
tg_over_count(uint64 hash)
{
	TgOverEntry *e = tg_overtab_lookup(tg_over, hash);

	return e != NULL ? e->count : 0;
}

/*
 * Count a tenant of this transaction under the key of req in backend
 * memory only (it got no shared event).  Past tenant_guard.rate_limit_
 * bulk_memory the row is refused rather than let through uncounted.
 * Called with no partition lock held.
 */
static pg_noinline void
tg_over_add(TgRateReq *req)
{
	SubTransactionId subid = GetCurrentSubTransactionId();
	TgOverEntry *e;
	bool		found;
	Size		need = 0;

	if (tg_over == NULL)
	{
		if (tg_over_cxt == NULL)
			tg_over_cxt = AllocSetContextCreate(TopMemoryContext,
												"tenant_guard rate-limit bulk counts",
												ALLOCSET_DEFAULT_SIZES);
		tg_over = tg_overtab_create(tg_over_cxt, 1024, NULL);
	}
	e = tg_overtab_lookup(tg_over, req->hash);
	if (e == NULL || subid != TopSubTransactionId)
	{
		/* what it takes now, and while a new key doubles the table */
		need = MemoryContextMemAllocated(tg_over_cxt, true);
		if (e == NULL && tg_over->members >= tg_over->grow_threshold)
			need += 2 * (Size) tg_over->size * sizeof(TgOverEntry);
	}
	if (need > (Size) tg_rate_bulk_memory * 1024)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("tenant_guard cannot count more tenant creations in this transaction"),
				 errdetail("Beyond its share of the rate-limit memory, a transaction counts its own tenant creations in backend memory, which has reached tenant_guard.rate_limit_bulk_memory (%d kB).",
						   tg_rate_bulk_memory),
				 errhint("For a bulk load, a superuser or a member of role \"%s\" can SET LOCAL tenant_guard.max_tenants_per_hour_per_email and tenant_guard.max_tenants_per_hour_per_ip to -1; or load in smaller transactions.",
						 TG_ADMIN_ROLE)));
	if (subid != TopSubTransactionId)
	{
		if (tg_over_nsub >= tg_over_maxsub)
		{
			tg_over_maxsub = Max(64, tg_over_maxsub * 2);
			tg_over_sub = tg_over_sub == NULL
				? MemoryContextAlloc(tg_over_cxt, tg_over_maxsub * sizeof(TgOverSub))
				: repalloc(tg_over_sub, tg_over_maxsub * sizeof(TgOverSub));
		}
		tg_over_sub[tg_over_nsub].hash = req->hash;
		tg_over_sub[tg_over_nsub].subid = subid;
		tg_over_nsub++;
	}
	e = tg_overtab_insert(tg_over, req->hash, &found);
	e->count = found ? e->count + 1 : 1;
}

/*
 * A subtransaction ends: at commit its entries of tg_over_sub pass to its
 * parent (or are no longer needed: the top transaction); at abort their
 * tenants are taken back.  They are the tail of the list.
 */
static void
tg_over_subxact_end(bool commit, SubTransactionId mySubid,
					SubTransactionId parentSubid)
{
	while (tg_over_nsub > 0 && tg_over_sub[tg_over_nsub - 1].subid >= mySubid)
	{
		TgOverSub  *s = &tg_over_sub[tg_over_nsub - 1];

		if (commit && parentSubid != TopSubTransactionId)
		{
			for (int i = tg_over_nsub - 1; i >= 0 && tg_over_sub[i].subid >= mySubid; i--)
				tg_over_sub[i].subid = parentSubid;
			return;
		}
		if (!commit)
		{
			TgOverEntry *e = tg_overtab_lookup(tg_over, s->hash);

			if (e != NULL && --e->count <= 0)
				tg_overtab_delete_item(tg_over, e);
		}
		tg_over_nsub--;
	}
}

/* The transaction has ended: forget what tg_over counted. */
static void
tg_over_reset(void)
{
	MemoryContextDelete(tg_over_cxt);
	tg_over_cxt = NULL;
	tg_over = NULL;
	tg_over_sub = NULL;
	tg_over_nsub = 0;
	tg_over_maxsub = 0;
}

/*
 * A tenant of a transaction that has used up its share of the memory: it
 * was checked against everyone's counts and this transaction's own, and
 * is counted for this transaction only.  Said once per transaction.
 */
static pg_noinline void
tg_rate_over_share(TgRateReq *req)
{
	tg_over_add(req);
	req->done = true;
	pg_atomic_fetch_add_u64(&tg_rate->not_counted, 1);
	if (tg_share_warned)
		return;
	tg_share_warned = true;
	ereport(WARNING,
			(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
			 errmsg("tenant_guard does not count this transaction's further tenant creations"),
			 errdetail("Beyond its first %d tenants per partition, a transaction takes rate-limit memory only while more than half of it (tenant_guard.rate_limit_capacity = %d) is free; its further tenants are still refused when their address has reached a limit, counting this transaction's own, but do not count for other sessions.",
					   TG_RATE_TXN_FLOOR, tg_rate_capacity),
			 errhint("For a bulk load, SET LOCAL tenant_guard.max_tenants_per_hour_per_email = -1 and leave tenant_guard.client_addr unset.")));
}

/*
 * Reserve event ev, pending for this transaction, under the key of req
 * (in slot idx, or a new key in free_slot when idx < 0), and remember it
 * in this backend's list.  Caller holds the partition lock and made room
 * in the list (tg_mine_room).
 */
static inline void
tg_rate_take(TgRateReq *req, int idx, int free_slot, int32 ev,
			 TransactionId xid, SubTransactionId subid)
{
	TgRateMineList *l = &tg_mine[req->part];
	TgRateMine *m;

	tg_events[ev].xid = xid;
	tg_events[ev].ts = 0;
	tg_slot_add_event(req->part, idx, free_slot, req->hash, req->dbid, ev);
	Assert(l->n < l->max);
	m = &l->items[l->n++];
	m->hash = req->hash;
	m->dbid = req->dbid;
	m->event = ev;
	m->subid = subid;
	tg_mine_total++;
	req->done = true;
}

/*
 * Count one tenant under every request and reserve a pending event for each.
 * enforce: a request over its limit reserves nothing and its index is
 * returned; one over its limit only because of other sessions' pending
 * events waits for them first.  !enforce (log mode): never waits, reserves
 * all, and returns the index of a request that was already at its limit.
 * Returns -1 when no limit was reached.
 */
static int
tg_rate_reserve(TgRateReq *req, int nreq, bool enforce)
{
	TransactionId xid = GetCurrentTransactionId();
	SubTransactionId subid = GetCurrentSubTransactionId();
	TransactionId waited = InvalidTransactionId;
	bool		swept = false;
	int			over = -1;

	/* room for every event this row may reserve: two keys may share a list */
	for (int i = 0; i < nreq; i++)
	{
		int			more = 1;

		for (int j = 0; j < i; j++)
			more += (req[j].part == req[i].part);
		tg_mine_room(req[i].part, more);
	}
	/* tenants this transaction counted only in backend memory */
	if (unlikely(tg_over != NULL))
	{
		for (int i = 0; i < nreq; i++)
			req[i].local = tg_over_count(req[i].hash);
	}

	/*
	 * One key that nothing counts yet -- a new address in a bulk load, the
	 * usual case -- is under any limit of one or more and waits for
	 * nobody: its slot and event are taken under one lock, with no count
	 * but this transaction's own in backend memory (req->local).  Anything
	 * else (the key has events, the pool is empty, two keys) takes the
	 * general loop below.
	 */
	if (nreq == 1 && req[0].limit > req[0].local)
	{
		int			free_slot;
		int32		ev;

		LWLockAcquire(tg_rate_lock(req[0].part), LW_EXCLUSIVE);
		if (tg_slot_find(req[0].part, req[0].hash, req[0].dbid, &free_slot) < 0 &&
			(ev = tg_event_take(req[0].part)) != -1)
		{
			if (ev >= 0)
				tg_rate_take(&req[0], -1, free_slot, ev, xid, subid);
			LWLockRelease(tg_rate_lock(req[0].part));
			if (ev == -2)
				tg_rate_over_share(&req[0]);
			req[0].counted = req[0].local;
			return -1;
		}
		LWLockRelease(tg_rate_lock(req[0].part));
	}

	for (;;)
	{
		TransactionId wait_xid = InvalidTransactionId;
		TimestampTz now = 0;
		bool		full = false;
		bool		over_share[2] = {false, false};
		uint32		locked = tg_rate_parts_of(req, nreq);
		int			idx[2];
		int			free_slot[2];

		Assert(nreq <= 2);
		tg_rate_lock_parts(locked, true);
		for (int i = 0; i < nreq; i++)
		{
			TgRateCount cnt = {0};

			if (req[i].done)
				continue;
			idx[i] = tg_slot_find(req[i].part, req[i].hash, req[i].dbid, &free_slot[i]);
			if (idx[i] >= 0 &&
				!tg_slot_count(req[i].part, idx[i], &now, waited, &cnt))
			{
				tg_slot_delete(req[i].part, idx[i]);
				idx[i] = tg_slot_find(req[i].part, req[i].hash, req[i].dbid, &free_slot[i]);
			}
			req[i].counted = cnt.confirmed + cnt.mine + req[i].local;
			if (req[i].counted >= req[i].limit)
			{
				if (over < 0)
					over = i;
			}
			else if (enforce && req[i].counted + cnt.others >= req[i].limit &&
					 !TransactionIdIsValid(wait_xid))
				wait_xid = cnt.wait_xid;
		}

		if (enforce && (over >= 0 || TransactionIdIsValid(wait_xid)))
		{
			tg_rate_lock_parts(locked, false);
			if (over >= 0)
			{
				pg_atomic_fetch_add_u64(&tg_rate->refused, 1);
				return over;
			}
			pg_atomic_fetch_add_u64(&tg_rate->waits, 1);
			XactLockTableWait(wait_xid, NULL, NULL, XLTW_None);
			waited = wait_xid;
			continue;
		}

		for (int i = 0; i < nreq; i++)
		{
			int32		ev;

			if (req[i].done)
				continue;
			/*
			 * Two keys in one partition: deleting an emptied key while
			 * counting the second may have moved the first, and adding the
			 * first may have taken the second's free slot.  Look again.
			 */
			if (nreq == 2 && req[0].part == req[1].part)
				idx[i] = tg_slot_find(req[i].part, req[i].hash, req[i].dbid, &free_slot[i]);
			ev = tg_event_take(req[i].part);
			if (ev == -2)
				over_share[i] = true;
			else if (ev < 0)
				full = true;
			else
				tg_rate_take(&req[i], idx[i], free_slot[i], ev, xid, subid);
		}
		tg_rate_lock_parts(locked, false);
		for (int i = 0; i < nreq; i++)
			if (over_share[i])
				tg_rate_over_share(&req[i]);

		if (!full)
			return over;
		if (!swept)
		{
			swept = true;
			if (tg_rate_sweep())
				continue;
		}
		/* memory is full of live events: fail open for the rest */
		for (int i = 0; i < nreq; i++)
		{
			if (req[i].done)
				continue;
			tg_over_add(&req[i]);
			req[i].done = true;
			req[i].not_counted = true;
			pg_atomic_fetch_add_u64(&tg_rate->not_counted, 1);
		}
		return over;
	}
}

/*
 * The transaction ends: confirm this backend's pending events (commit,
 * prepare) with the commit time, or free them (abort).
 */
static void
tg_mine_finish(bool commit)
{
	TimestampTz now = commit ? GetCurrentTimestamp() : 0;

	for (int p = 0; p < TG_RATE_PARTITIONS; p++)
	{
		TgRateMineList *l = &tg_mine[p];

		if (l->n == 0)
			continue;
		LWLockAcquire(tg_rate_lock(p), LW_EXCLUSIVE);
		for (int i = l->n - 1; i >= 0; i--)
		{
			TgRateMine *m = &l->items[i];

			if (commit)
			{
				tg_events[m->event].xid = InvalidTransactionId;
				tg_events[m->event].ts = now;
			}
			else
				tg_drop_event(p, m->hash, m->dbid, m->event);
		}
		LWLockRelease(tg_rate_lock(p));
		l->n = 0;
	}
	tg_mine_total = 0;
}

/*
 * The transaction has ended (its events settled).  After a bulk load --
 * lists that grew, or a share used up -- give the memory back, also to the
 * operating system: glibc keeps freed chunks of a few hundred kB in its
 * heap, so a backend that once held megabytes of lists (or of a bulk
 * statement's executor memory) would keep them resident.
 */
static void
tg_rate_xact_end(void)
{
	bool		bulk = tg_mine_grown || tg_share_warned || tg_over_cxt != NULL;

	if (tg_mine_grown)
	{
		MemoryContextReset(tg_mine_cxt);
		memset(tg_mine, 0, sizeof(tg_mine));
		tg_mine_grown = false;
	}
	tg_share_warned = false;
	if (tg_over_cxt != NULL)
		tg_over_reset();
#ifdef __GLIBC__
	if (bulk)
		malloc_trim(0);
#else
	(void) bulk;
#endif
}

/* Transaction callback: settle this backend's pending events. */
static void
tg_rate_xact_callback(XactEvent event, void *arg)
{
	(void) arg;
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			if (tg_mine_total > 0)
				tg_mine_finish(true);
			tg_rate_xact_end();
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			if (tg_mine_total > 0)
				tg_mine_finish(false);
			tg_rate_xact_end();
			tg_prep.valid = false;	/* a row refused after preparing */
			tg_rate_on_conflict = false;
			tg_rate_row_deferred = false;
			break;
		default:
			break;
	}
}

/*
 * Subtransaction callback: at commit the subtransaction's events pass to
 * its parent; at abort they are freed.  A subtransaction's events are the
 * tail of each list (its children ended before it).
 */
static void
tg_rate_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	(void) arg;
	if (event != SUBXACT_EVENT_COMMIT_SUB && event != SUBXACT_EVENT_ABORT_SUB)
		return;
	if (unlikely(tg_over_nsub > 0))
		tg_over_subxact_end(event == SUBXACT_EVENT_COMMIT_SUB, mySubid, parentSubid);
	if (tg_mine_total == 0)
		return;

	for (int p = 0; p < TG_RATE_PARTITIONS; p++)
	{
		TgRateMineList *l = &tg_mine[p];

		if (l->n == 0 || l->items[l->n - 1].subid < mySubid)
			continue;
		if (event == SUBXACT_EVENT_COMMIT_SUB)
		{
			for (int i = l->n - 1; i >= 0 && l->items[i].subid >= mySubid; i--)
				l->items[i].subid = parentSubid;
			continue;
		}
		LWLockAcquire(tg_rate_lock(p), LW_EXCLUSIVE);
		while (l->n > 0 && l->items[l->n - 1].subid >= mySubid)
		{
			TgRateMine *m = &l->items[l->n - 1];

			tg_drop_event(p, m->hash, m->dbid, m->event);
			l->n--;
			tg_mine_total--;
		}
		LWLockRelease(tg_rate_lock(p));
	}
}


/* shmem_request_hook: reserve our memory and locks. */
static void
tg_rate_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(tg_rate_shmem_size());
	RequestNamedLWLockTranche(TG_RATE_TRANCHE, TG_RATE_PARTITIONS);
}

/* shmem_startup_hook: create (or attach to) the structure. */
static void
tg_rate_shmem_startup(void)
{
	bool		found;
	int			per_part = tg_rate_per_part();
	int			slots_per_part = tg_rate_slots_per_part();
	char	   *base;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	base = ShmemInitStruct(TG_RATE_TRANCHE, tg_rate_shmem_size(), &found);
	tg_rate = (TgRateShared *) base;
	tg_events = (TgRateEvent *) (base + MAXALIGN(sizeof(TgRateShared)));
	tg_slots = (TgRateSlot *) (base + MAXALIGN(sizeof(TgRateShared)) +
							   MAXALIGN((Size) per_part * TG_RATE_PARTITIONS * sizeof(TgRateEvent)));
	if (!found)
	{
		tg_rate->locks = GetNamedLWLockTranche(TG_RATE_TRANCHE);
		tg_rate->per_part = per_part;
		tg_rate->slots_per_part = slots_per_part;
		pg_atomic_init_u64(&tg_rate->refused, 0);
		pg_atomic_init_u64(&tg_rate->waits, 0);
		pg_atomic_init_u64(&tg_rate->not_counted, 0);
		pg_atomic_init_u64(&tg_rate->last_sweep, 0);
		for (int p = 0; p < TG_RATE_PARTITIONS; p++)
		{
			int32		first = p * per_part;

			for (int32 i = 0; i < per_part; i++)
			{
				tg_events[first + i].xid = InvalidTransactionId;
				tg_events[first + i].ts = 0;
				tg_events[first + i].next = (i + 1 < per_part) ? first + i + 1 : -1;
			}
			tg_rate->part[p].freelist = first;
			tg_rate->part[p].nfree = per_part;
			tg_rate->part[p].nkeys = 0;
		}
		for (Size i = 0; i < (Size) slots_per_part * TG_RATE_PARTITIONS; i++)
			tg_slots[i].head = -1;
	}
	LWLockRelease(AddinShmemInitLock);

	if (!IsUnderPostmaster)
		on_shmem_exit(tg_rate_dump, (Datum) 0);
	if (!found)
		tg_rate_load();
}

/* ---------------------------------------------------------------------
 * Keys
 * ---------------------------------------------------------------------
 */

/* A request for the normalised value bytes of a kind, in this database. */
void
tg_rate_req(TgRateReq *req, TgRateKind kind, const void *bytes, size_t len, int limit)
{
	uint64		seed = tg_key_seed((unsigned) kind, MyDatabaseId);

	memset(req, 0, sizeof(*req));
	req->hash = tg_key_hash(bytes, len, seed);
	req->dbid = MyDatabaseId;
	req->kind = kind;
	req->part = tg_rate_partition(req->hash);
	req->limit = limit;

	/*
	 * The key's slot is one cache miss away: start loading it now, so that
	 * the miss overlaps the work before the lookup (a bulk load of distinct
	 * keys pays it for every row).
	 */
#if defined(__GNUC__) || defined(__clang__)
	if (tg_rate != NULL)
		__builtin_prefetch(&tg_part_slots(req->part)[tg_slot_home(req->hash)], 1);
#endif
}

/*
 * The key bytes of an IP address in text form (as validated by the GUC or
 * by the inet type); 0 if it does not parse.
 */
size_t
tg_rate_ip_key(const char *s, unsigned char key[TG_IP_KEY_MAX])
{
	unsigned char addr[16];
	bool		v6 = strchr(s, ':') != NULL;

	memset(addr, 0, sizeof(addr));
	if (pg_inet_net_pton(v6 ? PGSQL_AF_INET6 : PGSQL_AF_INET, s, addr, -1) < 0)
		return 0;
	return tg_ip_key(v6 ? 6 : 4, addr, key);
}

/*
 * tg_rate_email_key() for a key longer than bufsize (klen from the first
 * try), or when memory for the Unicode work ran out.
 */
size_t
tg_rate_email_key_long(const char *email, size_t len, size_t klen, char **key)
{
	/* (a key never needs more room than it said; if it did, ask again) */
	for (int tries = 0; klen != TG_EMAIL_KEY_NOMEM && tries < 2; tries++)
	{
		size_t		room = klen;

		*key = palloc(room);
		klen = tg_email_key(email, len, *key, room);
		if (klen <= room)
			break;
		pfree(*key);
		*key = NULL;
	}
	if (*key == NULL && klen != TG_EMAIL_KEY_NOMEM)
		elog(ERROR, "e-mail key of %zu bytes does not fit the room it asked for", len);
	if (klen == TG_EMAIL_KEY_NOMEM)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Failed while normalising an e-mail address of %zu bytes for the rate limits.",
						   len)));
	return klen;
}

/* ---------------------------------------------------------------------
 * The trigger's entry points
 * ---------------------------------------------------------------------
 */


/* Is plan an INSERT ... ON CONFLICT (the top node of a statement or CTE)? */
static bool
tg_plan_on_conflict(Plan *plan)
{
	return plan != NULL && IsA(plan, ModifyTable) &&
		((ModifyTable *) plan)->operation == CMD_INSERT &&
		((ModifyTable *) plan)->onConflictAction != ONCONFLICT_NONE;
}

/* Does a statement insert with ON CONFLICT, at its top or in a WITH? */
static bool
tg_stmt_on_conflict(PlannedStmt *stmt)
{
	ListCell   *lc;

	if (stmt->commandType != CMD_INSERT && !stmt->hasModifyingCTE)
		return false;
	if (tg_plan_on_conflict(stmt->planTree))
		return true;
	foreach(lc, stmt->subplans)
	{
		if (tg_plan_on_conflict((Plan *) lfirst(lc)))
			return true;
	}
	return false;
}

/*
 * ExecutorRun and ExecutorFinish hooks: say whether the statement being
 * run inserts with ON CONFLICT, for the guard trigger and the WHEN clause
 * of the AFTER trigger (the rows of a WITH's INSERT may be inserted in
 * ExecutorFinish).  Nested statements save and restore the outer one's
 * state, also when they fail inside a subtransaction that is caught.
 */
static void
tg_rate_executor_run(QueryDesc *queryDesc, ScanDirection direction,
					 uint64 count, bool execute_once)
{
	bool		save_on_conflict = tg_rate_on_conflict;
	bool		save_deferred = tg_rate_row_deferred;

	tg_rate_on_conflict = tg_stmt_on_conflict(queryDesc->plannedstmt);
	tg_rate_row_deferred = false;
	PG_TRY();
	{
		if (prev_ExecutorRun)
			prev_ExecutorRun(queryDesc, direction, count, execute_once);
		else
			standard_ExecutorRun(queryDesc, direction, count, execute_once);
	}
	PG_FINALLY();
	{
		tg_rate_on_conflict = save_on_conflict;
		tg_rate_row_deferred = save_deferred;
	}
	PG_END_TRY();
}

/* See tg_rate_executor_run. */
static void
tg_rate_executor_finish(QueryDesc *queryDesc)
{
	bool		save_on_conflict = tg_rate_on_conflict;
	bool		save_deferred = tg_rate_row_deferred;

	tg_rate_on_conflict = tg_stmt_on_conflict(queryDesc->plannedstmt);
	tg_rate_row_deferred = false;
	PG_TRY();
	{
		if (prev_ExecutorFinish)
			prev_ExecutorFinish(queryDesc);
		else
			standard_ExecutorFinish(queryDesc);
	}
	PG_FINALLY();
	{
		tg_rate_on_conflict = save_on_conflict;
		tg_rate_row_deferred = save_deferred;
	}
	PG_END_TRY();
}

/* Is t an AFTER INSERT row trigger? */
static inline bool
tg_trigger_after_insert_row(const Trigger *t)
{
	return TRIGGER_TYPE_MATCHES(t->tgtype, TRIGGER_TYPE_ROW, TRIGGER_TYPE_AFTER,
								TRIGGER_TYPE_INSERT);
}

/* Is t the AFTER INSERT trigger attach() installs (TG_CREATED_TRIGGER)? */
static bool
tg_trigger_is_created(const Trigger *t)
{
	return tg_trigger_after_insert_row(t) && t->tgqual != NULL &&
		strcmp(t->tgname, TG_CREATED_TRIGGER) == 0;
}

/*
 * Take TG_CREATED_TRIGGER out of an executor's own copy of a table's
 * trigger descriptor (see tg_rate_executor_start).
 */
static void
tg_trigdesc_drop_created(TriggerDesc *trigdesc)
{
	bool		after_row = false;
	int			i;

	if (trigdesc == NULL || !trigdesc->trig_insert_after_row)
		return;
	for (i = 0; i < trigdesc->numtriggers; i++)
	{
		if (tg_trigger_is_created(&trigdesc->triggers[i]))
			break;
	}
	if (i == trigdesc->numtriggers)
		return;
	memmove(&trigdesc->triggers[i], &trigdesc->triggers[i + 1],
			(trigdesc->numtriggers - i - 1) * sizeof(Trigger));
	trigdesc->numtriggers--;
	for (i = 0; i < trigdesc->numtriggers; i++)
		after_row |= tg_trigger_after_insert_row(&trigdesc->triggers[i]);
	trigdesc->trig_insert_after_row = after_row;
}

/*
 * ExecutorStart hook.  A statement without INSERT ... ON CONFLICT never
 * needs TG_CREATED_TRIGGER: its WHEN clause would be false for every row.
 * It is taken out of the executor's copies of the trigger descriptors
 * (InitResultRelInfo copies them per statement) of the tables the
 * statement opened, so that an ordinary INSERT pays nothing per row for
 * it.  Tables opened later (a partition a row is routed to) and COPY keep
 * it, and evaluate its WHEN clause.
 */
static void
tg_rate_executor_start(QueryDesc *queryDesc, int eflags)
{
	ListCell   *lc;

	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);

	if (queryDesc->estate == NULL || tg_stmt_on_conflict(queryDesc->plannedstmt))
		return;
	foreach(lc, queryDesc->estate->es_opened_result_relations)
		tg_trigdesc_drop_created(((ResultRelInfo *) lfirst(lc))->ri_TrigDesc);
}

/*
 * Does the relation have TG_CREATED_TRIGGER, and will it fire in this
 * session?  A table attached before version 1.1 may lack it until ALTER
 * EXTENSION UPDATE.
 */
static bool
tg_rel_counts_after(Relation rel)
{
	TriggerDesc *trigdesc = rel->trigdesc;

	if (trigdesc == NULL || !trigdesc->trig_insert_after_row)
		return false;
	for (int i = 0; i < trigdesc->numtriggers; i++)
	{
		Trigger    *t = &trigdesc->triggers[i];

		if (!tg_trigger_is_created(t))
			continue;
		if (SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA)
			return t->tgenabled == TRIGGER_FIRES_ON_REPLICA ||
				t->tgenabled == TRIGGER_FIRES_ALWAYS;
		return t->tgenabled == TRIGGER_FIRES_ON_ORIGIN ||
			t->tgenabled == TRIGGER_FIRES_ALWAYS;
	}
	return false;
}

void
tg_ratelimit_prepare(TriggerData *trigdata, const TgText *email)
{
	tg_prep.valid = false;
	if (!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) || tg_rate == NULL ||
		tg_rate_on_conflict ||
		tg_max_per_email < 0 || tg_mode == TG_MODE_OFF ||
		email->data == NULL || email->len == 0)
		return;
	tg_prep.klen = tg_rate_email_key(email->data, email->len, tg_prep.buf,
									 sizeof(tg_prep.buf), &tg_prep.key);
	if (tg_prep.klen > 0)
		tg_rate_req(&tg_prep.req, TG_RATE_EMAIL, tg_prep.key, tg_prep.klen,
					tg_max_per_email);
	tg_prep.data = email->data;
	tg_prep.len = email->len;
	tg_prep.valid = true;
}

void
tg_ratelimit_check(Relation rel, HeapTuple tuple, const TgText *email)
{
	TgRateReq	req[2];
	int			nreq = 0;
	char		buf[256];
	char	   *ekey = NULL;
	size_t		eklen = 0;
	int			over;
	bool		not_counted = false;
	StringInfoData reason;

	/* per IP: only when the application said who the end user is */
	if (tg_max_per_ip >= 0 && tg_client_addr != NULL && tg_client_addr[0] != '\0')
	{
		unsigned char key[TG_IP_KEY_MAX];
		size_t		klen = tg_rate_ip_key(tg_client_addr, key);

		if (klen == 0)
			elog(ERROR, "tenant_guard.client_addr \"%s\" is not an IP address",
				 tg_client_addr);
		tg_rate_req(&req[nreq], TG_RATE_IP, key, klen, tg_max_per_ip);
		req[nreq].display = tg_client_addr;
		nreq++;
	}

	/* per e-mail: a NULL or blank address is not counted */
	if (tg_max_per_email >= 0 && email->data != NULL && email->len > 0)
	{
		if (tg_prep.valid && tg_prep.data == email->data && tg_prep.len == email->len)
		{
			ekey = tg_prep.key;
			eklen = tg_prep.klen;
			if (eklen > 0)
			{
				req[nreq] = tg_prep.req;
				req[nreq].limit = tg_max_per_email;
				nreq++;
			}
		}
		else
		{
			eklen = tg_rate_email_key(email->data, email->len, buf, sizeof(buf),
									  &ekey);
			if (eklen > 0)
			{
				tg_rate_req(&req[nreq], TG_RATE_EMAIL, ekey, eklen, tg_max_per_email);
				nreq++;
			}
		}
	}
	tg_prep.valid = false;

	if (nreq == 0)
		return;

	if (tg_rate == NULL)
	{
		if (!tg_unloaded_warned)
			ereport(WARNING,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("tenant_guard rate limits are not enforced"),
					 errdetail("tenant_guard is not in shared_preload_libraries, so there is no shared memory to count tenant creations in."),
					 errhint("Add tenant_guard to shared_preload_libraries and restart the server.")));
		tg_unloaded_warned = true;
		return;
	}

	over = tg_rate_reserve(req, nreq, tg_mode == TG_MODE_ENFORCE);

	for (int i = 0; i < nreq; i++)
		not_counted |= req[i].not_counted;
	/* say so, but at most once a minute per session: a flood must not flood the log */
	if (not_counted &&
		GetCurrentTimestamp() - tg_full_warned_at >= (TimestampTz) 60 * USECS_PER_SEC)
	{
		tg_full_warned_at = GetCurrentTimestamp();
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("tenant_guard rate-limit memory is full"),
				 errdetail("Tenants created while it is full are not counted against the limits (%d tenant creations of the last hour fit).",
						   tg_rate_capacity),
				 errhint("Raise tenant_guard.rate_limit_capacity (needs a restart); for a bulk load, SET LOCAL the limits to -1.")));
	}

	if (over < 0)
		return;

	/* name the key; a long address is cut (the row itself is logged whole) */
	if (req[over].kind == TG_RATE_EMAIL && tg_text_convert)
	{
		/* a key is UTF-8: in a database of another encoding, say it in ASCII */
		char		shown[TG_RATE_DISPLAY_MAX + 4];

		req[over].display = pnstrdup(shown, tg_ascii_escaped(ekey, eklen, shown,
															 sizeof(shown)));
	}
	else if (req[over].kind == TG_RATE_EMAIL)
	{
		int			cut = pg_mbcliplen(ekey, (int) Min(eklen, INT_MAX), TG_RATE_DISPLAY_MAX);

		req[over].display = (size_t) cut < eklen ? psprintf("%.*s...", cut, ekey)
			: pnstrdup(ekey, eklen);
	}
	initStringInfo(&reason);
	appendStringInfo(&reason, TG_RATE_REASON_PREFIX "%d tenant%s per hour per %s %s",
					 req[over].limit, req[over].limit == 1 ? "" : "s",
					 req[over].kind == TG_RATE_IP ? "IP" : "email",
					 req[over].display);

	if (tg_mode != TG_MODE_ENFORCE)
	{
		tg_log_kept(rel, tuple, reason.data);
		return;
	}

	tg_log_rejection(rel, tuple, reason.data);

	if (req[over].kind == TG_RATE_IP)
		ereport(ERROR,
				(errcode(ERRCODE_TG_RATE_LIMITED),
				 errmsg(TG_RATE_LIMITED_MESSAGE),
				 errdetail_plural("At most %d tenant per hour may be created from one IP address; %s has reached that limit.",
								  "At most %d tenants per hour may be created from one IP address; %s has reached that limit.",
								  req[over].limit, req[over].limit, req[over].display)));
	else
		ereport(ERROR,
				(errcode(ERRCODE_TG_RATE_LIMITED),
				 errmsg(TG_RATE_LIMITED_MESSAGE),
				 errdetail_plural("At most %d tenant per hour may be created with one e-mail address; %s has reached that limit.",
								  "At most %d tenants per hour may be created with one e-mail address; %s has reached that limit.",
								  req[over].limit, req[over].limit, req[over].display)));
}

bool
tg_ratelimit_defer(Relation rel)
{
	/*
	 * INSERT ... ON CONFLICT: the row may yet be skipped (DO NOTHING) or
	 * update the row it conflicts with (DO UPDATE), which creates no
	 * tenant.  Only the AFTER INSERT trigger knows it was inserted: leave
	 * the counting to it (its WHEN clause, tenant_guard.creation_deferred(),
	 * reads tg_rate_row_deferred).
	 */
	if (tg_rate_on_conflict && tg_rate != NULL && tg_rel_counts_after(rel))
	{
		tg_rate_row_deferred = true;
		return true;
	}
	return false;
}

PG_FUNCTION_INFO_V1(creation_deferred);

/*
 * WHEN clause of the AFTER INSERT trigger: did the guard trigger leave
 * this row's counting to it?  Called once per inserted row, right after
 * the BEFORE triggers of that row; it consumes the answer.
 */
Datum
creation_deferred(PG_FUNCTION_ARGS)
{
	bool		deferred = tg_rate_row_deferred;

	(void) fcinfo;
	tg_rate_row_deferred = false;
	PG_RETURN_BOOL(deferred);
}

/* ---------------------------------------------------------------------
 * Set-up
 * ---------------------------------------------------------------------
 */

void
tg_ratelimit_init(void)
{
	DefineCustomIntVariable("tenant_guard.max_tenants_per_hour_per_ip",
							"Most tenants one client IP address may create in a sliding hour.",
							"Counted by tenant_guard.client_addr (IPv6 by /64); no per-IP limit while it is unset. -1: no limit. Only superusers and tenant_guard_admin may raise it.",
							&tg_max_per_ip,
							TG_RATE_DEFAULT_MAX, -1, 1000000,
							PGC_USERSET, 0,
							tg_check_max_per_ip, NULL, NULL);

	DefineCustomIntVariable("tenant_guard.max_tenants_per_hour_per_email",
							"Most tenants one e-mail address may create in a sliding hour.",
							"Counted by the normalised address (case, +tag, gmail dots). -1: no limit. Only superusers and tenant_guard_admin may raise it.",
							&tg_max_per_email,
							TG_RATE_DEFAULT_MAX, -1, 1000000,
							PGC_USERSET, 0,
							tg_check_max_per_email, NULL, NULL);

	RegisterXactCallback(tg_rate_xact_callback, NULL);
	RegisterSubXactCallback(tg_rate_subxact_callback, NULL);

	/* the rest exists only when loaded at server start */
	if (!process_shared_preload_libraries_in_progress)
		return;

	DefineCustomIntVariable("tenant_guard.rate_limit_capacity",
							"How many tenant creations (pending or of the last hour) the rate limits can remember.",
							"About 48 bytes of shared memory each. When full, further creations are not counted (with a WARNING).",
							&tg_rate_capacity,
							262144, 1024, 16777216,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("tenant_guard.rate_limit_window",
							"Length of the sliding window of the rate limits.",
							"One hour: the limits are per hour. Shorter windows are for tests.",
							&tg_rate_window,
							3600, 1, 3600,
							PGC_POSTMASTER, GUC_UNIT_S | GUC_NOT_IN_SAMPLE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("tenant_guard.rate_limit_bulk_memory",
							"Most backend memory a transaction uses to count its own tenant creations beyond its share of the rate-limit memory.",
							"Further creations in the transaction are refused with an error; bulk loads that need more run with the limits set to -1.",
							&tg_rate_bulk_memory,
							65536, 64, MAX_KILOBYTES,
							PGC_USERSET, GUC_UNIT_KB,
							NULL, NULL, NULL);

	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = tg_rate_executor_start;
	prev_ExecutorRun = ExecutorRun_hook;
	ExecutorRun_hook = tg_rate_executor_run;
	prev_ExecutorFinish = ExecutorFinish_hook;
	ExecutorFinish_hook = tg_rate_executor_finish;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = tg_rate_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = tg_rate_shmem_startup;
}
