#define _GNU_SOURCE
#include "worker/repair/ldresolve.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "common/fsx.h"
#include "common/path.h"
#include "common/stamp.h"
#include "worker/elf/machine.h"

/* Runaway guards: a real dependency tree is a few dozen libraries. */
#define LD_MAX_LIBS 4096
#define LD_MAX_TRIED 64
#define LD_CONF_DEPTH 16

/* A growable NULL-terminated array of malloc'd strings. */
struct strv {
	char **v;
	size_t n, cap;
};

static int strv_push(struct strv *s, char *str)
{
	if (!str)
		return -1;
	if (s->n + 1 >= s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		char **v = realloc(s->v, cap * sizeof(*v));

		if (!v) {
			free(str);
			return -1;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = str;
	s->v[s->n] = NULL;
	return 0;
}

static int strv_has(const struct strv *s, const char *str)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i], str) == 0)
			return 1;
	return 0;
}

void ld_strv_free(char **v)
{
	char **p;

	for (p = v; p && *p; p++)
		free(*p);
	free(v);
}

const char *ld_via_name(enum ld_via via)
{
	switch (via) {
	case LD_VIA_PATH:
		return "path";
	case LD_VIA_RPATH:
		return "rpath";
	case LD_VIA_LD_LIBRARY_PATH:
		return "LD_LIBRARY_PATH";
	case LD_VIA_RUNPATH:
		return "runpath";
	case LD_VIA_LINKED_PATH:
		return "linked_paths";
	case LD_VIA_LIB_PATH:
		return "lib_path";
	case LD_VIA_LD_SO_CONF:
		return "ld.so.conf";
	case LD_VIA_DEFAULT:
		return "default";
	default:
		return "not found";
	}
}

/* Debian's multiarch triplet for the machine uname() reports. */
static const char *multiarch(void)
{
	static const struct {
		const char *machine, *triplet;
	} map[] = {
	    {"x86_64", "x86_64-linux-gnu"},
	    {"aarch64", "aarch64-linux-gnu"},
	    {"i386", "i386-linux-gnu"},
	    {"i486", "i386-linux-gnu"},
	    {"i586", "i386-linux-gnu"},
	    {"i686", "i386-linux-gnu"},
	    {"armv7l", "arm-linux-gnueabihf"},
	    {"ppc64le", "powerpc64le-linux-gnu"},
	    {"s390x", "s390x-linux-gnu"},
	    {"riscv64", "riscv64-linux-gnu"},
	};
	static char other[80];
	struct utsname u;
	size_t i;

	if (uname(&u) < 0)
		return "unknown-linux-gnu";
	for (i = 0; i < sizeof(map) / sizeof(*map); i++)
		if (strcmp(u.machine, map[i].machine) == 0)
			return map[i].triplet;
	snprintf(other, sizeof(other), "%s-linux-gnu", u.machine);
	return other;
}

const char *const *ld_default_dirs(size_t *n)
{
	static char lib[128], usrlib[128];
	static const char *dirs[7];

	if (!dirs[0]) {
		snprintf(lib, sizeof(lib), "/lib/%s", multiarch());
		snprintf(usrlib, sizeof(usrlib), "/usr/lib/%s", multiarch());
		dirs[0] = lib;
		dirs[1] = usrlib;
		dirs[2] = "/lib64";
		dirs[3] = "/usr/lib64";
		dirs[4] = "/lib";
		dirs[5] = "/usr/lib";
		dirs[6] = NULL;
	}
	*n = 6;
	return dirs;
}

char **ld_arch_dirs(const char *triplet, const char *cross, size_t *n)
{
	/* Each directory is a prefix, a triplet and a suffix. */
	static const char *const pre[] = {"/usr/", "/lib/", "/usr/lib/"};
	static const char *const post[] = {"/lib", "", ""};
	const char *trip[] = {cross, triplet, triplet};
	static const char *const plain[] = {"/lib64", "/usr/lib64", "/lib",
					    "/usr/lib"};
	size_t nf = sizeof(pre) / sizeof(*pre);
	size_t np = sizeof(plain) / sizeof(*plain), i;
	char **v = calloc(nf + np + 1, sizeof(*v));

	*n = 0;
	if (!v)
		return NULL;
	for (i = 0; i < nf; i++)
		if (asprintf(&v[i], "%s%s%s", pre[i], trip[i], post[i]) < 0) {
			v[i] = NULL;
			ld_strv_free(v);
			return NULL;
		}
	for (i = 0; i < np; i++)
		if (!(v[nf + i] = strdup(plain[i]))) {
			ld_strv_free(v);
			return NULL;
		}
	*n = nf + np;
	return v;
}

