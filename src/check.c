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

/* The rules in force for this backend. */
const TgRules *
tg_current_rules(void)
{
	return tg_rules_builtin();
}

/*
 * Point *out at a text-like Datum's bytes (no copy unless it has to be
 * detoasted).  A NULL becomes an absent field.  The server encoding is
 * assumed to be UTF-8 or ASCII-compatible; the checker treats any byte
 * sequence safely.
 */
void
tg_text_field(Datum value, bool isnull, TgText *out)
{
	text	   *t;

	if (isnull)
	{
		out->data = NULL;
		out->len = 0;
		return;
	}
	t = DatumGetTextPP(value);
	out->data = VARDATA_ANY(t);
	out->len = VARSIZE_ANY_EXHDR(t);
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
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	for (int i = 0; i < TG_NUM_FIELDS; i++)
		tg_text_field(PG_ARGISNULL(i) ? (Datum) 0 : PG_GETARG_DATUM(i),
					  PG_ARGISNULL(i), &fields[i]);

	tg_check(tg_current_rules(), fields, &verdict);

	values[0] = BoolGetDatum(verdict.suspicious);
	if (verdict.suspicious)
		values[1] = CStringGetTextDatum(verdict.reason);
	else
		nulls[1] = true;

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
