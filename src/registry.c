/*-------------------------------------------------------------------------
 *
 * registry.c
 *	  Writes to the registries the protection and the purge trust:
 *	  guarded_tables (attach_protection() / detach_protection()) and
 *	  tenant_tables (add_tenant_table() / remove_tenant_table()).
 *
 * Admins may only read the registries.  protect() queries a guarded table
 * as its owner, and the purge's protection check keys on the registered
 * column, so a row there must come from a role entitled to the table.
 * These functions are called from the SQL functions above with the
 * caller's rights (not SECURITY DEFINER: GetUserId() is the caller), check
 * the caller's rights on the table, and write as the registry's owner:
 *	  guarded_tables   the caller owns the table (as CREATE TRIGGER needs)
 *	  tenant_tables    the caller may SELECT and DELETE its rows (what a
 *	                   purge of them needs)
 * and forget_dropped_tables(), the event trigger that removes dropped
 * tables from both.  Their statements are marked as the extension's own
 * writes (own_tables.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "names.h"
#include "lookup.h"
#include "own_tables.h"

/*
 * Refuse tables that are not the user's to register: system catalogs,
 * TOAST tables, tables of this or any other extension (a purge would delete
 * their rows), and oids that name no table.
 */
static void
tg_registry_require_user_table(Oid relid)
{
	Oid			nsp = get_rel_namespace(relid);
	Oid			ext;

	if (!OidIsValid(nsp))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	if (tg_system_namespace(nsp))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("table %s is a system table", get_rel_name(relid)),
				 errdetail("tenant_guard registers only tables of your own schemas.")));
	if (tg_extension_table(relid, nsp, &ext))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("table %s belongs to extension \"%s\"", get_rel_name(relid),
						OidIsValid(ext) ? get_extension_name(ext) : TG_SCHEMA),
				 errdetail("tenant_guard registers only tables of your own schemas.")));
}

/* Refuse unless the current role owns relid (or is a member of its owner). */
static void
tg_registry_require_owner(Oid relid)
{
	if (!pg_class_ownercheck(relid, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table %s", get_rel_name(relid) ? get_rel_name(relid) : "?"),
				 errdetail("Only the owner of a table may add it to or remove it from " TG_SCHEMA "." TG_GUARDED_TABLE ".")));
}

/* Refuse unless the current role may SELECT and DELETE rows of relid. */
static void
tg_registry_require_delete(Oid relid)
{
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK ||
		pg_class_aclcheck(relid, GetUserId(), ACL_DELETE) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", get_rel_name(relid) ? get_rel_name(relid) : "?"),
				 errdetail("Adding a table to or removing it from " TG_SCHEMA "." TG_TENANT_TABLES " needs SELECT and DELETE on it.")));
}

/* Run a registry statement with SPI connected for it; returns rows hit. */
static uint64
tg_registry_exec(const char *registry, const char *sql, int nargs, Oid *argtypes,
				 Datum *args, const char *nulls)
{
	uint64		n;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	n = tg_exec_as_table_owner(registry, sql, nargs, argtypes, args, nulls);
	SPI_finish();
	return n;
}

/* A name argument as a Datum, or a null. */
static Datum
tg_name_arg(FunctionCallInfo fcinfo, int argno, char *null)
{
	*null = PG_ARGISNULL(argno) ? 'n' : ' ';
	return PG_ARGISNULL(argno) ? (Datum) 0 : PG_GETARG_DATUM(argno);
}

PG_FUNCTION_INFO_V1(register_guarded_table);

