/*-------------------------------------------------------------------------
 *
 * rules.h
 *	  The rules in force (rules.c): the rule tables compiled for the
 *	  checker and cached per backend until they change.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_RULES_H
#define TENANT_GUARD_RULES_H

#include "postgres.h"

#include "checker.h"

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(hidden)
#endif

/* GUCs, the invalidation callback and shared memory; from _PG_init. */
extern void tg_rules_init(void);

/* The compiled rules of this database, reloaded when they changed. */
extern const TgRules *tg_current_rules(void);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#endif							/* TENANT_GUARD_RULES_H */
