/*-------------------------------------------------------------------------
 *
 * checker_int.h
 *	  Declarations shared by the files of the deciding core (checker*.c):
 *	  the hash sets, the compiled rules, words and their normalisation.
 *	  Not for the PostgreSQL glue: it sees only checker.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_CHECKER_INT_H
#define TENANT_GUARD_CHECKER_INT_H

#include <stdint.h>

#include "checker.h"

/* Internal to the library, as the declarations of checker.h are. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(hidden)
#endif

/*
 * Rare paths kept out of line, so the code the common case runs stays
 * small: inside a bulk INSERT the executor evicts it from the caches
 * between rows, and every cache line it spans is fetched again per row.
 */
#if defined(__GNUC__) || defined(__clang__)
#define TG_COLD __attribute__((noinline, cold))
#define TG_NOINLINE __attribute__((noinline))
#define TG_ALWAYS_INLINE __attribute__((always_inline))
#else
#define TG_COLD
#define TG_NOINLINE
#define TG_ALWAYS_INLINE
#endif

/* ---- hash sets of byte strings (checker_rules.c) ---- */

/* One slot: len == 0 means empty. */
typedef struct TgSetSlot
{
	uint32_t	hash;
	uint32_t	off;			/* key bytes in the set's arena */
	uint16_t	len;
	uint16_t	value;			/* what the key means; 0 = "not there" */
} TgSetSlot;

/*
 * Bits of the quick-reject filter of a set (a power of two).  2 kB: small
 * enough to stay in the L1 cache between rows, and still few false hits
 * for the few hundred keywords (a big imported domain list only makes its
 * look-ups hash more often).
 */
#define TG_SET_FILTER_BITS 16384

/*
 * An open-addressing hash set with a value per key; keys up to 65535
 * bytes.  A bitmap over (first byte, last byte, length) rejects most
 * absent keys before any hashing: most words of a real name are in no set.
 */
typedef struct TgSet
{
	uint8_t    *filter;			/* TG_SET_FILTER_BITS / 8 bytes */
	TgSetSlot  *slots;
	uint32_t	mask;			/* nslots - 1; nslots a power of two */
	uint32_t	count;
	char	   *arena;
	size_t		arena_len;
	size_t		arena_cap;
	bool		borrowed;		/* a view of memory not ours to free (an image,
								 * checker_image.c, or the built-in rules):
								 * copied before it is added to */
} TgSet;

extern uint16_t tg_set_get(const TgSet *set, const char *key, size_t len);

/* The quick-reject filter's bit for a key of len bytes from first to last. */
static inline uint32_t
tg_filter_bit3(unsigned char first, unsigned char last, size_t len)
{
	return ((uint32_t) first * 257u + (uint32_t) last * 31u +
			(uint32_t) len * 4099u) & (TG_SET_FILTER_BITS - 1);
}

/* The quick-reject filter's bit for a key (len > 0). */
static inline uint32_t
tg_filter_bit(const char *key, size_t len)
{
	return tg_filter_bit3((unsigned char) key[0], (unsigned char) key[len - 1], len);
}

/*
 * Can key be in the set?  The filter test of tg_set_get(), inline: false
 * means tg_set_get() would return 0.
 */
static inline bool
tg_set_maybe(const TgSet *set, const char *key, size_t len)
{
	uint32_t	bit;

	if (set->filter == NULL || len == 0)
		return false;
	bit = tg_filter_bit(key, len);
	return (set->filter[bit >> 3] >> (bit & 7)) & 1;
}

/* tg_set_get() with the filter test inline. */
static inline uint16_t
tg_set_get_fast(const TgSet *set, const char *key, size_t len)
{
	return tg_set_maybe(set, key, len) ? tg_set_get(set, key, len) : 0;
}
extern bool tg_set_put(TgSet *set, const char *key, size_t len, uint16_t value);

/* ---- compiled rules ---- */

