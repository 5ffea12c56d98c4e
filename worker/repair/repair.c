#define _GNU_SOURCE
#include "worker/repair/repair.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsx.h"
#include "worker/elf/machine.h"
#include "common/path.h"
#include "common/sha256.h"
#include "worker/elf/patch.h"
#include "worker/elf/pycheck.h"
#include "worker/repair/exclude.h"
#include "worker/repair/ldresolve.h"
#include "common/pyname.h"
#include "worker/repair/policy.h"
#include "worker/elf/symvers.h"

static const char *const mode_names[] = {"repair", "check", "skip"};

const char *repair_mode_name(enum repair_mode m)
{
	return (unsigned)m < 3 ? mode_names[m] : "repair";
}

int repair_mode_parse(const char *name, enum repair_mode *m)
{
	size_t i;

	for (i = 0; i < 3; i++)
		if (strcmp(name, mode_names[i]) == 0) {
			*m = (enum repair_mode)i;
			return 0;
		}
	return -1;
}

/* A library to bundle. */
struct graft {
	size_t lib;	 /* index in the tree */
	void *data;	 /* its bytes as found */
	size_t len;
	char *name;	 /* hashed name: its new DT_SONAME */
	char *wheel_path; /* <libs_dir>/<name> */
	struct symvers sv;
	const char *debug_path; /* with split_debug: the repair's file's */
};

struct ctx {
	const struct repair_in *in;
	const struct repair_opts *o; /* in->opts */
	const struct policy *pol; /* policy_default()'s, for the libc and
				   * architecture of the module */
	const struct policy_tag *limit; /* --compat, or NULL */
	const struct policy_tag *libs_tag; /* whose list decides bundling */
	struct ld_tree tree;
	struct graft *g;
	size_t ng;
	struct symvers mod_sv;
	char *libs_dir;
	char *debug_dir, *wheel_stem; /* with split_debug */
	json_t *report;
	/* libpython (pycheck.h): each name the patched objects no longer
	 * need, and the report's "removed" ([{"soname", "from"}]). */
	const char **removed;
	size_t nremoved;
	json_t *removals;
};

/* What happens to a needed library, found at path (NULL when it was not
 * found or not looked up): removed (libpython, pycheck.h: the interpreter
 * provides it, so it is neither bundled, nor asked of the system, nor
 * looked into), left to the system, left out at the user's word
 * (exclude.h), or bundled. */
static const char *lib_action(const struct ctx *c, const char *soname,
			      const char *path)
{
	if (pycheck_is_libpython(soname))
		return "removed";
	if (policy_allows_lib(c->libs_tag, soname))
		return "system";
	if (exclude_matches(c->o->exclude, c->o->nexclude, soname, path))
		return "excluded";
	return "graft";
}

/* Only what will be bundled is looked into: what the system provides
 * brings its own dependencies. */
static int descend(const char *soname, const char *path, void *arg)
{
	return strcmp(lib_action(arg, soname, path), "graft") == 0;
}

char *repair_hashed_name(const char *soname, const void *data, size_t len)
{
	const char *so = strstr(soname, ".so");
	uint8_t digest[32];
	char hex[65], *s;
	size_t base;

	sha256_buf(data, len, digest);
	hex_encode(digest, 32, hex);
	base = so ? (size_t)(so - soname) : strlen(soname);
	if (asprintf(&s, "%.*s-%.8s%s", (int)base, soname, hex,
		     soname + base) < 0)
		return NULL;
	return s;
}

char *repair_rpath(const char *module_path, const char *libs_dir)
{
	size_t depth = 0, i, len;
	const char *p;
	char *s;

	for (p = module_path; *p; p++)
		depth += *p == '/';
	len = strlen("$ORIGIN/") + 3 * depth + strlen(libs_dir) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	strcpy(s, "$ORIGIN/");
	for (i = 0; i < depth; i++)
		strcat(s, "../");
	strcat(s, libs_dir);
	return s;
}

static const char *needer_name(const struct ctx *c, size_t i)
{
	size_t p = c->tree.libs[i].parent;

	return p == LD_ROOT ? c->in->name : c->tree.libs[p].path;
}

