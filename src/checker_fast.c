/*-------------------------------------------------------------------------
 *
 * checker_fast.c
 *	  The fast path of the deciding core: prove in one pass, without ICU,
 *	  without allocating and without building any text, that the word
 *	  rules (tg_scan_text in checker.c) would find nothing in a piece of
 *	  text.  Part of the deciding core: no PostgreSQL headers.
 *
 * Nearly every real tenant is short ASCII text whose words are no rule's
 * business: "Blue Harbor Robotics", "blue-harbor-robotics-rstv".  For
 * those the full scan -- a TgWord per word, reason pieces, the phrase
 * window, the spaced-letter run -- is work whose only result is "nothing".
 * tg_screen_text() walks the same words the same way (same word and part
 * boundaries, same keyword, phrase, compound, leetspeak and keyboard
 * look-ups) and answers true only when none of them can fire; at the
 * first sign of anything -- a keyword that is strong or weak, a phrase, a
 * compound, a keyboard row, a repeated letter, a single letter (spaced
 * "T.E.S.T"), a field of only generic words and numbers, any non-ASCII
 * byte, an over-long text or word -- it answers false and the full scan
 * decides.  So the fast path can only make a check faster, never change
 * its verdict or its reason; test builds (-DTG_VERIFY_FAST_PATH) check
 * every "true" against the full scan.
 *
 *-------------------------------------------------------------------------
 */
#include "checker_int.h"
#include "checker_simd.h"

#include <string.h>

/* ASCII classes of a byte; 0 for separators and non-ASCII. */
#define TG_C_LOWER	1
#define TG_C_UPPER	2
#define TG_C_DIGIT	4
#define TG_C_HIGH	8			/* non-ASCII: the fast path gives up */
#define TG_C_LETTER	(TG_C_LOWER | TG_C_UPPER)

static const uint8_t tg_cclass[256] = {
#define X4(a) a, a, a, a
#define X8(a) X4(a), X4(a)
#define X16(a) X8(a), X8(a)
	/* 0x00 - 0x2F: controls, space, punctuation */
	X16(0), X16(0), X16(0),
	/* 0x30 - 0x3F: digits, then : ; < = > ? */
	X8(TG_C_DIGIT), TG_C_DIGIT, TG_C_DIGIT, 0, 0, 0, 0, 0, 0,
	/* 0x40 - 0x5F: @ A-Z [ \ ] ^ _ */
	0, X16(TG_C_UPPER), X8(TG_C_UPPER), TG_C_UPPER, TG_C_UPPER, 0, 0, 0, 0, 0,
	/* 0x60 - 0x7F: ` a-z { | } ~ DEL */
	0, X16(TG_C_LOWER), X8(TG_C_LOWER), TG_C_LOWER, TG_C_LOWER, 0, 0, 0, 0, 0,
	/* 0x80 - 0xFF */
	X16(TG_C_HIGH), X16(TG_C_HIGH), X16(TG_C_HIGH), X16(TG_C_HIGH),
	X16(TG_C_HIGH), X16(TG_C_HIGH), X16(TG_C_HIGH), X16(TG_C_HIGH),
#undef X16
#undef X8
#undef X4
};

/* Is a lower-cased word one character repeated? */
static inline bool
tg_screen_same(const char *w, int n)
{
	for (int i = 1; i < n; i++)
		if (w[i] != w[0])
			return false;
	return true;
}

/* Is a lower-cased word of letters and digits all hex digits? */
static inline bool
tg_screen_hex(const char *w, int n)
{
	for (int i = 0; i < n; i++)
		if (!((w[i] >= '0' && w[i] <= '9') || (w[i] >= 'a' && w[i] <= 'f')))
			return false;
	return true;
}

/*
 * A run of letters that is no keyword (of any strength, nor a stop word):
 * can it be a compound ("testco") or keyboard mashing ("asdf")?  True when
 * it is simply a real-looking word.
 */
