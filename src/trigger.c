/*-------------------------------------------------------------------------
 *
 * trigger.c
 *	  The row trigger tenant_guard.attach() installs on a tenants table:
 *	  BEFORE INSERT OR UPDATE FOR EACH ROW, arguments (name column,
 *	  subdomain column, email column), '' for a column not guarded.
 *
 * Per row it reads the guarded columns straight from the trigger slot,
 * runs the checker and, depending on tenant_guard.mode, lets the row pass,
 * logs it, or rejects it with SQLSTATE TG001.  On UPDATE only the guarded
 * columns whose value changed are checked.  An INSERTed row that is kept
 * then goes through the creation rate limits (ratelimit.c); in an
 * INSERT ... ON CONFLICT the AFTER INSERT trigger guard_created_trigger
 * (also installed by attach()) counts the rows really inserted, and in log
 * mode logs those the checker finds suspicious.  Column
 * numbers are resolved once per statement and partition (fn_extra), since
 * a partition may number its columns differently from its parent.
 *
 * In a logical replication apply or table-sync worker (a subscriber) the
 * trigger lets every row through unchecked and uncounted, even when it is
 * ENABLE ALWAYS or REPLICA: the publisher's guard decided when the row was
 * written there, and refusing it here would stop replication.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "parser/parse_coerce.h"
#include "replication/logicalworker.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/typcache.h"

#include "creations.h"
#include "ratelimit.h"
#include "tenant_guard.h"

/* Resolved per statement and relation, kept in flinfo->fn_extra. */
typedef struct TgTriggerCache
{
	Oid			relid;			/* relation the numbers belong to */
	Oid			tgoid;			/* trigger they were resolved for */
	AttrNumber	attnum[TG_NUM_FIELDS];	/* InvalidAttrNumber: not guarded */
	AttrNumber	maxattnum;		/* the highest of them; 0 if none */
	bool		replicated;		/* a subscriber applying rows: pass them */
	int			creation_slot;	/* creations.c counter; -1: none */
} TgTriggerCache;

/* Is this type (after domains) a varlena text type we can read as text? */
static bool
tg_type_is_textlike(Oid typid)
{
	Oid			base = getBaseType(typid);
	char		category;
	bool		preferred;

	get_type_category_preferred(base, &category, &preferred);
	return category == TYPCATEGORY_STRING && get_typlen(base) == -1;
}

/*
 * Resolve the guarded column names of this trigger in this relation (once
 * per statement and partition: kept out of line, away from the per-row
 * path).
 */
static pg_noinline TgTriggerCache *
tg_trigger_cache_fill(FunctionCallInfo fcinfo, TriggerData *trigdata)
{
	TgTriggerCache *cache = (TgTriggerCache *) fcinfo->flinfo->fn_extra;
	Relation	rel = trigdata->tg_relation;
	Trigger    *trigger = trigdata->tg_trigger;
	TupleDesc	tupdesc = RelationGetDescr(rel);

	if (trigger->tgnargs != TG_NUM_FIELDS)
		elog(ERROR, "tenant_guard trigger \"%s\" on \"%s\" needs %d arguments, has %d",
			 trigger->tgname, RelationGetRelationName(rel), TG_NUM_FIELDS,
			 trigger->tgnargs);

	if (cache == NULL)
		cache = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(TgTriggerCache));
	cache->relid = InvalidOid;
	cache->maxattnum = 0;

	for (int i = 0; i < TG_NUM_FIELDS; i++)
	{
		const char *colname = trigger->tgargs[i];
		int			attnum;

		cache->attnum[i] = InvalidAttrNumber;
		if (colname[0] == '\0')
			continue;

		attnum = SPI_fnumber(tupdesc, colname);
		if (attnum <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" guarded by tenant_guard does not exist in table \"%s\"",
							colname, RelationGetRelationName(rel)),
					 errhint("Run tenant_guard.attach() again with the current column names.")));
		/* a BEFORE trigger sees a generated column still empty */
		if (TupleDescAttr(tupdesc, attnum - 1)->attgenerated != '\0')
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("column \"%s\" guarded by tenant_guard in table \"%s\" is a generated column",
							colname, RelationGetRelationName(rel)),
					 errhint("Run tenant_guard.attach() again with the columns it is computed from.")));
		if (!tg_type_is_textlike(TupleDescAttr(tupdesc, attnum - 1)->atttypid))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" guarded by tenant_guard in table \"%s\" is not of a text type",
							colname, RelationGetRelationName(rel))));
		cache->attnum[i] = (AttrNumber) attnum;
		cache->maxattnum = Max(cache->maxattnum, (AttrNumber) attnum);
	}
	cache->relid = RelationGetRelid(rel);
	cache->tgoid = trigger->tgoid;
	cache->replicated = IsLogicalWorker();
	cache->creation_slot = tg_creation_slot(cache->relid);
	fcinfo->flinfo->fn_extra = cache;
	return cache;
}

