/*-------------------------------------------------------------------------
 *
 * checker_words.c
 *	  Splitting a field into words and normalising each word for matching.
 *	  Part of the deciding core: no PostgreSQL headers (checker_int.h).
 *
 * A word is a run of letters and digits; everything else separates.
 * Invisible characters (zero-width space, bidi controls, soft hyphen and
 * the other default-ignorable code points) and combining marks do not
 * separate: they are dropped, and noted, so "Te<ZWSP>st" is one word.
 * Each word is then
 *	  - normalised to NFKC (fullwidth "Ｔｅｓｔ" becomes "Test"),
 *	  - split into parts at letter/digit and camelCase boundaries
 *		("TestCompany123" -> test, company, 123),
 *	  - case-folded, stripped of accents and combining marks, and every
 *		remaining non-ASCII letter that ICU's spoof checker maps to a Latin
 *		look-alike (Cyrillic "е", Greek "ο", ...) replaced by it.
 *
 * Words made only of ASCII letters and digits -- nearly every word in
 * practice -- take a fast path that never calls ICU; it gives the same
 * result the ICU path would.
 *
 *-------------------------------------------------------------------------
 */
#include "checker_int.h"

#include <string.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uscript.h>
#include <unicode/uspoof.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

/* Code points of one word kept for normalisation; the rest is ignored. */
#define TG_WORD_CP_MAX	128
/* Room for the NFKC form of those (most expansions are short). */
#define TG_NFKC_MAX		(TG_WORD_CP_MAX * 4)

#define CP_RLO	0x202E			/* RIGHT-TO-LEFT OVERRIDE */
#define CP_PDF	0x202C			/* POP DIRECTIONAL FORMATTING */
#define CP_PDI	0x2069			/* POP DIRECTIONAL ISOLATE */

/* What a code point is to the word splitter. */
typedef enum TgCpClass
{
	TG_CP_SEP,					/* separates words */
	TG_CP_WORD,					/* letter or digit: part of a word */
	TG_CP_INVISIBLE,			/* dropped, does not separate */
	TG_CP_MARK					/* combining mark: dropped, does not separate */
} TgCpClass;

/* Is an ASCII byte a letter or digit? */
static inline bool
tg_ascii_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9');
}

/* ASCII lower-casing. */
static inline char
tg_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (char) (c + ('a' - 'A')) : (char) c;
}

/* Should a code point be shown escaped in a reason (invisible or control)? */
bool
tg_is_invisible(int32_t c)
{
	int8_t		t;

	if (c < 0)
		return true;
	if (c < 0x80)
		return c < 0x20 || c == 0x7F;
	t = u_charType(c);
	return t == U_CONTROL_CHAR || t == U_FORMAT_CHAR ||
		t == U_LINE_SEPARATOR || t == U_PARAGRAPH_SEPARATOR ||
		t == U_PRIVATE_USE_CHAR || t == U_SURROGATE || t == U_UNASSIGNED ||
		u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT);
}

/* Classify a non-ASCII code point (c < 0: invalid UTF-8). */
static TgCpClass
tg_cp_class(UChar32 c)
{
	if (c < 0)
		return TG_CP_SEP;
	if (c < 0x80)
		return tg_ascii_alnum((unsigned char) c) ? TG_CP_WORD : TG_CP_SEP;
	if (u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT))
		return TG_CP_INVISIBLE;
	switch (u_charType(c))
	{
		case U_UPPERCASE_LETTER:
		case U_LOWERCASE_LETTER:
		case U_TITLECASE_LETTER:
		case U_MODIFIER_LETTER:
		case U_OTHER_LETTER:
		case U_DECIMAL_DIGIT_NUMBER:
		case U_LETTER_NUMBER:
		case U_OTHER_NUMBER:
		case U_COMBINING_SPACING_MARK:
			return TG_CP_WORD;
		case U_NON_SPACING_MARK:
		case U_ENCLOSING_MARK:
			return TG_CP_MARK;
		case U_FORMAT_CHAR:
			return TG_CP_INVISIBLE;
		default:
			return TG_CP_SEP;
	}
}

/* Start iterating over the words of data[0..len). */
void
tg_words_begin(TgWordIter *it, const char *data, size_t len, const char *stop)
{
	it->p = (const unsigned char *) data;
	it->end = it->p + len;
	it->rtl = false;
	it->stop = stop;
}

