#define _GNU_SOURCE
#include "worker/repair/policy.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsx.h"
#include "common/path.h"
#include "common/stamp.h"
#include "worker/elf/machine.h"

#define POLICY_FILE "manylinux-policy.json"

/* The namespaces a ceiling covers, in the order messages name them. */
enum { NS_GLIBC, NS_CXXABI, NS_GLIBCXX, NS_GCC, NS_COUNT };

static const char *const ns_names[NS_COUNT] = {"GLIBC", "CXXABI", "GLIBCXX",
					       "GCC"};

static struct symver *ns_get(struct symvers *s, int ns)
{
	switch (ns) {
	case NS_GLIBC:
		return &s->glibc;
	case NS_CXXABI:
		return &s->cxxabi;
	case NS_GLIBCXX:
		return &s->glibcxx;
	default:
		return &s->gcc;
	}
}

static const struct symver *ns_cget(const struct symvers *s, int ns)
{
	return ns_get((struct symvers *)s, ns);
}

const char *policy_arch_of_machine(unsigned machine)
{
	return elf_machine_policy_arch(machine);
}

static void tag_release(struct policy_tag *t)
{
	size_t i;

	free(t->name);
	free(t->alias);
	for (i = 0; i < t->nlibs; i++)
		free(t->libs[i]);
	free(t->libs);
}

void policy_release(struct policy *p)
{
	size_t i;

	for (i = 0; i < p->ntags; i++)
		tag_release(&p->tags[i]);
	free(p->tags);
	free(p->arch);
	memset(p, 0, sizeof(*p));
}

/* Reads one tag entry; 1 when it has ceilings for arch, 0 when it has none
 * (skipped), -1 on a malformed entry. */
static int load_tag(const json_t *o, const char *arch, const char *path,
		    size_t idx, struct policy_tag *t, struct sp_err *e)
{
	const json_t *g = json_object_get(o, "glibc");
	const json_t *aliases = json_object_get(o, "aliases");
	const json_t *libs = json_object_get(o, "libs");
	const json_t *ceil = json_object_get(json_object_get(o, "ceilings"),
					     arch);
	struct symver gv;
	size_t i;
	int ns;

	memset(t, 0, sizeof(*t));
	if (!json_is_string(g) ||
	    symver_parse(json_string_value(g), &gv) < 0 ||
	    gv.v[0] != 2 || gv.v[2] != 0)
		return sp_err_set(e, "'%s': tag %zu: 'glibc' must be \"2.N\"",
				  path, idx);
	if (!json_is_array(libs) || !json_is_array(aliases))
		return sp_err_set(e, "'%s': tag %zu: 'libs' and 'aliases' "
				     "must be arrays",
				  path, idx);
	if (!ceil)
		return 0;
	t->glibc_minor = gv.v[1];
	if (asprintf(&t->name, "manylinux_2_%u", t->glibc_minor) < 0) {
		t->name = NULL;
		goto oom;
	}
	if (json_array_size(aliases) > 0) {
		const json_t *a = json_array_get(aliases, 0);

		if (!json_is_string(a))
			goto bad;
		if (!(t->alias = strdup(json_string_value(a))))
			goto oom;
	}
	t->libs = calloc(json_array_size(libs) + 1, sizeof(*t->libs));
	if (!t->libs)
		goto oom;
	for (i = 0; i < json_array_size(libs); i++) {
		const json_t *l = json_array_get(libs, i);

		if (!json_is_string(l))
			goto bad;
		if (!(t->libs[t->nlibs] = strdup(json_string_value(l))))
			goto oom;
		t->nlibs++;
	}
	for (ns = 0; ns < NS_COUNT; ns++) {
		const json_t *v = json_object_get(ceil, ns_names[ns]);

		if (!json_is_string(v) ||
		    symver_parse(json_string_value(v),
					 ns_get(&t->ceiling, ns)) < 0) {
			sp_err_set(e, "'%s': %s: ceiling '%s' for %s is "
				      "missing or not a version",
				   path, t->name, ns_names[ns], arch);
			tag_release(t);
			return -1;
		}
	}
	return 1;
bad:
	sp_err_set(e, "'%s': %s: 'libs' and 'aliases' must hold strings", path,
		   t->name);
	tag_release(t);
	return -1;
oom:
	tag_release(t);
	return sp_err_set(e, "out of memory");
}

