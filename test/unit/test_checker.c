/*-------------------------------------------------------------------------
 *
 * test_checker.c
 *	  Stand-alone test of the deciding core (src/checker*.c, and the
 *	  rate-limit keys of src/ratekey*.c), no server: invariants on odd
 *	  input, the rule builder, the fast path against the full scan on
 *	  generated text, the e-mail key's folding of look-alikes, and the
 *	  labelled corpus (test/corpus/corpus.tsv) scored for precision and
 *	  recall, and a dictionary of plain words that must pass.
 *
 *	  usage: test_checker CORPUS.tsv [WORDS]
 *	  exit status 0 when every check passes, the corpus has 700 cases or
 *	  more, precision >= 0.99 and recall >= 0.98 (prints both, and every
 *	  misclassified case), and no word of WORDS (one a line, e.g.
 *	  /usr/share/dict/words) that is not itself a keyword is flagged.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checker.h"
#include "ratekey.h"

static int failures = 0;

#define CHECK(cond, ...) \
	do { \
		if (!(cond)) { \
			failures++; \
			printf("FAIL %s:%d: ", __FILE__, __LINE__); \
			printf(__VA_ARGS__); \
			printf("\n"); \
		} \
	} while (0)

/* Is s[0..n) valid UTF-8 (no NULs)? */
static int
valid_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t		i = 0;

	while (i < n)
	{
		unsigned char c = p[i];
		int			k;

		if (c == 0)
			return 0;
		if (c < 0x80)
			k = 0;
		else if ((c & 0xE0) == 0xC0 && c >= 0xC2)
			k = 1;
		else if ((c & 0xF0) == 0xE0)
			k = 2;
		else if ((c & 0xF8) == 0xF0 && c <= 0xF4)
			k = 3;
		else
			return 0;
		for (int j = 1; j <= k; j++)
			if (i + j >= n || (p[i + j] & 0xC0) != 0x80)
				return 0;
		i += k + 1;
	}
	return 1;
}

/* Check a triple and the verdict's invariants; returns suspicious. */
static int
check3(const TgRules *rules, const char *name, size_t nlen, const char *sub,
	   const char *email, TgVerdict *v)
{
	TgText		f[TG_NUM_FIELDS] = {
		{name, nlen}, {sub, sub ? strlen(sub) : 0}, {email, email ? strlen(email) : 0}
	};

	tg_check(rules, f, v);
	CHECK(v->reason_len == strlen(v->reason), "reason_len %zu != strlen", v->reason_len);
	CHECK(v->reason_len < TG_REASON_MAX, "reason too long");
	CHECK(valid_utf8(v->reason, v->reason_len), "reason not valid UTF-8: %s", v->reason);
	CHECK(v->suspicious == (v->nhits > 0), "suspicious/nhits disagree");
	CHECK(!v->suspicious || v->reason_len > 0, "suspicious without a reason");
	return v->suspicious;
}

/* Odd input of every kind gets a verdict. */
static void
test_odd_input(void)
{
	TgVerdict	v;
	size_t		big = 1024 * 1024;
	char	   *s = malloc(big + 16);
	static const char *const odd[] = {
		"", " ", "\xff\xfe\xfd", "te\xc3st", "\xe2\x80\xae" "tset", "\xcc\x81\xcc\x81",
		"test\xf0\x9f", "@", "@@@", "a@", "@b", "a@b", "\xef\xbb\xbf", "\xe2\x80\x8b",
		"T\xcc\xb6\xcc\xb6\xcc\xb6", "..........", "-", "a@\xff.com", "\xf4\x90\x80\x80",
	};

	CHECK(s != NULL, "out of memory");
	if (s == NULL)
		return;
	s[big] = '\0';				/* check3() takes the subdomain's length with strlen() */
	CHECK(!check3(NULL, NULL, 0, NULL, NULL, &v), "all NULL is suspicious");
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
		check3(NULL, odd[i], strlen(odd[i]), odd[i], odd[i], &v);

	/* 1 MB of one letter, of words, of combining marks, of invalid bytes */
	memset(s, 'a', big);
	CHECK(check3(NULL, s, big, NULL, NULL, &v), "1 MB of 'a' passes");
	for (size_t i = 0; i < big; i++)
		s[i] = "acme widgets "[i % 13];
	CHECK(!check3(NULL, s, big, NULL, NULL, &v), "1 MB of words is suspicious: %s", v.reason);
	memcpy(s + big - 5, " test", 5);
	CHECK(check3(NULL, s, big, NULL, NULL, &v), "test at the end of 1 MB missed");
	for (size_t i = 0; i + 1 < big; i += 2)
		memcpy(s + i, "\xcc\x81", 2);
	check3(NULL, s, big, s, NULL, &v);
	memset(s, 0xff, big);
	check3(NULL, s, big, s, NULL, &v);
	memset(s, 'x', big);
	s[big - 10] = '@';
	check3(NULL, NULL, 0, NULL, s, &v);
	for (size_t i = 0; i < big; i++)
		s[i] = "test "[i % 5];
	CHECK(check3(NULL, s, big, NULL, NULL, &v), "repeated test missed");
	CHECK(v.reason_len < 200, "a repeated rule is named more than once: %s", v.reason);
	free(s);
}