/* Is byte c one of the iterator's extra separators? */
static inline bool
tg_is_stop(const TgWordIter *it, unsigned char c)
{
	return it->stop != NULL && c != '\0' && strchr(it->stop, c) != NULL;
}

/* Decode one code point at *pp (advancing it); negative when invalid. */
static inline UChar32
tg_decode(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *s = *pp;
	int32_t		i = 0;
	int32_t		n = (end - s) > INT32_MAX ? INT32_MAX : (int32_t) (end - s);
	UChar32		c;

	U8_NEXT(s, i, n, c);
	if (i <= 0)
		i = 1;
	*pp = s + i;
	return c;
}

/* Append a part boundary: close the part [start, w->norm_len). */
static void
tg_close_part(TgWord *w, int start, bool digits)
{
	int			len = w->norm_len - start;

	if (len <= 0)
		return;
	if (w->nparts == TG_PARTS_MAX)
	{
		/* too many parts: the last one absorbs the rest */
		TgPart	   *last = &w->parts[TG_PARTS_MAX - 1];

		last->len = (uint8_t) (w->norm_len - last->off);
		last->digits = last->digits && digits;
		return;
	}
	w->parts[w->nparts].off = (uint8_t) start;
	w->parts[w->nparts].len = (uint8_t) len;
	w->parts[w->nparts].digits = digits;
	w->nparts++;
}

/* Fill w from an ASCII-only word s[0..n): the fast path, no ICU. */
static void
tg_word_ascii(TgWord *w, const unsigned char *s, size_t n)
{
	size_t		keep = n > TG_WORD_MAX ? TG_WORD_MAX : n;
	int			part_start = 0;
	bool		same = true;

	w->truncated = n > keep;
	for (size_t i = 0; i < keep; i++)
	{
		unsigned char c = s[i];
		bool		isdig = (c >= '0' && c <= '9');

		if (i > 0)
		{
			unsigned char pc = s[i - 1];
			bool		pdig = (pc >= '0' && pc <= '9');
			bool		pup = (pc >= 'A' && pc <= 'Z');
			bool		up = (c >= 'A' && c <= 'Z');
			bool		boundary = (pdig != isdig);

			/* camelCase: aB, and ABc (the last capital starts a part) */
			if (!boundary && !isdig)
			{
				if (!pup && up)
					boundary = true;
				else if (pup && up && i + 1 < keep &&
						 s[i + 1] >= 'a' && s[i + 1] <= 'z')
					boundary = true;
			}
			if (boundary)
			{
				w->norm_len = (int) i;
				tg_close_part(w, part_start, pdig);
				part_start = (int) i;
			}
		}
		w->norm[i] = tg_lower(c);
		if (isdig)
			w->ndigits++;
		else
			w->nletters++;
		if (same && i > 0 && w->norm[i] != w->norm[0])
			same = false;
	}
	w->norm_len = (int) keep;
	w->norm[keep] = '\0';
	if (keep > 0)
		tg_close_part(w, part_start, s[keep - 1] >= '0' && s[keep - 1] <= '9');
	for (size_t i = keep; same && i < n; i++)
		if (tg_lower(s[i]) != w->norm[0])
			same = false;
	w->repeated = same && n >= 4;
}

/* ICU objects, opened once; NULL (and the step skipped) when unavailable. */
static const UNormalizer2 *tg_nfkc;
static const UNormalizer2 *tg_nfd;
static const UNormalizer2 *tg_nfkc_cf;
static USpoofChecker *tg_spoof;
static bool tg_icu_tried;

/* Open the ICU objects on first use. */
static void
tg_icu_init(void)
{
	UErrorCode	err;

	if (tg_icu_tried)
		return;
	tg_icu_tried = true;
	err = U_ZERO_ERROR;
	tg_nfkc = unorm2_getNFKCInstance(&err);
	if (U_FAILURE(err))
		tg_nfkc = NULL;
	err = U_ZERO_ERROR;
	tg_nfd = unorm2_getNFDInstance(&err);
	if (U_FAILURE(err))
		tg_nfd = NULL;
	err = U_ZERO_ERROR;
	tg_nfkc_cf = unorm2_getNFKCCasefoldInstance(&err);
	if (U_FAILURE(err))
		tg_nfkc_cf = NULL;
	err = U_ZERO_ERROR;
	tg_spoof = uspoof_open(&err);
	if (U_FAILURE(err))
		tg_spoof = NULL;
}

/* A small cache of skeleton look-ups: code point -> ASCII replacement. */
typedef struct TgSkelCache
{
	UChar32		cp;
	char		repl[4];		/* "" = keep the code point */
} TgSkelCache;

