/*-------------------------------------------------------------------------
 *
 * safesql.c
 *	  SQL the extension runs from C, safe from the caller's search_path.
 *
 * A role with CREATE on a schema in the caller's search_path (public, in
 * a database created before PostgreSQL 15) can define an "=" or a cast
 * function that matches our operands better than pg_catalog's, and have
 * it run with the caller's rights.  Two defences, both always:
 *	  - every statement names its operators and functions by schema
 *		(OPERATOR(pg_catalog.=), pg_catalog.format(...)), and a comparison
 *		with a type's own equality casts both operands to the operator's
 *		input types (tg_eq_sql);
 *	  - the statements run under search_path = pg_catalog, pg_temp: SQL
 *		functions say so in their definition (SET search_path); the
 *		per-row entry points (the triggers, the log writer) search only
 *		pg_catalog around their SPI work (tg_pin_search_path), so an
 *		ordinary INSERT pays nothing and a DELETE next to nothing.
 *
 * Tenant keys are compared as text (protected_tenants, purge_journal), so
 * that text must not depend on the session's settings: bytea_output,
 * DateStyle, TimeZone, IntervalStyle, extra_float_digits and lc_monetary
 * all change what a key type's output function prints.  The SQL-callable
 * functions that produce key text pin them in their definition (SET
 * clauses, the same list as tg_key_output_settings below); protect_trigger
 * pins them with tg_pin_key_output() only for key types whose output reads
 * one of them (tg_key_output_needs_pin), so uuid, integer and text keys pay
 * nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "catalog/namespace.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/rel.h"
#include "utils/typcache.h"

#include "safesql.h"

/*
 * Search pg_catalog only until tg_unpin_search_path(), in the same
 * (sub)transaction; an error on the way pops it with the transaction.
 * Names in pg_temp are reached only as pg_temp.name, as in our SQL.
 *
 * This pushes an override search path (as PostgreSQL's plan cache does
 * when it re-plans a query) rather than setting the search_path GUC: no
 * string to parse and no settings to save and restore, and the path the
 * caller's next statement searches is not recomputed, so a DELETE that
 * fires protect_trigger() on every row pays next to nothing for it.  A
 * kept plan is planned under this path once and stays valid.
 */
void
tg_pin_search_path(void)
{
	OverrideSearchPath path;

	path.schemas = NIL;
	path.addCatalog = true;
	path.addTemp = false;
	path.generation = 0;
	PushOverrideSearchPath(&path);
}

/* End what tg_pin_search_path() began. */
void
tg_unpin_search_path(void)
{
	PopOverrideSearchPath();
}

/*
 * See safesql.h.  Not tg_pin_search_path(): an override path leaves
 * pg_temp out, so a temporary table's regclass would print otherwise than
 * under the SET clause of export_tenant_document(), whose text the
 * archive's must equal.
 */
void
tg_set_catalog_search_path(void)
{
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
}

/* The default equality of a tenant key type; ERROR if it has none. */
Oid
tg_key_eq_operator(Oid keytype, const char *relname)
{
	Oid			eqop = lookup_type_cache(keytype, TYPECACHE_EQ_OPR)->eq_opr;

	if (!OidIsValid(eqop))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("the key type %s of \"%s\" has no equality operator",
						format_type_be(keytype), relname)));
	return eqop;
}

/*
 * A type for a cast that keeps every value whole: schema-qualified and
 * without a length (plain "character" or "bit" would mean char(1) and
 * bit(1), and cut keys down to their first character or bit).
 */
static char *
tg_cast_type_sql(Oid typid)
{
	return format_type_extended(typid, -1,
								FORMAT_TYPE_FORCE_QUALIFY | FORMAT_TYPE_TYPEMOD_GIVEN);
}

/*
 * SQL comparing lhs with rhs by operator opoid, pinned to it: the operator
 * is named by schema and both operands are cast to its own input types.
 * The name alone is looked up again against the operands' types, and a
 * role with CREATE on that schema could add an operator matching them
 * better (for a domain, say) and have us run it.
 */
