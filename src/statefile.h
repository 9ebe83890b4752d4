/*-------------------------------------------------------------------------
 *
 * statefile.h
 *	  What the files of shared-memory state kept across a clean restart
 *	  share (statefile.c): the log queue, the rate limits, the creations.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_STATEFILE_H
#define TENANT_GUARD_STATEFILE_H

#include "postgres.h"

#include <stdio.h>

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(hidden)
#endif

extern bool tg_statefile_shutdown_clean(const char *what);
extern FILE *tg_statefile_create(const char *path);
extern bool tg_statefile_commit(FILE *file, bool ok, const char *path);
extern FILE *tg_statefile_open(const char *path);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#endif							/* TENANT_GUARD_STATEFILE_H */
