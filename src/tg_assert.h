/*-------------------------------------------------------------------------
 *
 * tg_assert.h
 *	  The extension's own assertions: TG_ASSERT(condition) states an
 *	  invariant (a queue index inside its ring, a rate-limit slot inside
 *	  its table, a purge count that adds up).
 *
 * PostgreSQL's Assert() is compiled only into a server built with
 * --enable-cassert, which distributions do not ship, so against Debian's
 * server it never runs.  TG_ASSERT is compiled in when the extension is
 * built with TG_USE_ASSERT defined (`make TG_ASSERTS=1`; the test suite,
 * test/check.sh, builds that way) and compiles to nothing otherwise: the
 * production build pays nothing for it, on the per-row path or elsewhere.
 *
 * A failed assertion is a PANIC, as a failed Assert() is an abort: the
 * broken invariant may be in shared memory, which only a restart of every
 * process makes whole again.  The server log names the condition, file
 * and line:
 *
 *	  PANIC:  TG_ASSERT failed: "cond" (src/file.c:123)
 *
 * The suite checks which build it tests: the conditions' text is in the
 * test build's library and not in a plain `make`'s.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TG_ASSERT_H
#define TG_ASSERT_H

#ifdef TG_USE_ASSERT

#define TG_ASSERT(condition) \
	do { \
		if (unlikely(!(condition))) \
			ereport(PANIC, \
					(errcode(ERRCODE_INTERNAL_ERROR), \
					 errmsg_internal("TG_ASSERT failed: \"%s\" (%s:%d)", \
									 #condition, __FILE__, __LINE__))); \
	} while (0)

#else

/* not evaluated, but still compiled: the condition cannot rot unseen */
#define TG_ASSERT(condition) \
	((void) sizeof((condition) ? 1 : 0))

#endif							/* TG_USE_ASSERT */

#endif							/* TG_ASSERT_H */
