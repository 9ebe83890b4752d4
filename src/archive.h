/*-------------------------------------------------------------------------
 *
 * archive.h
 *	  The purge's archive (archive.c), called by purge.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TENANT_GUARD_ARCHIVE_H
#define TENANT_GUARD_ARCHIVE_H

#include "postgres.h"

#include "purge_int.h"

/* Steps 4-7 of the purge, keeping the rows they delete. */
extern void tg_archive_run(TgPurge *p);

/* After the journal: write the archive rows. */
extern void tg_archive_write(TgPurge *p);

#endif							/* TENANT_GUARD_ARCHIVE_H */
