/*
 * interp.c - from an interpreter name to the executable that answers.
 */
#define _GNU_SOURCE
#include "cli/project/interp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/project/filekey.h"
#include "cli/project/pathsearch.h"
#include "cli/project/pyenv.h"
#include "common/path.h"

/* Shims lead to shims at most this deep (a pyenv "system" version that
 * is another pyenv's shim). */
#define MAX_HOPS 4

/* The file a name leads to as execvp would find it, absolute. */
static char *locate(const char *name)
{
	char *found, *abs;
	struct sp_err e;

	if (strchr(name, '/'))
		return path_absolute(name, &e);
	found = pathsearch(getenv("PATH"), name);
	if (!found || found[0] == '/')
		return found;
	abs = path_absolute(found, &e);
	free(found);
	return abs;
}

int interp_resolve(const char *name, struct interp *r)
{
	char head[4096], *path, *next = NULL;
	ssize_t n;
	int hops, fd, s;

	r->exe = NULL;
	r->why = NULL;
	path = locate(name ? name : "python3");
	for (hops = 0; path && hops < MAX_HOPS; hops++) {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
		n = fd >= 0 ? read(fd, head, sizeof(head) - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (n < 4) {
			r->why = "cannot read the interpreter";
			break;
		}
		head[n] = '\0';
		if (memcmp(head, "\177ELF", 4) == 0) {
			r->exe = path;
			return 0;
		}
		if (head[0] != '#' || head[1] != '!') {
			r->why = "neither an ELF executable nor a script";
			break;
		}
		s = pyenv_shim_target(path, head, &next, &r->why);
		if (s < 0) {
			free(path);
			return -1;
		}
		if (s == 0)
			break;
		free(path);
		path = next;
		next = NULL;
	}
	if (path && hops == MAX_HOPS)
		r->why = "shims lead to shims too deep";
	if (!path && !r->why)
		r->why = "not found";
	free(path);
	return 0;
}

/* The variables that change what the interpreter says (filekey_env). */
static const char *const env_inputs[] = {
	"PYTHON", "_PYTHON", "LD_LIBRARY_PATH=", "LD_PRELOAD=", NULL,
};

/* key[label] = the pyvenv.cfg files beside exe and one folder above. */
static int venv_cfgs(json_t *key, const char *label, const char *exe)
{
	char *dir = path_dirname(exe), *up = dir ? path_dirname(dir) : NULL;
	char *a = dir ? path_join(dir, "pyvenv.cfg") : NULL;
	char *b = up ? path_join(up, "pyvenv.cfg") : NULL;
	int ret = -1;

	json_t *ka = a && b ? filekey_file(a) : NULL;
	json_t *kb = ka ? filekey_file(b) : NULL;

	if (ka && kb)
		ret = filekey_set(key, label, json_pack("[o,o]", ka, kb));
	else
		json_decref(ka);
	free(dir);
	free(up);
	free(a);
	free(b);
	return ret;
}

json_t *interp_key(const struct interp *r)
{
	json_t *key, *env;
	char *real;

	if (!r->exe)
		return NULL;
	real = realpath(r->exe, NULL);
	key = json_object();
	env = json_object();
	if (!real || !key || !env)
		goto fail;
	if (filekey_env(env, env_inputs) < 0)
		goto fail;
	if (filekey_set(key, "exe", json_string(r->exe)) < 0 ||
	    filekey_set(key, "real", json_string(real)) < 0 ||
	    filekey_set(key, "id", filekey_ident(real)) < 0 ||
	    venv_cfgs(key, "cfg", r->exe) < 0 ||
	    venv_cfgs(key, "realcfg", real) < 0 ||
	    json_object_set(key, "env", env) < 0)
		goto fail;
	json_decref(env);
	free(real);
	return key;
fail:
	json_decref(env);
	json_decref(key);
	free(real);
	return NULL;
}

void interp_release(struct interp *r)
{
	free(r->exe);
	r->exe = NULL;
}
