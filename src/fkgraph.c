/*-------------------------------------------------------------------------
 *
 * fkgraph.c
 *	  The purge's view of the foreign-key graph: which rows depend on rows
 *	  deleted from a table, and may the purge delete from a table at all.
 *
 * The graph comes from pg_constraint, in any schema.  For a table T the
 * purge deletes from, the edges "into" T are the foreign keys whose
 * referenced table is T, one of T's partition ancestors (a row of T is a
 * row of each ancestor), or one of T's partitions (then only rows that
 * lived in that partition count: referenced_is_partition).  Constraints
 * cloned onto partitions (conparentid <> 0) are skipped: the constraint
 * on the partitioned table stands for them, and the purge deletes through
 * the partitioned table.  Columns travel by name, operators as the
 * constraint's own PK = FK equality operators (conpfeqop), so composite
 * keys and cross-type keys compare exactly as PostgreSQL's RI triggers
 * compare them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "rewrite/prs2lock.h"
#include "rewrite/rewriteDefine.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "names.h"
#include "purge.h"

/* A text[] column of an SPI row as a C array; sets *n. */
static char **
tg_text_array(HeapTuple tup, TupleDesc desc, int col, int *n)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);
	Datum	   *elems;
	bool	   *nulls;
	char	  **result;

	*n = 0;
	if (isnull)
		return NULL;
	deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, n);
	result = palloc(sizeof(char *) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
	{
		if (nulls[i])
			elog(ERROR, "unexpected NULL in foreign key column list");
		result[i] = TextDatumGetCString(elems[i]);
	}
	return result;
}

/* An oid[] column of an SPI row as a C array; sets *n. */
static Oid *
tg_oid_array(HeapTuple tup, TupleDesc desc, int col, int *n)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);
	Datum	   *elems;
	bool	   *nulls;
	Oid		   *result;

	*n = 0;
	if (isnull)
		return NULL;
	deconstruct_array(DatumGetArrayTypeP(d), OIDOID, sizeof(Oid), true, TYPALIGN_INT,
					  &elems, &nulls, n);
	result = palloc(sizeof(Oid) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
	{
		if (nulls[i])
			elog(ERROR, "unexpected NULL in foreign key operator list");
		result[i] = DatumGetObjectId(elems[i]);
	}
	return result;
}

/*
 * The foreign keys through which rows may depend on rows deleted from
 * relid (SPI connected; the list lives in the current memory context).
 */
