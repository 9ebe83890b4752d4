/*-------------------------------------------------------------------------
 *
 * ratekey.c
 *	  Normalisation of the values rate limits count by (see ratekey.h).
 *	  No PostgreSQL headers: the rules stay testable on their own.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

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

/* Does the n-byte domain d equal the lower-case literal lit? */
static bool
rk_domain_is(const char *d, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(d, lit, n) == 0;
}

size_t
tg_email_key(const char *email, size_t len, char *out)
{
	size_t		start = 0;
	size_t		end = len;
	size_t		at;
	size_t		local_len;
	size_t		domain_len;
	size_t		plus;
	size_t		o = 0;
	bool		found_at = false;
	const char *domain;

	while (start < end && rk_space((unsigned char) email[start]))
		start++;
	while (end > start && rk_space((unsigned char) email[end - 1]))
		end--;
	if (start == end)
		return 0;

	/* the domain follows the last "@" (a quoted local part may hold one) */
	for (at = end; at > start; at--)
	{
		if (email[at - 1] == '@')
		{
			found_at = true;
			at--;
			break;
		}
	}
	if (!found_at)
	{
		for (size_t i = start; i < end; i++)
			out[o++] = rk_lower(email[i]);
		return o;
	}

	/* domain: lower-cased, one trailing dot dropped */
	domain_len = end - (at + 1);
	if (domain_len > 0 && email[end - 1] == '.')
		domain_len--;
	/* write the domain after the (not yet known) local part: keep it aside */
	local_len = at - start;

	/* local part: cut at the first "+" that is not its first byte */
	for (plus = 1; plus < local_len; plus++)
		if (email[start + plus] == '+')
			break;
	if (local_len > 0 && plus < local_len)
		local_len = plus;

	/* lower-case the domain into the tail of out to compare it */
	domain = email + at + 1;
	{
		char	   *d = out + (len - domain_len);
		bool		gmail;

		for (size_t i = 0; i < domain_len; i++)
			d[i] = rk_lower(domain[i]);
		gmail = rk_domain_is(d, domain_len, "gmail.com") ||
			rk_domain_is(d, domain_len, "googlemail.com");

		for (size_t i = 0; i < local_len; i++)
		{
			char		c = email[start + i];

			if (gmail && c == '.')
				continue;
			out[o++] = rk_lower(c);
		}
		out[o++] = '@';
		if (gmail)
		{
			memcpy(out + o, "gmail.com", 9);
			o += 9;
		}
		else
		{
			/* o <= position of d: the local part shrank or kept its size */
			memmove(out + o, d, domain_len);
			o += domain_len;
		}
	}
	return o;
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
