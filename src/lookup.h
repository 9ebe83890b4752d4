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

/*
 * Tables tenant_guard never takes as a user's: those of a system schema
 * (pg_catalog, TOAST, information_schema), and those of an extension or of
 * schema tenant_guard (*ext: the extension, InvalidOid for our schema).
 */
extern bool tg_system_namespace(Oid nsp);
extern bool tg_extension_table(Oid relid, Oid nsp, Oid *ext);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#endif							/* TENANT_GUARD_LOOKUP_H */
