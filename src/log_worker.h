/*-------------------------------------------------------------------------
 *
 * log_worker.h
 *	  The durable log's launcher and writers (log_worker.c): background
 *	  workers that drain the queue of log_queue.h into the log table.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_LOG_WORKER_H
#define TENANT_GUARD_LOG_WORKER_H

#include "postgres.h"

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(hidden)
#endif

/* Register the launcher; _PG_init, while preloading. */
extern void tg_log_worker_register(void);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

/* The workers' entry points: the postmaster finds them by name. */
extern PGDLLEXPORT void tg_log_launcher_main(Datum main_arg) pg_attribute_noreturn();
extern PGDLLEXPORT void tg_log_writer_main(Datum main_arg) pg_attribute_noreturn();

#endif							/* TENANT_GUARD_LOG_WORKER_H */
