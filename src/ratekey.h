/*-------------------------------------------------------------------------
 *
 * ratekey.h
 *	  The keys tenant-creation rate limits count by: the normalised e-mail
 *	  address and the client address prefix.
 *
 * Like checker.h this uses only the C standard library, so the rules can
 * be unit-tested on their own; ratelimit.c is the PostgreSQL glue.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_RATEKEY_H
#define TENANT_GUARD_RATEKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Internal to the library, as the declarations of checker.h are (called
 * directly, not through the PLT).  SQL-callable functions and _PG_init
 * are declared in the .c files and stay visible.
 */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(hidden)
#endif

/*
 * Normalise an e-mail address for counting: surrounding ASCII white space
 * removed, ASCII letters lower-cased, a "+tag" cut from the local part
 * (the part before the last "@"), one trailing dot of the domain dropped,
 * googlemail.com read as gmail.com, and for gmail.com the dots of the
 * local part removed.  A value without "@" is only trimmed and
 * lower-cased.
 *
 * out must have room for len bytes (the key is never longer than the
 * input); no terminator is written.  Returns the key length; 0 means the
 * value is empty (or white space only) and is not counted.
 */
extern size_t tg_email_key(const char *email, size_t len, char *out);

/*
 * The bytes of an IP address that a per-IP limit counts by: an IPv4
 * address (also written as IPv4-mapped IPv6, ::ffff:a.b.c.d) whole, an
 * IPv6 address by its /64 prefix, since one end user usually holds a whole
 * /64.  family is 4 or 6, addr the 4 or 16 address bytes.  out needs
 * TG_IP_KEY_MAX bytes; returns the key length.
 */
#define TG_IP_KEY_MAX 9
extern size_t tg_ip_key(int family, const unsigned char *addr, unsigned char *out);

/*
 * The 64-bit hash a key is counted under (the partition and the slot come
 * from it; the rate-limit file stores it).  Keys are short, so this reads
 * them 8 bytes at a time and mixes with MurmurHash3's finaliser: a few
 * dozen instructions where hash_bytes_extended() spent over a hundred per
 * tenant of a bulk insert.  seed separates key kinds and databases.
 */
extern uint64_t tg_key_hash(const void *key, size_t len, uint64_t seed);

/* The seed of tg_key_hash() for keys of a kind (1: IP, 2: e-mail) in a database. */
static inline uint64_t
tg_key_seed(unsigned kind, uint32_t dbid)
{
	return ((uint64_t) kind << 32 | dbid) * UINT64_C(0x9E3779B97F4A7C15);
}

/*
 * The shared structure's partitions (a power of 2): a key lives in
 * partition hash % TG_RATE_PARTITIONS.
 */
#define TG_RATE_PARTITIONS	16

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#endif							/* TENANT_GUARD_RATEKEY_H */
