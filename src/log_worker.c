/*-------------------------------------------------------------------------
 *
 * log_worker.c
 *	  The background workers of the durable rejection log: the launcher
 *	  and the per-database writers that drain the queue of log_queue.c.
 *
 * A background worker connects to one database for life, and log rows
 * belong in the database where the rejection happened.  So:
 *
 *	- the launcher (a static worker connected to no database, restarted
 *	  after 5 s if it exits) starts a writer for every database that has entries
 *	  queued and no writer, and gives up on a database whose writers
 *	  repeatedly fail to connect (dropped database, datallowconn = false):
 *	  its entries go to the server log, counted as dropped;
 *	- a writer (a dynamic worker, one per database at most) takes the run
 *	  of head entries of its database and inserts them, one transaction
 *	  per batch; it exits after tenant_guard.log_writer_idle_time without
 *	  work, so that it does not keep DROP DATABASE waiting.  A database
 *	  without the log table does not make it loop: its entries are counted
 *	  as dropped and written to the server log.  An INSERT that fails is
 *	  retried row by row; rows that still fail are dropped (counted, and
 *	  in the server log).  A row whose id is taken (the id sequence was set
 *	  back) moves the sequence on and goes in (own_tables.c).
 *
 * Both start only once recovery has finished: on a standby nothing runs
 * and nothing is attempted.  At a clean shutdown (SIGTERM) writers drain
 * what is queued for their database before they exit, and the launcher
 * waits for them; whatever is left stays queued, and the postmaster saves
 * it for after the restart (log_queue_file.c).  A writer that cannot get
 * a worker slot (max_worker_processes) is warned about once, and the
 * queue's status says "stalled".
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "tenant_guard.h"
#include "log_queue.h"
#include "own_tables.h"
#include "safesql.h"

/* Consecutive writers that must fail to connect before we give up. */
#define TG_MAX_START_FAILURES	3

/* Longest a stopping writer / launcher keeps going, in ms. */
#define TG_SHUTDOWN_DRAIN_MS	30000

/* What one INSERT transaction achieved. */
typedef enum TgWriteResult
{
	TG_WRITE_OK,
	TG_WRITE_NO_TABLE,
	TG_WRITE_ERROR
} TgWriteResult;

/* The writer's prepared INSERT, kept across transactions. */
static SPIPlanPtr tg_insert_plan = NULL;

/* Register the launcher (called from _PG_init while preloading). */
void
tg_log_worker_register(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	/* a connection to no database: it shows in pg_stat_activity */
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 5;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "tenant_guard");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "tg_log_launcher_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "tenant_guard log launcher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "tenant_guard log launcher");
	RegisterBackgroundWorker(&worker);
}

/* Ask the postmaster for a writer for dbid; the handle, or NULL. */
static BackgroundWorkerHandle *
tg_start_writer(Oid dbid)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "tenant_guard");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "tg_log_writer_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "tenant_guard log writer for database %u", dbid);
	snprintf(worker.bgw_type, BGW_MAXLEN, "tenant_guard log writer");
	worker.bgw_main_arg = ObjectIdGetDatum(dbid);
	worker.bgw_notify_pid = MyProcPid;	/* our latch is set on start/stop */

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		return NULL;
	return handle;
}

/* Take the head entries of dbid and write each to the server log. */
static int
tg_queue_to_server_log(Oid dbid, TgDropReason why)
{
	StringInfoData buf;
	TgQueueEntry entry;
	int			offset = 0;
	int			n;

	initStringInfo(&buf);
	n = tg_queue_take(dbid, &buf);
	while (tg_queue_next(&buf, &offset, &entry))
		tg_log_fallback(&entry, tg_drop_reason_text(why));
	tg_queue_finish(0, n, why);
	pfree(buf.data);
	return n;
}