static inline bool
tg_screen_plain(const TgRules *rules, const char *s, int n)
{
	int			ps;
	int			ss;
	bool		both;

	if (tg_compound_maybe(rules, s, n) &&
		tg_compound_find(rules, s, n, &ps, &ss, &both) != 0)
		return false;
	if (tg_keyboard_maybe(s, n) && tg_is_keyboard(s, n))
		return false;
	if (tg_is_mash(s, n))
		return false;
	return true;
}

/*
 * One leetspeak reading of w[0..m) (a word, or a word without its trailing
 * digits), as tg_scan_leet reads it: every digit as a letter.  True when it cannot be
 * a keyword or compound; a reading with a digit left in it (2, 6, 9) or
 * with no digit read is never looked up.
 */
static bool
tg_screen_leet_pass(const TgRules *rules, const char *w, int m)
{
	char		folded[TG_WORD_MAX + 1];
	bool		changed = false;
	int			s;
	int			ps;
	int			ss;
	bool		both;

	if (m < 2)
		return true;

	/*
	 * The words mask of the reading's first two letters: no keyword and
	 * no compound of m letters starts with them (the usual "info123").
	 */
	{
		char		a = tg_leet(w[0]);
		char		b = tg_leet(w[1]);

		if (a >= 'a' && a <= 'z' && b >= 'a' && b <= 'z' &&
			(tg_words_mask(rules, a, b) & ((tg_wm_len(m) << 16) | tg_wm_len(m))) == 0)
			return true;
	}
	for (int i = 0; i < m; i++)
	{
		folded[i] = tg_leet(w[i]);
		if (folded[i] >= '0' && folded[i] <= '9')
			return true;		/* not letters only */
		changed |= (folded[i] != w[i]);
	}
	if (!changed)
		return true;
	s = tg_kw_strength(tg_set_get_fast(&rules->keywords, folded, (size_t) m));
	if (s == TG_STRENGTH_STRONG || s == TG_STRENGTH_WEAK)
		return false;
	if (tg_compound_maybe(rules, folded, m) &&
		tg_compound_find(rules, folded, m, &ps, &ss, &both) != 0)
		return false;
	return true;
}

/*
 * A word with digits in it ("t3st1"): can a leetspeak reading of it be a
 * keyword or compound (as tg_scan_leet reads it: every digit as a letter,
 * then with the trailing digits left as a number)?
 */
static TG_COLD bool
tg_screen_leet(const TgRules *rules, const char *w, int n)
{
	int			m = n;

	if (!tg_screen_leet_pass(rules, w, n))
		return false;
	while (m > 0 && w[m - 1] >= '0' && w[m - 1] <= '9')
		m--;
	return m == n || tg_screen_leet_pass(rules, w, m);
}

/*
 * One letter part of a word (not the whole word, or the whole word with
 * its keyword value v): adds to *nother when it is a real-looking word,
 * returns false when a rule may fire.
 */
static inline bool
tg_screen_letters(const TgRules *rules, const char *s, int n, unsigned v,
				  int *nother)
{
	int			strength = tg_kw_strength(v);

	if (strength == TG_STRENGTH_STRONG || strength == TG_STRENGTH_WEAK)
		return false;
	if (strength >= 0 || (v & TG_KW_STOP))
		return true;			/* generic, placeholder, stop word */
	if (!tg_screen_plain(rules, s, n))
		return false;
	(*nother)++;
	return true;
}

/*
 * A run of lower-case letters that is a part of a longer word: the word
 * masks spare it the look-up when no keyword, compound or keyboard run of
 * its length starts with its first two letters.
 */
static inline bool
tg_screen_part(const TgRules *rules, const char *s, int n, int *nother)
{
	if (n >= 2)
	{
		uint32_t	bit = tg_wm_len(n);

		if (!(tg_words_mask(rules, s[0], s[1]) & ((bit << 16) | bit | TG_WM_KEYBOARD)) &&
			!tg_mash_maybe(s, n))
		{
			(*nother)++;
			return true;
		}
	}
	return tg_screen_letters(rules, s, n,
							 tg_set_get_fast(&rules->keywords, s, (size_t) n),
							 nother);
}