/* The error for a library that must be bundled but was not found. */
static int not_found(const struct ctx *c, size_t i, struct sp_err *e)
{
	const struct ld_lib *l = &c->tree.libs[i];
	char buf[sizeof(e->msg)];
	size_t len = 0, k;

	len += (size_t)snprintf(buf, sizeof(buf),
				"cannot find %s, needed by '%s'; tried: ",
				l->soname, needer_name(c, i));
	for (k = 0; k < l->ntried && len < sizeof(buf); k++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
					k ? ", " : "", l->tried[k]);
	if (len < sizeof(buf))
		snprintf(buf + len, sizeof(buf) - len,
			 "; add its directory with --lib-path, or --exclude "
			 "it if every target system has it");
	return sp_err_set(e, "%s", buf);
}

/* The highest version per namespace that the module and the bundled
 * libraries require: {"GLIBC": "2.17", "ZLIB": "1.2.9"}. */
static json_t *symvers_json(const struct ctx *c)
{
	struct symver top[SYMVERS_NNS], one[SYMVERS_NNS];
	json_t *o = json_object();
	char buf[64];
	size_t i;
	int ns;

	symvers_highest(&c->mod_sv, top);
	for (i = 0; i < c->ng; i++) {
		symvers_highest(&c->g[i].sv, one);
		for (ns = 0; ns < SYMVERS_NNS; ns++)
			if (symver_cmp(&one[ns], &top[ns]) > 0)
				top[ns] = one[ns];
	}
	for (ns = 0; o && ns < SYMVERS_NNS; ns++) {
		if (!top[ns].present)
			continue;
		symver_format(&top[ns], buf, sizeof(buf));
		json_object_set_new(o, symvers_ns_name(ns), json_string(buf));
	}
	return o;
}

/* Reads the libraries to bundle and their symbol versions; fails on the
 * first one that was not found. */
static int collect_grafts(struct ctx *c, struct sp_err *e)
{
	size_t i;

	c->g = calloc(c->tree.nlibs + 1, sizeof(*c->g));
	if (!c->g)
		return sp_err_set(e, "out of memory");
	for (i = 0; i < c->tree.nlibs; i++) {
		const struct ld_lib *l = &c->tree.libs[i];
		struct graft *g = &c->g[c->ng];

		if (strcmp(lib_action(c, l->soname, l->path), "graft") != 0)
			continue;
		if (!l->path)
			return not_found(c, i, e);
		g->lib = i;
		g->data = fsx_read_all(l->path, &g->len, e);
		if (!g->data)
			return -1;
		c->ng++;
		if (symvers_read_mem(g->data, g->len, l->path, &g->sv, e) < 0)
			return -1;
		g->name = repair_hashed_name(l->soname, g->data, g->len);
		if (!g->name)
			return sp_err_set(e, "out of memory");
	}
	return 0;
}

/* The objects the tag is judged on: the module and every library to be
 * bundled (the wheel will hold them), into objs (c->ng + 1 entries). */
static void tag_objects(const struct ctx *c, struct policy_object *objs)
{
	size_t i;

	objs[0].name = c->in->name;
	objs[0].sv = &c->mod_sv;
	objs[0].needed = (const char *const *)c->in->info->needed;
	objs[0].nneeded = c->in->info->nneeded;
	for (i = 0; i < c->ng; i++) {
		const struct ld_lib *l = &c->tree.libs[c->g[i].lib];

		objs[i + 1].name = l->path;
		objs[i + 1].sv = &c->g[i].sv;
		objs[i + 1].needed = (const char *const *)l->info.needed;
		objs[i + 1].nneeded = l->info.nneeded;
	}
}

/* The libraries left to the system (malloc'd, *n of them). */
static const char **system_libs(const struct ctx *c, size_t *n)
{
	const char **sys = calloc(c->tree.nlibs + 1, sizeof(*sys));
	size_t i;

	*n = 0;
	for (i = 0; sys && i < c->tree.nlibs; i++)
		if (strcmp(lib_action(c, c->tree.libs[i].soname,
				      c->tree.libs[i].path),
			   "system") == 0)
			sys[(*n)++] = c->tree.libs[i].soname;
	return sys;
}

/* The error for objects that do not fit t: every reason, as the policy
 * words them. */
static void misfit(const struct ctx *c, const struct policy_tag *t,
		   const char *how, const struct policy_object *objs,
		   size_t nobjs, const char *const *sys, size_t nsys,
		   struct sp_err *e)
{
	struct policy_misses why = {0};
	char reasons[sizeof(e->msg)];

