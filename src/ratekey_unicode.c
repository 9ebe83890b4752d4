/*-------------------------------------------------------------------------
 *
 * ratekey_unicode.c
 *	  The rate-limit key of an e-mail address that is not plain ASCII
 *	  (ratekey.h): the checker's normalisation -- invisible characters
 *	  dropped, NFKC, case folding, look-alike letters read as Latin --
 *	  applied so that the spellings of one address meet and two different
 *	  addresses do not.  Part of the core: no PostgreSQL headers.
 *
 * The address is decoded (an invalid UTF-8 byte is kept as itself, never
 * merged with another), stripped of default-ignorable and format
 * characters (zero-width spaces, joiners, bidi controls, soft hyphens)
 * and brought to NFKC, so fullwidth and other compatibility forms,
 * including "＠" and "＋", are their plain letters.  It is then taken
 * apart as ratekey.c does (the last "@", the first "+", gmail):
 *
 *	- the local part is case-folded (simple folding: "ß" stays "ß");
 *	- the domain is mapped as IDNA (UTS #46, nontransitional) maps it when
 *	  it is a valid one: "xn--" labels decoded, "ß" and "ς" kept, the
 *	  joiners kept where a script needs them; otherwise it is case-folded
 *	  like a local part;
 *	- in the local part and in each domain label that is not written in
 *	  one script other than Latin, every letter with a Latin look-alike
 *	  (Cyrillic "а", Greek "ο", dotless "ı") counts as that ASCII letter.
 *	  A part written wholly in Cyrillic, Greek, Han, ... keeps its letters,
 *	  so that no Cyrillic address ever merges with a Latin one; ASCII
 *	  characters themselves never change but for their case, and accents
 *	  count ("rené" is not "rene").
 *
 * For ASCII text this gives what ratekey.c's fast path gives (the unit
 * tests built with TG_VERIFY_FAST_PATH compare the two on every call).
 *
 *-------------------------------------------------------------------------
 */
#include "checker_int.h"
#include "ratekey.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/uidna.h>
#include <unicode/unorm2.h>
#include <unicode/uscript.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#define RK_ZWNJ		0x200C		/* ZERO WIDTH NON-JOINER */
#define RK_ZWJ		0x200D		/* ZERO WIDTH JOINER */
#define RK_IDEO_STOP 0x3002		/* IDEOGRAPHIC FULL STOP */

/* An invalid UTF-8 byte b travels as the lone surrogate 0xDC00 | b. */
#define RK_RAW_FIRST 0xDC80
#define RK_RAW_LAST	0xDCFF

/* ICU objects, opened once (NULL: that step is skipped). */
static const UNormalizer2 *rk_nfkc;
static UIDNA *rk_idna;
static bool rk_icu_tried;

/* Open the ICU objects on first use. */
static void
rk_icu_init(void)
{
	UErrorCode	err = U_ZERO_ERROR;

	if (rk_icu_tried)
		return;
	rk_icu_tried = true;
	rk_nfkc = unorm2_getNFKCInstance(&err);
	if (U_FAILURE(err))
		rk_nfkc = NULL;
	err = U_ZERO_ERROR;
	rk_idna = uidna_openUTS46(UIDNA_NONTRANSITIONAL_TO_UNICODE | UIDNA_CHECK_CONTEXTJ,
							  &err);
	if (U_FAILURE(err))
		rk_idna = NULL;
}

/* A UTF-16 string in malloc'd memory. */
typedef struct RkStr
{
	UChar	   *s;
	int32_t		len;
} RkStr;

/* Is c ASCII white space? */
static inline bool
rk_is_space(UChar c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Is c dropped before anything else (invisible), as the checker drops it? */
static bool
rk_invisible(UChar32 c)
{
	if (c < 0x80 || c == RK_ZWNJ || c == RK_ZWJ)
		return false;			/* the joiners go later: IDNA may need them */
	return u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT) ||
		u_charType(c) == U_FORMAT_CHAR ||
		c == 0x2800 ||			/* braille pattern blank: renders as a space */
		c == 0x1D159;			/* musical symbol null notehead: renders as nothing */
}