/*
 * A word whose letters and digits may split into parts (as
 * tg_word_ascii splits them: letter/digit changes, "aB", "ABc"): look at
 * each part.  orig is the word as written (for the case), w lower-cased.
 */
static TG_COLD bool
tg_screen_parts(const TgRules *rules, const unsigned char *orig,
				const char *w, int n, unsigned whole, int *nother)
{
	int			start = 0;
	int			nparts = 0;

	for (int i = 1; i <= n; i++)
	{
		bool		boundary;

		if (i == n)
			boundary = true;
		else
		{
			unsigned char c = orig[i];
			unsigned char pc = orig[i - 1];
			bool		isdig = (tg_cclass[c] & TG_C_DIGIT) != 0;
			bool		pdig = (tg_cclass[pc] & TG_C_DIGIT) != 0;

			boundary = (pdig != isdig);
			if (!boundary && !isdig)
			{
				bool		pup = (tg_cclass[pc] & TG_C_UPPER) != 0;
				bool		up = (tg_cclass[c] & TG_C_UPPER) != 0;

				if (!pup && up)
					boundary = true;
				else if (pup && up && i + 1 < n &&
						 (tg_cclass[orig[i + 1]] & TG_C_LOWER))
					boundary = true;
			}
		}
		if (!boundary)
			continue;
		if (++nparts > TG_PARTS_MAX)
			return false;		/* the full scan merges the rest */
		if (!(tg_cclass[orig[start]] & TG_C_DIGIT))
		{
			int			len = i - start;
			unsigned	v = (start == 0 && len == n) ? whole :
				tg_set_get_fast(&rules->keywords, w + start, (size_t) len);

			if (!tg_screen_letters(rules, w + start, len, v, nother))
				return false;
		}
		start = i;
	}
	return true;
}

/* Is the phrase "w0 w1 w2" (w0 may be absent) a rule? */
static bool
tg_screen_phrase(const TgRules *rules, const char *w0, int l0,
				 const char *w1, int l1, const char *w2, int l2)
{
	char		key[3 * (TG_WORD_MAX + 1)];
	int			n = 0;
	const TgSet *set = &rules->phrases;
	int			total = (w0 != NULL ? l0 + 1 : 0) + l1 + 1 + l2;
	uint32_t	bit;

	/* the set's filter first, from the key's first and last byte */
	if (set->filter == NULL)
		return false;
	bit = tg_filter_bit3((unsigned char) (w0 != NULL ? w0[0] : w1[0]),
						 (unsigned char) w2[l2 - 1], (size_t) total);
	if (!((set->filter[bit >> 3] >> (bit & 7)) & 1))
		return false;

	if (w0 != NULL)
	{
		memcpy(key, w0, (size_t) l0);
		n = l0;
		key[n++] = ' ';
	}
	memcpy(key + n, w1, (size_t) l1);
	n += l1;
	key[n++] = ' ';
	memcpy(key + n, w2, (size_t) l2);
	n += l2;
	return tg_set_get(set, key, (size_t) n) != 0;
}

/*
 * The byte classes of a text of at most TG_SCREEN_MAX bytes as bit masks
 * (bit i: byte i), and the text lower-cased into lc (c | 0x20 for capital
 * letters, every other byte as it is).  One pass of 16 bytes at a time
 * with SSE2 (every x86-64 has it), else byte by byte: a few instructions
 * per 16 bytes instead of a table look-up, a store and a branch per byte.
 */
typedef struct TgScreenMasks
{
	uint64_t	letter;
	uint64_t	upper;
	uint64_t	digit;
	uint64_t	high;			/* non-ASCII */
	uint64_t	vowel;			/* a e i o u y, either case, as tg_mash_maybe
								 * counts them */
} TgScreenMasks;

#ifdef __SSE2__
/*
 * Classify 16 bytes: the byte masks of their letters, capitals, digits
 * and non-ASCII bytes in the low 16 bits of each; returns them
 * lower-cased.
 */
