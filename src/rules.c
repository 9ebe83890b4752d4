/*-------------------------------------------------------------------------
 *
 * rules.c
 *	  The operator's rule tables (tenant_guard.keywords, email_domains,
 *	  allowlist), compiled into checker rules once per backend and
 *	  recompiled only after they change.
 *
 * The pattern is pg_cron's job cache: a relcache callback registered in
 * _PG_init flips tg_rules_valid to false when one of the rule tables (or
 * the whole relcache) is invalidated; the next check reloads.  Plain DML
 * sends no relcache invalidation, so each rule table has a statement
 * trigger calling tenant_guard.rules_changed(), which asks for one (sent
 * to every backend at commit, and seen by our own at the next command).
 * No table is read per checked row.
 *
 * The e-mail domain list can be long (a maintained disposable-domain list
 * has over 100,000 entries): with preloading, it is compiled once per
 * change into shared memory and mapped, not copied (rules_shmem.c); the
 * keywords and the allowlist, short, are compiled here per backend, from
 * their rows kept in the same segment.  A new backend then opens no rule
 * table (building their relcache entries was most of its first check).
 *
 * The built-in rules live in C (checker_rules.c); the tables hold only
 * the operator's additions, so dump and restore cannot duplicate them.
 * The tables are read directly, not through SQL, so the rules apply
 * whoever inserts the tenant: application roles need no rights on them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/parallel.h"
#include "access/xact.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "commands/trigger.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "names.h"
#include "lookup.h"
#include "rules_shmem.h"
#include "rules.h"

/* The rule tables, in the order they are loaded. */
typedef enum TgRuleTable
{
	TG_TABLE_KEYWORDS = 0,
	TG_TABLE_DOMAINS,
	TG_TABLE_ALLOWLIST,
	TG_NUM_RULE_TABLES
} TgRuleTable;

static const char *const tg_rule_table_names[TG_NUM_RULE_TABLES] = {
	"keywords", "email_domains", "allowlist"
};

/* The compiled rules of this backend, and whether they are current. */
static TgRules *tg_rules_cache = NULL;
static bool tg_rules_valid = false;
static Oid	tg_rule_relids[TG_NUM_RULE_TABLES];
/* the shared domain list tg_rules_cache reads, if any */
static dsm_segment *tg_rules_segment = NULL;

/* Imported domains past which loading them per backend gets a WARNING. */
#define TG_PRIVATE_DOMAINS_WARN 20000

/* Relcache callback: a rule table (or everything) changed. */
static void
tg_rules_relcache_cb(Datum arg, Oid relid)
{
	(void) arg;
	if (relid == InvalidOid)
	{
		tg_rules_valid = false;
		return;
	}
	for (int i = 0; i < TG_NUM_RULE_TABLES; i++)
		if (relid == tg_rule_relids[i])
			tg_rules_valid = false;
}

/* Module set-up: listen for rule table changes. */
void
tg_rules_init(void)
{
	CacheRegisterRelcacheCallback(tg_rules_relcache_cb, (Datum) 0);
	tg_rules_shmem_init();

	/*
	 * Preloading: compile the built-in rules (and open the Unicode tables
	 * they need) once in the postmaster.  Every backend inherits them
	 * without copying, instead of spending its first check on them.
	 */
	if (process_shared_preload_libraries_in_progress)
		(void) tg_rules_builtin();
}

/* Attribute number of a column by name; elog when missing (our own table). */
static AttrNumber
tg_attnum(Relation rel, const char *colname)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);

	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), colname) == 0)
			return att->attnum;
	}
	elog(ERROR, "column \"%s\" of table \"%s\" is missing",
		 colname, RelationGetRelationName(rel));
	return InvalidAttrNumber;	/* keep compiler quiet */
}

