/*-------------------------------------------------------------------------
 *
 * checker_simd.h
 *	  Reading short text 16 bytes at a time (SSE2), for the fast paths of
 *	  the deciding core: checker_fast.c (names, subdomains, local parts)
 *	  and checker_email.c (the shape of an address).  No PostgreSQL
 *	  headers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_CHECKER_SIMD_H
#define TENANT_GUARD_CHECKER_SIMD_H

#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/*
 * Longer text takes the full scan (real names, subdomains and local parts
 * are short; a DNS label is at most 63 bytes): one 64-bit mask per class,
 * whose top bit stays clear (a word's end is then always a 0 bit).
 */
#define TG_SCREEN_MAX 63

#ifdef __SSE2__
/*
 * 0xFF in the bytes of x from lo to hi (ASCII), else 0: shifted so that
 * the range starts at -128, one signed comparison finds it (bytes of 0x80
 * and more land above it).
 */
static inline __m128i
tg_screen_range(__m128i x, char lo, char hi)
{
	__m128i		shifted = _mm_add_epi8(x, _mm_set1_epi8((char) (-128 - lo)));

	return _mm_cmplt_epi8(shifted, _mm_set1_epi8((char) (-128 + (hi - lo) + 1)));
}

/*
 * The 0 < n < 16 bytes at p in the low bytes of a register, zeros above
 * them, read without touching a byte outside p[0..n): two overlapping
 * 8- or 4-byte loads, or (n < 4) the first, middle and last byte.
 */
static inline __m128i
tg_screen_load_short(const char *p, int n)
{
	uint64_t	lo = 0;
	uint64_t	hi = 0;

	if (n >= 8)
	{
		memcpy(&lo, p, 8);
		memcpy(&hi, p + n - 8, 8);
		hi = (hi >> 8) >> (8 * (15 - n));	/* bytes 8 .. n-1 */
	}
	else if (n >= 4)
	{
		uint32_t	a;
		uint32_t	b;

		memcpy(&a, p, 4);
		memcpy(&b, p + n - 4, 4);
		lo = a | ((uint64_t) b << (8 * (n - 4)));
	}
	else
		lo = (uint64_t) (unsigned char) p[0] |
			((uint64_t) (unsigned char) p[n >> 1] << (8 * (n >> 1))) |
			((uint64_t) (unsigned char) p[n - 1] << (8 * (n - 1)));
	return _mm_set_epi64x((long long) hi, (long long) lo);
}

/*
 * The 16-byte chunk of data[0..n), 0 < n <= TG_SCREEN_MAX, that starts at
 * byte *k, read in place and never past the end: the last chunk of a
 * longer text moves back to end with the text (overlapping the one
 * before it; a byte seen twice gets the same bits twice), a text shorter
 * than 16 bytes is read in two overlapping loads.  *k is set to where
 * the chunk starts; the next one starts 16 bytes on, none at n or more.
 */
static inline __m128i
tg_screen_load(const char *data, int n, int *k)
{
	if (n < 16)
	{
		*k = 0;
		return tg_screen_load_short(data, n);
	}
	if (*k + 16 > n)
		*k = n - 16;
	return _mm_loadu_si128((const __m128i *) (data + *k));
}
#endif							/* __SSE2__ */

#endif							/* TENANT_GUARD_CHECKER_SIMD_H */
