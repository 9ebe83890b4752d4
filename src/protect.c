/*-------------------------------------------------------------------------
 *
 * protect.c
 *	  Protected tenants: protect(), unprotect() and the trigger attach()
 *	  installs so that no DELETE, key UPDATE or TRUNCATE removes one.
 *
 * protected_tenants holds tenant ids as the text output of the row's own
 * key (equal keys may print differently: char(n), numeric, nondeterministic
 * collations), always produced under the same output settings
 * (bytea_output, TimeZone, DateStyle, ...: see safesql.c), so that no
 * session can make a protected key print differently.  protect() parses the id with the key column's input
 * function (an id that does not parse is an error), finds the row with the
 * key type's "=", stores its key text and locks the
 * row FOR KEY SHARE, so a protect() racing with a DELETE either waits for
 * it and fails, or makes it fail.  Both functions first take ROW EXCLUSIVE
 * on protected_tenants, which waits for a running purge (SHARE ROW
 * EXCLUSIVE) to finish: a purge sees one consistent set of protected
 * tenants.
 *
 * The trigger (tenant_guard.protect_trigger(key column)):
 *	  BEFORE DELETE row             refuse when the key is protected
 *	  BEFORE UPDATE OF key row      refuse when a protected key changes
 *	  BEFORE TRUNCATE statement     refuse while the table holds a
 *	                                protected tenant
 * In a logical replication worker (a subscriber applying what the
 * publisher committed) it lets every change through, even when it is
 * ENABLE ALWAYS or REPLICA: protection is decided where the DELETE was
 * run, and refusing it here would stop replication.
 * Lookups in protected_tenants run as the table's owner, as PostgreSQL's
 * RI triggers do, so no role needs rights on it; the TRUNCATE scan of the
 * guarded table runs as that table's owner.  They read protected_tenants
 * with a fresh snapshot (GetLatestSnapshot, as the RI triggers' cross-check
 * does), not the transaction's: a REPEATABLE READ transaction must not
 * delete a tenant whose protect() committed after its snapshot was taken
 * (protect() holds the row's KEY SHARE lock until it commits, so the
 * DELETE waits for it and then sees it).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "replication/logicalworker.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "tenant_guard.h"
#include "purge.h"
#include "safesql.h"

/*
 * Parse text as a value of typid, without raising an error: false when it
 * does not parse.  On success *value is the parsed Datum and *canonical its
 * text output, both allocated in the caller's memory context.  The attempt
 * runs in a subtransaction (PostgreSQL 15 has no soft input errors).
 */
bool
tg_parse_tenant_id(const char *text, Oid typid, Datum *value, char **canonical)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile bool ok = false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		Oid			infunc;
		Oid			ioparam;
		Oid			outfunc;
		bool		varlena;

		getTypeInputInfo(typid, &infunc, &ioparam);
		*value = OidInputFunctionCall(infunc, unconstify(char *, text), ioparam, -1);
		getTypeOutputInfo(typid, &outfunc, &varlena);
		*canonical = OidOutputFunctionCall(outfunc, *value);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		ok = true;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcontext);
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_END_TRY();
	return ok;
}

/* An id shortened for messages: at most about 64 bytes, then "...". */
char *
tg_abbrev_id(const char *id)
{
	int			len = strlen(id);
	int			clip;

	if (len <= 64)
		return pstrdup(id);
	clip = pg_mbcliplen(id, len, 60);
	return psprintf("%.*s...", clip, id);
}

/* Refuse unless the current role is a superuser or a tenant_guard_admin. */
static void
tg_require_admin(const char *what)
{
	if (!tg_is_admin(GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s", what),
				 errdetail("Only superusers and members of role \"%s\" may.",
						   TG_ADMIN_ROLE)));
}

/*
 * Is this canonical id protected?  Returns the note (or "") when it is,
 * NULL when not.  Runs as the owner of protected_tenants; SPI must be
 * connected.
 */
