/*-------------------------------------------------------------------------
 *
 * checker_email.c
 *	  E-mail rules of the deciding core: parse the address, report a
 *	  malformed one, match the domain and its parents against the domain
 *	  lists and the reserved names, and run the word rules over the local
 *	  part and the domain's labels.  No PostgreSQL headers (checker_int.h).
 *
 * Domain rules match on label boundaries up the parent chain: a rule for
 * mailinator.com catches x.mailinator.com, and a rule for mail.com does
 * not catch gmail.com.  Reserved names (RFC 2606, RFC 6761 and friends)
 * are built in.  A malformed address is a decision ("malformed address"),
 * never an error.
 *
 *-------------------------------------------------------------------------
 */
#include "checker_int.h"
#include "checker_simd.h"

#include <string.h>
#ifdef TG_VERIFY_FAST_PATH
#include <stdio.h>
#include <stdlib.h>
#endif

/* Longest domain we look at (RFC 1035: 253 bytes as text). */
#define TG_DOMAIN_MAX 253

/* A string constant and its length. */
#define TG_STR_LEN(s) s, sizeof(s) - 1

/* Reserved top-level domains and where they are reserved. */
static const struct
{
	const char *tld;
	size_t		len;
	const char *source;
}			reserved_tlds[] = {
	{TG_STR_LEN("test"), "RFC 6761"},
	{TG_STR_LEN("example"), "RFC 6761"},
	{TG_STR_LEN("invalid"), "RFC 6761"},
	{TG_STR_LEN("localhost"), "RFC 6761"},
	{TG_STR_LEN("local"), "RFC 6762"},
	{TG_STR_LEN("onion"), "RFC 7686"},
	{TG_STR_LEN("internal"), "ICANN"},
};

/* Reserved second-level domains (and everything under them). */
static const struct
{
	const char *domain;
	size_t		len;
	const char *source;
}			reserved_domains[] = {
	{TG_STR_LEN("example.com"), "RFC 2606"},
	{TG_STR_LEN("example.net"), "RFC 2606"},
	{TG_STR_LEN("example.org"), "RFC 2606"},
	{TG_STR_LEN("home.arpa"), "RFC 8375"},
};

/* Report a malformed address: 'malformed address "x" (why)'. */
static TG_COLD void
tg_email_malformed(const TgRules *rules, TgVerdict *out, const char *addr,
				   size_t len, const char *why)
{
	TgPiece		piece;

	tg_piece_init(&piece, rules);
	tg_piece_str(&piece, "malformed address ");
	tg_piece_quote(&piece, addr, len);
	tg_piece_str(&piece, " (");
	tg_piece_str(&piece, why);
	tg_piece_str(&piece, ")");
	tg_verdict_add(out, TG_FIELD_EMAIL, &piece);
}

/* Is c allowed unquoted in a local part (RFC 5322 atext, dot, UTF-8)? */
static inline bool
tg_local_char_ok(unsigned char c)
{
	if (c >= 0x80)
		return true;			/* RFC 6531 */
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	switch (c)
	{
		case '!': case '#': case '$': case '%': case '&': case '\'':
		case '*': case '+': case '-': case '/': case '=': case '?':
		case '^': case '_': case '`': case '{': case '|': case '}':
		case '~': case '.':
			return true;
		default:
			return false;
	}
}

/* Check the local part's syntax; NULL when fine, else why not. */
static const char *
tg_local_problem(const char *s, size_t n)
{
	if (n == 0)
		return "empty local part";
	if (n > 64)
		return "local part longer than 64 bytes";
	if (s[0] == '"' && n >= 2 && s[n - 1] == '"')
		return NULL;			/* a quoted local part: anything goes */
	if (s[0] == '.' || s[n - 1] == '.')
		return "local part starts or ends with a dot";
	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '@')
			return "more than one \"@\"";
		if (c == ' ' || c == '\t')
			return "space in local part";
		if (!tg_local_char_ok(c))
			return "invalid character in local part";
		if (c == '.' && i + 1 < n && s[i + 1] == '.')
			return "two dots in a row";
	}
	return NULL;
}

