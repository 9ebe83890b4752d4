/*-------------------------------------------------------------------------
 *
 * checker_rules.c
 *	  The built-in rule data, the hash sets rules are compiled into, and
 *	  the builder that adds an operator's rules (from the rule tables) to a
 *	  copy of the built-in ones.  Part of the deciding core: no PostgreSQL
 *	  headers (checker_int.h).
 *
 * Built-in rules live here, in C, and never in the rule tables: the
 * tables hold only what operators add (or switch off), so pg_dump and
 * restore cannot duplicate them.
 *
 *-------------------------------------------------------------------------
 */
#include "checker_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define lengthof_(a) ((int) (sizeof(a) / sizeof((a)[0])))

/* ---- the built-in data ---- */

typedef struct TgBuiltinWord
{
	const char *word;
	TgStrength	strength;
	uint16_t	flags;			/* TG_KW_STOP / CPREFIX / CSUFFIX */
} TgBuiltinWord;

#define S TG_STRENGTH_STRONG
#define W TG_STRENGTH_WEAK
#define G TG_STRENGTH_GENERIC
#define P TG_STRENGTH_PLACEHOLDER

#define O TG_KW_ORDINARY
#define L TG_KW_LEGAL
#define Sg TG_KW_SIGNAL

static const TgBuiltinWord builtin_words[] = {
	/* strong: test data on their own */
	{"test", S, O}, {"tst", S, 0}, {"e2e", S, TG_KW_CPREFIX}, {"qa", S, O},
	{"dummy", S, 0}, {"fake", S, 0}, {"lorem", S, 0}, {"ipsum", S, 0},
	{"asdf", S, 0}, {"qwerty", S, 0}, {"qwertz", S, 0}, {"azerty", S, 0},
	{"qazwsx", S, 0}, {"foobar", S, 0}, {"xyzzy", S, 0}, {"bogus", S, 0},
	{"テスト", S, 0}, {"тест", S, 0}, {"musterfirma", S, 0},
	{"testowa", S, 0}, {"testowy", S, 0}, {"testowe", S, 0}, {"testowej", S, 0},
	{"testovaci", S, 0}, {"testbedrijf", S, 0}, {"testfirma", S, 0},
	{"테스트", S, 0}, {"测试", S, 0}, {"測試", S, 0},
	/* weak: need a second signal */
	{"demo", W, 0}, {"demos", W, 0}, {"sample", W, 0}, {"samples", W, 0},
	{"sandbox", W, 0}, {"staging", W, 0}, {"stg", W, 0}, {"tmp", W, 0},
	{"temp", W, 0}, {"example", W, 0}, {"examples", W, 0}, {"perf", W, TG_KW_CPREFIX},
	{"dev", W, TG_KW_CPREFIX}, {"trial", W, 0}, {"preview", W, 0}, {"foo", W, 0},
	{"baz", W, 0}, {"qux", W, 0}, {"quux", W, 0}, {"mock", W, 0},
	{"fixture", W, 0}, {"junk", W, 0}, {"throwaway", W, 0}, {"testing", W, 0},
	{"tester", W, 0}, {"tests", W, 0}, {"uat", W, 0}, {"prueba", W, 0},
	{"демо", W, 0}, {"デモ", W, 0}, {"サンプル", W, 0},
	/* weak: CI pipelines and test tools */
	{"ci", W, 0}, {"cicd", W, 0}, {"k6", W, 0}, {"pytest", W, 0},
	{"jest", W, O}, {"junit", W, 0}, {"rspec", W, 0},
	{"cypress", W, O}, {"playwright", W, O}, {"jenkins", W, O},
	{"selenium", W, O}, {"puppeteer", W, O}, {"webdriver", W, 0},
	{"gha", W, 0}, {"circleci", W, 0}, {"buildkite", W, 0},
	{"smoke", W, O}, {"synthetic", W, O}, {"synthetics", W, O},
	{"automation", W, O}, {"automated", W, O}, {"regression", W, O},
	{"canary", W, O}, {"nightly", W, O},
	/* weak: test and example in other languages */
	{"prova", W, 0}, {"esempio", W, 0}, {"collaudo", W, 0}, {"teste", W, 0},
	{"exemplo", W, 0}, {"essai", W, O}, {"exemple", W, 0}, {"ejemplo", W, 0},
	{"ensayo", W, O}, {"prufung", W, 0}, {"pruefung", W, 0}, {"beispiel", W, 0},
	{"voorbeeld", W, 0}, {"proef", W, O}, {"przyklad", W, 0}, {"proba", W, O},
	{"exempel", W, 0}, {"prov", W, O}, {"deneme", W, 0}, {"ornek", W, 0},
	{"zkouska", W, 0}, {"priklad", W, 0}, {"mustermann", W, 0},
	{"пример", W, 0}, {"образец", W, 0}, {"試験", W, 0}, {"示例", W, 0},
	{"演示", W, 0}, {"샘플", W, 0}, {"데모", W, 0},
	/* generic: what made-up names are built from */
	{"company", G, TG_KW_CSUFFIX}, {"companies", G, 0}, {"co", G, TG_KW_CSUFFIX | L},
	{"corp", G, TG_KW_CSUFFIX | L}, {"corporation", G, TG_KW_CSUFFIX | L},
	{"inc", G, TG_KW_CSUFFIX | L}, {"incorporated", G, L}, {"llc", G, TG_KW_CSUFFIX | L},
	{"ltd", G, TG_KW_CSUFFIX | L}, {"limited", G, L}, {"plc", G, L}, {"gmbh", G, L},
	{"ag", G, L}, {"sa", G, L}, {"sas", G, L}, {"sarl", G, L}, {"srl", G, L},
	{"bv", G, L}, {"nv", G, L}, {"pty", G, L}, {"oy", G, L}, {"kk", G, L},
	{"kg", G, L}, {"spa", G, L}, {"ltda", G, L}, {"llp", G, L}, {"oyj", G, L},
	{"aps", G, L}, {"sro", G, L}, {"kft", G, L}, {"ooo", G, L}, {"ооо", G, L},
	{"ab", G, L}, {"as", G, L},
	/* (a signal even beside real words: the words of a tenant, not a firm) */
	{"org", G, TG_KW_CSUFFIX | Sg}, {"organisation", G, 0}, {"organization", G, 0},
	{"tenant", G, TG_KW_CSUFFIX | Sg}, {"tenants", G, Sg},
	{"account", G, TG_KW_CSUFFIX | Sg}, {"customer", G, TG_KW_CSUFFIX | Sg},
	{"client", G, TG_KW_CSUFFIX | Sg}, {"user", G, TG_KW_CSUFFIX | Sg},
	{"business", G, TG_KW_CSUFFIX}, {"enterprise", G, 0}, {"firm", G, 0},
	{"workspace", G, Sg}, {"project", G, 0}, {"mandant", G, TG_KW_CSUFFIX | Sg},
	{"name", G, 0}, {"new", G, TG_KW_CPREFIX}, {"my", G, TG_KW_CPREFIX},
	{"your", G, 0}, {"our", G, 0}, {"app", G, TG_KW_CSUFFIX}, {"site", G, 0},
	{"株式会社", G, 0}, {"有限会社", G, 0}, {"公司", G, 0}, {"有限公司", G, 0},
	{"회사", G, 0}, {"주식회사", G, 0},
	{"societe", G, 0}, {"entreprise", G, 0}, {"azienda", G, 0}, {"empresa", G, 0},
	{"compania", G, 0}, {"firma", G, TG_KW_CSUFFIX},
	{"kunde", G, TG_KW_CSUFFIX}, {"cliente", G, 0}, {"bedrijf", G, 0},
	{"компания", G, 0}, {"компании", G, 0}, {"фирма", G, 0}, {"фирмы", G, 0},
	{"организация", G, 0}, {"организации", G, 0}, {"foretag", G, 0}, {"sirket", G, 0},
	/* placeholders: a name nobody chooses */
	{"untitled", P, 0}, {"unnamed", P, 0}, {"undefined", P, 0}, {"null", P, 0},
	{"none", P, 0}, {"nil", P, 0}, {"na", P, 0}, {"tbd", P, 0}, {"todo", P, 0},
	{"changeme", P, 0}, {"placeholder", P, 0}, {"blah", P, 0}, {"abc", P, 0},
	{"xyz", P, 0}, {"xxx", P, 0}, {"yyy", P, 0}, {"zzz", P, 0},
};

