/*
 * url.c -- parse redis://[user[:password]@]host[:port][/db] and rediss://
 *
 * Error messages never repeat the URL: it may hold a password.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "url.h"
#include "xalloc.h"

#define URL_FORM "expected redis://[user[:password]@]host[:port][/db] or rediss://..."

/* Copy s[0..len) percent-decoded; NULL if a %XX escape is malformed. */
static char *
decode(const char *s, size_t len)
{
	char	   *out = xmalloc(len + 1);
	size_t		o = 0;

	for (size_t i = 0; i < len; i++)
	{
		if (s[i] == '%')
		{
			char		hex[3];

			if (i + 2 >= len || !isxdigit((unsigned char) s[i + 1])
				|| !isxdigit((unsigned char) s[i + 2]))
			{
				free(out);
				return NULL;
			}
			hex[0] = s[i + 1];
			hex[1] = s[i + 2];
			hex[2] = 0;
			out[o++] = (char) strtol(hex, NULL, 16);
			i += 2;
		}
		else
			out[o++] = s[i];
	}
	out[o] = 0;
	return out;
}

/* Parse a decimal number in [min, max] from s[0..len); -1 if it is not one. */
static long
number(const char *s, size_t len, long min, long max)
{
	long		v = 0;

	if (len == 0 || len > 9)
		return -1;
	for (size_t i = 0; i < len; i++)
	{
		if (!isdigit((unsigned char) s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return (v < min || v > max) ? -1 : v;
}

/* Parse a Redis URL; -1 and seterr() if it is malformed. */
int
url_parse(const char *s, RedisUrl *u)
{
	const char *p,
			   *end,
			   *at,
			   *hostend,
			   *slash;

	memset(u, 0, sizeof(*u));
	u->port = 6379;
	if (s == NULL || *s == 0)
	{
		seterr("empty Redis URL: " URL_FORM);
		return -1;
	}
	if (strncmp(s, "redis://", 8) == 0)
		p = s + 8;
	else if (strncmp(s, "rediss://", 9) == 0)
	{
		u->tls = true;
		p = s + 9;
	}
	else
	{
		seterr("bad Redis URL: unknown scheme; " URL_FORM);
		return -1;
	}
	for (const char *q = p; *q; q++)
		if ((unsigned char) *q <= ' ' || *q == '?' || *q == '#')
		{
			seterr("bad Redis URL: spaces, control characters, queries and fragments are not allowed (percent-encode them in the password); " URL_FORM);
			return -1;
		}
	end = p + strlen(p);
	slash = strchr(p, '/');
	at = memrchr(p, '@', (slash ? slash : end) - p);
	if (at)
	{
		const char *colon = memchr(p, ':', at - p);
		const char *uend = colon ? colon : at;

		if (uend > p && (u->user = decode(p, uend - p)) == NULL)
			goto badesc;
		if (colon && (u->password = decode(colon + 1, at - colon - 1)) == NULL)
			goto badesc;
		if (u->user && !colon)
		{
			/* redis://secret@host: the user part alone is the password */
			u->password = u->user;
			u->user = NULL;
		}
		p = at + 1;
	}
	hostend = slash ? slash : end;
	if (*p == '[')
	{
		const char *rb = memchr(p, ']', hostend - p);

		if (!rb || rb == p + 1)
		{
			seterr("bad Redis URL: unterminated [IPv6 address]; " URL_FORM);
			goto fail;
		}
		u->host = strndup(p + 1, rb - p - 1);
		p = rb + 1;
	}
	else
	{
		const char *colon = memchr(p, ':', hostend - p);
		const char *h_end = colon ? colon : hostend;

		if (h_end == p)
		{
			seterr("bad Redis URL: no host; " URL_FORM);
			goto fail;
		}
		u->host = strndup(p, h_end - p);
		p = h_end;
	}
	if (p < hostend)
	{
		long		port;

		if (*p != ':' || (port = number(p + 1, hostend - p - 1, 1, 65535)) < 0)
		{
			seterr("bad Redis URL: the port must be a number from 1 to 65535; " URL_FORM);
			goto fail;
		}
		u->port = (int) port;
	}
	if (slash && slash[1] != 0)
	{
		long		db = number(slash + 1, end - slash - 1, 0, 100000);

		if (db < 0)
		{
			seterr("bad Redis URL: the database after / must be a number; " URL_FORM);
			goto fail;
		}
		u->db = (int) db;
	}
	return 0;

badesc:
	seterr("bad Redis URL: malformed %%XX escape in the user or password; " URL_FORM);
fail:
	url_free(u);
	return -1;
}

/* Free the parts, wiping the password first. */
void
url_free(RedisUrl *u)
{
	if (u->password)
		memset(u->password, 0, strlen(u->password));
	free(u->user);
	free(u->password);
	free(u->host);
	memset(u, 0, sizeof(*u));
}