char *ld_expand_origin(const char *elem, const char *origin)
{
	size_t olen = strlen(origin), cap = strlen(elem) + 1, len = 0;
	char *out = malloc(cap), *grown;
	const char *p = elem;

	if (!out)
		return NULL;
	while (*p) {
		size_t skip = 0;

		if (strncmp(p, "$ORIGIN", 7) == 0 &&
		    !(isalnum((unsigned char)p[7]) || p[7] == '_'))
			skip = 7;
		else if (strncmp(p, "${ORIGIN}", 9) == 0)
			skip = 9;
		if (skip) {
			cap += olen;
			grown = realloc(out, cap);
			if (!grown) {
				free(out);
				return NULL;
			}
			out = grown;
			memcpy(out + len, origin, olen);
			len += olen;
			p += skip;
			continue;
		}
		out[len++] = *p++;
	}
	out[len] = '\0';
	return out;
}

/* ld.so.conf */

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* What reading an ld.so.conf gathers: its directories, and the stamps of
 * every file it read and every directory an include pattern listed, by
 * which conf_fresh() tells that reading it again would give the same. */
struct conf {
	struct strv dirs;
	struct conf_stamp {
		char *path;
		struct stamp st;
	} *st;
	size_t nst, cap;
	int uncachable; /* an include with a pattern in a directory name */
};

static void conf_release(struct conf *c)
{
	size_t i;

	ld_strv_free(c->dirs.v);
	for (i = 0; i < c->nst; i++)
		free(c->st[i].path);
	free(c->st);
	memset(c, 0, sizeof(*c));
}

/* Stamps path before it is read or listed. */
static int conf_stamp(struct conf *c, const char *path, struct sp_err *e)
{
	struct conf_stamp *st = c->st;

	if (c->nst == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 8;

		st = realloc(c->st, cap * sizeof(*st));
		if (!st)
			return sp_err_set(e, "out of memory");
		c->st = st;
		c->cap = cap;
	}
	st = &c->st[c->nst];
	st->path = strdup(path);
	if (!st->path)
		return sp_err_set(e, "out of memory");
	stamp_take(path, &st->st);
	c->nst++;
	return 0;
}

static int conf_fresh(const struct conf *c)
{
	struct stamp now;
	size_t i;

	if (c->uncachable)
		return 0;
	for (i = 0; i < c->nst; i++) {
		stamp_take(c->st[i].path, &now);
		if (!stamp_same(&c->st[i].st, &now))
			return 0;
	}
	return 1;
}

static int conf_read(struct conf *c, const char *path, int depth,
		     struct sp_err *e);

static int conf_include(struct conf *c, const char *conf, char *patterns,
			int depth, struct sp_err *e)
{
	char *save = NULL, *pat, *full, *base;
	glob_t g;
	size_t i;
	int rc;

	for (pat = strtok_r(patterns, " \t", &save); pat;
	     pat = strtok_r(NULL, " \t", &save)) {
		if (pat[0] == '/') {
			full = strdup(pat);
		} else {
			base = path_dirname(conf);
			full = base ? path_join(base, pat) : NULL;
			free(base);
		}
		if (!full)
			return sp_err_set(e, "out of memory");
		/* A file added to or removed from the pattern's directory
		 * changes the directory's mtime; a pattern in a directory
		 * name would need every directory it could match. */
		base = path_dirname(full);
		if (!base || strpbrk(base, "*?[")) {
			c->uncachable = 1;
		} else if (conf_stamp(c, base, e) < 0) {
			free(base);
			free(full);
			return -1;
		}
		free(base);
		rc = glob(full, 0, NULL, &g);
		free(full);
		if (rc == GLOB_NOMATCH)
			continue;
		if (rc != 0)
			return sp_err_set(e, "'%s': cannot expand include '%s'",
					  conf, pat);
		for (i = 0; i < g.gl_pathc; i++) {
			if (conf_read(c, g.gl_pathv[i], depth + 1, e) < 0) {
				globfree(&g);
				return -1;
			}
		}
		globfree(&g);
	}
	return 0;
}