/* Keyword set values: strength + 1 in the low bits, flags above. */
#define TG_KW_STRENGTH_MASK	0x000F
#define TG_KW_STOP			0x0010	/* neutral word: the, and, of, ... */
#define TG_KW_CPREFIX		0x0020	/* may prefix a keyword: "loadtest" */
#define TG_KW_CSUFFIX		0x0040	/* may follow a keyword: "testco" */
#define TG_KW_PHRASE1		0x0080	/* first word of a phrase */
#define TG_KW_LEGAL			0x0100	/* legal form (inc, gmbh): no signal at all */
#define TG_KW_SIGNAL		0x0200	/* a real word, but a weak keyword's second
									 * signal: run, build, team */
#define TG_KW_ORDINARY		0x0400	/* keyword that is also an ordinary word or
									 * surname: strong ones turn weak in
									 * context, weak ones need a word signal */

/* Phrase set value of a business phrase ("test kitchen"): not a strength. */
#define TG_PHRASE_CONTEXT	0x0100

/*
 * Could a run of n lower-case ASCII letters be keyboard mashing of the
 * locality kind (tg_is_mash)?  Six letters or more with at most one vowel
 * (a, e, i, o, u, y): the fast path's cheap pre-filter.
 */
static inline bool
tg_mash_maybe(const char *s, int n)
{
	int			v = 0;

	if (n < 6)
		return false;
	for (int i = 0; i < n; i++)
	{
		unsigned	k = (unsigned) (s[i] - 'a');

		if (k < 26 && ((0x1104111u >> k) & 1) && ++v > 1)
			return false;
	}
	return true;
}
extern bool tg_is_mash(const char *s, int n);

/* Keywords found inside runs of Han, kana and Hangul (checker_rules.c). */
extern bool tg_builtin_run_keyword(int i, const char **kw, int *strength);
extern bool tg_builtin_run_excused(const char *s, int n, int at, const char *kw);

/* Domain set values: kind + 1. */

/* The low bits of TgRules.words[] (word lengths start at 2). */
#define TG_WM_KEYBOARD	0x01
#define TG_WM_SAME		0x02

/* The bit of TgRules.words[] for a word of n letters (low half). */
static inline uint32_t
tg_wm_len(int n)
{
	return 1u << (n < 15 ? n : 15);
}

/* Slots of TgRules.clen2 (a power of two). */
#define TG_CLEN2_SLOTS 256

/* The clen2 slot of a key of two bytes or more. */
static inline unsigned
tg_clen2_slot(const char *s)
{
	return (((unsigned) (unsigned char) s[0] * 31u) ^ (unsigned char) s[1]) &
		(TG_CLEN2_SLOTS - 1);
}

/*
 * E-mail domains these rules found clean (no rule fired, not allowlisted),
 * by the bytes written after the "@": most sign-ups share a few domains,
 * and a domain's verdict depends on nothing but the rules.  Direct-mapped;
 * emptied whenever a rule is added.
 */
#define TG_DCACHE_SLOTS		64
#define TG_DCACHE_LEN		48

typedef struct TgDomainCache
{
	uint8_t		len[TG_DCACHE_SLOTS];	/* 0: empty */
	char		raw[TG_DCACHE_SLOTS][TG_DCACHE_LEN];
} TgDomainCache;

struct TgRules
{
	TgSet		keywords;		/* word -> TG_KW_* */
	TgSet		phrases;		/* "do not use" -> strength + 1 */
	TgSet		domains;		/* "mailinator.com" -> kind + 1 */
	TgSet		allow[3];		/* by TgAllowKind -> 1 */
	/* first two letters of every strong/weak keyword, for compounds */
	uint8_t		prefix2[26 * 26 / 8 + 1];
	/* lengths (bit n: n bytes, up to 31) of strong/weak keywords and of
	 * compound prefixes: compounds are only split where one can start */
	uint32_t	kwlens;
	uint32_t	cprefixlens;
	/* the same lengths by the key's first two bytes (hashed, see
	 * tg_clen2_slot): where a compound may split, per word start */
	uint32_t	clen2[TG_CLEN2_SLOTS];