/* The guarded column numbers of this trigger in this relation. */
static inline TgTriggerCache *
tg_trigger_cache(FunctionCallInfo fcinfo, TriggerData *trigdata)
{
	TgTriggerCache *cache = (TgTriggerCache *) fcinfo->flinfo->fn_extra;

	if (likely(cache != NULL &&
			   cache->relid == RelationGetRelid(trigdata->tg_relation) &&
			   cache->tgoid == trigdata->tg_trigger->tgoid))
		return cache;
	return tg_trigger_cache_fill(fcinfo, trigdata);
}

/*
 * Which guarded columns differ between the old and the new row?  Sets
 * changed[i] and returns whether any did.
 */
static pg_noinline bool
tg_changed_columns(TgTriggerCache *cache, TupleTableSlot *oldslot,
				   TupleTableSlot *newslot, bool changed[TG_NUM_FIELDS])
{
	bool		any = false;

	for (int i = 0; i < TG_NUM_FIELDS; i++)
	{
		AttrNumber	attnum = cache->attnum[i];
		bool		oldnull;
		bool		newnull;
		Datum		oldval;
		Datum		newval;
		TgText		o;
		TgText		n;

		changed[i] = false;
		if (attnum == InvalidAttrNumber)
			continue;
		oldval = slot_getattr(oldslot, attnum, &oldnull);
		newval = slot_getattr(newslot, attnum, &newnull);
		if (oldnull && newnull)
			continue;
		if (oldnull != newnull)
			changed[i] = true;
		else
		{
			tg_text_field(oldval, false, &o);
			tg_text_field(newval, false, &n);
			changed[i] = (o.len != n.len || memcmp(o.data, n.data, o.len) != 0);
		}
		any |= changed[i];
	}
	return any;
}

/*
 * Can a value of this type hold json (not jsonb): json itself, a domain over
 * it, an array or a composite with json inside, a type row_to_json writes
 * through its cast to json?  Deeper than a few levels it is taken to (a
 * text form is always safe).
 */
static bool
tg_type_holds_json(Oid typid, int depth)
{
	Oid			base;
	Oid			elem;
	bool		holds = false;

	/* the usual column types of a tenants table, without a catalog lookup */
	switch (typid)
	{
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case NAMEOID:
		case BOOLOID:
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case NUMERICOID:
		case UUIDOID:
		case DATEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
		case INETOID:
		case JSONBOID:
		case BYTEAOID:
			return false;
		default:
			break;
	}
	base = getBaseType(typid);
	if (base == JSONOID || depth > 4)
		return true;
	elem = get_element_type(base);
	if (OidIsValid(elem))
		return tg_type_holds_json(elem, depth + 1);
	/* row_to_json writes what a user-defined type's cast to json returns */
	if (base >= FirstNormalObjectId)
	{
		Oid			castfunc;

		if (find_coercion_pathway(JSONOID, base, COERCION_EXPLICIT, &castfunc) == COERCION_PATH_FUNC &&
			OidIsValid(castfunc))
			return true;
	}
	if (type_is_rowtype(base))
	{
		TupleDesc	desc = lookup_rowtype_tupdesc(base, -1);

		for (int i = 0; i < desc->natts && !holds; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			holds = !att->attisdropped && tg_type_holds_json(att->atttypid, depth + 1);
		}
		ReleaseTupleDesc(desc);
	}
	return holds;
}

/*
 * The row as JSON text (row_to_json) that jsonb accepts.  A json value may
 * hold what jsonb refuses (\u0000, a number beyond numeric's range), and
 * the log stores jsonb: a column that can hold json (json, json[], a
 * composite with json inside) is written as a JSON string of its text
 * form.
 */