static inline __m128i
tg_screen_chunk(__m128i x, TgScreenMasks *c)
{
	const __m128i c20 = _mm_set1_epi8(0x20);
	__m128i		u = tg_screen_range(x, 'A', 'Z');
	__m128i		l = _mm_or_si128(x, c20);

	/* a and i (0x61, 0x69: one compare without bit 3), e, o, u, y */
	c->vowel = (uint16_t) _mm_movemask_epi8(
		_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(_mm_and_si128(l, _mm_set1_epi8((char) 0xF7)),
												 _mm_set1_epi8('a')),
								  _mm_cmpeq_epi8(l, _mm_set1_epi8('e'))),
					 _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(l, _mm_set1_epi8('o')),
											   _mm_cmpeq_epi8(l, _mm_set1_epi8('u'))),
								  _mm_cmpeq_epi8(l, _mm_set1_epi8('y')))));

	/* bytes >= 0x80 are negative: outside every range */
	c->letter = (uint16_t) _mm_movemask_epi8(tg_screen_range(l, 'a', 'z'));
	c->upper = (uint16_t) _mm_movemask_epi8(u);
	c->digit = (uint16_t) _mm_movemask_epi8(tg_screen_range(x, '0', '9'));
	c->high = (uint16_t) _mm_movemask_epi8(x);
	return _mm_or_si128(x, _mm_and_si128(u, c20));
}
#endif

#ifdef __SSE2__
/* Add the masks of a chunk (tg_screen_chunk) that starts at byte k. */
static inline void
tg_screen_add(TgScreenMasks *m, const TgScreenMasks *c, int k)
{
	m->letter |= c->letter << k;
	m->upper |= c->upper << k;
	m->digit |= c->digit << k;
	m->high |= c->high << k;
	m->vowel |= c->vowel << k;
}
#endif

/*
 * Classify data[0..n), 0 < n <= TG_SCREEN_MAX, into *m and lower-case it
 * into lc[0..n) (16-byte aligned; what follows the text there is not
 * defined, and nothing reads it).
 */
static inline TG_ALWAYS_INLINE void
tg_screen_classify(const char *data, int n, char *lc, TgScreenMasks *m)
{
#ifdef __SSE2__
	TgScreenMasks c;

	if (n < 16)
	{
		/* the usual name or local part: one chunk */
		_mm_store_si128((__m128i *) lc,
						tg_screen_chunk(tg_screen_load_short(data, n), m));
		return;
	}
	m->letter = m->upper = m->digit = m->high = m->vowel = 0;
	for (int k = 0, at; k < n; k = at + 16)
	{
		__m128i		x;

		at = k;
		x = tg_screen_chunk(tg_screen_load(data, n, &at), &c);
		_mm_storeu_si128((__m128i *) (lc + at), x);
		tg_screen_add(m, &c, at);
	}
#else
	m->letter = m->upper = m->digit = m->high = m->vowel = 0;
	for (int i = 0; i < n; i++)
	{
		uint8_t		cl = tg_cclass[(unsigned char) data[i]];
		uint64_t	bit = UINT64_C(1) << i;
		unsigned	k;

		lc[i] = (char) ((cl & TG_C_UPPER) ? data[i] | 0x20 : data[i]);
		k = (unsigned) (lc[i] - 'a');
		if ((cl & TG_C_LETTER) && ((0x1104111u >> k) & 1))
			m->vowel |= bit;
		if (cl & TG_C_LETTER)
			m->letter |= bit;
		if (cl & TG_C_UPPER)
			m->upper |= bit;
		if (cl & TG_C_DIGIT)
			m->digit |= bit;
		if (cl & TG_C_HIGH)
			m->high |= bit;
	}
#endif
}

/* What tg_screen_text() knows while it walks the words of one text. */
typedef struct TgScreen
{
	const TgRules *rules;
	const unsigned char *s;		/* the text as written */
	const char *lc;				/* the text lower-cased */
	TgScreenMasks cls;
	/* the two previous words: [1] the last one; phr bit k: word [k] may
	 * start a phrase (TG_KW_PHRASE1) -- its place is only kept then */
	int			prev_off[2];
	int			prev_len[2];
	unsigned	phr;
	int			nother;			/* real-looking words so far */
} TgScreen;