static char *
tg_lookup_protected(const char *id)
{
	static SPIPlanPtr plan = NULL;
	Oid			save_userid;
	int			save_sec;
	Datum		arg = CStringGetTextDatum(id);
	char	   *note = NULL;
	int			rc;

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(tg_relation_owner(tg_extension_relid(TG_PROTECTED_TABLE)),
						   save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	if (plan == NULL)
	{
		Oid			argtypes[1] = {TEXTOID};
		SPIPlanPtr	p;

		p = SPI_prepare("SELECT COALESCE(note, '') FROM "
						TG_SCHEMA "." TG_PROTECTED_TABLE " WHERE tenant_id OPERATOR(pg_catalog.=) $1",
						1, argtypes);
		if (p == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		plan = p;
	}
	/* a fresh snapshot, as the RI triggers' cross-check: see the header comment */
	rc = SPI_execute_snapshot(plan, &arg, NULL, GetLatestSnapshot(), InvalidSnapshot,
							  false, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_snapshot failed: %s", SPI_result_code_string(rc));
	if (SPI_processed > 0)
		note = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	SetUserIdAndSecContext(save_userid, save_sec);
	return note;
}

/* The key of a row as canonical text, or NULL for a NULL key. */
static char *
tg_key_text(TupleTableSlot *slot, AttrNumber attnum, Oid typid)
{
	bool		isnull;
	Datum		value = slot_getattr(slot, attnum, &isnull);
	Oid			outfunc;
	bool		varlena;

	if (isnull)
		return NULL;
	getTypeOutputInfo(typid, &outfunc, &varlena);
	return OidOutputFunctionCall(outfunc, value);
}

/* Refuse TRUNCATE of a table that holds a protected tenant. */
static void
tg_protect_truncate(Relation rel, const char *keycol)
{
	Oid			save_userid;
	int			save_sec;
	int			rc;
	Datum		ids;
	bool		isnull;
	char	   *found = NULL;
	StringInfoData sql;

	/* the protected ids, read as the owner of protected_tenants */
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(tg_relation_owner(tg_extension_relid(TG_PROTECTED_TABLE)),
						   save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	{
		SPIPlanPtr	plan = SPI_prepare("SELECT pg_catalog.array_agg(tenant_id) FROM "
									   TG_SCHEMA "." TG_PROTECTED_TABLE, 0, NULL);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		rc = SPI_execute_snapshot(plan, NULL, NULL, GetLatestSnapshot(), InvalidSnapshot,
								  false, false, 0);
	}
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read " TG_SCHEMA "." TG_PROTECTED_TABLE);
	ids = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	SetUserIdAndSecContext(save_userid, save_sec);
	if (isnull)
		return;					/* nothing is protected */
	ids = PointerGetDatum(PG_DETOAST_DATUM_COPY(ids));

	/* does this table hold one?  Asked as the table's owner */
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT pg_catalog.format('%%s', t.%s) FROM %s t"
					 " WHERE pg_catalog.format('%%s', t.%s) OPERATOR(pg_catalog.=) ANY ($1) LIMIT 1",
					 quote_identifier(keycol),
					 quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
												RelationGetRelationName(rel)),
					 quote_identifier(keycol));
	SetUserIdAndSecContext(rel->rd_rel->relowner,
						   save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	{
		Oid			argtypes[1] = {TEXTARRAYOID};

		rc = SPI_execute_with_args(sql.data, 1, argtypes, &ids, NULL, false, 1);
	}
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	if (SPI_processed > 0)
		found = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	SetUserIdAndSecContext(save_userid, save_sec);

	if (found != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_TG_PROTECTED),
				 errmsg("cannot truncate table \"%s\": it holds protected tenant \"%s\"",
						RelationGetRelationName(rel), found),
				 errdetail("A table guarded by tenant_guard cannot be truncated while it holds a protected tenant."),
				 errhint("Lift the protection with tenant_guard.unprotect() first, or delete the other rows.")));
}

/* What protect_trigger keeps per statement (in fn_extra). */
typedef struct TgProtectCache
{
	Oid			typid;			/* the key column's type */
	bool		pin;			/* its text output depends on settings */
} TgProtectCache;

PG_FUNCTION_INFO_V1(protect_trigger);

/* BEFORE DELETE / UPDATE OF key (row) and BEFORE TRUNCATE (statement). */
Datum
protect_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Trigger    *trigger;
	Relation	rel;
	const char *keycol;
	int			attnum;
	Oid			typid;
	TgProtectCache *cache;
	int			nest = 0;
	char	   *oldkey;
	char	   *note;
	HeapTuple	rettuple;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "protect_trigger: not called by trigger manager");
	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event))
		elog(ERROR, "protect_trigger: must be fired before event");
	trigger = trigdata->tg_trigger;
	rel = trigdata->tg_relation;
	if (trigger->tgnargs != 1)
		elog(ERROR, "protect_trigger \"%s\" on \"%s\" needs 1 argument, has %d",
			 trigger->tgname, RelationGetRelationName(rel), trigger->tgnargs);
	keycol = trigger->tgargs[0];

	/* replicated changes were decided by the publisher */
	if (IsLogicalWorker())
		return TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event) ? PointerGetDatum(NULL) :
			PointerGetDatum(TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
							trigdata->tg_newtuple : trigdata->tg_trigtuple);

	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
	{
		tg_pin_search_path();
		nest = tg_pin_key_output();
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		tg_protect_truncate(rel, keycol);
		SPI_finish();
		tg_unpin_key_output(nest);
		tg_unpin_search_path();
		return PointerGetDatum(NULL);
	}

	if (!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		elog(ERROR, "protect_trigger: must be fired for row, or for TRUNCATE");
	if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		rettuple = trigdata->tg_trigtuple;
	else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		rettuple = trigdata->tg_newtuple;
	else
		elog(ERROR, "protect_trigger: must be fired for DELETE, UPDATE or TRUNCATE");

	attnum = SPI_fnumber(RelationGetDescr(rel), keycol);
	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("tenant key column \"%s\" protected by tenant_guard does not exist in table \"%s\"",
						keycol, RelationGetRelationName(rel)),
				 errhint("Run tenant_guard.attach() again with the current column names.")));
	typid = TupleDescAttr(RelationGetDescr(rel), attnum - 1)->atttypid;

	/* decided once per statement: does the key's text depend on settings? */
	cache = fcinfo->flinfo->fn_extra;
	if (cache == NULL || cache->typid != typid)
	{
		if (cache == NULL)
			cache = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(TgProtectCache));
		cache->typid = typid;
		cache->pin = tg_key_output_needs_pin(typid);
		fcinfo->flinfo->fn_extra = cache;
	}
	if (cache->pin)
		nest = tg_pin_key_output();

	oldkey = tg_key_text(trigdata->tg_trigslot, attnum, typid);
	/* an UPDATE that keeps the key is no concern of ours */
	if (oldkey != NULL && TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		char	   *newkey = tg_key_text(trigdata->tg_newslot, attnum, typid);

		if (newkey != NULL && strcmp(oldkey, newkey) == 0)
			oldkey = NULL;
	}
	if (cache->pin)
		tg_unpin_key_output(nest);
	if (oldkey == NULL)
		return PointerGetDatum(rettuple);

	/* no SET search_path in its definition: that would cost every row */
	tg_pin_search_path();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	note = tg_lookup_protected(oldkey);
	if (note != NULL)
	{
		/* SPI_palloc: in the caller's memory, which SPI_finish() keeps */
		char	   *copy = SPI_palloc(strlen(note) + 1);

		strcpy(copy, note);
		note = copy;
	}
	SPI_finish();
	tg_unpin_search_path();

	if (note == NULL)
		return PointerGetDatum(rettuple);

	if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_TG_PROTECTED),
				 errmsg("tenant \"%s\" is protected", oldkey),
				 note[0] ? errdetail("Protected tenants cannot be deleted from \"%s\". Note: %s",
									 RelationGetRelationName(rel), note)
				 : errdetail("Protected tenants cannot be deleted from \"%s\".",
							 RelationGetRelationName(rel)),
				 errhint("Lift the protection with tenant_guard.unprotect('%s') if the tenant really must go.",
						 oldkey)));
	ereport(ERROR,
			(errcode(ERRCODE_TG_PROTECTED),
			 errmsg("cannot change the key of protected tenant \"%s\"", oldkey),
			 note[0] ? errdetail("The key \"%s\" of a protected tenant in \"%s\" cannot change. Note: %s",
								 keycol, RelationGetRelationName(rel), note)
			 : errdetail("The key \"%s\" of a protected tenant in \"%s\" cannot change.",
						 keycol, RelationGetRelationName(rel)),
			 errhint("Lift the protection with tenant_guard.unprotect('%s') first.", oldkey)));
	pg_unreachable();
}

