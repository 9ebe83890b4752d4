/*-------------------------------------------------------------------------
 *
 * row.h
 *	  Rows and their fields as the checker and the log take them (row.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_ROW_H
#define TENANT_GUARD_ROW_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "utils/jsonb.h"

#include "checker.h"

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(hidden)
#endif

/* A text Datum as the checker's byte string (NULL: an absent field). */
extern void tg_text_field(Datum value, bool isnull, TgText *out);

/* Must text be converted to UTF-8?  -1: not known yet. */
extern int	tg_text_convert;

/*
 * tg_text_field() for the trigger's per-row path: a short (1-byte header)
 * text in a database whose text needs no conversion to UTF-8 -- every
 * name, subdomain and address of a real row -- without a call.  A TOAST
 * pointer has a 1-byte header too (INSERT ... SELECT and UPDATE ... FROM
 * pass them on): it takes tg_text_field(), which fetches the value.
 */
static inline void
tg_text_field_fast(Datum value, bool isnull, TgText *out)
{
	struct varlena *t = (struct varlena *) DatumGetPointer(value);

	if (!isnull && tg_text_convert == 0 && VARATT_IS_SHORT(t) && !VARATT_IS_EXTERNAL(t))
	{
		out->data = VARDATA_SHORT(t);
		out->len = VARSIZE_SHORT(t) - VARHDRSZ_SHORT;
		return;
	}
	tg_text_field(value, isnull, out);
}

/* The row as JSON text jsonb accepts, and as jsonb, for the log. */
extern char *tg_row_json_text(HeapTuple tuple, TupleDesc tupdesc);
extern Jsonb *tg_row_to_jsonb(HeapTuple tuple, TupleDesc tupdesc);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#endif							/* TENANT_GUARD_ROW_H */
