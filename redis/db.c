/*
 * db.c -- the database side of tenant_guard_redis: the outbox
 * (purge_journal rows with redis_cleaned_at IS NULL), protected_tenants,
 * live_tenant_ids(), and marking the rows done
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "report.h"
#include "xalloc.h"

/* The first line of libpq's error message. */
static const char *
pq_error(PGconn *conn, PGresult *res)
{
	static char buf[512];
	const char *m = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
	size_t		n = strcspn(m, "\n");

	snprintf(buf, sizeof(buf), "%.*s", (int) n, m);
	return buf;
}

/* Run a statement that returns no rows; -1 and seterr() on failure. */
static int
exec_ok(PGconn *conn, const char *sql, const char *what)
{
	PGresult   *res = PQexec(conn, sql);
	int			ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;

	if (!ok)
		seterr("database: %s: %s", what, pq_error(conn, res));
	PQclear(res);
	return ok ? 0 : -1;
}

/* Connect and check the role, the extension and its version. */
PGconn *
db_connect(const char *conninfo)
{
	const char *keys[] = {"dbname", "fallback_application_name", NULL};
	const char *values[] = {conninfo ? conninfo : "", "tenant_guard_redis", NULL};
	PGconn	   *conn = PQconnectdbParams(keys, values, 1);
	PGresult   *res;

	if (PQstatus(conn) != CONNECTION_OK)
	{
		seterr("cannot connect to the database: %s (check --db or PGHOST, PGDATABASE, ...)",
			   pq_error(conn, NULL));
		PQfinish(conn);
		return NULL;
	}
	/* every name below is qualified; pg_catalog first for operators */
	if (exec_ok(conn, "SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', false)",
				"setting search_path") < 0)
		goto fail;
	res = PQexec(conn,
				 "SELECT pg_catalog.pg_has_role(current_user, 'tenant_guard_admin', 'MEMBER'), current_user,"
				 " (SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'tenant_guard'),"
				 " pg_catalog.current_database()");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		seterr("database: %s (is the role tenant_guard_admin there? it comes with CREATE EXTENSION tenant_guard)",
			   pq_error(conn, res));
		PQclear(res);
		goto fail;
	}
	if (PQgetisnull(res, 0, 2))
	{
		seterr("database \"%s\" has no tenant_guard extension: connect to the database that holds the tenants (--db)",
			   PQgetvalue(res, 0, 3));
		PQclear(res);
		goto fail;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
	{
		seterr("role \"%s\" is not a member of tenant_guard_admin: connect as an admin (GRANT tenant_guard_admin TO ...)",
			   PQgetvalue(res, 0, 1));
		PQclear(res);
		goto fail;
	}
	if (strcmp(PQgetvalue(res, 0, 2), "1.0") == 0)
	{
		seterr("tenant_guard 1.0 has no redis_keys_deleted column: ALTER EXTENSION tenant_guard UPDATE");
		PQclear(res);
		goto fail;
	}
	PQclear(res);
	return conn;
fail:
	PQfinish(conn);
	return NULL;
}

/* Add every row of a one-column (text) query to ids with flags, row by row. */
static int
load_ids(PGconn *conn, const char *sql, IdSet *ids, uint8_t flags, const char *what)
{
	PGresult   *res;
	int			rc = 0;

	if (!PQsendQuery(conn, sql) || !PQsetSingleRowMode(conn))
	{
		seterr("database: %s: %s", what, pq_error(conn, NULL));
		return -1;
	}
	while ((res = PQgetResult(conn)) != NULL)
	{
		ExecStatusType st = PQresultStatus(res);

		if (st == PGRES_SINGLE_TUPLE)
			idset_add(ids, PQgetvalue(res, 0, 0), PQgetlength(res, 0, 0), flags);
		else if (st != PGRES_TUPLES_OK && rc == 0)
		{
			seterr("database: %s: %s", what, pq_error(conn, res));
			rc = -1;
		}
		PQclear(res);
	}
	return rc;
}