/* register_guarded_table(tbl, id_column, name_column, subdomain_column, email_column) */
Datum
register_guarded_table(PG_FUNCTION_ARGS)
{
	Oid			argtypes[5] = {REGCLASSOID, NAMEOID, NAMEOID, NAMEOID, NAMEOID};
	Datum		args[5];
	char		nulls[6] = "     ";

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table must not be null")));
	tg_registry_require_user_table(PG_GETARG_OID(0));
	tg_registry_require_owner(PG_GETARG_OID(0));
	args[0] = PG_GETARG_DATUM(0);
	for (int i = 1; i < 5; i++)
		args[i] = tg_name_arg(fcinfo, i, &nulls[i]);
	tg_registry_exec(TG_GUARDED_TABLE,
					 "INSERT INTO " TG_SCHEMA "." TG_GUARDED_TABLE
					 " (tbl, id_column, name_column, subdomain_column, email_column)"
					 " VALUES ($1, $2, $3, $4, $5)",
					 5, argtypes, args, nulls);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(unregister_guarded_table);

/* unregister_guarded_table(tbl) RETURNS boolean: was it registered? */
Datum
unregister_guarded_table(PG_FUNCTION_ARGS)
{
	Oid			argtypes[1] = {REGCLASSOID};
	Datum		args[1];

	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	tg_registry_require_owner(PG_GETARG_OID(0));
	args[0] = PG_GETARG_DATUM(0);
	PG_RETURN_BOOL(tg_registry_exec(TG_GUARDED_TABLE,
									"DELETE FROM " TG_SCHEMA "." TG_GUARDED_TABLE
									" WHERE tbl OPERATOR(pg_catalog.=) $1",
									1, argtypes, args, NULL) > 0);
}

PG_FUNCTION_INFO_V1(register_tenant_table);

/* register_tenant_table(tbl, column_name, tenants) */
Datum
register_tenant_table(PG_FUNCTION_ARGS)
{
	Oid			argtypes[3] = {REGCLASSOID, NAMEOID, REGCLASSOID};
	Datum		args[3];

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table, column and tenants table must not be null")));
	tg_registry_require_user_table(PG_GETARG_OID(0));
	tg_registry_require_delete(PG_GETARG_OID(0));
	for (int i = 0; i < 3; i++)
		args[i] = PG_GETARG_DATUM(i);
	tg_registry_exec(TG_TENANT_TABLES,
					 "INSERT INTO " TG_SCHEMA "." TG_TENANT_TABLES " AS t (tbl, column_name, tenants)"
					 " VALUES ($1, $2, $3)"
					 " ON CONFLICT ON CONSTRAINT tenant_tables_pkey DO UPDATE SET tenants = EXCLUDED.tenants",
					 3, argtypes, args, NULL);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(unregister_tenant_table);

/* unregister_tenant_table(tbl, column_name) RETURNS boolean: was it registered? */
Datum
unregister_tenant_table(PG_FUNCTION_ARGS)
{
	Oid			argtypes[2] = {REGCLASSOID, NAMEOID};
	Datum		args[2];

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_BOOL(false);
	tg_registry_require_delete(PG_GETARG_OID(0));
	args[0] = PG_GETARG_DATUM(0);
	args[1] = PG_GETARG_DATUM(1);
	PG_RETURN_BOOL(tg_registry_exec(TG_TENANT_TABLES,
									"DELETE FROM " TG_SCHEMA "." TG_TENANT_TABLES
									" WHERE tbl OPERATOR(pg_catalog.=) $1"
									" AND column_name OPERATOR(pg_catalog.=) $2",
									2, argtypes, args, NULL) > 0);
}

PG_FUNCTION_INFO_V1(forget_dropped_tables);

/*
 * forget_dropped_tables() -- sql_drop event trigger: remove dropped tables
 * from guarded_tables and tenant_tables (a regclass holds no dependency).
 * The rows go whoever dropped the table.
 */
Datum
forget_dropped_tables(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		elog(ERROR, "forget_dropped_tables: not fired by event trigger manager");

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	tg_exec_as_table_owner(TG_GUARDED_TABLE,
						   "DELETE FROM " TG_SCHEMA "." TG_GUARDED_TABLE " g"
						   " USING pg_catalog.pg_event_trigger_dropped_objects() o"
						   " WHERE o.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
						   " AND o.objsubid OPERATOR(pg_catalog.=) 0"
						   " AND g.tbl::pg_catalog.oid OPERATOR(pg_catalog.=) o.objid",
						   0, NULL, NULL, NULL);
	tg_exec_as_table_owner(TG_TENANT_TABLES,
						   "DELETE FROM " TG_SCHEMA "." TG_TENANT_TABLES " t"
						   " USING pg_catalog.pg_event_trigger_dropped_objects() o"
						   " WHERE o.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
						   " AND o.objsubid OPERATOR(pg_catalog.=) 0"
						   " AND (t.tbl::pg_catalog.oid OPERATOR(pg_catalog.=) o.objid"
						   "      OR t.tenants::pg_catalog.oid OPERATOR(pg_catalog.=) o.objid)",
						   0, NULL, NULL, NULL);
	SPI_finish();
	PG_RETURN_VOID();
}