/* The builder: operator keywords, domains, allowlist, ASCII reasons. */
static void
test_builder(void)
{
	TgRules    *r = tg_rules_new();
	TgVerdict	v;

	CHECK(r != NULL, "tg_rules_new failed");
	if (r == NULL)
		return;
	CHECK(tg_rules_add_keyword(r, "Widgets", 7, TG_STRENGTH_STRONG), "add keyword");
	CHECK(!tg_rules_add_keyword(r, "---", 3, TG_STRENGTH_STRONG), "junk keyword accepted");
	CHECK(tg_rules_add_keyword(r, "qa", 2, TG_STRENGTH_IGNORE), "ignore");
	CHECK(tg_rules_add_domain(r, "@Spam.IO.", 9, TG_DOMAIN_DISPOSABLE), "add domain");
	CHECK(!tg_rules_add_domain(r, "a b", 3, TG_DOMAIN_DISPOSABLE), "junk domain accepted");
	CHECK(tg_rules_add_allow(r, TG_ALLOW_NAME, "The Test Kitchen", 16), "allow name");
	CHECK(check3(r, "Acme Widgets", 12, NULL, NULL, &v), "operator keyword missed");
	CHECK(!check3(r, "QA Partners", 11, NULL, NULL, &v), "ignored keyword fired: %s", v.reason);
	CHECK(check3(r, NULL, 0, NULL, "a@x.spam.io", &v), "operator domain missed");
	CHECK(!check3(r, "the test KITCHEN", 16, NULL, NULL, &v), "allowlisted name fired");
	CHECK(check3(NULL, "QA Partners", 11, NULL, NULL, &v), "built-in rules changed by a copy");
	tg_rules_set_ascii_reasons(r, true);
	check3(r, "T\xd0\xb5st", 5, NULL, NULL, &v);
	for (size_t i = 0; i < v.reason_len; i++)
		CHECK((unsigned char) v.reason[i] < 0x80, "non-ASCII in an ASCII reason: %s", v.reason);
	tg_rules_free(r);
}

/*
 * The cache of clean e-mail domains: a domain found clean once is clean
 * again, a domain the rules then list or allow is not taken from the
 * cache, and a cached domain never excuses its local part.
 */
static void
test_domain_cache(void)
{
	TgRules    *r = tg_rules_new();
	TgVerdict	v;
	char		addr[80];

	CHECK(r != NULL, "tg_rules_new failed");
	if (r == NULL)
		return;
	for (int round = 0; round < 2; round++)
	{
		CHECK(check3(r, NULL, 0, NULL, "ana@Mailinator.com", &v),
			  "round %d: listed domain missed", round);
		CHECK(!check3(r, NULL, 0, NULL, "ana@Northwind.COM", &v),
			  "round %d: clean address fired: %s", round, v.reason);
		CHECK(check3(r, NULL, 0, NULL, "test@Northwind.COM", &v),
			  "round %d: local part behind a cached domain missed", round);
	}
	/*
	 * Behind a cached domain, tg_check() screens the local part of a usual
	 * address in its one pass over the row; everything else about an
	 * address still gets tg_check_email()'s verdict.
	 */
	{
		static const char *const odd[] = {
			".ana@Northwind.COM", "ana.@Northwind.COM", "an..a@Northwind.COM",
			"ana@@Northwind.COM", "@Northwind.COM", "ana+test@Northwind.COM",
			"qa.team@Northwind.COM", "ana@Northwind.COM@Northwind.COM",
		};
		static const char *const usual[] = {
			"Jane.Smith-Lee_2@Northwind.COM", "a@Northwind.COM", "ana+signup@Northwind.COM",
			"ANA@Northwind.COM", "x-y_z.w9@Northwind.COM",
		};

		for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
			CHECK(check3(r, NULL, 0, NULL, odd[i], &v), "%s passed", odd[i]);
		for (size_t i = 0; i < sizeof(usual) / sizeof(usual[0]); i++)
			CHECK(!check3(r, NULL, 0, NULL, usual[i], &v), "%s fired: %s", usual[i], v.reason);
	}
	/* many domains: slots are reused, verdicts stay */
	for (int i = 0; i < 500; i++)
	{
		snprintf(addr, sizeof(addr), "ops@harbor%d.com", i);
		CHECK(!check3(r, NULL, 0, NULL, addr, &v), "%s fired: %s", addr, v.reason);
		snprintf(addr, sizeof(addr), "qa@harbor%d.com", i % 7);
		CHECK(check3(r, NULL, 0, NULL, addr, &v), "%s missed", addr);
	}
	/* a rule added after the domain was cached */
	CHECK(!check3(r, NULL, 0, NULL, "ana@Northwind.COM", &v), "clean address fired");
	CHECK(tg_rules_add_domain(r, "northwind.com", 13, TG_DOMAIN_DISPOSABLE), "add domain");
	CHECK(check3(r, NULL, 0, NULL, "ana@Northwind.COM", &v),
		  "domain listed after it was cached passed");
	CHECK(tg_rules_add_allow(r, TG_ALLOW_DOMAIN, "harbor3.com", 11), "allow domain");
	CHECK(!check3(r, NULL, 0, NULL, "qa@harbor3.com", &v),
		  "domain allowed after it was cached still fired: %s", v.reason);
	tg_rules_free(r);
}

