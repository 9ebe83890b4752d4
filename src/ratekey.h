/*-------------------------------------------------------------------------
 *
 * ratekey.h
 *	  The keys tenant-creation rate limits count by: the normalised e-mail
 *	  address and the client address prefix.
 *
 * Like checker.h this uses only the C standard library and ICU, so the
 * rules can be unit-tested on their own; ratelimit.c is the PostgreSQL
 * glue.  ratekey.c holds the ASCII fast path, the hash and the IP key;
 * ratekey_unicode.c the e-mail key of any other text, with the checker's
 * look-alike folding (checker_words.c).
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
 * Normalise an e-mail address for counting, so that every spelling of one
 * address gives one key and two different addresses never do:
 *	- surrounding white space removed, letters case-folded;
 *	- a "+tag" cut from the local part (the part before the last "@", from
 *	  its first "+" that is not its first character);
 *	- one trailing dot of the domain dropped, googlemail.com read as
 *	  gmail.com, and for gmail.com the dots of the local part removed;
 *	- look-alike spellings folded as the checker folds them (beyond ASCII,
 *	  see ratekey_unicode.c): invisible characters dropped, NFKC (fullwidth
 *	  "ｍ" is "m"), IDNA's mapping of a valid domain ("xn--" labels are
 *	  their Unicode form), and in a part not written in one non-Latin
 *	  script, letters with a Latin look-alike read as it (Cyrillic "а").
 * A value without "@" is normalised as one local part, without the +tag
 * rule.  Invalid UTF-8 bytes stay as they are.  Plain ASCII without "--"
 * (so without "xn--" labels) takes a fast path that gives the same key.
 *
 * Writes the key to out[0..outcap) (no terminator) and returns its length:
 * 0 when the value is empty (or blank, or invisible) and is not counted;
 * more than outcap when it did not fit, and then out holds nothing
 * useful: call again with that much room (the key may then be shorter).
 * An ASCII key is never longer than the input; for other input, a key may
 * be (NFKC expands some characters).  TG_EMAIL_KEY_NOMEM when memory for
 * the Unicode work could not be had.
 */
#define TG_EMAIL_KEY_NOMEM	SIZE_MAX
extern size_t tg_email_key(const char *email, size_t len, char *out, size_t outcap);

/* tg_email_key() without the ASCII fast path (ratekey_unicode.c). */
extern size_t tg_email_key_unicode(const char *email, size_t len, char *out,
								   size_t outcap);

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