List *
tg_fk_edges_into(Oid relid)
{
	static const char *sql =
		"WITH fam AS ("
		"  SELECT $1::pg_catalog.regclass AS relid, false AS below"
		"  UNION SELECT a.relid, false FROM pg_catalog.pg_partition_ancestors($1) a"
		"  UNION SELECT t.relid, t.relid::pg_catalog.oid OPERATOR(pg_catalog.<>) $1::pg_catalog.oid"
		"    FROM pg_catalog.pg_partition_tree($1) t)"
		" SELECT c.oid, c.conrelid, cl.relkind, c.confrelid, f.below, c.confdeltype,"
		"  ARRAY(SELECT a.attname::pg_catalog.text"
		"          FROM pg_catalog.unnest(c.conkey) WITH ORDINALITY k(n, i)"
		"          JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.conrelid"
		"           AND a.attnum OPERATOR(pg_catalog.=) k.n"
		"         ORDER BY k.i),"
		"  ARRAY(SELECT a.attname::pg_catalog.text"
		"          FROM pg_catalog.unnest(c.confkey) WITH ORDINALITY k(n, i)"
		"          JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.confrelid"
		"           AND a.attnum OPERATOR(pg_catalog.=) k.n"
		"         ORDER BY k.i),"
		"  ARRAY(SELECT a.attname::pg_catalog.text"
		"          FROM pg_catalog.unnest(c.confdelsetcols) WITH ORDINALITY k(n, i)"
		"          JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.conrelid"
		"           AND a.attnum OPERATOR(pg_catalog.=) k.n"
		"         ORDER BY k.i),"
		"  c.conpfeqop"
		" FROM pg_catalog.pg_constraint c"
		" JOIN fam f ON f.relid::pg_catalog.oid OPERATOR(pg_catalog.=) c.confrelid"
		" JOIN pg_catalog.pg_class cl ON cl.oid OPERATOR(pg_catalog.=) c.conrelid"
		" WHERE c.contype OPERATOR(pg_catalog.=) 'f'"
		"   AND c.conparentid OPERATOR(pg_catalog.=) 0::pg_catalog.oid"
		" ORDER BY c.oid";
	Oid			argtypes[1] = {REGCLASSOID};
	Datum		args[1];
	List	   *edges = NIL;
	int			rc;

	args[0] = ObjectIdGetDatum(relid);
	rc = SPI_execute_with_args(sql, 1, argtypes, args, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		TgFkEdge   *e = palloc0(sizeof(TgFkEdge));
		bool		isnull;
		int			n1,
					n2,
					n3;

		e->conoid = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
		e->child = DatumGetObjectId(SPI_getbinval(tup, desc, 2, &isnull));
		e->child_kind = DatumGetChar(SPI_getbinval(tup, desc, 3, &isnull));
		e->referenced = DatumGetObjectId(SPI_getbinval(tup, desc, 4, &isnull));
		e->referenced_is_partition = DatumGetBool(SPI_getbinval(tup, desc, 5, &isnull));
		e->action = DatumGetChar(SPI_getbinval(tup, desc, 6, &isnull));
		e->child_cols = tg_text_array(tup, desc, 7, &n1);
		e->parent_cols = tg_text_array(tup, desc, 8, &n2);
		e->setcols = tg_text_array(tup, desc, 9, &e->nsetcols);
		e->eqopids = tg_oid_array(tup, desc, 10, &n3);
		if (n1 != n2 || n1 != n3 || n1 == 0)
			elog(ERROR, "foreign key %u has inconsistent column lists", e->conoid);
		e->nkeys = n1;
		edges = lappend(edges, e);
	}
	return edges;
}

/*
 * Refuse to delete from relid when a trigger or rule of the operator's
 * would not run as usual.  The purge deletes with session_replication_role
 * = replica so that PostgreSQL's per-row RI triggers (whose work it does
 * itself, set-based) stay quiet; user ON DELETE triggers and rules would
 * be skipped (ENABLE) or fire unexpectedly (ENABLE REPLICA).  Those marked
 * ENABLE ALWAYS would fire, but with the foreign-key checks and the
 * protection trigger off: whatever they delete or change could orphan rows
 * or remove a protected tenant unchecked, so they are refused too.  The
 * protection trigger is ours: the purge checks protection itself.
 */