#undef O
#undef L
#undef Sg

/*
 * Inflected test words (Slavic adjectives and nouns): each stem with each
 * ending of its list is a keyword of the stem's strength, so "Тестовая
 * компания" and "тестового" are caught as "тест" is.
 */
typedef struct TgBuiltinStem
{
	const char *stem;
	const char *const *endings;
	TgStrength	strength;
} TgBuiltinStem;

static const char *const ru_adjective[] = {
	"ая", "ый", "ое", "ые", "ого", "ой", "ую", "ых", "ым", "ыми", "ому", "ом",
	"ий", "а", "е", "і", NULL
};
/*
 * Not "а", "е", "у", "ам", "ах", "ом": "теста", "тесте", "тестам" are
 * written only with letters that look Latin, and read as Latin words
 * ("tecta"), which real names are spelled with.
 */
static const char *const ru_noun[] = {
	"ы", "ов", "ами", "ирование", "ирования", "ированию", "ировщик",
	"ировщики", NULL
};
static const char *const ru_example[] = {
	"ы", "а", "ов", "у", "ом", "е", NULL
};

static const TgBuiltinStem builtin_stems[] = {
	{"тестов", ru_adjective, S}, {"тест", ru_noun, S},
	{"пример", ru_example, W},
};

/*
 * Keywords found inside a run of a script written without spaces
 * ("测试公司"), and the words that merely contain one (contest, protest,
 * attest in katakana and Hangul).
 */
typedef struct TgBuiltinRunWord
{
	const char *word;
	TgStrength	strength;
} TgBuiltinRunWord;

static const TgBuiltinRunWord builtin_run_words[] = {
	{"测试", S}, {"測試", S}, {"テスト", S}, {"테스트", S},
	{"試験", W}, {"示例", W}, {"演示", W},
};

static const char *const builtin_run_excuses[] = {
	"コンテスト", "プロテスト", "アテスト", "レイテスト", "콘테스트", "프로테스트",
};

/* The run words and excuses in the checker's normal form (Hangul as jamo). */
static char run_words_norm[lengthof_(builtin_run_words)][64];
static char run_excuses_norm[lengthof_(builtin_run_excuses)][64];
static bool run_norm_ready;

static size_t tg_normalise_phrase(const char *text, size_t len, char *out,
								  size_t outcap, int *nwords);

/* Fill run_words_norm and run_excuses_norm on first use. */
static void
tg_run_norm_init(void)
{
	int			nwords;

	for (int i = 0; i < lengthof_(builtin_run_words); i++)
		(void) tg_normalise_phrase(builtin_run_words[i].word, strlen(builtin_run_words[i].word),
								   run_words_norm[i], sizeof(run_words_norm[i]), &nwords);
	for (int i = 0; i < lengthof_(builtin_run_excuses); i++)
		(void) tg_normalise_phrase(builtin_run_excuses[i], strlen(builtin_run_excuses[i]),
								   run_excuses_norm[i], sizeof(run_excuses_norm[i]), &nwords);
	run_norm_ready = true;
}

