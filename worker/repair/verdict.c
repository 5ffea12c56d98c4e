#define _GNU_SOURCE
#include "worker/repair/verdict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pyname.h"
#include "worker/repair/exclude.h"

static const char *const action_names[] = {"removed", "system", "excluded",
					   "graft"};

const char *verdict_action_name(enum verdict_action a)
{
	return action_names[a];
}

static const char *obj_arch(const struct verdict_object *o)
{
	if (o->info)
		return o->info->id.arch;
	return o->ident ? o->ident->arch : NULL;
}

int verdict_policy(struct verdict *v, const struct verdict_object *objs,
		   size_t n, const struct verdict_opts *opts, const char *what,
		   struct sp_err *e)
{
	const struct verdict_object *said[ELF_LIBC_MUSL + 1] = {NULL};
	static const struct elf_info none;
	enum policy_libc libc;
	size_t i;

	memset(v, 0, sizeof(*v));
	v->opts = opts;
	if (!n)
		return sp_err_set(e, "no ELF object could be read");
	for (i = 0; i < n; i++) {
		const struct elf_info *info =
		    objs[i].info ? objs[i].info : &none;

		if (policy_libc_of(info, objs[i].path ? objs[i].path
						      : objs[i].name,
				   &libc, e) < 0)
			return -1;
		/* An object whose headers name no libc takes the others'. */
		if (libc == POLICY_MUSL)
			v->libc = POLICY_MUSL;
		said[elf_info_libc(info)] = &objs[i];
	}
	if (said[ELF_LIBC_GLIBC] && said[ELF_LIBC_MUSL])
		return sp_err_set(e,
				  "'%s' is built for glibc, but '%s' for "
				  "musl: one wheel cannot run on both",
				  said[ELF_LIBC_GLIBC]->name,
				  said[ELF_LIBC_MUSL]->name);
	/* The architecture is what the header says (machine, class, byte
	 * order, float ABI): a machine number alone does not tell ppc64
	 * from ppc64le, so there is no guess from it. */
	v->arch = obj_arch(&objs[0]);
	if (!v->arch)
		return sp_err_set(e, "'%s': no platform policy covers its "
				     "architecture",
				  objs[0].name);
	if (!(v->pol = policy_default(v->libc, v->arch, e)))
		return -1;
	if (opts && opts->compat &&
	    !(v->limit = policy_find(v->pol, opts->compat, what, e)))
		return -1;
	v->libs_tag = v->limit ? v->limit : &v->pol->tags[v->pol->ntags - 1];
	return 0;
}

enum verdict_action verdict_lib_action(const struct verdict *v,
				       const char *soname, const char *path)
{
	if (pycheck_is_libpython(soname))
		return VERDICT_REMOVED;
	if (policy_allows_lib(v->libs_tag, soname))
		return VERDICT_SYSTEM;
	if (v->opts &&
	    exclude_matches(v->opts->exclude, v->opts->nexclude, soname, path))
		return VERDICT_EXCLUDED;
	return VERDICT_BUNDLE;
}

int verdict_add_lib(struct verdict *v, const char *soname, const char *path)
{
	enum verdict_action a = verdict_lib_action(v, soname, path);
	const char **nv;
	size_t i;

	for (i = 0; i < v->nlibs[a]; i++)
		if (strcmp(v->libs[a][i], soname) == 0)
			return 0;
	nv = realloc(v->libs[a], (v->nlibs[a] + 1) * sizeof(*nv));
	if (!nv)
		return -1;
	nv[v->nlibs[a]++] = soname;
	v->libs[a] = nv;
	return 0;
}

/* The first object CPython's ABI limits to linux_<arch>, and why. */
static void find_linux_only(struct verdict *v,
			    const struct verdict_object *objs, size_t n)
{
	size_t i;

	for (i = 0; i < n && !v->linux_only; i++)
		if (objs[i].py &&
		    pycheck_reason(objs[i].py, v->linux_only_why,
				   sizeof(v->linux_only_why)))
			v->linux_only = objs[i].name;
	if (!v->linux_only)
		v->linux_only_why[0] = '\0';
}