/* A text column of a tuple as a C string; NULL when null. */
static char *
tg_getattr_cstring(HeapTuple tuple, TupleDesc tupdesc, AttrNumber attnum)
{
	bool		isnull;
	Datum		d = heap_getattr(tuple, attnum, tupdesc, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

/* Convert a value from the database encoding to UTF-8 (palloc'd or as is). */
static char *
tg_to_utf8(char *s)
{
	int			enc = GetDatabaseEncoding();

	if (s == NULL || enc == PG_UTF8 || enc == PG_SQL_ASCII)
		return s;
	return (char *) pg_do_encoding_conversion((unsigned char *) s, strlen(s),
											  enc, PG_UTF8);
}

/*
 * Add a row of the keywords or allowlist table to rules: code is the
 * strength (TgStrength) or the kind (TgAllowKind) of the row.
 */
static void
tg_rules_add_row(TgRules *rules, TgRuleTable which, int code,
				 const char *value, size_t len)
{
	if (which == TG_TABLE_KEYWORDS)
		(void) tg_rules_add_keyword(rules, value, len, (TgStrength) code);
	else
		(void) tg_rules_add_allow(rules, (TgAllowKind) code, value, len);
}

/*
 * The rows of the keywords and allowlist tables in the shared segment:
 * per row, the table and its code (one byte each), the value's length
 * (4 bytes, native order) and its bytes.
 */
static void
tg_rules_append_row(StringInfo rows, TgRuleTable which, int code,
					const char *value, size_t len)
{
	uint32		n = (uint32) len;

	appendStringInfoCharMacro(rows, (char) which);
	appendStringInfoCharMacro(rows, (char) code);
	appendBinaryStringInfo(rows, (const char *) &n, sizeof(n));
	appendBinaryStringInfo(rows, value, (int) len);
}

/* Add the rows kept by tg_rules_append_row() to rules. */
static void
tg_rules_add_rows(TgRules *rules, const char *rows, Size len)
{
	Size		at = 0;

	while (at + 2 + sizeof(uint32) <= len)
	{
		TgRuleTable which = (TgRuleTable) rows[at];
		int			code = rows[at + 1];
		uint32		n;

		memcpy(&n, rows + at + 2, sizeof(n));
		at += 2 + sizeof(n);
		if (n > len - at)
			break;
		tg_rules_add_row(rules, which, code, rows + at, n);
		at += n;
	}
}

/*
 * Add every row of one rule table to rules, or (keywords and allowlist,
 * rows not NULL) append them to rows for the shared segment.
 */
static void
tg_rules_load_table(TgRules *rules, StringInfo rows, TgRuleTable which,
					Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TupleDesc	tupdesc = RelationGetDescr(rel);
	/* a parallel worker cannot take a new snapshot: use the leader's */
	Snapshot	snapshot = RegisterSnapshot(IsInParallelMode() && ActiveSnapshotSet() ?
											GetActiveSnapshot() : GetLatestSnapshot());
	TableScanDesc scan = table_beginscan(rel, snapshot, 0, NULL);
	AttrNumber	att_value;
	AttrNumber	att_kind;
	HeapTuple	tuple;

	switch (which)
	{
		case TG_TABLE_KEYWORDS:
			att_value = tg_attnum(rel, "keyword");
			att_kind = tg_attnum(rel, "strength");
			break;
		case TG_TABLE_DOMAINS:
			att_value = tg_attnum(rel, "domain");
			att_kind = tg_attnum(rel, "kind");
			break;
		default:
			att_value = tg_attnum(rel, "value");
			att_kind = tg_attnum(rel, "kind");
			break;
	}

	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		char	   *value = tg_to_utf8(tg_getattr_cstring(tuple, tupdesc, att_value));
		char	   *kind = tg_getattr_cstring(tuple, tupdesc, att_kind);
		int			code = -1;

		/* the tables' CHECK constraints keep unusable rows out */
		if (value == NULL || kind == NULL)
			continue;
		switch (which)
		{
			case TG_TABLE_KEYWORDS:
				for (int s = TG_STRENGTH_STRONG; s <= TG_STRENGTH_IGNORE; s++)
					if (strcmp(kind, tg_strength_name((TgStrength) s)) == 0)
						code = s;
				break;
			case TG_TABLE_DOMAINS:
				(void) tg_rules_add_domain(rules, value, strlen(value),
										   strcmp(kind, "test") == 0 ?
										   TG_DOMAIN_TEST : TG_DOMAIN_DISPOSABLE);
				break;
			default:
				if (strcmp(kind, "name") == 0)
					code = TG_ALLOW_NAME;
				else if (strcmp(kind, "subdomain") == 0)
					code = TG_ALLOW_SUBDOMAIN;
				else if (strcmp(kind, "domain") == 0)
					code = TG_ALLOW_DOMAIN;
				break;
		}
		if (code < 0)
			continue;
		if (rows != NULL)
			tg_rules_append_row(rows, which, code, value, strlen(value));
		else
			tg_rules_add_row(rules, which, code, value, strlen(value));
	}

	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
}

/*
 * For the shared segment (TgRulesLoader): the domains of table relid into
 * rules, the rows of the other rule tables (tg_rule_relids) into rows.
 */
static void
tg_rules_load_shared(TgRules *rules, StringInfo rows, Oid relid)
{
	tg_rules_load_table(rules, rows, TG_TABLE_KEYWORDS, tg_rule_relids[TG_TABLE_KEYWORDS]);
	tg_rules_load_table(rules, NULL, TG_TABLE_DOMAINS, relid);
	tg_rules_load_table(rules, rows, TG_TABLE_ALLOWLIST, tg_rule_relids[TG_TABLE_ALLOWLIST]);
}

/*
 * Every rule table into rules: from the shared segment when there is one
 * (mapped, returned), else read here (NULL).
 */
static dsm_segment *
tg_rules_load_all(TgRules *rules, const Oid *relids)
{
	static bool warned = false;
	const char *rows;
	Size		rows_len;
	dsm_segment *seg = tg_rules_shmem_attach(relids[TG_TABLE_DOMAINS], rules,
											 tg_rules_load_shared, &rows, &rows_len);

	if (seg != NULL)
	{
		tg_rules_add_rows(rules, rows, rows_len);
		return seg;
	}
	for (int i = 0; i < TG_NUM_RULE_TABLES; i++)
		tg_rules_load_table(rules, NULL, (TgRuleTable) i, relids[i]);
	if (!tg_rules_shmem_preloaded() && !warned &&
		tg_rules_domain_count(rules) > TG_PRIVATE_DOMAINS_WARN)
	{
		warned = true;
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("tenant_guard compiles its %zu e-mail domains in every backend",
						tg_rules_domain_count(rules)),
				 errdetail("Without preloading, each new connection reads the whole domain list and keeps its own copy."),
				 errhint("Add tenant_guard to shared_preload_libraries and restart: the list is then compiled once into shared memory.")));
	}
	return NULL;
}

