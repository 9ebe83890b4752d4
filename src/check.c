/*-------------------------------------------------------------------------
 *
 * check.c
 *	  SQL face of the checker: tenant_guard.check_tenant(), plus the
 *	  conversion of text Datums into the byte strings checker.c takes.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "tenant_guard.h"

/* Must text be converted to UTF-8?  -1: not known yet (see below). */
int			tg_text_convert = -1;

/*
 * Point *out at a text-like Datum's bytes (no copy unless it has to be
 * detoasted, or converted to UTF-8 in a database of another encoding).
 * A NULL becomes an absent field.  The checker treats any byte sequence
 * safely.  The rules in force are tg_current_rules() (rules.c).
 */
void
tg_text_field(Datum value, bool isnull, TgText *out)
{
	struct varlena *t;

	if (isnull)
	{
		out->data = NULL;
		out->len = 0;
		return;
	}
	/* the database's encoding cannot change while the backend lives */
	if (tg_text_convert < 0)
		tg_text_convert = GetDatabaseEncoding() != PG_UTF8 &&
			GetDatabaseEncoding() != PG_SQL_ASCII;

	/* what pg_detoast_datum_packed() does, without a call for plain values */
	t = (struct varlena *) DatumGetPointer(value);
	if (VARATT_IS_COMPRESSED(t) || VARATT_IS_EXTERNAL(t))
		t = pg_detoast_datum_packed(t);
	out->data = VARDATA_ANY(t);
	out->len = VARSIZE_ANY_EXHDR(t);
	if (tg_text_convert && out->len > 0)
	{
		out->data = (const char *)
			pg_do_encoding_conversion((unsigned char *) out->data, (int) out->len,
									  GetDatabaseEncoding(), PG_UTF8);
		if (out->data != VARDATA_ANY(t))
			out->len = strlen(out->data);
	}
}

PG_FUNCTION_INFO_V1(check_tenant);

/*
 * check_tenant(name text, subdomain text, email text)
 *	  RETURNS (is_suspicious boolean, reason text)
 */
Datum
check_tenant(PG_FUNCTION_ARGS)
{
	TgText		fields[TG_NUM_FIELDS];
	TgVerdict	verdict;
	TupleDesc	tupdesc = (TupleDesc) fcinfo->flinfo->fn_extra;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	/* the result row type, looked up once per call site */
	if (tupdesc == NULL)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		tupdesc = BlessTupleDesc(CreateTupleDescCopy(tupdesc));
		fcinfo->flinfo->fn_extra = tupdesc;
		MemoryContextSwitchTo(oldcxt);
	}

	for (int i = 0; i < TG_NUM_FIELDS; i++)
		tg_text_field(PG_ARGISNULL(i) ? (Datum) 0 : PG_GETARG_DATUM(i),
					  PG_ARGISNULL(i), &fields[i]);

	tg_check(tg_current_rules(), fields, &verdict);

	values[0] = BoolGetDatum(verdict.suspicious);
	if (verdict.suspicious)
		values[1] = PointerGetDatum(cstring_to_text_with_len(verdict.reason,
															 (int) verdict.reason_len));
	else
		nulls[1] = true;

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
