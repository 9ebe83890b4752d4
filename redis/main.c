/*
 * main.c -- tenant_guard_redis: delete the Redis keys of purged tenants
 *
 *   tenant_guard_redis clean [--execute] [--orphans] [--key-pattern P]...
 *       [--db CONNINFO] [--redis URL] [--cacert FILE] [--json] ...
 *
 * Reads the outbox (purge_journal rows with redis_cleaned_at IS NULL), the
 * protected and the live tenants, walks every key once with pipelined SCAN
 * pages and UNLINKs, and after a complete pass marks the journal rows.
 * Options, parsing and the pass itself live here; the decision per key is
 * keys.c's, the I/O conn.c's, the cluster cluster.c's, SQL db.c's.
 */
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"
#include "db.h"
#include "keys.h"
#include "report.h"
#include "url.h"
#include "xalloc.h"

#define NSAMPLES 3

typedef struct Options
{
	bool		execute;
	bool		orphans;
	bool		json;
	bool		insecure;
	const char *db;
	const char *redis;
	const char *cacert;
	const char *cert;
	const char *key;
	long		max_keys_per_second;
	long		scan_count;
	long		timeout_s;
	const char **patterns;
	int			npatterns;
} Options;

/* The pass's counts. */
typedef struct Stats
{
	long long	scanned;
	long long	category[KEY_NCATEGORIES];
	long long	deleted;
	long long	redirects;
	char	   *samples[KEY_NCATEGORIES][NSAMPLES];
	size_t		sample_len[KEY_NCATEGORIES][NSAMPLES];
	int			nsamples[KEY_NCATEGORIES];
} Stats;

/*
 * keys of one SCAN page to UNLINK with the next round trip, grouped into
 * commands of one tenant (and, in a cluster, one slot) each, so that the
 * count each UNLINK returns belongs to one tenant: exact even when SCAN
 * returns a key twice or a key expires before its UNLINK
 */
#define UNLINK_MAX_KEYS 128

typedef struct Batch
{
	char	   *arena;
	size_t		used,
				cap;
	size_t	   *off;
	size_t	   *len;
	IdEntry   **tenant;
	int		   *slot;			/* cluster: the key's slot; else 0 */
	size_t	   *order;			/* indexes sorted by tenant and slot */
	size_t		n,
				max;
	size_t	   *cmd_start;		/* UNLINK i: order[cmd_start[i] .. + cmd_n[i]) */
	size_t	   *cmd_n;
	size_t		ncmds;
} Batch;

static double start_time;
static bool show_progress;
static double last_progress;

/* Monotonic seconds. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* --help */
static void
usage(FILE *out)
{
	fputs("usage: tenant_guard_redis clean [--execute] [--orphans] [--key-pattern PATTERN]...\n"
		  "           [--db CONNINFO] [--redis URL] [--cacert FILE] [--json]\n"
		  "           [--cert FILE --key FILE] [--insecure] [--max-keys-per-second N]\n"
		  "           [--scan-count N] [--timeout SECONDS]\n"
		  "\n"
		  "Deletes the Redis keys of tenants purged by tenant_guard.purge_test_tenants()\n"
		  "(purge_journal rows with redis_cleaned_at IS NULL), keeping every key that names\n"
		  "a protected or live tenant, then marks the journal rows. Without --execute it is\n"
		  "a dry run that deletes nothing.\n"
		  "\n"
		  "  --execute            delete (default: dry run)\n"
		  "  --key-pattern P      a glob with one {id}, e.g. 'tenant:{id}:*' (repeatable);\n"
		  "                       needed when tenant ids are not UUIDs\n"
		  "  --orphans            also delete keys a pattern matches whose id is neither\n"
		  "                       live nor protected (tenants removed without a journal)\n"
		  "  --db CONNINFO        libpq conninfo or URI (default: PGHOST, PGDATABASE, ...)\n"
		  "  --redis URL          redis[s]://[user[:password]@]host[:port][/db]\n"
		  "                       (default: $TENANT_GUARD_REDIS_URL, then $REDIS_URL;\n"
		  "                       keep passwords in the environment, not in argv)\n"
		  "  --cacert FILE        CA certificates for rediss:// (default: the system's)\n"
		  "  --cert, --key FILE   a client certificate for rediss://\n"
		  "  --insecure           rediss:// WITHOUT checking the certificate or host name\n"
		  "  --json               one JSON object with the counts on stdout\n"
		  "  --max-keys-per-second N   scan at most N keys per second\n"
		  "  --scan-count N       SCAN COUNT per page (default 10000)\n"
		  "  --timeout SECONDS    connect and reply timeout (default 30)\n"
		  "\n"
		  "Exit status: 0 done, 1 failed (nothing marked), 2 usage error.\n", out);
}

