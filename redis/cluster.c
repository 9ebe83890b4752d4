/*
 * cluster.c -- find what to scan: a standalone server, or (INFO cluster
 * says cluster_enabled:1) every primary of the cluster from CLUSTER SLOTS,
 * refusing a cluster whose slots are not all served
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "report.h"
#include "xalloc.h"

#define CLUSTER_SLOTS 16384

/* A command that must not fail; NULL and seterr() otherwise. */
static redisReply *
must_call(RConn *c, int argc, const char **argv, int type)
{
	redisReply *r = conn_call(c, argc, argv);

	if (r == NULL)
		return NULL;
	if (r->type == REDIS_REPLY_ERROR)
	{
		if (strncmp(r->str, "NOAUTH", 6) == 0)
			seterr("Redis at %s:%d wants a password: put it in TENANT_GUARD_REDIS_URL (redis://user:password@host)",
				   c->host, c->port);
		else
			seterr("Redis at %s:%d refused %s: %s", c->host, c->port, argv[0], r->str);
		freeReplyObject(r);
		return NULL;
	}
	if (r->type != type)
	{
		seterr("unexpected reply to %s from Redis at %s:%d", argv[0], c->host, c->port);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/* Add a node (not connected yet) unless it is there. */
static Node *
add_node(Topology *t, const char *host, int port)
{
	for (int i = 0; i < t->n; i++)
		if (t->nodes[i].port == port && strcmp(t->nodes[i].host, host) == 0)
			return &t->nodes[i];
	t->nodes = xrealloc(t->nodes, (t->n + 1) * sizeof(Node));
	t->nodes[t->n].host = xstrdup(host);
	t->nodes[t->n].port = port;
	t->nodes[t->n].conn = NULL;
	return &t->nodes[t->n++];
}

/* Refuse a replica: it cannot delete, and its keys are its primary's. */
static int
check_role_and_size(Topology *t, Node *node)
{
	const char *info[2] = {"INFO", "replication"};
	const char *dbsize[1] = {"DBSIZE"};
	redisReply *r = must_call(node->conn, 2, info, REDIS_REPLY_STRING);

	if (r == NULL)
		return -1;
	if (strstr(r->str, "role:slave") != NULL)
	{
		seterr("Redis at %s:%d is a replica: point --redis at the primary", node->host, node->port);
		freeReplyObject(r);
		return -1;
	}
	freeReplyObject(r);
	if ((r = must_call(node->conn, 1, dbsize, REDIS_REPLY_INTEGER)) == NULL)
		return -1;
	t->dbsize += r->integer;
	freeReplyObject(r);
	return 0;
}

/* qsort comparator for C strings */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* "start-end host:port" per slot range of a CLUSTER SLOTS reply, sorted, joined. */
static char *
slots_signature(const redisReply *r)
{
	char	  **lines = xcalloc(r->elements + 1, sizeof(char *));
	size_t		n = 0,
				total = 1;
	char	   *sig;

	for (size_t i = 0; i < r->elements; i++)
	{
		const redisReply *range = r->element[i];
		const redisReply *primary;
		char		buf[320];

		if (range->type != REDIS_REPLY_ARRAY || range->elements < 3 ||
			range->element[2]->type != REDIS_REPLY_ARRAY || range->element[2]->elements < 2)
			continue;
		primary = range->element[2];
		snprintf(buf, sizeof(buf), "%lld-%lld %.256s:%lld;", range->element[0]->integer,
				 range->element[1]->integer,
				 primary->element[0]->type == REDIS_REPLY_STRING ? primary->element[0]->str : "",
				 primary->element[1]->integer);
		lines[n] = xstrdup(buf);
		total += strlen(buf);
		n++;
	}
	qsort(lines, n, sizeof(char *), cmp_str);
	sig = xcalloc(total, 1);
	for (size_t i = 0; i < n; i++)
	{
		strcat(sig, lines[i]);
		free(lines[i]);
	}
	free(lines);
	return sig;
}

/* Compare CLUSTER SLOTS now with what topology_open() saw. */
int
topology_changed(Topology *t)
{
	const char *slots[2] = {"CLUSTER", "SLOTS"};
	redisReply *r;
	char	   *sig;
	int			changed;

	if (!t->cluster)
		return 0;
	if ((r = must_call(t->nodes[0].conn, 2, slots, REDIS_REPLY_ARRAY)) == NULL)
		return -1;
	sig = slots_signature(r);
	freeReplyObject(r);
	changed = strcmp(sig, t->slots_sig) != 0;
	free(sig);
	return changed;
}

/* Find and connect to what must be scanned; -1 and seterr() on failure. */
int
topology_open(Topology *t, const char *host, int port, const ConnOptions *o)
{
	const char *info[2] = {"INFO", "cluster"};
	const char *cinfo[2] = {"CLUSTER", "INFO"};
	const char *slots[2] = {"CLUSTER", "SLOTS"};
	RConn	   *first;
	redisReply *r;
	long		covered = 0;

	memset(t, 0, sizeof(*t));
	t->opts = o;
	if ((first = conn_open(host, port, o)) == NULL)
		return -1;
	if ((r = must_call(first, 2, info, REDIS_REPLY_STRING)) == NULL)
		goto fail;
	t->cluster = strstr(r->str, "cluster_enabled:1") != NULL;
	freeReplyObject(r);
	if (!t->cluster)
	{
		Node	   *n = add_node(t, host, port);

		n->conn = first;
		return check_role_and_size(t, n);
	}
	if (o->db != 0)
	{
		seterr("Redis at %s:%d is a cluster node: a cluster has only database 0 (drop /%d from the URL)",
			   host, port, o->db);
		goto fail;
	}
	if ((r = must_call(first, 2, cinfo, REDIS_REPLY_STRING)) == NULL)
		goto fail;
	if (strstr(r->str, "cluster_state:ok") == NULL)
	{
		seterr("the Redis cluster at %s:%d is not in state ok (CLUSTER INFO): fix the cluster first; a partial clean-up is refused",
			   host, port);
		freeReplyObject(r);
		goto fail;
	}
	freeReplyObject(r);
	if ((r = must_call(first, 2, slots, REDIS_REPLY_ARRAY)) == NULL)
		goto fail;
	t->slots_sig = slots_signature(r);
	for (size_t i = 0; i < r->elements; i++)
	{
		redisReply *range = r->element[i];
		redisReply *primary;
		const char *h;

		if (range->type != REDIS_REPLY_ARRAY || range->elements < 3 ||
			range->element[2]->type != REDIS_REPLY_ARRAY || range->element[2]->elements < 2)
			continue;
		primary = range->element[2];
		covered += range->element[1]->integer - range->element[0]->integer + 1;
		/* an empty or unknown address: the node we asked */
		h = (primary->element[0]->type == REDIS_REPLY_STRING && primary->element[0]->len > 0 &&
			 strcmp(primary->element[0]->str, "?") != 0) ? primary->element[0]->str : host;
		add_node(t, h, (int) primary->element[1]->integer);
	}
	freeReplyObject(r);
	conn_close(first);
	first = NULL;
	if (covered != CLUSTER_SLOTS)
	{
		seterr("the Redis cluster serves %ld of %d slots: fix the cluster first; a partial clean-up is refused",
			   covered, CLUSTER_SLOTS);
		return -1;
	}
	for (int i = 0; i < t->n; i++)
	{
		if ((t->nodes[i].conn = conn_open(t->nodes[i].host, t->nodes[i].port, o)) == NULL)
			return -1;
		if (check_role_and_size(t, &t->nodes[i]) < 0)
			return -1;
	}
	return 0;
fail:
	conn_close(first);
	return -1;
}

/* A node by address, connected on first use (redirection targets). */
Node *
topology_node(Topology *t, const char *host, int port)
{
	Node	   *n = add_node(t, host, port);

	if (n->conn == NULL && (n->conn = conn_open(host, port, t->opts)) == NULL)
		return NULL;
	return n;
}

/* Close every connection. */
void
topology_close(Topology *t)
{
	for (int i = 0; i < t->n; i++)
	{
		conn_close(t->nodes[i].conn);
		free(t->nodes[i].host);
	}
	free(t->nodes);
	free(t->slots_sig);
	memset(t, 0, sizeof(*t));
}

/* CRC16-CCITT (XMODEM), as Redis Cluster hashes keys. */
static unsigned
crc16(const char *buf, size_t len)
{
	unsigned	crc = 0;

	for (size_t i = 0; i < len; i++)
	{
		crc ^= (unsigned) (unsigned char) buf[i] << 8;
		for (int bit = 0; bit < 8; bit++)
			crc = (crc & 0x8000) ? ((crc << 1) ^ 0x1021) : (crc << 1);
		crc &= 0xffff;
	}
	return crc;
}

/* The slot Redis Cluster puts a key in. */
int
cluster_key_slot(const char *key, size_t len)
{
	const char *open = memchr(key, '{', len);

	if (open)
	{
		const char *close = memchr(open + 1, '}', len - (open + 1 - key));

		/* a non-empty {tag}: only it is hashed */
		if (close && close > open + 1)
			return (int) (crc16(open + 1, close - open - 1) & (CLUSTER_SLOTS - 1));
	}
	return (int) (crc16(key, len) & (CLUSTER_SLOTS - 1));
}