/* Check a folded domain's syntax; NULL when fine, else why not. */
static const char *
tg_domain_problem(const char *d, size_t n)
{
	size_t		label_start = 0;
	bool		tld_digits = true;

	if (n == 0)
		return "empty domain";
	if (d[0] == '[')
		return "address literal";
	if (n > TG_DOMAIN_MAX)
		return "domain longer than 253 bytes";
	for (size_t i = 0; i <= n; i++)
	{
		unsigned char c = i < n ? (unsigned char) d[i] : '.';

		if (c == '.')
		{
			size_t		llen = i - label_start;

			if (llen == 0)
				return "empty label in domain";
			if (llen > 63)
				return "domain label longer than 63 bytes";
			if (d[label_start] == '-' || d[i - 1] == '-')
				return "domain label starts or ends with a hyphen";
			if (i < n)
			{
				label_start = i + 1;
				tld_digits = true;
			}
			continue;
		}
		if (c >= 0x80 || (c >= 'a' && c <= 'z') || c == '-')
		{
			tld_digits = false;
			continue;
		}
		if (c >= '0' && c <= '9')
			continue;
		if (c == '_')
			return "underscore in domain";
		return "invalid character in domain";
	}
	if (label_start == 0 && strcmp(d, "localhost") != 0)
		return "domain without a dot";
	if (tld_digits)
		return "numeric top-level domain";
	if (n - label_start < 2)
		return "one-letter top-level domain";
	return NULL;
}

/* Is d (or a parent) allowlisted? */
static bool
tg_domain_allowed(const TgRules *rules, const char *d, size_t n)
{
	const TgSet *allow = &rules->allow[TG_ALLOW_DOMAIN];

	if (allow->count == 0)
		return false;
	for (size_t i = 0; i < n; i++)
	{
		if ((i == 0 || d[i - 1] == '.') && tg_set_get(allow, d + i, n - i) != 0)
			return true;
	}
	return false;
}

/* Report a reserved domain (reserved_domains[i]). */
static TG_COLD void
tg_domain_reserved_report(const TgRules *rules, TgVerdict *out,
						  const char *d, size_t n, size_t i)
{
	TgPiece		piece;

	tg_piece_init(&piece, rules);
	tg_piece_str(&piece, "reserved domain ");
	tg_piece_escaped(&piece, d, n, TG_DOMAIN_MAX);
	tg_piece_str(&piece, " (");
	tg_piece_str(&piece, reserved_domains[i].source);
	tg_piece_str(&piece, ")");
	tg_verdict_add(out, TG_FIELD_EMAIL, &piece);
}

/* Report a reserved top-level domain (reserved_tlds[i]) or name. */
static TG_COLD void
tg_domain_reserved_tld_report(const TgRules *rules, TgVerdict *out,
							  const char *d, size_t n, const char *tld,
							  size_t i)
{
	TgPiece		piece;

	tg_piece_init(&piece, rules);
	if (tld == d)
	{
		tg_piece_str(&piece, "reserved name ");
		tg_piece_str(&piece, tld);
	}
	else
	{
		tg_piece_str(&piece, "reserved top-level domain .");
		tg_piece_str(&piece, tld);
		tg_piece_str(&piece, " in ");
		tg_piece_escaped(&piece, d, n, TG_DOMAIN_MAX);
	}
	tg_piece_str(&piece, " (");
	tg_piece_str(&piece, reserved_tlds[i].source);
	tg_piece_str(&piece, ")");
	tg_verdict_add(out, TG_FIELD_EMAIL, &piece);
}

/*
 * Reserved names: report and return true when d (folded, NUL-terminated)
 * is one.
 */