void
tg_fk_check_triggers(Oid relid)
{
	static const char *sql =
		"SELECT 'trigger', t.tgname::pg_catalog.text, t.tgrelid::pg_catalog.regclass::pg_catalog.text,"
		"  t.tgenabled OPERATOR(pg_catalog.=) 'A'"
		"  FROM pg_catalog.pg_trigger t"
		" WHERE t.tgrelid OPERATOR(pg_catalog.=) ANY (SELECT $1::pg_catalog.oid"
		"       UNION SELECT p.relid::pg_catalog.oid FROM pg_catalog.pg_partition_tree($1) p)"
		"   AND NOT t.tgisinternal"
		"   AND t.tgenabled OPERATOR(pg_catalog.=) ANY ('{O,R,A}'::pg_catalog.\"char\"[])"
		"   AND (t.tgtype::pg_catalog.int4 OPERATOR(pg_catalog.&) 8) OPERATOR(pg_catalog.<>) 0"
		"   AND t.tgfoid OPERATOR(pg_catalog.<>) '" TG_SCHEMA ".protect_trigger()'::pg_catalog.regprocedure"
		" UNION ALL "
		"SELECT 'rule', r.rulename::pg_catalog.text, r.ev_class::pg_catalog.regclass::pg_catalog.text,"
		"  r.ev_enabled OPERATOR(pg_catalog.=) 'A'"
		"  FROM pg_catalog.pg_rewrite r"
		" WHERE r.ev_class OPERATOR(pg_catalog.=) ANY (SELECT $1::pg_catalog.oid"
		"       UNION SELECT p.relid::pg_catalog.oid FROM pg_catalog.pg_partition_tree($1) p)"
		"   AND r.ev_type OPERATOR(pg_catalog.=) '4'"
		"   AND r.ev_enabled OPERATOR(pg_catalog.=) ANY ('{O,R,A}'::pg_catalog.\"char\"[])"
		" ORDER BY 4, 1, 3, 2 LIMIT 1";
	Oid			argtypes[1] = {REGCLASSOID};
	Datum		args[1];
	int			rc;

	args[0] = ObjectIdGetDatum(relid);
	rc = SPI_execute_with_args(sql, 1, argtypes, args, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	if (SPI_processed > 0)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *kind = SPI_getvalue(tup, desc, 1);
		char	   *name = SPI_getvalue(tup, desc, 2);
		char	   *rel = SPI_getvalue(tup, desc, 3);
		bool		isnull;
		bool		always = DatumGetBool(SPI_getbinval(tup, desc, 4, &isnull));
		bool		trigger = strcmp(kind, "trigger") == 0;

		if (always)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot purge: %s \"%s\" on table \"%s\" is ENABLE ALWAYS",
							kind, name, rel),
					 errdetail("The purge deletes with session_replication_role = replica; an ENABLE ALWAYS %s would run with foreign-key checks and tenant protection off.",
							   kind),
					 trigger ?
					 errhint("Disable the trigger for the purge (ALTER TABLE %s DISABLE TRIGGER %s) and do its work yourself, or delete by hand.",
							 rel, quote_identifier(name)) :
					 errhint("Disable the rule for the purge (ALTER TABLE %s DISABLE RULE %s) and do its work yourself, or delete by hand.",
							 rel, quote_identifier(name))));
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot purge: %s \"%s\" on table \"%s\" would not fire as usual",
						kind, name, rel),
				 errdetail("The purge deletes set-based with session_replication_role = replica; ON DELETE triggers and rules do not fire that way."),
				 trigger ?
				 errhint("If the purge may skip it, disable it for the purge (ALTER TABLE %s DISABLE TRIGGER %s), and do its work yourself.",
						 rel, quote_identifier(name)) :
				 errhint("If the purge may skip it, disable it for the purge (ALTER TABLE %s DISABLE RULE %s), and do its work yourself.",
						 rel, quote_identifier(name))));
	}
}

/*
 * tg_fk_check_triggers() again, just before a DELETE of relid.  The purge
 * checks every table it deletes from when it plans, but runs other code
 * before it gets to most of them: to_jsonb() of the rows an earlier DELETE
 * returns calls the casts to json of their columns' types, which a table's
 * owner may write, and which may create or enable an ON DELETE trigger or
 * rule (ENABLE ALWAYS) on a table deleted later.  Such a rule turns the
 * DELETE into something else (a purge that leaves the tenant's rows in
 * place while its journal and archive say they were deleted).  So each
 * DELETE looks again, in the relation cache; the catalog query (and its
 * error) runs only when a table has one (perhaps the protection trigger,
 * which is let through).  A partitioned table's partitions are locked as
 * the DELETE will lock them.
 */
void
tg_fk_recheck_triggers(Oid relid)
{
	List	   *rels;
	ListCell   *lc;
	bool		found = false;

	if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
		rels = find_all_inheritors(relid, RowExclusiveLock, NULL);
	else
		rels = list_make1_oid(relid);
	foreach(lc, rels)
	{
		Relation	rel = try_relation_open(lfirst_oid(lc), RowExclusiveLock);

		if (rel == NULL)
			continue;
		for (int i = 0; rel->trigdesc && i < rel->trigdesc->numtriggers && !found; i++)
		{
			Trigger    *t = &rel->trigdesc->triggers[i];

			found = !t->tgisinternal && t->tgenabled != TRIGGER_DISABLED &&
				TRIGGER_FOR_DELETE(t->tgtype);
		}
		for (int i = 0; rel->rd_rules && i < rel->rd_rules->numLocks && !found; i++)
		{
			RewriteRule *r = rel->rd_rules->rules[i];

			found = r->event == CMD_DELETE && r->enabled != RULE_DISABLED;
		}
		relation_close(rel, NoLock);
		if (found)
			break;
	}
	list_free(rels);
	if (found)
		tg_fk_check_triggers(relid);
}