/* ---- the fast path against the full scan, on generated text ---- */

#define MIX_VOCAB_MAX 2048

typedef struct MixVocab
{
	const char *w[MIX_VOCAB_MAX];
	int			n;
	const char *phrase[MIX_VOCAB_MAX];	/* "do not use" */
	int			nphrase;
	const char *business[MIX_VOCAB_MAX];	/* "test kitchen" */
	int			nbusiness;
} MixVocab;

/* Keep every built-in keyword, stop word and compound part of one word. */
static void
mix_collect(const char *kind, const char *value, const char *strength, void *arg)
{
	MixVocab   *v = (MixVocab *) arg;

	if (strcmp(kind, "business phrase") == 0 && v->nbusiness < MIX_VOCAB_MAX)
		v->business[v->nbusiness++] = value;
	else if (strcmp(kind, "phrase") == 0 && strcmp(strength, "strong") == 0 &&
			 v->nphrase < MIX_VOCAB_MAX && strlen(value) < 40)
		v->phrase[v->nphrase++] = value;
	else if (strchr(value, ' ') != NULL)
		return;					/* weak phrases need a second signal */
	else if (v->n < MIX_VOCAB_MAX && strchr(value, ' ') == NULL && strchr(value, '.') == NULL &&
			 strlen(value) < 24)
		v->w[v->n++] = value;
}

static unsigned long long mix_state = 0x9E3779B97F4A7C15ULL;

/* xorshift64*: the same texts every run. */
static unsigned
mix_rnd(unsigned n)
{
	mix_state ^= mix_state >> 12;
	mix_state ^= mix_state << 25;
	mix_state ^= mix_state >> 27;
	return (unsigned) ((mix_state * 2685821657736338717ULL) >> 33) % n;
}

/* Append one generated word to buf (at *len, capacity cap). */
static void
mix_word(const MixVocab *v, char *buf, size_t *len, size_t cap)
{
	/* real words, some of whose first or last letters start or end rules */
	static const char *const near[] = {"harbor", "logistics", "studios", "dental",
		"foods", "bakery", "stark", "prestige", "sterling", "tyrell", "travel",
		"contoso", "blue", "info", "hello", "admin", "ops", "sales", "jane", "doe",
		"ana", "lima", "office", "acme", "media", "systems", "labs", "capital",
	"asdf", "qwerty", "zxcvb", "poiuy", "hjkl", "aaaa", "deadbeef", "cafe"};
	unsigned	nnear = sizeof(near) / sizeof(near[0]);
	char		w[128];
	size_t		n;
	unsigned	shape = mix_rnd(10);
	const char *a = mix_rnd(6) == 0 ? v->w[mix_rnd((unsigned) v->n)] : near[mix_rnd(nnear)];
	const char *b = mix_rnd(3) == 0 ? v->w[mix_rnd((unsigned) v->n)] : near[mix_rnd(nnear)];

	if (shape == 9 && v->nphrase > 0)	/* a phrase among other words */
		snprintf(w, sizeof(w), "%s", v->phrase[mix_rnd((unsigned) v->nphrase)]);
	else if (shape <= 1)		/* two words as one: compounds */
		snprintf(w, sizeof(w), "%s%s", a, b);
	else if (shape == 2)		/* a word and digits */
		snprintf(w, sizeof(w), "%s%u", a, mix_rnd(3) ? mix_rnd(100000) : mix_rnd(10));
	else if (shape == 3)		/* a camelCase pair */
		snprintf(w, sizeof(w), "%s%c%s", a, b[0] & ~0x20, b + 1);
	else
		snprintf(w, sizeof(w), "%s", a);
	n = strlen(w);
	for (size_t i = 0; i < n; i++)
	{
		unsigned	r = mix_rnd(40);

		if (r == 0 && w[i] >= 'a' && w[i] <= 'z')
			w[i] = (char) (w[i] & ~0x20);	/* a capital anywhere */
		else if (r == 1)
		{
			const char *leet = strchr("oiezasbt", w[i]);

			if (leet != NULL && *leet != '\0')
				w[i] = "01345578"[leet - "oiezasbt"];	/* leetspeak */
		}
	}
	if (mix_rnd(3) == 0 && w[0] >= 'a' && w[0] <= 'z')
		w[0] = (char) (w[0] & ~0x20);	/* Title case */
	if (*len + n + 2 < cap)
	{
		if (*len > 0)
			buf[(*len)++] = " -._@[`{/:~"[mix_rnd(11)];	/* the class edges */
		memcpy(buf + *len, w, n);
		*len += n;
		buf[*len] = '\0';
	}
}

/*
 * Built with -DTG_VERIFY_FAST_PATH, every text the fast path calls clean
 * is scanned in full as well, and a disagreement aborts: so this feeds it
 * many texts near the rules -- keywords, compounds, camelCase, digits,
 * leetspeak, real words whose first or last letters start or end a rule
 * -- as names, subdomains and e-mail local parts, with the built-in rules
 * and with operator keywords added (which change the words masks).
 */