/* The i-th keyword found inside runs (normal form); false past the end. */
bool
tg_builtin_run_keyword(int i, const char **kw, int *strength)
{
	if (i < 0 || i >= lengthof_(builtin_run_words))
		return false;
	if (!run_norm_ready)
		tg_run_norm_init();
	*kw = run_words_norm[i];
	*strength = builtin_run_words[i].strength;
	return true;
}

/* Is kw at s[at] part of a word that merely contains it (コンテスト)? */
bool
tg_builtin_run_excused(const char *s, int n, int at, const char *kw)
{
	if (!run_norm_ready)
		tg_run_norm_init();
	for (int i = 0; i < lengthof_(builtin_run_excuses); i++)
	{
		const char *e = run_excuses_norm[i];
		const char *in = strstr(e, kw);
		int			k;
		int			el = (int) strlen(e);

		if (in == NULL || el == 0)
			continue;
		k = (int) (in - e);
		if (at - k >= 0 && at - k + el <= n && memcmp(s + at - k, e, (size_t) el) == 0)
			return true;
	}
	return false;
}

/*
 * Signal words: real words (they count as such), but beside a weak
 * keyword they are its second signal: "Cypress Run 42", "QA Team".
 */
static const char *const builtin_signal_words[] = {
	"run", "runs", "build", "builds", "job", "jobs", "pipeline", "monitor",
	"probe", "suite", "env", "instance", "worker", "agent", "bot", "team",
	"load"
};

/* Prefixes that make a compound with a keyword: "loadtest", "mytest". */
static const char *const builtin_cprefixes[] = {
	"load", "smoke", "unit", "stress", "auto"
};

/* Neutral words: neither a signal nor "a real word". */
static const char *const builtin_stopwords[] = {
	"the", "and", "of", "a", "an", "for", "by", "to", "de", "del", "la", "le",
	"les", "der", "die", "das", "und", "y", "et", "e", "von", "van"
};

typedef struct TgBuiltinPhrase
{
	const char *phrase;
	TgStrength	strength;
	uint16_t	flags;			/* TG_KW_ORDINARY: not also as one word */
} TgBuiltinPhrase;

#define C ((TgStrength) -1)		/* a business phrase: TG_PHRASE_CONTEXT */

static const TgBuiltinPhrase builtin_phrases[] = {
	{"do not use", S, 0}, {"dont use", S, 0}, {"delete me", S, 0}, {"foo bar", S, 0},
	{"hello world", S, 0}, {"john doe", S, 0}, {"jane doe", S, 0}, {"not real", S, 0},
	{"not a real", S, 0},
	/* placeholder people */
	{"mickey mouse", S, 0}, {"minnie mouse", S, 0}, {"donald duck", S, 0},
	{"bugs bunny", S, 0}, {"homer simpson", S, 0}, {"joe bloggs", S, 0},
	{"fred bloggs", S, 0}, {"john q public", S, 0}, {"richard roe", S, 0},
	{"max mustermann", S, 0}, {"erika mustermann", S, 0},
	{"jean dupont", W, TG_KW_ORDINARY}, {"mario rossi", W, TG_KW_ORDINARY},
	{"juan perez", W, TG_KW_ORDINARY}, {"jan kowalski", W, TG_KW_ORDINARY},
	{"ivan ivanov", W, TG_KW_ORDINARY}, {"иван иванов", W, TG_KW_ORDINARY},
	/* CI */
	{"github actions", W, 0}, {"gitlab ci", W, 0},
	/* business phrases: a strong keyword in them counts as weak */
	{"test kitchen", C, 0}, {"test kitchens", C, 0}, {"test equipment", C, 0},
	{"test instruments", C, 0}, {"test drive", C, 0}, {"test prep", C, 0},
	{"test preparation", C, 0}, {"crash test", C, 0}, {"test valley", C, 0},
	{"test track", C, 0}, {"test pilot", C, 0}, {"test pilots", C, 0},
	{"test match", C, 0}, {"test tube", C, 0}, {"test flight", C, 0},
	{"test and measurement", C, 0}, {"test center", C, 0}, {"test centre", C, 0},
	{"drug test", C, 0}, {"blood test", C, 0}, {"dna test", C, 0}, {"smog test", C, 0},
	{"emissions test", C, 0}, {"road test", C, 0}, {"taste test", C, 0},
	{"screen test", C, 0}, {"acid test", C, 0}, {"litmus test", C, 0},
	{"test engineering", C, 0}, {"test labs", C, 0}, {"test laboratories", C, 0},
	{"test laboratory", C, 0}, {"qa consulting", C, 0}, {"qa consultants", C, 0},
	{"testing services", C, 0},
};

#undef C

#undef S
#undef W
#undef G
#undef P

/*
 * Well-known disposable-mailbox providers and domains used for test data.
 * Typed by hand from providers' own pages and long experience; the big
 * maintained lists can be loaded with tenant_guard.import_email_domains().
 */