char *
tg_row_json_text(HeapTuple tuple, TupleDesc tupdesc)
{
	TupleDesc	rowdesc = tupdesc;
	Datum	   *values = NULL;
	bool	   *nulls = NULL;

	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		Oid			typoutput;
		bool		varlena;

		if (att->attisdropped || !tg_type_holds_json(att->atttypid, 0))
			continue;
		if (rowdesc == tupdesc)
		{
			rowdesc = CreateTupleDescCopy(tupdesc);
			rowdesc->tdtypeid = RECORDOID;
			rowdesc->tdtypmod = -1;
			values = palloc(sizeof(Datum) * tupdesc->natts);
			nulls = palloc(sizeof(bool) * tupdesc->natts);
			heap_deform_tuple(tuple, tupdesc, values, nulls);
		}
		TupleDescAttr(rowdesc, i)->atttypid = TEXTOID;
		TupleDescAttr(rowdesc, i)->atttypmod = -1;
		TupleDescAttr(rowdesc, i)->attlen = -1;
		TupleDescAttr(rowdesc, i)->attbyval = false;
		TupleDescAttr(rowdesc, i)->attalign = TYPALIGN_INT;
		TupleDescAttr(rowdesc, i)->attstorage = TYPSTORAGE_EXTENDED;
		if (!nulls[i])
		{
			getTypeOutputInfo(att->atttypid, &typoutput, &varlena);
			values[i] = CStringGetTextDatum(OidOutputFunctionCall(typoutput, values[i]));
		}
	}
	if (rowdesc != tupdesc)
	{
		rowdesc = BlessTupleDesc(rowdesc);
		tuple = heap_form_tuple(rowdesc, values, nulls);
	}
	return TextDatumGetCString(DirectFunctionCall1(row_to_json,
												   heap_copy_tuple_as_datum(tuple, rowdesc)));
}

/* The row as jsonb, for the log. */
Jsonb *
tg_row_to_jsonb(HeapTuple tuple, TupleDesc tupdesc)
{
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
											  CStringGetDatum(tg_row_json_text(tuple, tupdesc))));
}

/*
 * A row the guard keeps: an INSERTed one is a tenant created -- counted
 * here, or for INSERT ... ON CONFLICT by the AFTER INSERT trigger once it
 * was really inserted -- and goes through the rate limits.
 */
static inline Datum
tg_row_kept(TriggerData *trigdata, TgTriggerCache *cache, HeapTuple row,
			const TgText *email)
{
	if (!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		return PointerGetDatum(row);
	if (unlikely(tg_rate_on_conflict) && tg_ratelimit_defer(trigdata->tg_relation))
		return PointerGetDatum(row);
	tg_creation_add(cache->creation_slot);
	if (tg_ratelimit_on())
		tg_ratelimit_check(trigdata->tg_relation, row, email);
	return PointerGetDatum(row);
}

/*
 * A row the checker found suspicious: logged and kept (log mode), or
 * recorded where the rollback cannot undo it and refused (enforce).  In
 * log mode a row of INSERT ... ON CONFLICT is logged by the AFTER trigger
 * once it is really inserted: a row DO NOTHING skips, or one that updates
 * the row it conflicts with, wrote nothing suspicious into the table.
 */
static pg_noinline pg_attribute_cold Datum
tg_trigger_suspicious(TriggerData *trigdata, TgTriggerCache *cache,
					  HeapTuple rettuple, const TgText *email,
					  const TgVerdict *verdict)
{
	if (tg_mode == TG_MODE_LOG)
	{
		if (unlikely(tg_rate_on_conflict) && TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) &&
			tg_ratelimit_defer(trigdata->tg_relation))
			return PointerGetDatum(rettuple);
		tg_log_kept(trigdata->tg_relation, rettuple, verdict->reason);
		return tg_row_kept(trigdata, cache, rettuple, email);
	}

	tg_log_rejection(trigdata->tg_relation, rettuple, verdict->reason);

	ereport(ERROR,
			(errcode(ERRCODE_TG_SUSPICIOUS_DATA),
			 errmsg(TG_SUSPICIOUS_MESSAGE),
			 errdetail("%s", verdict->reason)));

	pg_unreachable();
}

PG_FUNCTION_INFO_V1(guard_trigger);

