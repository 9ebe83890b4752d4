/*-------------------------------------------------------------------------
 *
 * checker.h
 *	  The deciding core of tenant_guard: is a (name, subdomain, email)
 *	  triple test data, and which rules say so?
 *
 * This header and checker.c use only the C standard library, so the core
 * can be unit-tested and fuzzed without a PostgreSQL server.  The
 * PostgreSQL glue (check.c, trigger.c) converts Datums into the plain byte
 * strings taken here and turns the verdict into rows or errors.
 *
 * Inputs are UTF-8 byte strings with explicit lengths; a NULL pointer
 * means "field absent" and is no evidence either way.  The checker never
 * fails: any input, however long or malformed, gets a verdict.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_CHECKER_H
#define TENANT_GUARD_CHECKER_H

#include <stdbool.h>
#include <stddef.h>

/* The fields the checker looks at. */
typedef enum TgField
{
	TG_FIELD_NAME = 0,
	TG_FIELD_SUBDOMAIN,
	TG_FIELD_EMAIL,
	TG_NUM_FIELDS
} TgField;

/* One field's value: data == NULL means the field is absent (SQL NULL). */
typedef struct TgText
{
	const char *data;
	size_t		len;
} TgText;

/*
 * Room for the human-readable reason.  Longer explanations are cut at a
 * rule boundary and end with "; ..." so the text stays well-formed.
 */
#define TG_REASON_MAX 1024

/* The verdict on one triple. */
typedef struct TgVerdict
{
	bool		suspicious;		/* did any rule fire? */
	int			nhits;			/* how many rules fired */
	size_t		reason_len;		/* strlen(reason) */
	char		reason[TG_REASON_MAX];	/* "name: test keyword \"test\"; ..." */
} TgVerdict;

/* Compiled rules; opaque to callers. */
typedef struct TgRules TgRules;

/* The built-in rules, compiled once; never NULL, never freed. */
extern const TgRules *tg_rules_builtin(void);

/*
 * Check one triple.  fields[] is indexed by TgField.  Always fills *out,
 * returns out->suspicious.
 */
extern bool tg_check(const TgRules *rules, const TgText fields[TG_NUM_FIELDS],
					 TgVerdict *out);

/* Field name as used in reasons ("name", "subdomain", "email"). */
extern const char *tg_field_name(TgField field);

#endif							/* TENANT_GUARD_CHECKER_H */
