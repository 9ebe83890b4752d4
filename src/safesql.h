/*-------------------------------------------------------------------------
 *
 * safesql.h
 *	  SQL the extension runs from C, safe from the caller's search_path:
 *	  the path pinned around SPI work, operators pinned to their input
 *	  types (safesql.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_SAFESQL_H
#define TENANT_GUARD_SAFESQL_H

#include "postgres.h"

/*
 * The functions that run SQL either say SET search_path = pg_catalog,
 * pg_temp in their definition or search only pg_catalog around their SQL
 * with tg_pin_search_path() / tg_unpin_search_path().
 */
extern void tg_pin_search_path(void);
extern void tg_unpin_search_path(void);

/*
 * search_path = pg_catalog, pg_temp as a setting, saved in the GUC nest
 * level the caller opened: for text that must read as the functions' own
 * SET clause has it (regclass, regtype ... names).
 */
extern void tg_set_catalog_search_path(void);

/* key text under pinned output settings (see safesql.c) */
extern int	tg_pin_key_output(void);
extern void tg_unpin_key_output(int nest);
extern bool tg_key_output_needs_pin(Oid typid);

extern Oid	tg_key_eq_operator(Oid keytype, const char *relname);
extern char *tg_eq_sql(Oid opoid, const char *lhs, const char *rhs);

#endif							/* TENANT_GUARD_SAFESQL_H */
