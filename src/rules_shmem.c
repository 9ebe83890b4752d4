/*-------------------------------------------------------------------------
 *
 * rules_shmem.c
 *	  The rule tables of each database, read once per change into a
 *	  dynamic shared memory segment that every backend of the database
 *	  reads in place: the e-mail domain list (built-in domains plus
 *	  tenant_guard.email_domains) compiled, and the rows of the keywords
 *	  and allowlist tables as they are (few; each backend compiles them
 *	  from the segment).  A new backend maps the segment instead of
 *	  opening the tables and hashing the whole list, and holds no private
 *	  copy of the list.  Needs shared_preload_libraries (the directory
 *	  below lives in the main shared memory area); without it, or on a hot
 *	  standby, each backend reads the tables itself (rules.c).
 *
 * The directory: one entry per (database, email_domains table) with the
 * segment's handle.  gen counts the committed changes of the rule tables,
 * bumped by the changing backend's commit callback: XACT_EVENT_COMMIT runs
 * after the commit is visible and before other backends receive the
 * commit's invalidation, so a backend that reloads after the invalidation
 * reads the new gen.  A segment is built from a snapshot taken after
 * reading gen G and published as G only while gen is still G; an entry
 * whose segment was built at an older gen is rebuilt by the next backend
 * that needs it (the first check after a change pays the compile once).
 * A transaction that changed a rule table reads its own uncommitted rows
 * from a private copy until it ends.  A parallel query (leader or worker)
 * reads the tables with the leader's snapshot, which can be older than
 * gen (REPEATABLE READ): what it builds is never published.
 *
 * Locking: tg_rdir->lock guards the directory (exclusive for everything:
 * look-ups happen once per backend per change).  The directory pins the
 * published segments; a backend keeps its mapping (dsm_pin_mapping) while
 * its rules read it, so a replaced segment lives until its last reader
 * moves on.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#include "rules_shmem.h"

/* Databases whose lists are kept at once; the least recently used goes. */
#define TG_RDIR_ENTRIES 64

typedef struct TgRulesDirEntry
{
	Oid			dboid;			/* InvalidOid: free */
	Oid			relid;			/* the database's email_domains */
	uint64		gen;			/* committed changes of the table */
	uint64		built_gen;		/* gen the segment was built at */
	bool		has_segment;
	dsm_handle	handle;			/* pinned while published */
	uint64		last_used;		/* tg_rdir->clock at the last look-up */
	uint64		serial;			/* tg_rdir->clock when the entry was made */
} TgRulesDirEntry;

typedef struct TgRulesDir
{
	LWLock	   *lock;
	uint64		clock;
	TgRulesDirEntry entries[TG_RDIR_ENTRIES];
} TgRulesDir;

static TgRulesDir *tg_rdir = NULL;
static bool tg_rdir_requested = false;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* This transaction changed a rule table (bump gen at commit): its name. */
static const char *tg_rules_changed_in_xact = NULL;

/*
 * A segment: this header, then the domain list's image (checker_image.c)
 * and the other tables' rows (rules.c), each at a MAXALIGNed offset.
 */
typedef struct TgRulesSegment
{
	uint32		magic;
	Size		image_off;
	Size		image_len;
	Size		rows_off;
	Size		rows_len;
} TgRulesSegment;

#define TG_RULES_SEGMENT_MAGIC 0x54475231	/* "TGR1" */

/* shmem_request_hook: the directory and its lock. */
static void
tg_rules_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(sizeof(TgRulesDir));
	RequestNamedLWLockTranche("tenant_guard_rules", 1);
}