/*
 * Is c a dash that looks like ASCII '-' (Unicode hyphens, dashes, the minus
 * sign, the modifier minus)?  Counted as '-', so that harbor<U+2010>cafe.de
 * is harbor-cafe.de.
 */
static bool
rk_dash(UChar32 c)
{
	return c >= 0x80 &&
		(u_charType(c) == U_DASH_PUNCTUATION || c == 0x2212 || c == 0x02D7 ||
		 c == 0x2043);
}

/*
 * Decode UTF-8 into a new string without the invisible characters; an
 * invalid byte b becomes 0xDC00 | b.  False when out of memory.
 */
static bool
rk_decode(const char *in, int32_t len, RkStr *out)
{
	const uint8_t *p = (const uint8_t *) in;
	int32_t		i = 0;

	/* every byte gives at most one UTF-16 unit */
	out->s = malloc(((size_t) len + 1) * sizeof(UChar));
	out->len = 0;
	if (out->s == NULL)
		return false;
	while (i < len)
	{
		int32_t		start = i;
		UChar32		c;

		U8_NEXT(p, i, len, c);
		if (c < 0)
		{
			/* each byte of the ill-formed sequence as itself */
			for (int32_t k = start; k < i; k++)
				out->s[out->len++] = (UChar) (0xDC00 | p[k]);
			continue;
		}
		if (rk_dash(c))
			out->s[out->len++] = (UChar) '-';
		else if (!rk_invisible(c))
			U16_APPEND_UNSAFE(out->s, out->len, c);
	}
	return true;
}

/*
 * s = NFKC(s); left as it is when ICU cannot do it.  False when out of
 * memory.
 */
static bool
rk_nfkc_in_place(RkStr *s)
{
	UErrorCode	err = U_ZERO_ERROR;
	int32_t		cap;
	int32_t		n;
	UChar	   *d;

	if (rk_nfkc == NULL || unorm2_spanQuickCheckYes(rk_nfkc, s->s, s->len, &err) == s->len)
		return true;
	cap = s->len + s->len / 2 + 16;
	for (int attempt = 0; attempt < 2; attempt++)
	{
		d = malloc((size_t) cap * sizeof(UChar));
		if (d == NULL)
			return false;
		err = U_ZERO_ERROR;
		n = unorm2_normalize(rk_nfkc, s->s, s->len, d, cap, &err);
		if (err == U_BUFFER_OVERFLOW_ERROR && attempt == 0)
		{
			free(d);
			cap = n;
			continue;
		}
		if (U_FAILURE(err))
		{
			free(d);
			return true;
		}
		free(s->s);
		s->s = d;
		s->len = n;
		return true;
	}
	return true;
}

/* The script a letter counts in for rk_one_script(); 0 for none. */
static int
rk_script_of(UChar32 c)
{
	UErrorCode	err = U_ZERO_ERROR;
	UScriptCode sc;

	if (c < 0x80)
		return ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ? USCRIPT_LATIN : 0;
	if ((c >= RK_RAW_FIRST && c <= RK_RAW_LAST) || !u_isalpha(c))
		return 0;
	sc = uscript_getScript(c, &err);
	if (U_FAILURE(err))
		return 0;
	switch (sc)
	{
		case USCRIPT_COMMON:
		case USCRIPT_INHERITED:
		case USCRIPT_UNKNOWN:
			return 0;
		case USCRIPT_HIRAGANA:
		case USCRIPT_KATAKANA:
		case USCRIPT_HANGUL:
		case USCRIPT_BOPOMOFO:
			return USCRIPT_HAN;	/* written together with Han */
		default:
			return (int) sc;
	}
}

/* Are the letters of s[0..n) all of one script other than Latin? */
static bool
rk_one_script(const UChar *s, int32_t n)
{
	int			first = 0;

	for (int32_t i = 0; i < n;)
	{
		UChar32		c;
		int			sc;

		U16_NEXT(s, i, n, c);
		sc = rk_script_of(c);
		if (sc == 0)
			continue;
		if (sc == USCRIPT_LATIN || (first != 0 && sc != first))
			return false;
		first = sc;
	}
	return first != 0;
}

