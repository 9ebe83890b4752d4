/*-------------------------------------------------------------------------
 *
 * log.c
 *	  Writing rows into tenant_guard.test_data_prevention_logs, for the
 *	  trigger (log mode) and for log_suspicious_request(), and handing
 *	  rejected rows (enforce mode) to the durable log's queue.
 *
 * The row is inserted with the privileges of the log table's owner (as
 * PostgreSQL's own RI triggers switch to the referenced table's owner), so
 * application roles need no INSERT right on the table and cannot forge
 * or read other rows.  The role recorded is the caller's current_user,
 * taken before the switch.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/htup_details.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inet.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "tenant_guard.h"
#include "log_queue.h"
#include "own_tables.h"
#include "safesql.h"

/* Longest reason accepted from log_suspicious_request(), in bytes. */
#define TG_MAX_REASON_LEN 8192

/*
 * Longest data (as JSON text) accepted from log_suspicious_request(), in
 * bytes: what a rejected row's data may take in the durable log too.
 */
#define TG_MAX_DATA_LEN TG_QUEUE_MAX_DATA

/* OID of a relation in schema tenant_guard, or InvalidOid if it is missing. */
Oid
tg_extension_relid_if_exists(const char *relname)
{
	Oid			nspid = get_namespace_oid(TG_SCHEMA, true);

	return OidIsValid(nspid) ? get_relname_relid(relname, nspid) : InvalidOid;
}

/* OID of a relation in schema tenant_guard; ERROR if it is missing. */
Oid
tg_extension_relid(const char *relname)
{
	Oid			relid = tg_extension_relid_if_exists(relname);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s.%s does not exist", TG_SCHEMA, relname),
				 errhint("Run CREATE EXTENSION tenant_guard in this database.")));
	return relid;
}

