/*
 * keys.h -- which tenants a Redis key names, and what to do with it
 *
 * No Redis, no database: the tenant ids (pending purged, protected, live)
 * in a hash set, UUID tokens and --key-pattern globs with one {id}.
 */
#ifndef TGR_KEYS_H
#define TGR_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ID_PENDING		1		/* purged, journal row not yet cleaned */
#define ID_PROTECTED	2
#define ID_LIVE			4

typedef struct IdEntry
{
	char	   *id;
	uint32_t	len;
	uint8_t		flags;
	int64_t		mark_row;		/* newest pending journal row of this id */
	int64_t		deleted;		/* its keys this run deleted */
	int64_t		matched;		/* keys that named it and were to go */
} IdEntry;

typedef struct IdSet
{
	IdEntry    *slots;
	size_t		cap;			/* power of two */
	size_t		n;
	size_t		npending;
	bool		all_uuid;		/* every id is UUID-shaped */
	bool		all_int;		/* every id is a decimal integer */
	const char *non_uuid;		/* an example otherwise */
} IdSet;

/* what happens to a key */
typedef enum KeyCategory
{
	KEY_PURGED,					/* names a pending purged tenant only: delete */
	KEY_ORPHAN,					/* --orphans: a pattern's id nobody knows: delete */
	KEY_PROTECTED,				/* names a protected tenant: keep */
	KEY_LIVE,					/* names a live tenant: keep */
	KEY_UNKNOWN,				/* names only ids that are not pending: keep */
	KEY_NO_TENANT,				/* names no tenant id: keep */
	KEY_NCATEGORIES
} KeyCategory;

extern const char *const key_category_names[KEY_NCATEGORIES];

typedef struct KeyPattern
{
	char	   *prefix;			/* glob before {id} */
	char	   *suffix;			/* glob after {id} */
	bool		literal_prefix; /* prefix has no glob characters */
} KeyPattern;

typedef struct Classifier
{
	IdSet	   *ids;
	KeyPattern *patterns;
	int			npatterns;
	bool		orphans;
} Classifier;

void		idset_init(IdSet *s);
/* add id with flags; the entry pointer is valid until the next add */
IdEntry    *idset_add(IdSet *s, const char *id, size_t len, uint8_t flags);
IdEntry    *idset_find(const IdSet *s, const char *id, size_t len);
bool		is_uuid(const char *s, size_t len);

/* compile 'tenant:{id}:*'; -1 and seterr() unless it holds exactly one {id} */
int			pattern_compile(const char *text, KeyPattern *p);

/* The category of a key; *tenant is the pending tenant it goes with (KEY_PURGED). */
KeyCategory classify_key(const Classifier *c, const char *key, size_t len, IdEntry **tenant);

#endif