static int tag_cmp(const void *a, const void *b)
{
	const struct policy_tag *x = a, *y = b;

	return (x->glibc_minor > y->glibc_minor) -
	       (x->glibc_minor < y->glibc_minor);
}

int policy_load(struct policy *p, const char *path, const char *arch,
		struct sp_err *e)
{
	json_error_t jerr;
	json_t *root, *tags;
	char *text;
	size_t i, len;
	int rc = -1;

	memset(p, 0, sizeof(*p));
	/* Read whole, then parsed from memory: json_load_file() reads a
	 * character at a time, which cost more than the parse. */
	text = fsx_read_all(path, &len, e);
	if (!text)
		return sp_err_wrap(e, "cannot load the manylinux policy");
	root = json_loadb(text, len, 0, &jerr);
	free(text);
	if (!root)
		return sp_err_set(e, "cannot load the manylinux policy '%s': "
				     "line %d: %s",
				  path, jerr.line, jerr.text);
	tags = json_object_get(root, "tags");
	if (!json_is_integer(json_object_get(root, "format")) ||
	    json_integer_value(json_object_get(root, "format")) != 1 ||
	    !json_is_array(tags)) {
		sp_err_set(e, "'%s' is not a spoke manylinux policy (format 1 "
			      "with a 'tags' array)",
			   path);
		goto out;
	}
	p->arch = strdup(arch);
	p->tags = calloc(json_array_size(tags) + 1, sizeof(*p->tags));
	if (!p->arch || !p->tags) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	for (i = 0; i < json_array_size(tags); i++) {
		int got = load_tag(json_array_get(tags, i), arch, path, i,
				   &p->tags[p->ntags], e);

		if (got < 0)
			goto out;
		p->ntags += (size_t)got;
	}
	if (!p->ntags) {
		sp_err_set(e, "the manylinux policy '%s' has no tag for %s",
			   path, arch);
		goto out;
	}
	qsort(p->tags, p->ntags, sizeof(*p->tags), tag_cmp);
	rc = 0;
out:
	if (rc < 0)
		policy_release(p);
	json_decref(root);
	return rc;
}

/* Where the installed table is: <dir of the executable>/../share/spoke/
 * first, so that an installed spoke never reads a source tree that happens
 * to still exist, else the source tree's.  The executable's place is
 * looked up once per process.  NULL with e set when neither exists. */
static const char *policy_path(struct sp_err *e)
{
	static char *installed;
	static int looked;
	const char *built = SPOKE_DATA_DIR "/" POLICY_FILE;

	if (!looked) {
		char exe[PATH_MAX], *dir;
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

		looked = 1;
		if (n > 0) {
			exe[n] = '\0';
			dir = path_dirname(exe);
			if (dir && asprintf(&installed, "%s/../share/spoke/%s",
					    dir, POLICY_FILE) < 0)
				installed = NULL;
			free(dir);
		}
	}
	if (installed && path_exists(installed))
		return installed;
	if (path_exists(built))
		return built;
	sp_err_set(e, "cannot find the manylinux policy: neither '%s' nor "
		      "'%s' exists",
		   installed ? installed : POLICY_FILE, built);
	return NULL;
}

int policy_load_default(struct policy *p, const char *arch, struct sp_err *e)
{
	const char *path = policy_path(e);

	memset(p, 0, sizeof(*p));
	return path ? policy_load(p, path, arch, e) : -1;
}

/* policy_default()'s table, its file's path and stamp, arch, and the
 * stamp epoch in which it was last found current (fsx.h). */
static struct {
	struct policy pol;
	char *path;
	struct stamp stamp;
	uint64_t epoch;
} cache;

const struct policy *policy_default(const char *arch, struct sp_err *e)
{
	uint64_t epoch = stamp_epoch();
	const char *path;
	struct stamp now;
	struct policy fresh;

	if (epoch && cache.epoch == epoch && cache.path &&
	    strcmp(cache.pol.arch, arch) == 0)
		return &cache.pol;
	if (!(path = policy_path(e)))
		return NULL;
	stamp_take(path, &now);
	if (cache.path && strcmp(cache.path, path) == 0 &&
	    strcmp(cache.pol.arch, arch) == 0 &&
	    stamp_same(&cache.stamp, &now)) {
		cache.epoch = epoch;
		return &cache.pol;
	}
	/* Stamped before reading: a change while it is read shows next
	 * time. */
	if (policy_load(&fresh, path, arch, e) < 0)
		return NULL;
	policy_release(&cache.pol);
	free(cache.path);
	cache.pol = fresh;
	cache.path = strdup(path);
	cache.stamp = now;
	cache.epoch = cache.path ? epoch : 0;
	if (!cache.path)
		cache.stamp.racy = 1; /* compares with nothing */
	return &cache.pol;
}

