/*
 * conn.h -- one connection to one Redis server: TCP or TLS, AUTH, SELECT,
 * pipelined commands formatted by hiredis and replies read by hiredis's
 * reader from the bytes this module reads itself
 */
#ifndef TGR_CONN_H
#define TGR_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <hiredis/hiredis.h>
#include <openssl/ssl.h>

typedef struct ConnOptions
{
	bool		tls;
	bool		insecure;		/* TLS without certificate and host name checks */
	const char *cacert;			/* NULL: the system's trust store */
	const char *cert;			/* client certificate (tls-auth-clients) */
	const char *key;
	const char *user;			/* AUTH user password (ACL) */
	const char *password;		/* AUTH password; NULL: no AUTH */
	int			db;				/* SELECT db unless 0 */
	int			timeout_ms;		/* connect and per-read timeout */
	SSL_CTX    *ssl_ctx;		/* made by conn_tls_init() */
} ConnOptions;

typedef struct RConn
{
	int			fd;
	SSL		   *ssl;
	redisReader *reader;
	char	   *host;
	int			port;
	char	   *wbuf;			/* commands not sent yet */
	size_t		wlen;
	size_t		wcap;
} RConn;

/* round trips (flushes followed by reading) over all connections */
extern long conn_round_trips;

int			conn_tls_init(ConnOptions *o);
RConn	   *conn_open(const char *host, int port, const ConnOptions *o);
void		conn_close(RConn *c);

/* queue one command; send the queue; read the next reply (caller frees it) */
int			conn_append(RConn *c, int argc, const char **argv, const size_t *lens);
int			conn_flush(RConn *c);
int			conn_read(RConn *c, redisReply **reply);

/* one command, one round trip; an error reply is returned as such */
redisReply *conn_call(RConn *c, int argc, const char **argv);

#endif