static bool
tg_domain_reserved(const TgRules *rules, TgVerdict *out, const char *d, size_t n)
{
	const char *tld = d;
	size_t		tlen;

	for (size_t i = n; i > 0; i--)
		if (d[i - 1] == '.')
		{
			tld = d + i;
			break;
		}
	tlen = n - (size_t) (tld - d);

	/* (no entry is shorter than "home.arpa", no top-level one than "test") */
	for (size_t i = 0; i < sizeof(reserved_domains) / sizeof(reserved_domains[0]) &&
		 n >= sizeof("home.arpa") - 1; i++)
	{
		const char *r = reserved_domains[i].domain;
		size_t		rl = reserved_domains[i].len;

		if (n >= rl && d[n - 1] == r[rl - 1] && d[n - rl] == r[0] &&
			memcmp(d + n - rl, r, rl) == 0 &&
			(n == rl || d[n - rl - 1] == '.'))
		{
			tg_domain_reserved_report(rules, out, d, n, i);
			return true;
		}
	}
	for (size_t i = 0; i < sizeof(reserved_tlds) / sizeof(reserved_tlds[0]) &&
		 tlen >= sizeof("test") - 1; i++)
	{
		if (tlen != reserved_tlds[i].len || tld[0] != reserved_tlds[i].tld[0] ||
			memcmp(tld, reserved_tlds[i].tld, tlen) != 0)
			continue;
		tg_domain_reserved_tld_report(rules, out, d, n, tld, i);
		return true;
	}
	return false;
}

/* Report a listed domain d (matched at its parent d + i when i > 0). */
static TG_COLD void
tg_domain_listed_report(const TgRules *rules, TgVerdict *out, const char *d,
						size_t n, size_t i, uint16_t v)
{
	TgPiece		piece;

	tg_piece_init(&piece, rules);
	tg_piece_str(&piece, v == TG_DOMAIN_TEST + 1 ? "test domain " :
				 "disposable domain ");
	tg_piece_escaped(&piece, d, n, TG_DOMAIN_MAX);
	if (i > 0)
	{
		tg_piece_str(&piece, " (under ");
		tg_piece_escaped(&piece, d + i, n - i, TG_DOMAIN_MAX);
		tg_piece_str(&piece, ")");
	}
	tg_verdict_add(out, TG_FIELD_EMAIL, &piece);
}

/* Domain lists, up the parent chain: report and return true on a match. */
static bool
tg_domain_listed(const TgRules *rules, TgVerdict *out, const char *d, size_t n)
{
	size_t		last;

	/* a bare top-level domain is no rule: stop after the last dot */
	for (last = n; last > 0 && d[last - 1] != '.'; last--)
		;
	if (last == 0)
		return false;
	/* from each label's start, the top-level one left out */
	for (size_t i = 0; i < last;)
	{
		uint16_t	v = tg_set_get_fast(&rules->domains, d + i, n - i);
		const char *dot;

		if (v != 0)
		{
			tg_domain_listed_report(rules, out, d, n, i, v);
			return true;
		}
		dot = memchr(d + i, '.', last - i);
		if (dot == NULL)
			break;
		i = (size_t) (dot - d) + 1;
	}
	return false;
}

/*
 * Character classes for tg_email_plain(): what may appear unquoted in a
 * local part (RFC 5322 atext and the dot; no UTF-8 here), and in a
 * domain label (ASCII letters, digits, hyphen).
 */
#define TG_E_LOCAL	1
#define TG_E_LABEL	2			/* letters, digits, "-" */
#define TG_E_DIGIT	4
#define TG_E_ATEXT	8			/* local part, other than "." and "+" */

static uint8_t tg_email_class[256];
static bool tg_email_class_ready;

/* Fill tg_email_class from the rules of tg_local_char_ok(). */
static void
tg_email_class_init(void)
{
	for (int c = 0; c < 0x80; c++)
	{
		uint8_t		cl = 0;
		bool		local = tg_local_char_ok((unsigned char) c);

		if (local)
			cl |= TG_E_LOCAL;
		if (local && c != '.' && c != '+')
			cl |= TG_E_ATEXT;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '-')
			cl |= TG_E_LABEL;
		if (c >= '0' && c <= '9')
			cl |= TG_E_DIGIT;
		tg_email_class[c] = cl;
	}
	tg_email_class_ready = true;
}

/* tg_email_class, filled on first use: every reader gets it from here. */
static inline const uint8_t *
tg_email_classes(void)
{
	if (!tg_email_class_ready)
		tg_email_class_init();
	return tg_email_class;
}

