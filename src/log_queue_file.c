/*-------------------------------------------------------------------------
 *
 * log_queue_file.c
 *	  The durable rejection log's queue across a clean restart: what is
 *	  still queued when the postmaster exits after a clean shutdown (for
 *	  instance because no log writer could start) is saved to a file, and
 *	  read back into the queue at the next start, where the writers take
 *	  it as usual.
 *
 * The file holds the queue's entries exactly as they lie in the ring
 * (log_queue.h), after a small header.  It is written only when the
 * control file says the cluster shut down cleanly, as the rate limits'
 * file is, and removed once read, so that a crash later cannot bring the
 * same entries back.  A standby (standby.signal) does not read it: it
 * can only have come with a copy of the primary's data directory, and
 * the primary writes those rows.  Entries that do not fit into the queue
 * at startup, or a file that cannot be written, go to the server log,
 * counted as dropped: never nowhere.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include "access/xlog.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/fd.h"
#include "utils/timestamp.h"

#include "names.h"
#include "statefile.h"
#include "log_queue.h"

#define TG_QUEUE_FILE		PGSTAT_STAT_PERMANENT_DIRECTORY "/tenant_guard_queue"
#define TG_QUEUE_FILE_MAGIC	0x54475131	/* "TGQ1" */

/* The file's header; the entries follow. */
typedef struct TgQueueFileHdr
{
	uint32		magic;
	uint32		pad;
	uint64		count;			/* entries */
	uint64		bytes;			/* their bytes */
} TgQueueFileHdr;

/*
 * Is this a whole, well-formed entry of len bytes?  (A file is read by
 * the postmaster: nothing in it may make us read past the entry.)
 */
static bool
tg_entry_well_formed(const char *bytes, uint32 len)
{
	TgQueueEntryHdr hdr;
	uint64		pos = sizeof(TgQueueEntryHdr);

	if (len < sizeof(TgQueueEntryHdr) || len > TG_QUEUE_MAX_ENTRY)
		return false;
	memcpy(&hdr, bytes, sizeof(hdr));
	if (hdr.len != len || !OidIsValid(hdr.dbid))
		return false;
	for (int i = 0; i < TG_ENTRY_STRINGS; i++)
	{
		pos += hdr.lens[i];
		if (pos >= len || bytes[pos] != '\0')
			return false;
		pos++;
	}
	return pos == len;
}

/* Write a queued entry that cannot be kept to the server log, counted. */
static void
tg_entry_to_server_log(const char *bytes, uint32 len, TgDropReason why)
{
	StringInfoData buf;
	TgQueueEntry entry;
	int			offset = 0;

	buf.data = (char *) bytes;
	buf.len = len;
	if (tg_queue_next(&buf, &offset, &entry))
		tg_log_fallback(&entry, tg_drop_reason_text(why));
}

/*
 * Copy the entry at ring position pos into buf (TG_QUEUE_MAX_ENTRY
 * bytes); returns its length, 0 if the ring does not hold an entry there.
 */
static uint32
tg_ring_entry(uint64 pos, char *buf)
{
	uint32		len;

	tg_queue_ring_read(pos, (char *) &len, sizeof(len));
	if (len < sizeof(TgQueueEntryHdr) || len > TG_QUEUE_MAX_ENTRY)
		return 0;
	tg_queue_ring_read(pos, buf, len);
	return len;
}

/*
 * on_shmem_exit callback of the postmaster: save what is still queued.
 * Only after a clean shutdown (see tg_statefile_shutdown_clean); no locks,
 * every other process has exited.
 */