	if (policy_judge(t, objs, nobjs, sys, nsys, &why, e) < 0)
		return;
	policy_misses_format(&why, reasons, sizeof(reasons));
	policy_misses_release(&why);
	sp_err_set(e, "'%s' %s %s: %s", c->in->name, how, t->name, reasons);
}

/* Picks the tag by the policy's rule (policy.h): with --compat exactly its
 * tag, else the most compatible one (for musl, the newest) that every
 * object fits and that allows every library left to the system.  The
 * error names every symbol version, library and black-listed symbol that
 * does not fit --compat's tag, or the newest. */
static const struct policy_tag *choose_tag(struct ctx *c, struct sp_err *e)
{
	const struct policy_tag *t = NULL, *top;
	struct policy_object *objs;
	const char **sys;
	size_t nsys, first;
	int r;

	objs = calloc(c->ng + 1, sizeof(*objs));
	sys = system_libs(c, &nsys);
	if (!objs || !sys) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	tag_objects(c, objs);
	top = c->limit ? c->limit : &c->pol->tags[c->pol->ntags - 1];
	if (c->limit) {
		r = policy_judge(top, objs, c->ng + 1, sys, nsys, NULL, e);
		if (r > 0)
			t = top;
		else if (r == 0)
			misfit(c, top, "does not fit --compat", objs,
			       c->ng + 1, sys, nsys, e);
		goto out;
	}
	sp_err_clear(e);
	t = policy_choose(c->pol, objs, c->ng + 1, sys, nsys, &first, e);
	if (!t && !e->msg[0])
		misfit(c, top, "fits no platform tag; for the newest,", objs,
		       c->ng + 1, sys, nsys, e);
out:
	free(objs);
	free(sys);
	return t;
}

/* Why each tag older than t fails, for the report: [{"tag", "reasons"}],
 * from the first tag the rule considers (policy_choose). */
static json_t *older_json(const struct ctx *c, const struct policy_tag *t)
{
	struct policy_object *objs = calloc(c->ng + 1, sizeof(*objs));
	json_t *a = json_array(), *why_j;
	struct policy_misses why;
	struct sp_err e;
	const char **sys;
	size_t nsys, i;

	sys = system_libs(c, &nsys);
	if (!objs || !sys || !a)
		goto fail;
	tag_objects(c, objs);
	/* A musl wheel is never given an older tag unless asked for. */
	i = c->pol->libc == POLICY_MUSL && !c->limit ? c->pol->ntags - 1 : 0;
	for (; &c->pol->tags[i] < t; i++) {
		memset(&why, 0, sizeof(why));
		if (policy_judge(&c->pol->tags[i], objs, c->ng + 1, sys, nsys,
				 &why, &e) < 0)
			goto fail;
		why_j = policy_misses_json(&why);
		policy_misses_release(&why);
		if (!why_j ||
		    json_array_append_new(
			a, json_pack("{s:s,s:o}", "tag", c->pol->tags[i].name,
				     "reasons", why_j)) < 0)
			goto fail;
	}
	free(objs);
	free(sys);
	return a;
fail:
	free(objs);
	free(sys);
	json_decref(a);
	return NULL;
}

static json_t *grafted_json(const struct ctx *c)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < c->ng; i++) {
		const struct ld_lib *l = &c->tree.libs[c->g[i].lib];
		json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "soname", l->soname,
				      "path", l->path, "name", c->g[i].name,
				      "wheel_path", c->g[i].wheel_path);

		if (o && c->g[i].debug_path &&
		    json_object_set_new(o, "debug",
					json_string(c->g[i].debug_path)) < 0) {
			json_decref(o);
			o = NULL;
		}
		if (json_array_append_new(a, o) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *make_report(const struct ctx *c, const struct policy_tag *t,
			   const char *plat, const char *rpath)
{
	json_t *r, *libs = json_array();
	size_t i;

	for (i = 0; libs && i < c->tree.nlibs; i++) {
		const struct ld_lib *l = &c->tree.libs[i];
		json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "soname", l->soname,
				      "needed_by", needer_name(c, i), "action",
				      lib_action(c, l->soname, l->path), "via",
				      ld_via_name(l->via));

		if (o)
			json_object_set_new(o, "path",
					    l->path ? json_string(l->path)
						    : json_null());
		json_array_append_new(libs, o);
	}
	r = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:o}", "mode",
		      repair_mode_name(c->o->mode), "policy", t->name,
		      "platform_tag", plat, "libc",
		      policy_libc_name(c->pol->libc), "symvers",
		      symvers_json(c), "libs", libs, "grafted",
		      grafted_json(c));
	if (r && json_object_set_new(r, "older_tags", older_json(c, t)) < 0) {
		json_decref(r);
		return NULL;
	}
	if (r && rpath)
		json_object_set_new(r, "rpath", json_string(rpath));
	return r;
}

