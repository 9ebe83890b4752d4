/*
 * report.c -- the last error message, printable keys and JSON strings
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

/* Print s as a JSON string. */
void
print_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}
