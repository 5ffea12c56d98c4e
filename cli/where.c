#define _GNU_SOURCE
#include "where.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cargo.h"
#include "common/fsx.h"
#include "journal/statedir.h"

char *where_absolute(const char *path, struct sp_err *e)
{
	char *cwd, *out;

	if (path[0] == '/')
		return strdup(path);
	cwd = getcwd(NULL, 0);
	if (!cwd) {
		sp_err_sys(e, "cannot get the current directory");
		return NULL;
	}
	out = fsx_join(cwd, path);
	free(cwd);
	return out;
}

char *where_state_dir(const struct where_opts *w, int create, int *exists,
		      struct sp_err *e)
{
	char *target = NULL, *state = NULL, *real;
	const char *env = getenv("CARGO_TARGET_DIR");

	if (w->state_dir) {
		state = where_absolute(w->state_dir, e);
	} else {
		if (w->target_dir)
			target = where_absolute(w->target_dir, e);
		else if (env && env[0])
			target = where_absolute(env, e);
		else
			target = cargo_target_dir(w->manifest_path, e);
		if (!target)
			return NULL;
		state = fsx_join(target, "spoke");
		free(target);
	}
	if (!state)
		return NULL;
	if (!create) {
		if (exists)
			*exists = fsx_exists(state);
		return state;
	}
	if (statedir_prepare(state, e) < 0) {
		free(state);
		return NULL;
	}
	real = realpath(state, NULL);
	if (!real)
		sp_err_sys(e, "cannot resolve '%s'", state);
	free(state);
	return real;
}
