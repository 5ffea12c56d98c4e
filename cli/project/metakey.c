/*
 * metakey.c - the inputs of cargo metadata.
 */
#define _GNU_SOURCE
#include "cli/project/metakey.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/project/filekey.h"
#include "cli/project/pathsearch.h"
#include "cli/project/strutil.h"
#include "common/path.h"


/* key["<kind>:<path>"] = v (stolen); NULL v is -1 (cannot be keyed). */
static int put(json_t *key, char kind, const char *path, json_t *v)
{
	char *k;
	int r;

	if (!v)
		return -1;
	if (asprintf(&k, "%c:%s", kind, path) < 0) {
		json_decref(v);
		return -1;
	}
	r = json_object_set_new(key, k, v);
	free(k);
	return r;
}

static int put_file(json_t *key, const char *dir, const char *name)
{
	char *p = path_join(dir, name);
	int r = p ? put(key, 'f', p, filekey_file(p)) : -1;

	free(p);
	return r;
}

static int put_dir(json_t *key, const char *dir, const char *name,
		   const char *inner)
{
	char *p = name ? path_join(dir, name) : strdup(dir), *k = NULL;
	int r = -1;

	/* Every member under crates/ shares crates/: listed once, not once
	 * per member (100 members would stat 20,000 names). */
	if (p && asprintf(&k, "d:%s", p) < 0)
		k = NULL;
	if (k && json_object_get(key, k))
		r = 0;
	else if (k)
		r = put(key, 'd', p, filekey_dir(p, inner));
	free(k);
	free(p);
	return r;
}

