#define _GNU_SOURCE
#include "cli/where.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/project/cargo.h"
#include "common/path.h"
#include "journal/statedir.h"

char *where_state_dir(const struct where_opts *w, int create, int *exists,
		      struct sp_err *e)
{
	char *target = NULL, *state = NULL, *real;
	const char *env = getenv("CARGO_TARGET_DIR");

	if (w->state_dir) {
		state = path_absolute(w->state_dir, e);
	} else {
		if (w->target_dir)
			target = path_absolute(w->target_dir, e);
		else if (env && env[0])
			target = path_absolute(env, e);
		else
			target = cargo_target_dir(w->manifest_path, e);
		if (!target)
			return NULL;
		state = path_join(target, "spoke");
		free(target);
	}
	if (!state)
		return NULL;
	if (!create) {
		if (exists)
			*exists = path_exists(state);
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