static void
test_fast_path_mix(void)
{
	MixVocab	v = {{0}, 0, {0}, 0, {0}, 0};
	TgRules    *r = tg_rules_new();
	int			flagged = 0;
	int			total = 0;
	static const char *const extra[] = {"harbor", "ics", "dental", "zz", "stige"};
	/* operator phrases whose first word is a generic or stop word */
	static const char *const extra_phrase[] = {"company harbor", "the bakery", "inc labs"};

	CHECK(r != NULL, "tg_rules_new failed");
	if (r == NULL)
		return;
	tg_rules_builtin_visit(mix_collect, &v);
	CHECK(v.n > 100, "only %d built-in words", v.n);
	CHECK(v.nphrase > 5, "only %d built-in phrases", v.nphrase);
	if (v.n == 0)
		return;

	/*
	 * every business phrase ("test kitchen") between real-looking words
	 * passes: the strong keyword in it counts as weak
	 */
	for (int i = 0; i < v.nbusiness; i++)
	{
		static const char *const wrap[] = {"Blue Harbor %s", "%s Logistics",
		"Acme %s Foods", "harbor-%s", "%s-bakery-rstv"};
		TgVerdict	verdict;

		for (int k = 0; k < 5; k++)
		{
			char		text[128];

			snprintf(text, sizeof(text), wrap[k], v.business[i]);
			if (k >= 3)
				for (char *c = text; *c; c++)
					*c = (*c == ' ') ? '-' : *c;
			CHECK(!check3(r, text, strlen(text), NULL, NULL, &verdict),
				  "business phrase in \"%s\" flagged: %s", text, verdict.reason);
		}
	}

	/* every phrase between real-looking words, as a name and as a slug */
	for (int i = 0; i < v.nphrase; i++)
	{
		static const char *const wrap[] = {"Blue Harbor %s", "%s Logistics",
		"Acme %s Foods", "harbor-%s", "%s-bakery-rstv"};
		TgVerdict	verdict;

		for (int k = 0; k < 5; k++)
		{
			char		text[128];

			snprintf(text, sizeof(text), wrap[k], v.phrase[i]);
			if (k >= 3)
				for (char *c = text; *c; c++)
					*c = (*c == ' ') ? '-' : *c;
			CHECK(check3(r, text, strlen(text), NULL, NULL, &verdict),
				  "phrase \"%s\" in \"%s\" missed", v.phrase[i], text);
		}
	}
	for (int round = 0; round < 2; round++)
	{
		if (round == 1)
		{
			TgVerdict	verdict;

			for (int i = 0; i < 5; i++)
				CHECK(tg_rules_add_keyword(r, extra[i], strlen(extra[i]),
										   i % 2 ? TG_STRENGTH_WEAK : TG_STRENGTH_STRONG),
					  "add keyword %s", extra[i]);
			for (int i = 0; i < 3; i++)
			{
				char		text[128];

				CHECK(tg_rules_add_keyword(r, extra_phrase[i], strlen(extra_phrase[i]),
										   TG_STRENGTH_STRONG),
					  "add phrase %s", extra_phrase[i]);
				snprintf(text, sizeof(text), "Blue %s Foods", extra_phrase[i]);
				CHECK(check3(r, text, strlen(text), NULL, NULL, &verdict),
					  "operator phrase in \"%s\" missed", text);
				snprintf(text, sizeof(text), "acme-%s-rstv", extra_phrase[i]);
				for (char *c = text; *c; c++)
					*c = (*c == ' ') ? '-' : *c;
				CHECK(check3(r, NULL, 0, text, NULL, &verdict),
					  "operator phrase in \"%s\" missed", text);
			}
		}
		for (int i = 0; i < 100000; i++)
		{
			char		name[200];
			char		email[260];
			size_t		len = 0;
			size_t		elen = 0;
			int			words = 1 + (int) mix_rnd(4);
			TgVerdict	verdict;

			name[0] = email[0] = '\0';
			for (int k = 0; k < words; k++)
				mix_word(&v, name, &len, sizeof(name) - 1);
			mix_word(&v, email, &elen, 64);
			snprintf(email + elen, sizeof(email) - elen, "@harbor%d.com", i % 50);
			flagged += check3(r, name, len, i % 2 ? name : NULL, email, &verdict);
			total++;
		}
	}
	printf("fast path mix: %d generated triples, %d flagged\n", total, flagged);
	/* both verdicts occur: the texts are near the rules, not all clean */
	CHECK(flagged > total / 20 && flagged < total - total / 20,
		  "%d of %d generated texts flagged", flagged, total);
	tg_rules_free(r);
}

/* Undo the corpus file's \N and backslash escapes in place. */
static char *
unescape(char *s)
{
	char	   *o = s;

	if (strcmp(s, "\\N") == 0)
		return NULL;
	for (char *p = s; *p; p++)
	{
		if (*p == '\\' && p[1])
		{
			p++;
			*o++ = (*p == 't') ? '\t' : (*p == 'n') ? '\n' : *p;
		}
		else
			*o++ = *p;
	}
	*o = '\0';
	return s;
}

