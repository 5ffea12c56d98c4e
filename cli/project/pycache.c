/*
 * pycache.c - interpreter answers through the cache.
 */
#define _GNU_SOURCE
#include "cli/project/pycache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/project/cache.h"
#include "cli/project/filekey.h"
#include "cli/project/interp.h"
#include "cli/project/strutil.h"

void pycache_init(struct pycache *c, const char *interpreter)
{
	struct interp r;

	memset(c, 0, sizeof(*c));
	if (interp_resolve(interpreter, &r) < 0)
		return;
	if (getenv("SPOKE_CACHE_DEBUG"))
		fprintf(stderr, "spoke: interpreter '%s' runs %s%s\n",
			interpreter ? interpreter : "python3",
			r.exe ? r.exe : "(not cached: ",
			r.exe ? "" : r.why ? r.why : "?");
	c->key = interp_key(&r);
	if (c->key) {
		c->exe = r.exe;
		r.exe = NULL;
	}
	interp_release(&r);
}

/* Whether each {path: identity} recorded still holds. */
static int deps_hold(const json_t *deps)
{
	const char *path;
	json_t *id, *now;
	int same;

	if (!json_is_object(deps) || json_object_size(deps) == 0)
		return 0;
	json_object_foreach((json_t *)deps, path, id)
	{
		now = filekey_ident(path);
		same = now && json_equal(now, id);
		json_decref(now);
		if (!same)
			return 0;
	}
	return 1;
}

json_t *pycache_tags(const struct pycache *c)
{
	json_t *v;

	if (!c->key)
		return NULL;
	v = cache_get("interp", c->exe, c->key);
	if (v && (!json_is_object(v) ||
		  !deps_hold(json_object_get(v, "deps_id")))) {
		json_decref(v);
		v = NULL;
	}
	return v;
}

/* The entry slot of one question: the interpreter and the files asked. */
static char *docs_slot(const struct pycache *c, const char *const *paths,
		       size_t n)
{
	char *s = strdup(c->exe);
	size_t i;

	for (i = 0; s && i < n; i++)
		if (str_append(&s, "\n", paths[i]) < 0) {
			free(s);
			return NULL;
		}
	return s;
}

int pycache_docs(struct pycache *c, const char *const *paths, size_t n,
		 json_t *docs, const char **missing, size_t *nmissing)
{
	char *slot = NULL;
	size_t i;

	*nmissing = 0;
	if (c->key && n) {
		slot = docs_slot(c, paths, n);
		c->files = json_object();
		if (!slot || !c->files) {
			free(slot);
			return -1;
		}
		c->docs = cache_get("pyproject", slot, c->key);
		free(slot);
	}
	for (i = 0; i < n; i++) {
		json_t *rec = json_object_get(c->docs, paths[i]);
		json_t *now = c->key ? filekey_file(paths[i]) : NULL;
		int hit = now && !json_is_null(now) && rec &&
			  json_equal(json_object_get(rec, "file"), now) &&
			  json_is_object(json_object_get(rec, "entry"));

		if (now && json_object_set_new(c->files, paths[i], now) < 0)
			return -1;
		if (hit) {
			if (json_object_set(docs, paths[i],
					    json_object_get(rec, "entry")) < 0)
				return -1;
		} else {
			missing[(*nmissing)++] = paths[i];
		}
	}
	return 0;
}

/* Stores the tags: the answer less its documents, with the identity of
 * every file it came from. */
static void store_tags(const struct pycache *c, const json_t *answer)
{
	const char *exe = str_member(answer, "executable");
	char *real = realpath(c->exe, NULL), *said = exe ? realpath(exe, NULL)
							  : NULL;
	json_t *v = json_deep_copy(answer), *deps = json_object(), *d;
	size_t i;

	/* An interpreter that says it is another file than the one
	 * resolved was picked by something spoke did not follow. */
	if (!real || !said || strcmp(real, said) != 0 || !v || !deps ||
	    filekey_set(deps, real, filekey_ident(real)) < 0)
		goto out;
	json_array_foreach(json_object_get(answer, "deps"), i, d)
	{
		const char *p = json_string_value(d);

		if (!p || filekey_set(deps, p, filekey_ident(p)) < 0)
			goto out;
	}
	json_object_del(v, "pyprojects");
	if (json_object_set(v, "deps_id", deps) < 0)
		goto out;
	cache_put("interp", c->exe, c->key, v);
out:
	json_decref(deps);
	json_decref(v);
	free(real);
	free(said);
}

void pycache_store(struct pycache *c, const json_t *answer, int have_tags,
		   const char *const *paths, size_t n, const json_t *docs)
{
	json_t *v;
	char *slot;
	size_t i;
	int fresh = 0;

	if (!c->key)
		return;
	if (!have_tags)
		store_tags(c, answer);
	if (n == 0 || !(v = json_object()))
		return;
	for (i = 0; i < n; i++) {
		const json_t *ent = json_object_get(docs, paths[i]);
		json_t *file = json_object_get(c->files, paths[i]);
		json_t *old = json_object_get(c->docs, paths[i]);

		if (!ent || !file || json_is_null(file) ||
		    !json_is_null(json_object_get(ent, "error")))
			continue;
		if (!old || !json_equal(json_object_get(old, "file"), file))
			fresh = 1;
		if (json_object_set_new(v, paths[i],
					json_pack("{s:O,s:O}", "file", file,
						  "entry", ent)) < 0)
			goto out;
	}
	slot = fresh ? docs_slot(c, paths, n) : NULL;
	if (slot)
		cache_put("pyproject", slot, c->key, v);
	free(slot);
out:
	json_decref(v);
}

void pycache_release(struct pycache *c)
{
	free(c->exe);
	json_decref(c->key);
	json_decref(c->docs);
	json_decref(c->files);
	memset(c, 0, sizeof(*c));
}
