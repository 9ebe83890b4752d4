/*-------------------------------------------------------------------------
 *
 * guc.c
 *	  tenant_guard's configuration variables and who may change them.
 *
 * tenant_guard.mode is USERSET so that any role may (re)state "enforce",
 * but its check hook refuses any other value unless the role setting it
 * is a superuser or has the privileges of tenant_guard_admin.  The check
 * runs for values a session supplies (SET, set_config(), function SET
 * clauses, connection options) and when ALTER ROLE/DATABASE ... SET is
 * validated; values already stored by ALTER ROLE/DATABASE or in
 * postgresql.conf were placed by someone allowed to place them.
 *
 * tenant_guard.client_addr and tenant_guard.endpoint carry the request
 * context the application sets per transaction (SET LOCAL); they are
 * validated here so a bad value fails at SET time, not at INSERT time.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include <sys/socket.h>

#include "utils/inet.h"

#include "names.h"
#include "guc.h"

int			tg_mode = TG_MODE_ENFORCE;
char	   *tg_client_addr = NULL;
char	   *tg_endpoint = NULL;

static const struct config_enum_entry tg_mode_options[] = {
	{"enforce", TG_MODE_ENFORCE, false},
	{"log", TG_MODE_LOG, false},
	{"off", TG_MODE_OFF, false},
	{NULL, 0, false}
};

/* Is roleid a superuser or does it have tenant_guard_admin's privileges? */
bool
tg_is_admin(Oid roleid)
{
	Oid			admin;

	if (superuser_arg(roleid))
		return true;
	admin = get_role_oid(TG_ADMIN_ROLE, true);
	return OidIsValid(admin) && has_privs_of_role(roleid, admin);
}

/* Check hook of tenant_guard.mode: only admins may weaken the guard. */
static bool
tg_check_mode(int *newval, void **extra, GucSource source)
{
	(void) extra;
	if (*newval == TG_MODE_ENFORCE)
		return true;

	/* Stored settings and the config file were vetted when placed. */
	if (source < PGC_S_CLIENT)
		return true;

	/* A parallel worker only copies what its leader was allowed to set. */
	if (IsParallelWorker())
		return true;

	if (!IsTransactionState())
	{
		/* Cannot consult the catalogs: refuse rather than guess. */
		GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
		GUC_check_errmsg("tenant_guard.mode can only be relaxed inside a transaction");
		return false;
	}

	if (tg_is_admin(GetUserId()))
		return true;

	GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
	GUC_check_errmsg("permission denied to set tenant_guard.mode to \"%s\"",
					 *newval == TG_MODE_LOG ? "log" : "off");
	GUC_check_errdetail("Only superusers and members of role \"%s\" may switch the guard away from \"enforce\".",
						TG_ADMIN_ROLE);
	return false;
}

/* Check hook of tenant_guard.client_addr: empty or a valid inet. */
static bool
tg_check_client_addr(char **newval, void **extra, GucSource source)
{
	const char *s = *newval;
	unsigned char buf[16];
	int			family;
	int			bits;

	(void) extra;
	(void) source;

	if (s == NULL || s[0] == '\0')
		return true;

	/* the log stores up to this many bytes: a longer spelling would be cut */
	if (strlen(s) > TG_MAX_CLIENT_ADDR_LEN)
	{
		GUC_check_errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION);
		GUC_check_errmsg("tenant_guard.client_addr is too long");
		GUC_check_errdetail("The value has %zu bytes; at most %d are allowed.",
							strlen(s), TG_MAX_CLIENT_ADDR_LEN);
		return false;
	}

	family = strchr(s, ':') != NULL ? PGSQL_AF_INET6 : PGSQL_AF_INET;
	bits = pg_inet_net_pton(family, s, buf, -1);
	if (bits < 0 || bits > (family == PGSQL_AF_INET ? 32 : 128))
	{
		GUC_check_errcode(ERRCODE_INVALID_TEXT_REPRESENTATION);
		GUC_check_errmsg("invalid IP address for tenant_guard.client_addr: \"%s\"",
						 s);
		GUC_check_errhint("Set it to the end user's address, e.g. SET LOCAL tenant_guard.client_addr = '203.0.113.7', or to '' for none.");
		return false;
	}
	return true;
}

/* Check hook of tenant_guard.endpoint: bounded length. */
static bool
tg_check_endpoint(char **newval, void **extra, GucSource source)
{
	(void) extra;
	(void) source;
	if (*newval != NULL && strlen(*newval) > TG_MAX_ENDPOINT_LEN)
	{
		GUC_check_errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION);
		GUC_check_errmsg("tenant_guard.endpoint is too long");
		GUC_check_errdetail("The value has %zu bytes; at most %d are allowed.",
							strlen(*newval), TG_MAX_ENDPOINT_LEN);
		return false;
	}
	return true;
}

/* Define the core GUCs (_PG_init reserves the prefix once all are defined). */
void
tg_guc_init(void)
{
	DefineCustomEnumVariable("tenant_guard.mode",
							 "What the guard does with suspicious tenants.",
							 "enforce rejects them, log keeps them and writes a log row, off does nothing. Only superusers and members of tenant_guard_admin may choose log or off.",
							 &tg_mode,
							 TG_MODE_ENFORCE,
							 tg_mode_options,
							 PGC_USERSET,
							 0,
							 tg_check_mode, NULL, NULL);

	DefineCustomStringVariable("tenant_guard.client_addr",
							   "IP address of the end user behind the current request.",
							   "Set by the application per transaction; copied into log rows and used for per-IP rate limits. Empty means unknown.",
							   &tg_client_addr,
							   "",
							   PGC_USERSET,
							   0,
							   tg_check_client_addr, NULL, NULL);

	DefineCustomStringVariable("tenant_guard.endpoint",
							   "Application endpoint serving the current request, e.g. /api/tenants.",
							   "Set by the application per transaction; copied into log rows.",
							   &tg_endpoint,
							   "",
							   PGC_USERSET,
							   0,
							   tg_check_endpoint, NULL, NULL);
}