/*
 * The common shape of an address, checked in one pass: ASCII, no white
 * space around it, one "@", a local part of 1-64 bytes of atext with
 * single dots inside, a domain of letters, digits and hyphens in labels
 * of 1-63 bytes that neither start nor end with a hyphen, at least one
 * dot, no trailing dot, and a top-level domain of two or more bytes that
 * is not all digits.  Every such address passes each syntax check of the
 * general path below, and its domain folds to its lower-case form.  In two
 * halves: tg_email_plain_local() finds the "@" and checks the local part
 * (true: *llen is its length, *plus where its first "+" is, or *llen),
 * tg_email_plain_domain() checks the domain
 * and folds it into folded (NUL-terminated, *flen bytes).  False from
 * either: take the general path (it may still be a fine address).
 */
static bool
tg_email_plain_local(const char *s, size_t n, size_t *llen, size_t *plus)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + n;
	const unsigned char *q;
	const unsigned char *pl = NULL;
	const uint8_t *cls;

	if (n < 3 || n > 64 + 1 + TG_DOMAIN_MAX)
		return false;
	cls = tg_email_classes();

	/* the local part: atext and single dots inside, up to the "@" */
	if (p[0] == '.')
		return false;
	for (q = p; q < end; q++)
	{
		if (cls[*q] & TG_E_ATEXT)
			continue;			/* the usual byte: one test */
		if (*q == '@')
			break;
		if (*q == '.')
		{
			if (q + 1 < end && q[1] == '.')
				return false;
		}
		else if (*q == '+')
		{
			if (pl == NULL)
				pl = q;
		}
		else
			return false;
	}
	if (q == p || q - p > 64 || q + 1 >= end || q[-1] == '.')
		return false;
	*llen = (size_t) (q - p);
	*plus = pl != NULL ? (size_t) (pl - p) : *llen;
	return true;
}

static bool
tg_email_plain_domain_scalar(const char *d, size_t n, char *folded, size_t *flen)
{
	const unsigned char *q = (const unsigned char *) d;
	const unsigned char *end = q + n;
	char	   *f = folded;
	char	   *tld = NULL;
	const uint8_t *cls;

	if (n > TG_DOMAIN_MAX)
		return false;
	cls = tg_email_classes();

	/*
	 * Label by label, lower-cased into folded (c | 0x20 lower-cases a
	 * letter and leaves digits, "-" and "." alone).
	 */
	for (;;)
	{
		const unsigned char *label = q;

		if (q == end || *q == '-' || !(cls[*q] & TG_E_LABEL))
			return false;		/* an empty label, or one starting with "-" */
		while (q < end && (cls[*q] & TG_E_LABEL))
			*f++ = (char) (*q++ | 0x20);
		if (q - label > 63 || q[-1] == '-')
			return false;
		if (q == end)
			break;
		if (*q != '.')
			return false;		/* a second "@", "_", non-ASCII, ... */
		*f++ = '.';
		q++;
		tld = f;
	}

	/* at least one dot; a top-level domain of 2+ bytes, not all digits */
	if (tld == NULL || f - tld < 2)
		return false;
	for (const char *t = tld;; t++)
	{
		if (t == f)
			return false;		/* numeric top-level domain */
		if (!(cls[(unsigned char) *t] & TG_E_DIGIT))
			break;
	}
	*f = '\0';
	*flen = (size_t) (f - folded);
	return true;
}

#ifdef __SSE2__
/*
 * tg_email_plain_domain_scalar() for a domain of at most 64 bytes, 16
 * bytes at a time: masks of its label bytes, dots, hyphens and digits say
 * the same (every label 1-62 bytes, no hyphen first or last in one, a
 * top-level domain of 2+ bytes not all digits), and OR 0x20 folds every
 * such byte as the byte loop does.  The miss path of the domain cache
 * runs it for every new domain.
 */
