/*-------------------------------------------------------------------------
 *
 * fuzz_checker.c
 *	  libFuzzer harness for the deciding core (src/checker*.c):
 *	  clang -fsanitize=fuzzer,address,undefined, run by test/check.sh.
 *
 * Input: one flag byte, then up to three fields separated by NUL bytes
 * (name, subdomain, email).  Flag bits: 1-4 mark a field absent (SQL
 * NULL); 8 compiles operator rules from the fields first (keyword,
 * domain and allowlist entries), so the builder is fuzzed too; 16 asks
 * for ASCII-only reasons.  Every verdict must come with a well-formed
 * reason: NUL-terminated, of the stated length, valid UTF-8.  The e-mail
 * field also gets its rate-limit key (src/ratekey*.c): asked for with
 * little room, then (if it did not fit) with the room it asked for, it
 * must fit that room, and be valid UTF-8 when the address is (with TG_VERIFY_FAST_PATH
 * the ASCII fast path is checked against the general path too).
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checker.h"
#include "ratekey.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Is s[0..n) valid UTF-8 without NULs?  (Plain C, independent of ICU.) */
static int
valid_utf8(const unsigned char *s, size_t n)
{
	size_t		i = 0;

	while (i < n)
	{
		unsigned char c = s[i];
		unsigned	cp;
		int			k;

		if (c == 0)
			return 0;
		if (c < 0x80)
		{
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			k = 1, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			k = 2, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			k = 3, cp = c & 0x07;
		else
			return 0;
		for (int j = 1; j <= k; j++)
		{
			if (i + j >= n || (s[i + j] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + j] & 0x3F);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
			(cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += k + 1;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TgText		f[TG_NUM_FIELDS];
	TgVerdict	v;
	TgRules    *rules = NULL;
	uint8_t		flags;
	const char *p;
	const char *end;

	if (size == 0)
		return 0;
	flags = data[0];
	p = (const char *) data + 1;
	end = (const char *) data + size;
	for (int i = 0; i < TG_NUM_FIELDS; i++)
	{
		const char *nul = memchr(p, '\0', (size_t) (end - p));
		const char *stop = nul ? nul : end;

		f[i].data = (flags & (1 << i)) ? NULL : p;
		f[i].len = (flags & (1 << i)) ? 0 : (size_t) (stop - p);
		p = nul ? nul + 1 : end;
	}

	if (flags & 8)
	{
		rules = tg_rules_new();
		if (rules == NULL)
			abort();
		for (int i = 0; i < TG_NUM_FIELDS; i++)
		{
			if (f[i].data == NULL)
				continue;
			tg_rules_add_keyword(rules, f[i].data, f[i].len, (TgStrength) (i % 5));
			tg_rules_add_domain(rules, f[i].data, f[i].len, (TgDomainKind) (i % 2));
			tg_rules_add_allow(rules, (TgAllowKind) i, f[i].data, f[i].len);
		}
		tg_rules_set_ascii_reasons(rules, (flags & 16) != 0);
	}

	tg_check(rules, f, &v);

	if (v.reason_len >= TG_REASON_MAX || v.reason[v.reason_len] != '\0' ||
		strlen(v.reason) != v.reason_len)
		abort();
	if (!valid_utf8((const unsigned char *) v.reason, v.reason_len))
		abort();
	if (v.suspicious != (v.nhits > 0) || (v.suspicious && v.reason_len == 0))
		abort();
	if (rules != NULL && (flags & 16))
		for (size_t i = 0; i < v.reason_len; i++)
			if ((unsigned char) v.reason[i] >= 0x80)
				abort();

	tg_rules_free(rules);

	if (f[TG_FIELD_EMAIL].data != NULL)
	{
		char		small[8];
		size_t		need = tg_email_key(f[TG_FIELD_EMAIL].data, f[TG_FIELD_EMAIL].len,
										small, sizeof(small));
		char	   *key;
		size_t		klen;

		if (need == TG_EMAIL_KEY_NOMEM)
			abort();
		key = malloc(need + 1);
		if (key == NULL)
			abort();
		if (need <= sizeof(small))
			memcpy(key, small, need);
		klen = need <= sizeof(small) ? need :
			tg_email_key(f[TG_FIELD_EMAIL].data, f[TG_FIELD_EMAIL].len, key, need);
		if (klen > need)
			abort();
		if (valid_utf8((const unsigned char *) f[TG_FIELD_EMAIL].data, f[TG_FIELD_EMAIL].len) &&
			!valid_utf8((const unsigned char *) key, klen))
			abort();
		free(key);
	}
	return 0;
}
