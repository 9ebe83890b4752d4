/*-------------------------------------------------------------------------
 *
 * row.c
 *	  Rows and their fields as the checker and the log take them: a text
 *	  Datum as the byte string checker.c reads, a row as JSON text or jsonb.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "parser/parse_coerce.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "row.h"

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
