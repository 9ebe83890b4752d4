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
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_operator.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
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