static const char *const builtin_disposable[] = {
	"0-mail.com", "10mail.org", "10minemail.com", "10minutemail.co.uk",
	"10minutemail.com", "10minutemail.de", "10minutemail.net",
	"1secmail.com", "1secmail.net", "1secmail.org", "20minutemail.com",
	"30minutemail.com", "33mail.com", "60minutemail.com", "anonbox.net",
	"armyspy.com", "binkmail.com", "bobmail.info", "burnermail.io",
	"byom.de", "chammy.info", "courriel.fr.nf", "cuvox.de", "dayrep.com",
	"devnullmail.com", "discard.email", "discardmail.com", "discardmail.de",
	"dispostable.com", "dropmail.me", "einrot.com", "emailfake.com",
	"emailondeck.com", "emailtemporanea.net", "emltmp.com", "esiix.com",
	"eyepaste.com", "fakeinbox.com", "fakemail.net", "fakemailgenerator.com",
	"filzmail.com", "fleckens.hu", "generator.email", "getairmail.com",
	"getnada.com", "gishpuppy.com", "grr.la", "guerrillamail.biz",
	"guerrillamail.com", "guerrillamail.de", "guerrillamail.info",
	"guerrillamail.net", "guerrillamail.org", "guerrillamailblock.com",
	"gustr.com", "harakirimail.com", "inboxkitten.com", "incognitomail.com",
	"jetable.fr.nf", "jetable.org", "jourrapide.com", "kasmail.com",
	"letthemeatspam.com", "linshiyouxiang.net", "mail-temporaire.fr",
	"mail.tm", "mailcatch.com", "maildrop.cc", "mailexpire.com",
	"mailforspam.com", "mailinater.com", "mailinator.com", "mailinator.net",
	"mailinator.us", "mailinator2.com", "mailmetrash.com", "mailnesia.com",
	"mailnull.com", "mailpoof.com", "mailsac.com", "mailscrap.com",
	"mailtemp.info", "mailtothis.com", "mailzilla.com", "meltmail.com",
	"mintemail.com", "moakt.com", "mohmal.com", "moncourrier.fr.nf",
	"monemail.fr.nf", "monmail.fr.nf", "mvrht.com", "mytemp.email",
	"mytrashmail.com", "nada.email", "notmailinator.com", "nospamfor.us",
	"nowmymail.com", "objectmail.com", "pokemail.net", "proxymail.eu",
	"rcpt.at", "reallymymail.com", "rhyta.com", "rmqkr.net",
	"safetymail.info", "sendspamhere.com", "sharklasers.com",
	"shieldemail.com", "sofort-mail.de", "sogetthis.com", "spam4.me",
	"spamavert.com", "spambog.com", "spambog.de", "spambox.us",
	"spamcowboy.com", "spamday.com", "spamdecoy.net", "spamex.com",
	"spamfree24.org", "spamgourmet.com", "spamherelots.com", "spamhole.com",
	"spaml.com", "spamthisplease.com", "streetwisemail.com",
	"superrito.com", "suremail.info", "teleworm.us", "temp-mail.io",
	"temp-mail.org", "tempail.com", "tempemail.net", "tempinbox.com",
	"tempmail.de", "tempmail.net", "tempmailo.com", "tempomail.fr",
	"temporaryemail.net", "temporaryinbox.com", "tempr.email",
	"thankyou2010.com", "thisisnotmyrealemail.com", "throwaway.email",
	"throwawaymail.com", "tmail.ws", "tmpmail.net", "tmpmail.org",
	"tradermail.info", "trash-mail.com", "trashmail.at", "trashmail.com",
	"trashmail.de", "trashmail.me", "trashmail.net", "trashmail.ws",
	"trashymail.com", "trbvm.com", "tyldd.com", "veryrealemail.com",
	"wegwerfmail.de", "wegwerfmail.net", "wegwerfmail.org", "wh4f.org",
	"wwjmp.com", "xojxe.com", "yoggm.com", "yopmail.com", "yopmail.fr",
	"yopmail.net", "zippymail.info", "zoemail.org",
};

/* Domains people type for test data (the seed's list). */
static const char *const builtin_test_domains[] = {
	"test.com", "fake.com", "temp.com", "domain.com", "company.com",
	"mycompany.com", "yourcompany.com", "mydomain.com", "yourdomain.com",
	"foo.com", "foo.bar",
};

static const char *const field_names[TG_NUM_FIELDS] = {
	"name", "subdomain", "email"
};

static const char *const strength_names[] = {
	"strong", "weak", "generic", "placeholder", "ignore"
};

static const char *const domain_kind_names[] = {
	"disposable", "test"
};


/* Field name as used in reasons. */
const char *
tg_field_name(TgField field)
{
	if ((int) field < 0 || field >= TG_NUM_FIELDS)
		return "?";
	return field_names[field];
}

/* Name of a strength, as in tenant_guard.keywords.strength. */
const char *
tg_strength_name(TgStrength strength)
{
	if ((int) strength < 0 || (int) strength >= lengthof_(strength_names))
		return "?";
	return strength_names[strength];
}

/* Name of a domain kind, as in tenant_guard.email_domains.kind. */
const char *
tg_domain_kind_name(TgDomainKind kind)
{
	if ((int) kind < 0 || (int) kind >= lengthof_(domain_kind_names))
		return "?";
	return domain_kind_names[kind];
}

/* ---- hash sets ---- */

/* FNV-1a over the key bytes. */
static inline uint32_t
tg_hash(const char *key, size_t len)
{
	uint32_t	h = 2166136261u;

	for (size_t i = 0; i < len; i++)
	{
		h ^= (unsigned char) key[i];
		h *= 16777619u;
	}
	return h;
}

/* The value stored for key, 0 when absent. */
uint16_t
tg_set_get(const TgSet *set, const char *key, size_t len)
{
	uint32_t	h;
	uint32_t	i;
	uint32_t	bit;

	if (set->slots == NULL || len == 0 || len > 0xFFFF)
		return 0;
	bit = tg_filter_bit(key, len);
	if (!(set->filter[bit >> 3] & (1u << (bit & 7))))
		return 0;
	h = tg_hash(key, len);
	for (i = h & set->mask;; i = (i + 1) & set->mask)
	{
		const TgSetSlot *s = &set->slots[i];

		if (s->len == 0)
			return 0;
		if (s->hash == h && s->len == len &&
			memcmp(set->arena + s->off, key, len) == 0)
			return s->value;
	}
}