static TgSkelCache tg_skel_cache[256];

/*
 * The Latin look-alike of one non-ASCII letter, as lower-case ASCII in
 * out[0..3]; "" when it has none (or ICU cannot say).
 */
static const char *
tg_skeleton(UChar32 c)
{
	TgSkelCache *e = &tg_skel_cache[c & 0xFF];
	UChar		src[2];
	UChar		dst[16];
	int32_t		srclen = 0;
	int32_t		n;
	UErrorCode	err = U_ZERO_ERROR;
	int			k = 0;

	if (e->cp == c && c != 0)
		return e->repl;
	e->cp = c;
	e->repl[0] = '\0';
	if (tg_spoof == NULL)
		return e->repl;
	U16_APPEND_UNSAFE(src, srclen, c);
	n = uspoof_getSkeleton(tg_spoof, 0, src, srclen, dst, 16, &err);
	if (U_FAILURE(err) || n <= 0 || n > 3)
		return e->repl;
	for (int32_t i = 0; i < n; i++)
	{
		if (dst[i] >= 0x80 || !tg_ascii_alnum((unsigned char) dst[i]))
		{
			k = 0;
			break;
		}
		e->repl[k++] = tg_lower((unsigned char) dst[i]);
	}
	e->repl[k] = '\0';
	return e->repl;
}

/* Append one code point as UTF-8 to w->norm; false when it does not fit. */
static bool
tg_norm_append_cp(TgWord *w, UChar32 c)
{
	uint8_t		buf[4];
	int32_t		n = 0;
	UBool		err = false;

	U8_APPEND(buf, n, 4, c, err);
	if (err || n <= 0)
		return true;			/* unencodable: drop it */
	if (w->norm_len + n > TG_WORD_MAX)
	{
		w->truncated = true;
		return false;
	}
	memcpy(w->norm + w->norm_len, buf, n);
	w->norm_len += n;
	return true;
}

/* Append ASCII replacement text to w->norm; false when it does not fit. */
static bool
tg_norm_append_ascii(TgWord *w, const char *repl)
{
	size_t		rl = strlen(repl);

	if (w->norm_len + (int) rl > TG_WORD_MAX)
	{
		w->truncated = true;
		return false;
	}
	memcpy(w->norm + w->norm_len, repl, rl);
	w->norm_len += (int) rl;
	w->nletters += (int) rl;
	return true;
}

/*
 * The Latin look-alike of a case-folded letter: its own, or failing that
 * its capital's (small Greek tau looks like nothing, capital tau like T).
 * It depends on the folded letter only, so "Т" and "т" agree.
 */
static const char *
tg_lookalike(UChar32 folded)
{
	const char *repl = tg_skeleton(folded);
	UChar32		up;

	if (repl[0] == '\0' && (up = u_toupper(folded)) != folded)
		repl = tg_skeleton(up);
	return repl;
}

/* See checker_int.h: tg_lookalike() for the e-mail key (ratekey_unicode.c). */
const char *
tg_lookalike_ascii(int32_t folded)
{
	tg_icu_init();
	return tg_lookalike((UChar32) folded);
}

/*
 * Fold one non-ASCII letter into w->norm: case folding, decomposition
 * with the combining marks dropped, and then every remaining non-ASCII
 * letter with a Latin look-alike (Cyrillic "е", Greek "Τ") replaced by it.
 */