/* Reads the DT_NEEDED entries of a patched image back through libelf, so
 * that what the result reports is what the wheel holds.  The image is read
 * where it is: a copy of a 150 MB module would double the peak memory. */
static json_t *needed_of_image(const void *data, size_t len, const char *name,
			       struct sp_err *e)
{
	struct elf_info info;
	json_t *a;
	size_t i;

	if (elf_inspect_mem(data, len, name, &info, e) < 0)
		return NULL;
	a = json_array();
	for (i = 0; a && i < info.nneeded; i++)
		json_array_append_new(a, json_string(info.needed[i]));
	elf_info_release(&info);
	if (!a)
		sp_err_set(e, "out of memory");
	return a;
}

static json_t *needed_of_info(const struct elf_info *info)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < info->nneeded; i++)
		json_array_append_new(a, json_string(info->needed[i]));
	return a;
}

/* Where split_debug writes: the caller's choice. */
static int debug_dirs(struct ctx *c, struct sp_err *e)
{
	if (!c->in->debug_dir || !c->in->wheel_stem)
		return sp_err_set(e, "split_debug needs the debug files' "
				     "folder and the wheel's name");
	c->debug_dir = strdup(c->in->debug_dir);
	c->wheel_stem = strdup(c->in->wheel_stem);
	if (!c->debug_dir || !c->wheel_stem)
		return sp_err_set(e, "out of memory");
	return 0;
}

/* Strips bundled library i of its DWARF into f->debug, as the module is
 * (debugsplit.h), and names its debug file: by build ID, else
 * <wheel stem>/<its path in the wheel>.debug.  Its .gnu_debuglink names
 * "<bundled name>.debug", the name it has in the wheel.  This runs before
 * the patch, which may append a segment after the debug sections, while
 * stripping needs them last; the build ID, the code and every address
 * stay the same through the patch, so the debug file matches the bundled
 * library.  A library without .debug_* sections is left as it is. */
static int split_graft(struct ctx *c, size_t i, struct repair_file *f,
		       struct sp_err *e)
{
	struct graft *g = &c->g[i];
	char *rel = NULL;

	if (debugsplit_for_wheel(g->data, g->len, c->tree.libs[g->lib].path,
				 g->wheel_path, c->wheel_stem, &f->debug, &rel,
				 e) < 0)
		return -1;
	if (rel && !(f->debug_path = path_join(c->debug_dir, rel))) {
		free(rel);
		return sp_err_set(e, "out of memory");
	}
	free(rel);
	g->debug_path = f->debug_path;
	return 0;
}

/* Patches the module and every bundled library in memory; with
 * split_debug, each library is stripped first. */
static int patch_all(struct ctx *c, const char *rpath,
		     struct repair_result *out, struct sp_err *e)
{
	const char **olds, **news;
	struct elf_edit ed;
	size_t i;
	int rc = -1;

