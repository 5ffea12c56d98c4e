#define _GNU_SOURCE
#include "worker/repair/policy.h"

#include <elf.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsx.h"
#include "common/path.h"
#include "worker/repair/policy_table.h"

/* Symbols named per version in a one-line message. */
#define FORMAT_SYMS 8


const char *policy_libc_name(enum policy_libc libc)
{
	return libc == POLICY_MUSL ? "musl" : "glibc";
}

/* 1 when the file name at path ends in suffix, or in suffix followed by
 * ".<digits>" parts ("x.so.1"). */
static int name_ends(const char *path, const char *suffix)
{
	const char *base = strrchr(path, '/'), *p;

	base = base ? base + 1 : path;
	p = strstr(base, suffix);
	while (p) {
		const char *q = p + strlen(suffix);

		while (*q == '.' && isdigit((unsigned char)q[1]))
			for (q++; isdigit((unsigned char)*q); q++)
				;
		if (!*q)
			return 1;
		p = strstr(p + 1, suffix);
	}
	return 0;
}

int policy_libc_of(const struct elf_info *info, const char *name,
		   enum policy_libc *out, struct sp_err *e)
{
	switch (elf_info_libc(info)) {
	case ELF_LIBC_MUSL:
		*out = POLICY_MUSL;
		return 0;
	case ELF_LIBC_GLIBC:
		*out = POLICY_GLIBC;
		return 0;
	case ELF_LIBC_UNKNOWN:
		break;
	}
	if (name_ends(name, "-linux-android.so"))
		return sp_err_set(e,
				  "'%s' is built for Android, which no "
				  "manylinux or musllinux policy covers",
				  name);
	*out = name_ends(name, "-linux-musl.so") ||
		       name_ends(name, "-linux-musleabihf.so")
		   ? POLICY_MUSL
		   : POLICY_GLIBC;
	return 0;
}

int policy_libc_of_tag(const char *name)
{
	if (strncmp(name, "musllinux_", 10) == 0)
		return POLICY_MUSL;
	if (strncmp(name, "manylinux", 9) == 0)
		return POLICY_GLIBC;
	return -1;
}

