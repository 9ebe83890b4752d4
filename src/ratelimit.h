/*-------------------------------------------------------------------------
 *
 * ratelimit.h
 *	  Tenant-creation rate limits (ratelimit.c): per client IP and per
 *	  normalised e-mail address, over a sliding one-hour window.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_RATELIMIT_H
#define TENANT_GUARD_RATELIMIT_H

#include "postgres.h"

#include "access/htup.h"
#include "commands/trigger.h"
#include "utils/relcache.h"

#include "checker.h"

/*
 * Internal to the library, as the declarations of checker.h are (called
 * directly, not through the PLT).  SQL-callable functions and _PG_init
 * are declared in the .c files and stay visible.
 */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(hidden)
#endif

/*
 * The message applications show when a limit refuses a tenant (SQLSTATE
 * TG002, HTTP 429).  Like the suspicious-data message it is meant for end
 * users; keep the wording stable.
 */
#define TG_RATE_LIMITED_MESSAGE \
	"Too many tenants created recently. Please try again later."

/* Every log reason of a rate-limit refusal starts with this. */
#define TG_RATE_REASON_PREFIX "rate limit: "

/*
 * The AFTER INSERT row trigger attach() installs next to the guard
 * trigger: it counts the rows of INSERT ... ON CONFLICT statements that
 * were really inserted (tg_ratelimit_defer leaves them to it).
 */
#define TG_CREATED_TRIGGER "tenant_guard_created"

/* Set by the executor hooks and the guard trigger; see ratelimit.c. */
extern bool tg_rate_on_conflict;
extern bool tg_rate_row_deferred;

/* GUC variables */
extern int	tg_max_per_ip;
extern int	tg_max_per_email;
extern int	tg_rate_capacity;
extern int	tg_rate_window;

/* Is any limit on?  (-1 switches a limit off; both off: nothing to count.) */
static inline bool
tg_ratelimit_on(void)
{
	return tg_max_per_ip >= 0 || tg_max_per_email >= 0;
}

/* Define the GUCs, hooks and callbacks; called from _PG_init. */
extern void tg_ratelimit_init(void);

/*
 * Count a tenant about to be inserted against the limits; refuses it with
 * SQLSTATE TG002 (enforce mode) or logs it (log mode) when a limit is
 * reached.  email is the row's e-mail field (data NULL: absent).
 */
extern void tg_ratelimit_check(Relation rel, HeapTuple tuple, const TgText *email);

/*
 * Optional, before the checker runs: normalise the row's e-mail and start
 * loading its shared slot, so that the cache miss overlaps the checker.
 * tg_ratelimit_check() uses the result when given the same field.
 */
extern void tg_ratelimit_prepare(TriggerData *trigdata, const TgText *email);

/*
 * For a row the guard trigger keeps in an INSERT ... ON CONFLICT (call only
 * while tg_rate_on_conflict): leave its counting (creations and rate
 * limits) to the AFTER INSERT trigger, which runs only if the row is
 * really inserted?  True when it did so.
 */
extern bool tg_ratelimit_defer(Relation rel);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#endif							/* TENANT_GUARD_RATELIMIT_H */
