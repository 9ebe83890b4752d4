/*-------------------------------------------------------------------------
 *
 * rules_shmem.h
 *	  The rule tables read once per change into shared memory
 *	  (rules_shmem.c), for the rules cache (rules.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_RULES_SHMEM_H
#define TENANT_GUARD_RULES_SHMEM_H

#include "lib/stringinfo.h"
#include "storage/dsm.h"

#include "checker.h"

/*
 * Adds the rows of the domain table relid to rules and appends the other
 * rule tables' rows to rows, for the segment (rules.c).
 */
typedef void (*TgRulesLoader) (TgRules *rules, StringInfo rows, Oid relid);

extern void tg_rules_shmem_init(void);
extern bool tg_rules_shmem_usable(void);
extern bool tg_rules_shmem_preloaded(void);
extern void tg_rules_shmem_changed(const char *table);
extern dsm_segment *tg_rules_shmem_attach(Oid relid, TgRules *rules,
										  TgRulesLoader load,
										  const char **rows, Size *rows_len);

#endif							/* TENANT_GUARD_RULES_SHMEM_H */
