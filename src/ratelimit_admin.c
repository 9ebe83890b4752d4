/*-------------------------------------------------------------------------
 *
 * ratelimit_admin.c
 *	  What operators see and keep of the rate limits (ratelimit.c): the
 *	  SQL functions normalize_email(), rate_limit_usage(),
 *	  rate_limit_status() and rate_limit_reset(), and the counts written at
 *	  a clean shutdown and read back at startup.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/inet.h"
#include "utils/timestamp.h"

#include "ratelimit_int.h"
#include "tenant_guard.h"

#define TG_RATE_DUMP_FILE	PGSTAT_STAT_PERMANENT_DIRECTORY "/tenant_guard_ratelimit.stat"
/*
 * "TGR2": keys hashed by tg_key_hash().  Not changed when 1.1 began folding
 * look-alike e-mail spellings: plain ASCII addresses keep their 1.0 keys,
 * so a 1.0 file still counts them; only the creations of addresses the new
 * rules fold differently stay under their old key, for the rest of their
 * hour.  A new magic number would forget every address's count instead.
 */
#define TG_RATE_DUMP_MAGIC	0x54475232

/* One confirmed event in the dump file. */
typedef struct TgRateDumpRecord
{
	uint64		hash;
	Oid			dbid;
	int32		pad;
	TimestampTz ts;
} TgRateDumpRecord;

/*
 * on_shmem_exit callback of the postmaster: write the confirmed events of
 * the window to the dump file.  Only after a clean shutdown, when the
 * control file says the cluster was shut down: after a crash (code != 0)
 * or an immediate shutdown, backends may have been killed while changing
 * an event list, and the memory is not to be trusted.  No locks: every
 * other process has exited.
 */
void
tg_rate_dump(int code, Datum arg)
{
	FILE	   *file;
	uint32		header[2] = {TG_RATE_DUMP_MAGIC, 0};
	TimestampTz now = GetCurrentTimestamp();
	bool		ok;

	(void) arg;
	if (code != 0 || tg_rate == NULL)
		return;
	if (!tg_statefile_shutdown_clean("its rate-limit counts"))
		return;

	file = tg_statefile_create(TG_RATE_DUMP_FILE);
	if (file == NULL)
		return;
	ok = (fwrite(header, sizeof(header), 1, file) == 1);
	for (int p = 0; p < TG_RATE_PARTITIONS && ok; p++)
	{
		TgRateSlot *slots = tg_part_slots(p);

		for (int i = 0; i < tg_rate->slots_per_part && ok; i++)
		{
			for (int32 ev = slots[i].head; ev >= 0 && ok; ev = tg_events[ev].next)
			{
				TgRateDumpRecord rec;

				if (TransactionIdIsValid(tg_events[ev].xid) ||
					tg_events[ev].ts <= now - TG_RATE_WINDOW)
					continue;
				memset(&rec, 0, sizeof(rec));
				rec.hash = slots[i].hash;
				rec.dbid = slots[i].dbid;
				rec.ts = tg_events[ev].ts;
				ok = (fwrite(&rec, sizeof(rec), 1, file) == 1);
			}
		}
	}
	(void) tg_statefile_commit(file, ok, TG_RATE_DUMP_FILE);
}

/*
 * At startup (postmaster, fresh shared memory): read back the events a
 * clean shutdown wrote, dropping expired ones, then remove the file so that
 * a crash later does not resurrect stale counts.
 */
void
tg_rate_load(void)
{
	FILE	   *file;
	uint32		header[2];
	TgRateDumpRecord rec;
	TimestampTz now = GetCurrentTimestamp();
	int64		loaded = 0;
	int64		dropped = 0;

	file = tg_statefile_open(TG_RATE_DUMP_FILE);
	if (file == NULL)
		return;
	if (fread(header, sizeof(header), 1, file) != 1 || header[0] != TG_RATE_DUMP_MAGIC)
	{
		ereport(LOG,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("ignoring file \"%s\": not a tenant_guard rate-limit file",
						TG_RATE_DUMP_FILE)));
		goto done;
	}
	while (fread(&rec, sizeof(rec), 1, file) == 1)
	{
		int			part = tg_rate_partition(rec.hash);
		int			free_slot;
		int			idx;
		int32		ev;

		if (rec.ts <= now - TG_RATE_WINDOW || rec.ts > now + TG_RATE_WINDOW)
			continue;
		ev = tg_event_alloc(part);
		if (ev < 0)
		{
			dropped++;
			continue;
		}
		tg_events[ev].xid = InvalidTransactionId;
		tg_events[ev].ts = rec.ts;
		idx = tg_slot_find(part, rec.hash, rec.dbid, &free_slot);
		tg_slot_add_event(part, idx, free_slot, rec.hash, rec.dbid, ev);
		loaded++;
	}
	if (loaded > 0 || dropped > 0)
		ereport(LOG,
				(errmsg("tenant_guard restored %lld recent tenant creations for rate limits",
						(long long) loaded),
				 dropped > 0 ? errdetail("%lld did not fit into tenant_guard.rate_limit_capacity.",
										 (long long) dropped) : 0));
done:
	FreeFile(file);
	unlink(TG_RATE_DUMP_FILE);
}
/* ---------------------------------------------------------------------
 * SQL functions
 * ---------------------------------------------------------------------
 */

/*
 * The rate-limit key of a text argument, made from the text as the trigger
 * sees it (UTF-8): see tg_rate_email_key().
 */
static size_t
tg_rate_email_key_arg(Datum value, char *buf, size_t bufsize, char **key)
{
	TgText		email;

	tg_text_field(value, false, &email);
	return tg_rate_email_key(email.data, email.len, buf, bufsize, key);
}

PG_FUNCTION_INFO_V1(normalize_email);