int verdict_decide(struct verdict *v, const struct verdict_object *objs,
		   size_t n, struct sp_err *e)
{
	const char *const *sys = v->libs[VERDICT_SYSTEM];
	size_t nsys = v->nlibs[VERDICT_SYSTEM], i, end, first;
	struct policy_object *po;
	int r, rc = -1;

	po = calloc(n + 1, sizeof(*po));
	if (!po)
		return sp_err_set(e, "out of memory");
	for (i = 0; i < n; i++) {
		po[i].name = objs[i].name;
		po[i].sv = objs[i].sv;
		if (objs[i].info) {
			po[i].needed =
			    (const char *const *)objs[i].info->needed;
			po[i].nneeded = objs[i].info->nneeded;
		}
	}
	find_linux_only(v, objs, n);
	sp_err_clear(e);
	if (v->limit) {
		r = policy_judge(v->limit, po, n, sys, nsys, NULL, e);
		if (r < 0)
			goto out;
		v->tag = r ? v->limit : NULL;
	} else {
		v->tag = policy_choose(v->pol, po, n, sys, nsys, &first, e);
		if (!v->tag && e->msg[0])
			goto out;
	}
	/* Every older tag is judged, for a musl wheel too: the rule never
	 * picks musllinux_1_1 unasked, but it may fit as well. */
	end = v->tag	 ? (size_t)(v->tag - v->pol->tags)
	      : v->limit ? (size_t)(v->limit - v->pol->tags) + 1
			 : v->pol->ntags;
	v->older = calloc(end + 1, sizeof(*v->older));
	if (!v->older) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	for (i = 0; i < end; i++) {
		/* Counted first: what policy_judge appended before running
		 * out of memory is released with v. */
		struct verdict_older *o = &v->older[v->nolder++];

		o->tag = &v->pol->tags[i];
		if (policy_judge(o->tag, po, n, sys, nsys, &o->why, e) < 0)
			goto out;
	}
	if (v->tag && !v->linux_only)
		v->plat = policy_platform_tag(v->pol, v->tag);
	else
		v->plat = wheel_linux_tag(v->arch);
	if (!v->plat) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	rc = 0;
out:
	free(po);
	return rc;
}

/* 1 when soname is one of the nprov the wheel provides. */
static int provided(const char *const *prov, size_t nprov, const char *soname)
{
	size_t i;

	for (i = 0; i < nprov; i++)
		if (strcmp(prov[i], soname) == 0)
			return 1;
	return 0;
}

int verdict_wheel(struct verdict *v, const struct verdict_object *objs,
		  size_t n, const char *const *prov, size_t nprov,
		  const struct verdict_opts *opts, struct sp_err *e)
{
	size_t i, k;

	if (verdict_policy(v, objs, n, opts, "the wheel's objects", e) < 0)
		return -1;
	for (i = 0; i < n; i++)
		for (k = 0; objs[i].info && k < objs[i].info->nneeded; k++) {
			const char *lib = objs[i].info->needed[k];

			if (!provided(prov, nprov, lib) &&
			    verdict_add_lib(v, lib, NULL) < 0)
				return sp_err_set(e, "out of memory");
		}
	return verdict_decide(v, objs, n, e);
}

int verdict_misfit(const struct verdict *v, const char *name,
		   struct sp_err *e)
{
	char reasons[sizeof(e->msg)];

	if (v->tag)
		return 0;
	reasons[0] = '\0';
	/* The last older tag is the one that decides: --compat's, else
	 * the newest. */
	if (v->nolder)
		policy_misses_format(&v->older[v->nolder - 1].why, reasons,
				     sizeof(reasons));
	if (v->limit)
		return sp_err_set(e, "'%s' does not fit --compat %s: %s", name,
				  v->limit->name, reasons);
	return sp_err_set(e, "'%s' fits no platform tag; for the newest, %s: %s",
			  name, v->pol->tags[v->pol->ntags - 1].name, reasons);
}

json_t *verdict_older_json(const struct verdict *v)
{
	json_t *a = json_array(), *why;
	size_t i;

	for (i = 0; a && i < v->nolder; i++) {
		why = policy_misses_json(&v->older[i].why);
		if (!why ||
		    json_array_append_new(
			a, json_pack("{s:s,s:b,s:o}", "tag",
				     v->older[i].tag->name, "fits",
				     v->older[i].why.n == 0, "reasons",
				     why)) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

json_t *verdict_symvers_json(const struct symvers *const *svs, size_t n)
{
	struct symver top[SYMVERS_NNS], one[SYMVERS_NNS];
	json_t *o = json_object();
	char buf[64];
	size_t i;
	int ns;

	memset(top, 0, sizeof(top));
	for (i = 0; i < n; i++) {
		symvers_highest(svs[i], one);
		for (ns = 0; ns < SYMVERS_NNS; ns++)
			if (symver_cmp(&one[ns], &top[ns]) > 0)
				top[ns] = one[ns];
	}
	for (ns = 0; o && ns < SYMVERS_NNS; ns++) {
		if (!top[ns].present)
			continue;
		symver_format(&top[ns], buf, sizeof(buf));
		if (json_object_set_new(o, symvers_ns_name(ns),
					json_string(buf)) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

void verdict_release(struct verdict *v)
{
	size_t i;

	for (i = 0; i <= VERDICT_BUNDLE; i++)
		free(v->libs[i]);
	for (i = 0; i < v->nolder; i++)
		policy_misses_release(&v->older[i].why);
	free(v->older);
	free(v->plat);
	memset(v, 0, sizeof(*v));
}