static int conf_read(struct conf *c, const char *path, int depth,
		     struct sp_err *e)
{
	struct strv *dirs = &c->dirs;
	char *text, *line, *save = NULL, *s, *eq;
	size_t len;
	int rc = 0;

	if (depth > LD_CONF_DEPTH)
		return sp_err_set(e, "'%s': includes nest more than %d deep",
				  path, LD_CONF_DEPTH);
	if (conf_stamp(c, path, e) < 0)
		return -1;
	text = fsx_read_all(path, &len, e);
	if (!text)
		return errno == ENOENT ? 0 : -1;
	for (line = strtok_r(text, "\n", &save); line && rc == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		s = strchr(line, '#');
		if (s)
			*s = '\0';
		s = trim(line);
		if (!*s)
			continue;
		if (strncmp(s, "include", 7) == 0 &&
		    isblank((unsigned char)s[7])) {
			rc = conf_include(c, path, s + 8, depth, e);
			continue;
		}
		if (strncmp(s, "hwcap", 5) == 0 && isblank((unsigned char)s[5]))
			continue;
		/* Old formats allowed "dir=TYPE"; the type does not matter
		 * for finding files. */
		eq = strchr(s, '=');
		if (eq)
			*eq = '\0';
		s = trim(s);
		len = strlen(s);
		while (len > 1 && s[len - 1] == '/')
			s[--len] = '\0';
		if (*s && !strv_has(dirs, s) && strv_push(dirs, strdup(s)) < 0)
			rc = sp_err_set(e, "out of memory");
	}
	free(text);
	return rc;
}

int ld_conf_dirs(const char *path, char ***dirs, size_t *n, struct sp_err *e)
{
	struct conf c = {0};

	*dirs = NULL;
	*n = 0;
	if (conf_read(&c, path, 0, e) < 0) {
		conf_release(&c);
		return -1;
	}
	/* No directories is an empty array, not NULL. */
	if (!c.dirs.v)
		c.dirs.v = calloc(1, sizeof(*c.dirs.v));
	if (!c.dirs.v) {
		conf_release(&c);
		return sp_err_set(e, "out of memory");
	}
	*dirs = c.dirs.v;
	*n = c.dirs.n;
	c.dirs.v = NULL;
	conf_release(&c);
	return 0;
}

/* ld_resolve()'s ld.so.conf, kept for the rest of the process while
 * conf_fresh() holds: a worker resolves libraries for many jobs, and
 * reading the configuration again each time (seven files here) was a
 * tenth of a small wheel's cost. */
static struct {
	char *path;
	struct conf c;
	uint64_t epoch; /* the stamp epoch it was last found fresh in */
} conf_cache;

/* The directories of the ld.so.conf at path, owned by the cache and valid
 * until the next call. */
static int conf_dirs_cached(const char *path, char *const **dirs, size_t *n,
			    struct sp_err *e)
{
	struct conf fresh = {0};
	uint64_t epoch = stamp_epoch();

	if (epoch && conf_cache.epoch == epoch && conf_cache.path &&
	    strcmp(conf_cache.path, path) == 0 && !conf_cache.c.uncachable)
		goto out;
	if (!conf_cache.path || strcmp(conf_cache.path, path) != 0 ||
	    !conf_fresh(&conf_cache.c)) {
		if (conf_read(&fresh, path, 0, e) < 0) {
			conf_release(&fresh);
			return -1;
		}
		conf_release(&conf_cache.c);
		free(conf_cache.path);
		conf_cache.c = fresh;
		conf_cache.path = strdup(path);
		if (!conf_cache.path)
			conf_cache.c.uncachable = 1;
	}
	conf_cache.epoch = epoch;
out:
	*dirs = conf_cache.c.dirs.v;
	*n = conf_cache.c.dirs.n;
	return 0;
}

