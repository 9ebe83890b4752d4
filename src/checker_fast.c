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

#include <string.h>

/* Longer text takes the full scan (real names and addresses are short). */
#define TG_SCREEN_MAX 256

/* ASCII classes of a byte; 0 for separators and non-ASCII. */
#define TG_C_LOWER	1
#define TG_C_UPPER	2
#define TG_C_DIGIT	4
#define TG_C_HIGH	8			/* non-ASCII: the fast path gives up */
#define TG_C_LETTER	(TG_C_LOWER | TG_C_UPPER)
#define TG_C_ALNUM	(TG_C_LOWER | TG_C_UPPER | TG_C_DIGIT)

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

/* Is w[0..n) all digits? */
static inline bool
tg_screen_digits(const char *w, int n)
{
	for (int i = 0; i < n; i++)
		if (!(w[i] >= '0' && w[i] <= '9'))
			return false;
	return true;
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

		if (!(rules->words[(s[0] - 'a') * 26 + (s[1] - 'a')] &
			  ((bit << 16) | bit | TG_WM_KEYBOARD)))
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

/* Would tg_scan_text() find nothing in data[0..len)?  See the header. */
bool
tg_screen_text(const TgRules *rules, TgScanMode mode, const char *data,
			   size_t len, const char *stop)
{
	const unsigned char *s = (const unsigned char *) data;
	char		lc[TG_SCREEN_MAX];
	int			n = (int) len;
	int			i = 0;
	int			nother = 0;
	/* the two previous words (in lc) and their keyword values: phrases */
	int			prev_off[2] = {0, 0};
	int			prev_len[2] = {0, 0};
	unsigned	prev_v[2] = {0, 0};
	int			nprev = 0;

	if (stop != NULL || len > TG_SCREEN_MAX || !rules->words_ready)
		return false;

	while (i < n)
	{
		int			start;
		int			wl;
		uint8_t		cl = 0;
		uint8_t		first;
		uint8_t		rest = 0;
		uint8_t		all;
		const char *w;
		bool		letters;
		bool		plain;
		uint32_t	splits;
		unsigned	v;			/* a keyword value (uint16_t), kept in a full
								 * register: no partial-width spills */
		int			strength;

		/* separators */
		while (i < n && ((cl = tg_cclass[s[i]]) & TG_C_ALNUM) == 0)
		{
			if (cl & TG_C_HIGH)
				return false;
			i++;
		}
		if (i >= n)
			break;

		/*
		 * A word: lower-cased into lc (c | 0x20 lower-cases ASCII letters
		 * and leaves digits alone), noting the classes of its first and
		 * further characters.
		 */
		start = i;
		first = cl;
		lc[i] = (char) (s[i] | 0x20);
		for (i++; i < n && ((cl = tg_cclass[s[i]]) & TG_C_ALNUM); i++)
		{
			lc[i] = (char) (s[i] | 0x20);
			rest |= cl;
		}
		if (i < n && (cl & TG_C_HIGH))
			return false;		/* the word goes on in non-ASCII */
		all = first | rest;
		wl = i - start;
		w = lc + start;
		if (wl > TG_WORD_MAX)
			return false;		/* a cut word: the full scan */

		/*
		 * The common case: a word of letters (a capital at most first)
		 * whose first two letters start no compound prefix, no keyboard
		 * run and no repeat at its length ("splits" clear) -- and, when
		 * they start no keyword of its length either, a word such as
		 * "harbor" that is looked up in nothing.  It can still end a
		 * phrase.
		 */
		letters = wl >= 2 && !(all & TG_C_DIGIT) && !(rest & TG_C_UPPER);
		splits = ~0u;
		plain = false;
		if (letters)
		{
			uint32_t	m = rules->words[(w[0] - 'a') * 26 + (w[1] - 'a')];
			uint32_t	bit = tg_wm_len(wl);

			splits = m & (bit | TG_WM_KEYBOARD | TG_WM_SAME);
			plain = splits == 0 && (m & (bit << 16)) == 0;
		}
		if (plain)
			v = 0;
		else
		{
			if (wl == 1 && (all & TG_C_LETTER))
				return false;	/* a single letter: "T.E.S.T" */
			if (wl >= 4 && (all & TG_C_LETTER) && tg_screen_same(w, wl))
				return false;	/* repeated characters */
			v = tg_set_get_fast(&rules->keywords, w, (size_t) wl);
		}

		/* phrases ending with this word */
		if (nprev >= 1 && (prev_v[1] & TG_KW_PHRASE1) &&
			tg_screen_phrase(rules, NULL, 0, lc + prev_off[1], prev_len[1], w, wl))
			return false;
		if (nprev >= 2 && (prev_v[0] & TG_KW_PHRASE1) &&
			tg_screen_phrase(rules, lc + prev_off[0], prev_len[0],
							 lc + prev_off[1], prev_len[1], w, wl))
			return false;
		prev_off[0] = prev_off[1];
		prev_len[0] = prev_len[1];
		prev_v[0] = prev_v[1];
		prev_off[1] = start;
		prev_len[1] = wl;
		prev_v[1] = v;
		nprev++;
		if (splits == 0 && tg_kw_strength(v) < 0 && !(v & TG_KW_STOP))
		{
			nother++;			/* a real-looking word */
			continue;
		}

		/* the word, classified as tg_scan_classify does */
		if (!(all & TG_C_LETTER))
			continue;			/* a number */
		strength = tg_kw_strength(v);
		if (strength == TG_STRENGTH_STRONG || strength == TG_STRENGTH_WEAK)
			return false;
		if (strength >= 0 || (v & TG_KW_STOP))
			continue;			/* generic, placeholder, stop word */
		if (all & TG_C_DIGIT)
		{
			int			k;

			if (wl >= 4 && tg_screen_hex(w, wl))
				continue;		/* a hex string */

			/*
			 * Letters then digits ("doe123", "sales77"), the usual shape:
			 * two parts, and only the reading of every digit as a letter
			 * can be a keyword (without its digits the word reads the same).
			 */
			for (k = 0; k < wl && !(w[k] >= '0' && w[k] <= '9'); k++)
				;
			if (k > 0 && !(rest & TG_C_UPPER) && tg_screen_digits(w + k, wl - k))
			{
				if (!tg_screen_leet_pass(rules, w, wl) ||
					!tg_screen_part(rules, w, k, &nother))
					return false;
				continue;
			}
			if (!tg_screen_leet(rules, w, wl))
				return false;
		}
		if (!(all & TG_C_DIGIT) && !(rest & TG_C_UPPER))
		{
			/* one part, the whole word */
			if (!tg_screen_letters(rules, w, wl, v, &nother))
				return false;
		}
		else if (!tg_screen_parts(rules, s + start, w, wl, v, &nother))
			return false;
	}

	/*
	 * Made-up names ("Company 123", "New Org") are only named when no
	 * word looks real; weak keywords never got this far.
	 */
	if (nother == 0 && (mode == TG_SCAN_FIELD || mode == TG_SCAN_LOCAL))
		return false;
	return true;
}
