/*-------------------------------------------------------------------------
 *
 * log_queue.h
 *	  The durable rejection log: the shared-memory queue (log_queue.c) and
 *	  the background workers that drain it (log_worker.c).
 *
 * A rejecting backend cannot write its log row itself: its transaction is
 * about to roll back.  Instead it copies everything the row needs into a
 * byte ring in shared memory and sets a latch; a writer process connected
 * to the same database copies entries out and inserts them in batches,
 * each batch in its own committed transaction.
 *
 * Locking: one LWLock (TgQueueShared.lock) protects every field of
 * TgQueueShared, the ring and the database slots.  Holders do nothing but
 * bounded memcpy and counter updates, so nobody waits more than briefly:
 * a backend holds it to copy one entry in (at most TG_QUEUE_MAX_ENTRY
 * bytes), a writer to copy one batch out (at most TG_WRITER_BATCH_BYTES).
 * Latches are set after releasing it.
 *
 * Ordering: entries leave the ring in the order they entered it, from
 * the head only.  A writer takes the run of head entries that belong to
 * its database; when the head belongs to another database it wakes that
 * database's writer (or the launcher, which starts one).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TG_LOG_QUEUE_H
#define TG_LOG_QUEUE_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "lib/stringinfo.h"
#include "storage/latch.h"
#include "storage/lwlock.h"

/* Databases that may have entries queued at the same time. */
#define TG_QUEUE_MAX_DBS		32

/* Bounds on what one entry carries, in bytes (documented in README). */
#define TG_QUEUE_MAX_DATA		8192	/* the row as JSON text */
#define TG_QUEUE_MAX_FIELD		1024	/* one text column inside it */
#define TG_QUEUE_MAX_REASON		8192
#define TG_QUEUE_MAX_NAME		(NAMEDATALEN - 1)	/* role, table, app, address */

/*
 * Entries of a database that have waited this long without a writer
 * taking any make the queue "stalled" (status, WARNING).
 */
#define TG_QUEUE_STALL_MS		10000

/* Most a writer takes out of the ring in one batch (one transaction). */
#define TG_WRITER_BATCH_ROWS	1000
#define TG_WRITER_BATCH_BYTES	(256 * 1024)

/* Why an entry did not reach the log table (status columns). */
typedef enum TgDropReason
{
	TG_DROP_QUEUE_FULL = 0,		/* no room in the ring */
	TG_DROP_TOO_MANY_DATABASES, /* no free database slot */
	TG_DROP_NO_EXTENSION,		/* database has no tenant_guard log table */
	TG_DROP_NO_DATABASE,		/* no writer could connect to the database */
	TG_DROP_INSERT_FAILED,		/* the INSERT raised an error */
	TG_DROP_SHUTDOWN,			/* still queued when the server stopped */
	TG_NUM_DROP_REASONS
} TgDropReason;

/* Per database with queued entries: its writer and its share of the ring. */
typedef struct TgQueueDb
{
	Oid			dbid;			/* InvalidOid: slot free */
	uint64		pending;		/* entries of this database in the ring */
	pid_t		writer_pid;		/* 0: no writer running */
	Latch	   *writer_latch;
	bool		writer_starting;	/* launcher registered one, not yet up */
	bool		writer_came_up; /* the last one started did connect */
	int			start_failures; /* consecutive writers that never came up */
	bool		unavailable;	/* given up: entries go to the server log */
	bool		start_refused;	/* no free worker slot for its writer */
	TimestampTz progress_at;	/* entries arrived with none pending, or
								 * a writer took some */
} TgQueueDb;