int ld_conf_inputs(const char *path, char ***paths, size_t *n,
		   struct sp_err *e)
{
	char *const *dirs;
	size_t nd, i;
	char **v;

	*paths = NULL;
	*n = 0;
	if (conf_dirs_cached(path, &dirs, &nd, e) < 0)
		return -1;
	v = calloc(conf_cache.c.nst + 1, sizeof(*v));
	if (!v)
		return sp_err_set(e, "out of memory");
	for (i = 0; i < conf_cache.c.nst; i++)
		if (!(v[i] = strdup(conf_cache.c.st[i].path))) {
			ld_strv_free(v);
			return sp_err_set(e, "out of memory");
		}
	*paths = v;
	*n = conf_cache.c.nst;
	return conf_cache.c.uncachable ? 0 : 1;
}

/* Resolution */

struct resolver {
	const struct ld_opts *o;
	const struct elf_info *root;
	const char *root_origin;
	char *const *conf;
	size_t nconf;
	const char *const *defs;
	size_t ndefs;
	char **arch_defs; /* defs of a foreign root, owned */
	struct ld_tree *t;
};

/* The default directories for the root object: this machine's, unless
 * the root is of an architecture whose triplet is not this machine's. */
static int root_defaults(struct resolver *r, struct sp_err *e)
{
	const struct elf_arch *a =
	    elf_arch_find(r->root->id.machine, r->root->id.elfclass,
			  r->root->id.data, r->root->id.flags);

	if (!a || strcmp(a->triplet, multiarch()) == 0) {
		r->defs = ld_default_dirs(&r->ndefs);
		return 0;
	}
	r->arch_defs = ld_arch_dirs(a->triplet, a->cross, &r->ndefs);
	if (!r->arch_defs)
		return sp_err_set(e, "out of memory");
	r->defs = (const char *const *)r->arch_defs;
	return 0;
}

/* The candidate search of one library: where we are and what was tried. */
struct lookup {
	const char *soname;
	const struct elf_info *needer;
	struct strv tried;
	char *found;
	struct elf_info info;
	struct ld_dir *dirs; /* each folder searched without a hit */
	size_t ndirs, capdirs;
};

static void dirs_free(struct ld_dir *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(d[i].path);
	free(d);
}

/* Keeps dir, stat'ed before it was searched (st, err), as searched in
 * vain; once per folder.  -1 when out of memory. */
static int dir_keep(struct lookup *l, const char *dir, const struct stat *st,
		    int err)
{
	size_t i;

	for (i = 0; i < l->ndirs; i++)
		if (strcmp(l->dirs[i].path, dir) == 0)
			return 0;
	if (l->ndirs == l->capdirs) {
		size_t cap = l->capdirs ? l->capdirs * 2 : 8;
		struct ld_dir *v = realloc(l->dirs, cap * sizeof(*v));

		if (!v)
			return -1;
		l->dirs = v;
		l->capdirs = cap;
	}
	l->dirs[l->ndirs].path = strdup(dir);
	if (!l->dirs[l->ndirs].path)
		return -1;
	l->dirs[l->ndirs].err = err;
	l->dirs[l->ndirs].st = *st;
	l->ndirs++;
	return 0;
}

/* Tries dir/soname.  1 when it is usable (l->found set), 0 when not, -1
 * when out of memory. */