	/*
	 * For the fast path, by the first two letters (a-z) of a word: in the
	 * high half, the lengths of keywords (bit 16 + n for n letters, n
	 * from 2; bit 31 for 15 or more); in the low half, the same bits for
	 * the lengths of words that may split into a compound, and whether the
	 * two letters start a keyboard run (TG_WM_KEYBOARD) or are the same
	 * (TG_WM_SAME).  A word of letters with none of its bits set is no
	 * rule's business.  2.7 kB: few cache lines, one per look-up.
	 */
	uint32_t	words[26 * 26];

	/*
	 * By the last two letters (a-z) of a key that can end a compound
	 * (strong/weak keyword, or a generic word that may follow one): bit n
	 * for its length n (bit 31: 31 or more).  A word whose last two
	 * letters end no such key of a length it could split off is no
	 * compound, whatever its first letters start.
	 */
	uint32_t	ends[26 * 26];
	bool		words_ready;	/* the static bits are in */
	bool		ascii_reasons;
	bool		is_builtin;		/* the shared built-in copy: never freed */

	/* a cache, not a rule: the checker fills it through a const pointer */
	TgDomainCache *clean_domains;	/* NULL: no cache */
};

/* TgRules.words[] of the two lower-case letters a, b (both 'a'-'z'). */
static inline uint32_t
tg_words_mask(const TgRules *rules, char a, char b)
{
	return rules->words[(a - 'a') * 26 + (b - 'a')];
}

/* Strength stored in a keyword value, or -1 when the key is absent/ignored. */
static inline int
tg_kw_strength(uint16_t v)
{
	int			s = (int) (v & TG_KW_STRENGTH_MASK) - 1;

	return (s < 0 || s == TG_STRENGTH_IGNORE) ? -1 : s;
}

/* ---- words (checker_words.c) ---- */

/* Normalised bytes kept per word; longer words are cut (and marked). */
#define TG_WORD_MAX		96
#define TG_PARTS_MAX	16

/* How a word was disguised: notes for the reason. */
#define TG_NOTE_INVISIBLE	0x01	/* zero-width / format characters removed */
#define TG_NOTE_COMPAT		0x02	/* NFKC changed it (fullwidth, ligatures) */
#define TG_NOTE_CONFUSABLE	0x04	/* look-alike letters of another script */
#define TG_NOTE_MARKS		0x08	/* combining marks / accents removed */
#define TG_NOTE_RTL			0x10	/* inside a right-to-left override */
#define TG_NOTE_LEET		0x20	/* digits read as letters */
#define TG_NOTE_SPACED		0x40	/* letters written apart: T.E.S.T */
#define TG_NOTE_COMPOUND	0x80	/* found inside a longer word: Testco */

/* A part of a word: a run of letters or of digits, split at camelCase. */
typedef struct TgPart
{
	uint8_t		off;			/* in TgWord.norm */
	uint8_t		len;
	bool		digits;			/* all digits (else all letters) */
} TgPart;

/* One word of a field, normalised. */
typedef struct TgWord
{
	const char *orig;			/* the original bytes of the word */
	size_t		orig_len;
	char		norm[TG_WORD_MAX + 1];	/* folded letters and digits, NUL-ended */
	int			norm_len;
	int			nparts;
	TgPart		parts[TG_PARTS_MAX];
	int			nletters;		/* in norm */
	int			ndigits;
	bool		truncated;		/* norm holds only the start of the word */
	bool		repeated;		/* one character, 4 or more times */
	bool		ascii;			/* came through the ASCII fast path */
	unsigned	notes;			/* TG_NOTE_* */
} TgWord;

/* Iterates over the words of a text. */
typedef struct TgWordIter
{
	const unsigned char *p;
	const unsigned char *end;
	bool		rtl;			/* a right-to-left override is open */
	const char *stop;			/* extra separator bytes, e.g. "+" */
} TgWordIter;

extern void tg_words_begin(TgWordIter *it, const char *data, size_t len,
						   const char *stop);
extern bool tg_words_next(TgWordIter *it, TgWord *w);