	olds = calloc(c->ng + 1, sizeof(*olds));
	news = calloc(c->ng + 1, sizeof(*news));
	out->files = calloc(c->ng + 1, sizeof(*out->files));
	if (!olds || !news || !out->files) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	for (i = 0; i < c->ng; i++) {
		olds[i] = c->tree.libs[c->g[i].lib].soname;
		news[i] = c->g[i].name;
	}
	/* DT_RPATH, not DT_RUNPATH: it comes before LD_LIBRARY_PATH, so the
	 * user's environment cannot swap in another build of a bundled
	 * library, and libraries the module loads inherit it. */
	memset(&ed, 0, sizeof(ed));
	ed.set_rpath = rpath;
	ed.force_rpath = 1;
	ed.replace_old = olds;
	ed.replace_new = news;
	ed.nreplace = c->ng;
	ed.remove_needed = c->removed;
	ed.nremove = c->nremoved;
	if (elf_patch_mem(c->in->mod, c->in->mod_len, c->in->name, &ed,
			  &out->mod, &out->mod_len, e) < 0)
		goto out;
	if (c->o->split_debug && debug_dirs(c, e) < 0)
		goto out;
	for (i = 0; i < c->ng; i++) {
		struct repair_file *f = &out->files[out->nfiles];
		const void *data = c->g[i].data;
		size_t len = c->g[i].len;

		/* Counted first: what the split holds is released with
		 * out on failure. */
		out->nfiles++;
		if (c->o->split_debug && split_graft(c, i, f, e) < 0)
			goto out;
		if (f->debug.stripped) {
			data = f->debug.stripped;
			len = f->debug.stripped_len;
		}
		ed.set_rpath = "$ORIGIN";
		ed.set_soname = c->g[i].name;
		if (elf_patch_mem(data, len, c->tree.libs[c->g[i].lib].path,
				  &ed, &f->data, &f->len, e) < 0)
			goto out;
		/* The patched copy is what goes into the wheel. */
		free(f->debug.stripped);
		f->debug.stripped = NULL;
		f->path = strdup(c->g[i].wheel_path);
		if (!f->path) {
			sp_err_set(e, "out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	free(olds);
	free(news);
	return rc;
}

static void ctx_release(struct ctx *c)
{
	size_t i;

	for (i = 0; i < c->ng; i++) {
		free(c->g[i].data);
		free(c->g[i].name);
		free(c->g[i].wheel_path);
		symvers_release(&c->g[i].sv);
	}
	free(c->g);
	ld_tree_release(&c->tree);
	free(c->libs_dir);
	free(c->debug_dir);
	free(c->wheel_stem);
	symvers_release(&c->mod_sv);
	json_decref(c->report);
	free(c->removed);
	json_decref(c->removals);
}

/* Explains why check mode fails: what repair would bundle. */
static int check_failed(const struct ctx *c, struct sp_err *e)
{
	const char *family = c->pol->libc == POLICY_MUSL ? "musllinux"
							  : "manylinux";
	char buf[sizeof(e->msg)];
	size_t len, i;

	len = (size_t)snprintf(buf, sizeof(buf),
			       "'%s' is not %s-compliant: it needs ",
			       c->in->name, family);
	for (i = 0; i < c->ng && len < sizeof(buf); i++) {
		const struct ld_lib *l = &c->tree.libs[c->g[i].lib];

		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
					"%s%s ('%s', would be bundled as %s)",
					i ? ", " : "", l->soname, l->path,
					c->g[i].wheel_path);
	}
	if (len < sizeof(buf))
		snprintf(buf + len, sizeof(buf) - len,
			 ", which %s systems do not provide; build with "
			 "--repair=repair to bundle them",
			 family);
	return sp_err_set(e, "%s", buf);
}

/* Hands ev to the caller's callback, or drops it. */
static void emit(const struct repair_in *in, json_t *ev)
{
	if (in->emit)
		in->emit(ev, in->emit_arg);
	else
		json_decref(ev);
}

/* Finds the policy of the module's libc and architecture and the tag
 * whose list decides what is left to the system: --compat's, else the
 * newest (for a musl module, --compat must name a musllinux tag). */
static int load_policy(struct ctx *c, struct sp_err *e)
{
	const struct elf_info *info = c->in->info;
	/* The machine alone does not say ppc64 from ppc64le: the
	 * architecture of (machine, class, byte order) does, when the
	 * info came from elf_inspect (hand-made ones fall back). */
	const char *arch = info->id.arch
			       ? info->id.arch
			       : elf_machine_policy_arch(info->id.machine);
	enum policy_libc libc;
	char what[256];

	if (!arch)
		return sp_err_set(e, "'%s': no platform policy covers its "
				     "architecture",
				  c->in->name);
	if (policy_libc_of(info, c->in->module_path, &libc, e) < 0)
		return -1;
	if (!(c->pol = policy_default(libc, arch, e)))
		return -1;
	snprintf(what, sizeof(what), "'%s'", c->in->name);
	if (c->o->compat &&
	    !(c->limit = policy_find(c->pol, c->o->compat, what, e)))
		return -1;
	c->libs_tag = c->limit ? c->limit : &c->pol->tags[c->pol->ntags - 1];
	return 0;
}

/* skip's "patch": whether the repair would bundle something, by the rule
 * it bundles by (lib_action), without resolving or reading a library.
 * The module's own DT_NEEDED decide it: a library the system provides
 * brings its own needs, and one it does not is already enough.  Nothing
 * is looked up, so an --exclude pattern with '/' (a path) excludes
 * nothing here. */
static const char *skip_patch(const struct ctx *c)
{
	size_t i;

	for (i = 0; i < c->in->info->nneeded; i++)
		if (!strcmp(lib_action(c, c->in->info->needed[i], NULL),
			    "graft"))
			return "required";
	return "none";
}

/* Notes that the object at wheel path "from" needs the libpython
 * entries of needed: each name once in c->removed, each removal in the
 * report. */
static int note_removals(struct ctx *c, char *const *needed, size_t n,
			 const char *from)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		if (!pycheck_is_libpython(needed[i]))
			continue;
		for (k = 0; k < c->nremoved; k++)
			if (!strcmp(c->removed[k], needed[i]))
				break;
		if (k == c->nremoved) {
			const char **v = realloc(
			    c->removed, (c->nremoved + 1) * sizeof(*v));

			if (!v)
				return -1;
			c->removed = v;
			c->removed[c->nremoved++] = needed[i];
		}
		if (json_array_append_new(
			c->removals, json_pack("{s:s,s:s}", "soname", needed[i],
					       "from", from)) < 0)
			return -1;
	}
	return 0;
}