/* Grow the slot array to nslots (a power of two), rehashing. */
static bool
tg_set_resize(TgSet *set, uint32_t nslots)
{
	TgSetSlot  *slots = calloc(nslots, sizeof(TgSetSlot));

	if (slots == NULL)
		return false;
	if (set->slots != NULL)
	{
		for (uint32_t i = 0; i <= set->mask; i++)
		{
			TgSetSlot  *s = &set->slots[i];
			uint32_t	j;

			if (s->len == 0)
				continue;
			for (j = s->hash & (nslots - 1); slots[j].len != 0; j = (j + 1) & (nslots - 1))
				;
			slots[j] = *s;
		}
		free(set->slots);
	}
	set->slots = slots;
	set->mask = nslots - 1;
	return true;
}

/* Copy src into dst (empty) as a set of its own; false when out of memory. */
static bool
tg_set_copy(TgSet *dst, const TgSet *src)
{
	size_t		slots_bytes = ((size_t) src->mask + 1) * sizeof(TgSetSlot);

	memset(dst, 0, sizeof(*dst));
	if (src->slots == NULL || src->filter == NULL)
		return true;
	dst->filter = malloc(TG_SET_FILTER_BITS / 8);
	dst->slots = malloc(slots_bytes);
	dst->arena = src->arena_len > 0 ? malloc(src->arena_len) : NULL;
	if (dst->filter == NULL || dst->slots == NULL ||
		(src->arena_len > 0 && dst->arena == NULL))
		return false;			/* the caller frees what was had */
	memcpy(dst->filter, src->filter, TG_SET_FILTER_BITS / 8);
	memcpy(dst->slots, src->slots, slots_bytes);
	if (src->arena_len > 0)
		memcpy(dst->arena, src->arena, src->arena_len);
	dst->mask = src->mask;
	dst->count = src->count;
	dst->arena_len = src->arena_len;
	dst->arena_cap = src->arena_len;
	return true;
}

/* Make a borrowed set one of its own before it changes; false when out of memory. */
static bool
tg_set_unshare(TgSet *set)
{
	TgSet		own;

	if (!set->borrowed)
		return true;
	if (!tg_set_copy(&own, set))
	{
		free(own.filter);
		free(own.slots);
		free(own.arena);
		return false;
	}
	*set = own;
	return true;
}

/* Add key (or replace its value); false when out of memory or too long. */
bool
tg_set_put(TgSet *set, const char *key, size_t len, uint16_t value)
{
	uint32_t	h;
	uint32_t	i;

	if (len == 0 || len > 0xFFFF || !tg_set_unshare(set))
		return false;
	if (set->filter == NULL &&
		(set->filter = calloc(TG_SET_FILTER_BITS / 8, 1)) == NULL)
		return false;
	if (set->slots == NULL || (set->count + 1) * 2 > set->mask + 1)
	{
		if (!tg_set_resize(set, set->slots == NULL ? 64 : (set->mask + 1) * 2))
			return false;
	}
	h = tg_hash(key, len);
	for (i = h & set->mask;; i = (i + 1) & set->mask)
	{
		TgSetSlot  *s = &set->slots[i];

		if (s->len == 0)
			break;
		if (s->hash == h && s->len == len &&
			memcmp(set->arena + s->off, key, len) == 0)
		{
			s->value = value;
			return true;
		}
	}
	if (set->arena_len + len > set->arena_cap)
	{
		size_t		cap = set->arena_cap ? set->arena_cap * 2 : 1024;
		char	   *a;

		while (cap < set->arena_len + len)
			cap *= 2;
		a = realloc(set->arena, cap);
		if (a == NULL)
			return false;
		set->arena = a;
		set->arena_cap = cap;
	}
	memcpy(set->arena + set->arena_len, key, len);
	{
		uint32_t	bit = tg_filter_bit(key, len);

		set->filter[bit >> 3] |= (uint8_t) (1u << (bit & 7));
	}
	set->slots[i].hash = h;
	set->slots[i].off = (uint32_t) set->arena_len;
	set->slots[i].len = (uint16_t) len;
	set->slots[i].value = value;
	set->arena_len += len;
	set->count++;
	return true;
}

/* Free a set's memory. */
static void
tg_set_free(TgSet *set)
{
	if (set->borrowed)
	{
		memset(set, 0, sizeof(*set));
		return;
	}
	free(set->filter);
	free(set->slots);
	free(set->arena);
	memset(set, 0, sizeof(*set));
}

/* ---- building rules ---- */

/*
 * Put a key into the keyword set.  Every keyword put goes through here so
 * that clen2 knows where a compound can split: the lengths of keys that
 * are strong or weak keywords or compound prefixes, by their first two
 * bytes (a later change of value leaves the bit: clen2 only prunes).
 */
static bool
tg_kw_put(TgRules *rules, const char *key, size_t len, uint16_t value)
{
	int			s = (int) (value & TG_KW_STRENGTH_MASK) - 1;
	bool		splits = (s == TG_STRENGTH_STRONG || s == TG_STRENGTH_WEAK ||
						  (value & TG_KW_CPREFIX)) && len >= 2 && len < 32;

	bool		ends = (s == TG_STRENGTH_STRONG || s == TG_STRENGTH_WEAK ||
						(value & TG_KW_CSUFFIX)) && len >= 2;

	if (splits)
		rules->clen2[tg_clen2_slot(key)] |= 1u << len;
	if (ends && key[len - 2] >= 'a' && key[len - 2] <= 'z' &&
		key[len - 1] >= 'a' && key[len - 1] <= 'z')
		rules->ends[(key[len - 2] - 'a') * 26 + (key[len - 1] - 'a')] |=
			1u << (len < 31 ? len : 31);
	if (len >= 2 && key[0] >= 'a' && key[0] <= 'z' && key[1] >= 'a' && key[1] <= 'z')
	{
		int			ab = (key[0] - 'a') * 26 + (key[1] - 'a');

		rules->words[ab] |= tg_wm_len((int) len) << 16;
		if (splits)				/* words of len + 2 letters or more */
			rules->words[ab] |= (0xFFFFu << (len + 2 < 15 ? len + 2 : 15)) & 0xFFFFu;
	}
	return tg_set_put(&rules->keywords, key, len, value);
}

