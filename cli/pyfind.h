/*
 * pyfind.h - the interpreters `spoke build -f` (maturin's
 * --find-interpreter) builds for.
 *
 * maturin looks on PATH for every CPython it supports by its versioned
 * name (python3.7 ... python3.14) and for PyPy (pypy3.8 ... pypy3.11),
 * keeps one interpreter per version, and, when none of those names
 * exists (pyenv shims, some containers), takes python3, else python.
 * spoke asks the same names in the same order; the interpreters' tags
 * are then checked as those of -i are (cmd_build.c), which also builds
 * two names for one version once.
 */
#ifndef SPOKE_CLI_PYFIND_H
#define SPOKE_CLI_PYFIND_H

#include <stddef.h>

#include "common/err.h"

/*
 * Fills *out with a malloc'd array of malloc'd paths (*n of them), each
 * an executable found on PATH by one of the names above, in that order,
 * without two that resolve to the same file.  pyfind_free() frees it.
 * Returns 0, or -1 with e filled: none found ("no Python interpreter on
 * PATH ...; give one with -i"), or out of memory.
 */
int pyfind_all(char ***out, size_t *n, struct sp_err *e);

/* Frees what pyfind_all() returned. */
void pyfind_free(char **v, size_t n);

#endif
