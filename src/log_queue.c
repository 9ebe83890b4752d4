/*-------------------------------------------------------------------------
 *
 * log_queue.c
 *	  The shared-memory queue of the durable rejection log: its GUCs, its
 *	  shared memory, putting entries in (rejecting backends), taking them
 *	  out (writers), and its SQL face log_queue_status() and
 *	  log_queue_wait().  The locking rules are in log_queue.h.
 *
 * The ring is a byte ring: an entry is a TgQueueEntryHdr followed by its
 * strings, each NUL-terminated, and may wrap around the end of ring[].
 * head and tail are byte counters that only grow; a position in ring[] is
 * the counter modulo size.  Entries are never overwritten: when an entry
 * does not fit, it is dropped (counted) and the backend writes the
 * server-log line instead.
 *
 * Shared memory exists only when the library is in
 * shared_preload_libraries; otherwise tg_queue stays NULL and every
 * rejection goes to the server log (log_queue_status() says so).
 * Counters live as long as the shared memory: they start at zero at
 * server start and after a crash restart (stats_since tells when).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/shmem.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "names.h"
#include "log_queue.h"
#include "tg_assert.h"

StaticAssertDecl(TG_QUEUE_MAX_ENTRY <= TG_WRITER_BATCH_BYTES,
				 "a batch must hold the largest entry");
StaticAssertDecl(TG_QUEUE_MAX_ENTRY <= 64 * 1024,
				 "the smallest queue must hold the largest entry");

TgQueueShared *tg_queue = NULL;

/* GUCs */
int			tg_log_queue_size = 1024;	/* kB */
bool		tg_durable_log = true;
int			tg_log_writer_idle_time = 1000; /* ms */

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* Bytes of shared memory the queue needs. */
static Size
tg_queue_shmem_size(void)
{
	return add_size(offsetof(TgQueueShared, ring),
					mul_size((Size) tg_log_queue_size, 1024));
}

/* shmem_request_hook: ask for our memory and our lock. */
static void
tg_queue_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(tg_queue_shmem_size());
	RequestNamedLWLockTranche("tenant_guard_log_queue", 1);
}

/*
 * shmem_startup_hook: set the queue up (at server start and after every
 * crash restart, when shared memory is created afresh).
 */
static void
tg_queue_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	tg_queue = ShmemInitStruct("tenant_guard log queue",
							   tg_queue_shmem_size(), &found);
	if (!found)
	{
		memset(tg_queue, 0, offsetof(TgQueueShared, ring));
		tg_queue->lock = &(GetNamedLWLockTranche("tenant_guard_log_queue"))->lock;
		tg_queue->size = (uint64) tg_log_queue_size * 1024;
		tg_queue->stats_since = GetCurrentTimestamp();
	}
	LWLockRelease(AddinShmemInitLock);

	/* what a clean shutdown left queued is written after the restart */
	if (!IsUnderPostmaster)
		on_shmem_exit(tg_queue_save, (Datum) 0);
	if (!found)
		tg_queue_load();
}