/*
 * normalize_email(email text) RETURNS text: the key an address counts
 * under, shown in the database encoding.
 */
Datum
normalize_email(PG_FUNCTION_ARGS)
{
	char		buf[256];
	char	   *key;
	size_t		klen = tg_rate_email_key_arg(PG_GETARG_DATUM(0), buf, sizeof(buf), &key);

	if (klen == 0)
		PG_RETURN_NULL();
	if (tg_text_convert)
		key = pg_any_to_server(key, (int) klen, PG_UTF8);
	else
		key = pnstrdup(key, klen);
	PG_RETURN_TEXT_P(cstring_to_text(key));
}

/* ERROR unless the shared structure exists. */
static void
tg_rate_require_shmem(void)
{
	if (tg_rate == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("tenant_guard rate limits are not enforced"),
				 errdetail("tenant_guard is not in shared_preload_libraries."),
				 errhint("Add tenant_guard to shared_preload_libraries and restart the server.")));
}

PG_FUNCTION_INFO_V1(rate_limit_usage);

/*
 * rate_limit_usage(kind text, value text, OUT created integer,
 *					OUT pending integer)
 * How many tenants the key of an IP address or an e-mail address counts
 * now: created (committed within the last hour) and pending (in
 * transactions still running, this one's included).
 */
Datum
rate_limit_usage(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	char	   *kind;
	char	   *value;
	TgRateReq	req;
	TgRateCount cnt = {0};
	TimestampTz now = 0;
	int			idx;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("kind and value must not be null")));
	tg_rate_require_shmem();
	kind = text_to_cstring(PG_GETARG_TEXT_PP(0));
	value = text_to_cstring(PG_GETARG_TEXT_PP(1));

	if (strcmp(kind, "ip") == 0)
	{
		unsigned char key[TG_IP_KEY_MAX];
		size_t		klen;
		Datum		inet = DirectFunctionCall1(inet_in, CStringGetDatum(value));

		/* canonical text of the address, then the same path as the GUC */
		value = DatumGetCString(DirectFunctionCall1(inet_out, inet));
		if (strchr(value, '/') != NULL)
			*strchr(value, '/') = '\0';
		klen = tg_rate_ip_key(value, key);
		if (klen == 0)
			elog(ERROR, "could not parse IP address \"%s\"", value);
		tg_rate_req(&req, TG_RATE_IP, key, klen, 0);
	}
	else if (strcmp(kind, "email") == 0)
	{
		char		buf[256];
		char	   *k;
		size_t		klen = tg_rate_email_key_arg(PG_GETARG_DATUM(1), buf, sizeof(buf), &k);

		if (klen == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("an empty e-mail address is not counted")));
		tg_rate_req(&req, TG_RATE_EMAIL, k, klen, 0);
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown rate-limit kind \"%s\"", kind),
				 errhint("Use 'ip' or 'email'.")));

	LWLockAcquire(tg_rate_lock(req.part), LW_EXCLUSIVE);
	idx = tg_slot_find(req.part, req.hash, req.dbid, NULL);
	if (idx >= 0 && !tg_slot_count(req.part, idx, &now, InvalidTransactionId, &cnt))
		tg_slot_delete(req.part, idx);
	LWLockRelease(tg_rate_lock(req.part));

	values[0] = Int32GetDatum(cnt.confirmed);
	values[1] = Int32GetDatum(cnt.mine + cnt.others);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

PG_FUNCTION_INFO_V1(rate_limit_status);

/*
 * rate_limit_status() RETURNS (enforced, capacity, in_use, keys, refused,
 * waited, not_counted): the state of the shared structure, cluster-wide.
 */
Datum
rate_limit_status(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[7];
	bool		nulls[7] = {false, false, false, false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	values[0] = BoolGetDatum(tg_rate != NULL);
	values[1] = Int32GetDatum(tg_rate_capacity);
	if (tg_rate == NULL)
	{
		for (int i = 2; i < 7; i++)
			nulls[i] = true;
	}
	else
	{
		int64		free_events = 0;
		int64		keys = 0;

		for (int p = 0; p < TG_RATE_PARTITIONS; p++)
		{
			LWLockAcquire(tg_rate_lock(p), LW_SHARED);
			free_events += tg_rate->part[p].nfree;
			keys += tg_rate->part[p].nkeys;
			LWLockRelease(tg_rate_lock(p));
		}
		values[1] = Int32GetDatum(tg_rate->per_part * TG_RATE_PARTITIONS);
		values[2] = Int32GetDatum((int32) ((int64) tg_rate->per_part * TG_RATE_PARTITIONS - free_events));
		values[3] = Int32GetDatum((int32) keys);
		values[4] = Int64GetDatum((int64) pg_atomic_read_u64(&tg_rate->refused));
		values[5] = Int64GetDatum((int64) pg_atomic_read_u64(&tg_rate->waits));
		values[6] = Int64GetDatum((int64) pg_atomic_read_u64(&tg_rate->not_counted));
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

PG_FUNCTION_INFO_V1(rate_limit_reset);

/*
 * rate_limit_reset() RETURNS bigint: forget the committed creations counted
 * in this database (pending ones stay); returns how many were forgotten.
 */
Datum
rate_limit_reset(PG_FUNCTION_ARGS)
{
	int64		forgotten = 0;
	TimestampTz now = GetCurrentTimestamp();

	(void) fcinfo;
	tg_rate_require_shmem();

	for (int p = 0; p < TG_RATE_PARTITIONS; p++)
	{
		LWLockAcquire(tg_rate_lock(p), LW_EXCLUSIVE);
		forgotten += tg_part_prune(p, MyDatabaseId, true, &now);
		LWLockRelease(tg_rate_lock(p));
	}
	PG_RETURN_INT64(forgotten);
}