/* The BEFORE INSERT OR UPDATE row trigger. */
Datum
guard_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TgTriggerCache *cache;
	TupleTableSlot *slot;
	HeapTuple	rettuple;
	TgText		fields[TG_NUM_FIELDS];
	bool		check_field[TG_NUM_FIELDS];
	TgVerdict	verdict;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "guard_trigger: not called by trigger manager");
	if (!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		elog(ERROR, "guard_trigger: must be fired for row");
	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event))
		elog(ERROR, "guard_trigger: must be fired before event");

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
	{
		rettuple = trigdata->tg_trigtuple;
		slot = trigdata->tg_trigslot;
		tg_rate_row_deferred = false;
	}
	else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		rettuple = trigdata->tg_newtuple;
		slot = trigdata->tg_newslot;
	}
	else
		elog(ERROR, "guard_trigger: must be fired for INSERT or UPDATE");

	if (tg_mode == TG_MODE_OFF)
		return PointerGetDatum(rettuple);

	cache = tg_trigger_cache(fcinfo, trigdata);

	/* replicated rows were checked (and counted) by the publisher */
	if (unlikely(cache->replicated))
		return PointerGetDatum(rettuple);

	/*
	 * On UPDATE only the guarded columns that change are checked: a tenant
	 * that predates the guard can still fix its e-mail address.
	 */
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		if (!tg_changed_columns(cache, trigdata->tg_trigslot, slot, check_field))
			return PointerGetDatum(rettuple);
	}
	else
		memset(check_field, true, sizeof(check_field));

	/* one pass over the tuple for all guarded columns */
	if (cache->maxattnum > 0)
		slot_getsomeattrs(slot, cache->maxattnum);
	for (int i = 0; i < TG_NUM_FIELDS; i++)
	{
		AttrNumber	attnum = cache->attnum[i];

		if (attnum != InvalidAttrNumber && check_field[i])
			tg_text_field_fast(slot->tts_values[attnum - 1],
							   slot->tts_isnull[attnum - 1], &fields[i]);
		else
			tg_text_field((Datum) 0, true, &fields[i]);
	}

	if (tg_ratelimit_on())
		tg_ratelimit_prepare(trigdata, &fields[TG_FIELD_EMAIL]);
	if (likely(!tg_check(tg_current_rules(), fields, &verdict)))
		return tg_row_kept(trigdata, cache, rettuple, &fields[TG_FIELD_EMAIL]);
	return tg_trigger_suspicious(trigdata, cache, rettuple, &fields[TG_FIELD_EMAIL],
								 &verdict);
}

PG_FUNCTION_INFO_V1(guard_created_trigger);

/*
 * The AFTER INSERT row trigger: handles a row of an INSERT ... ON CONFLICT
 * statement that was really inserted, which the guard trigger left to it.
 * Its WHEN clause (tenant_guard.creation_deferred()) queues it for those
 * rows only.  In log mode the checker runs again and a suspicious row is
 * logged; then the row is counted.  Over a limit, the statement fails with
 * TG002 (enforce) or the row is logged (log mode), as the guard trigger
 * would have done.
 */
Datum
guard_created_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleTableSlot *slot;
	TgTriggerCache *cache;
	TgText		fields[TG_NUM_FIELDS];
	TgVerdict	verdict;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "guard_created_trigger: not called by trigger manager");
	if (!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		elog(ERROR, "guard_created_trigger: must be fired after insert, for each row");

	if (tg_mode == TG_MODE_OFF)
		return PointerGetDatum(NULL);

	cache = tg_trigger_cache(fcinfo, trigdata);
	tg_creation_add(cache->creation_slot);
	if (tg_mode != TG_MODE_LOG && !tg_ratelimit_on())
		return PointerGetDatum(NULL);
	slot = trigdata->tg_trigslot;
	if (cache->maxattnum > 0)
		slot_getsomeattrs(slot, cache->maxattnum);
	for (int i = 0; i < TG_NUM_FIELDS; i++)
	{
		AttrNumber	attnum = cache->attnum[i];

		/* enforce mode needs the e-mail only */
		if (attnum != InvalidAttrNumber && (tg_mode == TG_MODE_LOG || i == TG_FIELD_EMAIL))
			tg_text_field(slot->tts_values[attnum - 1], slot->tts_isnull[attnum - 1],
						  &fields[i]);
		else
			tg_text_field((Datum) 0, true, &fields[i]);
	}

	/*
	 * Log mode: a row left here is suspicious (the guard trigger left its
	 * log row here too) or needs its count only; the checker tells which.
	 * In enforce mode a suspicious row never got this far.
	 */
	if (tg_mode == TG_MODE_LOG &&
		tg_check(tg_current_rules(), fields, &verdict))
		tg_log_kept(trigdata->tg_relation, trigdata->tg_trigtuple, verdict.reason);
	if (tg_ratelimit_on())
		tg_ratelimit_check(trigdata->tg_relation, trigdata->tg_trigtuple,
						   &fields[TG_FIELD_EMAIL]);
	return PointerGetDatum(NULL);
}