/* Fold a domain name: NFKC case folding, invisible characters removed. */
extern size_t tg_fold_domain(const char *in, size_t inlen, char *out,
							 size_t outcap, bool *ok);

/* Is this code point invisible/format, or a control (for escaping)? */
extern bool tg_is_invisible(int32_t c);

/*
 * The Latin look-alike the word rules read a case-folded non-ASCII letter
 * as (Cyrillic "а" -> "a", Greek "ο" -> "o"), as lower-case ASCII; "" when
 * it has none (accented letters have none: "é" is not "e" here).
 */
extern const char *tg_lookalike_ascii(int32_t folded);

/* ---- reasons and field scanning (checker.c) ---- */

/* One rule's explanation, built up before it goes into the verdict. */
typedef struct TgPiece
{
	char		buf[512];
	size_t		len;
	bool		ascii_only;		/* escape non-ASCII as <U+XXXX> */
} TgPiece;

extern void tg_piece_init(TgPiece *piece, const TgRules *rules);
extern void tg_piece_str(TgPiece *piece, const char *s);
extern void tg_piece_quote(TgPiece *piece, const char *s, size_t len);
extern void tg_piece_escaped(TgPiece *piece, const char *s, size_t len,
							 size_t max);
extern void tg_verdict_add(TgVerdict *out, TgField field, const TgPiece *piece);

/* Which rules apply to a piece of text. */
typedef enum TgScanMode
{
	TG_SCAN_FIELD,				/* name, subdomain: every rule */
	TG_SCAN_LOCAL,				/* e-mail local part before "+" */
	TG_SCAN_TAG,				/* e-mail local part after "+": strong only */
	TG_SCAN_DOMAIN				/* e-mail domain labels: no placeholders */
} TgScanMode;

/* Where in the field a rule fired: ' in local part "test+1"'. */
typedef struct TgWhere
{
	const char *label;			/* " in local part " */
	const char *value;			/* shown after the label */
	size_t		len;
	bool		quoted;			/* in double quotes (else as is) */
} TgWhere;

/*
 * Run the word rules over text and add what fires to the verdict; where
 * (if not NULL) is said after every piece.
 */
extern void tg_scan_text(const TgRules *rules, TgVerdict *out, TgField field,
						 TgScanMode mode, const char *data, size_t len,
						 const char *stop, const TgWhere *where);

/* Helpers of the word rules, shared with the fast path. */
extern int	tg_compound_find(const TgRules *rules, const char *s, int n,
							 int *ps, int *ss, bool *both);
extern bool tg_is_keyboard(const char *s, int n);
extern void tg_keyboard_init(void);
extern uint8_t tg_kb_pair[26][26];
extern bool tg_kb_ready;

/*
 * Quick test before tg_is_keyboard() on lower-case ASCII letters: false
 * when s[0..n) cannot be keyboard mashing (its first three letters are no
 * run of one keyboard row).
 */
static inline bool
tg_keyboard_maybe(const char *s, int n)
{
	if (n < 4)
		return false;
	if (!tg_kb_ready)
		tg_keyboard_init();
	return (tg_kb_pair[s[0] - 'a'][s[1] - 'a'] & tg_kb_pair[s[1] - 'a'][s[2] - 'a']) != 0;
}

/*
 * Quick test before tg_compound_find(): false when no keyword or compound
 * prefix can start s[0..n) at a length where a compound could split.
 */
static inline bool
tg_compound_maybe(const TgRules *rules, const char *s, int n)
{
	int			upto = n - 2;
	uint32_t	lens;
	unsigned	a;
	unsigned	b;

	if (n < 5 || n > TG_WORD_MAX)
		return false;
	/* lengths 2 .. n - 2 (bit 31: 31 or more) */
	lens = (upto >= 31 ? 0xFFFFFFFFu : ((1u << (upto + 1)) - 1)) & ~3u;
	if ((rules->clen2[tg_clen2_slot(s)] & lens) == 0)
		return false;
	/* the other end: a key of n - 2 letters or fewer must end it */
	a = (unsigned) (unsigned char) s[n - 2] - 'a';
	b = (unsigned) (unsigned char) s[n - 1] - 'a';
	if (a >= 26 || b >= 26)
		return true;			/* not two letters: no filter */
	return (rules->ends[a * 26 + b] & lens) != 0;
}