/* Matches name against tag (or alias) base, optionally followed by
 * "_<arch>"; 1 on a match, -1 when only the arch differs, else 0. */
static int name_matches(const char *name, const char *base, const char *arch)
{
	size_t n = strlen(base);

	if (strncmp(name, base, n) != 0)
		return 0;
	if (!name[n])
		return 1;
	if (name[n] != '_')
		return 0;
	return strcmp(name + n + 1, arch) == 0 ? 1 : -1;
}

const struct policy_tag *policy_find(const struct policy *p, const char *name,
				     struct sp_err *e)
{
	char known[512] = "";
	size_t i, len = 0;
	int m;

	for (i = 0; i < p->ntags; i++) {
		const struct policy_tag *t = &p->tags[i];

		m = name_matches(name, t->name, p->arch);
		if (!m && t->alias)
			m = name_matches(name, t->alias, p->arch);
		if (m > 0)
			return t;
		if (m < 0) {
			sp_err_set(e, "manylinux tag '%s' is not for this "
				      "machine (%s)",
				   name, p->arch);
			return NULL;
		}
	}
	for (i = 0; i < p->ntags && len < sizeof(known); i++)
		len += (size_t)snprintf(known + len, sizeof(known) - len,
					"%s%s%s%s", i ? ", " : "",
					p->tags[i].name,
					p->tags[i].alias ? " or " : "",
					p->tags[i].alias ? p->tags[i].alias
							 : "");
	sp_err_set(e, "unknown manylinux tag '%s' (known: %s)", name, known);
	return NULL;
}

int policy_allows_lib(const struct policy_tag *t, const char *soname)
{
	size_t i;

	/* The dynamic loader is the system itself: a wheel cannot bundle it
	 * and every system has the one its libc needs. */
	if (strncmp(soname, "ld-linux", 8) == 0 ||
	    strncmp(soname, "ld64.so.", 8) == 0)
		return 1;
	for (i = 0; i < t->nlibs; i++)
		if (strcmp(soname, t->libs[i]) == 0)
			return 1;
	return 0;
}

/* The first namespace in which need exceeds t's ceiling, or -1. */
static int first_excess(const struct policy_tag *t, const struct symvers *need)
{
	int ns;

	for (ns = 0; ns < NS_COUNT; ns++) {
		const struct symver *v = ns_cget(need, ns);

		if (v->present && symver_cmp(v, ns_cget(&t->ceiling, ns)) > 0)
			return ns;
	}
	return -1;
}

int policy_check(const struct policy_tag *t, const struct symvers *need,
		 const char *object, struct sp_err *e)
{
	char have[32], allow[32];
	int ns = first_excess(t, need);

	if (ns < 0)
		return 0;
	symver_format(ns_cget(need, ns), have, sizeof(have));
	symver_format(ns_cget(&t->ceiling, ns), allow, sizeof(allow));
	return sp_err_set(e, "'%s' needs %s_%s, newer than %s allows (%s_%s)",
			  object, ns_names[ns], have, t->name, ns_names[ns],
			  allow);
}

const struct policy_tag *policy_choose(const struct policy *p,
				       const struct symvers *need,
				       const char *const *sonames, size_t n,
				       const struct policy_tag *limit)
{
	size_t i, k;

	for (i = 0; i < p->ntags; i++) {
		const struct policy_tag *t = &p->tags[i];

		if (limit && t->glibc_minor > limit->glibc_minor)
			break;
		if (first_excess(t, need) >= 0)
			continue;
		for (k = 0; k < n; k++)
			if (!policy_allows_lib(t, sonames[k]))
				break;
		if (k == n)
			return t;
	}
	return NULL;
}

char *policy_platform_tag(const struct policy *p, const struct policy_tag *t)
{
	char *s;
	int rc;

	if (t->alias)
		rc = asprintf(&s, "%s_%s.%s_%s", t->name, p->arch, t->alias,
			      p->arch);
	else
		rc = asprintf(&s, "%s_%s", t->name, p->arch);
	return rc < 0 ? NULL : s;
}