/*
 * Compile the rules: the built-in ones plus the rule tables' rows.
 * Without the tables (the extension is being created or dropped) the
 * built-in rules apply, and nothing is cached.
 */
static const TgRules *
tg_rules_reload(void)
{
	Oid			relids[TG_NUM_RULE_TABLES];
	TgRules    *rules;
	MemoryContext oldcxt;
	MemoryContext loadcxt;
	dsm_segment *volatile seg = NULL;

	for (int i = 0; i < TG_NUM_RULE_TABLES; i++)
	{
		relids[i] = tg_extension_relid_if_exists(tg_rule_table_names[i]);
		if (!OidIsValid(relids[i]))
			return tg_rules_builtin();
	}

	rules = tg_rules_new();
	if (rules == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Failed to compile the tenant_guard rules.")));
	tg_rules_set_ascii_reasons(rules, GetDatabaseEncoding() != PG_UTF8);

	/*
	 * Valid from now on, unless an invalidation arrives while we read: then
	 * the callback clears the flag again and the next check reloads.
	 */
	memcpy(tg_rule_relids, relids, sizeof(relids));
	tg_rules_valid = true;

	loadcxt = AllocSetContextCreate(CurrentMemoryContext,
									"tenant_guard rules load",
									ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(loadcxt);
	PG_TRY();
	{
		seg = tg_rules_load_all(rules, relids);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		tg_rules_valid = false;
		tg_rules_free(rules);
		if (seg != NULL && seg != tg_rules_segment)
			dsm_detach(seg);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(loadcxt);

	tg_rules_free(tg_rules_cache);
	tg_rules_cache = rules;
	/* the old rules are gone: their shared list may go too */
	if (tg_rules_segment != NULL && tg_rules_segment != seg)
		dsm_detach(tg_rules_segment);
	tg_rules_segment = seg;
	return rules;
}

/* The rules in force for this backend. */
const TgRules *
tg_current_rules(void)
{
	if (tg_rules_valid && tg_rules_cache != NULL)
		return tg_rules_cache;
	return tg_rules_reload();
}

PG_FUNCTION_INFO_V1(rules_changed);

/*
 * Statement trigger on the rule tables: ask every backend (this one
 * included) to recompile its rules.
 */
Datum
rules_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "rules_changed: not called by trigger manager");
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	for (int i = 0; i < TG_NUM_RULE_TABLES; i++)
		if (strcmp(RelationGetRelationName(trigdata->tg_relation),
				   tg_rule_table_names[i]) == 0)
			tg_rules_shmem_changed(tg_rule_table_names[i]);
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(normal_form);

/*
 * normal_form(value text, kind text DEFAULT 'text') RETURNS text
 *	  How the checker reads a value: 'text' (names, subdomains, keywords)
 *	  or 'domain'.  NULL when the value is unusable as a rule.
 */
Datum
normal_form(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	char	   *kind = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *s = tg_to_utf8(text_to_cstring(value));
	TgNormalKind nk;
	char		out[1024];
	size_t		n;
	int			nwords;

	if (strcmp(kind, "text") == 0)
		nk = TG_NORMAL_TEXT;
	else if (strcmp(kind, "domain") == 0)
		nk = TG_NORMAL_DOMAIN;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid kind \"%s\"", kind),
				 errhint("Use 'text' or 'domain'.")));

	n = tg_normal_form(nk, s, strlen(s), out, sizeof(out), &nwords);
	if (n == 0)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(pg_any_to_server(out, (int) n, PG_UTF8)));
}