/* The libpython entries that the module and the libraries bundled with
 * it need, which the patch removes: a bundled library that links
 * libpython (a Boost.Python, say) would otherwise still ask for it. */
static int collect_removals(struct ctx *c, struct sp_err *e)
{
	size_t i;

	if (!(c->removals = json_array()) ||
	    note_removals(c, c->in->info->needed, c->in->info->nneeded,
			  c->in->module_path) < 0)
		return sp_err_set(e, "out of memory");
	for (i = 0; i < c->ng; i++) {
		const struct ld_lib *l = &c->tree.libs[c->g[i].lib];

		if (note_removals(c, l->info.needed, l->info.nneeded,
				  c->g[i].wheel_path) < 0)
			return sp_err_set(e, "out of memory");
	}
	return 0;
}

/* PyFPE_jbuf and UCS2 (pycheck.h): a module that uses them fits no
 * manylinux or musllinux tag, whatever its libraries. */
static int python_rules(const struct ctx *c, struct sp_err *e)
{
	struct pycheck pc;
	char why[512], *mod = pycheck_modname(c->in->module_path);
	int rc;

	if (!mod)
		return sp_err_set(e, "out of memory");
	rc = pycheck_mem(c->in->mod, c->in->mod_len, c->in->name, mod, &pc, e);
	free(mod);
	if (rc < 0)
		return -1;
	if (pycheck_reason(&pc, why, sizeof(why)))
		rc = sp_err_set(e,
				"cannot repair '%s' for manylinux: it %s, "
				"so only a linux_<arch> tag fits it",
				c->in->name, why);
	pycheck_release(&pc);
	return rc;
}

static int analyse_and_repair(struct ctx *c, struct repair_result *out,
			      struct sp_err *e)
{
	const struct repair_in *in = c->in;
	const struct policy_tag *t;
	struct ld_opts lo = {0};
	char *rpath = NULL, *norm = NULL;
	size_t i;
	int rc = -1;