char *
tg_eq_sql(Oid opoid, const char *lhs, const char *rhs)
{
	HeapTuple	tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(opoid));
	Form_pg_operator form;
	char	   *result;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for operator %u", opoid);
	form = (Form_pg_operator) GETSTRUCT(tup);
	result = psprintf("(%s)::%s OPERATOR(%s.%s) (%s)::%s",
					  lhs, tg_cast_type_sql(form->oprleft),
					  quote_identifier(get_namespace_name(form->oprnamespace)),
					  NameStr(form->oprname),
					  rhs, tg_cast_type_sql(form->oprright));
	ReleaseSysCache(tup);
	return result;
}

/*
 * The settings that the output functions of built-in types read, with the
 * values key text is produced under.  Keep in step with the SET clauses of
 * protect(), unprotect(), purge_test_tenants(), live_tenant_ids() and
 * protected_missing().
 */
static const struct
{
	const char *name;
	const char *value;
}			tg_key_output_settings[] =
{
	{"DateStyle", "ISO, MDY"},	/* date, time(tz), timestamp(tz) */
	{"IntervalStyle", "postgres"},	/* interval */
	{"TimeZone", "UTC"},		/* timestamptz */
	{"bytea_output", "hex"},	/* bytea */
	{"extra_float_digits", "1"},	/* float4, float8, geometric types */
	{"lc_monetary", "C"},		/* money */
};

/*
 * Produce key text under tg_key_output_settings until
 * tg_unpin_key_output(the returned level), in the same (sub)transaction;
 * an error on the way restores them with the transaction.
 */
int
tg_pin_key_output(void)
{
	int			nest = NewGUCNestLevel();

	for (int i = 0; i < (int) lengthof(tg_key_output_settings); i++)
		(void) set_config_option(tg_key_output_settings[i].name,
								 tg_key_output_settings[i].value,
								 PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	return nest;
}

/* End what tg_pin_key_output() began. */
void
tg_unpin_key_output(int nest)
{
	AtEOXact_GUC(true, nest);
}

/*
 * Does the text output of typid depend on a setting the session can
 * change?  Looks through domains, arrays, ranges, multiranges and
 * composites.  Base types of extensions are assumed to (their output
 * functions may read any of them, as geometric and date types do).
 */
bool
tg_key_output_needs_pin(Oid typid)
{
	char		typtype;
	Oid			elem;

	check_stack_depth();
	typid = getBaseType(typid);
	typtype = get_typtype(typid);
	if (typtype == TYPTYPE_RANGE)
		return tg_key_output_needs_pin(get_range_subtype(typid));
	if (typtype == TYPTYPE_MULTIRANGE)
		return tg_key_output_needs_pin(get_multirange_range(typid));
	if (typtype == TYPTYPE_COMPOSITE)
	{
		TupleDesc	desc = lookup_rowtype_tupdesc(typid, -1);
		bool		result = false;

		for (int i = 0; i < desc->natts && !result; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			if (!att->attisdropped)
				result = tg_key_output_needs_pin(att->atttypid);
		}
		ReleaseTupleDesc(desc);
		return result;
	}
	if (typtype != TYPTYPE_BASE)
		return false;			/* enum, pseudo-type */
	elem = get_element_type(typid);
	if (OidIsValid(elem))
		return tg_key_output_needs_pin(elem);
	switch (typid)
	{
		case BYTEAOID:
		case DATEOID:
		case TIMEOID:
		case TIMETZOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
		case INTERVALOID:
		case FLOAT4OID:
		case FLOAT8OID:
		case CASHOID:
		case POINTOID:
		case LSEGOID:
		case PATHOID:
		case BOXOID:
		case POLYGONOID:
		case LINEOID:
		case CIRCLEOID:
			return true;
		default:
			return typid >= FirstNormalObjectId;
	}
}