static inline bool
tg_email_plain_domain_simd(const char *d, size_t n, char *folded, size_t *flen)
{
	uint64_t	label = 0;
	uint64_t	dot = 0;
	uint64_t	hyph = 0;
	uint64_t	digit = 0;
	uint64_t	all = n == 64 ? ~UINT64_C(0) : (UINT64_C(1) << n) - 1;
	uint64_t	edges;
	int			last;
	uint64_t	tld;

	for (int k = 0, at; k < (int) n; k = at + 16)
	{
		__m128i		x;
		__m128i		lc;
		__m128i		dg;
		__m128i		hy;

		at = k;
		x = tg_screen_load(d, (int) n, &at);	/* sets at: first, then used */
		lc = _mm_or_si128(x, _mm_set1_epi8(0x20));
		dg = tg_screen_range(x, '0', '9');
		hy = _mm_cmpeq_epi8(x, _mm_set1_epi8('-'));
		_mm_storeu_si128((__m128i *) (folded + at), lc);
		label |= (uint64_t) (uint16_t) _mm_movemask_epi8(
			_mm_or_si128(tg_screen_range(lc, 'a', 'z'), _mm_or_si128(dg, hy))) << at;
		dot |= (uint64_t) (uint16_t) _mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('.'))) << at;
		hyph |= (uint64_t) (uint16_t) _mm_movemask_epi8(hy) << at;
		digit |= (uint64_t) (uint16_t) _mm_movemask_epi8(dg) << at;
	}
	label &= all;
	dot &= all;
	hyph &= all;
	digit &= all;
	/* the edges of the labels: first and last byte, and around each dot */
	edges = UINT64_C(1) | (UINT64_C(1) << (n - 1)) | (dot << 1) | (dot >> 1);
	if ((label | dot) != all || dot == 0 || (dot & edges) != 0 || (hyph & edges) != 0)
		return false;
	last = 63 - __builtin_clzll(dot);
	if ((int) n - last - 1 < 2)
		return false;			/* a one-byte top-level domain */
	tld = all & ~((UINT64_C(2) << last) - 1);
	if ((digit & tld) == tld)
		return false;			/* numeric top-level domain */
	folded[n] = '\0';
	*flen = n;
	return true;
}
#endif

/* See tg_email_plain_local(): the domain half. */
static inline bool
tg_email_plain_domain(const char *d, size_t n, char *folded, size_t *flen)
{
#ifdef __SSE2__
	if (n > 0 && n <= 64)
	{
		bool		ok = tg_email_plain_domain_simd(d, n, folded, flen);

#ifdef TG_VERIFY_FAST_PATH
		char		f2[TG_DOMAIN_MAX + 1];
		size_t		l2;

		if (tg_email_plain_domain_scalar(d, n, f2, &l2) != ok ||
			(ok && (l2 != *flen || memcmp(f2, folded, l2 + 1) != 0)))
		{
			fprintf(stderr, "tenant_guard domain fold wrong on \"%.*s\"\n", (int) n, d);
			abort();
		}
#endif
		return ok;
	}
#endif
	return tg_email_plain_domain_scalar(d, n, folded, flen);
}

/*
 * The slot of the domain cache (TgDomainCache) a domain as written goes in:
 * its first and last 8 bytes and its length mixed (a miss must be cheap:
 * a business's own domain is seldom seen twice).
 */
static inline int
tg_dcache_slot(const char *d, size_t n)
{
	uint64_t	a;
	uint64_t	b;

	if (n >= 8)
	{
		memcpy(&a, d, 8);
		memcpy(&b, d + n - 8, 8);
	}
	else
	{
		a = b = 0;
		memcpy(&a, d, n);
	}
	a = (a ^ (b * UINT64_C(0x9E3779B97F4A7C15)) ^ n) * UINT64_C(0xFF51AFD7ED558CCD);
	return (int) ((a >> 40) % TG_DCACHE_SLOTS);
}

/* Did these rules find the domain d (as written after the "@", in slot) clean? */
static inline bool
tg_dcache_clean(const TgRules *rules, int slot, const char *d, size_t n)
{
	const TgDomainCache *c = rules->clean_domains;
	const char *r;
	uint64_t	x;
	uint64_t	y;

	if (c == NULL || c->len[slot] != n)
		return false;
	r = c->raw[slot];
	if (n < 8)
		return memcmp(r, d, n) == 0;
	/* 8 bytes at a time, the last 8 overlapping the ones before */
	for (size_t i = 0; i + 8 < n; i += 8)
	{
		memcpy(&x, r + i, 8);
		memcpy(&y, d + i, 8);
		if (x != y)
			return false;
	}
	memcpy(&x, r + n - 8, 8);
	memcpy(&y, d + n - 8, 8);
	return x == y;
}