static int try_dir(struct lookup *l, const char *dir)
{
	struct elf_info info;
	struct sp_err e;
	struct stat dst;
	char *path, *why;
	int derr = 0;

	path = path_join(*dir ? dir : ".", l->soname);
	if (!path)
		return -1;
	if (strv_has(&l->tried, path)) {
		free(path);
		return 0;
	}
	/* Stat'ed before it is searched: a name added after the search
	 * changes what is recorded here. */
	memset(&dst, 0, sizeof(dst));
	if (stat(*dir ? dir : ".", &dst) < 0)
		derr = errno ? errno : ENOENT;
	if (!path_exists(path)) {
		if (dir_keep(l, *dir ? dir : ".", &dst, derr) < 0) {
			free(path);
			return -1;
		}
		if (l->tried.n < LD_MAX_TRIED)
			return strv_push(&l->tried, path) < 0 ? -1 : 0;
		free(path);
		return 0;
	}
	if (elf_inspect(path, &info, &e) == 0) {
		if (info.id.elfclass == l->needer->id.elfclass &&
		    info.id.machine == l->needer->id.machine &&
		    info.id.data == l->needer->id.data) {
			l->found = path;
			l->info = info;
			return 1;
		}
		elf_info_release(&info);
		sp_err_set(&e,
			   "'%s' is for another machine, class or byte order",
			   path);
	}
	if (dir_keep(l, *dir ? dir : ".", &dst, derr) < 0) {
		free(path);
		return -1;
	}
	/* The loader skips a file it cannot use and goes on searching; the
	 * reason is kept for the message if nothing else is found. */
	if (l->tried.n >= LD_MAX_TRIED) {
		free(path);
		return 0;
	}
	why = strdup(e.msg);
	free(path);
	return strv_push(&l->tried, why) < 0 ? -1 : 0;
}

/* 1 when a search path element starts at $ORIGIN: in a tree the caller
 * provides, not on the machine. */
static int origin_relative(const char *elem)
{
	return (!strncmp(elem, "$ORIGIN", 7) &&
		(elem[7] == '/' || elem[7] == '\0')) ||
	       (!strncmp(elem, "${ORIGIN}", 9) &&
		(elem[9] == '/' || elem[9] == '\0'));
}

/* 1 when dir, made absolute and normalized, is root or lies below it;
 * -1 when out of memory or the current directory cannot be read. */
static int dir_below(const char *dir, const char *root)
{
	struct sp_err e;
	char *a = path_absolute(dir, &e), *b = path_absolute(root, &e);
	char *na = a ? path_normalize(a) : NULL;
	char *nb = b ? path_normalize(b) : NULL;
	int rc = -1;

	if (na && nb) {
		size_t n = strlen(nb);

		rc = strcmp(nb, "/") == 0 ||
		     (strncmp(na, nb, n) == 0 &&
		      (na[n] == '\0' || na[n] == '/'));
	}
	free(a);
	free(b);
	free(na);
	free(nb);
	return rc;
}

/* 1 when an expanded $ORIGIN element of a declared search stays in a
 * declared tree: the root object's folder, a linked path or a --lib-path
 * folder.  "$ORIGIN/../../../usr/lib" starts at $ORIGIN but reads the
 * machine's own folders, which no build system declares. */
static int declared_dir(const struct resolver *r, const char *dir)
{
	const struct ld_opts *o = r->o;
	size_t i;
	int rc;

	rc = dir_below(dir, r->root_origin);
	for (i = 0; rc == 0 && i < o->nlinked; i++)
		rc = dir_below(dir, o->linked_paths[i]);
	for (i = 0; rc == 0 && i < o->nlib; i++)
		rc = dir_below(dir, o->lib_paths[i]);
	return rc;
}

/* Tries each element of a search path list, with $ORIGIN expanded; with
 * a declared search (r set), only the elements that start at $ORIGIN and
 * stay in a declared tree. */
static int try_list(struct lookup *l, const char *list, const char *seps,
		    const char *origin, const struct resolver *r)
{
	char *copy, *elem, *save = NULL, *dir;
	int rc = 0;

	if (!list || !*list)
		return 0;
	copy = strdup(list);
	if (!copy)
		return -1;
	/* strtok_r would merge empty elements, which mean ".". */
	for (elem = copy; elem && rc == 0; elem = save) {
		save = strpbrk(elem, seps);
		if (save)
			*save++ = '\0';
		if (r && !origin_relative(elem))
			continue;
		dir = origin ? ld_expand_origin(elem, origin) : strdup(elem);
		if (!dir) {
			rc = -1;
			break;
		}
		if (r) {
			int in = declared_dir(r, dir);

			if (in < 0) {
				free(dir);
				rc = -1;
				break;
			}
			if (!in) {
				if (l->tried.n < LD_MAX_TRIED) {
					char *why = NULL;

					if (asprintf(&why,
						     "'%s', outside the module's "
						     "folder and every "
						     "--lib-path folder",
						     dir) < 0 ||
					    strv_push(&l->tried, why) < 0) {
						free(dir);
						rc = -1;
						break;
					}
				}
				free(dir);
				continue;
			}
		}
		rc = try_dir(l, dir);
		free(dir);
	}
	free(copy);
	return rc;
}