/* Define the queue's GUCs; with preloading, set up its memory. */
void
tg_log_queue_init(void)
{
	DefineCustomBoolVariable("tenant_guard.durable_log",
							 "Queue rejected rows for the log table (on) or only write a server-log line (off).",
							 NULL,
							 &tg_durable_log,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("tenant_guard.log_writer_idle_time",
							"How long a log writer stays connected to its database with nothing to write.",
							"An idle writer holds a connection to its database (DROP DATABASE waits for it); a new one is started when rejections arrive.",
							&tg_log_writer_idle_time,
							1000,
							0,
							3600 * 1000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	/* a PGC_POSTMASTER variable can only be defined while preloading */
	if (!process_shared_preload_libraries_in_progress)
		return;

	DefineCustomIntVariable("tenant_guard.log_queue_size",
							"Size of the shared-memory queue of rejections waiting to be written to the log table.",
							"Needs shared_preload_libraries = 'tenant_guard' and a restart. When the queue is full, rejections are counted as dropped and reach only the server log.",
							&tg_log_queue_size,
							1024,
							64,
							1024 * 1024,
							PGC_POSTMASTER,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = tg_queue_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = tg_queue_shmem_startup;
}

/* Copy len bytes into the ring at byte counter pos (may wrap). */
void
tg_queue_ring_write(uint64 pos, const char *src, Size len)
{
	Size		off = pos % tg_queue->size;
	Size		first = Min(len, tg_queue->size - off);

	TG_ASSERT(len <= tg_queue->size);
	memcpy(tg_queue->ring + off, src, first);
	if (len > first)
		memcpy(tg_queue->ring, src + first, len - first);
}

/* Copy len bytes out of the ring at byte counter pos (may wrap). */
void
tg_queue_ring_read(uint64 pos, char *dst, Size len)
{
	Size		off = pos % tg_queue->size;
	Size		first = Min(len, tg_queue->size - off);

	TG_ASSERT(len <= tg_queue->size);
	memcpy(dst, tg_queue->ring + off, first);
	if (len > first)
		memcpy(dst + first, tg_queue->ring, len - first);
}

/*
 * The slot of a database, or NULL.  With create, a free slot is taken
 * for it when it has none.  Caller holds the lock exclusively (or shared
 * without create).
 */
TgQueueDb *
tg_queue_db_slot(Oid dbid, bool create)
{
	TgQueueDb  *free_slot = NULL;

	for (int i = 0; i < TG_QUEUE_MAX_DBS; i++)
	{
		TgQueueDb  *slot = &tg_queue->dbs[i];

		if (slot->dbid == dbid)
			return slot;
		if (slot->dbid == InvalidOid && free_slot == NULL)
			free_slot = slot;
	}
	if (!create || free_slot == NULL)
		return NULL;
	memset(free_slot, 0, sizeof(TgQueueDb));
	free_slot->dbid = dbid;
	return free_slot;
}

/* Clip a string to at most max bytes without splitting a character. */
static uint32
tg_clip_len(const char *s, int max)
{
	int			len = s ? strlen(s) : 0;

	if (len <= max)
		return len;
	return pg_mbcliplen(s, len, max);
}

/*
 * Put one rejection into the queue and wake whoever writes it.  Returns
 * false, with *why set, when it was not queued (the caller writes the
 * server-log line).  Strings longer than their bounds are clipped; data
 * must already be within TG_QUEUE_MAX_DATA (see tg_row_json_bounded).
 */
bool
tg_queue_push(const TgQueueEntry *entry, TgDropReason *why)
{
	const char *strs[TG_ENTRY_STRINGS] = {
		entry->relname, entry->role, entry->appname, entry->endpoint,
		entry->client_addr, entry->reason, entry->data
	};
	const int	maxes[TG_ENTRY_STRINGS] = {
		TG_QUEUE_MAX_NAME, TG_QUEUE_MAX_NAME, TG_QUEUE_MAX_NAME,
		TG_MAX_ENDPOINT_LEN, TG_QUEUE_MAX_NAME, TG_QUEUE_MAX_REASON,
		TG_QUEUE_MAX_DATA
	};
	TgQueueEntryHdr hdr;
	StringInfoData buf;
	bool		queued;

	TG_ASSERT(tg_queue != NULL);

	/* Build the entry in local memory, outside the lock. */
	memset(&hdr, 0, sizeof(hdr));
	hdr.dbid = entry->dbid;
	hdr.attempt_time = entry->attempt_time;
	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, (char *) &hdr, sizeof(hdr));
	for (int i = 0; i < TG_ENTRY_STRINGS; i++)
	{
		hdr.lens[i] = tg_clip_len(strs[i], maxes[i]);
		if (hdr.lens[i] > 0)
			appendBinaryStringInfo(&buf, strs[i], hdr.lens[i]);
		appendStringInfoChar(&buf, '\0');
	}
	hdr.len = buf.len;
	memcpy(buf.data, &hdr, sizeof(hdr));
	TG_ASSERT(hdr.len <= TG_QUEUE_MAX_ENTRY);

	queued = tg_queue_append(buf.data, hdr.len, entry->dbid, entry->attempt_time, why);
	pfree(buf.data);
	return queued;
}

/*
 * Copy one encoded entry (len bytes) of database dbid into the ring and
 * wake whoever writes it (its writer, else the launcher, which starts
 * one).  Returns false, counted as dropped with *why set, when there is
 * no room or no database slot.  now is when the entry arrived.
 */
bool
tg_queue_append(const char *bytes, uint32 len, Oid dbid, TimestampTz now,
				TgDropReason *why)
{
	TgQueueDb  *slot;
	Latch	   *wake = NULL;
	bool		queued = false;

	LWLockAcquire(tg_queue->lock, LW_EXCLUSIVE);
	if (tg_queue->size - (tg_queue->head - tg_queue->tail) < len)
		*why = TG_DROP_QUEUE_FULL;
	else if ((slot = tg_queue_db_slot(dbid, true)) == NULL)
		*why = TG_DROP_TOO_MANY_DATABASES;
	else
	{
		tg_queue_ring_write(tg_queue->head, bytes, len);
		tg_queue->head += len;
		TG_ASSERT(tg_queue->head - tg_queue->tail <= tg_queue->size);
		tg_queue->queued++;
		tg_queue->enqueued_total++;
		if (slot->pending++ == 0)
			slot->progress_at = now;
		wake = slot->writer_pid != 0 ? slot->writer_latch : tg_queue->launcher_latch;
		queued = true;
	}
	if (!queued)
		tg_queue->dropped[*why]++;
	LWLockRelease(tg_queue->lock);

	if (wake)
		SetLatch(wake);
	return queued;
}

/*
 * Take the run of entries at the head of the ring that belong to dbid
 * (at most a batch) and append them to out.  Returns how many.  They
 * leave the ring now; the caller reports what became of them with
 * tg_queue_finish().  When the head then belongs to another database,
 * that database's writer (or the launcher) is woken.
 */
int
tg_queue_take(Oid dbid, StringInfo out)
{
	int			n = 0;
	Size		bytes = 0;
	Latch	   *wake = NULL;
	TgQueueDb  *slot;
	TimestampTz now = GetCurrentTimestamp();

	/* no allocation (which could fail) while we hold the lock */
	enlargeStringInfo(out, TG_WRITER_BATCH_BYTES);

	LWLockAcquire(tg_queue->lock, LW_EXCLUSIVE);
	while (tg_queue->tail < tg_queue->head && n < TG_WRITER_BATCH_ROWS)
	{
		TgQueueEntryHdr hdr;

		tg_queue_ring_read(tg_queue->tail, (char *) &hdr, sizeof(hdr));
		/* an entry is whole: its header and strings, within head */
		TG_ASSERT(hdr.len >= sizeof(hdr) && hdr.len <= TG_QUEUE_MAX_ENTRY &&
				  hdr.len <= tg_queue->head - tg_queue->tail);
		if (hdr.dbid != dbid)
		{
			TgQueueDb  *other = tg_queue_db_slot(hdr.dbid, false);

			wake = (other && other->writer_pid != 0) ?
				other->writer_latch : tg_queue->launcher_latch;
			break;
		}
		if (bytes + hdr.len > TG_WRITER_BATCH_BYTES)
			break;
		tg_queue_ring_read(tg_queue->tail, out->data + out->len, hdr.len);
		out->len += hdr.len;
		out->data[out->len] = '\0';
		tg_queue->tail += hdr.len;
		bytes += hdr.len;
		n++;
	}
	TG_ASSERT(tg_queue->tail <= tg_queue->head && tg_queue->queued >= (uint64) n);
	tg_queue->queued -= n;
	slot = tg_queue_db_slot(dbid, false);
	if (slot && n > 0)
	{
		TG_ASSERT(slot->pending >= (uint64) n);
		slot->pending -= n;
		slot->progress_at = now;
	}
	LWLockRelease(tg_queue->lock);

	if (wake)
		SetLatch(wake);
	return n;
}

/*
 * Decode the entry at *offset of a buffer filled by tg_queue_take() and
 * advance *offset; returns NULL at the end.
 */
const char *
tg_queue_next(StringInfo buf, int *offset, TgQueueEntry *entry)
{
	TgQueueEntryHdr hdr;
	const char *p;
	const char *strs[TG_ENTRY_STRINGS];

	if (*offset >= buf->len)
		return NULL;
	memcpy(&hdr, buf->data + *offset, sizeof(hdr));
	p = buf->data + *offset + sizeof(hdr);
	for (int i = 0; i < TG_ENTRY_STRINGS; i++)
	{
		strs[i] = p;
		p += hdr.lens[i] + 1;
	}
	if (p - (buf->data + *offset) != hdr.len)
		elog(ERROR, "corrupt tenant_guard log queue entry");
	entry->dbid = hdr.dbid;
	entry->attempt_time = hdr.attempt_time;
	entry->relname = strs[0];
	entry->role = strs[1];
	entry->appname = strs[2];
	entry->endpoint = strs[3];
	entry->client_addr = strs[4];
	entry->reason = strs[5];
	entry->data = strs[6];
	*offset += hdr.len;
	return strs[0];
}

/* Record what became of entries taken out: written, or dropped and why. */
void
tg_queue_finish(int written, int dropped, TgDropReason why)
{
	LWLockAcquire(tg_queue->lock, LW_EXCLUSIVE);
	tg_queue->written_total += written;
	tg_queue->dropped[why] += dropped;
	tg_queue->done_total += written + dropped;
	/* entries finish once, after they left the ring */
	TG_ASSERT(tg_queue->done_total + tg_queue->queued <= tg_queue->enqueued_total);
	LWLockRelease(tg_queue->lock);
}

/* Database of the entry at the head of the ring, InvalidOid if empty. */
Oid
tg_queue_head_db(void)
{
	Oid			dbid = InvalidOid;

	LWLockAcquire(tg_queue->lock, LW_SHARED);
	if (tg_queue->tail < tg_queue->head)
	{
		TgQueueEntryHdr hdr;

		tg_queue_ring_read(tg_queue->tail, (char *) &hdr, sizeof(hdr));
		dbid = hdr.dbid;
	}
	LWLockRelease(tg_queue->lock);
	return dbid;
}

/* Words for a drop reason, for server-log lines. */
const char *
tg_drop_reason_text(TgDropReason why)
{
	switch (why)
	{
		case TG_DROP_QUEUE_FULL:
			return "the log queue is full (see tenant_guard.log_queue_size)";
		case TG_DROP_TOO_MANY_DATABASES:
			return "too many databases have rejections queued";
		case TG_DROP_NO_EXTENSION:
			return "the database has no tenant_guard log table";
		case TG_DROP_NO_DATABASE:
			return "no log writer could connect to the database";
		case TG_DROP_INSERT_FAILED:
			return "inserting the log row failed";
		case TG_DROP_SHUTDOWN:
			return "the server shut down before it was written";
		case TG_NUM_DROP_REASONS:
			break;
	}
	return "unknown";
}

/*
 * The server-log line of a rejection that will not reach the log table
 * (why says the reason it does not).
 */
void
tg_log_fallback(const TgQueueEntry *entry, const char *why)
{
	ereport(LOG,
			(errmsg("tenant_guard rejected a row for table \"%s\"", entry->relname),
			 errdetail("Reason: %s. Endpoint: %s. Client address: %s. Not in %s.%s: %s.",
					   entry->reason,
					   entry->endpoint[0] ? entry->endpoint : "(unset)",
					   entry->client_addr[0] ? entry->client_addr : "(unset)",
					   TG_SCHEMA, TG_LOG_TABLE, why),
			 errhidestmt(true)));
}

/*
 * Does the queue drain?  Stalled when a database's writer could not get a
 * worker slot, when no launcher runs while entries wait (it never came up
 * since stats_since, or has been gone for TG_QUEUE_STALL_MS), or when a
 * database's entries have waited TG_QUEUE_STALL_MS without a writer
 * taking any.
 */
void
tg_queue_stall(TimestampTz now, TgQueueStall *stall)
{
	memset(stall, 0, sizeof(TgQueueStall));
	LWLockAcquire(tg_queue->lock, LW_SHARED);
	for (int i = 0; i < TG_QUEUE_MAX_DBS; i++)
	{
		TgQueueDb  *slot = &tg_queue->dbs[i];
		long		waited;

		if (slot->dbid == InvalidOid || slot->pending == 0)
			continue;
		waited = (long) ((now - slot->progress_at) / 1000);
		stall->waited_ms = Max(stall->waited_ms, waited);
		if (slot->start_refused && slot->writer_pid == 0)
			stall->refused = true;
	}
	stall->waiting = tg_queue->queued;
	if (tg_queue->queued > 0 && tg_queue->launcher_pid == 0 &&
		(!tg_queue->launcher_came_up || stall->waited_ms > TG_QUEUE_STALL_MS))
		stall->no_launcher = true;
	LWLockRelease(tg_queue->lock);
	stall->stalled = stall->refused || stall->no_launcher ||
		stall->waited_ms > TG_QUEUE_STALL_MS;
}

/* The status text of a stalled queue: why, and how many entries wait. */
char *
tg_queue_stall_text(const TgQueueStall *stall)
{
	const char *what = stall->waiting == 1 ? "rejection" : "rejections";

	if (stall->refused)
		return psprintf("stalled: no log writer can start (max_worker_processes = %d is too low); %llu %s waiting",
						max_worker_processes, (unsigned long long) stall->waiting, what);
	if (stall->no_launcher)
		return psprintf("stalled: the log launcher is not running (see max_worker_processes); %llu %s waiting",
						(unsigned long long) stall->waiting, what);
	return psprintf("stalled: %llu %s waiting, for %ld s without a log writer taking any",
					(unsigned long long) stall->waiting, what, stall->waited_ms / 1000);
}

PG_FUNCTION_INFO_V1(log_queue_status);

/*
 * log_queue_status() RETURNS record: is the durable log working, and
 * what became of the rejections queued since stats_since.
 */
Datum
log_queue_status(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[17];
	bool		nulls[17];
	Datum		pids[TG_QUEUE_MAX_DBS];
	int			npids = 0;
	uint64		dropped_total = 0;
	const char *status;
	TgQueueStall stall;
	int			i = 0;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (tupdesc->natts != lengthof(values))
		elog(ERROR, "log_queue_status: expected %d columns, got %d",
			 (int) lengthof(values), tupdesc->natts);

	memset(nulls, true, sizeof(nulls));

	if (tg_queue == NULL)
	{
		values[0] = BoolGetDatum(false);
		nulls[0] = false;
		values[1] = BoolGetDatum(false);
		nulls[1] = false;
		values[2] = CStringGetTextDatum("not preloaded: rejections reach only the server log");
		nulls[2] = false;
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
	}

	memset(nulls, false, sizeof(nulls));
	tg_queue_stall(GetCurrentTimestamp(), &stall);
	LWLockAcquire(tg_queue->lock, LW_SHARED);

	if (RecoveryInProgress())
		status = "standby: nothing is written until promotion";
	else if (!tg_durable_log)
		status = "disabled: tenant_guard.durable_log is off";
	else if (stall.stalled)
		status = tg_queue_stall_text(&stall);
	else if (tg_queue->launcher_pid == 0)
		status = "launcher not running";
	else
		status = "ok";

	values[i++] = BoolGetDatum(true);	/* preloaded */
	values[i++] = BoolGetDatum(strcmp(status, "ok") == 0);	/* durable */
	values[i++] = CStringGetTextDatum(status);
	values[i] = Int32GetDatum(tg_queue->launcher_pid);
	nulls[i++] = (tg_queue->launcher_pid == 0);
	for (int d = 0; d < TG_QUEUE_MAX_DBS; d++)
		if (tg_queue->dbs[d].dbid != InvalidOid && tg_queue->dbs[d].writer_pid != 0)
			pids[npids++] = Int32GetDatum(tg_queue->dbs[d].writer_pid);
	values[i++] = PointerGetDatum(construct_array(pids, npids, INT4OID, 4, true,
												  TYPALIGN_INT));
	values[i++] = Int64GetDatum((int64) tg_queue->size);
	values[i++] = Int64GetDatum((int64) tg_queue->queued);
	values[i++] = Int64GetDatum((int64) (tg_queue->head - tg_queue->tail));
	values[i++] = Int64GetDatum((int64) tg_queue->enqueued_total);
	values[i++] = Int64GetDatum((int64) tg_queue->written_total);
	for (int r = 0; r < TG_NUM_DROP_REASONS; r++)
		dropped_total += tg_queue->dropped[r];
	values[i++] = Int64GetDatum((int64) dropped_total);
	values[i++] = Int64GetDatum((int64) tg_queue->dropped[TG_DROP_QUEUE_FULL]);
	values[i++] = Int64GetDatum((int64) tg_queue->dropped[TG_DROP_TOO_MANY_DATABASES]);
	values[i++] = Int64GetDatum((int64) tg_queue->dropped[TG_DROP_NO_EXTENSION]);
	values[i++] = Int64GetDatum((int64) tg_queue->dropped[TG_DROP_NO_DATABASE]);
	values[i++] = Int64GetDatum((int64) tg_queue->dropped[TG_DROP_INSERT_FAILED]);
	values[i++] = TimestampTzGetDatum(tg_queue->stats_since);
	LWLockRelease(tg_queue->lock);
	TG_ASSERT(i == lengthof(values));

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

PG_FUNCTION_INFO_V1(log_queue_wait);

/*
 * log_queue_wait(timeout_ms integer) RETURNS boolean
 *
 * Wait until as many entries as had been queued when it was called have
 * been written or dropped; false on timeout.  For tests and for reading
 * the log right after a burst.  When the queue is stalled for a reason
 * waiting does not cure (no worker slot for a writer, no launcher), it
 * returns false at once; a stalled queue is reported in a WARNING.
 */
Datum
log_queue_wait(PG_FUNCTION_ARGS)
{
	int32		timeout_ms = PG_ARGISNULL(0) ? 10000 : PG_GETARG_INT32(0);
	TimestampTz start = GetCurrentTimestamp();
	uint64		target;

	if (timeout_ms < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("timeout must not be negative")));
	if (tg_queue == NULL)
		PG_RETURN_BOOL(false);

	LWLockAcquire(tg_queue->lock, LW_SHARED);
	target = tg_queue->enqueued_total;
	LWLockRelease(tg_queue->lock);

	for (;;)
	{
		uint64		done;
		TgQueueStall stall;
		bool		timed_out;

		LWLockAcquire(tg_queue->lock, LW_SHARED);
		done = tg_queue->done_total;
		LWLockRelease(tg_queue->lock);
		if (done >= target)
			PG_RETURN_BOOL(true);
		timed_out = TimestampDifferenceExceeds(start, GetCurrentTimestamp(), timeout_ms);
		tg_queue_stall(GetCurrentTimestamp(), &stall);
		if (stall.stalled && (timed_out || stall.refused || stall.no_launcher))
		{
			ereport(WARNING,
					(errcode(stall.refused ? ERRCODE_CONFIGURATION_LIMIT_EXCEEDED :
							 ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("tenant_guard log queue is %s", tg_queue_stall_text(&stall)),
					 errdetail("The rejections stay queued and are written once a log writer runs; they are counted as dropped if the queue fills up."),
					 errhint("Raise max_worker_processes (a restart keeps what is queued), and see tenant_guard.log_queue_status().")));
			PG_RETURN_BOOL(false);
		}
		if (timed_out)
			PG_RETURN_BOOL(false);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 10L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}