/*
 * The masks of an address's shape: its "@"s, the bytes a usual local part
 * is made of (letters, digits, "_", "-", "."), its dots.
 */
typedef struct TgEmailMasks
{
	uint64_t	at;
	uint64_t	ok;
	uint64_t	dot;
} TgEmailMasks;

#ifdef __SSE2__
/* Add the shape masks of the 16 bytes x, which start at byte k. */
static inline void
tg_email_chunk(__m128i x, TgEmailMasks *m, int k)
{
	__m128i		dot = _mm_cmpeq_epi8(x, _mm_set1_epi8('.'));
	__m128i		ok = _mm_or_si128(tg_screen_range(_mm_or_si128(x, _mm_set1_epi8(0x20)), 'a', 'z'),
								  tg_screen_range(x, '0', '9'));

	ok = _mm_or_si128(ok, _mm_or_si128(dot, _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('-')),
														 _mm_cmpeq_epi8(x, _mm_set1_epi8('_')))));
	m->at |= (uint64_t) (uint16_t) _mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('@'))) << k;
	m->ok |= (uint64_t) (uint16_t) _mm_movemask_epi8(ok) << k;
	m->dot |= (uint64_t) (uint16_t) _mm_movemask_epi8(dot) << k;
}
#endif

/* The shape masks of s[0..n), 0 < n <= TG_SCREEN_MAX, read in place. */
static inline void
tg_email_shape(const char *s, int n, TgEmailMasks *m)
{
	m->at = m->ok = m->dot = 0;
#ifdef __SSE2__
	for (int k = 0, at; k < n; k = at + 16)
	{
		__m128i		x;

		at = k;
		x = tg_screen_load(s, n, &at);	/* sets at: first, then used */
		tg_email_chunk(x, m, at);
	}
#else
	const uint8_t *cls = tg_email_classes();

	for (int i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];
		uint64_t	bit = UINT64_C(1) << i;

		if (c == '@')
			m->at |= bit;
		if (c == '.')
			m->dot |= bit;
		if ((cls[c] & TG_E_LABEL) || c == '.' || c == '_')	/* letters, digits, "-" */
			m->ok |= bit;
	}
#endif
}

/* See the header. */
TgEmailShape
tg_email_shape_of(const TgRules *rules, const TgText *text, size_t *llen)
{
	TgEmailMasks m;
	int			n;
	int			at;
	uint64_t	lbits;
	const char *dom;
	size_t		dlen;

	if (text->len < 3 || text->len > TG_SCREEN_MAX)
		return TG_EMAIL_OTHER;
	n = (int) text->len;
	tg_email_shape(text->data, n, &m);
	if (m.at == 0)
		return TG_EMAIL_OTHER;

	/*
	 * The local part up to the first "@": at least one byte, all of them
	 * usual ones, no dot first, last or next to another -- a subset of
	 * the local parts tg_email_plain_local() accepts (there with "+" and
	 * the other specials allowed), and with no "+tag".
	 */
	at = __builtin_ctzll(m.at);
	lbits = (UINT64_C(1) << at) - 1;
	if (at == 0 || at + 1 >= n || (m.ok & lbits) != lbits ||
		(m.dot & lbits & (UINT64_C(1) | (UINT64_C(1) << (at - 1)) | (m.dot >> 1))) != 0)
		return TG_EMAIL_OTHER;
	*llen = (size_t) at;
	dom = text->data + at + 1;
	dlen = (size_t) (n - at - 1);
	if (dlen <= TG_DCACHE_LEN &&
		tg_dcache_clean(rules, tg_dcache_slot(dom, dlen), dom, dlen))
		return TG_EMAIL_CACHED;
	return TG_EMAIL_USUAL;
}

/* Remember that the domain d (as written, slot as above) is clean under these rules. */
static inline void
tg_dcache_remember(const TgRules *rules, int slot, const char *d, size_t n)
{
	TgDomainCache *c = rules->clean_domains;

	if (c == NULL)
		return;
	memcpy(c->raw[slot], d, n);
	c->len[slot] = (uint8_t) n;
}

