/*-------------------------------------------------------------------------
 *
 * checker.c
 *	  The deciding core: run the word rules over name and subdomain (and,
 *	  through checker_email.c, the e-mail address), decide, and explain
 *	  the verdict.  Plain C and ICU, no PostgreSQL headers (checker.h).
 *
 * Per field, words come from checker_words.c already normalised.  Each
 * word (and each of its parts) is looked up in the keyword set:
 *	  - strong keywords fire alone ("test", "qa", "lorem", "asdf");
 *	  - weak keywords ("demo", "sandbox") fire only with a second signal in
 *		the same field: a generic word, a number, a timestamp, a hex/uuid
 *		string, another weak keyword, or nothing else at all;
 *	  - a field made only of generic/placeholder words (and numbers) is a
 *		made-up name: "Company 123", "New Org", "Untitled";
 *	  - keyboard rows ("asdf", "qwerty"), one letter repeated ("aaaa"),
 *		phrases ("do not use", "lorem ipsum"), letters written apart
 *		("T.E.S.T"), leetspeak ("t3st"), keyword + generic compounds
 *		("Testco", "democorp") and a right-to-left override that makes
 *		"tset" read "test" are caught too.
 * Substrings never match: "Contest", "Protestant", "Latest" are words of
 * their own.
 *
 *-------------------------------------------------------------------------
 */
#include "checker_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/utf8.h>

/* Longest excerpt of the input quoted in a reason, in bytes. */
#define TG_QUOTE_MAX 40

/* ---- reason pieces ---- */

/* Start an empty piece. */
void
tg_piece_init(TgPiece *piece, const TgRules *rules)
{
	piece->len = 0;
	piece->buf[0] = '\0';
	piece->ascii_only = rules != NULL && rules->ascii_reasons;
}

/* Append raw bytes (already known to be safe to show). */
static void
tg_piece_bytes(TgPiece *piece, const char *s, size_t n)
{
	if (n > sizeof(piece->buf) - 1 - piece->len)
		n = sizeof(piece->buf) - 1 - piece->len;
	memcpy(piece->buf + piece->len, s, n);
	piece->len += n;
	piece->buf[piece->len] = '\0';
}

/* Append a constant string. */
void
tg_piece_str(TgPiece *piece, const char *s)
{
	tg_piece_bytes(piece, s, strlen(s));
}

/*
 * Append s, shortened to max bytes ("..."), with invisible and control
 * characters and invalid bytes written as <U+200B> / <0xFF> so the reason
 * is always valid, visible text (and non-ASCII as <U+XXXX> when the
 * reason must be ASCII).
 */
void
tg_piece_escaped(TgPiece *piece, const char *s, size_t len, size_t max)
{
	const uint8_t *p = (const uint8_t *) s;
	int32_t		n = len > INT32_MAX ? INT32_MAX : (int32_t) len;
	int32_t		i = 0;
	size_t		shown = 0;

	while (i < n)
	{
		int32_t		at = i;
		UChar32		c;
		char		esc[16];

		if (shown >= max)
		{
			tg_piece_bytes(piece, "...", 3);
			break;
		}
		U8_NEXT(p, i, n, c);
		if (c < 0)
		{
			snprintf(esc, sizeof(esc), "<0x%02X>", p[at]);
			tg_piece_str(piece, esc);
			shown += strlen(esc);
		}
		else if (tg_is_invisible(c) || (c >= 0x80 && piece->ascii_only))
		{
			snprintf(esc, sizeof(esc), "<U+%04X>", (unsigned) c);
			tg_piece_str(piece, esc);
			shown += strlen(esc);
		}
		else
		{
			tg_piece_bytes(piece, s + at, (size_t) (i - at));
			shown += (size_t) (i - at);
		}
	}
}

size_t
tg_ascii_escaped(const char *s, size_t len, char *out, size_t outlen)
{
	TgPiece		piece;

	if (outlen == 0)
		return 0;
	tg_piece_init(&piece, NULL);
	piece.ascii_only = true;
	tg_piece_escaped(&piece, s, len, sizeof(piece.buf) - 4);
	if (piece.len > outlen - 1)
		piece.len = outlen - 1;
	memcpy(out, piece.buf, piece.len);
	out[piece.len] = '\0';
	return piece.len;
}

/* Append s in double quotes, escaped and shortened to TG_QUOTE_MAX bytes. */
void
tg_piece_quote(TgPiece *piece, const char *s, size_t len)
{
	tg_piece_bytes(piece, "\"", 1);
	tg_piece_escaped(piece, s, len, TG_QUOTE_MAX);
	tg_piece_bytes(piece, "\"", 1);
}

/* Does the reason already hold exactly this "field: piece"? */
static bool
tg_reason_has(const TgVerdict *out, const char *full, size_t flen)
{
	const char *r = out->reason;

	while ((r = strstr(r, full)) != NULL)
	{
		bool		starts = (r == out->reason) || (r >= out->reason + 2 && r[-2] == ';');
		bool		ends = r[flen] == '\0' || r[flen] == ';';

		if (starts && ends)
			return true;
		r++;
	}
	return false;
}

/*
 * Add "field: piece" to the verdict's reason, separated by "; ".  The
 * same rule firing twice is said once.  When the buffer is full the
 * reason ends with "; ..." and the rest is dropped (still counted).
 */
void
tg_verdict_add(TgVerdict *out, TgField field, const TgPiece *piece)
{
	static const char ellipsis[] = "; ...";
	char		full[sizeof(piece->buf) + 32];
	size_t		flen;
	size_t		need;

	out->suspicious = true;
	out->nhits++;

	flen = (size_t) snprintf(full, sizeof(full), "%s: %s",
							 tg_field_name(field), piece->buf);
	if (flen >= sizeof(full))
		flen = sizeof(full) - 1;
	if (tg_reason_has(out, full, flen))
		return;

	/* already truncated: nothing more fits */
	if (out->reason_len >= sizeof(ellipsis) - 1 &&
		strcmp(out->reason + out->reason_len - (sizeof(ellipsis) - 1),
			   ellipsis) == 0)
		return;

	need = (out->reason_len > 0 ? 2 : 0) + flen;
	if (out->reason_len + need + sizeof(ellipsis) > TG_REASON_MAX)
	{
		memcpy(out->reason + out->reason_len, ellipsis, sizeof(ellipsis));
		out->reason_len += sizeof(ellipsis) - 1;
		return;
	}
	if (out->reason_len > 0)
	{
		memcpy(out->reason + out->reason_len, "; ", 2);
		out->reason_len += 2;
	}
	memcpy(out->reason + out->reason_len, full, flen);
	out->reason_len += flen;
	out->reason[out->reason_len] = '\0';
}

