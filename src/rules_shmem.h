/*-------------------------------------------------------------------------
 *
 * rules_shmem.h
 *	  The e-mail domain lists compiled once per change into shared memory
 *	  (rules_shmem.c), for the rules cache (rules.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_RULES_SHMEM_H
#define TENANT_GUARD_RULES_SHMEM_H

#include "storage/dsm.h"

#include "checker.h"

/* Adds the rows of the domain table relid to rules (rules.c). */
typedef void (*TgDomainsLoader) (TgRules *rules, Oid relid);

extern void tg_rules_shmem_init(void);
extern bool tg_rules_shmem_usable(void);
extern bool tg_rules_shmem_preloaded(void);
extern void tg_rules_shmem_domains_changed(void);
extern bool tg_rules_shmem_changed_here(void);
extern dsm_segment *tg_rules_shmem_attach(Oid relid, TgRules *rules,
										  TgDomainsLoader load);

#endif							/* TENANT_GUARD_RULES_SHMEM_H */
