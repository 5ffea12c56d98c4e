/*
 * pyinfo.h - what spoke needs to know about the target Python interpreter.
 *
 * The interpreter is asked once, with one embedded script, for its wheel
 * tags, its extension suffix and the [project] tables of any pyproject.toml
 * files (read with its own tomllib or tomli, so spoke parses no TOML).
 */
#ifndef SPOKE_CLI_PROJECT_PYINFO_H
#define SPOKE_CLI_PROJECT_PYINFO_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"

/* Everything is owned by the struct; pyinfo_release() frees it. */
struct pyinfo {
	char *python_tag;   /* "cp311" */
	char *abi_tag;	    /* "cp311", "cp313t" */
	char *platform_tag; /* "linux_x86_64" */
	char *ext_suffix;   /* ".cpython-311-x86_64-linux-gnu.so" */
	char *version;	    /* "3.11.2" */
	char *executable;   /* sys.executable */
	/* Object: pyproject path as given -> {"doc": the whole document or
	 * null, "project": <[project] table> or null, "error": null or a
	 * message}.  Always an object, maybe empty. */
	json_t *pyprojects;
};

/*
 * Runs `<interpreter> -c <script> <pyprojects...>` and fills out.  A
 * query without pyprojects is answered once per process and interpreter
 * (as given): a second one takes the first answer.
 * interpreter NULL means "python3"; a name without '/' is searched on PATH.
 * The interpreter's stderr is captured and quoted in errors.
 *
 * Errors: "python interpreter '<i>' not found (use --interpreter)"; the
 * interpreter exits non-zero (its stderr, truncated, is in the message);
 * its output is not the expected JSON.  A pyproject.toml that cannot be
 * read or parsed, or an interpreter without tomllib or tomli, is NOT an
 * error here: the file's entry carries "error" and the caller decides.  On failure out is
 * left zeroed.
 */
int pyinfo_query(const char *interpreter, const char *const *pyprojects,
		 size_t n, struct pyinfo *out, struct sp_err *e);

/* Frees everything in p and zeroes it; safe on a zeroed struct. */
void pyinfo_release(struct pyinfo *p);

#endif