/* ---- field scanning ---- */

/* One weak keyword seen in a field, waiting for a second signal. */
typedef struct TgWeakSeen
{
	TgPiece		what;			/* 'weak keyword "demo" (leetspeak)' */
	char		norm[TG_WORD_MAX + 1];
	bool		ordinary;		/* TG_KW_ORDINARY: a number is no second signal */
} TgWeakSeen;

/* Everything a field's words have shown so far. */
typedef struct TgScan
{
	const TgRules *rules;
	TgVerdict  *out;
	TgField		field;
	TgScanMode	mode;
	const TgWhere *where;

	int			nstrong;
	int			nweak;
	int			ngeneric;
	int			nplaceholder;
	int			nother;			/* real-looking words */
	int			nnumbers;
	int			ntimestamps;
	int			nhex;
	int			nletterwords;
	int			nsignal;		/* TG_KW_SIGNAL words: run, build, team */
	int			ngeneric_signal;	/* generic ones: tenant, org, account */
	int			ncontext;		/* business phrases: "test kitchen" */
	int			nepochs;		/* Unix times of 2015-2029 */
	int			hits0;			/* out->nhits when the field began */
	bool		deferred;		/* an ordinary strong keyword waits in defer */
	int			defer_other;	/* nother when it was found */
	int			ndistinct;		/* different real-looking words, up to 3 */
	TgWeakSeen	weak[3];
	TgWeakSeen	defer;			/* its strong piece, and its normal form */
	char		signal1[TG_WORD_MAX + 1];
	char		other[2][TG_WORD_MAX + 1];	/* the first two real-looking words */
	char		epoch1[TG_WORD_MAX + 1];
	char		generic1[TG_WORD_MAX + 1];
	char		number1[TG_WORD_MAX + 1];
	char		timestamp1[TG_WORD_MAX + 1];
	char		hex1[TG_WORD_MAX + 1];

	/* the previous two words, for phrases */
	char		win[2][TG_WORD_MAX + 1];
	uint16_t	winflags[2];
	int			nwin;

	/* a run of single letters: T.E.S.T */
	char		spaced[32];
	int			spaced_len;
	int			spaced_n;
	int			spaced_other;	/* how many of them counted as "other" */
	const char *spaced_start;
	const char *spaced_end;
	unsigned	spaced_notes;

	/* the normal form of the whole field, words joined by spaces */
	char		joined[128];
	size_t		joined_len;
	bool		joined_overflow;
} TgScan;

/* Bounded copy of a NUL-terminated string. */
static void
tg_copy(char *dst, size_t cap, const char *src, size_t len)
{
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* Append the "(leetspeak, ...)" note for a word's disguises. */
static void
tg_piece_notes(TgPiece *piece, unsigned notes)
{
	static const struct
	{
		unsigned	bit;
		const char *text;
	}			names[] = {
		{TG_NOTE_LEET, "leetspeak"},
		{TG_NOTE_SPACED, "spaced letters"},
		{TG_NOTE_COMPAT, "fullwidth or compatibility characters"},
		{TG_NOTE_CONFUSABLE, "look-alike letters"},
		{TG_NOTE_INVISIBLE, "invisible characters"},
		{TG_NOTE_MARKS, "accents or combining marks"},
		{TG_NOTE_RTL, "right-to-left override"},
	};
	bool		first = true;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
	{
		if (!(notes & names[i].bit))
			continue;
		tg_piece_str(piece, first ? " (" : ", ");
		tg_piece_str(piece, names[i].text);
		first = false;
	}
	if (!first)
		tg_piece_str(piece, ")");
}

/* Notes that mean "the text was disguised": then we quote the original. */
#define TG_DISGUISE_NOTES (TG_NOTE_INVISIBLE | TG_NOTE_COMPAT | TG_NOTE_CONFUSABLE | \
						   TG_NOTE_MARKS | TG_NOTE_RTL | TG_NOTE_LEET | TG_NOTE_SPACED)

static void tg_scan_emit(TgScan *sc, TgPiece *piece);

/*
 * An ordinary strong keyword ("test") waits until the field ends: a
 * business phrase or enough distinctive words may make it weak.  Any
 * other rule firing first says it as strong, in its place.
 */
static void
tg_scan_flush_deferred(TgScan *sc)
{
	if (sc->deferred)
	{
		sc->deferred = false;
		tg_scan_emit(sc, &sc->defer.what);
	}
}

/* Emit a piece for this scan (with its "where" suffix). */
static void
tg_scan_emit(TgScan *sc, TgPiece *piece)
{
	tg_scan_flush_deferred(sc);
	if (sc->where != NULL)
	{
		tg_piece_str(piece, sc->where->label);
		if (sc->where->quoted)
			tg_piece_quote(piece, sc->where->value, sc->where->len);
		else
			tg_piece_escaped(piece, sc->where->value, sc->where->len, 253);
	}
	tg_verdict_add(sc->out, sc->field, piece);
}

/*
 * A keyword matched.  kw is its normal form; orig/olen the text it was
 * found in (quoted when disguised); compound the whole word when the
 * keyword was found inside a longer one.
 */
static void
tg_scan_record(TgScan *sc, int strength, const char *kw, size_t kwlen,
			   const char *orig, size_t olen, unsigned notes,
			   const char *compound, size_t clen)
{
	TgPiece		piece;
	bool		disguised = (notes & TG_DISGUISE_NOTES) != 0;
	uint16_t	v = tg_set_get(&sc->rules->keywords, kw, kwlen);

	switch (strength)
	{
		case TG_STRENGTH_STRONG:
		case TG_STRENGTH_WEAK:
			tg_piece_init(&piece, sc->rules);
			tg_piece_str(&piece, strength == TG_STRENGTH_STRONG ?
						 "test keyword " : "weak keyword ");
			if (disguised && compound == NULL)
				tg_piece_quote(&piece, orig, olen);
			else
				tg_piece_quote(&piece, kw, kwlen);
			if (compound != NULL)
			{
				tg_piece_str(&piece, " in ");
				tg_piece_quote(&piece, compound, clen);
			}
			tg_piece_notes(&piece, notes);
			if (strength == TG_STRENGTH_STRONG)
			{
				sc->nstrong++;
				if ((v & TG_KW_ORDINARY) && compound == NULL && !disguised &&
					sc->mode != TG_SCAN_TAG)
				{
					tg_scan_flush_deferred(sc);
					sc->defer.what = piece;
					tg_copy(sc->defer.norm, TG_WORD_MAX + 1, kw, kwlen);
					sc->defer_other = sc->nother;
					sc->deferred = true;
				}
				else
					tg_scan_emit(sc, &piece);
			}
			else
			{
				for (int i = 0; i < sc->nweak && i < 3; i++)
					if ((strlen(sc->weak[i].norm) == kwlen &&
						 memcmp(sc->weak[i].norm, kw, kwlen) == 0) ||
						strcmp(sc->weak[i].what.buf, piece.buf) == 0)
						return;
				if (sc->nweak < 3)
				{
					sc->weak[sc->nweak].what = piece;
					tg_copy(sc->weak[sc->nweak].norm, TG_WORD_MAX + 1, kw, kwlen);
					sc->weak[sc->nweak].ordinary = (v & TG_KW_ORDINARY) != 0;
				}
				sc->nweak++;
			}
			break;
		case TG_STRENGTH_GENERIC:
			if (v & TG_KW_LEGAL)
				break;			/* legal forms are no signal of anything */
			sc->ngeneric_signal += (v & TG_KW_SIGNAL) != 0;
			if (sc->ngeneric++ == 0)
				tg_copy(sc->generic1, sizeof(sc->generic1), kw, kwlen);
			break;
		case TG_STRENGTH_PLACEHOLDER:
			if (sc->nplaceholder++ == 0 && sc->ngeneric == 0)
				tg_copy(sc->generic1, sizeof(sc->generic1), kw, kwlen);
			break;
		default:
			break;
	}
}

