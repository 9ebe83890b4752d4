/*-------------------------------------------------------------------------
 *
 * lookup.c
 *	  Catalog look-ups every layer above needs: the extension's own tables
 *	  by name, a relation's owner.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/catalog.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "names.h"
#include "lookup.h"

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

/* A system schema: pg_catalog, a TOAST schema, information_schema. */
bool
tg_system_namespace(Oid nsp)
{
	return IsCatalogNamespace(nsp) || IsToastNamespace(nsp) ||
		nsp == get_namespace_oid("information_schema", true);
}

/* Does relid (in schema nsp) belong to an extension or to our schema? */
bool
tg_extension_table(Oid relid, Oid nsp, Oid *ext)
{
	*ext = getExtensionOfObject(RelationRelationId, relid);
	return OidIsValid(*ext) || nsp == get_namespace_oid(TG_SCHEMA, true);
}
