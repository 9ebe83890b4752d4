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

/* The durable log's writer process: all its writes are the extension's. */
extern void tg_own_writes_process(void);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#endif							/* TENANT_GUARD_OWN_TABLES_H */