/* Digits read as letters: 0 o, 1 i, 3 e, 4 a, 5 s, 7 t, 8 b. */
static inline char
tg_leet(char c)
{
	switch (c)
	{
		case '0':
			return 'o';
		case '1':
			return 'i';
		case '3':
			return 'e';
		case '4':
			return 'a';
		case '5':
			return 's';
		case '7':
			return 't';
		case '8':
			return 'b';
		default:
			return c;
	}
}

/* ---- the fast path (checker_fast.c) ---- */

/*
 * True when tg_scan_text() would add nothing to a verdict for this text:
 * short ASCII text whose words no rule can touch.  False means "cannot
 * tell": then the full scan decides.
 */
extern bool tg_screen_text(const TgRules *rules, TgScanMode mode,
						   const char *data, size_t len, const char *stop);

/* One text for tg_screen_texts(). */
typedef struct TgScreenText
{
	TgScanMode	mode;
	const char *data;
	size_t		len;
} TgScreenText;

/*
 * tg_screen_text() for n <= 32 texts (stop NULL) in one call: bit i of
 * the result is set when texts[i] is clean (or its data NULL: nothing to
 * look at).  tg_check() screens the fields of a row with it.
 */
extern unsigned tg_screen_texts(const TgRules *rules, const TgScreenText *texts,
								int n);

/* The full scan, word by word (checker.c): what tg_scan_text() runs. */
extern void tg_scan_text_full(const TgRules *rules, TgVerdict *out,
							  TgField field, TgScanMode mode, const char *data,
							  size_t len, const char *stop, const TgWhere *where);

/*
 * tg_scan_text() with the fast path inline, for the callers that check
 * every row: a clean text costs no call beyond the screen's (the caller's
 * where is then never built).  Test builds keep tg_scan_text()'s check of
 * every "clean" against the full scan.
 */
static inline void
tg_scan_text_inline(const TgRules *rules, TgVerdict *out, TgField field,
					TgScanMode mode, const char *data, size_t len,
					const char *stop, const TgWhere *where)
{
#ifdef TG_VERIFY_FAST_PATH
	tg_scan_text(rules, out, field, mode, data, len, stop, where);
#else
	if (!tg_screen_text(rules, mode, data, len, stop))
		tg_scan_text_full(rules, out, field, mode, data, len, stop, where);
#endif
}

/* ---- e-mail (checker_email.c) ---- */

extern void tg_check_email(const TgRules *rules, const TgText *text,
						   TgVerdict *out);
extern void tg_check_email_plain(const TgRules *rules, const TgText *text,
								 size_t llen, size_t plus, TgVerdict *out);
extern void tg_check_email_domain(const TgRules *rules, const TgText *text,
								  size_t llen, TgVerdict *out);

/*
 * The usual address, for tg_check()'s one screening pass over a row: at
 * most 63 bytes (TG_SCREEN_MAX), a local part of letters, digits, "_", "-" and
 * inner dots (tg_email_plain_local() accepts it, with no "+"), an "@" and
 * a domain.  TG_EMAIL_CACHED when these rules found the domain clean
 * before: then tg_check_email() would only scan the local part, in
 * TG_SCAN_LOCAL.  *llen is the local part's length unless TG_EMAIL_OTHER.
 */
typedef enum TgEmailShape
{
	TG_EMAIL_OTHER,				/* tg_check_email() parses it */
	TG_EMAIL_USUAL,				/* tg_check_email_plain() */
	TG_EMAIL_CACHED				/* only the local part to screen */
} TgEmailShape;

extern TgEmailShape tg_email_shape_of(const TgRules *rules, const TgText *text,
									  size_t *llen);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#endif							/* TENANT_GUARD_CHECKER_INT_H */