static void strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void tag_release(struct policy_tag *t)
{
	size_t i;
	int ns;

	free(t->name);
	strv_free(t->aliases, t->naliases);
	strv_free(t->libs, t->nlibs);
	for (ns = 0; ns < SYMVERS_NNS; ns++)
		strv_free(t->vers[ns], t->nvers[ns]);
	for (i = 0; i < t->nblacklist; i++) {
		free(t->blacklist[i].lib);
		strv_free(t->blacklist[i].syms, t->blacklist[i].nsyms);
	}
	free(t->blacklist);
	memset(t, 0, sizeof(*t));
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

/* Copies the JSON array of strings a into *v, *n; "libc.so" becomes musl
 * when musl is not NULL.  0, -1 when a is not an array of strings, -2 out
 * of memory. */
static int strv_load(const json_t *a, const char *musl, char ***v, size_t *n)
{
	size_t i;

	*v = NULL;
	*n = 0;
	if (!json_is_array(a))
		return -1;
	*v = calloc(json_array_size(a) + 1, sizeof(**v));
	if (!*v)
		return -2;
	for (i = 0; i < json_array_size(a); i++) {
		const char *s = json_string_value(json_array_get(a, i));

		if (!s)
			return -1;
		if (musl && strcmp(s, "libc.so") == 0)
			s = musl;
		if (!((*v)[*n] = strdup(s)))
			return -2;
		(*n)++;
	}
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads one policy entry for arch into t; 1 when it covers arch, 0 when
 * it does not (skipped), -1 on a malformed entry. */
static int load_tag(const json_t *o, const char *arch, const char *musl,
		    const char *path, size_t idx, struct policy_tag *t,
		    struct sp_err *e)
{
	const json_t *sv = json_object_get(json_object_get(o, "symbol_versions"),
					   arch);
	const json_t *bl = json_object_get(o, "blacklist"), *v;
	const char *name = json_string_value(json_object_get(o, "name"));
	const char *key, *what;
	int ns, rc = 0;

	memset(t, 0, sizeof(*t));
	if (!name)
		return sp_err_set(e, "'%s': policy %zu has no 'name'", path,
				  idx);
	if (!json_is_object(json_object_get(o, "symbol_versions")) ||
	    !json_is_object(bl))
		return sp_err_set(e, "'%s': %s: 'symbol_versions' and "
				     "'blacklist' must be objects",
				  path, name);
	if (!sv)
		return 0;
	if (!json_is_object(sv))
		return sp_err_set(e, "'%s': %s: 'symbol_versions' for %s must "
				     "be an object",
				  path, name, arch);
	if (!(t->name = strdup(name)))
		goto oom;
	what = "aliases";
	if ((rc = strv_load(json_object_get(o, "aliases"), NULL, &t->aliases,
			    &t->naliases)) < 0)
		goto bad;
	what = "libs";
	if ((rc = strv_load(json_object_get(o, "libs"), musl, &t->libs,
			    &t->nlibs)) < 0)
		goto bad;
	/* A namespace the tag does not list for arch is not judged (musl
	 * lists none); one listed empty accepts no version of it. */
	what = "symbol_versions";
	json_object_foreach((json_t *)sv, key, v) {
		if ((ns = symvers_ns_find(key)) < 0)
			continue;
		t->judged[ns] = 1;
		if ((rc = strv_load(v, NULL, &t->vers[ns], &t->nvers[ns])) < 0)
			goto bad;
	}
	what = "blacklist";
	t->blacklist = calloc(json_object_size(bl) + 1, sizeof(*t->blacklist));
	if (!t->blacklist)
		goto oom;
	json_object_foreach((json_t *)bl, key, v) {
		struct policy_blacklist *b = &t->blacklist[t->nblacklist];

		if (!(b->lib = strdup(key)))
			goto oom;
		t->nblacklist++;
		rc = strv_load(v, NULL, &b->syms, &b->nsyms);
		if (rc < 0)
			goto bad;
		qsort(b->syms, b->nsyms, sizeof(*b->syms), str_cmp);
	}
	return 1;
bad:
	if (rc == -2)
		goto oom;
	sp_err_set(e, "'%s': %s: '%s' is not made of lists of strings", path,
		   name, what);
	tag_release(t);
	return -1;
oom:
	tag_release(t);
	return sp_err_set(e, "out of memory");
}

/* The name of the compiled-in table in messages. */
#define BUILT_IN "the built-in platform policy (data/policy.json)"

/* Parses a table's text; name says which in messages.  NULL with e
 * filled. */
static json_t *parse_json(const char *text, size_t len, const char *name,
			  struct sp_err *e)
{
	json_error_t jerr;
	json_t *root, *fmt;

	root = json_loadb(text, len, 0, &jerr);
	if (!root) {
		sp_err_set(e, "cannot load the platform policy '%s': line %d: "
			      "%s",
			   name, jerr.line, jerr.text);
		return NULL;
	}
	fmt = json_object_get(root, "format");
	if (!json_is_integer(fmt) || json_integer_value(fmt) != 2 ||
	    !json_is_array(json_object_get(root, "policies")) ||
	    !json_is_object(json_object_get(root, "musl_libc"))) {
		sp_err_set(e, "'%s' is not a spoke platform policy (format 2 "
			      "with 'policies' and 'musl_libc')",
			   name);
		json_decref(root);
		return NULL;
	}
	return root;
}

/* Parses the table at path.  NULL with e filled. */
static json_t *load_json(const char *path, struct sp_err *e)
{
	json_t *root;
	char *text;
	size_t len;

	/* Read whole, then parsed from memory: json_load_file() reads a
	 * character at a time, which cost more than the parse. */
	text = fsx_read_all(path, &len, e);
	if (!text) {
		sp_err_wrap(e, "cannot load the platform policy");
		return NULL;
	}
	root = parse_json(text, len, path, e);
	free(text);
	return root;
}

/* The compiled-in table, parsed once per process (a borrowed reference,
 * kept).  NULL with e filled: only when memory runs out, since the build
 * checked that it parses. */
static json_t *built_in_json(struct sp_err *e)
{
	static json_t *root;

	if (!root)
		root = parse_json((const char *)policy_table,
				  policy_table_len, BUILT_IN, e);
	return root;
}

/* Says that the table at path has no tag of libc for arch, naming the
 * architectures it has tags of that libc for: "armv5l" is then read as
 * "not one of these", not as a broken table. */
static int no_tag_for(const json_t *pols, const char *path,
		      enum policy_libc libc, const char *arch,
		      struct sp_err *e)
{
	char have[256] = "";
	size_t i, len = 0;

	for (i = 0; i < json_array_size(pols); i++) {
		const json_t *o = json_array_get(pols, i);
		const char *l = json_string_value(json_object_get(o, "libc"));
		const char *a;
		json_t *v;

		if (!l || strcmp(l, policy_libc_name(libc)) != 0)
			continue;
		json_object_foreach(json_object_get(o, "symbol_versions"), a,
				    v) {
			char word[64];

			(void)v;
			snprintf(word, sizeof(word), "%s, ", a);
			if (strstr(have, word) || len + strlen(word) + 1 >=
						      sizeof(have))
				continue;
			memcpy(have + len, word, strlen(word) + 1);
			len += strlen(word);
		}
	}
	if (len)
		have[len - 2] = '\0';
	return sp_err_set(e,
			  "no %s policy covers %s objects (the policies in "
			  "'%s' cover %s)",
			  libc == POLICY_MUSL ? "musllinux" : "manylinux", arch,
			  path, len ? have : "nothing");
}

/* Loads the tags of the parsed table root (named path in messages) for
 * libc and arch, as policy_load. */
static int load_root(struct policy *p, const json_t *root, const char *path,
		     enum policy_libc libc, const char *arch,
		     struct sp_err *e)
{
	const char *musl = NULL;
	const json_t *pols;
	size_t i;
	int rc = -1;

	memset(p, 0, sizeof(*p));
	pols = json_object_get(root, "policies");
	if (libc == POLICY_MUSL) {
		musl = json_string_value(
		    json_object_get(json_object_get(root, "musl_libc"), arch));
		if (!musl) {
			no_tag_for(pols, path, libc, arch, e);
			goto out;
		}
	}
	p->libc = libc;
	p->arch = strdup(arch);
	p->tags = calloc(json_array_size(pols) + 1, sizeof(*p->tags));
	if (!p->arch || !p->tags) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	/* The table lists each libc's tags most compatible first. */
	for (i = 0; i < json_array_size(pols); i++) {
		const json_t *o = json_array_get(pols, i);
		const char *l = json_string_value(json_object_get(o, "libc"));
		int got;

		if (!l || strcmp(l, policy_libc_name(libc)) != 0)
			continue;
		got = load_tag(o, arch, musl, path, i, &p->tags[p->ntags], e);
		if (got < 0)
			goto out;
		p->ntags += (size_t)got;
	}
	if (!p->ntags) {
		no_tag_for(pols, path, libc, arch, e);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		policy_release(p);
	return rc;
}

int policy_load(struct policy *p, const char *path, enum policy_libc libc,
		const char *arch, struct sp_err *e)
{
	json_t *root;
	int rc;

	memset(p, 0, sizeof(*p));
	if (!(root = load_json(path, e)))
		return -1;
	rc = load_root(p, root, path, libc, arch, e);
	json_decref(root);
	return rc;
}

/* policy_default()'s table: one libc and arch at a time. */
static struct {
	struct policy pol;
	int loaded;
} cache;

const struct policy *policy_default(enum policy_libc libc, const char *arch,
				    struct sp_err *e)
{
	const json_t *root;
	struct policy fresh;

	if (cache.loaded && cache.pol.libc == libc &&
	    strcmp(cache.pol.arch, arch) == 0)
		return &cache.pol;
	if (!(root = built_in_json(e)) ||
	    load_root(&fresh, root, BUILT_IN, libc, arch, e) < 0)
		return NULL;
	policy_release(&cache.pol);
	cache.pol = fresh;
	cache.loaded = 1;
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
	if (strcmp(name + n + 1, arch) == 0)
		return 1;
	/* "manylinux_2_17" must not read as "manylinux_2_1" + "_7". */
	return name[n + 1] >= 'a' && name[n + 1] <= 'z' ? -1 : 0;
}

/* The tag t matches name (its name or an alias), as name_matches. */
static int tag_matches(const struct policy_tag *t, const char *name,
		       const char *arch)
{
	size_t i;
	int m = name_matches(name, t->name, arch), a;

	for (i = 0; m <= 0 && i < t->naliases; i++) {
		a = name_matches(name, t->aliases[i], arch);
		if (a)
			m = a;
	}
	return m;
}

/* Lists the tags of p in buf: "manylinux_2_5 (manylinux1), ...". */
static void list_tags(const struct policy *p, char *buf, size_t n)
{
	size_t i, k, len = 0;

	buf[0] = '\0';
	for (i = 0; i < p->ntags && len < n; i++) {
		const struct policy_tag *t = &p->tags[i];

		len += (size_t)snprintf(buf + len, n - len, "%s%s",
					i ? ", " : "", t->name);
		for (k = 0; k < t->naliases && len < n; k++)
			len += (size_t)snprintf(buf + len, n - len, "%s%s%s",
						k ? ", " : " (", t->aliases[k],
						k + 1 == t->naliases ? ")"
								     : "");
	}
}

const struct policy_tag *policy_find(const struct policy *p, const char *name,
				     const char *what, struct sp_err *e)
{
	char known[400];
	int libc = policy_libc_of_tag(name), m;
	size_t i;

	if (libc >= 0 && (enum policy_libc)libc != p->libc) {
		sp_err_set(e, "%s is built for %s: --compat %s is a %s tag",
			   what ? what : "the wheel", policy_libc_name(p->libc),
			   name, policy_libc_name((enum policy_libc)libc));
		return NULL;
	}
	for (i = 0; i < p->ntags; i++) {
		m = tag_matches(&p->tags[i], name, p->arch);
		if (m > 0)
			return &p->tags[i];
		if (m < 0) {
			sp_err_set(e, "platform tag '%s' is not for this "
				      "architecture (%s)",
				   name, p->arch);
			return NULL;
		}
	}
	list_tags(p, known, sizeof(known));
	sp_err_set(e, "unknown %s tag '%s' for %s (known: %s)",
		   p->libc == POLICY_MUSL ? "musllinux" : "manylinux", name,
		   p->arch, known);
	return NULL;
}

int policy_name_valid(const char *name, struct sp_err *e)
{
	const char *arch, *pname;
	json_t *root, *pols, *o, *sv, *v;
	char names[600];
	size_t i, k, len = 0;
	int ok = 0;

	if (!(root = built_in_json(e)))
		return -2;
	pols = json_object_get(root, "policies");
	names[0] = '\0';
	json_array_foreach(pols, i, o) {
		struct policy_tag t = {0};
		json_t *aliases = json_object_get(o, "aliases");

		pname = json_string_value(json_object_get(o, "name"));
		sv = json_object_get(o, "symbol_versions");
		if (!pname || !json_is_object(sv))
			continue;
		t.name = (char *)pname;
		t.aliases = calloc(json_array_size(aliases) + 1,
				   sizeof(*t.aliases));
		if (!t.aliases)
			break;
		for (k = 0; k < json_array_size(aliases); k++)
			if (json_is_string(json_array_get(aliases, k)))
				t.aliases[t.naliases++] = (char *)json_string_value(
				    json_array_get(aliases, k));
		/* Without a suffix any arch will do; with one, it must be
		 * an arch the tag covers. */
		json_object_foreach(sv, arch, v)
			if (tag_matches(&t, name, arch) > 0)
				ok = 1;
		if (len < sizeof(names))
			len += (size_t)snprintf(names + len, sizeof(names) - len,
						"%s%s", len ? ", " : "", pname);
		for (k = 0; k < t.naliases && len < sizeof(names); k++)
			len += (size_t)snprintf(names + len, sizeof(names) - len,
						", %s", t.aliases[k]);
		free(t.aliases);
		if (ok)
			break;
	}
	if (ok)
		return 0;
	return sp_err_set(e, "unknown platform tag '%s' (known, each with or "
			     "without an _<arch> suffix: %s)",
			  name, names);
}

int policy_allows_lib(const struct policy_tag *t, const char *soname)
{
	size_t i;

	/* The dynamic loader is the system itself: a wheel cannot bundle it
	 * and every system has the one its libc needs. */
	if (elf_is_loader(soname))
		return 1;
	for (i = 0; i < t->nlibs; i++)
		if (strcmp(soname, t->libs[i]) == 0)
			return 1;
	return 0;
}

void policy_misses_release(struct policy_misses *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->v[i].syms);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* Appends a reason; its syms array is taken over.  -1 out of memory. */
static int add_miss(struct policy_misses *m, const struct policy_miss *x)
{
	struct policy_miss *v = realloc(m->v, (m->n + 1) * sizeof(*v));

	if (!v)
		return -1;
	m->v = v;
	m->v[m->n++] = *x;
	return 0;
}

static int ver_listed(const struct policy_tag *t, int ns, const char *ver)
{
	size_t i;

	for (i = 0; i < t->nvers[ns]; i++)
		if (strcmp(t->vers[ns][i], ver) == 0)
			return 1;
	return 0;
}

static int sym_blacklisted(const struct policy_blacklist *b, const char *sym)
{
	return bsearch(&sym, b->syms, b->nsyms, sizeof(*b->syms), str_cmp) !=
	       NULL;
}

/* The symbol versions o requires that t does not list.  1 fits, 0 not,
 * -1 out of memory. */
static int judge_versions(const struct policy_tag *t,
			  const struct policy_object *o,
			  struct policy_misses *why)
{
	size_t i;
	int fits = 1;

	for (i = 0; i < o->sv->n; i++) {
		const struct symvers_need *nd = &o->sv->needs[i];
		struct policy_miss x = {0};

		if (!t->judged[nd->ns] || ver_listed(t, nd->ns, nd->version))
			continue;
		fits = 0;
		if (!why)
			return 0;
		x.kind = POLICY_MISS_VERSION;
		x.object = o->name;
		x.what = nd->name;
		x.lib = nd->file;
		if (nd->nsyms) {
			x.syms = malloc(nd->nsyms * sizeof(*x.syms));
			if (!x.syms)
				return -1;
			memcpy(x.syms, nd->syms, nd->nsyms * sizeof(*x.syms));
			x.nsyms = nd->nsyms;
		}
		if (add_miss(why, &x) < 0) {
			free(x.syms);
			return -1;
		}
	}
	return fits;
}

/* The black-listed symbols o uses: its undefined symbols that are not
 * weak, against the lists of the libraries it needs. */
static int judge_blacklist(const struct policy_tag *t,
			   const struct policy_object *o,
			   struct policy_misses *why)
{
	const struct elf_imports *im = &o->sv->imports;
	size_t b, k, i;
	int fits = 1;

	for (b = 0; b < t->nblacklist; b++) {
		const struct policy_blacklist *bl = &t->blacklist[b];
		struct policy_miss x = {0};

		for (k = 0; k < o->nneeded; k++)
			if (strcmp(o->needed[k], bl->lib) == 0)
				break;
		if (k == o->nneeded)
			continue;
		for (i = 0; i < im->n; i++) {
			const struct elf_import *s = &im->syms[i];
			const char **v;

			if (s->bind == STB_WEAK || !sym_blacklisted(bl, s->name))
				continue;
			fits = 0;
			if (!why)
				return 0;
			v = realloc(x.syms, (x.nsyms + 1) * sizeof(*v));
			if (!v) {
				free(x.syms);
				return -1;
			}
			x.syms = v;
			x.syms[x.nsyms++] = s->name;
		}
		if (!x.nsyms)
			continue;
		x.kind = POLICY_MISS_BLACKLIST;
		x.object = o->name;
		x.what = bl->lib;
		x.lib = bl->lib;
		if (add_miss(why, &x) < 0) {
			free(x.syms);
			return -1;
		}
	}
	return fits;
}

int policy_judge(const struct policy_tag *t, const struct policy_object *objs,
		 size_t n, const char *const *sys, size_t nsys,
		 struct policy_misses *why, struct sp_err *e)
{
	size_t i;
	int fits = 1, r;

	for (i = 0; i < nsys && (fits || why); i++) {
		struct policy_miss x = {0};

		if (policy_allows_lib(t, sys[i]))
			continue;
		fits = 0;
		x.kind = POLICY_MISS_LIB;
		x.what = sys[i];
		if (why && add_miss(why, &x) < 0)
			goto oom;
	}
	for (i = 0; i < n && (fits || why); i++) {
		if ((r = judge_versions(t, &objs[i], why)) < 0)
			goto oom;
		fits &= r;
		if ((fits || why) &&
		    (r = judge_blacklist(t, &objs[i], why)) < 0)
			goto oom;
		fits &= r;
	}
	return fits;
oom:
	return sp_err_set(e, "out of memory");
}

const struct policy_tag *policy_choose(const struct policy *p,
				       const struct policy_object *objs,
				       size_t n, const char *const *sys,
				       size_t nsys, size_t *first,
				       struct sp_err *e)
{
	size_t i = p->libc == POLICY_MUSL ? p->ntags - 1 : 0;
	int r;

	*first = i;
	for (; i < p->ntags; i++) {
		r = policy_judge(&p->tags[i], objs, n, sys, nsys, NULL, e);
		if (r < 0)
			return NULL;
		if (r)
			return &p->tags[i];
	}
	return NULL;
}

/* snprintf at buf + *len, keeping *len at most n. */
static void put(char *buf, size_t n, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t n, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*len >= n)
		return;
	va_start(ap, fmt);
	w = vsnprintf(buf + *len, n - *len, fmt, ap);
	va_end(ap);
	if (w > 0)
		*len += (size_t)w;
	if (*len > n)
		*len = n;
}

void policy_misses_format(const struct policy_misses *m, char *buf, size_t n)
{
	/* One wording: the JSON a report carries, said as a line. */
	json_t *j = policy_misses_json(m);

	if (!j) {
		if (n)
			snprintf(buf, n, "(out of memory)");
		return;
	}
	policy_reasons_format(j, buf, n);
	json_decref(j);
}

/* Appends the JSON array of strings a, ", "-separated, at most max
 * of them (0: all), with " and N more". */
static void put_strs(char *buf, size_t n, size_t *len, const json_t *a,
		     size_t max)
{
	size_t k, cnt = json_array_size(a);

	for (k = 0; k < cnt && (!max || k < max); k++)
		put(buf, n, len, "%s%s", k ? ", " : "",
		    json_string_value(json_array_get(a, k)));
	if (max && cnt > max)
		put(buf, n, len, " and %zu more", cnt - max);
}

void policy_reasons_format(const json_t *reasons, char *buf, size_t n)
{
	const json_t *x, *prev = NULL;
	const char *obj;
	size_t i, len = 0;

	if (!n)
		return;
	buf[0] = '\0';
	json_array_foreach(json_object_get(reasons, "libraries"), i, x)
		put(buf, n, &len, "%s%s is not on the tag's list of system "
				  "libraries",
		    len ? "; " : "",
		    json_string_value(json_object_get(x, "soname")));
	json_array_foreach(json_object_get(reasons, "symbol_versions"), i, x) {
		obj = json_string_value(json_object_get(x, "object"));
		if (prev && obj &&
		    !strcmp(obj, json_string_value(
				     json_object_get(prev, "object"))))
			put(buf, n, &len, ", ");
		else
			put(buf, n, &len, "%s'%s' needs ", len ? "; " : "",
			    obj ? obj : "");
		put(buf, n, &len, "%s",
		    json_string_value(json_object_get(x, "version")));
		if (json_array_size(json_object_get(x, "symbols"))) {
			put(buf, n, &len, " (");
			put_strs(buf, n, &len, json_object_get(x, "symbols"),
				 FORMAT_SYMS);
			put(buf, n, &len, ")");
		}
		prev = x;
	}
	json_array_foreach(json_object_get(reasons, "blacklisted"), i, x) {
		put(buf, n, &len, "%s'%s' depends on black-listed symbols: %s: ",
		    len ? "; " : "",
		    json_string_value(json_object_get(x, "object")),
		    json_string_value(json_object_get(x, "library")));
		put_strs(buf, n, &len, json_object_get(x, "symbols"), 0);
	}
}

const char *policy_nearest_miss(const json_t *older, char *buf, size_t n)
{
	const json_t *t, *r;
	size_t i;

	for (i = json_array_size(older); i-- > 0;) {
		t = json_array_get(older, i);
		r = json_object_get(t, "reasons");
		if (!json_array_size(json_object_get(r, "libraries")) &&
		    !json_array_size(json_object_get(r, "symbol_versions")) &&
		    !json_array_size(json_object_get(r, "blacklisted")))
			continue;
		policy_reasons_format(r, buf, n);
		return json_string_value(json_object_get(t, "tag"));
	}
	return NULL;
}

static json_t *strs_json(const char *const *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_string(v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

json_t *policy_misses_json(const struct policy_misses *m)
{
	json_t *vers = json_array(), *libs = json_array(),
	       *black = json_array(), *o = NULL;
	size_t i;

	if (!vers || !libs || !black)
		goto out;
	for (i = 0; i < m->n; i++) {
		const struct policy_miss *x = &m->v[i];
		json_t *it = NULL, *to = NULL;

		switch (x->kind) {
		case POLICY_MISS_VERSION:
			it = json_pack("{s:s,s:s,s:s,s:o}", "object",
				       x->object, "version", x->what,
				       "library", x->lib, "symbols",
				       strs_json(x->syms, x->nsyms));
			to = vers;
			break;
		case POLICY_MISS_LIB:
			it = json_pack("{s:s,s:o}", "soname", x->what,
				       "needed_by",
				       x->object ? json_string(x->object)
						 : json_null());
			to = libs;
			break;
		case POLICY_MISS_BLACKLIST:
			it = json_pack("{s:s,s:s,s:o}", "object", x->object,
				       "library", x->lib, "symbols",
				       strs_json(x->syms, x->nsyms));
			to = black;
			break;
		}
		if (!it || json_array_append_new(to, it) < 0)
			goto out;
	}
	o = json_pack("{s:O,s:O,s:O}", "symbol_versions", vers, "libraries",
		      libs, "blacklisted", black);
out:
	json_decref(vers);
	json_decref(libs);
	json_decref(black);
	return o;
}

char *policy_platform_tag(const struct policy *p, const struct policy_tag *t)
{
	size_t i, len;
	char *s;

	len = strlen(t->name) + strlen(p->arch) + 2;
	for (i = 0; i < t->naliases; i++)
		len += strlen(t->aliases[i]) + strlen(p->arch) + 2;
	s = malloc(len);
	if (!s)
		return NULL;
	snprintf(s, len, "%s_%s", t->name, p->arch);
	for (i = 0; i < t->naliases; i++) {
		size_t at = strlen(s);

		snprintf(s + at, len - at, ".%s_%s", t->aliases[i], p->arch);
	}
	return s;
}