/*
 * The guarded tables that have a key, oldest attachment first (SPI
 * connected): what protect()/unprotect() look through and what a purge
 * starts from.
 */
List *
tg_guarded_with_keys(void)
{
	List	   *result = NIL;
	int			rc;

	rc = SPI_execute("SELECT g.tbl::pg_catalog.oid, g.id_column::pg_catalog.text,"
					 " a.atttypid, c.relowner, c.relkind, g.name_column::pg_catalog.text,"
					 " g.subdomain_column::pg_catalog.text, g.email_column::pg_catalog.text"
					 " FROM " TG_SCHEMA "." TG_GUARDED_TABLE " g"
					 " JOIN pg_catalog.pg_class c"
					 "  ON c.oid OPERATOR(pg_catalog.=) g.tbl::pg_catalog.oid"
					 " JOIN pg_catalog.pg_attribute a"
					 "  ON a.attrelid OPERATOR(pg_catalog.=) g.tbl::pg_catalog.oid"
					 "  AND a.attname OPERATOR(pg_catalog.=) g.id_column AND NOT a.attisdropped"
					 " WHERE g.id_column IS NOT NULL ORDER BY g.attached_at, 1",
					 false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		TgGuarded  *g = palloc(sizeof(TgGuarded));
		bool		isnull;

		g->relid = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
		g->keycol = SPI_getvalue(tup, desc, 2);
		g->keytype = DatumGetObjectId(SPI_getbinval(tup, desc, 3, &isnull));
		g->owner = DatumGetObjectId(SPI_getbinval(tup, desc, 4, &isnull));
		g->relkind = DatumGetChar(SPI_getbinval(tup, desc, 5, &isnull));
		for (int f = 0; f < TG_NUM_FIELDS; f++)
			g->fieldcol[f] = SPI_getvalue(tup, desc, 6 + f);
		g->relname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(g->relid)),
												get_rel_name(g->relid));
		result = lappend(result, g);
	}
	return result;
}

