/*-------------------------------------------------------------------------
 *
 * creations.c
 *	  Tenant creations per guarded table, committed only: the numbers behind
 *	  the tenant_creation_rate alert, the Prometheus metric and diagnose().
 *
 * The guard trigger (or, for INSERT ... ON CONFLICT, the AFTER INSERT
 * trigger, once the row was really inserted) adds one to a backend-local
 * counter of the relation's slot: the per-row cost is an increment.  At
 * commit (and PREPARE) a transaction callback adds the backend's counts to
 * shared memory, one entry per (database, relation) with a bucket per
 * minute of the last hour and per hour of the last day; at abort they are
 * dropped, and a subtransaction that aborts drops what it counted (a
 * snapshot is taken at its start, only when something is pending).  Rows
 * skipped by ON CONFLICT, rolled back, replicated from a publisher or
 * inserted with tenant_guard.mode = off are therefore not counted.
 * A partition's rows count under the partition; the SQL functions add
 * them up per guarded table.
 *
 * Locking: one LWLock over the whole structure, taken once per committing
 * transaction that created tenants and by the readers.
 *
 * Persistence: the postmaster writes the entries to
 * pg_stat/tenant_guard_creations.stat at a clean shutdown (statefile.c)
 * and reads them back at startup; after a crash the counts start empty.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "creations.h"
#include "tenant_guard.h"

#define TG_CREATION_TRANCHE "tenant_guard_creations"
#define TG_CREATION_ENTRIES 1024
#define TG_CREATION_MINUTES 60
#define TG_CREATION_HOURS 24
#define TG_CREATION_FILE "pg_stat/tenant_guard_creations.stat"
#define TG_CREATION_MAGIC 0x54474331	/* "TGC1" */

/* One relation's counts; stamps are minutes / hours since the Unix epoch. */
typedef struct TgCreationEntry
{
	Oid			dbid;			/* InvalidOid: free */
	Oid			relid;
	int32		minute[TG_CREATION_MINUTES];
	uint32		per_minute[TG_CREATION_MINUTES];
	int32		hour[TG_CREATION_HOURS];
	uint32		per_hour[TG_CREATION_HOURS];
} TgCreationEntry;

typedef struct TgCreationShared
{
	LWLock	   *lock;
	int			nused;
	uint64		not_counted;	/* creations lost: no free entry */
	TgCreationEntry entries[TG_CREATION_ENTRIES];
} TgCreationShared;

static TgCreationShared *tg_creations = NULL;

/* backend-local: the slots' relations and this transaction's counts */
int64	   *tg_creation_pending = NULL;
bool		tg_creation_dirty = false;
static Oid *tg_slot_relid = NULL;
static int	tg_nslots = 0;
static int	tg_maxslots = 0;

/* snapshots of tg_creation_pending taken at subtransaction starts */
typedef struct TgCreationSnap
{
	SubTransactionId subid;
	int			nslots;
	struct TgCreationSnap *prev;
	int64		pending[FLEXIBLE_ARRAY_MEMBER];
} TgCreationSnap;