/* before_shmem_exit callback of the launcher: no longer running. */
static void
tg_launcher_detach(int code, Datum arg)
{
	(void) code;
	(void) arg;
	LWLockReleaseAll();			/* in case an error left ours held */
	LWLockAcquire(tg_queue->lock, LW_EXCLUSIVE);
	if (tg_queue->launcher_pid == MyProcPid)
	{
		tg_queue->launcher_pid = 0;
		tg_queue->launcher_latch = NULL;
	}
	LWLockRelease(tg_queue->lock);
}

/*
 * Warn once per stall when entries wait without a writer taking any (a
 * writer that cannot start warns by itself, see tg_launcher_tick).
 */
static void
tg_launcher_warn_stall(TimestampTz now)
{
	TgQueueStall stall;
	bool		warn = false;

	tg_queue_stall(now, &stall);
	LWLockAcquire(tg_queue->lock, LW_EXCLUSIVE);
	if (!stall.stalled)
		tg_queue->stall_warned = false;
	else if (!stall.refused && !tg_queue->stall_warned)
		warn = tg_queue->stall_warned = true;
	LWLockRelease(tg_queue->lock);
	if (warn)
	{
		char	   *text = tg_queue_stall_text(&stall);

		ereport(WARNING,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("tenant_guard log queue is %s", text),
				 errhint("See tenant_guard.log_queue_status() and earlier messages of the tenant_guard log writers.")));
		pfree(text);			/* the launcher runs in long-lived memory */
	}
}

/*
 * One round of the launcher: notice writers that stopped, start writers
 * where entries wait, free slots nobody needs, and send the head entries
 * of databases we gave up on to the server log.  Returns true while some
 * writer is starting (so the caller looks again soon).
 */
static bool
tg_launcher_tick(BackgroundWorkerHandle **handles, TimestampTz *next_try)
{
	TimestampTz now = GetCurrentTimestamp();
	bool		starting = false;
	Oid			head;

	for (int i = 0; i < TG_QUEUE_MAX_DBS; i++)
	{
		TgQueueDb  *slot = &tg_queue->dbs[i];
		Oid			dbid;
		bool		stopped = false;
		bool		gave_up = false;
		bool		need_writer;
		pid_t		pid;

		/* a writer we started: is it gone? (outside our lock) */
		if (handles[i] != NULL &&
			GetBackgroundWorkerPid(handles[i], &pid) == BGWH_STOPPED)
			stopped = true;

		LWLockAcquire(tg_queue->lock, LW_EXCLUSIVE);
		dbid = slot->dbid;
		if (stopped)
		{
			pfree(handles[i]);
			handles[i] = NULL;
			if (slot->writer_starting && !slot->writer_came_up && dbid != InvalidOid)
			{
				slot->start_failures++;
				next_try[i] = TimestampTzPlusMilliseconds(now, 1000 * slot->start_failures);
				if (slot->start_failures >= TG_MAX_START_FAILURES && !slot->unavailable)
				{
					slot->unavailable = true;
					gave_up = true;
				}
			}
			slot->writer_starting = false;
		}
		if (dbid == InvalidOid)
		{
			LWLockRelease(tg_queue->lock);
			continue;
		}
		if (slot->pending == 0 && slot->writer_pid == 0 && !slot->writer_starting &&
			handles[i] == NULL)
		{
			/* nothing queued, nobody working: free the slot */
			memset(slot, 0, sizeof(TgQueueDb));
			next_try[i] = 0;
			LWLockRelease(tg_queue->lock);
			continue;
		}
		need_writer = slot->pending > 0 && slot->writer_pid == 0 &&
			!slot->writer_starting && !slot->unavailable && handles[i] == NULL &&
			now >= next_try[i];
		if (need_writer)
		{
			/* before the writer can come up and say so */
			slot->writer_starting = true;
			slot->writer_came_up = false;
		}
		starting |= slot->writer_starting;
		LWLockRelease(tg_queue->lock);

		if (gave_up)
			ereport(WARNING,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("tenant_guard log writer cannot connect to database %u", dbid),
					 errdetail("%d writers in a row failed to start; rejections queued for this database go to the server log.",
							   TG_MAX_START_FAILURES)));
		if (!need_writer)
			continue;
		handles[i] = tg_start_writer(dbid);
		if (handles[i] == NULL)
		{
			/* no free worker slot: entries wait (and may overflow) */
			bool		first;
			uint64		pending;

			LWLockAcquire(tg_queue->lock, LW_EXCLUSIVE);
			slot->writer_starting = false;
			first = !slot->start_refused;
			slot->start_refused = true;
			pending = slot->pending;
			LWLockRelease(tg_queue->lock);
			if (first)
				ereport(WARNING,
						(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
						 errmsg("tenant_guard could not start a log writer for database %u", dbid),
						 errdetail_plural("No background worker slot is free (max_worker_processes = %d). %llu rejection of this database waits in the queue: it is written once a writer starts, unless the queue fills up first (then it is counted as dropped).",
										  "No background worker slot is free (max_worker_processes = %d). %llu rejections of this database wait in the queue: they are written once a writer starts, and counted as dropped if the queue fills up.",
										  (unsigned long) pending,
										  max_worker_processes, (unsigned long long) pending),
						 errhint("Raise max_worker_processes: one slot for the tenant_guard log launcher, one per database being written, plus what the rest of the server uses. A clean restart keeps what is queued.")));
			next_try[i] = TimestampTzPlusMilliseconds(now, 10000);
		}
		else
		{
			LWLockAcquire(tg_queue->lock, LW_EXCLUSIVE);
			slot->start_refused = false;
			LWLockRelease(tg_queue->lock);
		}
	}

	tg_launcher_warn_stall(now);

	/* databases we gave up on: their head entries go to the server log */
	while ((head = tg_queue_head_db()) != InvalidOid)
	{
		TgQueueDb  *slot;
		bool		unavailable;

		LWLockAcquire(tg_queue->lock, LW_SHARED);
		slot = tg_queue_db_slot(head, false);
		unavailable = slot && slot->unavailable;
		LWLockRelease(tg_queue->lock);
		if (!unavailable || tg_queue_to_server_log(head, TG_DROP_NO_DATABASE) == 0)
			break;
	}
	return starting;
}

