/*
 * keys.c -- tenant ids in Redis keys: the id set, UUID tokens, {id} globs
 * and the decision for one key (the rules are in README, "Cleaning Redis")
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "report.h"
#include "xalloc.h"

const char *const key_category_names[KEY_NCATEGORIES] = {
	"purged", "orphan", "protected", "live", "unknown_tenant", "no_tenant"
};

/* FNV-1a */
static uint64_t
hash_bytes(const char *s, size_t len)
{
	uint64_t	h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++)
	{
		h ^= (unsigned char) s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* An empty id set. */
void
idset_init(IdSet *s)
{
	memset(s, 0, sizeof(*s));
	s->cap = 1024;
	s->slots = xcalloc(s->cap, sizeof(IdEntry));
	s->all_uuid = s->all_int = true;
}

/* The slot of id: its entry, or the empty slot where it belongs. */
static IdEntry *
idset_slot(const IdSet *s, const char *id, size_t len)
{
	size_t		i = hash_bytes(id, len) & (s->cap - 1);

	while (s->slots[i].id &&
		   !(s->slots[i].len == len && memcmp(s->slots[i].id, id, len) == 0))
		i = (i + 1) & (s->cap - 1);
	return &s->slots[i];
}

/* The entry of id, or NULL. */
IdEntry *
idset_find(const IdSet *s, const char *id, size_t len)
{
	IdEntry    *e = idset_slot(s, id, len);

	return e->id ? e : NULL;
}

/* Add id with flags (or add the flags to it). */
IdEntry *
idset_add(IdSet *s, const char *id, size_t len, uint8_t flags)
{
	IdEntry    *e;

	if ((s->n + 1) * 2 > s->cap)
	{
		IdEntry    *old = s->slots;
		size_t		oldcap = s->cap;

		s->cap *= 2;
		s->slots = xcalloc(s->cap, sizeof(IdEntry));
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].id)
				*idset_slot(s, old[i].id, old[i].len) = old[i];
		free(old);
	}
	e = idset_slot(s, id, len);
	if (e->id == NULL)
	{
		bool		digits = len > 0;

		e->id = xmalloc(len + 1);
		memcpy(e->id, id, len);
		e->id[len] = 0;
		e->len = (uint32_t) len;
		s->n++;
		for (size_t i = 0; i < len; i++)
			if (!isdigit((unsigned char) id[i]) && !(i == 0 && id[i] == '-' && len > 1))
				digits = false;
		if (!digits)
			s->all_int = false;
		if (!is_uuid(id, len))
		{
			s->all_uuid = false;
			if (!s->non_uuid)
				s->non_uuid = e->id;
		}
	}
	if ((flags & ID_PENDING) && !(e->flags & ID_PENDING))
		s->npending++;
	e->flags |= flags;
	return e;
}

/* 8-4-4-4-12 hexadecimal digits (either case). */
bool
is_uuid(const char *s, size_t len)
{
	if (len != 36)
		return false;
	for (size_t i = 0; i < 36; i++)
	{
		if (i == 8 || i == 13 || i == 18 || i == 23)
		{
			if (s[i] != '-')
				return false;
		}
		else if (!isxdigit((unsigned char) s[i]))
			return false;
	}
	return true;
}

/* Does glob p (Redis's syntax: * ? [...] \x) match all of s? */
static bool
glob_match(const char *p, const char *s, const char *se)
{
	while (*p)
	{
		switch (*p)
		{
			case '*':
				while (p[1] == '*')
					p++;
				if (p[1] == 0)
					return true;
				for (const char *t = s; t <= se; t++)
					if (glob_match(p + 1, t, se))
						return true;
				return false;
			case '?':
				if (s == se)
					return false;
				s++;
				p++;
				break;
			case '[':
				{
					bool		neg,
								hit = false;

					if (s == se)
						return false;
					p++;
					neg = (*p == '^');
					if (neg)
						p++;
					while (*p && *p != ']')
					{
						if (*p == '\\' && p[1])
						{
							p++;
							hit |= (*p == *s);
						}
						else if (p[1] == '-' && p[2] && p[2] != ']')
						{
							unsigned char lo = *p,
										hi = p[2],
										c = *s;

							hit |= (c >= lo && c <= hi);
							p += 2;
						}
						else
							hit |= (*p == *s);
						p++;
					}
					if (*p == ']')
						p++;
					if (hit == neg)
						return false;
					s++;
					break;
				}
			case '\\':
				if (p[1])
					p++;
				/* FALLTHROUGH */
			default:
				if (s == se || *p != *s)
					return false;
				s++;
				p++;
				break;
		}
	}
	return s == se;
}

