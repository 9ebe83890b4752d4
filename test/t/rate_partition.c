/*
 * rate_partition.c -- helper of 031_ratelimit_shared_partition.pl.
 *
 * Prints n e-mail addresses whose rate-limit keys fall into the same
 * partition of the shared table as the key of an IPv4 address, in the
 * database with the given OID: what ratelimit.c computes (the key hash of
 * ratekey.c, seeded with the key kind and the database), so that a test
 * can make one row reserve two events in one partition.
 *
 *	rate_partition DBOID IPV4 N
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratekey.h"

/* The partition of a key of kind (1: IP, 2: e-mail) in database dbid. */
static int
partition_of(unsigned kind, unsigned int dbid, const void *key, size_t len)
{
	return (int) (tg_key_hash(key, len, tg_key_seed(kind, dbid)) % TG_RATE_PARTITIONS);
}

int
main(int argc, char **argv)
{
	unsigned char addr[4];
	unsigned char key[TG_IP_KEY_MAX];
	unsigned int dbid;
	int			want;
	int			n;

	if (argc != 4 || inet_pton(AF_INET, argv[2], addr) != 1)
	{
		fprintf(stderr, "usage: rate_partition DBOID IPV4 N\n");
		return 2;
	}
	dbid = (unsigned int) strtoul(argv[1], NULL, 10);
	n = atoi(argv[3]);
	want = partition_of(1, dbid, key, tg_ip_key(4, addr, key));
	for (long i = 0; n > 0; i++)
	{
		char		email[64];
		char		norm[64];
		size_t		len;

		snprintf(email, sizeof(email), "buyer%ld@northwind.com", i);
		len = tg_email_key(email, strlen(email), norm, sizeof(norm));
		if (partition_of(2, dbid, norm, len) == want)
		{
			printf("%s\n", email);
			n--;
		}
	}
	return 0;
}
