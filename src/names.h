/*-------------------------------------------------------------------------
 *
 * names.h
 *	  Names every layer above the core shares: the extension's schema,
 *	  roles and tables, and the SQLSTATEs and messages applications see.
 *	  Constants only (the base of the PostgreSQL side; see tenant_guard.c
 *	  for the layers).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_NAMES_H
#define TENANT_GUARD_NAMES_H

#include "postgres.h"

/* Schema and objects the C code refers to. */
#define TG_SCHEMA			"tenant_guard"
#define TG_ADMIN_ROLE		"tenant_guard_admin"
#define TG_LOG_TABLE		"test_data_prevention_logs"
#define TG_PROTECTED_TABLE	"protected_tenants"
#define TG_GUARDED_TABLE	"guarded_tables"
#define TG_JOURNAL_TABLE	"purge_journal"
#define TG_TENANT_TABLES	"tenant_tables"

/*
 * SQLSTATEs of the errors applications see.  Class "TG" is ours; the
 * values are documented in README and must never change.
 *	  TG001: the row looks like test data (map to HTTP 400)
 *	  TG002: a tenant-creation rate limit was hit (map to HTTP 429)
 *	  TG003: the tenant is protected from deletion (map to HTTP 409)
 */
#define ERRCODE_TG_SUSPICIOUS_DATA	MAKE_SQLSTATE('T','G','0','0','1')
#define ERRCODE_TG_RATE_LIMITED		MAKE_SQLSTATE('T','G','0','0','2')
#define ERRCODE_TG_PROTECTED		MAKE_SQLSTATE('T','G','0','0','3')

/* The message applications show to end users: exact wording, keep it. */
#define TG_SUSPICIOUS_MESSAGE \
	"Suspicious request detected. Please use a real business name and email."

/* Longest endpoint accepted anywhere, in bytes. */
#define TG_MAX_ENDPOINT_LEN 1024

#endif							/* TENANT_GUARD_NAMES_H */