static TgCreationSnap *tg_snaps = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* Seconds since the Unix epoch of a timestamp. */
static inline int64
tg_epoch_seconds(TimestampTz ts)
{
	return ts / USECS_PER_SEC +
		(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
}

/* See creations.h. */
int
tg_creation_slot(Oid relid)
{
	if (tg_creations == NULL)
		return -1;
	for (int i = 0; i < tg_nslots; i++)
	{
		if (tg_slot_relid[i] == relid)
			return i;
	}
	if (tg_nslots == tg_maxslots)
	{
		int			newmax = Max(8, tg_maxslots * 2);

		if (tg_slot_relid == NULL)
		{
			tg_slot_relid = MemoryContextAlloc(TopMemoryContext, newmax * sizeof(Oid));
			tg_creation_pending = MemoryContextAllocZero(TopMemoryContext, newmax * sizeof(int64));
		}
		else
		{
			tg_slot_relid = repalloc(tg_slot_relid, newmax * sizeof(Oid));
			tg_creation_pending = repalloc(tg_creation_pending, newmax * sizeof(int64));
			memset(tg_creation_pending + tg_maxslots, 0,
				   (newmax - tg_maxslots) * sizeof(int64));
		}
		tg_maxslots = newmax;
	}
	tg_slot_relid[tg_nslots] = relid;
	tg_creation_pending[tg_nslots] = 0;
	return tg_nslots++;
}

/* Add n creations now to an entry (lock held exclusively). */
static void
tg_entry_add(TgCreationEntry *e, int64 secs, uint32 n)
{
	int32		m = (int32) (secs / 60);
	int32		h = (int32) (secs / 3600);
	int			mi = m % TG_CREATION_MINUTES;
	int			hi = h % TG_CREATION_HOURS;

	if (e->minute[mi] != m)
	{
		e->minute[mi] = m;
		e->per_minute[mi] = 0;
	}
	e->per_minute[mi] += n;
	if (e->hour[hi] != h)
	{
		e->hour[hi] = h;
		e->per_hour[hi] = 0;
	}
	e->per_hour[hi] += n;
}

/* The entry of (dbid, relid), made if missing; NULL when memory is full. */
static TgCreationEntry *
tg_entry_get(Oid dbid, Oid relid)
{
	TgCreationEntry *free_entry = NULL;

	for (int i = 0; i < tg_creations->nused; i++)
	{
		TgCreationEntry *e = &tg_creations->entries[i];

		if (e->dbid == dbid && e->relid == relid)
			return e;
		if (free_entry == NULL && e->dbid == InvalidOid)
			free_entry = e;
	}
	if (free_entry == NULL && tg_creations->nused < TG_CREATION_ENTRIES)
		free_entry = &tg_creations->entries[tg_creations->nused++];
	if (free_entry != NULL)
	{
		memset(free_entry, 0, sizeof(TgCreationEntry));
		free_entry->dbid = dbid;
		free_entry->relid = relid;
	}
	return free_entry;
}

/*
 * Has an entry seen nothing for a day?  Then its slot may be reused by
 * another relation (a dropped table's entry does not stay forever).
 */
static bool
tg_entry_idle(TgCreationEntry *e, int64 secs)
{
	int32		h = (int32) (secs / 3600);

	for (int i = 0; i < TG_CREATION_HOURS; i++)
	{
		if (e->per_hour[i] > 0 && e->hour[i] > h - TG_CREATION_HOURS)
			return false;
	}
	return true;
}

/* Add this backend's counts to shared memory (commit; never errors). */
static void
tg_creations_flush(void)
{
	int64		secs = tg_epoch_seconds(GetCurrentTimestamp());

	LWLockAcquire(tg_creations->lock, LW_EXCLUSIVE);
	for (int i = 0; i < tg_nslots; i++)
	{
		TgCreationEntry *e;

		if (tg_creation_pending[i] == 0)
			continue;
		e = tg_entry_get(MyDatabaseId, tg_slot_relid[i]);
		if (e == NULL)
		{
			/* full: reuse an entry idle for a day */
			for (int j = 0; j < tg_creations->nused && e == NULL; j++)
			{
				if (tg_entry_idle(&tg_creations->entries[j], secs))
				{
					e = &tg_creations->entries[j];
					memset(e, 0, sizeof(TgCreationEntry));
					e->dbid = MyDatabaseId;
					e->relid = tg_slot_relid[i];
				}
			}
		}
		if (e == NULL)
			tg_creations->not_counted += tg_creation_pending[i];
		else
			tg_entry_add(e, secs, (uint32) Min(tg_creation_pending[i], PG_UINT32_MAX));
	}
	LWLockRelease(tg_creations->lock);
}

/* Forget this transaction's counts. */
static void
tg_creations_clear(void)
{
	if (tg_nslots > 0)
		memset(tg_creation_pending, 0, tg_nslots * sizeof(int64));
	tg_creation_dirty = false;
}

/* Transaction end: commit adds the counts to shared memory, abort drops them. */
static void
tg_creations_xact_callback(XactEvent event, void *arg)
{
	(void) arg;
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			if (tg_creation_dirty && tg_creations != NULL)
				tg_creations_flush();
			tg_creations_clear();
			tg_snaps = NULL;	/* lived in TopTransactionContext */
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			tg_creations_clear();
			tg_snaps = NULL;
			break;
		default:
			break;
	}
}