/*
 * Append one part of the key (the local part, or a domain label) from
 * s[0..n) to out: when casefold (anything but a domain IDNA mapped) the
 * joiners dropped and simple case folding, and unless the part is written in one non-Latin script, letters with a
 * Latin look-alike as that ASCII letter.  out must have room for 3 * n
 * units.
 */
static void
rk_fold_part(const UChar *s, int32_t n, bool casefold, RkStr *out)
{
	bool		lookalikes = !rk_one_script(s, n);

	for (int32_t i = 0; i < n;)
	{
		UChar32		c;
		const char *repl;

		U16_NEXT(s, i, n, c);
		if (c < 0x80)
		{
			out->s[out->len++] = (UChar) ((c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c);
			continue;
		}
		if ((c == RK_ZWNJ || c == RK_ZWJ) && casefold)
			continue;			/* (IDNA kept them only where a script needs them) */
		if (c >= RK_RAW_FIRST && c <= RK_RAW_LAST)
		{
			out->s[out->len++] = (UChar) c;
			continue;
		}
		if (casefold)
			c = u_foldCase(c, U_FOLD_CASE_DEFAULT);
		if (lookalikes && u_isalpha(c) && (repl = tg_lookalike_ascii(c))[0] != '\0')
		{
			while (*repl)
				out->s[out->len++] = (UChar) *repl++;
			continue;
		}
		U16_APPEND_UNSAFE(out->s, out->len, c);
	}
}

/*
 * The domain d[0..n) as IDNA maps it: 1 when it is a valid one (then
 * *mapped is malloc'd), 0 when it is not (or ICU cannot tell: then it is
 * folded as a local part is), -1 when out of memory.
 */
static int
rk_idna_map(const UChar *d, int32_t n, RkStr *mapped)
{
	UIDNAInfo	info = UIDNA_INFO_INITIALIZER;
	UErrorCode	err = U_ZERO_ERROR;
	int32_t		cap = n * 2 + 16;
	int32_t		len = 0;

	mapped->s = NULL;
	mapped->len = 0;
	if (rk_idna == NULL || n == 0)
		return 0;
	for (int attempt = 0; attempt < 2; attempt++)
	{
		mapped->s = malloc((size_t) cap * sizeof(UChar));
		if (mapped->s == NULL)
			return -1;
		err = U_ZERO_ERROR;
		len = uidna_nameToUnicode(rk_idna, d, n, mapped->s, cap, &info, &err);
		if (err != U_BUFFER_OVERFLOW_ERROR || attempt > 0)
			break;
		free(mapped->s);
		mapped->s = NULL;
		cap = len;
	}
	if (U_FAILURE(err) || info.errors != 0)
	{
		free(mapped->s);
		mapped->s = NULL;
		return 0;
	}
	mapped->len = len;
	return 1;
}

/* Is s[0..n) the ASCII literal lit? */
static bool
rk_u16_is(const UChar *s, int32_t n, const char *lit)
{
	int32_t		i = 0;

	for (; i < n && lit[i] != '\0'; i++)
		if (s[i] != (UChar) (unsigned char) lit[i])
			return false;
	return i == n && lit[i] == '\0';
}

/*
 * UTF-8 of s[0..n) into out (the lone surrogates of invalid bytes back as
 * those bytes), or only its length once out is full; returns the length.
 */
static size_t
rk_encode(const UChar *s, int32_t n, char *out, size_t outcap)
{
	size_t		o = 0;

	for (int32_t i = 0; i < n;)
	{
		UChar32		c;
		uint8_t		buf[4];
		int32_t		k = 0;

		U16_NEXT(s, i, n, c);
		if (c >= RK_RAW_FIRST && c <= RK_RAW_LAST)
			buf[k++] = (uint8_t) (c & 0xFF);
		else
		{
			UBool		bad = false;

			U8_APPEND(buf, k, 4, c, bad);
			if (bad)
				k = 0;			/* a lone surrogate of the input: cannot be */
		}
		if (o + (size_t) k <= outcap)
			memcpy(out + o, buf, (size_t) k);
		o += (size_t) k;
	}
	return o;
}

/* See ratekey.h. */
size_t
tg_email_key_unicode(const char *email, size_t len, char *out, size_t outcap)
{
	RkStr		t = {NULL, 0};
	RkStr		key = {NULL, 0};
	RkStr		idna = {NULL, 0};
	int32_t		start = 0;
	int32_t		end;
	int32_t		at = -1;
	int32_t		local_len;
	size_t		klen = TG_EMAIL_KEY_NOMEM;

	/* an input whose UTF-16 form (3 times over) a 32-bit length cannot hold */
	if (len > (size_t) INT32_MAX / 8)
		return TG_EMAIL_KEY_NOMEM;
	rk_icu_init();
	if (!rk_decode(email, (int32_t) len, &t) || !rk_nfkc_in_place(&t))
		goto done;

	/* surrounding white space (NFKC made other spaces U+0020) */
	end = t.len;
	while (start < end && rk_is_space(t.s[start]))
		start++;
	while (end > start && rk_is_space(t.s[end - 1]))
		end--;
	if (start == end)
	{
		klen = 0;
		goto done;
	}
	for (int32_t i = end; i > start; i--)
		if (t.s[i - 1] == '@')
		{
			at = i - 1;
			break;
		}

	if (at < 0)
	{
		/* no "@": the value as one part (room: a look-alike gives up to 3 units) */
		key.s = malloc(((size_t) (end - start) * 3 + 16) * sizeof(UChar));
		if (key.s == NULL)
			goto done;
		rk_fold_part(t.s + start, end - start, true, &key);
	}
	else
	{
		UChar	   *d = t.s + at + 1;
		int32_t		dlen = end - (at + 1);
		int32_t		dstart;
		int			valid;
		const UChar *m;
		int32_t		mlen;

		/* the local part, cut at its first "+" that is not its first unit */
		local_len = at - start;
		for (int32_t i = 1; i < local_len; i++)
			if (t.s[start + i] == '+')
			{
				local_len = i;
				break;
			}

		/* the domain: ideographic full stops are dots; one trailing dot dropped */
		for (int32_t i = 0; i < dlen; i++)
			if (d[i] == RK_IDEO_STOP)
				d[i] = '.';
		if (dlen > 0 && d[dlen - 1] == '.')
			dlen--;
		valid = rk_idna_map(d, dlen, &idna);
		if (valid < 0)
			goto done;
		m = valid ? idna.s : d;
		mlen = valid ? idna.len : dlen;

		key.s = malloc(((size_t) local_len * 3 + (size_t) mlen * 3 + 16) * sizeof(UChar));
		if (key.s == NULL)
			goto done;
		rk_fold_part(t.s + start, local_len, true, &key);
		key.s[key.len++] = '@';
		dstart = key.len;
		/* the look-alike rule label by label */
		for (int32_t i = 0, label = 0; i <= mlen; i++)
		{
			if (i < mlen && m[i] != '.')
				continue;
			rk_fold_part(m + label, i - label, !valid, &key);
			if (i < mlen)
				key.s[key.len++] = '.';
			label = i + 1;
		}

		/* gmail ignores the dots of the local part */
		if (rk_u16_is(key.s + dstart, key.len - dstart, "gmail.com") ||
			rk_u16_is(key.s + dstart, key.len - dstart, "googlemail.com"))
		{
			int32_t		o = 0;

			for (int32_t i = 0; i < dstart - 1; i++)
				if (key.s[i] != '.')
					key.s[o++] = key.s[i];
			for (const char *g = "@gmail.com"; *g; g++)
				key.s[o++] = (UChar) *g;
			key.len = o;
		}
	}

	/* letters replaced next to marks may compose now: NFKC once more */
	if (!rk_nfkc_in_place(&key))
		goto done;
	klen = rk_encode(key.s, key.len, out, outcap);

done:
	free(t.s);
	free(key.s);
	free(idna.s);
	return klen;
}