/*
 * The tenants of g whose key equals key, as their own key text (what the
 * trigger and the purge compare; it may differ from key's text: char(n)
 * pads, numeric keeps its scale, a case-insensitive collation keeps the
 * row's case).  With lock, their rows are locked FOR KEY SHARE so that
 * they cannot be deleted before we commit.  Runs as the table's owner;
 * the list is empty when no row matches.
 */
static List *
tg_tenant_keys(TgGuarded *g, Datum key, bool lock)
{
	Oid			save_userid;
	int			save_sec;
	int			rc;
	Oid			argtypes[1];
	StringInfoData sql;
	List	   *keys = NIL;
	/* the key type's own "=", pinned to its input types (as the purge) */
	Oid			eqop = tg_key_eq_operator(g->keytype, g->relname);

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT pg_catalog.format('%%s', t.%s) FROM %s t WHERE %s%s",
					 quote_identifier(g->keycol), g->relname,
					 tg_eq_sql(eqop, psprintf("t.%s", quote_identifier(g->keycol)), "$1"),
					 lock ? " FOR KEY SHARE" : "");
	argtypes[0] = g->keytype;
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(g->owner, save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	rc = SPI_execute_with_args(sql.data, 1, argtypes, &key, NULL, false, 0);
	SetUserIdAndSecContext(save_userid, save_sec);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *k = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

		if (k != NULL)
			keys = list_append_unique(keys, makeString(k));
	}
	return keys;
}