/* Is anything queued, and is any writer running? */
static void
tg_queue_state(bool *empty, bool *writers)
{
	LWLockAcquire(tg_queue->lock, LW_SHARED);
	*empty = (tg_queue->tail == tg_queue->head);
	*writers = false;
	for (int i = 0; i < TG_QUEUE_MAX_DBS; i++)
		if (tg_queue->dbs[i].dbid != InvalidOid && tg_queue->dbs[i].writer_pid != 0)
			*writers = true;
	LWLockRelease(tg_queue->lock);
}

/* Main of the launcher. */
void
tg_log_launcher_main(Datum main_arg)
{
	BackgroundWorkerHandle *handles[TG_QUEUE_MAX_DBS];
	TimestampTz next_try[TG_QUEUE_MAX_DBS];
	TimestampTz stop_at = 0;
	TimestampTz no_writer_since = 0;

	(void) main_arg;
	memset(handles, 0, sizeof(handles));
	memset(next_try, 0, sizeof(next_try));

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();

	if (tg_queue == NULL)
		elog(ERROR, "tenant_guard log queue is not in shared memory");

	/* shared catalogs only; makes us visible (and pg_terminate_backend-able) */
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);

	LWLockAcquire(tg_queue->lock, LW_EXCLUSIVE);
	tg_queue->launcher_pid = MyProcPid;
	tg_queue->launcher_latch = MyLatch;
	tg_queue->launcher_came_up = true;
	/* writers an earlier launcher was starting are not ours to watch */
	for (int i = 0; i < TG_QUEUE_MAX_DBS; i++)
		tg_queue->dbs[i].writer_starting = false;
	LWLockRelease(tg_queue->lock);
	before_shmem_exit(tg_launcher_detach, (Datum) 0);

	ereport(LOG,
			(errmsg("tenant_guard log launcher started")));

	for (;;)
	{
		bool		starting;
		bool		empty;
		bool		writers;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		starting = tg_launcher_tick(handles, next_try);

		/*
		 * Asked to stop (shutdown, or pg_terminate_backend): keep starting
		 * writers until the queue is empty; give up when no writer has run
		 * for 2 s (a stopping server starts no new workers) or after 30 s.
		 */
		if (ShutdownRequestPending)
		{
			TimestampTz now = GetCurrentTimestamp();

			if (stop_at == 0)
				stop_at = TimestampTzPlusMilliseconds(now, TG_SHUTDOWN_DRAIN_MS);
			tg_queue_state(&empty, &writers);
			if (writers)
				no_writer_since = 0;
			else if (no_writer_since == 0)
				no_writer_since = now;
			if (empty || now >= stop_at ||
				(no_writer_since != 0 &&
				 TimestampDifferenceExceeds(no_writer_since, now, 2000)))
				break;
		}

		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 (starting || ShutdownRequestPending) ? 100L : 1000L,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}

	/*
	 * What is left stays queued: a restarted launcher writes it, and at a
	 * clean shutdown the postmaster saves it for after the restart
	 * (log_queue_file.c).
	 */
	{
		uint64		left;

		LWLockAcquire(tg_queue->lock, LW_SHARED);
		left = tg_queue->queued;
		LWLockRelease(tg_queue->lock);
		if (left > 0)
			ereport(WARNING,
					(errcode(ERRCODE_ADMIN_SHUTDOWN),
					 errmsg_plural("tenant_guard log launcher stopped with %llu rejection not yet written to the log table",
								   "tenant_guard log launcher stopped with %llu rejections not yet written to the log table",
								   (unsigned long) left, (unsigned long long) left),
					 errdetail("They stay queued; a clean shutdown saves them, and they are written after the restart.")));
	}
	proc_exit(1);				/* 1: restart if this was not a shutdown */
}