/* shmem_startup_hook: an empty directory (at start and after a crash). */
static void
tg_rules_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	tg_rdir = ShmemInitStruct("tenant_guard rules directory", sizeof(TgRulesDir), &found);
	if (!found)
	{
		memset(tg_rdir, 0, sizeof(TgRulesDir));
		tg_rdir->lock = &(GetNamedLWLockTranche("tenant_guard_rules"))->lock;
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Transaction callback: publish this transaction's change of the list. */
static void
tg_rules_xact_cb(XactEvent event, void *arg)
{
	(void) arg;
	if (tg_rules_changed_in_xact == NULL)
		return;
	switch (event)
	{
		case XACT_EVENT_PRE_PREPARE:
			/* COMMIT PREPARED runs elsewhere, without this callback */
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot PREPARE a transaction that has changed tenant_guard.%s",
							tg_rules_changed_in_xact),
					 errdetail("The shared copy of the rules is renewed at commit.")));
			break;
		case XACT_EVENT_COMMIT:
			tg_rules_changed_in_xact = NULL;
			if (tg_rdir == NULL)
				break;
			LWLockAcquire(tg_rdir->lock, LW_EXCLUSIVE);
			for (int i = 0; i < TG_RDIR_ENTRIES; i++)
				if (tg_rdir->entries[i].dboid == MyDatabaseId)
					tg_rdir->entries[i].gen++;
			LWLockRelease(tg_rdir->lock);
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			tg_rules_changed_in_xact = NULL;
			break;
		default:
			break;
	}
}

/* Module set-up (from tg_rules_init): with preloading, the directory. */
void
tg_rules_shmem_init(void)
{
	RegisterXactCallback(tg_rules_xact_cb, NULL);
	if (!process_shared_preload_libraries_in_progress)
		return;
	tg_rdir_requested = true;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = tg_rules_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = tg_rules_shmem_startup;
}

/* Was the library preloaded (so that a shared copy can exist)? */
bool
tg_rules_shmem_preloaded(void)
{
	return tg_rdir_requested;
}

/* Can this backend read the shared copy now? */
bool
tg_rules_shmem_usable(void)
{
	return tg_rdir != NULL && !RecoveryInProgress() &&
		tg_rules_changed_in_xact == NULL;
}

/*
 * The rules_changed trigger saw rule table "table" (a static name) change
 * in this transaction.
 */
void
tg_rules_shmem_changed(const char *table)
{
	if (tg_rules_changed_in_xact == NULL)
		tg_rules_changed_in_xact = table;
}

/* The directory entry of (our database, relid), made when missing; locked. */
static TgRulesDirEntry *
tg_rdir_entry(Oid relid)
{
	TgRulesDirEntry *victim = NULL;

	for (int i = 0; i < TG_RDIR_ENTRIES; i++)
	{
		TgRulesDirEntry *e = &tg_rdir->entries[i];

		if (e->dboid == MyDatabaseId && e->relid == relid)
			return e;
		if (victim == NULL || e->dboid == InvalidOid ||
			(victim->dboid != InvalidOid && e->last_used < victim->last_used))
			victim = e;
	}
	/* a free entry, or the least recently used one (a dropped database's) */
	if (victim->has_segment)
		dsm_unpin_segment(victim->handle);
	memset(victim, 0, sizeof(*victim));
	victim->dboid = MyDatabaseId;
	victim->relid = relid;
	victim->serial = ++tg_rdir->clock;
	return victim;
}

/* Our mapping of a published segment (made and kept when new); NULL if gone. */
static dsm_segment *
tg_rdir_map(dsm_handle handle)
{
	dsm_segment *seg = dsm_find_mapping(handle);

	if (seg == NULL && (seg = dsm_attach(handle)) != NULL)
		dsm_pin_mapping(seg);
	return seg;
}

/*
 * Compile the rule tables of the list relid as of now into a new segment,
 * mapped for this backend; publish it unless they changed meanwhile.
 * NULL when no segment can be had (too many segments).
 */