static int try_dirs(struct lookup *l, const char *const *dirs, size_t n)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++)
		rc = try_dir(l, dirs[i]);
	return rc;
}

static const struct elf_info *obj_info(const struct resolver *r, size_t i)
{
	return i == LD_ROOT ? r->root : &r->t->libs[i].info;
}

/* The $ORIGIN of object i (malloc'd). */
static char *obj_origin(const struct resolver *r, size_t i)
{
	return i == LD_ROOT ? strdup(r->root_origin)
			    : path_dirname(r->t->libs[i].path);
}

/* Runs the search order of ldresolve.h for library i.  -1 only when out of
 * memory. */
static int lookup_lib(struct resolver *r, size_t i, struct lookup *l)
{
	const struct ld_opts *o = r->o;
	size_t p = r->t->libs[i].parent, k;
	const struct elf_info *needer = obj_info(r, p);
	char *origin;
	int rc;

#define STEP(via, expr)                                                        \
	do {                                                                   \
		rc = (expr);                                                   \
		if (rc)                                                        \
			return rc < 0 ? -1 : (int)(via);                       \
	} while (0)

	/* A path names a file of the machine, not a declared input. */
	if (strchr(l->soname, '/') && o->declared_only)
		return strv_push(&l->tried,
				 strdup("a path, which a declared search "
					"does not read")) < 0
			   ? -1
			   : 0;
	if (strchr(l->soname, '/')) {
		char *path = strdup(l->soname);
		struct elf_info info;
		struct sp_err e;

		if (!path)
			return -1;
		if (elf_inspect(path, &info, &e) == 0) {
			l->found = path;
			l->info = info;
			return LD_VIA_PATH;
		}
		free(path);
		return strv_push(&l->tried, strdup(e.msg)) < 0 ? -1 : 0;
	}
	if (!needer->runpath) {
		for (k = p;; k = r->t->libs[k].parent) {
			const struct elf_info *obj = obj_info(r, k);

			if (obj->rpath && !obj->runpath) {
				origin = obj_origin(r, k);
				if (!origin)
					return -1;
				rc = try_list(l, obj->rpath, ":", origin,
					      o->declared_only ? r : NULL);
				free(origin);
				if (rc)
					return rc < 0 ? -1 : LD_VIA_RPATH;
			}
			if (k == LD_ROOT)
				break;
		}
	}
	if (!o->declared_only)
		STEP(LD_VIA_LD_LIBRARY_PATH,
		     try_list(l, o->ld_library_path, ":;", NULL, NULL));
	if (needer->runpath) {
		origin = obj_origin(r, p);
		if (!origin)
			return -1;
		rc = try_list(l, needer->runpath, ":", origin,
			      o->declared_only ? r : NULL);
		free(origin);
		if (rc)
			return rc < 0 ? -1 : LD_VIA_RUNPATH;
	}
	STEP(LD_VIA_LINKED_PATH, try_dirs(l, o->linked_paths, o->nlinked));
	STEP(LD_VIA_LIB_PATH, try_dirs(l, o->lib_paths, o->nlib));
	STEP(LD_VIA_LD_SO_CONF,
	     try_dirs(l, (const char *const *)r->conf, r->nconf));
	STEP(LD_VIA_DEFAULT, try_dirs(l, r->defs, r->ndefs));
#undef STEP
	return 0;
}

size_t ld_tree_find(const struct ld_tree *t, const char *soname)
{
	size_t i;

	for (i = 0; i < t->nlibs; i++)
		if (strcmp(t->libs[i].soname, soname) == 0)
			return i;
	return LD_ROOT;
}

/* Appends the needs of object parent that are not in the tree yet.  obj
 * may live in t->libs, which moves as it grows: only its needed array,
 * allocated apart, is used once growing starts. */