/* Does the log table exist in this database? (in a transaction) */
static bool
tg_log_table_exists(void)
{
	return OidIsValid(tg_extension_relid_if_exists(TG_LOG_TABLE));
}

/* A text parameter, NULL when empty. */
static void
tg_text_param(const char *s, Datum *value, char *null)
{
	if (s == NULL || s[0] == '\0')
	{
		*value = (Datum) 0;
		*null = 'n';
	}
	else
	{
		*value = CStringGetTextDatum(s);
		*null = ' ';
	}
}

/* Insert entries[0..count) in one transaction. */
static TgWriteResult
tg_writer_insert(TgQueueEntry *entries, int count)
{
	volatile TgWriteResult result = TG_WRITE_OK;
	MemoryContext oldcxt = CurrentMemoryContext;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PG_TRY();
	{
		/* the database's or role's default search_path is not ours to trust */
		tg_pin_search_path();
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, "writing tenant_guard rejections");

		if (!tg_log_table_exists())
			result = TG_WRITE_NO_TABLE;
		else
		{
			if (tg_insert_plan == NULL)
			{
				Oid			argtypes[7] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID,
				TEXTOID, TEXTOID, TIMESTAMPTZOID};
				SPIPlanPtr	plan;

				plan = SPI_prepare("INSERT INTO " TG_SCHEMA "." TG_LOG_TABLE
								   " (endpoint, data, reason, ip_address, role_name,"
								   "  application_name, action, created_at)"
								   " VALUES ($1, $2::pg_catalog.jsonb, $3, $4::pg_catalog.inet,"
								   "  $5::pg_catalog.name, $6, '" TG_ACTION_REJECTED "', $7)"
								   " ON CONFLICT (id) DO NOTHING",
								   7, argtypes);
				if (plan == NULL || SPI_keepplan(plan) != 0)
					elog(ERROR, "could not prepare the tenant_guard log insert: %s",
						 SPI_result_code_string(SPI_result));
				tg_insert_plan = plan;
			}
			for (int i = 0; i < count; i++)
			{
				Datum		values[7];
				char		nulls[7];

				tg_text_param(entries[i].endpoint, &values[0], &nulls[0]);
				tg_text_param(entries[i].data, &values[1], &nulls[1]);
				tg_text_param(entries[i].reason, &values[2], &nulls[2]);
				tg_text_param(entries[i].client_addr, &values[3], &nulls[3]);
				tg_text_param(entries[i].role, &values[4], &nulls[4]);
				tg_text_param(entries[i].appname, &values[5], &nulls[5]);
				values[6] = TimestampTzGetDatum(entries[i].attempt_time);
				nulls[6] = ' ';
				if (SPI_execute_plan(tg_insert_plan, values, nulls, false, 0) != SPI_OK_INSERT)
					elog(ERROR, "could not insert into %s.%s", TG_SCHEMA, TG_LOG_TABLE);
				/* the id was taken: the sequence was set back (see own_tables.c) */
				if (SPI_processed == 0)
				{
					tg_own_id_seq_repair(TG_LOG_TABLE);
					if (SPI_execute_plan(tg_insert_plan, values, nulls, false, 0) != SPI_OK_INSERT ||
						SPI_processed != 1)
						tg_own_id_taken(TG_LOG_TABLE);
				}
			}
		}
		SPI_finish();
		PopActiveSnapshot();
		tg_unpin_search_path();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		/* report it, roll back, carry on */
		MemoryContextSwitchTo(oldcxt);
		HOLD_INTERRUPTS();
		EmitErrorReport();
		AbortOutOfAnyTransaction();
		FlushErrorState();
		RESUME_INTERRUPTS();
		result = TG_WRITE_ERROR;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
	return result;
}