/* Score the labelled corpus. */
static void
test_corpus(const char *path)
{
	FILE	   *f = fopen(path, "r");
	char		line[8192];
	int			tp = 0, fp = 0, fn = 0, tn = 0;
	double		precision, recall;

	CHECK(f != NULL, "cannot open %s", path);
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f))
	{
		char	   *col[5] = {0};
		char	   *p = line;
		int			k = 0;
		TgVerdict	v;
		int			is_test;
		int			flagged;

		line[strcspn(line, "\n")] = '\0';
		col[0] = p;
		while (k < 4 && (p = strchr(p, '\t')) != NULL)
		{
			*p++ = '\0';
			col[++k] = p;
		}
		if (k != 4)
		{
			CHECK(0, "bad corpus line: %s", line);
			continue;
		}
		is_test = strcmp(col[0], "test") == 0;
		for (int i = 2; i < 5; i++)
			col[i] = unescape(col[i]);
		flagged = check3(NULL, col[2], col[2] ? strlen(col[2]) : 0, col[3], col[4], &v);
		if (is_test && flagged)
			tp++;
		else if (is_test)
		{
			fn++;
			printf("missed (%s): %s | %s | %s\n", col[1], col[2] ? col[2] : "NULL",
				   col[3] ? col[3] : "NULL", col[4] ? col[4] : "NULL");
		}
		else if (flagged)
		{
			fp++;
			printf("false alarm (%s): %s | %s | %s -- %s\n", col[1],
				   col[2] ? col[2] : "NULL", col[3] ? col[3] : "NULL",
				   col[4] ? col[4] : "NULL", v.reason);
		}
		else
			tn++;
	}
	fclose(f);
	precision = tp + fp ? (double) tp / (tp + fp) : 0;
	recall = tp + fn ? (double) tp / (tp + fn) : 0;
	printf("corpus: %d cases (%d test, %d real): precision %.3f, recall %.3f "
		   "(tp %d, fp %d, fn %d, tn %d)\n",
		   tp + fp + fn + tn, tp + fn, fp + tn, precision, recall, tp, fp, fn, tn);
	CHECK(tp + fp + fn + tn >= 700, "corpus has fewer than 700 cases");
	CHECK(precision >= 0.99, "precision %.3f below 0.99", precision);
	CHECK(recall >= 0.98, "recall %.3f below 0.98", recall);
}

/* The built-in keywords (one word, any strength), for the dictionary test. */
typedef struct DictKeywords
{
	const char *w[1024];
	int			n;
} DictKeywords;

static void
dict_collect(const char *kind, const char *value, const char *strength, void *arg)
{
	DictKeywords *k = (DictKeywords *) arg;

	(void) strength;
	if (strcmp(kind, "keyword") == 0 && k->n < 1024)
		k->w[k->n++] = value;
}

/*
 * Every word of a dictionary (one a line: Debian's wamerican), lower-case
 * and capitalised, as a name and as a subdomain: a word that is not itself
 * a built-in keyword (the part before an apostrophe: "test's" is "test")
 * is never flagged.  Prints how many checks flagged, and every false one.
 */
static void
test_dictionary(const char *path)
{
	FILE	   *f = fopen(path, "r");
	char		line[256];
	DictKeywords kw = {{0}, 0};
	int			checks = 0;
	int			flagged = 0;
	int			keyword_words = 0;
	int			false_alarms = 0;

	if (f == NULL)
	{
		printf("dictionary %s not found: dictionary test skipped\n", path);
		return;
	}
	tg_rules_builtin_visit(dict_collect, &kw);
	while (fgets(line, sizeof(line), f))
	{
		char		v[2][256];
		char		head[256];
		bool		is_kw = false;
		size_t		n;

		line[strcspn(line, "\r\n")] = '\0';
		n = strlen(line);
		if (n == 0)
			continue;
		for (size_t i = 0; i <= n; i++)
			v[0][i] = (line[i] >= 'A' && line[i] <= 'Z') ? (char) (line[i] | 0x20) : line[i];
		memcpy(v[1], v[0], n + 1);
		if (v[1][0] >= 'a' && v[1][0] <= 'z')
			v[1][0] = (char) (v[1][0] & ~0x20);
		memcpy(head, v[0], n + 1);
		head[strcspn(head, "'")] = '\0';
		for (int i = 0; i < kw.n && !is_kw; i++)
			is_kw = strcmp(head, kw.w[i]) == 0;
		keyword_words += is_kw;
		for (int k = 0; k < 2; k++)
			for (int field = 0; field < 2; field++)
			{
				TgVerdict	verdict;
				bool		hit = field == 0 ?
					check3(NULL, v[k], n, NULL, NULL, &verdict) :
					check3(NULL, NULL, 0, v[k], NULL, &verdict);

				checks++;
				flagged += hit;
				if (hit && !is_kw)
				{
					false_alarms++;
					printf("dictionary false alarm: %s (%s) -- %s\n", v[k],
						   field == 0 ? "name" : "subdomain", verdict.reason);
				}
			}
	}
	fclose(f);
	printf("dictionary: %d checks, %d flagged, %d of them on words that are no "
		   "built-in keyword (%d words are)\n",
		   checks, flagged, false_alarms, keyword_words);
	CHECK(checks > 0, "empty dictionary %s", path);
	CHECK(false_alarms == 0, "%d dictionary words flagged", false_alarms);
}

/* ---- the rate-limit e-mail key (ratekey*.c) ---- */