/*
 * The rules for a well-formed address's folded domain: reserved names,
 * listed domains, keywords in its labels.  True when it is allowlisted:
 * then nothing else about the address is checked.
 */
static bool
tg_email_domain_rules(const TgRules *rules, TgVerdict *out, const char *folded,
					  size_t flen)
{
	TgWhere		where;

	/* an allowlisted domain passes, local part and all */
	if (tg_domain_allowed(rules, folded, flen))
		return true;

	if (!tg_domain_reserved(rules, out, folded, flen) &&
		!tg_domain_listed(rules, out, folded, flen))
	{
		/* keywords in the domain's labels, top-level domain left out */
		size_t		keep = flen;

		while (keep > 0 && folded[keep - 1] != '.')
			keep--;
		if (keep > 1)
		{
			where.label = " in domain ";
			where.value = folded;
			where.len = flen;
			where.quoted = false;
			tg_scan_text(rules, out, TG_FIELD_EMAIL, TG_SCAN_DOMAIN,
						 folded, keep - 1, NULL, &where);
		}
	}
	return false;
}

/* The rules for the local part: markers before "+", strong ones after it too. */
static void
tg_email_local_rules(const TgRules *rules, TgVerdict *out, const char *local,
					 size_t llen, size_t plus)
{
	TgWhere		where;

	if (local[0] == '"')
		return;
	where.label = " in local part ";
	where.value = local;
	where.len = llen;
	where.quoted = true;
	tg_scan_text_inline(rules, out, TG_FIELD_EMAIL, TG_SCAN_LOCAL, local, plus,
						NULL, &where);
	if (plus + 1 < llen)
		tg_scan_text(rules, out, TG_FIELD_EMAIL, TG_SCAN_TAG, local + plus + 1,
					 llen - plus - 1, NULL, &where);
}

/* The rules for a well-formed address: domain lists, keywords, local part. */
static void
tg_email_rules(const TgRules *rules, TgVerdict *out, const char *local,
			   size_t llen, const char *folded, size_t flen)
{
	const char *plus = memchr(local, '+', llen);

	if (!tg_email_domain_rules(rules, out, folded, flen))
		tg_email_local_rules(rules, out, local, llen,
							 plus != NULL ? (size_t) (plus - local) : llen);
}

/*
 * The general path: any address, trimmed, parsed from its last "@",
 * every syntax rule checked with its own reason, the domain folded with
 * ICU when it is not ASCII.
 */
static TG_COLD void
tg_check_email_general(const TgRules *rules, const char *s, size_t n,
					   TgVerdict *out)
{
	const char *at = NULL;
	const char *local;
	size_t		llen;
	const char *dom;
	size_t		dlen;
	char		folded[TG_DOMAIN_MAX * 4 + 8];
	size_t		flen;
	bool		ok;
	const char *why;

	/* surrounding white space is the application's business, not ours */
	while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
					 s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	if (n == 0)
		return;					/* an empty address is no evidence */

	for (size_t i = n; i > 0; i--)
		if (s[i - 1] == '@')
		{
			at = s + i - 1;
			break;
		}
	if (at == NULL)
	{
		tg_email_malformed(rules, out, s, n, "no \"@\"");
		return;
	}
	local = s;
	llen = (size_t) (at - s);
	dom = at + 1;
	dlen = n - llen - 1;

	if ((why = tg_local_problem(local, llen)) != NULL)
	{
		tg_email_malformed(rules, out, s, n, why);
		return;
	}
	if (dlen > 0 && dom[dlen - 1] == '.')
		dlen--;					/* one trailing dot: the root */
	if (dlen == 0)
	{
		tg_email_malformed(rules, out, s, n, "empty domain");
		return;
	}
	if (dom[0] == '[' || dlen > TG_DOMAIN_MAX)
	{
		tg_email_malformed(rules, out, s, n, dom[0] == '[' ? "address literal" :
						   "domain longer than 253 bytes");
		return;
	}
	flen = tg_fold_domain(dom, dlen, folded, sizeof(folded), &ok);
	if (!ok)
	{
		tg_email_malformed(rules, out, s, n, "invalid characters in domain");
		return;
	}
	if ((why = tg_domain_problem(folded, flen)) != NULL)
	{
		tg_email_malformed(rules, out, s, n, why);
		return;
	}
	tg_email_rules(rules, out, local, llen, folded, flen);
}

