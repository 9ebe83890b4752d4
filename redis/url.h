/*
 * url.h -- redis:// and rediss:// URLs
 */
#ifndef TGR_URL_H
#define TGR_URL_H

#include <stdbool.h>

typedef struct RedisUrl
{
	bool		tls;			/* rediss:// */
	char	   *user;			/* NULL: none (AUTH with the password alone) */
	char	   *password;		/* NULL: no AUTH */
	char	   *host;
	int			port;
	int			db;
} RedisUrl;

/* Parse s into *u (percent-decoding user and password); -1 and seterr() if malformed. */
int			url_parse(const char *s, RedisUrl *u);
void		url_free(RedisUrl *u);

#endif
