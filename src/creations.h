/*-------------------------------------------------------------------------
 *
 * creations.h
 *	  Tenant creations per guarded table (creations.c): committed rows only,
 *	  per minute over the last hour and per hour over the last day, in
 *	  shared memory, for the tenant_creation_rate alert and diagnose().
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_CREATIONS_H
#define TENANT_GUARD_CREATIONS_H

#include "postgres.h"

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(hidden)
#endif

/*
 * This backend's creations of the running transaction, per slot (one slot
 * per relation the guard trigger counted rows of); flushed to shared
 * memory at commit, dropped at abort.
 */
extern int64 *tg_creation_pending;
extern bool tg_creation_dirty;

/* The slot of a relation (once per statement and partition); -1: none. */
extern int	tg_creation_slot(Oid relid);

/* Count one tenant created in the slot's relation: the per-row cost. */
static inline void
tg_creation_add(int slot)
{
	if (likely(slot >= 0))
	{
		tg_creation_pending[slot]++;
		tg_creation_dirty = true;
	}
}

/* Shared memory, hooks and callbacks; called from _PG_init. */
extern void tg_creations_init(void);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#endif							/* TENANT_GUARD_CREATIONS_H */
