/*-------------------------------------------------------------------------
 *
 * ratekey.c
 *	  Normalisation of the values rate limits count by (see ratekey.h):
 *	  the e-mail key's ASCII fast path (other text: ratekey_unicode.c), the
 *	  key hash and the IP key.  No PostgreSQL headers: the rules stay
 *	  testable on their own.
 *
 *-------------------------------------------------------------------------
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE				/* memrchr() */
#endif
#include <stdint.h>
#include <string.h>
#ifdef TG_VERIFY_FAST_PATH
#include <stdio.h>
#include <stdlib.h>
#endif

#include "ratekey.h"

/* Is c ASCII white space? */
static bool
rk_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* ASCII lower case; other bytes (UTF-8 included) unchanged. */
static char
rk_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char) (c + ('a' - 'A')) : c;
}

/*
 * rk_lower() of 8 bytes at once: a byte gets 0x20 added when it is in
 * 'A'..'Z'.  With its top bit cleared a byte b is at most 0x7f, so
 * b + 0x3f (top bit set from 'A' up) and b + 0x25 (top bit set above
 * 'Z') carry into no other byte; bytes with the top bit set (UTF-8) are
 * left alone.
 */
static inline uint64_t
rk_lower8(uint64_t x)
{
	const uint64_t ones = UINT64_C(0x0101010101010101);
	uint64_t	t = x & (0x7f * ones);
	uint64_t	upper = (t + 0x3f * ones) & ~(t + 0x25 * ones) & ~x & (0x80 * ones);

	return x | (upper >> 2);
}

/* Copy n bytes from src to dst (apart), lower-cased as rk_lower() does. */
static void
rk_lower_copy(char *dst, const char *src, size_t n)
{
	size_t		i = 0;
	uint64_t	w;

	if (n < 8)
	{
		for (; i < n; i++)
			dst[i] = rk_lower(src[i]);
		return;
	}
	for (; i + 8 <= n; i += 8)
	{
		memcpy(&w, src + i, 8);
		w = rk_lower8(w);
		memcpy(dst + i, &w, 8);
	}
	if (i < n)
	{
		/* the last 8 bytes again: lower-casing twice changes nothing */
		memcpy(&w, src + n - 8, 8);
		w = rk_lower8(w);
		memcpy(dst + n - 8, &w, 8);
	}
}

/* Is the n-byte domain d, lower-cased, the lower-case literal lit? */
static bool
rk_domain_is(const char *d, size_t n, const char *lit)
{
	if (n != strlen(lit))
		return false;
	for (size_t i = 0; i < n; i++)
		if (rk_lower(d[i]) != lit[i])
			return false;
	return true;
}

/* What rk_scan() found in a text. */
#define RK_NON_ASCII	1		/* a byte with its top bit set */
#define RK_DASH			2		/* maybe a "-" (no: none) */

/*
 * Scan s[0..n) 8 bytes at a time for bytes outside ASCII and for dashes
 * (which an IDNA "xn--" label needs): RK_* bits.  The zero-byte test may
 * take a "," after a "-" for one more dash: harmless.
 */
static inline int
rk_scan(const char *s, size_t n)
{
	const uint64_t ones = UINT64_C(0x0101010101010101);
	uint64_t	high = 0;
	uint64_t	dash = 0;
	uint64_t	w;
	uint64_t	x;
	size_t		i = 0;

	if (n < 8)
	{
		int			found = 0;

		for (; i < n; i++)
			found |= ((unsigned char) s[i] >= 0x80 ? RK_NON_ASCII : 0) |
				(s[i] == '-' ? RK_DASH : 0);
		return found;
	}
	for (; i + 8 <= n; i += 8)
	{
		memcpy(&w, s + i, 8);
		x = w ^ (0x2d * ones);	/* zero bytes where "-" */
		high |= w;
		dash |= (x - ones) & ~x;
	}
	memcpy(&w, s + n - 8, 8);	/* the last 8 bytes (may overlap) */
	x = w ^ (0x2d * ones);
	high |= w;
	dash |= (x - ones) & ~x;
	return ((high & (0x80 * ones)) != 0 ? RK_NON_ASCII : 0) |
		((dash & (0x80 * ones)) != 0 ? RK_DASH : 0);
}

/*
 * Does the ASCII domain d[0..n) hold an IDNA A-label ("xn--" starting a
 * label, any case)?  Then IDNA decodes it and the general path keys it.
 */
static bool
rk_has_alabel(const char *d, size_t n)
{
	for (const char *p = memchr(d, '-', n); p != NULL && p + 1 < d + n;
		 p = memchr(p + 1, '-', (size_t) (d + n - p - 1)))
	{
		size_t		at = (size_t) (p - d);

		if (p[1] == '-' && at >= 2 && (at == 2 || d[at - 3] == '.') &&
			rk_lower(d[at - 2]) == 'x' && rk_lower(d[at - 1]) == 'n')
			return true;
	}
	return false;
}

/* rk_email_key_ascii(): leave this address to the general path. */
#define RK_NOT_PLAIN	(SIZE_MAX - 1)

static size_t rk_email_key_ascii(const char *email, size_t start, size_t end,
								 bool dashes, char *out);

#ifdef TG_VERIFY_FAST_PATH
/* Test builds: the fast path's key must be the general path's. */
static void
rk_verify(const char *email, size_t len, const char *key, size_t klen)
{
	char	   *other = malloc(len + 1);
	size_t		olen;

	if (other == NULL)
		return;
	olen = tg_email_key_unicode(email, len, other, len + 1);
	if (olen != klen || memcmp(other, key, klen) != 0)
	{
		fprintf(stderr, "tenant_guard e-mail key fast path wrong on \"%.*s\": \"%.*s\", not \"%.*s\"\n",
				(int) (len > 200 ? 200 : len), email, (int) klen, key,
				(int) (olen > len ? 0 : olen), other);
		abort();
	}
	free(other);
}
#endif