/* Calls each(key, dir, arg) for dir and each folder above it. */
static int upward(json_t *key, const char *start,
		  int (*each)(json_t *, const char *, const void *),
		  const void *arg)
{
	char *d = strdup(start), *slash;
	int r = 0;

	while (d && r == 0) {
		r = each(key, *d ? d : "/", arg);
		if (!*d || !strcmp(d, "/"))
			break;
		slash = strrchr(d, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
	if (!d)
		return -1;
	free(d);
	return r;
}

static int configs_in(json_t *key, const char *dir, const void *arg)
{
	(void)arg;
	return put_file(key, dir, ".cargo/config.toml") ||
			       put_file(key, dir, ".cargo/config")
		   ? -1
		   : 0;
}

static int named_in(json_t *key, const char *dir, const void *name)
{
	return put_file(key, dir, name);
}

static const char *const env_inputs[] = {
	"CARGO", "__CARGO", "RUSTUP", "RUSTC", "HOME=", NULL,
};

/* The toolchain behind rustup's proxy: what picks it, and each
 * toolchain's cargo (an update replaces it). */
static int rustup_inputs(json_t *key, const char *cwd)
{
	const char *rh = getenv("RUSTUP_HOME"), *home = getenv("HOME");
	char *root = rh && *rh ? strdup(rh)
			       : home ? path_join(home, ".rustup") : NULL;
	char *tc = root ? path_join(root, "toolchains") : NULL;
	struct dirent *de;
	DIR *d;
	int r = -1;

	if (!tc || put_file(key, root, "settings.toml") < 0 ||
	    put_dir(key, tc, NULL, NULL) < 0 ||
	    upward(key, cwd, named_in, "rust-toolchain") < 0 ||
	    upward(key, cwd, named_in, "rust-toolchain.toml") < 0)
		goto out;
	d = opendir(tc);
	if (d) {
		while ((de = readdir(d))) {
			char *c;

			if (de->d_name[0] == '.')
				continue;
			if (asprintf(&c, "%s/%s/bin/cargo", tc, de->d_name) < 0 ||
			    put(key, 'x', c, filekey_ident(c)) < 0) {
				closedir(d);
				goto out;
			}
			free(c);
		}
		closedir(d);
	}
	r = 0;
out:
	free(root);
	free(tc);
	return r;
}

json_t *metakey_before(const char *cargo, const char *manifest, char **slot)
{
	json_t *key = json_object(), *env = json_object();
	char *cwd = getcwd(NULL, 0), *prog = NULL, *real = NULL, *mdir = NULL;
	const char *ch = getenv("CARGO_HOME"), *home = getenv("HOME");
	char *chome = NULL;

	*slot = NULL;
	if (!key || !env || !cwd)
		goto fail;
	prog = strchr(cargo, '/') ? realpath(cargo, NULL)
				  : pathsearch(getenv("PATH"), cargo);
	real = prog ? realpath(prog, NULL) : NULL;
	if (!real || put(key, 'p', prog, json_string(real)) < 0 ||
	    put(key, 'x', real, filekey_ident(real)) < 0)
		goto fail;
	/* Even when cargo is not rustup's proxy itself, it may be a wrapper
	 * that runs it: rustup's inputs are keyed whenever rustup is there. */
	if (rustup_inputs(key, cwd) < 0)
		goto fail;
	if (filekey_env(env, env_inputs) < 0)
		goto fail;
	if (json_object_set(key, "env", env) < 0 ||
	    json_object_set_new(key, "cwd", json_string(cwd)) < 0 ||
	    upward(key, cwd, configs_in, NULL) < 0)
		goto fail;
	chome = ch && *ch ? strdup(ch) : home ? path_join(home, ".cargo") : NULL;
	if (!chome || put_file(key, chome, "config.toml") < 0 ||
	    put_file(key, chome, "config") < 0)
		goto fail;
	if (manifest) {
		char *abs = manifest[0] == '/' ? strdup(manifest)
					       : path_join(cwd, manifest);

		mdir = abs ? path_dirname(abs) : NULL;
		if (!mdir ||
		    json_object_set_new(key, "manifest",
					json_string(manifest)) < 0 ||
		    put(key, 'f', abs, filekey_file(abs)) < 0) {
			free(abs);
			goto fail;
		}
		free(abs);
	}
	if (upward(key, mdir ? mdir : cwd, named_in, "Cargo.toml") < 0)
		goto fail;
	if (asprintf(slot, "%s\n%s", cwd, manifest ? manifest : "") < 0) {
		*slot = NULL;
		goto fail;
	}
	json_decref(env);
	free(cwd);
	free(prog);
	free(real);
	free(mdir);
	free(chome);
	return key;
fail:
	json_decref(env);
	json_decref(key);
	free(cwd);
	free(prog);
	free(real);
	free(mdir);
	free(chome);
	return NULL;
}

/* Every folder from dir's parent up to root (inclusive), by listing:
 * where a glob member could appear. */
static int between(json_t *key, const char *dir, const char *root)
{
	char *d = path_dirname(dir), *up;
	size_t rl = strlen(root);

	while (d && strncmp(d, root, rl) == 0 &&
	       (d[rl] == '\0' || d[rl] == '/')) {
		if (put_dir(key, d, NULL, "Cargo.toml") < 0) {
			free(d);
			return -1;
		}
		if (d[rl] == '\0')
			break;
		up = path_dirname(d);
		free(d);
		d = up;
	}
	if (!d)
		return -1;
	free(d);
	return 0;
}

json_t *metakey_after(const json_t *meta)
{
	static const char *const scanned[] = {"src", "src/bin", "examples",
					      "tests", "benches"};
	const char *root = str_member(meta, "workspace_root");
	json_t *key = json_object(), *pkg, *dep;
	size_t i, j, k;

	if (!key || !root || put_file(key, root, "Cargo.toml") < 0 ||
	    put_file(key, root, "Cargo.lock") < 0)
		goto fail;
	json_array_foreach(json_object_get(meta, "packages"), i, pkg)
	{
		const char *mp = str_member(pkg, "manifest_path");
		char *dir = mp ? path_dirname(mp) : NULL;
		int bad = !dir || put(key, 'f', mp, filekey_file(mp)) < 0 ||
			  put_dir(key, dir, NULL, NULL) < 0 ||
			  between(key, dir, root) < 0;

		for (k = 0; !bad && k < sizeof(scanned) / sizeof(*scanned); k++)
			bad = put_dir(key, dir, scanned[k], "main.rs") < 0;
		free(dir);
		if (bad)
			goto fail;
		json_array_foreach(json_object_get(pkg, "dependencies"), j, dep)
		{
			const char *p = str_member(dep, "path");

			if (p && put_file(key, p, "Cargo.toml") < 0)
				goto fail;
		}
	}
	return key;
fail:
	json_decref(key);
	return NULL;
}
