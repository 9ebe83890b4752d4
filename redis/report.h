/*
 * report.h -- error messages and printable keys for tenant_guard_redis
 */
#ifndef TGR_REPORT_H
#define TGR_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* exit statuses */
#define EXIT_USAGE 2			/* bad option, URL or pattern */
#define EXIT_RUN 1				/* database, Redis or network failure */

/* the last error, set by any module; main prints it with a hint */
void		seterr(const char *fmt,...) __attribute__((format(printf, 1, 2)));
const char *lasterr(void);

/* a key as printable text: control and non-ASCII bytes as \xNN, at most max bytes shown */
void		print_key(FILE *out, const char *key, size_t len, size_t max);

#endif
