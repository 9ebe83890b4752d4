/*-------------------------------------------------------------------------
 *
 * lookup.h
 *	  Catalog look-ups (lookup.c): the extension's own tables by name, a
 *	  relation's owner.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_LOOKUP_H
#define TENANT_GUARD_LOOKUP_H

#include "postgres.h"

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(hidden)
#endif

/* OID of a table in schema tenant_guard; ERROR (or InvalidOid) if missing. */
extern Oid	tg_extension_relid(const char *relname);
extern Oid	tg_extension_relid_if_exists(const char *relname);

/* Owner of a relation; ERROR if it vanished. */
extern Oid	tg_relation_owner(Oid relid);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#endif							/* TENANT_GUARD_LOOKUP_H */
