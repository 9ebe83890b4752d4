/*
 * xalloc.h -- allocation that never returns NULL
 *
 * tenant_guard_redis has nothing useful to do without memory: an
 * allocation that fails ends the program with exit status 1 and a one-line
 * message, as other failures do, instead of a NULL dereference.  Journal
 * rows not yet marked stay pending, so a later run picks them up.
 */
#ifndef TGR_XALLOC_H
#define TGR_XALLOC_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void *
xcheck(void *p)
{
	if (p == NULL)
	{
		fputs("tenant_guard_redis: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

#define xmalloc(n)		xcheck(malloc(n))
#define xcalloc(n, s)	xcheck(calloc((n), (s)))
#define xrealloc(p, n)	xcheck(realloc((p), (n)))
#define xstrdup(s)		xcheck(strdup(s))

#endif							/* TGR_XALLOC_H */