/* Write or delete a protected_tenants row as its owner; returns rows hit. */
static uint64
tg_write_protected(const char *sql, int nargs, Datum *args, const char *nulls)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, NAMEOID};
	uint64		n;

	n = tg_exec_as_table_owner(TG_PROTECTED_TABLE, sql, nargs, argtypes, args, nulls);
	if (n > 0 && SPI_tuptable != NULL)
	{
		bool		isnull;

		/* INSERT ... RETURNING tells whether the row is new */
		n = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) ? 1 : 0;
	}
	return n;
}

/* The tenant id argument: not NULL, not blank. */
static char *
tg_id_argument(FunctionCallInfo fcinfo)
{
	char	   *id;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tenant id must not be null")));
	id = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (id[strspn(id, " \t\r\n")] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tenant id must not be empty")));
	return id;
}

PG_FUNCTION_INFO_V1(protect_tenant);

/* protect(tenant_id text, note text DEFAULT NULL) RETURNS boolean */
Datum
protect_tenant(PG_FUNCTION_ARGS)
{
	char	   *id;
	List	   *guarded;
	ListCell   *lc;
	List	   *keys = NIL;
	bool		parsed = false;
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};
	bool		inserted = false;

	tg_require_admin("protect tenants");
	id = tg_id_argument(fcinfo);

	/* waits for a running purge; see the header comment */
	LockRelationOid(tg_extension_relid(TG_PROTECTED_TABLE), RowExclusiveLock);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	guarded = tg_guarded_with_keys();
	if (guarded == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no table with a tenant key is guarded by tenant_guard"),
				 errhint("Run tenant_guard.attach() on the tenants table first.")));

	foreach(lc, guarded)
	{
		TgGuarded  *g = lfirst(lc);
		Datum		key;
		char	   *canon;

		if (!tg_parse_tenant_id(id, g->keytype, &key, &canon))
			continue;
		parsed = true;
		keys = tg_tenant_keys(g, key, true);
		if (keys != NIL)
			break;
	}
	if (!parsed)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid tenant id \"%s\"", tg_abbrev_id(id)),
				 errdetail("It is not a valid %s, the type of the key of %s.",
						   format_type_be(((TgGuarded *) linitial(guarded))->keytype),
						   ((TgGuarded *) linitial(guarded))->relname)));
	if (keys == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("tenant \"%s\" does not exist", tg_abbrev_id(id)),
				 errdetail("No table guarded by tenant_guard holds a tenant with this id.")));

	/* the rows' own key text: what the trigger and the purge compare */
	if (PG_ARGISNULL(1))
		nulls[1] = 'n';
	else
		args[1] = PG_GETARG_DATUM(1);
	args[2] = DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(GetUserId(), false)));
	foreach(lc, keys)
	{
		args[0] = CStringGetTextDatum(strVal(lfirst(lc)));
		if (tg_write_protected("INSERT INTO " TG_SCHEMA "." TG_PROTECTED_TABLE " AS p"
							   " (tenant_id, note, protected_by) VALUES ($1, $2, $3)"
							   " ON CONFLICT (tenant_id) DO UPDATE"
							   " SET note = COALESCE(excluded.note, p.note)"
							   " RETURNING p.xmax::pg_catalog.text OPERATOR(pg_catalog.=) '0'",
							   3, args, nulls) > 0)
			inserted = true;
	}
	SPI_finish();
	PG_RETURN_BOOL(inserted);
}

PG_FUNCTION_INFO_V1(unprotect_tenant);