/* Remember a word (its keyword value v) as the last one, for phrases. */
static inline void
tg_screen_push(TgScreen *sc, int start, int wl, unsigned v)
{
	sc->prev_off[0] = sc->prev_off[1];
	sc->prev_len[0] = sc->prev_len[1];
	sc->prev_off[1] = start;
	sc->prev_len[1] = wl;
	sc->phr = ((sc->phr >> 1) & 1) | ((v & TG_KW_PHRASE1) ? 2 : 0);
}

/*
 * A word the common case (tg_screen_text) does not settle: lc[start..+wl),
 * its characters in wbits.  False when a rule may fire.
 */
static TG_NOINLINE bool
tg_screen_word(TgScreen *sc, int start, int wl, uint64_t wbits)
{
	const TgRules *rules = sc->rules;
	const char *w = sc->lc + start;
	bool		has_letter = (sc->cls.letter & wbits) != 0;
	bool		has_digit = (sc->cls.digit & wbits) != 0;
	bool		inner_upper = (sc->cls.upper & wbits & (wbits << 1)) != 0;
	uint32_t	splits = ~0u;
	bool		plain = false;
	unsigned	v;				/* a keyword value (uint16_t), kept in a full
								 * register: no partial-width spills */
	int			strength;

	/*
	 * A word of letters (a capital at most first) whose first two letters
	 * start no compound prefix, no keyboard run and no repeat at its
	 * length ("splits" clear); "plain" when they start no keyword of its
	 * length either.
	 */
	if (wl >= 2 && !has_digit && !inner_upper)
	{
		uint32_t	m = tg_words_mask(rules, w[0], w[1]);
		uint32_t	bit = tg_wm_len(wl);
		uint64_t	vowels = sc->cls.vowel & wbits;

		splits = m & (bit | TG_WM_KEYBOARD | TG_WM_SAME);
		if (wl >= 6 && (vowels & (vowels - 1)) == 0)
			splits |= TG_WM_KEYBOARD;	/* maybe mashing (tg_is_mash) */
		plain = splits == 0 && (m & (bit << 16)) == 0;
	}
	if (plain)
		v = 0;
	else
	{
		if (wl == 1 && has_letter)
			return false;		/* a single letter: "T.E.S.T" */
		if (wl >= 4 && has_letter && tg_screen_same(w, wl))
			return false;		/* repeated characters */
		v = tg_set_get_fast(&rules->keywords, w, (size_t) wl);
	}

	/* phrases ending with this word */
	if ((sc->phr & 2) &&
		tg_screen_phrase(rules, NULL, 0, sc->lc + sc->prev_off[1], sc->prev_len[1], w, wl))
		return false;
	if ((sc->phr & 1) &&
		tg_screen_phrase(rules, sc->lc + sc->prev_off[0], sc->prev_len[0],
						 sc->lc + sc->prev_off[1], sc->prev_len[1], w, wl))
		return false;
	tg_screen_push(sc, start, wl, v);
	if (splits == 0 && tg_kw_strength(v) < 0 && !(v & TG_KW_STOP))
	{
		sc->nother++;			/* a real-looking word */
		return true;
	}

	/* the word, classified as tg_scan_classify does */
	if (!has_letter)
		return true;			/* a number */
	strength = tg_kw_strength(v);
	if (strength == TG_STRENGTH_STRONG || strength == TG_STRENGTH_WEAK)
		return false;
	if (strength >= 0 || (v & TG_KW_STOP))
		return true;			/* generic, placeholder, stop word */
	if (has_digit)
	{
		uint64_t	digits = sc->cls.digit & wbits;
		int			k;

		if (wl >= 4 && tg_screen_hex(w, wl))
			return true;		/* a hex string */

		/*
		 * Letters then digits ("doe123", "sales77"), the usual shape: two
		 * parts, and only the reading of every digit as a letter can be a
		 * keyword (without its digits the word reads the same).
		 */
		k = __builtin_ctzll(digits) - start;
		if (k > 0 && !inner_upper && digits == (wbits & (wbits << k)))
			return tg_screen_leet_pass(rules, w, wl) &&
				tg_screen_part(rules, w, k, &sc->nother);
		if (!tg_screen_leet(rules, w, wl))
			return false;
	}
	if (!has_digit && !inner_upper)
		return tg_screen_letters(rules, w, wl, v, &sc->nother); /* one part */
	return tg_screen_parts(rules, sc->s + start, w, wl, v, &sc->nother);
}