/* Owner of a relation; ERROR if it vanished. */
Oid
tg_relation_owner(Oid relid)
{
	HeapTuple	tuple;
	Oid			owner;

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

/* The current tenant_guard.client_addr as an inet Datum, or NULL. */
Datum
tg_client_addr_datum(bool *isnull)
{
	if (tg_client_addr == NULL || tg_client_addr[0] == '\0')
	{
		*isnull = true;
		return (Datum) 0;
	}
	*isnull = false;
	return DirectFunctionCall1(inet_in, CStringGetDatum(tg_client_addr));
}

/*
 * Insert one log row and return its id.  endpoint NULL means "take
 * tenant_guard.endpoint"; data may be NULL.
 */
int64
tg_log_write(const char *action, Jsonb *data, const char *reason,
			 Datum ip_address, bool ip_isnull, const char *endpoint)
{
	static const char *sql =
		"INSERT INTO " TG_SCHEMA "." TG_LOG_TABLE
		" (endpoint, data, reason, ip_address, role_name, application_name, action)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7)"
		" ON CONFLICT (id) DO NOTHING RETURNING id";
	Oid			argtypes[7] = {TEXTOID, JSONBOID, TEXTOID, INETOID, NAMEOID,
	TEXTOID, TEXTOID};
	Datum		values[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
	Oid			relid;
	Oid			save_userid;
	int			save_sec_context;
	int64		id;
	bool		isnull;
	NameData	role;
	const char *appname;

	relid = tg_extension_relid(TG_LOG_TABLE);

	if (endpoint == NULL)
		endpoint = tg_endpoint;
	appname = GetConfigOption("application_name", true, false);

	namestrcpy(&role, GetUserNameFromId(GetUserId(), false));

	values[0] = (endpoint && endpoint[0]) ? CStringGetTextDatum(endpoint) : (Datum) 0;
	nulls[0] = (endpoint && endpoint[0]) ? ' ' : 'n';
	values[1] = data ? JsonbPGetDatum(data) : (Datum) 0;
	nulls[1] = data ? ' ' : 'n';
	values[2] = CStringGetTextDatum(reason);
	values[3] = ip_address;
	nulls[3] = ip_isnull ? 'n' : ' ';
	values[4] = NameGetDatum(&role);
	values[5] = (appname && appname[0]) ? CStringGetTextDatum(appname) : (Datum) 0;
	nulls[5] = (appname && appname[0]) ? ' ' : 'n';
	values[6] = CStringGetTextDatum(action);

	/* Write as the log table's owner; a transaction abort restores us. */
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(tg_relation_owner(relid),
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);

	/* the trigger calls us: pin search_path here, not per row */
	tg_pin_search_path();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (tg_own_write_spi(sql, 7, argtypes, values, nulls, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "could not insert into %s.%s", TG_SCHEMA, TG_LOG_TABLE);
	/* the id was taken: the sequence was set back (see own_tables.c) */
	if (SPI_processed == 0)
	{
		tg_own_id_seq_repair(TG_LOG_TABLE);
		if (tg_own_write_spi(sql, 7, argtypes, values, nulls, 1) != SPI_OK_INSERT_RETURNING)
			elog(ERROR, "could not insert into %s.%s", TG_SCHEMA, TG_LOG_TABLE);
	}
	if (SPI_processed != 1)
		tg_own_id_taken(TG_LOG_TABLE);
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
									 SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	tg_unpin_search_path();

	SetUserIdAndSecContext(save_userid, save_sec_context);
	return id;
}

/*
 * A row log mode keeps although the checker or a rate limit found it
 * suspicious: one 'logged' row with the row itself and the caller's
 * client address.
 */
void
tg_log_kept(Relation rel, HeapTuple tuple, const char *reason)
{
	Datum		ip;
	bool		ip_isnull;

	ip = tg_client_addr_datum(&ip_isnull);
	tg_log_write(TG_ACTION_LOGGED, tg_row_to_jsonb(tuple, RelationGetDescr(rel)),
				 reason, ip, ip_isnull, NULL);
}

PG_FUNCTION_INFO_V1(log_suspicious_request);

/*
 * log_suspicious_request(endpoint text, data jsonb, reason text,
 *						  ip_address inet) RETURNS bigint
 *
 * For the application's own checks.  reason is required; a NULL endpoint
 * or ip_address falls back to tenant_guard.endpoint / client_addr.  Each
 * value is bounded (endpoint 1024, reason 8192, data 8192 bytes as JSON
 * text); a longer one is refused with SQLSTATE 22001, never cut.
 */
Datum
log_suspicious_request(PG_FUNCTION_ARGS)
{
	const char *endpoint = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	Jsonb	   *data = PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1);
	char	   *reason;
	Datum		ip;
	bool		ip_isnull;

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("reason must not be null"),
				 errhint("Say why the request is suspicious, e.g. 'test keyword in name'.")));
	reason = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (reason[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("reason must not be empty")));
	if (strlen(reason) > TG_MAX_REASON_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("reason is too long"),
				 errdetail("The reason has %zu bytes; at most %d are allowed.",
						   strlen(reason), TG_MAX_REASON_LEN)));
	if (endpoint != NULL && strlen(endpoint) > TG_MAX_ENDPOINT_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("endpoint is too long"),
				 errdetail("The endpoint has %zu bytes; at most %d are allowed.",
						   strlen(endpoint), TG_MAX_ENDPOINT_LEN)));

	/* refused, not cut: evidence is not shortened behind the caller's back */
	if (data != NULL)
	{
		char	   *text = JsonbToCString(NULL, &data->root, VARSIZE(data));
		size_t		len = strlen(text);

		if (len > TG_MAX_DATA_LEN)
			ereport(ERROR,
					(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
					 errmsg("data is too long"),
					 errdetail("The data has %zu bytes as JSON text; at most %d are allowed.",
							   len, TG_MAX_DATA_LEN),
					 errhint("Log the fields that show why the request is suspicious, or an excerpt.")));
		pfree(text);
	}

	if (PG_ARGISNULL(3))
		ip = tg_client_addr_datum(&ip_isnull);
	else
	{
		ip = PG_GETARG_DATUM(3);
		ip_isnull = false;
	}

	PG_RETURN_INT64(tg_log_write(TG_ACTION_REPORTED, data, reason, ip,
								 ip_isnull, endpoint));
}

/* Is this type (after domains) a variable-length string type? */
static bool
tg_is_string_type(Oid typid)
{
	char		category;
	bool		preferred;

	get_type_category_preferred(getBaseType(typid), &category, &preferred);
	return category == TYPCATEGORY_STRING;
}

