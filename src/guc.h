/*-------------------------------------------------------------------------
 *
 * guc.h
 *	  The general configuration variables (guc.c): tenant_guard.mode,
 *	  client_addr, endpoint, and who may change the guarded ones.  Modules
 *	  with GUCs of their own define them in their init functions.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_GUC_H
#define TENANT_GUARD_GUC_H

#include "postgres.h"

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(hidden)
#endif

/* Longest tenant_guard.client_addr: any address in any usual spelling. */
#define TG_MAX_CLIENT_ADDR_LEN (NAMEDATALEN - 1)

/* tenant_guard.mode */
typedef enum TgMode
{
	TG_MODE_ENFORCE = 0,
	TG_MODE_LOG,
	TG_MODE_OFF
} TgMode;

extern int	tg_mode;
extern char *tg_client_addr;
extern char *tg_endpoint;

/* Define the variables; called from _PG_init. */
extern void tg_guc_init(void);

/* Is roleid a superuser or a member of tenant_guard_admin? */
extern bool tg_is_admin(Oid roleid);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#endif							/* TENANT_GUARD_GUC_H */