/* A strong rule that is not a keyword: keyboard rows, repeated letters. */
static void
tg_scan_strong(TgScan *sc, const char *what, const char *orig, size_t olen)
{
	TgPiece		piece;

	tg_piece_init(&piece, sc->rules);
	tg_piece_str(&piece, what);
	tg_piece_str(&piece, " ");
	tg_piece_quote(&piece, orig, olen);
	sc->nstrong++;
	tg_scan_emit(sc, &piece);
}

/* Is a run of digits a timestamp or a date (yyyymmdd[hhmm[ss]])? */
static bool
tg_is_timestamp(const char *s, size_t n)
{
	if ((n == 10 || n == 13) && s[0] == '1')
		return true;			/* Unix time in seconds or milliseconds, 2001-2033 */
	if ((n == 8 || n == 12 || n == 14) &&
		((s[0] == '1' && s[1] == '9') || (s[0] == '2' && s[1] == '0')))
	{
		int			month = (s[4] - '0') * 10 + (s[5] - '0');
		int			day = (s[6] - '0') * 10 + (s[7] - '0');

		return month >= 1 && month <= 12 && day >= 1 && day <= 31;
	}
	return false;
}

/*
 * Is a run of digits a Unix time of 2015-2029, in seconds (10 digits) or
 * milliseconds (13)?  What CI runs put in names: "acme-1718000000".
 */
static bool
tg_is_epoch(const char *s, size_t n)
{
	long long	t = 0;

	if (n != 10 && n != 13)
		return false;
	for (size_t i = 0; i < 10; i++)
		t = t * 10 + (s[i] - '0');
	/* milliseconds: the first 10 digits are the seconds */
	return t >= 1420070400LL && t < 1893456000LL;
}

/* A run of digits: a number or a timestamp. */
static void
tg_scan_number(TgScan *sc, const char *s, size_t n)
{
	if (tg_is_epoch(s, n) && sc->nepochs++ == 0)
		tg_copy(sc->epoch1, sizeof(sc->epoch1), s, n);
	if (tg_is_timestamp(s, n))
	{
		if (sc->ntimestamps++ == 0)
			tg_copy(sc->timestamp1, sizeof(sc->timestamp1), s, n);
	}
	else if (sc->nnumbers++ == 0)
		tg_copy(sc->number1, sizeof(sc->number1), s, n);
}

/* The three letter rows of a keyboard, and backwards. */
static const char *const keyboard_rows[] = {
	"qwertyuiop", "asdfghjkl", "zxcvbnm", "poiuytrewq", "lkjhgfdsa", "mnbvcxz"
};

/*
 * Row and position of each letter on a keyboard row, and for each pair of
 * letters the rows (bit r) in which the second directly follows the
 * first; built on first use.
 */
static int8_t tg_kb_pos[6][26];
uint8_t		tg_kb_pair[26][26];
bool		tg_kb_ready;

/* Fill tg_kb_pos and tg_kb_pair. */
void
tg_keyboard_init(void)
{
	memset(tg_kb_pos, -1, sizeof(tg_kb_pos));
	memset(tg_kb_pair, 0, sizeof(tg_kb_pair));
	for (int r = 0; r < 6; r++)
		for (int k = 0; keyboard_rows[r][k] != '\0'; k++)
		{
			tg_kb_pos[r][keyboard_rows[r][k] - 'a'] = (int8_t) k;
			if (keyboard_rows[r][k + 1] != '\0')
				tg_kb_pair[keyboard_rows[r][k] - 'a'][keyboard_rows[r][k + 1] - 'a'] |=
					(uint8_t) (1u << r);
		}
	tg_kb_ready = true;
}

/*
 * Length of the longest keyboard run starting at s (lower-case ASCII
 * letters, n of them): a substring of one row, forwards or backwards.
 */
static int
tg_keyboard_run(const char *s, int n, bool *at_row_start)
{
	int			best = 0;

	if (!tg_kb_ready)
		tg_keyboard_init();
	*at_row_start = false;
	if (n <= 0 || s[0] < 'a' || s[0] > 'z')
		return 0;
	for (int r = 0; r < 6; r++)
	{
		const char *row = keyboard_rows[r];
		int			pos = tg_kb_pos[r][s[0] - 'a'];
		int			k = 0;

		if (pos < 0)
			continue;
		while (k < n && row[pos + k] != '\0' && row[pos + k] == s[k])
			k++;
		if (k > best || (k == best && pos == 0))
		{
			best = k;
			*at_row_start = (pos == 0);
		}
	}
	return best;
}

/*
 * Is a part (lower-case ASCII letters) keyboard mashing?  It must be made
 * entirely of keyboard runs of 3 or more letters, and either start with a
 * run of 4 or more from the start of a row ("asdf", "qwerty") or be 6
 * letters or longer ("sdfsdf", "qweqwe").
 */
bool
tg_is_keyboard(const char *s, int n)
{
	int			i = 0;
	bool		strong_start = false;

	if (n < 4 || s[0] < 'a' || s[0] > 'z' || s[1] < 'a' || s[1] > 'z' ||
		s[2] < 'a' || s[2] > 'z')
		return false;
	if (!tg_kb_ready)
		tg_keyboard_init();

	/*
	 * Quick reject: the first three letters must be a keyboard run, i.e.
	 * two pairs that follow each other in the same row (letters are unique
	 * within a row).
	 */
	if ((tg_kb_pair[s[0] - 'a'][s[1] - 'a'] & tg_kb_pair[s[1] - 'a'][s[2] - 'a']) == 0)
		return false;
	while (i < n)
	{
		bool		row_start;
		int			k = tg_keyboard_run(s + i, n - i, &row_start);

		if (k < 3)
			return false;
		if (i == 0 && k >= 4 && row_start)
			strong_start = true;
		i += k;
	}
	return strong_start || n >= 6;
}

