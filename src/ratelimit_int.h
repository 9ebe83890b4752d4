/*-------------------------------------------------------------------------
 *
 * ratelimit_int.h
 *	  The shared structure of the rate limits, for its two files:
 *	  ratelimit.c (the structure, counting and the transaction callbacks)
 *	  and ratelimit_admin.c (the SQL functions and persistence across
 *	  restarts).  See ratelimit.c's header for the design.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_RATELIMIT_INT_H
#define TENANT_GUARD_RATELIMIT_INT_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "port/atomics.h"
#include "storage/lwlock.h"

#include "ratekey.h"
#include "ratelimit.h"

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(hidden)
#endif

/* The sliding window: tenant_guard.rate_limit_window, one hour. */
#define TG_RATE_WINDOW		((TimestampTz) tg_rate_window * USECS_PER_SEC)

/* What a key counts. */
typedef enum TgRateKind
{
	TG_RATE_IP = 1,
	TG_RATE_EMAIL = 2
} TgRateKind;

/* A key's slot; head < 0 means the slot is empty. */
typedef struct TgRateSlot
{
	uint64		hash;			/* of kind, database and normalised value */
	Oid			dbid;
	int32		head;			/* first event */
} TgRateSlot;

/* One tenant creation, pending or confirmed. */
typedef struct TgRateEvent
{
	TimestampTz ts;				/* confirmed: commit time */
	TransactionId xid;			/* pending: reserving (sub)xid; else invalid */
	int32		next;			/* next event of the key, or of the free list */
} TgRateEvent;

/* Per-partition state. */
typedef struct TgRatePart
{
	int32		freelist;		/* first free event */
	int32		nfree;
	int32		nkeys;
} TgRatePart;

/* The shared state; the event pool and the slot tables follow it. */
typedef struct TgRateShared
{
	LWLockPadded *locks;		/* TG_RATE_PARTITIONS of them */
	int32		per_part;		/* events per partition */
	int32		slots_per_part; /* a power of 2, >= 2 * per_part */
	pg_atomic_uint64 refused;	/* tenants refused by a limit */
	pg_atomic_uint64 waits;		/* waits for another transaction */
	pg_atomic_uint64 not_counted;	/* creations not counted: memory full */
	pg_atomic_uint64 last_sweep;	/* TimestampTz of the last full sweep */
	TgRatePart	part[TG_RATE_PARTITIONS];
} TgRateShared;

/* One key a tenant is counted under, while deciding. */
typedef struct TgRateReq
{
	uint64		hash;
	Oid			dbid;
	TgRateKind	kind;
	int			part;
	int			limit;
	bool		done;			/* reserved (or given up: memory full) */
	bool		not_counted;	/* memory was full */
	int			local;			/* this transaction's, in backend memory only */
	int			counted;		/* out: confirmed + this transaction's */
	const char *display;		/* the value, for messages */
} TgRateReq;

/* Counts of one key's events. */
typedef struct TgRateCount
{
	int			confirmed;
	int			mine;
	int			others;
	TransactionId wait_xid;		/* one of the others' pending xids */
} TgRateCount;
extern TgRateShared *tg_rate;	/* NULL: not in shared_preload_libraries */
extern TgRateEvent *tg_events;
extern TgRateSlot *tg_slots;

/* Partition of a key hash. */
static inline int
tg_rate_partition(uint64 hash)
{
	return (int) (hash % TG_RATE_PARTITIONS);
}

static inline LWLock *
tg_rate_lock(int part)
{
	return &tg_rate->locks[part].lock;
}

/* Slot table of a partition. */
static inline TgRateSlot *
tg_part_slots(int part)
{
	return tg_slots + (Size) part * tg_rate->slots_per_part;
}

/* Where a hash would sit in its partition's table if nothing were in the way. */
static inline int
tg_slot_home(uint64 hash)
{
	return (int) ((hash >> 8) & (uint64) (tg_rate->slots_per_part - 1));
}

/* ratelimit.c: the slot tables and the event pool (caller holds the lock) */
extern int	tg_slot_find(int part, uint64 hash, Oid dbid, int *free_slot);
extern void tg_slot_delete(int part, int i);
extern int32 tg_event_alloc(int part);
extern void tg_slot_add_event(int part, int idx, int free_slot, uint64 hash,
							  Oid dbid, int32 ev);
extern bool tg_slot_count(int part, int idx, TimestampTz *now,
						  TransactionId waited, TgRateCount *cnt);
extern int64 tg_part_prune(int part, Oid dbid, bool forget_confirmed,
						   TimestampTz *now);

/* ratelimit.c: keys */
extern void tg_rate_req(TgRateReq *req, TgRateKind kind, const void *bytes,
						size_t len, int limit);
extern size_t tg_rate_ip_key(const char *s, unsigned char key[TG_IP_KEY_MAX]);
extern size_t tg_rate_email_key_long(const char *email, size_t len, size_t klen,
									 char **key);

/*
 * The key of an e-mail address (UTF-8, as the trigger sees it) in buf, or
 * in palloc'd memory when it is longer than bufsize: sets *key, returns
 * the length (0: not counted).
 */
static inline size_t
tg_rate_email_key(const char *email, size_t len, char *buf, size_t bufsize,
				  char **key)
{
	size_t		klen = tg_email_key(email, len, buf, bufsize);

	*key = buf;
	if (unlikely(klen > bufsize))
		klen = tg_rate_email_key_long(email, len, klen, key);
	return klen;
}

/* ratelimit_admin.c: the counts across clean restarts */
extern void tg_rate_dump(int code, Datum arg);
extern void tg_rate_load(void);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#endif							/* TENANT_GUARD_RATELIMIT_INT_H */