/*
 * The bits of a run of n letters s (its words mask m, its length bit bit)
 * that can still matter: the keyword bit as it is; the compound bit
 * unless the run's last letters end no key that can end a compound
 * (tg_compound_maybe); the keyboard bit unless its third letter leaves
 * the row (tg_keyboard_maybe); the repeat bit.  0: a real-looking word.
 */
static inline TG_ALWAYS_INLINE uint32_t
tg_screen_rule_out(const TgRules *rules, const char *s, int n, uint32_t m,
				   uint32_t bit, uint64_t vowels)
{
	uint32_t	any = m & ((bit << 16) | bit | TG_WM_KEYBOARD | TG_WM_SAME);

	if ((any & bit) && !tg_compound_maybe(rules, s, n))
		any &= ~bit;
	if ((any & TG_WM_KEYBOARD) && !tg_keyboard_maybe(s, n))
		any &= ~TG_WM_KEYBOARD;
	/* six letters or more, at most one vowel: maybe mashing (tg_is_mash) */
	if (n >= 6 && (vowels & (vowels - 1)) == 0)
		any |= TG_WM_KEYBOARD;
	return any;
}

/*
 * tg_screen_text() for one text, lc its work area (TG_SCREEN_MAX + 16
 * bytes, 16-byte aligned); rules->words_ready.  Inlined into both of its
 * callers.
 */