/* The key of s as a NUL-terminated string in a static buffer; NULL: not counted. */
static const char *
email_key(const char *s, size_t n)
{
	static char out[2][512];
	static int	which = 0;
	char	   *o = out[which ^= 1];
	size_t		klen = tg_email_key(s, n, o, sizeof(out[0]) - 1);

	if (klen == 0)
		return NULL;
	if (klen > sizeof(out[0]) - 1)
		return "(too long)";
	o[klen] = '\0';
	return o;
}

/*
 * Look-alikes of one address count as one; different addresses never do;
 * the fast path agrees with the general one; odd input gets a key or
 * "not counted", never a crash.
 */
static void
test_email_key(void)
{
	static const char *const mara[] = {
		"mara@harbor-cafe.de",
		"  MARA@Harbor-Cafe.DE  ",
		"mara+signup@harbor-cafe.de.",
		"ma\u200Bra@harbor-cafe.de",			/* zero-width space */
		"m\u200Ba\u200Bra@harbor-cafe.de",		/* two of them */
		"\uFF4Dara@harbor-cafe.de",				/* fullwidth m */
		"\uFF2D\uFF21\uFF32\uFF21@\uFF28arbor-cafe.de",	/* fullwidth capitals */
		"m\u0430ra@harbor-cafe.de",				/* Cyrillic a */
		"m\u0430r\u0430@h\u0430rbor-c\u0430fe.de",	/* Cyrillic a, domain too */
		"m\u0251ra@harbor-cafe.de",				/* Latin alpha */
		"mar\u03B1@harbor-cafe.de",				/* Greek alpha */
		"ma\u00ADra@harbor-cafe.de",			/* soft hyphen */
		"\uFEFFmara@harbor-cafe.de\u200B",		/* byte-order mark, ZWSP at the end */
		"\u202Emara@harbor-cafe.de",			/* right-to-left override */
		"ma\u200Dra@harbor-cafe.de",			/* zero-width joiner */
		"mara@harbor\u200C-cafe.de",			/* a non-joiner where no script needs one */
		"mara\uFF20harbor-cafe.de",				/* fullwidth @ */
		"mara\uFF0Bx@harbor-cafe.de",			/* fullwidth + */
		"mara@harbor-cafe\u3002de",				/* ideographic full stop */
		"mara@harbor-cafe\uFF0Ede",				/* fullwidth full stop */
		"\u00A0mara@harbor-cafe.de\u3000",		/* no-break and ideographic space */
		"m\u0430ra@HARBOR-CAFE.DE",
		"ma\u2800ra@harbor-cafe.de",			/* braille pattern blank */
		"ma\U0001D159ra@harbor-cafe.de",		/* musical null notehead */
		"mara@harbor\u2010cafe.de",				/* Unicode hyphen */
		"mara@harbor\u2011cafe.de",				/* non-breaking hyphen */
		"mara@harbor\u2013cafe.de",				/* en dash */
		"mara@harbor\u2212cafe.de",				/* minus sign */
		"mara@harbor\u02D7cafe.de",				/* modifier letter minus */
	};
	static const char *const gmail[] = {
		"analima@gmail.com", "Ana.Lima+x@GoogleMail.com", "ana.lima@gm\u0430il.com",
		"\uFF41na.lima@\uFF47mail.com", "ana\uFF0Elima@gmail.com", "an\u200Ba.lima@gmail.com",
	};
	/* pairs that are two addresses and must stay two keys */
	static const char *const distinct[][2] = {
		{"rene@acme.fr", "ren\u00E9@acme.fr"},			/* accents count */
		{"muller@acme.de", "m\u00FCller@acme.de"},
		{"strasse@acme.de", "stra\u00DFe@acme.de"},		/* sharp s in the local part */
		{"a@strasse.de", "a@stra\u00DFe.de"},			/* and in an IDN domain */
		{"cop@mail.ru", "\u0441\u043E\u0440@mail.ru"},	/* all Cyrillic: a Cyrillic address */
		{"a@cop.ru", "a@\u0441\u043E\u0440.ru"},
		{"ooo@acme.gr", "\u03C3\u03BF\u03BF@acme.gr"},	/* all Greek */
		{"\u03C3\u03BF\u03C6\u03B9\u03B1@acme.gr", "\u03BF\u03BF\u03C6\u03B9\u03B1@acme.gr"},
		{"a@\u03C3.gr", "a@\u03C2.gr"},					/* final sigma is IDNA-distinct */
		{"john@acme.com", "j0hn@acme.com"},				/* ASCII never folds */
		{"mara@acme.com", "rnara@acme.com"},
		{"lily@acme.com", "1ily@acme.com"},
		{"mara@acme.com", "mara@acme.co"},
		{"j.doe@acme.com", "jdoe@acme.com"},			/* dots count outside gmail */
		{"m\xff" "ara@acme.com", "m\xfe" "ara@acme.com"},	/* invalid bytes as they are */
		{"m\xff" "ara@acme.com", "mara@acme.com"},
		{"\u7530\u4E2D@acme.jp", "\u7530\u53E3@acme.jp"},
		{"a@\u0645\u0627\u0647\u200C\u0646\u0627\u0645\u0647.ir",	/* a joiner Arabic needs */
		 "a@\u0645\u0627\u0647\u0646\u0627\u0645\u0647.ir"},
	};
	/* written one way, counted as another */
	static const char *const exact[][2] = {
		{"\u0412\u0410\u0421\u042F@Mail.RU", "\u0432\u0430\u0441\u044F@mail.ru"},	/* one script: kept, folded */
		{"a@xn--bcher-kva.de", "a@b\u00FCcher.de"},		/* an A-label is its U-label */
		{"a@XN--BCHER-KVA.de", "a@b\u00FCcher.de"},
		{"a@B\u00DCCHER.de", "a@b\u00FCcher.de"},
		{"a@xn--strae-oqa.de", "a@stra\u00DFe.de"},
		{"a@Mail.XN--bcher-kva.de.", "a@mail.b\u00FCcher.de"},	/* in any label */
		{"a@my-shop.de", "a@my-shop.de"},
		{"a@xn-shop.de", "a@xn-shop.de"},
		{"a@xn--harbor-cafe-.de", "a@xn--harbor-cafe-.de"},	/* not a valid A-label: as written */
		{"ab--cd@Acme--Corp.com", "ab--cd@acme--corp.com"},	/* "--" only takes the long way */
		{"\u00C9LODIE@acme.fr", "\u00E9lodie@acme.fr"},
		{"e\u0301lodie@acme.fr", "\u00E9lodie@acme.fr"},	/* NFKC composes */
		{"\u0441\u043E\u0440.ivan@acme.com", "cop.ivan@acme.com"},	/* mixed with Latin: folded */
		{"\uFB01ona@acme.com", "fiona@acme.com"},		/* ligature */
		{"\u2167@acme.com", "viii@acme.com"},			/* Roman numeral */
		{"x@\u0430cme.com", "x@acme.com"},			/* a mixed label folds */
		{"x@\u0430.com", "x@\u0430.com"},			/* a Cyrillic one does not */
		{"no-at-sign", "no-at-sign"},
		{"\uFF2E\uFF2F-AT", "no-at"},
		{"+tag@acme.com", "+tag@acme.com"},
		{"a@b@c.com", "a@b@c.com"},
		{"\"x+y\"@acme.com", "\"x@acme.com"},
		{"a@", "a@"},
		{"a@.", "a@"},
		{"@acme.com", "@acme.com"},
	};
	static const char *const blank[] = {"", "   ", "\u200B", " \u200B\u00AD\uFEFF ", "\u3000"};
	const char *want = email_key("mara@harbor-cafe.de", 19);
	char		small[4];
	char	   *big;
	size_t		n;
	size_t		klen;

	CHECK(want != NULL && strcmp(want, "mara@harbor-cafe.de") == 0, "key %s", want ? want : "(none)");
	for (size_t i = 0; i < sizeof(mara) / sizeof(mara[0]); i++)
	{
		const char *k = email_key(mara[i], strlen(mara[i]));

		CHECK(k != NULL && strcmp(k, "mara@harbor-cafe.de") == 0,
			  "look-alike %zu \"%s\" counts as \"%s\"", i, mara[i], k ? k : "(none)");
	}
	for (size_t i = 0; i < sizeof(gmail) / sizeof(gmail[0]); i++)
	{
		const char *k = email_key(gmail[i], strlen(gmail[i]));

		CHECK(k != NULL && strcmp(k, "analima@gmail.com") == 0,
			  "gmail look-alike \"%s\" counts as \"%s\"", gmail[i], k ? k : "(none)");
	}
	for (size_t i = 0; i < sizeof(distinct) / sizeof(distinct[0]); i++)
	{
		const char *a = email_key(distinct[i][0], strlen(distinct[i][0]));
		const char *b = email_key(distinct[i][1], strlen(distinct[i][1]));

		CHECK(a != NULL && b != NULL && strcmp(a, b) != 0,
			  "\"%s\" and \"%s\" merged as \"%s\"", distinct[i][0], distinct[i][1], a ? a : "(none)");
	}
	/* the room asked for with too small a buffer holds the key: an
	 * ASCII A-label decodes to a longer U-label (found by the fuzzer) */
	{
		static const char *const alabels[] = {
			"tes+xx@xn--bcher-kvtxmaple.com", "a@xn--bcher-kva.de", "mara@harbor-cafe.de",
			"x@xn--80ak6aa92e.com", "a-b@xn--mnchen-3ya.xn--bcher-kva.de",
		};

		for (size_t i = 0; i < sizeof(alabels) / sizeof(alabels[0]); i++)
		{
			char		small[4];
			char		room[512];
			size_t		need = tg_email_key(alabels[i], strlen(alabels[i]), small, sizeof(small));
			size_t		klen = need <= sizeof(room) ?
				tg_email_key(alabels[i], strlen(alabels[i]), room, need) : 0;

			CHECK(need <= sizeof(small) || klen <= need,
				  "\"%s\": asked for %zu bytes, its key has %zu", alabels[i], need, klen);
		}
	}
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
	{
		const char *k = email_key(exact[i][0], strlen(exact[i][0]));

		CHECK(k != NULL && strcmp(k, exact[i][1]) == 0,
			  "\"%s\" counts as \"%s\", not \"%s\"", exact[i][0], k ? k : "(none)", exact[i][1]);
		/* a key is its own key */
		if (k != NULL)
		{
			char		again[512];

			strcpy(again, k);
			k = email_key(again, strlen(again));
			CHECK(k != NULL && strcmp(k, again) == 0, "key \"%s\" is not stable: \"%s\"",
				  again, k ? k : "(none)");
		}
	}
	for (size_t i = 0; i < sizeof(blank) / sizeof(blank[0]); i++)
		CHECK(email_key(blank[i], strlen(blank[i])) == NULL, "blank value %zu counted", i);
	CHECK(tg_email_key(NULL, 0, small, sizeof(small)) == 0, "NULL counted");

	/* ASCII: the fast path and the general path agree */
	{
		static const char *const ascii[] = {
			"Ana.Lima@Example.org", "ana.lima+signup@example.org", " x@y.z. ",
			"A.n.a.Lima+x@GoogleMail.com", "no-at-sign", "a@b@c.com", "+tag@acme.com",
			"\"x+y\"@acme.com", "a@", "a@.", "@", "@@", "a@gmail.com..", "x@Acme_Corp.COM",
			"a@-x.com", "a@b..c", "Q@Q.Q", "a\tb@c", "a@b.c\x7f",
		};

		for (size_t i = 0; i < sizeof(ascii) / sizeof(ascii[0]); i++)
		{
			char		fast[128];
			char		slow[128];
			size_t		nf = tg_email_key(ascii[i], strlen(ascii[i]), fast, sizeof(fast));
			size_t		ns = tg_email_key_unicode(ascii[i], strlen(ascii[i]), slow, sizeof(slow));

			CHECK(nf == ns && memcmp(fast, slow, nf) == 0, "paths differ on \"%s\": \"%.*s\" / \"%.*s\"",
				  ascii[i], (int) nf, fast, (int) ns, slow);
		}
	}

	/* a key that does not fit says how much room it needs */
	klen = tg_email_key("mara@harbor-cafe.de", 19, small, sizeof(small));
	CHECK(klen > sizeof(small), "a long key fit into 4 bytes: %zu", klen);
	klen = tg_email_key("m\u0430ra@harbor-cafe.de", 20, small, sizeof(small));
	CHECK(klen == 19, "room needed for the Cyrillic spelling: %zu", klen);

	/* 1 MB: ASCII, Cyrillic, invisible padding, and text NFKC makes 11 times longer */
	n = 1024 * 1024;
	big = malloc(n * 12 + 64);
	if (big == NULL)
		return;
	memset(big, 'X', n);
	memcpy(big + n, "+1@Acme.com", 11);
	klen = tg_email_key(big, n + 11, big + n + 16, n * 11);
	CHECK(klen == n + 9 && big[n + 16] == 'x' && memcmp(big + n + 16 + n, "@acme.com", 9) == 0,
		  "1 MB ASCII key: %zu bytes", klen);
	for (size_t i = 0; i + 2 <= n; i += 2)
		memcpy(big + i, "\u0430", 2);			/* Cyrillic a */
	memcpy(big + n, "x@acme.com", 10);
	{
		char	   *k = big + n + 16;

		klen = tg_email_key(big, n + 10, k, n * 11);
		CHECK(klen == n / 2 + 10 && k[0] == 'a' && k[n / 2 - 1] == 'a' && k[n / 2] == 'x',
			  "1 MB Cyrillic-and-Latin key: %zu bytes", klen);
	}
	for (size_t i = 0; i + 3 <= n; i += 3)
		memcpy(big + i, "\u200B", 3);			/* zero-width spaces */
	memcpy(big + n - n % 3, "mara@harbor-cafe.de", 19);
	klen = tg_email_key(big, n - n % 3 + 19, big + n + 64, n * 11);
	CHECK(klen == 19 && memcmp(big + n + 64, "mara@harbor-cafe.de", 19) == 0,
		  "1 MB of zero-width spaces: %zu bytes", klen);
	for (size_t i = 0; i + 3 <= n; i += 3)
		memcpy(big + i, "\uFDFA", 3);			/* 18 letters under NFKC */
	klen = tg_email_key(big, n - n % 3, small, sizeof(small));
	CHECK(klen > n && klen != TG_EMAIL_KEY_NOMEM, "expanding input: %zu bytes needed", klen);
	if (klen > n && klen != TG_EMAIL_KEY_NOMEM && klen <= n * 11)
	{
		size_t		again = tg_email_key(big, n - n % 3, big + n + 64, klen);

		CHECK(again == klen, "expanding input: %zu bytes then %zu", klen, again);
	}
	/* invalid UTF-8 everywhere: a key, and the bytes kept */
	for (size_t i = 0; i < n; i++)
		big[i] = (char) (0x80 + (i * 7) % 128);
	klen = tg_email_key(big, n, big + n + 64, n * 11);
	CHECK(klen == n && memcmp(big, big + n + 64, n) == 0, "1 MB of invalid UTF-8: %zu bytes", klen);
	free(big);
}

int
main(int argc, char **argv)
{
	test_odd_input();
	test_builder();
	test_domain_cache();
	test_fast_path_mix();
	test_email_key();
	if (argc > 1)
		test_corpus(argv[1]);
	if (argc > 2)
		test_dictionary(argv[2]);
	if (failures)
		printf("unit tests: %d FAILED\n", failures);
	else
		printf("unit tests: ok\n");
	return failures ? 1 : 0;
}