	if (load_policy(c, e) < 0 || python_rules(c, e) < 0)
		return -1;
	lo.root_origin = in->origin;
	lo.linked_paths = c->o->linked_paths;
	lo.nlinked = c->o->nlinked;
	lo.lib_paths = c->o->lib_path;
	lo.nlib = c->o->nlib;
	lo.ld_library_path = c->o->ld_library_path;
	lo.descend = descend;
	lo.arg = c;
	if (ld_resolve(in->info, in->name, &lo, &c->tree, e) < 0)
		return -1;
	if (symvers_read_mem(in->mod, in->mod_len, in->name, &c->mod_sv, e) <
	    0)
		return -1;
	if (collect_grafts(c, e) < 0)
		return -1;
	norm = dist_normalize(in->dist);
	if (!norm || asprintf(&c->libs_dir, "%s.libs", norm) < 0) {
		c->libs_dir = NULL;
		sp_err_set(e, "out of memory");
		goto out;
	}
	for (i = 0; i < c->ng; i++)
		if (asprintf(&c->g[i].wheel_path, "%s/%s", c->libs_dir,
			     c->g[i].name) < 0) {
			c->g[i].wheel_path = NULL;
			sp_err_set(e, "out of memory");
			goto out;
		}
	if (collect_removals(c, e) < 0)
		goto out;
	if (c->ng || c->nremoved) {
		/* The coordinator journals this before the wheel exists. */
		emit(in, json_pack("{s:s}", "patch", "required"));
	}
	if (c->ng) {
		rpath = repair_rpath(in->module_path, c->libs_dir);
		if (!rpath) {
			sp_err_set(e, "out of memory");
			goto out;
		}
	}
	if (!(t = choose_tag(c, e)))
		goto out;
	if (!(out->plat = policy_platform_tag(c->pol, t))) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	c->report = make_report(c, t, out->plat,
				c->o->mode == REPAIR_MODE_REPAIR ? rpath : NULL);
	if (!c->report ||
	    json_object_set(c->report, "removed", c->removals) < 0) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	emit(in, json_pack("{s:s,s:O}", "event", "repair", "repair",
			c->report));
	if (c->o->mode == REPAIR_MODE_CHECK && c->ng) {
		check_failed(c, e);
		goto out;
	}
	if ((c->ng || c->nremoved) && patch_all(c, rpath, out, e) < 0)
		goto out;
	out->result = json_pack(
		"{s:s,s:O,s:o,s:o,s:s}", "platform_tag", out->plat, "repair",
		c->report, "grafted", grafted_json(c), "needed",
		out->mod ? needed_of_image(out->mod, out->mod_len, in->name, e)
			 : needed_of_info(in->info),
		"patch", c->ng || c->nremoved ? "applied" : "none");
	if (!out->result) {
		if (!e->msg[0])
			sp_err_set(e, "out of memory");
		goto out;
	}
	rc = 0;
out:
	free(rpath);
	free(norm);
	return rc;
}

int repair_run(const struct repair_in *in, struct repair_result *out,
	       struct sp_err *e)
{
	struct ctx c;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.in = in;
	c.o = in->opts;
	if (c.o->mode == REPAIR_MODE_SKIP) {
		struct sp_err ignored;

		/* Skip packages modules no policy covers (other machines, a
		 * --compat tag the policy lacks): it needs the policy only for
		 * its verdict, and without one it gives none. */
		out->plat = strdup(in->plat);
		out->result = json_pack("{s:s,s:{s:s}}", "platform_tag",
					in->plat, "repair", "mode", "skip");
		if (out->result && load_policy(&c, &ignored) == 0 &&
		    json_object_set_new(out->result, "patch",
					json_string(skip_patch(&c))) < 0) {
			json_decref(out->result);
			out->result = NULL;
		}
		if (!out->plat || !out->result) {
			sp_err_set(e, "out of memory");
			goto out;
		}
		rc = 0;
		goto out;
	}
	sp_err_clear(e);
	rc = analyse_and_repair(&c, out, e);
out:
	ctx_release(&c);
	if (rc < 0)
		repair_result_release(out);
	return rc;
}

void repair_result_release(struct repair_result *r)
{
	size_t i;

	free(r->plat);
	free(r->mod);
	for (i = 0; i < r->nfiles; i++) {
		free(r->files[i].path);
		free(r->files[i].data);
		debugsplit_release(&r->files[i].debug);
		free(r->files[i].debug_path);
	}
	free(r->files);
	json_decref(r->result);
	memset(r, 0, sizeof(*r));
}

int repair_write_debug(const struct repair_result *r, struct sp_err *e)
{
	const struct repair_file *f;
	size_t i;

	for (i = 0; i < r->nfiles; i++) {
		f = &r->files[i];
		if (f->debug.debug &&
		    debugsplit_write_file(f->debug_path, f->debug.debug,
					  f->debug.debug_len, e) < 0)
			return -1;
	}
	return 0;
}