/*
 * Take one batch for our database and write it.  Returns how many
 * entries were taken (0: none at the head for us).
 */
static int
tg_writer_batch(Oid dbid, MemoryContext cxt)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(cxt);
	StringInfoData buf;
	TgQueueEntry *entries;
	int			n;
	int			offset = 0;
	int			written = 0;
	int			failed = 0;
	int			no_table = 0;
	TgWriteResult result;

	initStringInfo(&buf);
	n = tg_queue_take(dbid, &buf);
	if (n > 0)
	{
		entries = palloc(sizeof(TgQueueEntry) * n);
		for (int i = 0; i < n; i++)
			if (!tg_queue_next(&buf, &offset, &entries[i]))
				elog(ERROR, "tenant_guard log queue batch is short");

		result = tg_writer_insert(entries, n);
		if (result == TG_WRITE_OK)
			written = n;
		else if (result == TG_WRITE_NO_TABLE)
		{
			for (int i = 0; i < n; i++)
				tg_log_fallback(&entries[i], tg_drop_reason_text(TG_DROP_NO_EXTENSION));
			no_table = n;
		}
		else
		{
			/* one bad entry must not cost the others: row by row */
			for (int i = 0; i < n; i++)
			{
				result = tg_writer_insert(&entries[i], 1);
				if (result == TG_WRITE_OK)
					written++;
				else if (result == TG_WRITE_NO_TABLE)
				{
					tg_log_fallback(&entries[i], tg_drop_reason_text(TG_DROP_NO_EXTENSION));
					no_table++;
				}
				else
				{
					tg_log_fallback(&entries[i], tg_drop_reason_text(TG_DROP_INSERT_FAILED));
					failed++;
				}
			}
		}
		tg_queue_finish(written, failed, TG_DROP_INSERT_FAILED);
		tg_queue_finish(0, no_table, TG_DROP_NO_EXTENSION);
	}
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(cxt);
	return n;
}

/* before_shmem_exit callback of a writer: leave the database slot. */
static void
tg_writer_detach(int code, Datum arg)
{
	TgQueueDb  *slot;

	(void) code;
	LWLockReleaseAll();			/* in case an error left ours held */
	LWLockAcquire(tg_queue->lock, LW_EXCLUSIVE);
	slot = tg_queue_db_slot(DatumGetObjectId(arg), false);
	if (slot && slot->writer_pid == MyProcPid)
	{
		slot->writer_pid = 0;
		slot->writer_latch = NULL;
	}
	if (tg_queue->launcher_latch)
		SetLatch(tg_queue->launcher_latch);
	LWLockRelease(tg_queue->lock);
}

