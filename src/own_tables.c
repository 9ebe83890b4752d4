/*-------------------------------------------------------------------------
 *
 * own_tables.c
 *	  Who may write the extension's own tables (the log, the rules, the
 *	  registries, protected_tenants, the purge journal): the write_guard
 *	  trigger and the mark the extension's C code puts on its own writes.
 *
 * Table privileges alone do not protect these tables: pg_write_all_data
 * grants INSERT, UPDATE and DELETE on every table whatever its ACL, so a
 * role holding it could forge or rewrite log rows, lift protections or
 * edit the rules.  Each table therefore has a BEFORE INSERT OR UPDATE OR
 * DELETE OR TRUNCATE statement trigger, tenant_guard.write_guard(), which
 * lets a statement through only when
 *	  - the extension's C code runs it (tg_own_write_spi() marks it, and
 *	    the durable log's writer process marks all its writes), or
 *	  - the extension's own install or update script runs it, or
 *	  - the role has tenant_guard_admin's privileges (superusers have them)
 *	    and tenant_guard_admin itself is granted that command on the table
 *	    (for UPDATE: on the table or on every column it sets), as the
 *	    table's ACL says -- pg_write_all_data is not looked at, or
 *	  - it is an INSERT by a superuser: pg_dump / restore reloads the
 *	    tables' rows (a superuser could disable the trigger anyway).
 * Everything else is refused, superusers included: log rows are never
 * updated, journal rows never deleted, unless a superuser disables the
 * trigger explicitly (ALTER TABLE ... DISABLE TRIGGER write_guard, or
 * session_replication_role = replica).
 *
 * The trigger fires once per statement, never per row, and the extension's
 * own writes return at the first test.  User tables are not involved.
 *
 * No trigger guards a sequence: a role with UPDATE on the id sequence of
 * the log or the journal (pg_write_all_data has it) can setval() it back,
 * and new rows would then collide with old ids.  The extension's inserts
 * into those tables say ON CONFLICT (id) DO NOTHING; when a row does not go
 * in, the writer moves the sequence past the highest id with
 * tg_own_id_seq_repair() (a WARNING names the tampering) and inserts it
 * again -- so nothing is dropped, no transaction aborts, and the ordinary
 * path runs no extra statement.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/sysattr.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/bitmapset.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "names.h"
#include "lookup.h"
#include "own_tables.h"

/* > 0 while the extension's own code writes one of its tables. */
static int	tg_own_writes = 0;

/* See own_tables.h. */
int
tg_own_write_spi(const char *sql, int nargs, Oid *argtypes, Datum *args,
				 const char *nulls, long tcount)
{
	int			save = tg_own_writes;
	volatile int rc = 0;

	tg_own_writes++;
	PG_TRY();
	{
		rc = SPI_execute_with_args(sql, nargs, argtypes, args, nulls, false, tcount);
	}
	PG_FINALLY();
	{
		tg_own_writes = save;
	}
	PG_END_TRY();
	return rc;
}

/* See own_tables.h. */
int
tg_own_write_plan(SPIPlanPtr plan, Datum *args, const char *nulls)
{
	int			save = tg_own_writes;
	volatile int rc = 0;

	tg_own_writes++;
	PG_TRY();
	{
		rc = SPI_execute_plan(plan, args, nulls, false, 0);
	}
	PG_FINALLY();
	{
		tg_own_writes = save;
	}
	PG_END_TRY();
	return rc;
}

/* See own_tables.h: the writer runs nothing but its log inserts. */
void
tg_own_writes_process(void)
{
	tg_own_writes = 1;
}

/* See own_tables.h. */
void
tg_own_id_seq_repair(const char *table)
{
	char	   *sql;
	bool		isnull;
	int64		was;
	int64		now;

	/* SPI connected, search_path pinned, as the table's owner: the caller's */
	sql = psprintf("SELECT s.last_value,"
				   " pg_catalog.setval('%s.%s_id_seq'::pg_catalog.regclass,"
				   "  GREATEST(s.last_value, (SELECT pg_catalog.max(t.id) FROM %s.%s t)))"
				   " FROM %s.%s_id_seq s",
				   TG_SCHEMA, table, TG_SCHEMA, table, TG_SCHEMA, table);
	if (SPI_execute(sql, false, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not move the sequence %s.%s_id_seq on", TG_SCHEMA, table);
	was = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	now = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	pfree(sql);

	ereport(WARNING,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("sequence %s.%s_id_seq was set back", TG_SCHEMA, table),
			 errdetail("Its last value was " INT64_FORMAT ", but %s.%s holds ids up to " INT64_FORMAT "; it now continues from there.",
					   was, TG_SCHEMA, table, now),
			 errhint("A role with UPDATE on the sequence (pg_write_all_data, for one) called setval(): find out who.")));
}

/* See own_tables.h. */
void
tg_own_id_taken(const char *table)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNIQUE_VIOLATION),
			 errmsg("could not insert into %s.%s: the next id of its sequence is taken",
					TG_SCHEMA, table),
			 errdetail("The sequence %s.%s_id_seq was set back, and moving it on did not help.",
					   TG_SCHEMA, table)));
	pg_unreachable();
}

/* Does acl grant roleid (directly or through its roles) any of mode? */
static bool
tg_acl_grants(Datum acldatum, bool isnull, Oid roleid, Oid ownerid, AclMode mode)
{
	Acl		   *acl;

	if (isnull)
		return false;
	acl = DatumGetAclP(acldatum);
	return aclmask(acl, roleid, ownerid, mode, ACLMASK_ANY) != 0;
}