/* State for listing the built-in rules into a tuplestore. */
typedef struct TgVisitState
{
	ReturnSetInfo *rsinfo;
} TgVisitState;

/*
 * A built-in rule's text (UTF-8) in the database encoding.  Where that is
 * neither UTF-8 nor SQL_ASCII (bytes as they are), a non-ASCII character
 * is written <U+XXXX>, as in the reasons: some rules, such as the
 * non-Latin keywords, have no equivalent in a single-byte encoding.
 */
static char *
tg_rule_text(const char *value)
{
	int			enc = GetDatabaseEncoding();
	char		buf[512];

	if (enc == PG_UTF8 || enc == PG_SQL_ASCII)
		return pstrdup(value);
	return pnstrdup(buf, tg_ascii_escaped(value, strlen(value), buf, sizeof(buf)));
}

/* Visitor: one row per built-in rule. */
static void
tg_builtin_row(const char *kind, const char *value, const char *strength,
			   void *arg)
{
	TgVisitState *st = (TgVisitState *) arg;
	Datum		values[3];
	bool		nulls[3] = {false, false, strength[0] == '\0'};

	values[0] = CStringGetTextDatum(kind);
	values[1] = CStringGetTextDatum(tg_rule_text(value));
	values[2] = CStringGetTextDatum(strength);
	tuplestore_putvalues(st->rsinfo->setResult, st->rsinfo->setDesc, values, nulls);
}

PG_FUNCTION_INFO_V1(builtin_rules);

/*
 * builtin_rules() RETURNS TABLE (kind text, value text, strength text)
 *	  The rules compiled into the checker, for operators to read.
 */
Datum
builtin_rules(PG_FUNCTION_ARGS)
{
	TgVisitState st;

	InitMaterializedSRF(fcinfo, 0);
	st.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	tg_rules_builtin_visit(tg_builtin_row, &st);
	return (Datum) 0;
}