/* Remember the first two letters of a strong/weak keyword (compounds). */
static void
tg_rules_note_prefix(TgRules *rules, const char *w, size_t len)
{
	if (len >= 2 && w[0] >= 'a' && w[0] <= 'z' && w[1] >= 'a' && w[1] <= 'z')
	{
		int			bit = (w[0] - 'a') * 26 + (w[1] - 'a');

		rules->prefix2[bit / 8] |= (uint8_t) (1 << (bit % 8));
	}
}

/*
 * Normalise text the way checked fields are: its words' normal forms
 * joined by single spaces, into out (NUL-terminated).  Returns the length,
 * 0 when there are no words or the result does not fit.
 */
static size_t
tg_normalise_phrase(const char *text, size_t len, char *out, size_t outcap,
					int *nwords)
{
	TgWordIter	it;
	TgWord		w;
	size_t		n = 0;

	*nwords = 0;
	tg_words_begin(&it, text, len, NULL);
	while (tg_words_next(&it, &w))
	{
		if (w.truncated || n + (n > 0) + (size_t) w.norm_len + 1 > outcap)
			return 0;
		if (n > 0)
			out[n++] = ' ';
		memcpy(out + n, w.norm, w.norm_len);
		n += w.norm_len;
		(*nwords)++;
	}
	out[n] = '\0';
	return n;
}

/* A rule is about to change: forget the domains found clean so far. */
static void
tg_rules_changing(TgRules *rules)
{
	if (rules->clean_domains != NULL)
		memset(rules->clean_domains->len, 0, sizeof(rules->clean_domains->len));
}

/* Add a keyword or phrase with a strength (and built-in flags). */
static bool
tg_rules_add_word(TgRules *rules, const char *word, size_t len,
				  TgStrength strength, uint16_t flags)
{
	char		norm[256];
	int			nwords;
	size_t		n = tg_normalise_phrase(word, len, norm, sizeof(norm), &nwords);
	uint16_t	value = (uint16_t) ((strength + 1) | flags);

	if (n == 0)
		return false;
	if (nwords > 1)
	{
		char		joined[256];
		size_t		j = 0;

		size_t		first = strcspn(norm, " ");

		if (nwords > 3)
			return false;		/* phrases are matched over 3 words at most */
		if (!tg_set_put(&rules->phrases, norm, n,
						(int) strength < 0 ? TG_PHRASE_CONTEXT : (uint16_t) (strength + 1)))
			return false;
		/* mark the first word, so phrases are only looked up after it */
		(void) tg_kw_put(rules, norm, first,
						 tg_set_get(&rules->keywords, norm, first) | TG_KW_PHRASE1);
		/* "do not use" is also caught written as one word: "donotuse" */
		for (size_t i = 0; i < n; i++)
			if (norm[i] != ' ')
				joined[j++] = norm[i];
		if ((strength == TG_STRENGTH_STRONG || strength == TG_STRENGTH_WEAK ||
			 strength == TG_STRENGTH_IGNORE) && !(flags & TG_KW_ORDINARY))
			(void) tg_kw_put(rules, joined, j, (uint16_t) (strength + 1));
		return true;
	}
	/* an operator's row keeps the built-in flags of the word */
	value |= tg_set_get(&rules->keywords, norm, n) &
		(TG_KW_STOP | TG_KW_CPREFIX | TG_KW_CSUFFIX | TG_KW_PHRASE1 |
		 TG_KW_LEGAL | TG_KW_SIGNAL | TG_KW_ORDINARY);
	if (!tg_kw_put(rules, norm, n, value))
		return false;
	if (strength == TG_STRENGTH_STRONG || strength == TG_STRENGTH_WEAK)
	{
		tg_rules_note_prefix(rules, norm, n);
		if (n < 32)
			rules->kwlens |= 1u << n;
	}
	if ((value & TG_KW_CPREFIX) && n < 32)
		rules->cprefixlens |= 1u << n;
	return true;
}

/* Add an operator's keyword (one word or a phrase of up to 3 words). */
bool
tg_rules_add_keyword(TgRules *rules, const char *word, size_t len,
					 TgStrength strength)
{
	if (rules == NULL || rules->is_builtin || word == NULL ||
		(int) strength < TG_STRENGTH_STRONG || strength > TG_STRENGTH_IGNORE)
		return false;
	tg_rules_changing(rules);
	return tg_rules_add_word(rules, word, len, strength, 0);
}

/*
 * Normalise a domain for the rules: trimmed, folded, without a leading
 * "@", "*." or "." and a trailing dot.  0 when unusable.
 */
static size_t
tg_normalise_domain(const char *d, size_t len, char *out, size_t outcap)
{
	bool		ok;
	size_t		n;
	while (len > 0 && (*d == ' ' || *d == '\t' || *d == '@' || *d == '*' || *d == '.'))
	{
		d++;
		len--;
	}
	while (len > 0 && (d[len - 1] == ' ' || d[len - 1] == '\t' ||
					   d[len - 1] == '\r' || d[len - 1] == '\n' || d[len - 1] == '.'))
		len--;
	if (len == 0 || len > 253)
		return 0;
	n = tg_fold_domain(d, len, out, outcap, &ok);
	if (!ok || n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) out[i];

		if (c == ' ' || c == '@' || c == '/' || c == ',' || c < 0x20)
			return 0;
		if (c == '.' && (i == 0 || out[i - 1] == '.'))
			return 0;
	}
	return n;
}