/*
 * Is tenant_guard_admin itself granted mode on rel -- for UPDATE, on the
 * table or on each of cols?  Read from the ACLs, so that predefined roles
 * such as pg_write_all_data grant nothing here.
 */
static bool
tg_admin_granted(Relation rel, Oid admin, AclMode mode, const Bitmapset *cols)
{
	Oid			relid = RelationGetRelid(rel);
	Oid			owner = rel->rd_rel->relowner;
	HeapTuple	tuple;
	Datum		acl;
	bool		isnull;
	bool		granted;
	int			col = -1;

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	acl = SysCacheGetAttr(RELOID, tuple, Anum_pg_class_relacl, &isnull);
	/* a NULL ACL is the owner's rights only */
	granted = tg_acl_grants(acl, isnull, admin, owner, mode);
	ReleaseSysCache(tuple);
	if (granted || mode != ACL_UPDATE || bms_is_empty(cols))
		return granted;

	while ((col = bms_next_member(cols, col)) >= 0)
	{
		AttrNumber	attnum = col + FirstLowInvalidHeapAttributeNumber;

		tuple = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(attnum));
		if (!HeapTupleIsValid(tuple))
			return false;
		acl = SysCacheGetAttr(ATTNUM, tuple, Anum_pg_attribute_attacl, &isnull);
		granted = tg_acl_grants(acl, isnull, admin, owner, ACL_UPDATE);
		ReleaseSysCache(tuple);
		if (!granted)
			return false;
	}
	return true;
}

PG_FUNCTION_INFO_V1(write_guard);

/*
 * write_guard() -- BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE statement
 * trigger on each table of the extension; see the file header.
 */
Datum
write_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TriggerEvent event;
	Relation	rel;
	AclMode		mode;
	const char *verb;
	Oid			admin;
	bool		is_admin;
	bool		admin_may;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "write_guard: not fired by trigger manager");
	event = trigdata->tg_event;
	if (!TRIGGER_FIRED_FOR_STATEMENT(event) || !TRIGGER_FIRED_BEFORE(event))
		elog(ERROR, "write_guard: must be fired before the statement");

	/* the extension's own code */
	if (tg_own_writes > 0)
		return PointerGetDatum(NULL);
	if (creating_extension &&
		CurrentExtensionObject == get_extension_oid("tenant_guard", true))
		return PointerGetDatum(NULL);

	rel = trigdata->tg_relation;
	if (TRIGGER_FIRED_BY_INSERT(event))
	{
		mode = ACL_INSERT;
		verb = "insert into";
	}
	else if (TRIGGER_FIRED_BY_UPDATE(event))
	{
		mode = ACL_UPDATE;
		verb = "update";
	}
	else if (TRIGGER_FIRED_BY_DELETE(event))
	{
		mode = ACL_DELETE;
		verb = "delete from";
	}
	else if (TRIGGER_FIRED_BY_TRUNCATE(event))
	{
		mode = ACL_TRUNCATE;
		verb = "truncate";
	}
	else
		elog(ERROR, "write_guard: unexpected trigger event %u", event);

	/* a restore reloads the rows as a superuser */
	if (mode == ACL_INSERT && superuser())
		return PointerGetDatum(NULL);

	/* what tenant_guard_admin is granted, for its members */
	admin = get_role_oid(TG_ADMIN_ROLE, true);
	admin_may = OidIsValid(admin) &&
		tg_admin_granted(rel, admin, mode,
						 mode == ACL_UPDATE ? trigdata->tg_updatedcols : NULL);
	is_admin = OidIsValid(admin) && has_privs_of_role(GetUserId(), admin);
	if (admin_may && is_admin)
		return PointerGetDatum(NULL);

	if (admin_may)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot %s table %s.%s", verb, TG_SCHEMA, RelationGetRelationName(rel)),
				 errdetail("Only tenant_guard's own functions and members of %s may %s this table; table privileges and pg_write_all_data are not enough.",
						   TG_ADMIN_ROLE, verb),
				 errhint("Grant %s to the role that maintains it.", TG_ADMIN_ROLE)));
	if (is_admin && mode == ACL_UPDATE &&
		pg_attribute_aclcheck_all(RelationGetRelid(rel), admin, ACL_UPDATE, ACLMASK_ANY) == ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot update these columns of table %s.%s", TG_SCHEMA, RelationGetRelationName(rel)),
				 errdetail("Members of %s may update only the columns %s is granted UPDATE on.",
						   TG_ADMIN_ROLE, TG_ADMIN_ROLE),
				 errhint("Column privileges are shown by \\dp %s.%s.", TG_SCHEMA, RelationGetRelationName(rel))));
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("cannot %s table %s.%s", verb, TG_SCHEMA, RelationGetRelationName(rel)),
			 errdetail("Only tenant_guard's own functions may %s this table, so that its rows can be trusted.", verb),
			 errhint("Use tenant_guard's functions (\\df tenant_guard.*). A superuser who must change the table anyway disables its trigger write_guard explicitly first.")));
	PG_RETURN_NULL();			/* not reached */
}

/*
 * Run a statement on one of the extension's tables as that table's owner
 * (SPI connected); returns the rows hit: the writer of the registries
 * (registry.c) and of protected_tenants (protect.c).
 */
uint64
tg_exec_as_table_owner(const char *table, const char *sql, int nargs, Oid *argtypes,
					   Datum *args, const char *nulls)
{
	Oid			save_userid;
	int			save_sec;
	int			rc;

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(tg_relation_owner(tg_extension_relid(table)),
						   save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	rc = tg_own_write_spi(sql, nargs, argtypes, args, nulls, 0);
	SetUserIdAndSecContext(save_userid, save_sec);
	if (rc < 0)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}