/* Split a --key-pattern at its {id}. */
int
pattern_compile(const char *text, KeyPattern *p)
{
	const char *at = strstr(text, "{id}");

	if (at == NULL || strstr(at + 4, "{id}") != NULL)
	{
		seterr("bad --key-pattern \"%s\": it must hold exactly one {id}, e.g. 'tenant:{id}:*'", text);
		return -1;
	}
	p->prefix = strndup(text, at - text);
	p->suffix = xstrdup(at + 4);
	p->literal_prefix = strpbrk(p->prefix, "*?[\\") == NULL;
	return 0;
}

/*
 * The id a pattern finds in a key: the shortest non-empty {id} with which
 * the whole key matches (so 'tenant:{id}:*' reads 42 in tenant:42:a:b).
 */
static bool
pattern_capture(const KeyPattern *p, const char *key, size_t len,
				const char **id, size_t *idlen)
{
	const char *end = key + len;
	size_t		plen = strlen(p->prefix);

	for (const char *start = key; start < end; start++)
	{
		if (p->literal_prefix)
		{
			if (len <= plen || memcmp(key, p->prefix, plen) != 0)
				return false;
			start = key + plen;
		}
		else
		{
			/* glob_match wants a terminated pattern and a bounded subject */
			if (!glob_match(p->prefix, key, start))
				continue;
		}
		for (const char *stop = start + 1; stop <= end; stop++)
			if (glob_match(p->suffix, stop, end))
			{
				*id = start;
				*idlen = stop - start;
				return true;
			}
		if (p->literal_prefix)
			return false;
	}
	return false;
}

/* Does id look like a tenant id of the kind the database has? */
static bool
id_shaped(const IdSet *s, const char *id, size_t len)
{
	if (s->all_uuid)
		return is_uuid(id, len);
	if (s->all_int)
	{
		for (size_t i = 0; i < len; i++)
			if (!isdigit((unsigned char) id[i]))
				return false;
		return len > 0;
	}
	return len > 0;
}

/* Look one id up; fold its flags into *flags, remember the first pending one. */
static void
note_id(const IdSet *s, const char *id, size_t len, uint8_t *flags, IdEntry **pending)
{
	char		lower[36];
	IdEntry    *e;

	if (len == 36 && is_uuid(id, len))
	{
		/* uuid's text output is lower case; keys may spell it otherwise */
		for (int i = 0; i < 36; i++)
			lower[i] = (char) tolower((unsigned char) id[i]);
		id = lower;
	}
	e = idset_find(s, id, len);
	if (e == NULL)
		return;
	*flags |= e->flags;
	if ((e->flags & ID_PENDING) && *pending == NULL)
		*pending = e;
}

/* What happens to one key (the rules: README, "Cleaning Redis"). */
KeyCategory
classify_key(const Classifier *c, const char *key, size_t len, IdEntry **tenant)
{
	uint8_t		flags = 0;
	IdEntry    *pending = NULL;
	bool		named = false,
				orphan = false;

	*tenant = NULL;
	/* every UUID-shaped token, delimited by non-alphanumerics */
	for (size_t i = 0; i + 36 <= len; i++)
	{
		if (!isxdigit((unsigned char) key[i]) || (i > 0 && isalnum((unsigned char) key[i - 1])))
			continue;
		if (is_uuid(key + i, 36) && (i + 36 == len || !isalnum((unsigned char) key[i + 36])))
		{
			named = true;
			note_id(c->ids, key + i, 36, &flags, &pending);
			i += 35;
		}
	}
	/* the ids in the patterns' {id} positions */
	for (int p = 0; p < c->npatterns; p++)
	{
		const char *id;
		size_t		idlen;
		uint8_t		f = 0;
		IdEntry    *dummy = NULL;

		if (!pattern_capture(&c->patterns[p], key, len, &id, &idlen))
			continue;
		named = true;
		/* integer keys: 007 is tenant 7 */
		if (c->ids->all_int)
			while (idlen > 1 && *id == '0')
				id++, idlen--;
		note_id(c->ids, id, idlen, &f, pending ? &dummy : &pending);
		if (f == 0 && id_shaped(c->ids, id, idlen))
			orphan = true;
		flags |= f;
	}
	if (flags & ID_PROTECTED)
		return KEY_PROTECTED;
	if (flags & ID_LIVE)
		return KEY_LIVE;
	if (flags & ID_PENDING)
	{
		*tenant = pending;
		return KEY_PURGED;
	}
	if (orphan && c->orphans)
		return KEY_ORPHAN;
	return named ? KEY_UNKNOWN : KEY_NO_TENANT;
}