/*
 * May a writer with nothing to take right now exit?  When idle long
 * enough and nothing of ours is queued (then we leave the slot at once,
 * so that new entries wake the launcher instead of us); when stopping,
 * also if what is ours waits behind entries nobody will write.
 */
static bool
tg_writer_may_exit(Oid dbid, bool stopping, bool idle_enough)
{
	TgQueueDb  *slot;
	bool		exit_now = false;
	Oid			head = stopping ? tg_queue_head_db() : InvalidOid;

	LWLockAcquire(tg_queue->lock, LW_EXCLUSIVE);
	slot = tg_queue_db_slot(dbid, false);
	if (slot == NULL || slot->pending == 0)
		exit_now = stopping || idle_enough;
	else if (stopping && head != InvalidOid && head != dbid)
	{
		/* ours wait behind another database's: is anyone writing those? */
		TgQueueDb  *other = tg_queue_db_slot(head, false);

		exit_now = (other == NULL || other->writer_pid == 0);
	}
	if (exit_now && slot && slot->writer_pid == MyProcPid)
	{
		slot->writer_pid = 0;
		slot->writer_latch = NULL;
	}
	LWLockRelease(tg_queue->lock);
	return exit_now;
}

/* Main of a writer; main_arg is the database OID. */
void
tg_log_writer_main(Datum main_arg)
{
	Oid			dbid = DatumGetObjectId(main_arg);
	TgQueueDb  *slot;
	MemoryContext cxt;
	TimestampTz last_work;
	TimestampTz stop_at = 0;
	bool		duplicate = false;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();

	if (tg_queue == NULL)
		elog(ERROR, "tenant_guard log queue is not in shared memory");

	/* FATAL if the database is gone; the launcher counts that */
	BackgroundWorkerInitializeConnectionByOid(dbid, InvalidOid, 0);

	/*
	 * The writer only inserts log rows: settings stored for its database
	 * (ALTER DATABASE ... SET) must not make every insert fail.
	 */
	SetConfigOption("default_transaction_read_only", "off", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("statement_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("lock_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("idle_in_transaction_session_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("session_replication_role", "origin", PGC_SUSET, PGC_S_OVERRIDE);
	/* its inserts are the extension's own: write_guard lets them through */
	tg_own_writes_process();

	LWLockAcquire(tg_queue->lock, LW_EXCLUSIVE);
	slot = tg_queue_db_slot(dbid, true);
	if (slot == NULL || (slot->writer_pid != 0 && slot->writer_pid != MyProcPid))
		duplicate = true;
	else
	{
		slot->writer_pid = MyProcPid;
		slot->writer_latch = MyLatch;
		slot->writer_starting = false;
		slot->writer_came_up = true;
		slot->start_failures = 0;
		slot->start_refused = false;
	}
	LWLockRelease(tg_queue->lock);
	if (duplicate)
		proc_exit(0);
	before_shmem_exit(tg_writer_detach, ObjectIdGetDatum(dbid));

	cxt = AllocSetContextCreate(TopMemoryContext, "tenant_guard log writer",
								ALLOCSET_DEFAULT_SIZES);
	last_work = GetCurrentTimestamp();

	for (;;)
	{
		bool		stopping;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		/* nothing to do on a standby (we start after recovery anyway) */
		if (!RecoveryInProgress() && tg_writer_batch(dbid, cxt) > 0)
		{
			last_work = GetCurrentTimestamp();
			continue;
		}

		stopping = ShutdownRequestPending;
		if (stopping && stop_at == 0)
			stop_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), TG_SHUTDOWN_DRAIN_MS);
		if (tg_writer_may_exit(dbid, stopping,
							   TimestampDifferenceExceeds(last_work, GetCurrentTimestamp(),
														  tg_log_writer_idle_time)) ||
			(stopping && GetCurrentTimestamp() >= stop_at))
			break;

		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 stopping ? 100L : Min(1000L, Max(10L, (long) tg_log_writer_idle_time)),
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	proc_exit(0);
}