/*
 * The row as JSON text of at most TG_QUEUE_MAX_DATA bytes, for the
 * durable log.  Text values longer than TG_QUEUE_MAX_FIELD bytes are cut
 * (at a character boundary) and the object gets "truncated": true; if it
 * is still too long, it is replaced by {"truncated": true, "bytes": N}.
 */
static char *
tg_row_json_bounded(Relation rel, HeapTuple tuple)
{
	TupleDesc	desc = RelationGetDescr(rel);
	Datum	   *values = NULL;
	bool	   *nulls = NULL;
	bool		clipped = false;
	char	   *json;
	size_t		len;

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		Datum		value;
		bool		isnull;
		text	   *t;

		if (att->attisdropped || att->attlen != -1)
			continue;
		value = heap_getattr(tuple, i + 1, desc, &isnull);
		if (isnull || toast_raw_datum_size(value) - VARHDRSZ <= TG_QUEUE_MAX_FIELD ||
			!tg_is_string_type(att->atttypid))
			continue;
		if (values == NULL)
		{
			values = palloc(sizeof(Datum) * desc->natts);
			nulls = palloc(sizeof(bool) * desc->natts);
			heap_deform_tuple(tuple, desc, values, nulls);
		}
		t = DatumGetTextPP(value);
		values[i] = PointerGetDatum(cstring_to_text_with_len(VARDATA_ANY(t),
															 pg_mbcliplen(VARDATA_ANY(t),
																		  VARSIZE_ANY_EXHDR(t),
																		  TG_QUEUE_MAX_FIELD)));
		clipped = true;
	}
	if (clipped)
		tuple = heap_form_tuple(desc, values, nulls);

	json = tg_row_json_text(tuple, desc);
	len = strlen(json);
	if (len > TG_QUEUE_MAX_DATA)
		return psprintf("{\"truncated\": true, \"bytes\": %zu}", len);
	if (clipped && len >= 2 && json[len - 1] == '}')
	{
		json[len - 1] = '\0';
		return psprintf("%s%s\"truncated\": true}", json, len > 2 ? ", " : "");
	}
	return json;
}

/*
 * Record a rejected row durably: the rejecting transaction is about to roll
 * back, so a row written with tg_log_write() would vanish with it.  The
 * entry goes to the shared-memory queue (log_queue.c), and a background
 * writer inserts it; if that is impossible, a LOG line says why.
 */
void
tg_log_rejection(Relation rel, HeapTuple tuple, const char *reason)
{
	tg_log_rejection_json(RelationGetRelationName(rel),
						  tg_row_json_bounded(rel, tuple), reason);
}

/*
 * Like tg_log_rejection(), for callers that have the data as JSON text
 * already (NULL: none).  Text longer than TG_QUEUE_MAX_DATA bytes is
 * replaced by {"truncated": true, "bytes": N}.
 */
void
tg_log_rejection_json(const char *relname, const char *data_json,
					  const char *reason)
{
	TgQueueEntry entry;
	TgDropReason why;
	const char *appname = GetConfigOption("application_name", true, false);

	if (data_json != NULL && strlen(data_json) > TG_QUEUE_MAX_DATA)
		data_json = psprintf("{\"truncated\": true, \"bytes\": %zu}", strlen(data_json));

	entry.dbid = MyDatabaseId;
	entry.attempt_time = GetCurrentTimestamp();
	entry.relname = relname ? relname : "";
	entry.role = GetUserNameFromId(GetUserId(), true);
	if (entry.role == NULL)		/* dropped meanwhile: never fail here */
		entry.role = psprintf("%u", GetUserId());
	entry.appname = appname ? appname : "";
	entry.endpoint = tg_endpoint ? tg_endpoint : "";
	entry.client_addr = tg_client_addr ? tg_client_addr : "";
	entry.reason = reason ? reason : "";
	entry.data = data_json ? data_json : "";

	if (tg_queue == NULL)
		tg_log_fallback(&entry, "tenant_guard is not in shared_preload_libraries");
	else if (!tg_durable_log)
		tg_log_fallback(&entry, "tenant_guard.durable_log is off");
	else if (RecoveryInProgress())
		tg_log_fallback(&entry, "the server is in recovery");
	else if (!tg_queue_push(&entry, &why))
		tg_log_fallback(&entry, tg_drop_reason_text(why));
}