size_t
tg_email_key(const char *email, size_t len, char *out, size_t outcap)
{
	size_t		start = 0;
	size_t		end = len;
	size_t		klen;
	int			found;

	while (start < end && rk_space((unsigned char) email[start]))
		start++;
	while (end > start && rk_space((unsigned char) email[end - 1]))
		end--;
	if (start == end)
		return 0;
	found = rk_scan(email + start, end - start);
	if (found & RK_NON_ASCII)
		return tg_email_key_unicode(email, len, out, outcap);
	if (end - start > outcap)
	{
		/*
		 * Without a dash the key is at most this long; with one the domain
		 * may hold an A-label, whose U-label can take more bytes: ask the
		 * general path, which says exactly.
		 */
		if (found & RK_DASH)
			return tg_email_key_unicode(email, len, out, outcap);
		return end - start;
	}
	klen = rk_email_key_ascii(email, start, end, (found & RK_DASH) != 0, out);
	if (klen == RK_NOT_PLAIN)
		return tg_email_key_unicode(email, len, out, outcap);
#ifdef TG_VERIFY_FAST_PATH
	rk_verify(email, len, out, klen);
#endif
	return klen;
}

/*
 * The key of ASCII email[start..end) (trimmed, not empty), into out (room
 * for end - start bytes); RK_NOT_PLAIN when its domain holds an A-label
 * (only looked for when dashes: the address may have a "-").
 */
static size_t
rk_email_key_ascii(const char *email, size_t start, size_t end, bool dashes,
				   char *out)
{
	size_t		at;
	size_t		local_len;
	size_t		domain_len;
	const char *plus;
	const char *domain;
	const char *last_at;
	size_t		o;

	/* the domain follows the last "@" (a quoted local part may hold one) */
	last_at = memrchr(email + start, '@', end - start);
	if (last_at == NULL)
	{
		rk_lower_copy(out, email + start, end - start);
		return end - start;
	}

	/* domain: one trailing dot dropped */
	at = (size_t) (last_at - email);
	domain = email + at + 1;
	domain_len = end - (at + 1);
	if (domain_len > 0 && email[end - 1] == '.')
		domain_len--;
	if (dashes && domain_len >= 4 && rk_has_alabel(domain, domain_len))
		return RK_NOT_PLAIN;

	/* local part: cut at the first "+" that is not its first byte */
	local_len = at - start;
	plus = local_len > 1 ? memchr(email + start + 1, '+', local_len - 1) : NULL;
	if (plus != NULL)
		local_len = (size_t) (plus - (email + start));

	if (rk_domain_is(domain, domain_len, "gmail.com") ||
		rk_domain_is(domain, domain_len, "googlemail.com"))
	{
		/* gmail ignores the dots of the local part */
		o = 0;
		for (size_t i = 0; i < local_len; i++)
		{
			char		c = email[start + i];

			if (c != '.')
				out[o++] = rk_lower(c);
		}
		out[o++] = '@';
		memcpy(out + o, "gmail.com", 9);
		return o + 9;
	}
	if (plus == NULL && domain + domain_len == email + end)
	{
		/* nothing cut: the address as it is, lower-cased in one go */
		rk_lower_copy(out, email + start, end - start);
		return end - start;
	}
	rk_lower_copy(out, email + start, local_len);
	out[local_len] = '@';
	rk_lower_copy(out + local_len + 1, domain, domain_len);
	return local_len + 1 + domain_len;
}

/* Read 8, 4 or 1 bytes as a number (little or big end: only mixed). */
static inline uint64_t
rk_read8(const unsigned char *p)
{
	uint64_t	v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint64_t
rk_read4(const unsigned char *p)
{
	uint32_t	v;

	memcpy(&v, p, 4);
	return v;
}

/* Mix 64 bits (MurmurHash3's finaliser). */
static inline uint64_t
rk_fmix(uint64_t h)
{
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return h;
}

uint64_t
tg_key_hash(const void *key, size_t len, uint64_t seed)
{
	const unsigned char *p = key;
	uint64_t	h = seed ^ (len * UINT64_C(0x9E3779B97F4A7C15));
	size_t		n = len;

	if (n >= 8)
	{
		for (; n > 8; n -= 8, p += 8)
			h = rk_fmix(h ^ rk_read8(p)) + UINT64_C(0x9E3779B97F4A7C15);
		/* the last 8 bytes (they may overlap the word before) */
		h ^= rk_read8((const unsigned char *) key + len - 8);
	}
	else if (n >= 4)
		h ^= rk_read4(p) << 32 | rk_read4(p + n - 4);
	else if (n > 0)
		h ^= (uint64_t) p[0] << 16 | (uint64_t) p[n / 2] << 8 | p[n - 1];
	return rk_fmix(h);
}

size_t
tg_ip_key(int family, const unsigned char *addr, unsigned char *out)
{
	static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (family == 6 && memcmp(addr, v4mapped, sizeof(v4mapped)) == 0)
	{
		family = 4;
		addr += 12;
	}
	if (family == 4)
	{
		out[0] = 4;
		memcpy(out + 1, addr, 4);
		return 5;
	}
	out[0] = 6;
	memcpy(out + 1, addr, 8);
	return 9;
}
