/*-------------------------------------------------------------------------
 *
 * checker.c
 *	  The deciding core: tokenise the fields, match them against the rules
 *	  and explain the verdict.  Plain C, no PostgreSQL headers (checker.h).
 *
 * Rules (1.0):
 *	  - keywords, matched as whole words (ASCII letters and digits form a
 *		word, everything else separates) in name and subdomain, ASCII
 *		case-insensitively: "Test Company" fires, "Contest Media" does not;
 *	  - e-mail domains, matched on the part after the last '@', ASCII
 *		case-insensitively, ignoring one trailing dot.
 *
 *-------------------------------------------------------------------------
 */
#include "checker.h"

#include <string.h>

/* Longest keyword or domain we compare; longer tokens cannot match. */
#define TG_MAX_WORD 64

typedef struct TgWordList
{
	const char *const *words;
	int			nwords;
} TgWordList;

struct TgRules
{
	TgWordList	keywords;		/* whole-word markers in name and subdomain */
	TgWordList	domains;		/* e-mail domains used for test data */
};

static const char *const builtin_keywords[] = {
	"test", "demo", "sample", "fake", "dummy", "example"
};

static const char *const builtin_domains[] = {
	"test.com", "example.com", "fake.com", "temp.com", "throwaway.email",
	"guerrillamail.com", "mailinator.com", "10minutemail.com"
};

#define lengthof_(a) ((int) (sizeof(a) / sizeof((a)[0])))

static const TgRules builtin_rules = {
	{builtin_keywords, lengthof_(builtin_keywords)},
	{builtin_domains, lengthof_(builtin_domains)}
};

static const char *const field_names[TG_NUM_FIELDS] = {
	"name", "subdomain", "email"
};

/* The built-in rules. */
const TgRules *
tg_rules_builtin(void)
{
	return &builtin_rules;
}

/* Field name as used in reasons. */
const char *
tg_field_name(TgField field)
{
	if (field < 0 || field >= TG_NUM_FIELDS)
		return "?";
	return field_names[field];
}

/* ASCII lower-casing that leaves every other byte alone. */
static inline char
tg_ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char) (c + ('a' - 'A')) : c;
}

/* Does a byte belong to a word?  ASCII letters/digits and any non-ASCII. */
static inline bool
tg_is_word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c >= 0x80;
}

/* Find a lower-cased word of length len in a list; NULL when absent. */
static const char *
tg_list_find(const TgWordList *list, const char *word, size_t len)
{
	for (int i = 0; i < list->nwords; i++)
	{
		const char *w = list->words[i];

		if (strncmp(w, word, len) == 0 && w[len] == '\0')
			return w;
	}
	return NULL;
}

/*
 * Append "field: what \"value\"" to the verdict's reason, separated by
 * "; ".  When the buffer is full, end with "; ..." and drop the rest.
 */
static void
tg_verdict_add(TgVerdict *out, TgField field, const char *what,
			   const char *value, size_t value_len)
{
	static const char ellipsis[] = "; ...";
	char		piece[TG_MAX_WORD * 2 + 64];
	size_t		plen = 0;
	const char *fname = tg_field_name(field);
	size_t		need;

	out->suspicious = true;
	out->nhits++;

	/* "; " + "field: " + what + " \"" + value + "\"" */
	if (out->reason_len > 0)
	{
		memcpy(piece, "; ", 2);
		plen = 2;
	}
	need = strlen(fname) + 2 + strlen(what) + 2 + value_len + 1;
	if (need > sizeof(piece) - plen - 1)
		value_len = 0;			/* cannot happen with TG_MAX_WORD values */
	memcpy(piece + plen, fname, strlen(fname));
	plen += strlen(fname);
	memcpy(piece + plen, ": ", 2);
	plen += 2;
	memcpy(piece + plen, what, strlen(what));
	plen += strlen(what);
	memcpy(piece + plen, " \"", 2);
	plen += 2;
	memcpy(piece + plen, value, value_len);
	plen += value_len;
	piece[plen++] = '"';

	/* Already truncated: nothing more fits. */
	if (out->reason_len >= sizeof(ellipsis) - 1 &&
		strcmp(out->reason + out->reason_len - (sizeof(ellipsis) - 1),
			   ellipsis) == 0)
		return;

	if (out->reason_len + plen + sizeof(ellipsis) > TG_REASON_MAX)
	{
		memcpy(out->reason + out->reason_len, ellipsis, sizeof(ellipsis));
		out->reason_len += sizeof(ellipsis) - 1;
		return;
	}
	memcpy(out->reason + out->reason_len, piece, plen);
	out->reason_len += plen;
	out->reason[out->reason_len] = '\0';
}

/* Whole-word keyword rule over one field. */
static void
tg_check_keywords(const TgRules *rules, TgField field, const TgText *text,
				  TgVerdict *out)
{
	const unsigned char *p = (const unsigned char *) text->data;
	const unsigned char *end = p + text->len;

	while (p < end)
	{
		const unsigned char *start;
		char		word[TG_MAX_WORD];
		size_t		len = 0;
		bool		too_long = false;

		while (p < end && !tg_is_word_byte(*p))
			p++;
		start = p;
		while (p < end && tg_is_word_byte(*p))
		{
			if (len < TG_MAX_WORD)
				word[len++] = tg_ascii_lower((char) *p);
			else
				too_long = true;
			p++;
		}
		if (p == start || too_long)
			continue;
		if (tg_list_find(&rules->keywords, word, len) != NULL)
			tg_verdict_add(out, field, "test keyword", word, len);
	}
}

/* Domain rule over the e-mail field. */
static void
tg_check_email(const TgRules *rules, const TgText *text, TgVerdict *out)
{
	const char *at = NULL;
	const char *domain;
	size_t		dlen;
	char		lower[TG_MAX_WORD];

	for (size_t i = 0; i < text->len; i++)
		if (text->data[i] == '@')
			at = text->data + i;
	if (at == NULL)
		return;
	domain = at + 1;
	dlen = text->len - (size_t) (domain - text->data);
	if (dlen > 0 && domain[dlen - 1] == '.')
		dlen--;
	if (dlen == 0 || dlen > TG_MAX_WORD)
		return;
	for (size_t i = 0; i < dlen; i++)
		lower[i] = tg_ascii_lower(domain[i]);
	if (tg_list_find(&rules->domains, lower, dlen) != NULL)
		tg_verdict_add(out, TG_FIELD_EMAIL, "test domain", lower, dlen);
}

/* Check one triple against the rules. */
bool
tg_check(const TgRules *rules, const TgText fields[TG_NUM_FIELDS],
		 TgVerdict *out)
{
	out->suspicious = false;
	out->nhits = 0;
	out->reason_len = 0;
	out->reason[0] = '\0';

	if (rules == NULL)
		rules = tg_rules_builtin();

	if (fields[TG_FIELD_NAME].data != NULL)
		tg_check_keywords(rules, TG_FIELD_NAME, &fields[TG_FIELD_NAME], out);
	if (fields[TG_FIELD_SUBDOMAIN].data != NULL)
		tg_check_keywords(rules, TG_FIELD_SUBDOMAIN,
						  &fields[TG_FIELD_SUBDOMAIN], out);
	if (fields[TG_FIELD_EMAIL].data != NULL)
		tg_check_email(rules, &fields[TG_FIELD_EMAIL], out);

	return out->suspicious;
}