/* The normal form of a value, as rules compare it. */
size_t
tg_normal_form(TgNormalKind kind, const char *value, size_t len, char *out,
			   size_t outcap, int *nwords)
{
	int			dummy;

	if (nwords == NULL)
		nwords = &dummy;
	*nwords = 0;
	if (value == NULL || out == NULL || outcap < 2)
		return 0;
	if (kind == TG_NORMAL_DOMAIN)
	{
		char		buf[1024];
		size_t		n = tg_normalise_domain(value, len, buf, sizeof(buf));

		if (n == 0 || n >= outcap)
			return 0;
		memcpy(out, buf, n + 1);
		*nwords = 1;
		return n;
	}
	return tg_normalise_phrase(value, len, out, outcap, nwords);
}

/* Add an operator's e-mail domain. */
bool
tg_rules_add_domain(TgRules *rules, const char *domain, size_t len,
					TgDomainKind kind)
{
	char		norm[512];
	size_t		n;

	if (rules == NULL || rules->is_builtin || domain == NULL ||
		(int) kind < TG_DOMAIN_DISPOSABLE || kind > TG_DOMAIN_TEST)
		return false;
	n = tg_normalise_domain(domain, len, norm, sizeof(norm));
	if (n == 0)
		return false;
	tg_rules_changing(rules);
	return tg_set_put(&rules->domains, norm, n, (uint16_t) (kind + 1));
}

/* Add an allowlist entry. */
bool
tg_rules_add_allow(TgRules *rules, TgAllowKind kind, const char *value,
				   size_t len)
{
	char		norm[512];
	size_t		n;
	int			nwords;

	if (rules == NULL || rules->is_builtin || value == NULL ||
		(int) kind < TG_ALLOW_NAME || kind > TG_ALLOW_DOMAIN)
		return false;
	if (kind == TG_ALLOW_DOMAIN)
		n = tg_normalise_domain(value, len, norm, sizeof(norm));
	else
		n = tg_normalise_phrase(value, len, norm, sizeof(norm), &nwords);
	if (n == 0)
		return false;
	tg_rules_changing(rules);
	return tg_set_put(&rules->allow[kind], norm, n, 1);
}

/* Fill rules with the built-in data; false when out of memory. */
static bool
tg_rules_load_builtin(TgRules *rules)
{
	bool		ok = true;

	/* the fast path's static bits: keyboard pairs, doubled letters */
	if (!tg_kb_ready)
		tg_keyboard_init();
	for (int a = 0; a < 26; a++)
		for (int b = 0; b < 26; b++)
			rules->words[a * 26 + b] |= (tg_kb_pair[a][b] ? TG_WM_KEYBOARD : 0) |
				(a == b ? TG_WM_SAME : 0);
	rules->words_ready = true;

	for (int i = 0; i < lengthof_(builtin_stopwords); i++)
		ok &= tg_kw_put(rules, builtin_stopwords[i],
						 strlen(builtin_stopwords[i]), TG_KW_STOP);
	for (int i = 0; i < lengthof_(builtin_cprefixes); i++)
	{
		ok &= tg_kw_put(rules, builtin_cprefixes[i],
						 strlen(builtin_cprefixes[i]), TG_KW_CPREFIX);
		rules->cprefixlens |= 1u << strlen(builtin_cprefixes[i]);
	}
	for (int i = 0; i < lengthof_(builtin_words); i++)
		ok &= tg_rules_add_word(rules, builtin_words[i].word,
								strlen(builtin_words[i].word),
								builtin_words[i].strength,
								builtin_words[i].flags);
	for (int i = 0; i < lengthof_(builtin_signal_words); i++)
		ok &= tg_kw_put(rules, builtin_signal_words[i],
						 strlen(builtin_signal_words[i]),
						 tg_set_get(&rules->keywords, builtin_signal_words[i],
									strlen(builtin_signal_words[i])) | TG_KW_SIGNAL);
	for (int i = 0; i < lengthof_(builtin_stems); i++)
		for (int k = 0; builtin_stems[i].endings[k] != NULL; k++)
		{
			char		word[64];

			snprintf(word, sizeof(word), "%s%s", builtin_stems[i].stem,
					 builtin_stems[i].endings[k]);
			ok &= tg_rules_add_word(rules, word, strlen(word),
									builtin_stems[i].strength, 0);
		}
	for (int i = 0; i < lengthof_(builtin_phrases); i++)
		ok &= tg_rules_add_word(rules, builtin_phrases[i].phrase,
								strlen(builtin_phrases[i].phrase),
								builtin_phrases[i].strength,
								builtin_phrases[i].flags);
	for (int i = 0; i < lengthof_(builtin_disposable); i++)
		ok &= tg_set_put(&rules->domains, builtin_disposable[i],
						 strlen(builtin_disposable[i]),
						 TG_DOMAIN_DISPOSABLE + 1);
	for (int i = 0; i < lengthof_(builtin_test_domains); i++)
		ok &= tg_set_put(&rules->domains, builtin_test_domains[i],
						 strlen(builtin_test_domains[i]), TG_DOMAIN_TEST + 1);
	return ok;
}

/* The built-in rules compiled from the data above; NULL when out of memory. */
static TgRules *
tg_rules_compile_builtin(void)
{
	TgRules    *rules = calloc(1, sizeof(TgRules));

	if (rules == NULL)
		return NULL;
	rules->clean_domains = calloc(1, sizeof(TgDomainCache));
	if (rules->clean_domains == NULL || !tg_rules_load_builtin(rules))
	{
		tg_rules_free(rules);
		return NULL;
	}
	return rules;
}

/*
 * A fresh copy of the built-in rules, for adding an operator's rules to.
 * Made from the compiled built-in rules (compiled in the postmaster when
 * preloaded; normalising every built-in word again cost a new backend
 * more than half a millisecond): the bit maps are copied, the sets are
 * borrowed and copied only when an operator's row is added to them.
 */
