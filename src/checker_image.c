/*-------------------------------------------------------------------------
 *
 * checker_image.c
 *	  The compiled e-mail domain list as one position-independent block of
 *	  bytes, so that it can be compiled once into shared memory and read
 *	  in place by every backend (rules_shmem.c).  No PostgreSQL headers
 *	  (checker_int.h).
 *
 * An image is a header, the set's quick-reject filter, its slots and its
 * key arena, back to back; the slots hold offsets into the arena, never
 * pointers, so a view over the image is three pointers into it.  A view
 * is read-only and borrowed: tg_rules_free() leaves the block alone.
 *
 *-------------------------------------------------------------------------
 */
#include "checker_int.h"

#include <stdlib.h>
#include <string.h>

#define TG_IMAGE_MAGIC 0x54474431u	/* "TGD1" */

/* The header of an image; filter, slots and arena follow it. */
typedef struct TgSetImage
{
	uint32_t	magic;
	uint32_t	mask;			/* nslots - 1 */
	uint32_t	count;
	uint32_t	filter_bytes;
	uint64_t	arena_len;
} TgSetImage;

/* Bytes of the slots of a set with mask + 1 slots. */
static size_t
tg_image_slots_bytes(uint32_t mask)
{
	return ((size_t) mask + 1) * sizeof(TgSetSlot);
}

/* Bytes an image of the rules' domain list needs; 0 when it is empty. */
size_t
tg_rules_domains_image_size(const TgRules *rules)
{
	const TgSet *set = &rules->domains;

	if (set->slots == NULL || set->filter == NULL)
		return 0;
	return sizeof(TgSetImage) + TG_SET_FILTER_BITS / 8 +
		tg_image_slots_bytes(set->mask) + set->arena_len;
}

/* Write the image of the rules' domain list into dst (size bytes, as above). */
bool
tg_rules_domains_image_write(const TgRules *rules, void *dst, size_t size)
{
	const TgSet *set = &rules->domains;
	TgSetImage	hdr;
	char	   *p = dst;

	if (size == 0 || size != tg_rules_domains_image_size(rules))
		return false;
	hdr.magic = TG_IMAGE_MAGIC;
	hdr.mask = set->mask;
	hdr.count = set->count;
	hdr.filter_bytes = TG_SET_FILTER_BITS / 8;
	hdr.arena_len = set->arena_len;
	memcpy(p, &hdr, sizeof(hdr));
	p += sizeof(hdr);
	memcpy(p, set->filter, TG_SET_FILTER_BITS / 8);
	p += TG_SET_FILTER_BITS / 8;
	memcpy(p, set->slots, tg_image_slots_bytes(set->mask));
	p += tg_image_slots_bytes(set->mask);
	if (set->arena_len > 0)
		memcpy(p, set->arena, set->arena_len);
	return true;
}

/*
 * Make the rules read their domain list from an image (which must outlive
 * them), dropping the list they had.  False, changing nothing, when the
 * image is not one this code wrote (size may exceed the image: a mapping
 * rounded up).
 */
bool
tg_rules_use_domains_image(TgRules *rules, const void *img, size_t size)
{
	TgSetImage	hdr;
	const char *p = img;
	TgSet	   *set = &rules->domains;

	if (rules->is_builtin || img == NULL || size < sizeof(hdr))
		return false;
	memcpy(&hdr, p, sizeof(hdr));
	if (hdr.magic != TG_IMAGE_MAGIC || hdr.filter_bytes != TG_SET_FILTER_BITS / 8 ||
		((hdr.mask + 1) & hdr.mask) != 0 || hdr.count > hdr.mask ||
		size < sizeof(hdr) + hdr.filter_bytes + tg_image_slots_bytes(hdr.mask) +
		hdr.arena_len)
		return false;
	if (!set->borrowed)
	{
		free(set->filter);
		free(set->slots);
		free(set->arena);
	}
	set->filter = (uint8_t *) (p + sizeof(hdr));
	set->slots = (TgSetSlot *) (p + sizeof(hdr) + hdr.filter_bytes);
	set->arena = (char *) (p + sizeof(hdr) + hdr.filter_bytes +
						   tg_image_slots_bytes(hdr.mask));
	set->mask = hdr.mask;
	set->count = hdr.count;
	set->arena_len = (size_t) hdr.arena_len;
	set->arena_cap = 0;
	set->borrowed = true;
	/* verdicts cached under the old list do not hold under this one */
	if (rules->clean_domains != NULL)
		memset(rules->clean_domains->len, 0, sizeof(rules->clean_domains->len));
	return true;
}

/* How many domains the rules list (built-in and added). */
size_t
tg_rules_domain_count(const TgRules *rules)
{
	return rules->domains.count;
}