/*
 * Keyboard regions: the three letter rows, and the keys of each hand.
 * Mashing hits keys near each other, whatever their row: "sdkjfhsdkjf".
 */
static const char *const keyboard_regions[] = {
	"qwertyuiop", "asdfghjkl", "zxcvbnm", "qwertasdfgzxcvb", "yuiophjklnm"
};

/*
 * Is a part (lower-case ASCII letters) keyboard mashing of the locality
 * kind?  Six letters or more with at most one vowel (tg_mash_maybe), at
 * least four different letters, every letter from one region (a row, or
 * the keys of one hand) and either no vowel or five consonants in a row
 * ("asdkjh"); or, from eight letters on, no vowel at all, whatever the
 * keys.  Real words of one region keep a vowel and shorter clusters
 * ("stress", "flasks", "drafts").
 */
bool
tg_is_mash(const char *s, int n)
{
	uint32_t	seen = 0;
	bool		vowel = false;
	int			run = 0;
	int			longest = 0;

	if (!tg_mash_maybe(s, n))
		return false;
	for (int i = 0; i < n; i++)
	{
		unsigned	k = (unsigned) (s[i] - 'a');
		bool		v;

		if (k >= 26)
			return false;
		seen |= 1u << k;
		v = (0x1104111u >> k) & 1;
		vowel |= v;
		run = v ? 0 : run + 1;
		if (run > longest)
			longest = run;
	}
	if (__builtin_popcount(seen) < 4)
		return false;
	if (n >= 8 && !vowel)
		return true;
	if (vowel && longest < 5)
		return false;
	for (int r = 0; r < (int) (sizeof(keyboard_regions) / sizeof(keyboard_regions[0])); r++)
	{
		uint32_t	region = 0;

		for (const char *c = keyboard_regions[r]; *c; c++)
			region |= 1u << (*c - 'a');
		if ((seen & ~region) == 0)
			return true;
	}
	return false;
}

