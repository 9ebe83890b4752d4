/*-------------------------------------------------------------------------
 *
 * checker.h
 *	  The deciding core of tenant_guard: is a (name, subdomain, email)
 *	  triple test data, and which rules say so?
 *
 * This header and the checker*.c files use only the C standard library
 * and ICU, so the core can be unit-tested and fuzzed without a PostgreSQL
 * server.  The PostgreSQL glue (check.c, rules.c, trigger.c) converts
 * Datums into the plain byte strings taken here, feeds the rule tables in
 * through the builder below and turns the verdict into rows or errors.
 *
 * Inputs are UTF-8 byte strings with explicit lengths (invalid UTF-8 is
 * tolerated); a NULL pointer means "field absent" and is no evidence
 * either way.  The checker never fails: any input, however long or
 * malformed, gets a verdict.  It allocates with malloc() and frees
 * everything before returning, and never calls back into its caller, so
 * no error can interrupt it half-way.
 *
 * Files of the core:
 *	  checker.c        field analysis, the decision and the reason text
 *	  checker_words.c  splitting text into words and parts, normalising
 *	                   them (ASCII fast path; ICU for anything else)
 *	  checker_email.c  e-mail address parsing and rules
 *	  checker_rules.c  the built-in rule data, hash sets, the rule builder
 *	  checker_fast.c   the fast path: proves short ASCII text clean in one
 *	                   pass, or leaves it to the full word scan
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_CHECKER_H
#define TENANT_GUARD_CHECKER_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The core's functions are called only from inside the tenant_guard
 * library (and from the stand-alone tests): keep them out of its dynamic
 * symbol table, so calls between them are direct and can be inlined
 * rather than going through the PLT of a position-independent library.
 */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(hidden)
#endif

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

/*
 * What a keyword means (tenant_guard.keywords.strength):
 *	  strong       test data on its own ("test", "qa", "lorem")
 *	  weak         needs a second signal ("demo", "sandbox", "staging")
 *	  generic      a word a made-up name is built from ("company", "org")
 *	  placeholder  a name nobody would choose when alone ("untitled")
 *	  ignore       switches a built-in keyword off
 */
typedef enum TgStrength
{
	TG_STRENGTH_STRONG = 0,
	TG_STRENGTH_WEAK,
	TG_STRENGTH_GENERIC,
	TG_STRENGTH_PLACEHOLDER,
	TG_STRENGTH_IGNORE
} TgStrength;

/* What an e-mail domain in the rules is (tenant_guard.email_domains.kind). */
typedef enum TgDomainKind
{
	TG_DOMAIN_DISPOSABLE = 0,	/* throw-away mailbox providers */
	TG_DOMAIN_TEST				/* domains used for test data */
} TgDomainKind;

/* What an allowlist entry exempts (tenant_guard.allowlist.kind). */
typedef enum TgAllowKind
{
	TG_ALLOW_NAME = 0,			/* an exact name (after normalisation) */
	TG_ALLOW_SUBDOMAIN,			/* an exact subdomain */
	TG_ALLOW_DOMAIN				/* an e-mail domain and its subdomains */
} TgAllowKind;

/* The built-in rules, compiled once; never NULL, never freed. */
extern const TgRules *tg_rules_builtin(void);

/*
 * Rule builder: a fresh copy of the built-in rules (NULL when out of
 * memory) to which the operator's rows are added, then used with
 * tg_check() and freed with tg_rules_free().  The add functions normalise
 * their argument the way checked text is normalised and return false
 * (adding nothing) for a value they cannot use, e.g. an empty keyword.
 */
extern TgRules *tg_rules_new(void);
extern bool tg_rules_add_keyword(TgRules *rules, const char *word, size_t len,
								 TgStrength strength);
extern bool tg_rules_add_domain(TgRules *rules, const char *domain, size_t len,
								TgDomainKind kind);
extern bool tg_rules_add_allow(TgRules *rules, TgAllowKind kind,
							   const char *value, size_t len);
extern void tg_rules_free(TgRules *rules);

/*
 * The rules' e-mail domain list (built-in and added) as one block of bytes
 * that can be copied anywhere, e.g. into shared memory: its size (0 when
 * empty), writing it, and making other rules read their list from such a
 * block in place (the block must outlive them; false when it is not an
 * image).  checker_image.c.
 */
extern size_t tg_rules_domains_image_size(const TgRules *rules);
extern bool tg_rules_domains_image_write(const TgRules *rules, void *dst,
										 size_t size);
extern bool tg_rules_use_domains_image(TgRules *rules, const void *img,
									   size_t size);
extern size_t tg_rules_domain_count(const TgRules *rules);

/*
 * Write reasons in ASCII only (other characters as <U+XXXX>), for
 * databases whose encoding is not UTF-8.  Default: UTF-8 reasons.
 */
extern void tg_rules_set_ascii_reasons(TgRules *rules, bool ascii_only);

/*
 * Check one triple.  fields[] is indexed by TgField.  Always fills *out,
 * returns out->suspicious.  rules == NULL means the built-in rules.
 */
extern bool tg_check(const TgRules *rules, const TgText fields[TG_NUM_FIELDS],
					 TgVerdict *out);

/* Field name as used in reasons ("name", "subdomain", "email"). */
extern const char *tg_field_name(TgField field);

/*
 * UTF-8 text as reasons show it where they must be ASCII (a database that
 * is not UTF-8): non-ASCII and invisible characters as <U+XXXX>, invalid
 * bytes as <0xFF>.  Writes at most outlen - 1 bytes and a terminator to
 * out (cut with "..." when longer); returns the length written.
 */
extern size_t tg_ascii_escaped(const char *s, size_t len, char *out, size_t outlen);

/*
 * The built-in rules, for listing: calls fn(kind, value, strength, arg)
 * for each keyword ("keyword"), phrase ("phrase"), e-mail domain
 * ("domain") and reserved name ("reserved").
 */
typedef void (*TgRuleVisitor) (const char *kind, const char *value,
							   const char *strength, void *arg);
extern void tg_rules_builtin_visit(TgRuleVisitor fn, void *arg);

/*
 * The normal form rules and checks compare: for TG_NORMAL_TEXT (names,
 * subdomains, keywords) the words' normal forms joined by single spaces
 * ("Ｔｅｓｔ  Co." -> "test co"), for TG_NORMAL_DOMAIN a folded domain
 * without "@", "*." or a trailing dot.  Writes a NUL-terminated string to
 * out and returns its length; 0 when the value is unusable (no words, too
 * long, not a domain).
 */
typedef enum TgNormalKind
{
	TG_NORMAL_TEXT = 0,
	TG_NORMAL_DOMAIN
} TgNormalKind;

extern size_t tg_normal_form(TgNormalKind kind, const char *value, size_t len,
							 char *out, size_t outcap, int *nwords);

/* Names of the enum values above, as used in the rule tables. */
extern const char *tg_strength_name(TgStrength strength);
extern const char *tg_domain_kind_name(TgDomainKind kind);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#endif							/* TENANT_GUARD_CHECKER_H */