static int add_needs(struct ld_tree *t, const struct elf_info *obj,
		     size_t parent, struct sp_err *e)
{
	char *const *needed = obj->needed;
	size_t n = obj->nneeded, k;

	for (k = 0; k < n; k++) {
		struct ld_lib *grown, *lib;

		if (ld_tree_find(t, needed[k]) != LD_ROOT)
			continue;
		if (t->nlibs >= LD_MAX_LIBS)
			return sp_err_set(e, "more than %d libraries needed: "
					     "giving up",
					  LD_MAX_LIBS);
		grown = realloc(t->libs, (t->nlibs + 1) * sizeof(*t->libs));
		if (!grown)
			return sp_err_set(e, "out of memory");
		t->libs = grown;
		lib = &t->libs[t->nlibs];
		memset(lib, 0, sizeof(*lib));
		lib->parent = parent;
		lib->soname = strdup(needed[k]);
		if (!lib->soname)
			return sp_err_set(e, "out of memory");
		t->nlibs++;
	}
	return 0;
}

void ld_tree_release(struct ld_tree *t)
{
	size_t i;

	for (i = 0; i < t->nlibs; i++) {
		free(t->libs[i].soname);
		free(t->libs[i].path);
		elf_info_release(&t->libs[i].info);
		ld_strv_free(t->libs[i].tried);
		dirs_free(t->libs[i].dirs, t->libs[i].ndirs);
	}
	free(t->libs);
	memset(t, 0, sizeof(*t));
}

int ld_resolve(const struct elf_info *root, const char *root_path,
	       const struct ld_opts *o, struct ld_tree *out, struct sp_err *e)
{
	struct resolver r = {0};
	char *origin = NULL;
	size_t i;
	int rc = -1, via;

	memset(out, 0, sizeof(*out));
	r.o = o;
	r.root = root;
	r.t = out;
	origin = o->root_origin ? strdup(o->root_origin)
				: path_dirname(root_path);
	if (!origin)
		return sp_err_set(e, "out of memory");
	r.root_origin = origin;
	/* A declared search reads neither ld.so.conf nor the default
	 * directories. */
	if (!o->declared_only && (!o->ld_so_conf || *o->ld_so_conf)) {
		if (conf_dirs_cached(o->ld_so_conf ? o->ld_so_conf
						   : "/etc/ld.so.conf",
				     &r.conf, &r.nconf, e) < 0)
			goto out;
	}
	if (o->declared_only) {
		r.defs = NULL;
		r.ndefs = 0;
	} else if (o->default_dirs) {
		r.defs = o->default_dirs;
		r.ndefs = o->ndefault;
	} else if (root_defaults(&r, e) < 0) {
		goto out;
	}
	if (add_needs(out, root, LD_ROOT, e) < 0)
		goto out;
	/* Breadth first, as the loader loads: every library of one level
	 * before the libraries they need. */
	for (i = 0; i < out->nlibs; i++) {
		struct lookup l = {0};

		l.soname = out->libs[i].soname;
		l.needer = obj_info(&r, out->libs[i].parent);
		via = lookup_lib(&r, i, &l);
		if (via < 0) {
			ld_strv_free(l.tried.v);
			dirs_free(l.dirs, l.ndirs);
			free(l.found);
			elf_info_release(&l.info);
			sp_err_set(e, "out of memory");
			goto out;
		}
		if (via > 0) {
			ld_strv_free(l.tried.v);
			out->libs[i].path = l.found;
			out->libs[i].info = l.info;
			out->libs[i].via = (enum ld_via)via;
			out->libs[i].dirs = l.dirs;
			out->libs[i].ndirs = l.ndirs;
		} else {
			out->libs[i].tried = l.tried.v;
			out->libs[i].ntried = l.tried.n;
			dirs_free(l.dirs, l.ndirs);
			continue;
		}
		if (o->descend &&
		    !o->descend(out->libs[i].soname, out->libs[i].path, o->arg))
			continue;
		out->libs[i].descended = 1;
		if (add_needs(out, &out->libs[i].info, i, e) < 0)
			goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		ld_tree_release(out);
	ld_strv_free(r.arch_defs);
	free(origin);
	return rc;
}