void
tg_queue_save(int code, Datum arg)
{
	TgQueueFileHdr hdr;
	FILE	   *file;
	char	   *entry;
	uint64		pos;
	bool		ok;

	(void) arg;
	if (code != 0 || tg_queue == NULL || tg_queue->queued == 0)
		return;
	if (!tg_statefile_shutdown_clean("the rejections still in its log queue"))
		return;

	memset(&hdr, 0, sizeof(hdr));
	hdr.magic = TG_QUEUE_FILE_MAGIC;
	hdr.count = tg_queue->queued;
	hdr.bytes = tg_queue->head - tg_queue->tail;

	file = tg_statefile_create(TG_QUEUE_FILE);
	ok = (file != NULL && fwrite(&hdr, sizeof(hdr), 1, file) == 1);
	entry = palloc(TG_QUEUE_MAX_ENTRY);
	for (pos = tg_queue->tail; pos < tg_queue->head && ok;)
	{
		uint32		len = tg_ring_entry(pos, entry);

		ok = (len > 0 && fwrite(entry, len, 1, file) == 1);
		pos += len;
	}
	if (file != NULL && tg_statefile_commit(file, ok, TG_QUEUE_FILE))
	{
		ereport(LOG,
				(errmsg_plural("tenant_guard saved %llu rejection not yet written to its log table",
							   "tenant_guard saved %llu rejections not yet written to its log table",
							   (unsigned long) hdr.count, (unsigned long long) hdr.count),
				 errdetail("They are written to the log table after the restart.")));
		return;
	}

	/* not saved: each goes to the server log */
	for (pos = tg_queue->tail; pos < tg_queue->head;)
	{
		uint32		len = tg_ring_entry(pos, entry);

		if (len == 0)
			break;
		tg_entry_to_server_log(entry, len, TG_DROP_SHUTDOWN);
		pos += len;
	}
	ereport(WARNING,
			(errcode(ERRCODE_ADMIN_SHUTDOWN),
			 errmsg_plural("tenant_guard stopped with %llu rejection not written to the log table",
						   "tenant_guard stopped with %llu rejections not written to the log table",
						   (unsigned long) hdr.count, (unsigned long long) hdr.count),
			 errdetail("They are in the server log above.")));
}

/*
 * At startup (postmaster, fresh shared memory): put the entries a clean
 * shutdown saved back into the queue, then remove the file.
 */
void
tg_queue_load(void)
{
	FILE	   *file;
	TgQueueFileHdr hdr;
	char	   *entry;
	struct stat st;
	TimestampTz now = GetCurrentTimestamp();
	uint64		loaded = 0;
	uint64		dropped = 0;
	bool		corrupt = false;

	file = tg_statefile_open(TG_QUEUE_FILE);
	if (file == NULL)
		return;
	if (stat(STANDBY_SIGNAL_FILE, &st) == 0)
	{
		ereport(LOG,
				(errmsg("tenant_guard ignores file \"%s\" on a standby", TG_QUEUE_FILE),
				 errdetail("It came with a copy of the primary's data directory; the primary writes those rejections.")));
		goto done;
	}
	if (fread(&hdr, sizeof(hdr), 1, file) != 1 || hdr.magic != TG_QUEUE_FILE_MAGIC)
	{
		ereport(LOG,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("ignoring file \"%s\": not a tenant_guard log queue file",
						TG_QUEUE_FILE)));
		goto done;
	}

	entry = palloc(TG_QUEUE_MAX_ENTRY);
	for (uint64 n = 0; n < hdr.count; n++)
	{
		uint32		len;
		TgDropReason why;
		TgQueueEntryHdr *eh = (TgQueueEntryHdr *) entry;

		if (fread(&len, sizeof(len), 1, file) != 1 ||
			len < sizeof(TgQueueEntryHdr) || len > TG_QUEUE_MAX_ENTRY ||
			fread(entry + sizeof(len), len - sizeof(len), 1, file) != 1)
		{
			corrupt = true;
			break;
		}
		memcpy(entry, &len, sizeof(len));
		if (!tg_entry_well_formed(entry, len))
		{
			corrupt = true;
			break;
		}
		if (tg_queue_append(entry, len, eh->dbid, now, &why))
			loaded++;
		else
		{
			tg_entry_to_server_log(entry, len, why);
			dropped++;
		}
	}
	pfree(entry);
	if (corrupt)
		ereport(LOG,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("file \"%s\" is cut short or damaged after %llu of %llu rejections",
						TG_QUEUE_FILE, (unsigned long long) (loaded + dropped),
						(unsigned long long) hdr.count)));
	if (loaded > 0 || dropped > 0)
		ereport(LOG,
				(errmsg_plural("tenant_guard queued %llu rejection saved at the last shutdown for its log table",
							   "tenant_guard queued %llu rejections saved at the last shutdown for its log table",
							   (unsigned long) loaded, (unsigned long long) loaded),
				 dropped > 0 ?
				 errdetail("%llu did not fit into the queue and are in the server log above.",
						   (unsigned long long) dropped) : 0));
done:
	FreeFile(file);
	unlink(TG_QUEUE_FILE);
}