static bool
tg_fold_cp(TgWord *w, UChar32 c)
{
	UChar		src[2];
	UChar		folded[8];
	UChar		nfd[32];
	int32_t		srclen = 0;
	int32_t		flen;
	int32_t		dlen;
	const UChar *s;
	int32_t		slen;
	UErrorCode	err = U_ZERO_ERROR;
	bool		base_ascii = false;	/* marks after an ASCII letter are accents */

	U16_APPEND_UNSAFE(src, srclen, c);
	flen = u_strFoldCase(folded, 8, src, srclen, U_FOLD_CASE_DEFAULT, &err);
	if (U_FAILURE(err) || flen > 8)
	{
		s = src;
		slen = srclen;
	}
	else
	{
		s = folded;
		slen = flen;
	}
	err = U_ZERO_ERROR;
	dlen = tg_nfd ? unorm2_normalize(tg_nfd, s, slen, nfd, 32, &err) : -1;
	if (tg_nfd != NULL && U_SUCCESS(err) && dlen <= 32)
	{
		s = nfd;
		slen = dlen;
	}
	for (int32_t i = 0; i < slen;)
	{
		UChar32		d;
		int8_t		t;
		const char *repl;

		U16_NEXT(s, i, slen, d);
		if (d < 0x80)
		{
			char		a[2] = {tg_lower((unsigned char) d), '\0'};

			if (!tg_norm_append_ascii(w, a))
				return false;
			base_ascii = true;
			continue;
		}
		t = u_charType(d);
		if ((t == U_NON_SPACING_MARK || t == U_ENCLOSING_MARK) && base_ascii)
		{
			/* an accent on a Latin letter: "é" is "e" */
			w->notes |= TG_NOTE_MARKS;
			continue;
		}
		base_ascii = false;
		if (t != U_COMBINING_SPACING_MARK && t != U_NON_SPACING_MARK &&
			t != U_ENCLOSING_MARK && (repl = tg_lookalike(d))[0] != '\0')
		{
			w->notes |= TG_NOTE_CONFUSABLE;
			if (!tg_norm_append_ascii(w, repl))
				return false;
			base_ascii = true;
			continue;
		}
		if (!tg_norm_append_cp(w, d))
			return false;
		w->nletters++;
	}
	return true;
}

/* Fold one part (UTF-16 src[0..len), letters only) into w->norm. */
static void
tg_fold_part(TgWord *w, const UChar *src, int32_t len)
{
	for (int32_t i = 0; i < len;)
	{
		UChar32		c;

		U16_NEXT(src, i, len, c);
		if (c < 0x80)
		{
			char		a[2] = {tg_lower((unsigned char) c), '\0'};

			if (!tg_norm_append_ascii(w, a))
				return;
		}
		else if (!tg_fold_cp(w, c))
			return;
	}
}

/* Letter case of a code point, for camelCase splitting: 1 upper, -1 lower. */
static inline int
tg_case_of(UChar32 c)
{
	if (c < 0x80)
		return (c >= 'A' && c <= 'Z') ? 1 : (c >= 'a' && c <= 'z') ? -1 : 0;
	return u_isUUppercase(c) ? 1 : u_isULowercase(c) ? -1 : 0;
}

/*
 * Scripts written without spaces between words: a change between two of
 * them (or to another script) starts a new part, so "テスト株式会社" is
 * テスト + 株式会社.  Latin, Greek and Cyrillic are left alone: mixing them
 * is how look-alike spellings are made.
 */
static inline int
tg_split_script(UChar32 c)
{
	UErrorCode	err = U_ZERO_ERROR;
	UScriptCode sc;

	if (c < 0x80)
		return 0;
	sc = uscript_getScript(c, &err);
	if (U_FAILURE(err))
		return 0;
	switch (sc)
	{
		case USCRIPT_HAN:
		case USCRIPT_HIRAGANA:
		case USCRIPT_KATAKANA:
		case USCRIPT_HANGUL:
		case USCRIPT_THAI:
			return (int) sc;
		default:
			return 0;			/* Common, Inherited, Latin, ...: no split */
	}
}

/*
 * Fill w from a word given as code points (invisible characters and marks
 * already dropped): NFKC, then parts, each folded.
 */