/* Everything in shared memory. */
typedef struct TgQueueShared
{
	LWLock	   *lock;
	pid_t		launcher_pid;	/* 0: not running */
	Latch	   *launcher_latch;
	TimestampTz stats_since;	/* when this memory was initialised */
	uint64		size;			/* bytes in ring[] */
	uint64		head;			/* next byte to write (grows forever) */
	uint64		tail;			/* next byte to read (grows forever) */
	uint64		queued;			/* entries between tail and head */
	uint64		enqueued_total;
	uint64		written_total;
	uint64		done_total;		/* dequeued and then written or dropped */
	uint64		dropped[TG_NUM_DROP_REASONS];
	bool		launcher_came_up;	/* a launcher has run since stats_since */
	bool		stall_warned;	/* the launcher has warned of this stall */
	TgQueueDb	dbs[TG_QUEUE_MAX_DBS];
	char		ring[FLEXIBLE_ARRAY_MEMBER];
} TgQueueShared;

/*
 * How an entry is laid out in the ring (and in the file that keeps the
 * queue across a clean restart): this header, then its strings in the
 * order of TgQueueEntry, each NUL-terminated.
 */
typedef struct TgQueueEntryHdr
{
	uint32		len;			/* whole entry, header included */
	Oid			dbid;
	TimestampTz attempt_time;
	uint32		lens[7];		/* string lengths, NULs excluded */
} TgQueueEntryHdr;

#define TG_ENTRY_STRINGS 7

/* Largest possible entry: header, bounded strings and their NULs. */
#define TG_QUEUE_MAX_ENTRY \
	(sizeof(TgQueueEntryHdr) + 4 * (TG_QUEUE_MAX_NAME + 1) + \
	 (TG_MAX_ENDPOINT_LEN + 1) + (TG_QUEUE_MAX_REASON + 1) + \
	 (TG_QUEUE_MAX_DATA + 1))

/* Why the queue does not drain (log_queue_status(), log_queue_wait()). */
typedef struct TgQueueStall
{
	bool		stalled;
	bool		refused;		/* a writer could not get a worker slot */
	bool		no_launcher;	/* no launcher running (or ever) */
	uint64		waiting;		/* entries of the stalled databases */
	long		waited_ms;		/* longest wait without progress */
} TgQueueStall;

/* One rejection, decoded (pointers into the entry's bytes). */
typedef struct TgQueueEntry
{
	Oid			dbid;
	TimestampTz attempt_time;
	const char *relname;
	const char *role;
	const char *appname;		/* "" = none */
	const char *endpoint;		/* "" = none */
	const char *client_addr;	/* "" = none */
	const char *reason;
	const char *data;			/* JSON text of the row, bounded */
} TgQueueEntry;

/* log_queue.c */
extern TgQueueShared *tg_queue;
extern int	tg_log_queue_size;
extern bool tg_durable_log;
extern int	tg_log_writer_idle_time;

extern bool tg_queue_push(const TgQueueEntry *entry, TgDropReason *why);
extern int	tg_queue_take(Oid dbid, StringInfo out);
extern const char *tg_queue_next(StringInfo buf, int *offset, TgQueueEntry *entry);
extern void tg_queue_finish(int written, int dropped, TgDropReason why);
extern TgQueueDb *tg_queue_db_slot(Oid dbid, bool create);
extern Oid	tg_queue_head_db(void);
extern void tg_log_fallback(const TgQueueEntry *entry, const char *why);
extern const char *tg_drop_reason_text(TgDropReason why);
extern void tg_queue_ring_read(uint64 pos, char *dst, Size len);
extern void tg_queue_ring_write(uint64 pos, const char *src, Size len);
extern bool tg_queue_append(const char *bytes, uint32 len, Oid dbid,
							TimestampTz now, TgDropReason *why);
extern void tg_queue_stall(TimestampTz now, TgQueueStall *stall);
extern char *tg_queue_stall_text(const TgQueueStall *stall);

/* GUCs; with preloading, shared memory hooks.  Called from _PG_init. */
extern void tg_log_queue_init(void);

/* log_queue_file.c */
extern void tg_queue_save(int code, Datum arg);
extern void tg_queue_load(void);


#endif							/* TG_LOG_QUEUE_H */