/* Read the outbox, the protected and the live ids in one snapshot. */
int
db_load(PGconn *conn, IdSet *ids, Journal *journal)
{
	PGresult   *res;
	size_t		cap = 0;

	/* one snapshot: a purge that commits meanwhile is either wholly in or out */
	if (exec_ok(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "BEGIN") < 0)
		return -1;
	if (!PQsendQuery(conn,
					 "SELECT j.id, j.tenant_id FROM tenant_guard.purge_journal j"
					 " WHERE j.redis_cleaned_at IS NULL ORDER BY j.id") ||
		!PQsetSingleRowMode(conn))
	{
		seterr("database: reading purge_journal: %s", pq_error(conn, NULL));
		return -1;
	}
	journal->n = 0;
	while ((res = PQgetResult(conn)) != NULL)
	{
		ExecStatusType st = PQresultStatus(res);

		if (st == PGRES_SINGLE_TUPLE)
		{
			JournalRow *r;

			if (journal->n == cap)
			{
				cap = cap ? cap * 2 : 256;
				journal->rows = xrealloc(journal->rows, cap * sizeof(JournalRow));
			}
			r = &journal->rows[journal->n++];
			r->row = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
			r->tenant_id = xstrdup(PQgetvalue(res, 0, 1));
			idset_add(ids, PQgetvalue(res, 0, 1), PQgetlength(res, 0, 1), ID_PENDING);
		}
		else if (st != PGRES_TUPLES_OK)
		{
			seterr("database: reading purge_journal: %s", pq_error(conn, res));
			PQclear(res);
			while ((res = PQgetResult(conn)) != NULL)
				PQclear(res);
			return -1;
		}
		PQclear(res);
	}
	if (load_ids(conn, "SELECT p.tenant_id FROM tenant_guard.protected_tenants p",
				 ids, ID_PROTECTED, "reading protected_tenants") < 0)
		return -1;
	if (load_ids(conn, "SELECT l.tenant_id FROM tenant_guard.live_tenant_ids() l",
				 ids, ID_LIVE, "reading the live tenants (tenant_guard.live_tenant_ids() needs SELECT on each guarded table's key column)") < 0)
		return -1;
	/* entries move while the set grows: point at them now that it is complete */
	for (size_t i = 0; i < journal->n; i++)
	{
		JournalRow *r = &journal->rows[i];

		r->tenant = idset_find(ids, r->tenant_id, strlen(r->tenant_id));
		if (r->row > r->tenant->mark_row)
			r->tenant->mark_row = r->row;
	}
	return exec_ok(conn, "COMMIT", "COMMIT");
}

/* Append "{a,b,...}" of int64 values to a growing buffer. */
static char *
int_array(const int64_t *v, size_t n)
{
	char	   *buf = xmalloc(n * 21 + 3);
	size_t		o = 0;

	buf[o++] = '{';
	for (size_t i = 0; i < n; i++)
		o += sprintf(buf + o, "%s%lld", i ? "," : "", (long long) v[i]);
	buf[o++] = '}';
	buf[o] = 0;
	return buf;
}

/* Mark the journal rows read by db_load() as cleaned, with their counts. */
long
db_mark(PGconn *conn, const Journal *journal)
{
	int64_t    *rows = xmalloc((journal->n + 1) * sizeof(int64_t));
	int64_t    *counts = xmalloc((journal->n + 1) * sizeof(int64_t));
	const char *params[2];
	PGresult   *res;
	long		marked;

	for (size_t i = 0; i < journal->n; i++)
	{
		const JournalRow *r = &journal->rows[i];

		rows[i] = r->row;
		/* a tenant purged twice: its keys are counted on its newest row */
		counts[i] = (r->row == r->tenant->mark_row) ? r->tenant->deleted : 0;
	}
	params[0] = int_array(rows, journal->n);
	params[1] = int_array(counts, journal->n);
	for (int attempt = 0;; attempt++)
	{
		/* a plain UPDATE of the two columns admins may write */
		res = PQexecParams(conn,
						   "UPDATE tenant_guard.purge_journal j"
						   "   SET redis_cleaned_at = pg_catalog.now(), redis_keys_deleted = u.n"
						   "  FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.int8[]), pg_catalog.unnest($2::pg_catalog.int8[])) u(id, n)"
						   " WHERE j.id OPERATOR(pg_catalog.=) u.id AND j.redis_cleaned_at IS NULL",
						   2, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) == PGRES_COMMAND_OK || attempt > 0 || PQstatus(conn) != CONNECTION_BAD)
			break;
		/* the connection went away during a long pass: connect again, once */
		PQclear(res);
		PQreset(conn);
		PQclear(PQexec(conn, "SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', false)"));
	}
	free((void *) params[0]);
	free((void *) params[1]);
	free(rows);
	free(counts);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		seterr("the keys are deleted but the journal could not be marked: %s (rerun: it deletes nothing more and marks the rows)",
			   pq_error(conn, res));
		PQclear(res);
		return -1;
	}
	marked = strtol(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return marked;
}