static void
tg_word_unicode(TgWord *w, const UChar32 *cps, int ncps)
{
	UChar		raw[TG_WORD_CP_MAX * 2];
	UChar		nfkc[TG_NFKC_MAX];
	int32_t		rawlen = 0;
	const UChar *s = raw;
	int32_t		slen;
	UErrorCode	err = U_ZERO_ERROR;
	int32_t		i;
	int32_t		part_start = -1;	/* UTF-16 offset of the open part */
	int			part_kind = 0;		/* 1 letters, 2 digits */
	int			prev_case = 0;
	int			prev_script = 0;
	int			norm_start = 0;

	tg_icu_init();
	for (int k = 0; k < ncps; k++)
		U16_APPEND_UNSAFE(raw, rawlen, cps[k]);
	slen = rawlen;

	if (tg_nfkc != NULL)
	{
		int32_t		n = unorm2_normalize(tg_nfkc, raw, rawlen, nfkc, TG_NFKC_MAX, &err);

		if (U_SUCCESS(err) && n <= TG_NFKC_MAX)
		{
			if (n != rawlen || u_memcmp(nfkc, raw, n) != 0)
				w->notes |= TG_NOTE_COMPAT;
			s = nfkc;
			slen = n;
		}
	}

	for (i = 0; i <= slen;)
	{
		UChar32		c = -1;
		int32_t		at = i;
		int			kind = 0;
		int			cs = 0;
		int			script = prev_script;
		bool		boundary;

		if (i < slen)
		{
			U16_NEXT(s, i, slen, c);
			if (u_isdigit(c))
				kind = 2;
			else if (u_isalpha(c) || u_charType(c) == U_COMBINING_SPACING_MARK ||
					 u_charType(c) == U_LETTER_NUMBER)
				kind = 1;
			else if (u_charType(c) == U_NON_SPACING_MARK ||
					 u_charType(c) == U_ENCLOSING_MARK)
			{
				w->notes |= TG_NOTE_MARKS;
				continue;		/* NFKC produced a mark: drop it */
			}
			cs = (kind == 1) ? tg_case_of(c) : 0;
			if (kind == 1 && c >= 0x80 && u_charType(c) != U_MODIFIER_LETTER)
				script = tg_split_script(c);
		}
		else
			i++;				/* end of word: close the open part */

		/* where does the open part end? */
		boundary = (kind != part_kind);
		if (!boundary && kind == 1)
		{
			if (script != prev_script && (script != 0 || prev_script != 0))
				boundary = true;
			else if (prev_case < 0 && cs > 0)
				boundary = true;
			else if (prev_case > 0 && cs > 0 && i < slen)
			{
				int32_t		j = i;
				UChar32		next;

				U16_NEXT(s, j, slen, next);
				if (tg_case_of(next) < 0)
					boundary = true;
			}
		}
		if (boundary && part_start >= 0)
		{
			if (part_kind == 1)
				tg_fold_part(w, s + part_start, at - part_start);
			tg_close_part(w, norm_start, part_kind == 2);
			part_start = -1;
		}
		if (w->truncated)
			break;
		if (kind == 2)
		{
			int			v = u_charDigitValue(c);

			if (v < 0 || v > 9)
				v = 0;
			if (w->norm_len >= TG_WORD_MAX)
			{
				w->truncated = true;
				break;
			}
			if (part_start < 0)
			{
				part_start = at;
				norm_start = w->norm_len;
			}
			w->norm[w->norm_len++] = (char) ('0' + v);
			w->ndigits++;
		}
		else if (kind == 1 && part_start < 0)
		{
			part_start = at;
			norm_start = w->norm_len;
		}
		part_kind = kind;
		prev_case = cs;
		prev_script = script;
	}
	w->norm[w->norm_len] = '\0';
}

/*
 * The next word of the text: fills *w and returns true, or returns false
 * at the end.  Words whose normal form is empty are skipped.
 */