/* Is a word's normal form a hex string (uuid piece, hash suffix)? */
static bool
tg_is_hex(const TgWord *w)
{
	if (!w->ascii || w->norm_len < 4 || w->ndigits == 0 || w->nletters == 0)
		return false;
	for (int i = 0; i < w->norm_len; i++)
	{
		char		c = w->norm[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

/* Keyword strength of s[0..n), or -1. */
static inline int
tg_kw(const TgScan *sc, const char *s, size_t n, uint16_t *flags)
{
	uint16_t	v = tg_set_get(&sc->rules->keywords, s, n);

	if (flags != NULL)
		*flags = v;
	return tg_kw_strength(v);
}

/*
 * Look for keyword + generic word ("testco", "democorp"), keyword +
 * keyword ("testtest") or a known prefix + keyword ("loadtest") inside
 * s[0..n) (one part, or a leetspeak reading of a word).  Returns where
 * the second word starts (0: no compound) and the strengths of the two
 * halves; *both is false when only the second half is a keyword (after a
 * compound prefix such as "load").  Records nothing.
 */
int
tg_compound_find(const TgRules *rules, const char *s, int n, int *ps_out,
				 int *ss_out, bool *both)
{
	bool		first2;
	int			upto;
	uint32_t	cand;

	if (n < 5 || n > TG_WORD_MAX)
		return 0;
	first2 = s[0] >= 'a' && s[0] <= 'z' && s[1] >= 'a' && s[1] <= 'z' &&
		(rules->prefix2[((s[0] - 'a') * 26 + (s[1] - 'a')) / 8] &
		 (1 << (((s[0] - 'a') * 26 + (s[1] - 'a')) % 8)));

	/*
	 * Split points i in [2, n - 2] (and below 32) where a keyword or a
	 * compound prefix of length i can start with s[0], s[1]: most words
	 * have none.
	 */
	upto = n - 2;
	cand = ((first2 ? rules->kwlens : 0) | rules->cprefixlens) &
		rules->clen2[tg_clen2_slot(s)] &
		(upto >= 31 ? 0xFFFFFFFFu : ((1u << (upto + 1)) - 1)) & ~3u;

	while (cand != 0)
	{
		int			i = __builtin_ctz(cand);
		uint16_t	pf;
		uint16_t	sf;
		int			ps;
		int			ss;

		cand &= cand - 1;
		pf = tg_set_get_fast(&rules->keywords, s, (size_t) i);
		ps = tg_kw_strength(pf);
		if (!first2 && !(pf & TG_KW_CPREFIX))
			continue;
		sf = tg_set_get_fast(&rules->keywords, s + i, (size_t) (n - i));
		ss = tg_kw_strength(sf);
		if ((ps == TG_STRENGTH_STRONG || ps == TG_STRENGTH_WEAK) &&
			((sf & TG_KW_CSUFFIX) || ss == TG_STRENGTH_STRONG || ss == TG_STRENGTH_WEAK))
		{
			*ps_out = ps;
			*ss_out = ss;
			*both = true;
			return i;
		}
		if ((pf & TG_KW_CPREFIX) &&
			(ss == TG_STRENGTH_STRONG || ss == TG_STRENGTH_WEAK))
		{
			*ps_out = ps;
			*ss_out = ss;
			*both = false;
			return i;
		}
	}
	return 0;
}

/* A compound in one part (tg_compound_find): record it, return true. */
static bool
tg_scan_compound(TgScan *sc, const char *s, int n, const char *orig,
				 size_t olen, unsigned notes)
{
	int			ps;
	int			ss;
	bool		both;
	int			i = tg_compound_find(sc->rules, s, n, &ps, &ss, &both);

	if (i == 0)
		return false;
	if (both)
		tg_scan_record(sc, ps, s, (size_t) i, orig, olen,
					   notes | TG_NOTE_COMPOUND, orig, olen);
	tg_scan_record(sc, ss, s + i, (size_t) (n - i), orig, olen,
				   notes | TG_NOTE_COMPOUND, orig, olen);
	return true;
}

/*
 * Leetspeak: read the digits of a mixed ASCII word as letters and look
 * the result up ("d3m0"); failing that, leave trailing digits as a number
 * ("t3st1" is "test" and 1).
 */
static bool
tg_scan_leet(TgScan *sc, const TgWord *w)
{
	/* first read every digit as a letter ("d3m0"), then keep trailing digits */
	for (int pass = 0; pass < 2; pass++)
	{
		char		folded[TG_WORD_MAX + 1];
		int			n = w->norm_len;
		bool		changed = false;
		bool		letters_only = true;
		int			s;

		if (pass == 1)
		{
			while (n > 0 && w->norm[n - 1] >= '0' && w->norm[n - 1] <= '9')
				n--;
			if (n == w->norm_len)
				break;
		}
		for (int i = 0; i < n; i++)
		{
			folded[i] = tg_leet(w->norm[i]);
			if (folded[i] >= '0' && folded[i] <= '9')
				letters_only = false;
			changed |= (folded[i] != w->norm[i]);
		}
		folded[n] = '\0';
		if (!changed || !letters_only || n < 2)
			continue;

		s = tg_kw(sc, folded, (size_t) n, NULL);
		if (s == TG_STRENGTH_STRONG || s == TG_STRENGTH_WEAK)
			tg_scan_record(sc, s, folded, (size_t) n, w->orig, w->orig_len,
						   w->notes | TG_NOTE_LEET, NULL, 0);
		else if (!tg_scan_compound(sc, folded, n, w->orig, w->orig_len,
								   w->notes | TG_NOTE_LEET))
			continue;
		if (n < w->norm_len)
			tg_scan_number(sc, w->norm + n, (size_t) (w->norm_len - n));
		return true;
	}
	return false;
}

/* Reverse a UTF-8 string by code points (for right-to-left overrides). */
static void
tg_reverse_utf8(const char *s, int n, char *out)
{
	int			i = 0;

	while (i < n)
	{
		int			start = i;
		UChar32		c;

		U8_NEXT((const uint8_t *) s, i, n, c);
		(void) c;
		memcpy(out + (n - i), s + start, (size_t) (i - start));
	}
	out[n] = '\0';
}

/*
 * Scripts written without spaces: a keyword of the built-in list
 * (tg_builtin_run_keyword) inside a longer run of Han, kana or Hangul
 * ("测试公司", "テストカンパニー"), unless the run holds one of the words
 * that merely contain it (コンテスト, contest).  The run was counted as a
 * real-looking word; when the rest of it is a keyword too ("公司") or
 * nothing, it is not.
 */
static void
tg_scan_runs(TgScan *sc, const TgWord *w, const char *s, int n)
{
	const char *kw;
	int			strength;

	/* kana, Han, Hangul (syllables, or the jamo the normal form keeps) */
	if ((unsigned char) s[0] < 0xE1 || (unsigned char) s[0] > 0xED)
		return;
	for (int i = 0; tg_builtin_run_keyword(i, &kw, &strength); i++)
	{
		int			kl = (int) strlen(kw);

		for (int at = 0; kl > 0 && at + kl <= n; at++)
		{
			int			before;
			int			after;

			if (memcmp(s + at, kw, (size_t) kl) != 0 || tg_builtin_run_excused(s, n, at, kw))
				continue;
			tg_scan_record(sc, strength, kw, (size_t) kl, w->orig, w->orig_len,
						   w->notes | TG_NOTE_COMPOUND, w->orig, w->orig_len);
			before = at > 0 ? tg_kw(sc, s, (size_t) at, NULL) : -2;
			after = at + kl < n ? tg_kw(sc, s + at + kl, (size_t) (n - at - kl), NULL) : -2;
			if (before != -1 && after != -1)
			{
				sc->nother--;
				if (before >= 0)
					tg_scan_record(sc, before, s, (size_t) at, w->orig, w->orig_len,
								   w->notes | TG_NOTE_COMPOUND, w->orig, w->orig_len);
				if (after >= 0)
					tg_scan_record(sc, after, s + at + kl, (size_t) (n - at - kl),
								   w->orig, w->orig_len, w->notes | TG_NOTE_COMPOUND,
								   w->orig, w->orig_len);
			}
			return;
		}
	}
}

/* Look at one word's parts: keywords, numbers, compounds, mashing. */
static void
tg_scan_word_parts(TgScan *sc, const TgWord *w, uint16_t whole_flags)
{
	int			strong_before = sc->nstrong;

	for (int i = 0; i < w->nparts; i++)
	{
		const TgPart *p = &w->parts[i];
		const char *s = w->norm + p->off;
		uint16_t	flags;
		int			strength;

		if (p->digits)
		{
			tg_scan_number(sc, s, p->len);
			continue;
		}
		if (p->off == 0 && p->len == w->norm_len)
		{
			flags = whole_flags;	/* the part is the whole word: looked up */
			strength = tg_kw_strength(flags);
		}
		else
			strength = tg_kw(sc, s, p->len, &flags);
		if (strength >= 0)
			tg_scan_record(sc, strength, s, p->len, w->orig, w->orig_len,
						   w->notes, NULL, 0);
		else if (flags & TG_KW_STOP)
			continue;
		else if (tg_scan_compound(sc, s, p->len, w->orig, w->orig_len, w->notes))
			continue;
		else if (w->ascii && !w->repeated && tg_is_keyboard(s, p->len))
			tg_scan_strong(sc, "keyboard pattern", w->orig, w->orig_len);
		else if (w->ascii && !w->repeated && tg_is_mash(s, p->len))
			tg_scan_strong(sc, "keyboard mashing", w->orig, w->orig_len);
		else
		{
			bool		seen = false;

			for (int k = 0; k < sc->ndistinct && k < 2 && !seen; k++)
				seen = strlen(sc->other[k]) == p->len &&
					memcmp(sc->other[k], s, p->len) == 0;
			if (!seen && sc->ndistinct < 3)
			{
				if (sc->ndistinct < 2)
					tg_copy(sc->other[sc->ndistinct], TG_WORD_MAX + 1, s, p->len);
				sc->ndistinct++;
			}
			sc->nother++;
			if ((flags & TG_KW_SIGNAL) && sc->nsignal++ == 0)
				tg_copy(sc->signal1, sizeof(sc->signal1), s, p->len);
			if (!w->ascii)
				tg_scan_runs(sc, w, s, p->len);
		}
	}
	if (w->repeated && w->nletters > 0 && sc->nstrong == strong_before)
		tg_scan_strong(sc, "repeated characters", w->orig, w->orig_len);
}

/* Classify one word. */
static void
tg_scan_classify(TgScan *sc, const TgWord *w, uint16_t flags)
{
	int			strength;

	if (w->nletters == 0)
	{
		for (int i = 0; i < w->nparts; i++)
			tg_scan_number(sc, w->norm + w->parts[i].off, w->parts[i].len);
		return;
	}
	sc->nletterwords++;

	strength = tg_kw_strength(flags);
	if (strength >= 0 && !w->truncated)
	{
		tg_scan_record(sc, strength, w->norm, (size_t) w->norm_len,
					   w->orig, w->orig_len, w->notes, NULL, 0);
		return;
	}
	if (flags & TG_KW_STOP)
		return;

	if ((w->notes & TG_NOTE_RTL) && !w->truncated)
	{
		char		rev[TG_WORD_MAX + 1];

		tg_reverse_utf8(w->norm, w->norm_len, rev);
		strength = tg_kw(sc, rev, (size_t) w->norm_len, NULL);
		if (strength == TG_STRENGTH_STRONG || strength == TG_STRENGTH_WEAK)
		{
			tg_scan_record(sc, strength, rev, (size_t) w->norm_len,
						   w->orig, w->orig_len, w->notes, NULL, 0);
			return;
		}
	}

	if (tg_is_hex(w))
	{
		if (sc->nhex++ == 0)
			tg_copy(sc->hex1, sizeof(sc->hex1), w->norm, (size_t) w->norm_len);
		return;
	}

	if (w->ascii && w->ndigits > 0 && !w->truncated && tg_scan_leet(sc, w))
		return;

	tg_scan_word_parts(sc, w, flags);
}

/* End a run of single letters: is "T.E.S.T" a keyword? */
static void
tg_scan_spaced_flush(TgScan *sc)
{
	if (sc->spaced_n >= 2 && sc->spaced_len > 0)
	{
		int			strength = tg_kw(sc, sc->spaced, (size_t) sc->spaced_len, NULL);

		if (strength >= 0)
		{
			tg_scan_record(sc, strength, sc->spaced, (size_t) sc->spaced_len,
						   sc->spaced_start,
						   (size_t) (sc->spaced_end - sc->spaced_start),
						   sc->spaced_notes | TG_NOTE_SPACED, NULL, 0);
			sc->nother -= sc->spaced_other;
		}
	}
	sc->spaced_n = 0;
	sc->spaced_len = 0;
	sc->spaced_other = 0;
	sc->spaced_notes = 0;
}

/* Phrases: the last two or three words (when one of them starts a phrase). */
static void
tg_scan_phrases(TgScan *sc, const TgWord *w, uint16_t wflags)
{
	char		key[3 * (TG_WORD_MAX + 1)];
	size_t		n = 0;
	int			s = -1;
	uint16_t	v;

	if (sc->nwin >= 1 && (sc->winflags[1] & TG_KW_PHRASE1))
	{
		n = strlen(sc->win[1]);
		memcpy(key, sc->win[1], n);
		key[n++] = ' ';
		memcpy(key + n, w->norm, (size_t) w->norm_len);
		n += (size_t) w->norm_len;
		v = tg_set_get(&sc->rules->phrases, key, n);
		s = tg_kw_strength(v);
		sc->ncontext += (v == TG_PHRASE_CONTEXT);
	}
	if (s < 0 && sc->nwin >= 2 && (sc->winflags[0] & TG_KW_PHRASE1))
	{
		size_t		l0 = strlen(sc->win[0]);
		size_t		l1 = strlen(sc->win[1]);

		n = 0;
		memcpy(key, sc->win[0], l0);
		n += l0;
		key[n++] = ' ';
		memcpy(key + n, sc->win[1], l1);
		n += l1;
		key[n++] = ' ';
		memcpy(key + n, w->norm, (size_t) w->norm_len);
		n += (size_t) w->norm_len;
		v = tg_set_get(&sc->rules->phrases, key, n);
		s = tg_kw_strength(v);
		sc->ncontext += (v == TG_PHRASE_CONTEXT);
	}
	if (s == TG_STRENGTH_STRONG)
	{
		TgPiece		piece;

		tg_piece_init(&piece, sc->rules);
		tg_piece_str(&piece, "test phrase ");
		tg_piece_quote(&piece, key, n);
		sc->nstrong++;
		tg_scan_emit(sc, &piece);
	}
	else if (s >= 0)
		tg_scan_record(sc, s, key, n, key, n, 0, NULL, 0);

	memcpy(sc->win[0], sc->win[1], sizeof(sc->win[0]));
	sc->winflags[0] = sc->winflags[1];
	tg_copy(sc->win[1], sizeof(sc->win[1]), w->norm, (size_t) w->norm_len);
	sc->winflags[1] = wflags;
	sc->nwin++;
}

/* One word of the field. */
static void
tg_scan_word(TgScan *sc, const TgWord *w)
{
	int			other_before = sc->nother;
	bool		single = (w->nletters == 1 && w->ndigits == 0 && w->norm_len <= 4);

	/* the normal form of the field, for the allowlist and generic names */
	if (!sc->joined_overflow)
	{
		size_t		need = (sc->joined_len > 0) + (size_t) w->norm_len;

		if (w->truncated || sc->joined_len + need + 1 > sizeof(sc->joined))
			sc->joined_overflow = true;
		else
		{
			if (sc->joined_len > 0)
				sc->joined[sc->joined_len++] = ' ';
			memcpy(sc->joined + sc->joined_len, w->norm, (size_t) w->norm_len);
			sc->joined_len += (size_t) w->norm_len;
			sc->joined[sc->joined_len] = '\0';
		}
	}

	if (!single)
		tg_scan_spaced_flush(sc);

	{
		uint16_t	wflags = w->truncated ? 0 :
			tg_set_get(&sc->rules->keywords, w->norm, (size_t) w->norm_len);

		tg_scan_phrases(sc, w, wflags);
		tg_scan_classify(sc, w, wflags);
	}

	if (single)
	{
		if (sc->spaced_n == 0)
			sc->spaced_start = w->orig;
		sc->spaced_end = w->orig + w->orig_len;
		if (sc->spaced_len + w->norm_len < (int) sizeof(sc->spaced))
		{
			memcpy(sc->spaced + sc->spaced_len, w->norm, (size_t) w->norm_len);
			sc->spaced_len += w->norm_len;
			sc->spaced[sc->spaced_len] = '\0';
		}
		else
			sc->spaced_len = 0; /* too long a run to be a keyword */
		sc->spaced_n++;
		sc->spaced_other += sc->nother - other_before;
		sc->spaced_notes |= w->notes;
	}
}

/* At the end of the field: weak keywords and made-up names. */
static void
tg_scan_finish(TgScan *sc)
{
	TgPiece		piece;
	int			nweak;
	bool		alone;

	tg_scan_spaced_flush(sc);

	/*
	 * An ordinary strong keyword inside a business phrase ("Test Kitchen",
	 * "crash test"), or first and followed by three different distinctive
	 * words ("Test River Fishing Lodge"), counts as weak; else it is said
	 * now ("Acme Test", "Test Before Kill", "Test harbor harbor harbor").
	 */
	if (sc->deferred)
	{
		if (sc->ncontext > 0 || (sc->defer_other == 0 && sc->ndistinct >= 3))
		{
			int			before = sc->nweak;

			sc->deferred = false;
			sc->nstrong--;
			tg_scan_record(sc, TG_STRENGTH_WEAK, sc->defer.norm,
						   strlen(sc->defer.norm), sc->defer.norm,
						   strlen(sc->defer.norm), 0, NULL, 0);
			/*
			 * beside distinctive words a number is a second signal for it
			 * ("Test Valley Farms 2"); in a business phrase it is not
			 * ("Emissions Test Station 4")
			 */
			if (sc->nweak > before && sc->nweak <= 3)
				sc->weak[sc->nweak - 1].ordinary = sc->ncontext > 0;
		}
		else
			tg_scan_flush_deferred(sc);
	}

	nweak = sc->nweak < 3 ? sc->nweak : 3;
	alone = (sc->nother == 0 && sc->nstrong == 0 &&
			 sc->ngeneric == 0 && sc->nplaceholder == 0 &&
			 sc->nnumbers == 0 && sc->ntimestamps == 0 && sc->nhex == 0);

	for (int i = 0; i < nweak; i++)
	{
		const char *label = NULL;
		const char *value = NULL;

		bool		ordinary = sc->weak[i].ordinary;
		int			other = -1;

		/* another weak keyword: one that is not an ordinary word, for an ordinary one */
		for (int k = 0; k < nweak && other < 0; k++)
			if (k != i && (!ordinary || !sc->weak[k].ordinary))
				other = k;

		if (sc->ntimestamps > 0)
			label = " with timestamp ", value = sc->timestamp1;
		else if (sc->nhex > 0)
			label = " with hex string ", value = sc->hex1;
		else if ((sc->ngeneric > 0 || sc->nplaceholder > 0) &&
				 (!ordinary || sc->nother == sc->nsignal || sc->ngeneric_signal > 0))
			label = " with generic word ", value = sc->generic1;
		else if (sc->nsignal > 0)
			label = " with word ", value = sc->signal1;
		else if (sc->nnumbers > 0 && sc->mode != TG_SCAN_TAG && !ordinary)
			label = " with number ", value = sc->number1;
		else if (other >= 0)
			label = " with weak keyword ", value = sc->weak[other].norm;
		else if (alone && sc->mode != TG_SCAN_DOMAIN && sc->mode != TG_SCAN_TAG &&
				 !ordinary)
			label = " alone";

		if (label == NULL || sc->mode == TG_SCAN_TAG)
			continue;
		piece = sc->weak[i].what;
		tg_piece_str(&piece, label);
		if (value != NULL)
			tg_piece_quote(&piece, value, strlen(value));
		tg_scan_emit(sc, &piece);
	}

	/* made-up names: only generic words, placeholders, numbers */
	if (sc->nstrong == 0 && sc->nweak == 0 && sc->nother == 0 &&
		(sc->mode == TG_SCAN_FIELD || sc->mode == TG_SCAN_LOCAL))
	{
		bool		numbers = sc->nnumbers + sc->ntimestamps + sc->nhex > 0;
		const char *what = NULL;

		if (sc->ngeneric + sc->nplaceholder > 0)
		{
			if (numbers)
				what = "generic name ";
			else if (sc->mode == TG_SCAN_FIELD || sc->nplaceholder > 0)
				what = "placeholder name ";
		}
		else if (sc->nletterwords == 0 && numbers && sc->mode == TG_SCAN_FIELD)
			what = "no letters ";
		if (what != NULL)
		{
			tg_piece_init(&piece, sc->rules);
			tg_piece_str(&piece, what);
			tg_piece_quote(&piece, sc->joined, sc->joined_len);
			if (sc->joined_overflow)
				tg_piece_str(&piece, "...");
			tg_scan_emit(sc, &piece);
		}
	}

	/* a Unix time of these years, when nothing else in the field said so */
	if (sc->nepochs > 0 && sc->out->nhits == sc->hits0 && sc->mode != TG_SCAN_DOMAIN)
	{
		tg_piece_init(&piece, sc->rules);
		tg_piece_str(&piece, "unix time ");
		tg_piece_quote(&piece, sc->epoch1, strlen(sc->epoch1));
		tg_scan_emit(sc, &piece);
	}
}

/* Run the word rules over one piece of text, word by word. */
void
tg_scan_text_full(const TgRules *rules, TgVerdict *out, TgField field,
				  TgScanMode mode, const char *data, size_t len,
				  const char *stop, const TgWhere *where)
{
	TgScan		sc;
	TgWordIter	it;
	TgWord		w;
	size_t		saved_len = out->reason_len;
	int			saved_hits = out->nhits;

	memset(&sc, 0, offsetof(TgScan, weak));
	sc.rules = rules;
	sc.out = out;
	sc.field = field;
	sc.mode = mode;
	sc.where = where;
	sc.nwin = 0;
	sc.win[0][0] = sc.win[1][0] = '\0';
	sc.winflags[0] = sc.winflags[1] = 0;
	sc.spaced_n = sc.spaced_len = sc.spaced_other = 0;
	sc.spaced_notes = 0;
	sc.joined[0] = '\0';
	sc.joined_len = 0;
	sc.joined_overflow = false;
	sc.generic1[0] = sc.number1[0] = sc.timestamp1[0] = sc.hex1[0] = '\0';
	sc.signal1[0] = sc.epoch1[0] = '\0';
	sc.hits0 = out->nhits;

	tg_words_begin(&it, data, len, stop);
	while (tg_words_next(&it, &w))
		tg_scan_word(&sc, &w);
	tg_scan_finish(&sc);

	/* an allowlisted name or subdomain passes, whatever fired */
	if (mode == TG_SCAN_FIELD && !sc.joined_overflow && sc.joined_len > 0 &&
		(field == TG_FIELD_NAME || field == TG_FIELD_SUBDOMAIN) &&
		tg_set_get(&rules->allow[field == TG_FIELD_NAME ? TG_ALLOW_NAME : TG_ALLOW_SUBDOMAIN],
				   sc.joined, sc.joined_len) != 0)
	{
		out->reason_len = saved_len;
		out->reason[saved_len] = '\0';
		out->nhits = saved_hits;
		out->suspicious = saved_hits > 0;
	}
}

/*
 * Run the word rules over one piece of text: nothing to do when the fast
 * path (checker_fast.c) proves that no rule can fire, else every word.
 * Built with -DTG_VERIFY_FAST_PATH (the unit test and the fuzzer), every
 * such proof is checked against the full scan, and a wrong one aborts.
 */
void
tg_scan_text(const TgRules *rules, TgVerdict *out, TgField field,
			 TgScanMode mode, const char *data, size_t len, const char *stop,
			 const TgWhere *where)
{
	if (tg_screen_text(rules, mode, data, len, stop))
	{
#ifdef TG_VERIFY_FAST_PATH
		TgVerdict	full = *out;

		tg_scan_text_full(rules, &full, field, mode, data, len, stop, where);
		if (full.nhits != out->nhits || full.reason_len != out->reason_len)
		{
			fprintf(stderr, "tenant_guard fast path wrong on \"%.*s\" (mode %d): %s\n",
					(int) (len > 200 ? 200 : len), data, (int) mode, full.reason);
			abort();
		}
#endif
		return;
	}
	tg_scan_text_full(rules, out, field, mode, data, len, stop, where);
}

/* An empty verdict. */
static inline void
tg_verdict_clear(TgVerdict *v)
{
	v->suspicious = false;
	v->nhits = 0;
	v->reason_len = 0;
	v->reason[0] = '\0';
}

#ifdef TG_VERIFY_FAST_PATH
/*
 * Test builds: a field tg_check() found clean in one screening pass must
 * be one the usual path adds nothing for.
 */
static void
tg_verify_clean(const TgRules *rules, const TgText fields[TG_NUM_FIELDS],
				TgField f)
{
	TgVerdict	full;

	tg_verdict_clear(&full);
	if (f == TG_FIELD_EMAIL)
		tg_check_email(rules, &fields[f], &full);
	else
		tg_scan_text_full(rules, &full, f, TG_SCAN_FIELD, fields[f].data,
						  fields[f].len, NULL, NULL);
	if (full.nhits != 0)
	{
		fprintf(stderr, "tenant_guard row screen wrong on %s \"%.*s\": %s\n",
				tg_field_name(f), (int) (fields[f].len > 200 ? 200 : fields[f].len),
				fields[f].data, full.reason);
		abort();
	}
}
#endif

/*
 * A person's own address: the only rule that fired on the row is a weak
 * keyword alone as the local part ("dev@"), and that word is a word of a
 * clean name of three words or more ("Dev Patel Photography"): a first
 * name, not a test account.  Only then, so the cost is off the usual path.
 */
static TG_COLD bool
tg_local_is_name_word(const TgVerdict *out, size_t from, const TgText *name)
{
	static const char head[] = "email: weak keyword \"";
	static const char tail[] = "\" alone in local part";
	const char *r = out->reason + from;
	const char *q;
	char		norm[512];
	int			nwords;
	size_t		n;
	size_t		kl;

	if (name->data == NULL || strncmp(r, head, sizeof(head) - 1) != 0)
		return false;
	r += sizeof(head) - 1;
	q = strchr(r, '"');
	if (q == NULL || strncmp(q, tail, sizeof(tail) - 1) != 0)
		return false;
	kl = (size_t) (q - r);
	n = tg_normal_form(TG_NORMAL_TEXT, name->data, name->len, norm, sizeof(norm), &nwords);
	if (n == 0 || nwords < 3 || kl == 0)
		return false;
	for (const char *w = norm; w != NULL && *w; w = strchr(w, ' '), w = w ? w + 1 : NULL)
		if (strncmp(w, r, kl) == 0 && (w[kl] == ' ' || w[kl] == '\0'))
			return true;
	return false;
}

/*
 * Check one triple against the rules.  The usual row (short ASCII name
 * and subdomain, an address with a domain seen clean before) is screened
 * in one tg_screen_texts() call: name, subdomain and local part.  Each
 * field it cannot clear goes the usual way, in the usual order (the
 * reason lists the fields in that order).
 */
bool
tg_check(const TgRules *rules, const TgText fields[TG_NUM_FIELDS],
		 TgVerdict *out)
{
	TgScreenText texts[TG_NUM_FIELDS];
	unsigned	clean;
	TgEmailShape shape = TG_EMAIL_OTHER;
	size_t		llen = 0;

	tg_verdict_clear(out);

	if (rules == NULL)
		rules = tg_rules_builtin();

	/* text i is field i; NULL data: nothing to screen */
	for (int f = TG_FIELD_NAME; f <= TG_FIELD_SUBDOMAIN; f++)
	{
		texts[f].mode = TG_SCAN_FIELD;
		texts[f].data = (fields[f].data != NULL && fields[f].len > 0) ?
			fields[f].data : NULL;
		texts[f].len = fields[f].len;
	}
	texts[TG_FIELD_EMAIL].mode = TG_SCAN_LOCAL;
	texts[TG_FIELD_EMAIL].data = NULL;
	if (fields[TG_FIELD_EMAIL].data != NULL)
		shape = tg_email_shape_of(rules, &fields[TG_FIELD_EMAIL], &llen);
	/* the local part of a usual address is screened in the same pass */
	if (shape != TG_EMAIL_OTHER)
	{
		texts[TG_FIELD_EMAIL].data = fields[TG_FIELD_EMAIL].data;
		texts[TG_FIELD_EMAIL].len = llen;
	}
	clean = tg_screen_texts(rules, texts, TG_NUM_FIELDS);

	for (int f = TG_FIELD_NAME; f <= TG_FIELD_SUBDOMAIN; f++)
	{
		if (texts[f].data == NULL)
			continue;
		if (clean & (1u << f))
		{
#ifdef TG_VERIFY_FAST_PATH
			tg_verify_clean(rules, fields, (TgField) f);
#endif
			continue;
		}
		tg_scan_text_full(rules, out, (TgField) f, TG_SCAN_FIELD,
						  fields[f].data, fields[f].len, NULL, NULL);
	}
	if (shape == TG_EMAIL_CACHED && (clean & (1u << TG_FIELD_EMAIL)))
	{
#ifdef TG_VERIFY_FAST_PATH
		tg_verify_clean(rules, fields, TG_FIELD_EMAIL);
#endif
	}
	else if (shape == TG_EMAIL_USUAL && (clean & (1u << TG_FIELD_EMAIL)))
		tg_check_email_domain(rules, &fields[TG_FIELD_EMAIL], llen, out);
	else
	{
		int			hits = out->nhits;
		size_t		from = out->reason_len;

		if (shape != TG_EMAIL_OTHER)
			tg_check_email_plain(rules, &fields[TG_FIELD_EMAIL], llen, llen, out);
		else if (fields[TG_FIELD_EMAIL].data != NULL)
			tg_check_email(rules, &fields[TG_FIELD_EMAIL], out);
		if (hits == 0 && out->nhits == 1 &&
			tg_local_is_name_word(out, from, &fields[TG_FIELD_NAME]))
			tg_verdict_clear(out);
	}

	return out->suspicious;
}