/* unprotect(tenant_id text) RETURNS boolean */
Datum
unprotect_tenant(PG_FUNCTION_ARGS)
{
	char	   *id;
	List	   *guarded;
	List	   *forms;
	ListCell   *lc;
	uint64		n = 0;
	Datum		args[1];

	tg_require_admin("unprotect tenants");
	id = tg_id_argument(fcinfo);

	LockRelationOid(tg_extension_relid(TG_PROTECTED_TABLE), RowExclusiveLock);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/*
	 * The id as given, in each key type's canonical form, and as the key
	 * text of each existing row it names (what protect() stored).
	 */
	forms = list_make1(makeString(id));
	guarded = tg_guarded_with_keys();
	foreach(lc, guarded)
	{
		TgGuarded  *g = lfirst(lc);
		Datum		key;
		char	   *canon;

		if (!tg_parse_tenant_id(id, g->keytype, &key, &canon))
			continue;
		forms = list_append_unique(forms, makeString(canon));
		forms = list_concat_unique(forms, tg_tenant_keys(g, key, false));
	}
	foreach(lc, forms)
	{
		args[0] = CStringGetTextDatum(strVal(lfirst(lc)));
		n += tg_write_protected("DELETE FROM " TG_SCHEMA "." TG_PROTECTED_TABLE
								" WHERE tenant_id OPERATOR(pg_catalog.=) $1", 1, args, NULL);
	}
	SPI_finish();

	if (n == 0)
		ereport(NOTICE,
				(errcode(ERRCODE_SUCCESSFUL_COMPLETION),
				 errmsg("tenant \"%s\" is not protected", tg_abbrev_id(id))));
	PG_RETURN_BOOL(n > 0);
}

/*
 * Does this statement create or attach a partition?  CREATE TABLE ...
 * PARTITION OF (also as an element of CREATE SCHEMA), or ALTER TABLE ...
 * ATTACH PARTITION (of a table, not of an index).
 */
static bool
tg_creates_partition(Node *parsetree)
{
	if (IsA(parsetree, CreateStmt))
		return ((CreateStmt *) parsetree)->partbound != NULL;
	if (IsA(parsetree, CreateSchemaStmt))
	{
		ListCell   *lc;

		foreach(lc, ((CreateSchemaStmt *) parsetree)->schemaElts)
		{
			if (tg_creates_partition(lfirst(lc)))
				return true;
		}
	}
	if (IsA(parsetree, AlterTableStmt) &&
		((AlterTableStmt *) parsetree)->objtype == OBJECT_TABLE)
	{
		ListCell   *lc;

		foreach(lc, ((AlterTableStmt *) parsetree)->cmds)
		{
			if (((AlterTableCmd *) lfirst(lc))->subtype == AT_AttachPartition)
				return true;
		}
	}
	return false;
}

PG_FUNCTION_INFO_V1(protect_new_partitions);

/*
 * Event trigger (ddl_command_end of CREATE TABLE, ALTER TABLE and CREATE
 * SCHEMA): after a statement that creates or attaches a partition, give
 * the partitions of guarded tables in the trees of the tables it created
 * or altered the TRUNCATE trigger they lack
 * (tenant_guard.protect_partitions()).  Other statements are left alone:
 * a restore runs its ALTER TABLEs before it creates the dump's own
 * triggers, which must not find theirs taken; and other tables' partitions
 * (whose triggers would need locks on them) are no concern of this one.
 */
Datum
protect_new_partitions(PG_FUNCTION_ARGS)
{
	int			rc;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		elog(ERROR, "protect_new_partitions: not fired by event trigger manager");
	if (!tg_creates_partition(((EventTriggerData *) fcinfo->context)->parsetree))
		PG_RETURN_VOID();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute("SELECT " TG_SCHEMA ".protect_partitions(pg_catalog.array_agg(c.objid))"
					 " FROM pg_catalog.pg_event_trigger_ddl_commands() c"
					 " WHERE c.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
					 " AND c.objsubid OPERATOR(pg_catalog.=) 0",
					 false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	SPI_finish();
	PG_RETURN_VOID();
}