bool
tg_words_next(TgWordIter *it, TgWord *w)
{
	for (;;)
	{
		const unsigned char *start;
		const unsigned char *q;
		UChar32		cps[TG_WORD_CP_MAX];
		int			ncps = 0;
		UChar32		first = 0;
		bool		same = true;
		size_t		count = 0;

		memset(w, 0, offsetof(TgWord, norm));
		w->norm[0] = '\0';
		w->norm_len = 0;
		w->nparts = 0;
		w->nletters = 0;
		w->ndigits = 0;
		w->truncated = false;
		w->repeated = false;
		w->notes = 0;

		/* skip separators; bidi controls on the way change the state */
		while (it->p < it->end)
		{
			unsigned char b = *it->p;
			const unsigned char *save;
			UChar32		c;
			TgCpClass	cls;

			if (b < 0x80)
			{
				if (tg_ascii_alnum(b) && !tg_is_stop(it, b))
					break;
				it->p++;
				continue;
			}
			save = it->p;
			c = tg_decode(&it->p, it->end);
			cls = tg_cp_class(c);
			if (cls == TG_CP_WORD)
			{
				it->p = save;
				break;
			}
			if (c == CP_RLO)
				it->rtl = true;
			else if (c == CP_PDF || c == CP_PDI)
				it->rtl = false;
		}
		if (it->p >= it->end)
			return false;

		start = it->p;

		/* fast path: a run of ASCII letters and digits ended by ASCII */
		q = start;
		while (q < it->end && tg_ascii_alnum(*q) && !tg_is_stop(it, *q))
			q++;
		if (q == it->end || *q < 0x80 || tg_is_stop(it, *q))
		{
			w->orig = (const char *) start;
			w->orig_len = (size_t) (q - start);
			w->ascii = true;
			it->p = q;
			tg_word_ascii(w, start, (size_t) (q - start));
			if (it->rtl)
				w->notes |= TG_NOTE_RTL;
			return true;
		}

		/* the general path: decode, drop invisibles and marks, then ICU */
		w->ascii = false;
		q = start;
		while (q < it->end)
		{
			const unsigned char *save = q;
			UChar32		c;
			TgCpClass	cls;

			if (*q < 0x80)
			{
				if (!tg_ascii_alnum(*q) || tg_is_stop(it, *q))
					break;
				c = *q++;
				cls = TG_CP_WORD;
			}
			else
			{
				c = tg_decode(&q, it->end);
				cls = tg_cp_class(c);
			}
			if (cls == TG_CP_SEP)
			{
				q = save;
				break;
			}
			if (cls == TG_CP_INVISIBLE)
			{
				w->notes |= TG_NOTE_INVISIBLE;
				if (c == CP_RLO)
					it->rtl = true;
				else if (c == CP_PDF || c == CP_PDI)
					it->rtl = false;
				continue;
			}
			if (cls == TG_CP_MARK)
			{
				w->notes |= TG_NOTE_MARKS;
				continue;
			}
			if (it->rtl)
				w->notes |= TG_NOTE_RTL;
			if (count == 0)
				first = u_foldCase(c, U_FOLD_CASE_DEFAULT);
			else if (same && u_foldCase(c, U_FOLD_CASE_DEFAULT) != first)
				same = false;
			count++;
			if (ncps < TG_WORD_CP_MAX)
				cps[ncps++] = c;
		}
		it->p = q > start ? q : start + 1;
		w->orig = (const char *) start;
		w->orig_len = (size_t) (it->p - start);
		if (ncps == 0)
			continue;
		tg_word_unicode(w, cps, ncps);
		if (count > (size_t) ncps)
			w->truncated = true;
		w->repeated = same && count >= 4;
		if (w->norm_len == 0)
			continue;
		return true;
	}
}

/*
 * Fold a domain name for matching: ASCII lower-casing, or for anything
 * else NFKC case folding (which also drops invisible characters) with the
 * ideographic full stops read as dots.  Writes at most outcap - 1 bytes
 * and a NUL; *ok is false when the domain is too long or not valid UTF-8.
 */
size_t
tg_fold_domain(const char *in, size_t inlen, char *out, size_t outcap, bool *ok)
{
	bool		ascii = true;
	UChar		u16[512];
	UChar		folded[1024];
	int32_t		ulen = 0;
	int32_t		flen;
	int32_t		olen = 0;
	UErrorCode	err = U_ZERO_ERROR;

	*ok = true;
	for (size_t i = 0; i < inlen; i++)
		if ((unsigned char) in[i] >= 0x80)
			ascii = false;
	if (ascii)
	{
		if (inlen >= outcap)
		{
			*ok = false;
			inlen = outcap - 1;
		}
		for (size_t i = 0; i < inlen; i++)
			out[i] = tg_lower((unsigned char) in[i]);
		out[inlen] = '\0';
		return inlen;
	}

	tg_icu_init();
	{
		const unsigned char *p = (const unsigned char *) in;
		const unsigned char *end = p + inlen;

		while (p < end)
		{
			UChar32		c = tg_decode(&p, end);

			if (c < 0 || ulen + 2 > (int32_t) (sizeof(u16) / sizeof(u16[0])))
			{
				*ok = false;
				break;
			}
			if (c == 0x3002 || c == 0xFF61)	/* ideographic full stops */
				c = '.';
			U16_APPEND_UNSAFE(u16, ulen, c);
		}
	}
	if (tg_nfkc_cf != NULL)
	{
		flen = unorm2_normalize(tg_nfkc_cf, u16, ulen, folded, 1024, &err);
		if (U_FAILURE(err) || flen > 1024)
		{
			*ok = false;
			flen = 0;
		}
	}
	else
	{
		flen = u_strFoldCase(folded, 1024, u16, ulen, U_FOLD_CASE_DEFAULT, &err);
		if (U_FAILURE(err) || flen > 1024)
		{
			*ok = false;
			flen = 0;
		}
	}
	err = U_ZERO_ERROR;
	u_strToUTF8(out, (int32_t) outcap - 1, &olen, folded, flen, &err);
	if (U_FAILURE(err) || olen < 0 || (size_t) olen >= outcap)
	{
		*ok = false;
		olen = 0;
	}
	out[olen] = '\0';
	return (size_t) olen;
}