TgRules *
tg_rules_new(void)
{
	const TgRules *builtin = tg_rules_builtin();
	TgRules    *rules;

	if (builtin->clean_domains == NULL)
		return tg_rules_compile_builtin();	/* the built-in ones failed */
	rules = malloc(sizeof(TgRules));
	if (rules == NULL)
		return NULL;
	/* the bit maps, flags and set views by value; a cache of its own */
	memcpy(rules, builtin, sizeof(TgRules));
	rules->is_builtin = false;
	rules->keywords.borrowed = true;
	rules->phrases.borrowed = true;
	rules->domains.borrowed = true;
	for (int i = 0; i < 3; i++)
		rules->allow[i].borrowed = true;
	rules->clean_domains = calloc(1, sizeof(TgDomainCache));
	if (rules->clean_domains == NULL)
	{
		tg_rules_free(rules);
		return NULL;
	}
	return rules;
}

/* Free rules made by tg_rules_new(); the built-in rules are left alone. */
void
tg_rules_free(TgRules *rules)
{
	if (rules == NULL || rules->is_builtin)
		return;
	tg_set_free(&rules->keywords);
	tg_set_free(&rules->phrases);
	tg_set_free(&rules->domains);
	for (int i = 0; i < 3; i++)
		tg_set_free(&rules->allow[i]);
	free(rules->clean_domains);
	free(rules);
}

/* Reasons in ASCII only, for non-UTF-8 databases. */
void
tg_rules_set_ascii_reasons(TgRules *rules, bool ascii_only)
{
	if (rules != NULL && !rules->is_builtin)
		rules->ascii_reasons = ascii_only;
}

/*
 * The built-in rules, compiled on first use.  Should memory run out, an
 * empty rule set is returned (and compiling is tried again next time):
 * the checker still gives a verdict.
 */
const TgRules *
tg_rules_builtin(void)
{
	static TgRules *builtin;
	static TgRules empty = {.is_builtin = true};

	if (builtin == NULL)
	{
		TgRules    *r = tg_rules_compile_builtin();

		if (r == NULL)
			return &empty;
		r->is_builtin = true;
		builtin = r;
	}
	return builtin;
}

/* List the built-in rules. */
void
tg_rules_builtin_visit(TgRuleVisitor fn, void *arg)
{
	static const char *const reserved[] = {
		"example.com", "example.net", "example.org", "*.example", "*.test",
		"*.invalid", "localhost", "*.localhost", "*.local", "*.onion",
		"home.arpa", "*.internal"
	};

	for (int i = 0; i < lengthof_(builtin_words); i++)
	{
		/* legal forms and ordinary words are weighed apart: say so */
		uint16_t	f = builtin_words[i].flags;
		TgStrength	st = builtin_words[i].strength;
		const char *strength = (f & TG_KW_LEGAL) ? "legal form (no signal)" :
			(f & TG_KW_ORDINARY) && st == TG_STRENGTH_STRONG ? "strong (ordinary word)" :
			(f & TG_KW_ORDINARY) ? "weak (ordinary word)" :
			(f & TG_KW_SIGNAL) ? "generic (tenant word)" : tg_strength_name(st);

		fn("keyword", builtin_words[i].word, strength, arg);
	}
	for (int i = 0; i < lengthof_(builtin_stems); i++)
	{
		/* "тестов + ая, ый, ...": each ending makes a keyword */
		static char patterns[lengthof_(builtin_stems)][512];
		size_t		n = (size_t) snprintf(patterns[i], sizeof(patterns[i]), "%s +",
										  builtin_stems[i].stem);

		for (int k = 0; builtin_stems[i].endings[k] != NULL && n < sizeof(patterns[i]); k++)
			n += (size_t) snprintf(patterns[i] + n, sizeof(patterns[i]) - n, "%s %s",
								   k > 0 ? "," : "", builtin_stems[i].endings[k]);
		fn("keyword stem", patterns[i], tg_strength_name(builtin_stems[i].strength), arg);
	}
	for (int i = 0; i < lengthof_(builtin_phrases); i++)
		fn(builtin_phrases[i].strength == (TgStrength) -1 ? "business phrase" : "phrase",
		   builtin_phrases[i].phrase,
		   builtin_phrases[i].strength == (TgStrength) -1 ? "weakens" :
		   tg_strength_name(builtin_phrases[i].strength), arg);
	for (int i = 0; i < lengthof_(builtin_signal_words); i++)
		fn("signal word", builtin_signal_words[i], "", arg);
	for (int i = 0; i < lengthof_(builtin_run_words); i++)
		fn("keyword inside runs", builtin_run_words[i].word,
		   tg_strength_name(builtin_run_words[i].strength), arg);
	for (int i = 0; i < lengthof_(builtin_run_excuses); i++)
		fn("run excuse", builtin_run_excuses[i], "", arg);
	fn("keyboard mashing", "6+ letters, at most one vowel, all keys of one region "
	   "(a row, or one hand)", "strong", arg);
	fn("unix time", "10 or 13 digits, 2015-2029", "strong", arg);
	for (int i = 0; i < lengthof_(builtin_cprefixes); i++)
		fn("compound prefix", builtin_cprefixes[i], "", arg);
	for (int i = 0; i < lengthof_(builtin_stopwords); i++)
		fn("stop word", builtin_stopwords[i], "", arg);
	for (int i = 0; i < lengthof_(builtin_disposable); i++)
		fn("domain", builtin_disposable[i], "disposable", arg);
	for (int i = 0; i < lengthof_(builtin_test_domains); i++)
		fn("domain", builtin_test_domains[i], "test", arg);
	for (int i = 0; i < lengthof_(reserved); i++)
		fn("domain", reserved[i], "reserved", arg);
}