/* Exit with a one-line message; status 2 for usage errors. */
static void
die(int status, const char *msg)
{
	if (show_progress)
		fputs("\n", stderr);
	fprintf(stderr, "tenant_guard_redis: error: %s\n", msg);
	exit(status);
}

/* A positive number option, or a usage error. */
static long
parse_positive(const char *opt, const char *s)
{
	char	   *end;
	long		v = strtol(s, &end, 10);

	if (*s == 0 || *end != 0 || v <= 0 || v > 100000000)
	{
		char		msg[256];

		snprintf(msg, sizeof(msg), "%s wants a positive number, not \"%.40s\" (see --help)", opt, s);
		die(EXIT_USAGE, msg);
	}
	return v;
}

/* argv and the environment into *o; usage errors exit 2. */
static void
parse_options(int argc, char **argv, Options *o)
{
	static const struct option longopts[] = {
		{"execute", no_argument, NULL, 'x'},
		{"orphans", no_argument, NULL, 'o'},
		{"key-pattern", required_argument, NULL, 'p'},
		{"db", required_argument, NULL, 'd'},
		{"redis", required_argument, NULL, 'r'},
		{"cacert", required_argument, NULL, 'c'},
		{"cert", required_argument, NULL, 'C'},
		{"key", required_argument, NULL, 'K'},
		{"insecure", no_argument, NULL, 'i'},
		{"json", no_argument, NULL, 'j'},
		{"max-keys-per-second", required_argument, NULL, 'm'},
		{"scan-count", required_argument, NULL, 's'},
		{"timeout", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	int			ch;

	memset(o, 0, sizeof(*o));
	o->scan_count = 10000;
	o->timeout_s = 30;
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
	{
		usage(stdout);
		exit(0);
	}
	if (argc < 2 || strcmp(argv[1], "clean") != 0)
		die(EXIT_USAGE, "the command is missing or unknown: tenant_guard_redis clean [options] (see --help)");
	o->patterns = xcalloc(argc, sizeof(char *));
	optind = 2;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
	{
		switch (ch)
		{
			case 'x': o->execute = true; break;
			case 'o': o->orphans = true; break;
			case 'p': o->patterns[o->npatterns++] = optarg; break;
			case 'd': o->db = optarg; break;
			case 'r': o->redis = optarg; break;
			case 'c': o->cacert = optarg; break;
			case 'C': o->cert = optarg; break;
			case 'K': o->key = optarg; break;
			case 'i': o->insecure = true; break;
			case 'j': o->json = true; break;
			case 'm': o->max_keys_per_second = parse_positive("--max-keys-per-second", optarg); break;
			case 's': o->scan_count = parse_positive("--scan-count", optarg); break;
			case 't': o->timeout_s = parse_positive("--timeout", optarg); break;
			case 'h':
				usage(stdout);
				exit(0);
			default:
				{
					char		msg[256];

					snprintf(msg, sizeof(msg), "unknown option or missing value: %.60s (see --help)",
							 argv[optind - 1]);
					die(EXIT_USAGE, msg);
				}
		}
	}
	if (optind < argc)
		die(EXIT_USAGE, "unexpected argument after the options (see --help)");
	if (o->orphans && o->npatterns == 0)
		die(EXIT_USAGE, "--orphans needs --key-pattern: only a pattern says where a key names a tenant");
	if (o->redis == NULL)
		o->redis = getenv("TENANT_GUARD_REDIS_URL");
	if (o->redis == NULL)
		o->redis = getenv("REDIS_URL");
	if (o->redis == NULL)
		die(EXIT_USAGE, "no Redis given: set TENANT_GUARD_REDIS_URL=redis://host:port (or give --redis)");
}

/*
 * If the URL with a password came from argv, overwrite the password there
 * (ps shows it from now on as xxx; it was visible until here).  True if so.
 */
static bool
scrub_argv_password(int argc, char **argv, const char *url)
{
	for (int i = 1; i < argc; i++)
	{
		char	   *scheme,
				   *at,
				   *colon;

		/* --redis URL or --redis=URL */
		if (url < argv[i] || url >= argv[i] + strlen(argv[i]) ||
			(scheme = strstr(argv[i] + (url - argv[i]), "://")) == NULL)
			continue;
		at = strchr(scheme + 3, '@');
		colon = strchr(scheme + 3, ':');
		if (at && colon && colon < at)
			memset(colon + 1, 'x', at - colon - 1);
		return true;
	}
	return false;
}

/* Remember a few keys per category for the report. */
static void
sample(Stats *st, KeyCategory cat, const char *key, size_t len)
{
	int			i = st->nsamples[cat];

	if (i >= NSAMPLES)
		return;
	st->samples[cat][i] = xmalloc(len + 1);
	memcpy(st->samples[cat][i], key, len);
	st->sample_len[cat][i] = len;
	st->nsamples[cat]++;
}

/* Remember a key to UNLINK with the next round trip. */
static void
batch_add(Batch *b, const char *key, size_t len, IdEntry *tenant, int slot)
{
	if (b->n == b->max)
	{
		b->max = b->max ? b->max * 2 : 1024;
		b->off = xrealloc(b->off, b->max * sizeof(size_t));
		b->len = xrealloc(b->len, b->max * sizeof(size_t));
		b->tenant = xrealloc(b->tenant, b->max * sizeof(IdEntry *));
		b->slot = xrealloc(b->slot, b->max * sizeof(int));
		b->order = xrealloc(b->order, b->max * sizeof(size_t));
		b->cmd_start = xrealloc(b->cmd_start, b->max * sizeof(size_t));
		b->cmd_n = xrealloc(b->cmd_n, b->max * sizeof(size_t));
	}
	if (b->used + len > b->cap)
	{
		b->cap = (b->used + len) * 2;
		b->arena = xrealloc(b->arena, b->cap);
	}
	memcpy(b->arena + b->used, key, len);
	b->off[b->n] = b->used;
	b->len[b->n] = len;
	b->tenant[b->n] = tenant;
	b->slot[b->n] = slot;
	b->order[b->n] = b->n;
	b->used += len;
	b->n++;
}

static const Batch *sort_batch;

/* qsort order: by tenant, then slot */
static int
batch_cmp(const void *a, const void *b)
{
	size_t		i = *(const size_t *) a,
				j = *(const size_t *) b;
	uintptr_t	ti = (uintptr_t) sort_batch->tenant[i],
				tj = (uintptr_t) sort_batch->tenant[j];

	/* the order of tenants does not matter, only that each one's keys meet */
	if (ti != tj)
		return ti < tj ? -1 : 1;
	if (sort_batch->slot[i] != sort_batch->slot[j])
		return sort_batch->slot[i] < sort_batch->slot[j] ? -1 : 1;
	return i < j ? -1 : (i > j);
}

/* Group the batch into UNLINK commands of one tenant and slot each. */
static void
batch_group(Batch *b)
{
	sort_batch = b;
	qsort(b->order, b->n, sizeof(size_t), batch_cmp);
	b->ncmds = 0;
	for (size_t i = 0; i < b->n; i++)
	{
		size_t		k = b->order[i];

		if (b->ncmds > 0)
		{
			size_t		c = b->ncmds - 1;
			size_t		first = b->order[b->cmd_start[c]];

			if (b->tenant[first] == b->tenant[k] && b->slot[first] == b->slot[k] &&
				b->cmd_n[c] < UNLINK_MAX_KEYS)
			{
				b->cmd_n[c]++;
				continue;
			}
		}
		b->cmd_start[b->ncmds] = i;
		b->cmd_n[b->ncmds] = 1;
		b->ncmds++;
	}
}

/* Queue UNLINK command c of the batch on conn, after ASKING if asked to. */
static int
append_unlink(RConn *conn, const Batch *b, size_t c, bool asking)
{
	const char *argv[UNLINK_MAX_KEYS + 1];
	size_t		lens[UNLINK_MAX_KEYS + 1];
	size_t		n = b->cmd_n[c];

	if (asking)
	{
		const char *ask[1] = {"ASKING"};
		size_t		asklen[1] = {6};

		if (conn_append(conn, 1, ask, asklen) < 0)
			return -1;
	}
	argv[0] = "UNLINK";
	lens[0] = 6;
	for (size_t i = 0; i < n; i++)
	{
		size_t		k = b->order[b->cmd_start[c] + i];

		argv[i + 1] = b->arena + b->off[k];
		lens[i + 1] = b->len[k];
	}
	return conn_append(conn, (int) n + 1, argv, lens);
}

/* An UNLINK of command c removed n keys: of the command's one tenant. */
static void
count_deleted(Stats *st, const Batch *b, size_t c, long long n)
{
	IdEntry    *tenant = b->tenant[b->order[b->cmd_start[c]]];

	st->deleted += n;
	if (tenant)
		tenant->deleted += n;
}

/* Send UNLINK command c again where a MOVED / ASK reply says its slot lives. */
static int
redirect(Topology *t, Stats *st, const char *err, const Batch *b, size_t c)
{
	bool		ask = strncmp(err, "ASK ", 4) == 0;
	const char *addr = strchr(err + (ask ? 4 : 6), ' ');
	const char *colon = addr ? strrchr(addr, ':') : NULL;
	char		host[256];
	Node	   *node;
	redisReply *r;

	if (!colon || colon - addr - 1 <= 0 || colon - addr - 1 >= (long) sizeof(host))
	{
		seterr("cannot read the redirection \"%.80s\"", err);
		return -1;
	}
	memcpy(host, addr + 1, colon - addr - 1);
	host[colon - addr - 1] = 0;
	if ((node = topology_node(t, host, atoi(colon + 1))) == NULL)
		return -1;
	st->redirects++;
	if (append_unlink(node->conn, b, c, ask) < 0 || conn_flush(node->conn) < 0)
		return -1;
	if (ask)
	{
		if (conn_read(node->conn, &r) < 0)
			return -1;
		freeReplyObject(r);
	}
	if (conn_read(node->conn, &r) < 0)
		return -1;
	if (r->type != REDIS_REPLY_INTEGER)
	{
		seterr("Redis at %s refused UNLINK after a redirection: %s", host,
			   r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		freeReplyObject(r);
		return -1;
	}
	count_deleted(st, b, c, r->integer);
	freeReplyObject(r);
	return 0;
}

/* Read the replies to the batch's UNLINKs, sent with the last round trip. */
static int
read_unlinks(Topology *t, int ni, Batch *b, Stats *st)
{
	for (size_t c = 0; c < b->ncmds; c++)
	{
		redisReply *r;

		if (conn_read(t->nodes[ni].conn, &r) < 0)
			return -1;
		if (r->type == REDIS_REPLY_INTEGER)
			count_deleted(st, b, c, r->integer);
		else if (r->type == REDIS_REPLY_ERROR &&
				 (strncmp(r->str, "MOVED ", 6) == 0 || strncmp(r->str, "ASK ", 4) == 0))
		{
			if (redirect(t, st, r->str, b, c) < 0)
			{
				freeReplyObject(r);
				return -1;
			}
		}
		else
		{
			seterr("Redis at %s:%d refused UNLINK: %s", t->nodes[ni].host, t->nodes[ni].port,
				   r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
			freeReplyObject(r);
			return -1;
		}
		freeReplyObject(r);
	}
	b->n = 0;
	b->used = 0;
	b->ncmds = 0;
	return 0;
}

/* The progress line on stderr, at most four times a second, when it is a terminal. */
static void
progress(const Topology *t, const Stats *st, bool final)
{
	double		n = now();

	if (!show_progress || (!final && n - last_progress < 0.25))
		return;
	last_progress = n;
	fprintf(stderr, "\rscanned %lld of about %lld keys, deleted %lld, %.0f keys/s   %s",
			st->scanned, t->dbsize, st->deleted,
			st->scanned / (n - start_time > 0 ? n - start_time : 1), final ? "\n" : "");
	fflush(stderr);
}

/* Sleep as long as --max-keys-per-second asks. */
static void
throttle(const Options *o, const Stats *st)
{
	double		due,
				n;

	if (o->max_keys_per_second <= 0)
		return;
	due = start_time + (double) st->scanned / o->max_keys_per_second;
	n = now();
	if (due > n)
	{
		struct timespec ts = {(time_t) (due - n), (long) ((due - n - (time_t) (due - n)) * 1e9)};

		nanosleep(&ts, NULL);
	}
}

/*
 * Walk one node's keyspace: each round trip carries the UNLINKs of the last
 * page and the SCAN of the next, so deletes never cost a round trip of their
 * own; memory holds one page.
 */
static int
scan_node(Topology *t, int ni, const Classifier *cl, const Options *o, Stats *st)
{
	char		cursor[32] = "0";
	char		count[32];
	Batch		b = {0};
	bool		first = true;
	long		page = o->scan_count;

	if (o->max_keys_per_second > 0 && page > o->max_keys_per_second / 4 + 1)
		page = o->max_keys_per_second / 4 + 1;
	snprintf(count, sizeof(count), "%ld", page);
	while (first || strcmp(cursor, "0") != 0 || b.n > 0)
	{
		RConn	   *c = t->nodes[ni].conn;
		bool		scan = first || strcmp(cursor, "0") != 0;
		redisReply *r = NULL;

		batch_group(&b);
		for (size_t i = 0; i < b.ncmds; i++)
			if (append_unlink(c, &b, i, false) < 0)
				return -1;
		if (scan)
		{
			const char *argv[4] = {"SCAN", cursor, "COUNT", count};
			size_t		lens[4] = {4, strlen(cursor), 5, strlen(count)};

			if (conn_append(c, 4, argv, lens) < 0)
				return -1;
		}
		if (conn_flush(c) < 0 || read_unlinks(t, ni, &b, st) < 0)
			return -1;
		first = false;
		if (!scan)
			break;
		c = t->nodes[ni].conn;
		if (conn_read(c, &r) < 0)
			return -1;
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
			r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_ARRAY ||
			r->element[0]->len >= sizeof(cursor))
		{
			seterr("Redis at %s:%d refused SCAN: %s", c->host, c->port,
				   r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
			freeReplyObject(r);
			return -1;
		}
		memcpy(cursor, r->element[0]->str, r->element[0]->len);
		cursor[r->element[0]->len] = 0;
		for (size_t i = 0; i < r->element[1]->elements; i++)
		{
			redisReply *k = r->element[1]->element[i];
			IdEntry    *tenant;
			KeyCategory cat = classify_key(cl, k->str, k->len, &tenant);

			st->scanned++;
			st->category[cat]++;
			sample(st, cat, k->str, k->len);
			if (cat == KEY_PURGED)
				tenant->matched++;
			if (o->execute && (cat == KEY_PURGED || cat == KEY_ORPHAN))
				batch_add(&b, k->str, k->len, tenant,
						  t->cluster ? cluster_key_slot(k->str, k->len) : 0);
		}
		freeReplyObject(r);
		progress(t, st, false);
		throttle(o, st);
	}
	free(b.arena);
	free(b.off);
	free(b.len);
	free(b.tenant);
	free(b.slot);
	free(b.order);
	free(b.cmd_start);
	free(b.cmd_n);
	return 0;
}

/* " (e.g. k1, k2, k3)" for a category, and the end of the line. */
static void
print_samples(const Stats *st, KeyCategory cat)
{
	for (int i = 0; i < st->nsamples[cat]; i++)
	{
		fputs(i ? ", " : " (e.g. ", stdout);
		print_key(stdout, st->samples[cat][i], st->sample_len[cat][i], 120);
	}
	if (st->nsamples[cat])
		fputs(")", stdout);
	fputs("\n", stdout);
}

/* The report for people. */
static void
report_text(const Options *o, const Topology *t, const IdSet *ids, const Journal *j,
			const Stats *st, long tenants_with_keys, long marked, double secs)
{
	long long	matched = st->category[KEY_PURGED] + st->category[KEY_ORPHAN];

	printf("tenant_guard_redis: %s\n", o->execute ? "clean-up" : "dry run (nothing deleted; --execute deletes)");
	printf("redis: %s, about %lld keys\n",
		   t->cluster ? "cluster" : "standalone server", t->dbsize);
	if (t->cluster)
		printf("primaries scanned: %d\n", t->n);
	printf("purged tenants waiting for their clean-up: %zu (journal rows: %zu)\n", ids->npending, j->n);
	printf("keys scanned: %lld in %.2f s (%.0f keys/s, %ld round trips)\n",
		   st->scanned, secs, secs > 0 ? st->scanned / secs : 0.0, conn_round_trips);
	printf("%s %lld keys of %ld purged tenants",
		   o->execute ? "deleted:" : "would delete:", o->execute ? st->deleted : matched,
		   tenants_with_keys);
	print_samples(st, KEY_PURGED);
	if (o->orphans)
	{
		printf("  of them orphans (pattern ids neither live nor protected): %lld", st->category[KEY_ORPHAN]);
		print_samples(st, KEY_ORPHAN);
	}
	if (o->execute && st->deleted != matched)
		printf("  (%lld matched; the others were gone before UNLINK)\n", matched);
	printf("kept: %lld keys\n",
		   st->category[KEY_PROTECTED] + st->category[KEY_LIVE] + st->category[KEY_UNKNOWN] +
		   st->category[KEY_NO_TENANT] + (o->orphans ? 0 : st->category[KEY_ORPHAN]));
	printf("  naming a protected tenant: %lld", st->category[KEY_PROTECTED]);
	print_samples(st, KEY_PROTECTED);
	printf("  naming a live tenant: %lld", st->category[KEY_LIVE]);
	print_samples(st, KEY_LIVE);
	printf("  naming only ids that wait for no clean-up: %lld", st->category[KEY_UNKNOWN]);
	print_samples(st, KEY_UNKNOWN);
	printf("  naming no tenant: %lld", st->category[KEY_NO_TENANT]);
	print_samples(st, KEY_NO_TENANT);
	if (o->execute)
		printf("journal rows marked cleaned: %ld\n", marked);
	else
		printf("journal: unchanged (a dry run marks nothing)\n");
}

/* The report for automation: one JSON object. */
static void
report_json(const Options *o, const Topology *t, const IdSet *ids, const Journal *j,
			const Stats *st, long tenants_with_keys, long marked, double secs)
{
	printf("{\"mode\":\"%s\",\"cluster\":%s,\"primaries\":%d,\"dbsize\":%lld,"
		   "\"tenants_pending\":%zu,\"journal_rows_pending\":%zu,\"scanned\":%lld,"
		   "\"matched\":%lld,\"deleted\":%lld,\"tenants_with_keys\":%ld,\"kept\":{",
		   o->execute ? "execute" : "dry-run", t->cluster ? "true" : "false", t->n, t->dbsize,
		   ids->npending, j->n, st->scanned,
		   st->category[KEY_PURGED] + (o->orphans ? st->category[KEY_ORPHAN] : 0),
		   st->deleted, tenants_with_keys);
	for (int c = KEY_PROTECTED; c < KEY_NCATEGORIES; c++)
		printf("%s\"%s\":%lld", c == KEY_PROTECTED ? "" : ",", key_category_names[c], st->category[c]);
	printf("},\"orphans\":%lld,\"tenants_marked_cleaned\":%ld,\"redirects\":%lld,"
		   "\"round_trips\":%ld,\"seconds\":%.3f}\n",
		   o->orphans ? st->category[KEY_ORPHAN] : 0, marked, st->redirects, conn_round_trips, secs);
}

/* Read the database, walk the keyspace, mark the journal. */
int
main(int argc, char **argv)
{
	Options		o;
	RedisUrl	url;
	ConnOptions co = {0};
	Classifier	cl = {0};
	IdSet		ids;
	Journal		journal = {0};
	Topology	topo;
	Stats		st = {0};
	PGconn	   *db;
	long		marked = 0,
				tenants_with_keys = 0;
	double		secs;

	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	/* a server that closes the connection is an error reply, not a signal */
	signal(SIGPIPE, SIG_IGN);
	parse_options(argc, argv, &o);
	if (url_parse(o.redis, &url) < 0)
		die(EXIT_USAGE, lasterr());
	if (url.password && scrub_argv_password(argc, argv, o.redis))
		fputs("tenant_guard_redis: WARNING: a password on the command line is visible to every local user; "
			  "put the URL in TENANT_GUARD_REDIS_URL\n", stderr);
	cl.patterns = xcalloc(o.npatterns + 1, sizeof(KeyPattern));
	for (int i = 0; i < o.npatterns; i++)
		if (pattern_compile(o.patterns[i], &cl.patterns[i]) < 0)
			die(EXIT_USAGE, lasterr());
	cl.npatterns = o.npatterns;
	cl.orphans = o.orphans;
	if ((o.cacert || o.insecure || o.cert) && !url.tls)
		die(EXIT_USAGE, "--cacert, --cert and --insecure are for rediss:// URLs only");
	if (o.insecure)
		fputs("tenant_guard_redis: WARNING: --insecure: the Redis server's certificate and host name are NOT checked; "
			  "anyone on the network path can read the password and the keys\n", stderr);

	/* the database first: a role that may not do this fails before any Redis work */
	idset_init(&ids);
	cl.ids = &ids;
	if ((db = db_connect(o.db)) == NULL || db_load(db, &ids, &journal) < 0)
		die(EXIT_RUN, lasterr());
	if (!ids.all_uuid && o.npatterns == 0)
	{
		char		msg[512];

		snprintf(msg, sizeof(msg),
				 "tenant ids are not UUIDs (e.g. \"%.60s\"): say where keys hold them with --key-pattern 'tenant:{id}:*'",
				 ids.non_uuid);
		die(EXIT_USAGE, msg);
	}

	co.tls = url.tls;
	co.insecure = o.insecure;
	co.cacert = o.cacert;
	co.cert = o.cert;
	co.key = o.key;
	co.user = url.user;
	co.password = url.password;
	co.db = url.db;
	co.timeout_ms = (int) o.timeout_s * 1000;
	if (co.tls && conn_tls_init(&co) < 0)
		die(EXIT_RUN, lasterr());
	start_time = now();
	show_progress = isatty(2);
	if (topology_open(&topo, url.host, url.port, &co) < 0)
		die(EXIT_RUN, lasterr());

	/* nothing pending and no orphans wanted: no need to walk the keyspace */
	if (ids.npending > 0 || o.orphans)
		for (int i = 0; i < topo.n; i++)
			if (scan_node(&topo, i, &cl, &o, &st) < 0)
				die(EXIT_RUN, lasterr());
	progress(&topo, &st, true);
	/*
	 * Slots that moved during the pass (resharding, failover) may have taken
	 * keys to a primary already scanned: then nothing is marked.
	 */
	if (topo.cluster && (ids.npending > 0 || o.orphans))
	{
		int			changed = topology_changed(&topo);

		if (changed < 0)
			die(EXIT_RUN, lasterr());
		if (changed || st.redirects > 0)
			die(EXIT_RUN, "the cluster's slots moved during the pass (resharding or failover): keys may have moved to a primary "
				"already scanned, so nothing is marked; run it again once the cluster is stable");
	}
	for (size_t i = 0; i < ids.cap; i++)
		if (ids.slots[i].id && ids.slots[i].matched > 0)
			tenants_with_keys++;

	/* a complete pass without errors: the outbox rows are done */
	if (o.execute && journal.n > 0 && (marked = db_mark(db, &journal)) < 0)
		die(EXIT_RUN, lasterr());
	secs = now() - start_time;
	if (o.json)
		report_json(&o, &topo, &ids, &journal, &st, tenants_with_keys, marked, secs);
	else
		report_text(&o, &topo, &ids, &journal, &st, tenants_with_keys, marked, secs);
	topology_close(&topo);
	PQfinish(db);
	url_free(&url);
	return 0;
}