/*
 * Subtransactions: remember the counts at a start (only when any are
 * pending), put them back when it aborts.
 */
static void
tg_creations_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
							  SubTransactionId parentSubid, void *arg)
{
	(void) parentSubid;
	(void) arg;
	switch (event)
	{
		case SUBXACT_EVENT_START_SUB:
			if (tg_creation_dirty)
			{
				TgCreationSnap *snap;

				snap = MemoryContextAlloc(TopTransactionContext,
										  offsetof(TgCreationSnap, pending) +
										  tg_nslots * sizeof(int64));
				snap->subid = mySubid;
				snap->nslots = tg_nslots;
				snap->prev = tg_snaps;
				memcpy(snap->pending, tg_creation_pending, tg_nslots * sizeof(int64));
				tg_snaps = snap;
			}
			break;
		case SUBXACT_EVENT_COMMIT_SUB:
			if (tg_snaps != NULL && tg_snaps->subid == mySubid)
				tg_snaps = tg_snaps->prev;
			break;
		case SUBXACT_EVENT_ABORT_SUB:
			if (tg_snaps != NULL && tg_snaps->subid == mySubid)
			{
				/* slots made since the snapshot had nothing pending then */
				tg_creations_clear();
				memcpy(tg_creation_pending, tg_snaps->pending, tg_snaps->nslots * sizeof(int64));
				tg_creation_dirty = true;
				tg_snaps = tg_snaps->prev;
			}
			else
			{
				/* no snapshot: nothing was pending when it started */
				tg_creations_clear();
			}
			break;
		default:
			break;
	}
}

/* ---------------------------------------------------------------------
 * Shared memory and its file
 * ---------------------------------------------------------------------
 */

/* Postmaster exit: save the entries after a clean shutdown. */
static void
tg_creations_dump(int code, Datum arg)
{
	FILE	   *file;
	uint32		header[2] = {TG_CREATION_MAGIC, 0};
	bool		ok;

	(void) arg;
	if (code != 0 || tg_creations == NULL)
		return;
	if (!tg_statefile_shutdown_clean("its tenant-creation counts"))
		return;
	file = tg_statefile_create(TG_CREATION_FILE);
	if (file == NULL)
		return;
	header[1] = (uint32) tg_creations->nused;
	ok = (fwrite(header, sizeof(header), 1, file) == 1);
	if (ok && tg_creations->nused > 0)
		ok = (fwrite(tg_creations->entries, sizeof(TgCreationEntry),
					 tg_creations->nused, file) == (size_t) tg_creations->nused);
	(void) tg_statefile_commit(file, ok, TG_CREATION_FILE);
}

/* Startup: read back what a clean shutdown saved, then remove the file. */
static void
tg_creations_load(void)
{
	FILE	   *file;
	uint32		header[2];

	file = tg_statefile_open(TG_CREATION_FILE);
	if (file == NULL)
		return;
	if (fread(header, sizeof(header), 1, file) != 1 || header[0] != TG_CREATION_MAGIC ||
		header[1] > TG_CREATION_ENTRIES ||
		fread(tg_creations->entries, sizeof(TgCreationEntry), header[1], file) != header[1])
	{
		ereport(LOG,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("ignoring file \"%s\": not a complete tenant_guard creation-count file",
						TG_CREATION_FILE)));
		memset(tg_creations->entries, 0, sizeof(tg_creations->entries));
		header[1] = 0;
	}
	tg_creations->nused = (int) header[1];
	FreeFile(file);
	unlink(TG_CREATION_FILE);
}

