/*-------------------------------------------------------------------------
 *
 * check.c
 *	  SQL face of the checker: tenant_guard.check_tenant().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "checker.h"
#include "row.h"
#include "rules.h"

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
