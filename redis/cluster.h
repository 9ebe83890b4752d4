/*
 * cluster.h -- the Redis servers to scan: one, or every primary of a cluster
 */
#ifndef TGR_CLUSTER_H
#define TGR_CLUSTER_H

#include <stdbool.h>

#include "conn.h"

typedef struct Node
{
	char	   *host;
	int			port;
	RConn	   *conn;
} Node;

typedef struct Topology
{
	bool		cluster;
	Node	   *nodes;			/* standalone: one; cluster: the primaries */
	int			n;
	long long	dbsize;			/* sum of DBSIZE (for the progress line) */
	char	   *slots_sig;		/* cluster: who serves which slots, at the start */
	const ConnOptions *opts;
} Topology;

/* Connect to host:port, detect a cluster (INFO cluster), connect to every primary. */
int			topology_open(Topology *t, const char *host, int port, const ConnOptions *o);

/* 1 if the cluster's slots moved since topology_open() (0 standalone), -1 on error. */
int			topology_changed(Topology *t);

/* The node at host:port, connected on first use (a MOVED / ASK target). */
Node	   *topology_node(Topology *t, const char *host, int port);

void		topology_close(Topology *t);

/* The cluster slot of a key (CRC16 of the key or its {hash tag}, mod 16384). */
int			cluster_key_slot(const char *key, size_t len);

#endif
