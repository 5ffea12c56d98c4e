/*
 * pyenv.h - what a pyenv shim runs, decided as pyenv 2.x decides it.
 *
 * A shim (`$PYENV_ROOT/shims/python3`) is a bash script that runs
 * `pyenv exec python3`, which picks the version, in this order, from
 * PYENV_VERSION, the first .python-version file from $PYENV_DIR (else the
 * current folder) up to /, then from the current folder when PYENV_DIR
 * is another, then $PYENV_ROOT/version, and runs the first of
 * $PYENV_ROOT/versions/<v>/bin/python3 that is executable, for each
 * version named, then the system's (PATH without the shims).  spoke
 * follows the same rules on every call (a few stat()s, no bash), so the
 * cache is keyed on what the shim runs now, never on the shim.
 *
 * Only what spoke follows exactly is resolved; everything else is left to
 * the shim and not cached: a shim whose text is not the one `pyenv
 * rehash` writes, a version that is not an installed folder's name or
 * "system" (pyenv's prefix matching, "3.12" for the newest 3.12.x), a
 * version with a '/' or that names nothing, a pyenv installed outside its
 * root, PYENV_DIR not absolute, _PYENV_SHIM_PATHS_* in the environment,
 * and any hook script (pyenv.d) for exec, which or version-name but those
 * pyenv and pyenv-virtualenv ship, which act only for pip or for a
 * command not found.
 */
#ifndef SPOKE_CLI_PROJECT_PYENV_H
#define SPOKE_CLI_PROJECT_PYENV_H

/*
 * shim is the absolute path of a script whose first bytes are head (NUL
 * terminated).  Returns 1 with *target the absolute path pyenv would run
 * (malloc'd); 0 when shim is not a pyenv shim or spoke does not resolve
 * it (*why says why, static text); -1 when out of memory.
 */
int pyenv_shim_target(const char *shim, const char *head, char **target,
		      const char **why);

#endif