static dsm_segment *
tg_rdir_build(Oid relid, uint64 serial, uint64 gen, TgRulesLoader load)
{
	TgRules    *full = tg_rules_new();
	dsm_segment *volatile seg = NULL;
	volatile Size size = 0;
	StringInfoData rows;

	if (full == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Failed to compile the tenant_guard rules.")));
	PG_TRY();
	{
		Size		image_len;
		TgRulesSegment hdr;

		initStringInfo(&rows);
		load(full, &rows, relid);
		image_len = tg_rules_domains_image_size(full);
		hdr.magic = TG_RULES_SEGMENT_MAGIC;
		hdr.image_off = MAXALIGN(sizeof(TgRulesSegment));
		hdr.image_len = image_len;
		hdr.rows_off = hdr.image_off + MAXALIGN(image_len);
		hdr.rows_len = (Size) rows.len;
		size = hdr.rows_off + hdr.rows_len;
		if (image_len > 0)
			seg = dsm_create(size, DSM_CREATE_NULL_IF_MAXSEGMENTS);
		if (seg != NULL)
		{
			char	   *base = dsm_segment_address(seg);

			memcpy(base, &hdr, sizeof(hdr));
			if (!tg_rules_domains_image_write(full, base + hdr.image_off, image_len))
				elog(ERROR, "could not write the tenant_guard domain list image");
			memcpy(base + hdr.rows_off, rows.data, rows.len);
			dsm_pin_mapping(seg);
		}
		pfree(rows.data);
	}
	PG_FINALLY();
	{
		if (seg != NULL)
			elog(DEBUG1, "tenant_guard compiled %zu e-mail domains (%zu kB) into shared memory",
				 tg_rules_domain_count(full), (size_t) (size / 1024));
		tg_rules_free(full);
	}
	PG_END_TRY();
	if (seg == NULL)
		return NULL;

	LWLockAcquire(tg_rdir->lock, LW_EXCLUSIVE);
	{
		TgRulesDirEntry *e = tg_rdir_entry(relid);

		/*
		 * (an entry made again meanwhile may have missed a change; in
		 * parallel mode the tables were read with the leader's snapshot,
		 * which may predate gen's last change: such a copy is this
		 * backend's only)
		 */
		if (!IsInParallelMode() && e->serial == serial && e->gen == gen &&
			!(e->has_segment && e->built_gen == gen))
		{
			if (e->has_segment)
				dsm_unpin_segment(e->handle);
			dsm_pin_segment(seg);
			e->handle = dsm_segment_handle(seg);
			e->has_segment = true;
			e->built_gen = gen;
		}
	}
	LWLockRelease(tg_rdir->lock);
	return seg;
}

/*
 * Make rules read the shared list of table relid, compiling it first when
 * it is missing or older than the rule tables' last committed change; set
 * *rows and *rows_len to the other tables' rows in the segment (what load
 * appended).  Returns the segment the rules now read, mapped until the
 * caller detaches it (dsm_detach, once the rules are freed); NULL when
 * there is none: the caller reads the tables itself.
 */
dsm_segment *
tg_rules_shmem_attach(Oid relid, TgRules *rules, TgRulesLoader load,
					  const char **rows, Size *rows_len)
{
	dsm_segment *seg = NULL;
	uint64		gen;
	uint64		serial;
	TgRulesSegment hdr;
	const char *base;

	if (!tg_rules_shmem_usable())
		return NULL;

	LWLockAcquire(tg_rdir->lock, LW_EXCLUSIVE);
	{
		TgRulesDirEntry *e = tg_rdir_entry(relid);

		e->last_used = ++tg_rdir->clock;
		serial = e->serial;
		gen = e->gen;
		if (e->has_segment && e->built_gen == gen)
			seg = tg_rdir_map(e->handle);
	}
	LWLockRelease(tg_rdir->lock);

	if (seg == NULL)
		seg = tg_rdir_build(relid, serial, gen, load);
	if (seg == NULL)
		return NULL;
	base = dsm_segment_address(seg);
	memcpy(&hdr, base, sizeof(hdr));
	if (hdr.magic != TG_RULES_SEGMENT_MAGIC ||
		hdr.rows_off + hdr.rows_len > dsm_segment_map_length(seg) ||
		!tg_rules_use_domains_image(rules, base + hdr.image_off, hdr.image_len))
		elog(ERROR, "the shared tenant_guard rules are not readable");
	*rows = base + hdr.rows_off;
	*rows_len = hdr.rows_len;
	return seg;
}
