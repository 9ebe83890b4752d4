/*-------------------------------------------------------------------------
 *
 * own_tables.h
 *	  Writes to the extension's own tables: the mark the C code puts on
 *	  them, which the write_guard trigger (own_tables.c) lets through.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_OWN_TABLES_H
#define TENANT_GUARD_OWN_TABLES_H

#include "postgres.h"

#include "executor/spi.h"

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(hidden)
#endif

/*
 * SPI_execute_with_args() marked as the extension's own write (SPI
 * connected; the caller switches to the table's owner).  The mark is
 * cleared again however the statement ends.
 */
extern int	tg_own_write_spi(const char *sql, int nargs, Oid *argtypes,
							 Datum *args, const char *nulls, long tcount);

/* The same for a prepared plan run many times (SPI_execute_plan()). */
extern int	tg_own_write_plan(SPIPlanPtr plan, Datum *args, const char *nulls);

/*
 * An insert into table (the log or the journal) found the next id of its
 * sequence taken: setval() set it back.  Move it past the table's highest
 * id and say so with a WARNING.  SPI connected, search_path pinned, as the
 * table's owner.
 */
extern void tg_own_id_seq_repair(const char *table);

/* ERROR: the row's id was still taken after tg_own_id_seq_repair(). */
extern void tg_own_id_taken(const char *table) pg_attribute_noreturn();

/* The durable log's writer process: all its writes are the extension's. */
extern void tg_own_writes_process(void);

/*
 * A statement on one of the extension's tables run as that table's owner,
 * marked as the extension's own write (SPI connected); the rows hit.
 */
extern uint64 tg_exec_as_table_owner(const char *table, const char *sql, int nargs,
									 Oid *argtypes, Datum *args, const char *nulls);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#endif							/* TENANT_GUARD_OWN_TABLES_H */
