/*
 * conn.c -- sockets, TLS (OpenSSL) and the Redis protocol through hiredis's
 * command formatter and reply reader (hiredis 0.14 has no TLS, so this
 * module does the I/O and feeds the bytes to the reader)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "conn.h"
#include "report.h"
#include "xalloc.h"

long		conn_round_trips = 0;

/* The first OpenSSL error as text. */
static const char *
ssl_error(void)
{
	static char buf[256];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return "no details";
	ERR_error_string_n(e, buf, sizeof(buf));
	return buf;
}

/* Make the TLS context: verification against --cacert or the system store. */
int
conn_tls_init(ConnOptions *o)
{
	SSL_CTX    *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
	{
		seterr("cannot create a TLS context: %s", ssl_error());
		return -1;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (o->insecure)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	else
	{
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (o->cacert)
		{
			if (SSL_CTX_load_verify_locations(ctx, o->cacert, NULL) != 1)
			{
				seterr("cannot load the CA certificates in \"%s\": %s", o->cacert, ssl_error());
				goto fail;
			}
		}
		else if (SSL_CTX_set_default_verify_paths(ctx) != 1)
		{
			seterr("cannot load the system's CA certificates: %s", ssl_error());
			goto fail;
		}
	}
	if (o->cert || o->key)
	{
		if (!o->cert || !o->key)
		{
			seterr("--cert and --key go together");
			goto fail;
		}
		if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1 ||
			SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1 ||
			SSL_CTX_check_private_key(ctx) != 1)
		{
			seterr("cannot use the client certificate \"%s\" with key \"%s\": %s",
				   o->cert, o->key, ssl_error());
			goto fail;
		}
	}
	o->ssl_ctx = ctx;
	return 0;
fail:
	SSL_CTX_free(ctx);
	return -1;
}