static inline TG_ALWAYS_INLINE bool
tg_screen_one(const TgRules *rules, TgScanMode mode, const char *data,
			  size_t len, char *lc)
{
	TgScreen	sc;
	uint64_t	words;			/* letters and digits not yet looked at */
	uint64_t	simple;			/* bytes that may be in a plain word */

	if (len > TG_SCREEN_MAX)
		return false;
	if (len == 0)
		return mode != TG_SCAN_FIELD && mode != TG_SCAN_LOCAL;

	tg_screen_classify(data, (int) len, lc, &sc.cls);
	if (sc.cls.high != 0)
		return false;			/* non-ASCII: the full scan */
	if (sc.cls.digit != 0)
	{
		/* a run of 10 digits or more: maybe a Unix time, for the full scan */
		uint64_t	d2 = sc.cls.digit & (sc.cls.digit >> 1);
		uint64_t	d4 = d2 & (d2 >> 2);
		uint64_t	d8 = d4 & (d4 >> 4);

		if ((d8 & (d2 >> 8)) != 0)
			return false;
	}
	sc.rules = rules;
	sc.s = (const unsigned char *) data;
	sc.lc = lc;
	sc.phr = 0;					/* prev_off/prev_len are read only once set */
	sc.nother = 0;
	words = sc.cls.letter | sc.cls.digit;
	/* a capital can only start a plain word: not a digit, no capital after a letter */
	simple = sc.cls.letter & ~(sc.cls.upper & (words << 1));

	while (words != 0)
	{
		int			start = __builtin_ctzll(words);
		/* the lowest run of ones cleared: words + its lowest bit carries through it */
		uint64_t	rest = words & (words + (words & (~words + 1)));
		uint64_t	wbits = words ^ rest;
		int			wl = __builtin_ctzll(~(words >> start));

		words = rest;

		/*
		 * The common case: a word of two letters or more (a capital at
		 * most first) whose first two letters start no keyword, compound
		 * prefix, keyboard run or repeat at its length (or a compound
		 * prefix, but its last two letters end no key that can end a
		 * compound) -- "harbor", looked up in nothing -- and after which no
		 * phrase can end.  The rest,
		 * word by word, in tg_screen_word().
		 */
		if (wl >= 2 && sc.phr == 0 && (simple & wbits) == wbits)
		{
			uint32_t	m = tg_words_mask(rules, lc[start], lc[start + 1]);
			uint32_t	bit = tg_wm_len(wl);
			uint32_t	any = tg_screen_rule_out(rules, lc + start, wl, m, bit,
												 sc.cls.vowel & wbits);

			if (any == 0)
			{
				/* no phrase is open: its place need not be kept */
				sc.nother++;
				continue;
			}
			if (any == (bit << 16))
			{
				/*
				 * Only a keyword of its length starts so: look it up.  No
				 * keyword at all ("Contoso", "Dental": a compound and a
				 * keyboard row were ruled out above) is a real-looking
				 * word; a generic word, placeholder or stop word fires
				 * nothing by itself and, unless it starts a phrase, needs
				 * nothing kept.
				 */
				unsigned	v = tg_set_get_fast(&rules->keywords, lc + start, (size_t) wl);
				int			strength = tg_kw_strength(v);

				if ((v & ~TG_KW_SIGNAL) == 0)
				{
					/* signal words (run, team) matter only beside a weak keyword */
					sc.nother++;
					continue;
				}
				if (!(v & TG_KW_PHRASE1) &&
					((v & TG_KW_STOP) || strength == TG_STRENGTH_GENERIC ||
					 strength == TG_STRENGTH_PLACEHOLDER))
					continue;
			}
		}
		else if (sc.phr == 0 && (sc.cls.digit & wbits) != 0)
		{
			/*
			 * Just as common in local parts: two letters or more, then
			 * only digits ("info123", "doe1845") -- no keyword or
			 * compound of the word's length, nor of its letters' (nor a
			 * keyboard row), starts with its first two letters, so
			 * neither the word, nor its letters, nor its leetspeak reading
			 * is a rule's; and it is no hex string.
			 */
			int			k = __builtin_ctzll(~((simple & wbits) >> start));
			uint64_t	digits = sc.cls.digit & wbits;

			if (k >= 2 && digits == (wbits & (wbits << k)))
			{
				uint32_t	m = tg_words_mask(rules, lc[start], lc[start + 1]);
				uint32_t	wbit = tg_wm_len(wl);
				bool		hex = wl >= 4;

				/* the letters as in the common case above, the word's own bits as they are */
				uint32_t	any = tg_screen_rule_out(rules, lc + start, k, m, tg_wm_len(k),
													 sc.cls.vowel & wbits) |
					(m & ((wbit << 16) | wbit));

				for (int i = 0; hex && i < k; i++)
					hex = lc[start + i] <= 'f';
				if (!hex && any == 0)
				{
					sc.nother++;
					continue;
				}
			}
		}
		if (!tg_screen_word(&sc, start, wl, wbits))
			return false;
	}

	/*
	 * Made-up names ("Company 123", "New Org") are only named when no
	 * word looks real; weak keywords never got this far.
	 */
	if (sc.nother == 0 && (mode == TG_SCAN_FIELD || mode == TG_SCAN_LOCAL))
		return false;
	return true;
}

/* Would tg_scan_text() find nothing in data[0..len)?  See the header. */
bool
tg_screen_text(const TgRules *rules, TgScanMode mode, const char *data,
			   size_t len, const char *stop)
{
	_Alignas(16) char lc[TG_SCREEN_MAX + 16];

	if (stop != NULL || !rules->words_ready)
		return false;
	return tg_screen_one(rules, mode, data, len, lc);
}

/* tg_screen_text() for several texts at once.  See the header. */
unsigned
tg_screen_texts(const TgRules *rules, const TgScreenText *texts, int n)
{
	_Alignas(16) char lc[TG_SCREEN_MAX + 16];
	unsigned	clean = 0;

	if (!rules->words_ready)
		return 0;
	for (int i = 0; i < n; i++)
		if (texts[i].data == NULL ||
			tg_screen_one(rules, texts[i].mode, texts[i].data, texts[i].len, lc))
			clean |= 1u << i;
	return clean;
}