static void
tg_creations_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(TgCreationShared)));
	RequestNamedLWLockTranche(TG_CREATION_TRANCHE, 1);
}

static void
tg_creations_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	tg_creations = ShmemInitStruct(TG_CREATION_TRANCHE, sizeof(TgCreationShared), &found);
	if (!found)
	{
		memset(tg_creations, 0, sizeof(TgCreationShared));
		tg_creations->lock = &(GetNamedLWLockTranche(TG_CREATION_TRANCHE))->lock;
	}
	LWLockRelease(AddinShmemInitLock);
	if (!IsUnderPostmaster)
		on_shmem_exit(tg_creations_dump, (Datum) 0);
	if (!found)
		tg_creations_load();
}

/* See creations.h. */
void
tg_creations_init(void)
{
	RegisterXactCallback(tg_creations_xact_callback, NULL);
	RegisterSubXactCallback(tg_creations_subxact_callback, NULL);
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = tg_creations_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = tg_creations_shmem_startup;
}

/* ---------------------------------------------------------------------
 * SQL
 * ---------------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(creation_counts);

/*
 * creation_counts() -- the committed creations of this database per
 * relation: one row per minute bucket of the last hour (kind 'minute') and
 * per hour bucket of the last day (kind 'hour'), with its start.  Without
 * the preloaded library: no rows (the not_preloaded alert says why).
 */
Datum
creation_counts(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		secs = tg_epoch_seconds(GetCurrentTimestamp());
	int32		now_m = (int32) (secs / 60);
	int32		now_h = (int32) (secs / 3600);
	TgCreationEntry *copy;
	int			n = 0;

	InitMaterializedSRF(fcinfo, 0);
	if (tg_creations == NULL)
		return (Datum) 0;

	/* copy this database's entries, then build rows without the lock */
	copy = palloc(sizeof(TgCreationEntry) * TG_CREATION_ENTRIES);
	LWLockAcquire(tg_creations->lock, LW_SHARED);
	for (int i = 0; i < tg_creations->nused; i++)
	{
		if (tg_creations->entries[i].dbid == MyDatabaseId)
			copy[n++] = tg_creations->entries[i];
	}
	LWLockRelease(tg_creations->lock);

	for (int i = 0; i < n; i++)
	{
		TgCreationEntry *e = &copy[i];

		for (int k = 0; k < TG_CREATION_MINUTES + TG_CREATION_HOURS; k++)
		{
			bool		is_minute = k < TG_CREATION_MINUTES;
			int32		stamp = is_minute ? e->minute[k] : e->hour[k - TG_CREATION_MINUTES];
			uint32		count = is_minute ? e->per_minute[k] : e->per_hour[k - TG_CREATION_MINUTES];
			Datum		values[4];
			bool		nulls[4] = {false, false, false, false};
			int64		start;

			if (count == 0)
				continue;
			if (is_minute ? stamp <= now_m - TG_CREATION_MINUTES : stamp <= now_h - TG_CREATION_HOURS)
				continue;
			start = (int64) stamp * (is_minute ? 60 : 3600);
			values[0] = ObjectIdGetDatum(e->relid);
			values[1] = CStringGetTextDatum(is_minute ? "minute" : "hour");
			values[2] = TimestampTzGetDatum((start - (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY) * USECS_PER_SEC);
			values[3] = Int64GetDatum((int64) count);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	pfree(copy);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(creation_counts_lost);

/* creation_counts_lost() -- creations not counted since startup: memory full. */
Datum
creation_counts_lost(PG_FUNCTION_ARGS)
{
	uint64		lost;

	(void) fcinfo;
	if (tg_creations == NULL)
		PG_RETURN_INT64(0);
	LWLockAcquire(tg_creations->lock, LW_SHARED);
	lost = tg_creations->not_counted;
	LWLockRelease(tg_creations->lock);
	PG_RETURN_INT64((int64) lost);
}