/*
 * tg_check_email() for an address whose local part tg_email_plain_local()
 * accepts: llen bytes, the first "+" at plus (llen: none).
 */
void
tg_check_email_plain(const TgRules *rules, const TgText *text, size_t llen,
					 size_t plus, TgVerdict *out)
{
	char		folded[TG_DOMAIN_MAX + 1];
	size_t		flen;
	const char *dom = text->data + llen + 1;
	size_t		dlen = text->len - llen - 1;	/* >= 1 */
	int			slot = dlen <= TG_DCACHE_LEN ? tg_dcache_slot(dom, dlen) : -1;

#ifdef TG_VERIFY_FAST_PATH
	{
		size_t		l2;
		size_t		p2;

		if (!tg_email_plain_local(text->data, text->len, &l2, &p2) ||
			l2 != llen || p2 != plus)
		{
			fprintf(stderr, "tenant_guard address shape wrong on \"%.*s\"\n",
					(int) (text->len > 200 ? 200 : text->len), text->data);
			abort();
		}
	}
#endif

	/* a domain these rules found clean before: only the local part */
	if (slot >= 0 && tg_dcache_clean(rules, slot, dom, dlen))
	{
#ifdef TG_VERIFY_FAST_PATH
		TgVerdict	full = *out;

		if (!tg_email_plain_domain(dom, dlen, folded, &flen) ||
			tg_email_domain_rules(rules, &full, folded, flen) ||
			full.nhits != out->nhits)
		{
			fprintf(stderr, "tenant_guard domain cache wrong on \"%.*s\"\n",
					(int) dlen, dom);
			abort();
		}
#endif
		tg_email_local_rules(rules, out, text->data, llen, plus);
		return;
	}
	if (tg_email_plain_domain(dom, dlen, folded, &flen))
	{
		int			hits = out->nhits;

		if (tg_email_domain_rules(rules, out, folded, flen))
			return;				/* allowlisted */
		if (out->nhits == hits && slot >= 0)
			tg_dcache_remember(rules, slot, dom, dlen);
		tg_email_local_rules(rules, out, text->data, llen, plus);
		return;
	}
	tg_check_email_general(rules, text->data, text->len, out);
}

/*
 * tg_check_email_plain() for a usual address (TG_EMAIL_USUAL, no "+")
 * whose local part tg_screen_texts() found clean: only the domain's rules
 * are left -- the miss path of a domain seen for the first time, which
 * most sign-ups' company domains are.
 */
void
tg_check_email_domain(const TgRules *rules, const TgText *text, size_t llen,
					  TgVerdict *out)
{
	char		folded[TG_DOMAIN_MAX + 1];
	size_t		flen;
	const char *dom = text->data + llen + 1;
	size_t		dlen = text->len - llen - 1;	/* >= 1 */
	int			hits = out->nhits;

	if (!tg_email_plain_domain(dom, dlen, folded, &flen))
	{
		tg_check_email_general(rules, text->data, text->len, out);
		return;
	}
	if (tg_email_domain_rules(rules, out, folded, flen))
		return;					/* allowlisted */
	if (out->nhits == hits && dlen <= TG_DCACHE_LEN)
		tg_dcache_remember(rules, tg_dcache_slot(dom, dlen), dom, dlen);
#ifdef TG_VERIFY_FAST_PATH
	{
		TgVerdict	full = *out;

		tg_email_local_rules(rules, &full, text->data, llen, llen);
		if (full.nhits != out->nhits)
		{
			fprintf(stderr, "tenant_guard local part screen wrong on \"%.*s\"\n",
					(int) llen, text->data);
			abort();
		}
	}
#endif
}

/* The e-mail rules. */
void
tg_check_email(const TgRules *rules, const TgText *text, TgVerdict *out)
{
	size_t		llen;
	size_t		plus;

	/* the common shape, parsed in one pass */
	if (tg_email_plain_local(text->data, text->len, &llen, &plus))
		tg_check_email_plain(rules, text, llen, plus, out);
	else
		tg_check_email_general(rules, text->data, text->len, out);
}
