/*
 * db.h -- what tenant_guard_redis reads from and writes to the database
 */
#ifndef TGR_DB_H
#define TGR_DB_H

#include <stdint.h>
#include <libpq-fe.h>

#include "keys.h"

typedef struct JournalRow
{
	int64_t		row;			/* purge_journal.id */
	char	   *tenant_id;
	IdEntry    *tenant;			/* set once the id set is complete */
} JournalRow;

typedef struct Journal
{
	JournalRow *rows;
	size_t		n;
} Journal;

/* Connect (libpq conninfo or URI; NULL: the environment) and check the role. */
PGconn	   *db_connect(const char *conninfo);

/* Pending journal rows, protected and live tenant ids, in one snapshot. */
int			db_load(PGconn *conn, IdSet *ids, Journal *journal);

/* Mark the rows cleaned with their tenants' counts; returns rows marked or -1. */
long		db_mark(PGconn *conn, const Journal *journal);

#endif
