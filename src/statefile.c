/*-------------------------------------------------------------------------
 *
 * statefile.c
 *	  What the files that carry shared-memory state across a restart
 *	  (rate-limit counts, the log queue) have in common: they are written
 *	  by the postmaster as it exits, only after a clean shutdown, to
 *	  "<file>.tmp" first and then renamed, so that a reader finds the whole
 *	  file or none.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_control.h"
#include "common/controldata_utils.h"
#include "miscadmin.h"
#include "storage/fd.h"

#include "statefile.h"

/*
 * Did the cluster shut down cleanly, so that shared memory can be saved?
 * After an immediate shutdown backends may have been killed in the middle
 * of a change, and the memory is not to be trusted; then a LOG line says
 * what (e.g. "its rate-limit counts") was not saved.
 */
bool
tg_statefile_shutdown_clean(const char *what)
{
	ControlFileData *control;
	bool		crc_ok;

	control = get_controlfile(DataDir, &crc_ok);
	if (crc_ok && (control->state == DB_SHUTDOWNED ||
				   control->state == DB_SHUTDOWNED_IN_RECOVERY))
		return true;
	ereport(LOG,
			(errmsg("tenant_guard did not save %s: the server did not shut down cleanly", what)));
	return false;
}

/* Open "<path>.tmp" for writing a state file; NULL (logged) on failure. */
FILE *
tg_statefile_create(const char *path)
{
	char	   *tmp = psprintf("%s.tmp", path);
	FILE	   *file = AllocateFile(tmp, PG_BINARY_W);

	if (file == NULL)
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not create file \"%s\": %m", tmp)));
	pfree(tmp);
	return file;
}

/*
 * Close a state file opened with tg_statefile_create() and, when every
 * write went well (ok), move it to path.  Returns whether path now holds
 * it; on failure a LOG line says why and the temporary file is removed.
 */
bool
tg_statefile_commit(FILE *file, bool ok, const char *path)
{
	char	   *tmp = psprintf("%s.tmp", path);

	if (ok)
	{
		ok = (FreeFile(file) == 0);
		file = NULL;
		if (ok && durable_rename(tmp, path, LOG) == 0)
		{
			pfree(tmp);
			return true;
		}
	}
	if (!ok)
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", tmp)));
	if (file)
		FreeFile(file);
	unlink(tmp);
	pfree(tmp);
	return false;
}

/* Open a state file for reading; NULL when there is none (or, logged, on error). */
FILE *
tg_statefile_open(const char *path)
{
	FILE	   *file = AllocateFile(path, PG_BINARY_R);

	if (file == NULL && errno != ENOENT)
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not read file \"%s\": %m", path)));
	return file;
}
