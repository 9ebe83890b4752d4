/*
 * report.c -- the last error message and printable keys
 */
#include <stdarg.h>
#include <stdio.h>

#include "report.h"

static char errbuf[1024];

/* Remember an error message (lower case, no final period) for main to print. */
void
seterr(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
}

/* The message seterr() stored last. */
const char *
lasterr(void)
{
	return errbuf[0] ? errbuf : "unknown error";
}

/* Print a Redis key readably: keys are binary strings. */
void
print_key(FILE *out, const char *key, size_t len, size_t max)
{
	for (size_t i = 0; i < len && i < max; i++)
	{
		unsigned char c = (unsigned char) key[i];

		if (c < 0x20 || c >= 0x7f || c == '\\')
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
	if (len > max)
		fputs("...", out);
}