/* Connect a TCP socket with a timeout; -1 and seterr() on failure. */
static int
tcp_connect(const char *host, int port, int timeout_ms)
{
	struct addrinfo hints = {0},
			   *res,
			   *ai;
	char		portstr[16];
	int			rc,
				fd = -1,
				err = 0;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if ((rc = getaddrinfo(host, portstr, &hints, &res)) != 0)
	{
		seterr("cannot resolve Redis host \"%s\": %s", host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next)
	{
		struct pollfd pfd;
		socklen_t	len = sizeof(err);

		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0)
		{
			err = errno;
			continue;
		}
		fcntl(fd, F_SETFL, O_NONBLOCK);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			err = 0;
		else if (errno != EINPROGRESS)
			err = errno;
		else
		{
			pfd.fd = fd;
			pfd.events = POLLOUT;
			rc = poll(&pfd, 1, timeout_ms);
			if (rc == 0)
				err = ETIMEDOUT;
			else if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
				err = errno;
		}
		if (err == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
	{
		seterr("cannot connect to Redis at %s:%d: %s", host, port, strerror(err));
		return -1;
	}
	fcntl(fd, F_SETFL, 0);
	{
		int			one = 1;
		struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	return fd;
}

/* TLS handshake, checking the certificate and the host name (or IP address). */
static int
tls_handshake(RConn *c, const ConnOptions *o)
{
	unsigned char addr[16];
	bool		is_ip = inet_pton(AF_INET, c->host, addr) == 1 ||
		inet_pton(AF_INET6, c->host, addr) == 1;

	c->ssl = SSL_new(o->ssl_ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
	{
		seterr("cannot set up TLS: %s", ssl_error());
		return -1;
	}
	if (!is_ip)
		SSL_set_tlsext_host_name(c->ssl, c->host);
	if (!o->insecure)
	{
		int			ok = is_ip ?
			X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), c->host) :
			SSL_set1_host(c->ssl, c->host);

		if (ok != 1)
		{
			seterr("cannot set up TLS host name verification: %s", ssl_error());
			return -1;
		}
	}
	ERR_clear_error();
	if (SSL_connect(c->ssl) != 1)
	{
		long		v = SSL_get_verify_result(c->ssl);

		if (v != X509_V_OK)
			seterr("TLS: the certificate of Redis at %s:%d is not trusted (%s): give --cacert FILE with the CA that signed it",
				   c->host, c->port, X509_verify_cert_error_string(v));
		else
			seterr("TLS handshake with Redis at %s:%d failed: %s (is it a TLS port? does it want a client certificate: --cert/--key?)",
				   c->host, c->port, ssl_error());
		return -1;
	}
	return 0;
}

/* Connect, TLS, AUTH and SELECT; NULL and seterr() on failure. */
RConn *
conn_open(const char *host, int port, const ConnOptions *o)
{
	RConn	   *c = xcalloc(1, sizeof(RConn));
	redisReply *r;

	c->fd = -1;
	c->host = xstrdup(host);
	c->port = port;
	c->reader = redisReaderCreate();
	if ((c->fd = tcp_connect(host, port, o->timeout_ms)) < 0)
		goto fail;
	if (o->tls && tls_handshake(c, o) < 0)
		goto fail;
	if (o->password)
	{
		const char *argv[3] = {"AUTH", o->user ? o->user : o->password, o->password};

		r = conn_call(c, o->user ? 3 : 2, argv);
		if (r == NULL)
			goto fail;
		if (r->type == REDIS_REPLY_ERROR)
		{
			seterr("Redis at %s:%d refused the %s: %s", host, port,
				   o->user ? "user name and password" : "password", r->str);
			freeReplyObject(r);
			goto fail;
		}
		freeReplyObject(r);
	}
	if (o->db != 0)
	{
		char		db[16];
		const char *argv[2] = {"SELECT", db};

		snprintf(db, sizeof(db), "%d", o->db);
		r = conn_call(c, 2, argv);
		if (r == NULL)
			goto fail;
		if (r->type == REDIS_REPLY_ERROR)
		{
			seterr("Redis at %s:%d refused SELECT %d: %s", host, port, o->db, r->str);
			freeReplyObject(r);
			goto fail;
		}
		freeReplyObject(r);
	}
	return c;
fail:
	conn_close(c);
	return NULL;
}

/* Close the connection (NULL is fine). */
void
conn_close(RConn *c)
{
	if (c == NULL)
		return;
	if (c->ssl)
	{
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->fd >= 0)
		close(c->fd);
	if (c->reader)
		redisReaderFree(c->reader);
	free(c->host);
	free(c->wbuf);
	free(c);
}

/* Queue one command (binary-safe arguments). */
int
conn_append(RConn *c, int argc, const char **argv, const size_t *lens)
{
	char	   *cmd;
	int			len = redisFormatCommandArgv(&cmd, argc, argv, lens);

	if (len < 0)
	{
		seterr("out of memory");
		return -1;
	}
	if (c->wlen + len > c->wcap)
	{
		c->wcap = (c->wlen + len) * 2;
		c->wbuf = xrealloc(c->wbuf, c->wcap);
	}
	memcpy(c->wbuf + c->wlen, cmd, len);
	c->wlen += len;
	redisFreeCommand(cmd);
	return 0;
}

/* Send every queued command; counts one round trip. */
int
conn_flush(RConn *c)
{
	size_t		off = 0;

	if (c->wlen == 0)
		return 0;
	while (off < c->wlen)
	{
		ssize_t		n;

		if (c->ssl)
		{
			n = SSL_write(c->ssl, c->wbuf + off, (int) (c->wlen - off));
			if (n <= 0)
			{
				seterr("cannot send to Redis at %s:%d: %s", c->host, c->port, ssl_error());
				return -1;
			}
		}
		else
		{
			n = send(c->fd, c->wbuf + off, c->wlen - off, MSG_NOSIGNAL);
			if (n < 0)
			{
				if (errno == EINTR)
					continue;
				seterr("cannot send to Redis at %s:%d: %s", c->host, c->port, strerror(errno));
				return -1;
			}
		}
		off += n;
	}
	c->wlen = 0;
	conn_round_trips++;
	return 0;
}

/* Read the next reply, reading from the socket as needed. */
int
conn_read(RConn *c, redisReply **reply)
{
	char		buf[64 * 1024];

	for (;;)
	{
		void	   *r = NULL;
		ssize_t		n;

		if (redisReaderGetReply(c->reader, &r) != REDIS_OK)
		{
			seterr("protocol error from Redis at %s:%d: %s", c->host, c->port, c->reader->errstr);
			return -1;
		}
		if (r)
		{
			*reply = r;
			return 0;
		}
		if (c->ssl)
		{
			n = SSL_read(c->ssl, buf, sizeof(buf));
			if (n <= 0)
			{
				int			e = SSL_get_error(c->ssl, (int) n);

				seterr("lost the connection to Redis at %s:%d: %s", c->host, c->port,
					   e == SSL_ERROR_ZERO_RETURN ? "closed by the server" :
					   (errno == EAGAIN ? "timed out" : ssl_error()));
				return -1;
			}
		}
		else
		{
			n = recv(c->fd, buf, sizeof(buf), 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
			{
				seterr("lost the connection to Redis at %s:%d: %s", c->host, c->port,
					   n == 0 ? "closed by the server" :
					   (errno == EAGAIN ? "timed out" : strerror(errno)));
				return -1;
			}
		}
		if (redisReaderFeed(c->reader, buf, n) != REDIS_OK)
		{
			seterr("protocol error from Redis at %s:%d", c->host, c->port);
			return -1;
		}
	}
}

/* One command, one round trip. */
redisReply *
conn_call(RConn *c, int argc, const char **argv)
{
	size_t		lens[16];
	redisReply *r;

	for (int i = 0; i < argc && i < 16; i++)
		lens[i] = strlen(argv[i]);
	if (conn_append(c, argc, argv, lens) < 0 || conn_flush(c) < 0 || conn_read(c, &r) < 0)
		return NULL;
	return r;
}
