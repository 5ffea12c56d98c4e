/*
 * interp.h - what an interpreter name really runs, and the key of its
 * answers.
 *
 * `python3` on PATH is often not Python: a pyenv shim is a bash script
 * that picks a Python from PYENV_VERSION, .python-version files and
 * $PYENV_ROOT/version each time it runs, so a cache keyed on the shim
 * would hand out another interpreter's tags.  interp_resolve() follows
 * the name as exec would (a path, or the first executable on PATH), then
 * through a pyenv shim as pyenv would (pyenv.h), to the ELF executable
 * that answers.  Anything else (another script, a shim pyenv would resolve
 * by a rule spoke does not follow) is left unresolved and never cached.
 *
 * An ELF launcher that picks its Python itself (mise's shims) resolves to
 * the launcher; pycache.h stores an answer only when the interpreter
 * reports itself (sys.executable) as the file resolved here, so such a
 * launcher is never cached either.
 */
#ifndef SPOKE_CLI_PROJECT_INTERP_H
#define SPOKE_CLI_PROJECT_INTERP_H

#include <jansson.h>

struct interp {
	/* The ELF executable the name runs (absolute, as exec'd: a venv's
	 * bin/python stays the venv's), or NULL: not cached. */
	char *exe;
	/* When exe is NULL: why, for SPOKE_CACHE_DEBUG (static text). */
	const char *why;
};

/* Resolves name (NULL: "python3") into r.  Returns 0, or -1 when out of
 * memory; an interpreter that cannot be resolved is r->exe NULL. */
int interp_resolve(const char *name, struct interp *r);

/*
 * The key of r's answers (new reference): the executable's path, its
 * real path and that file's identity, the pyvenv.cfg files CPython would
 * read (beside the executable or one folder above, for its path as run
 * and its real path), and the environment that changes the answer
 * (PYTHON*, _PYTHON*: _PYTHON_HOST_PLATFORM changes the platform tag;
 * LD_LIBRARY_PATH, LD_PRELOAD: which libpython loads).  NULL: no key
 * (r unresolved, a file racy or unreadable).
 */
json_t *interp_key(const struct interp *r);

void interp_release(struct interp *r);

#endif
