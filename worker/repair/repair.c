#define _GNU_SOURCE
#include "worker/repair/repair.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/identjson.h"
#include "common/path.h"
#include "common/sha256.h"
#include "common/tmpfile.h"
#include "worker/elf/patch.h"
#include "worker/elf/pycheck.h"
#include "worker/repair/ldresolve.h"
#include "common/pyname.h"
#include "worker/repair/policy.h"
#include "worker/repair/verdict.h"
#include "worker/elf/symvers.h"

static const char *const mode_names[] = {"repair", "check", "skip", "warn"};

const char *repair_mode_name(enum repair_mode m)
{
	return (unsigned)m < 4 ? mode_names[m] : "repair";
}

static const char *const search_names[] = {"system", "declared"};

const char *repair_search_name(enum repair_search s)
{
	return (unsigned)s < 2 ? search_names[s] : "system";
}

int repair_search_parse(const char *name, enum repair_search *s)
{
	size_t i;

	for (i = 0; i < 2; i++)
		if (strcmp(name, search_names[i]) == 0) {
			*s = (enum repair_search)i;
			return 0;
		}
	return -1;
}

int repair_mode_parse(const char *name, enum repair_mode *m)
{
	size_t i;

	for (i = 0; i < 4; i++)
		if (strcmp(name, mode_names[i]) == 0) {
			*m = (enum repair_mode)i;
			return 0;
		}
	return -1;
}

/* A library to bundle. */
struct graft {
	size_t lib;	 /* index in the tree */
	int fd;		 /* open on it as found (pread), or -1 */
	uint64_t len;
	char *name;	 /* hashed name: its new DT_SONAME */
	char *wheel_path; /* <libs_dir>/<name> */
	struct symvers sv;
	const char *debug_path; /* with split_debug: the repair's file's */
	/* What was read, as fstat() saw it when opened: reported, so that
	 * a wheel reused later (server/reuse.h) is held to the library it
	 * bundled, not to one stat()ed after the fact. */
	struct stat st;
};

struct ctx {
	const struct repair_in *in;
	const struct repair_opts *o; /* in->opts */
	/* The platform verdict (verdict.h): the policy of the module's
	 * libc and architecture, what becomes of each library, the tag. */
	struct verdict_opts vo;
	struct verdict v;
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
 * found or not looked up), as the verdict decides (verdict.h): "removed"
 * (libpython: neither bundled, nor asked of the system, nor looked into),
 * "system", "excluded" or "graft". */
static const char *lib_action(const struct ctx *c, const char *soname,
			      const char *path)
{
	return verdict_action_name(verdict_lib_action(&c->v, soname, path));
}

/* Only what will be bundled is looked into: what the system provides
 * brings its own dependencies. */
static int descend(const char *soname, const char *path, void *arg)
{
	return strcmp(lib_action(arg, soname, path), "graft") == 0;
}

/* The hashed name of soname for content digest. */
static char *hashed_name(const char *soname, const uint8_t digest[32])
{
	const char *so = strstr(soname, ".so");
	char hex[65], *s;
	size_t base;

	hex_encode(digest, 32, hex);
	base = so ? (size_t)(so - soname) : strlen(soname);
	if (asprintf(&s, "%.*s-%.8s%s", (int)base, soname, hex,
		     soname + base) < 0)
		return NULL;
	return s;
}

char *repair_hashed_name(const char *soname, const void *data, size_t len)
{
	uint8_t digest[32];

	sha256_buf(data, len, digest);
	return hashed_name(soname, digest);
}

/* The piece a library is read in to hash it. */
#define HASH_PIECE ((size_t)1 << 20)

/* Reads exactly n bytes at off of the file open on fd (name for
 * messages) into buf.  A file shorter than its size said changed under
 * us: said so, not taken for a read error.  Returns 0 or -1. */
static int pread_exact(int fd, void *buf, size_t n, uint64_t off,
		       const char *name, struct sp_err *e)
{
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		r = pread(fd, (uint8_t *)buf + done, n - done,
			  (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return sp_err_sys(e, "cannot read '%s'", name);
		if (r == 0)
			return sp_err_set(e, "'%s' changed while it was read",
					  name);
		done += (size_t)r;
	}
	return 0;
}

/* The SHA-256 of the len bytes of the file open on fd (name for
 * messages), read a piece at a time. */
static int hash_fd(int fd, uint64_t len, const char *name, uint8_t digest[32],
		   struct sp_err *e)
{
	struct sha256 h;
	uint8_t *buf = malloc(HASH_PIECE);
	uint64_t pos = 0;
	size_t n;

	if (!buf)
		return sp_err_set(e, "out of memory");
	if (sha256_init(&h, e) < 0) {
		free(buf);
		return -1;
	}
	for (; pos < len; pos += n) {
		n = len - pos < HASH_PIECE ? (size_t)(len - pos) : HASH_PIECE;
		if (pread_exact(fd, buf, n, pos, name, e) < 0) {
			sha256_release(&h);
			free(buf);
			return -1;
		}
		sha256_update(&h, buf, n);
	}
	sha256_final(&h, digest);
	free(buf);
	return 0;
}

/* Reads the whole file open on fd (len bytes) into a new buffer: only
 * for split_debug, whose stripping works in memory. */
static void *read_whole(int fd, uint64_t len, const char *name,
			struct sp_err *e)
{
	uint8_t *buf;

	if (len > SIZE_MAX - 1 || !(buf = malloc((size_t)len + 1))) {
		sp_err_set(e, "out of memory reading '%s'", name);
		return NULL;
	}
	if (pread_exact(fd, buf, (size_t)len, 0, name, e) < 0) {
		free(buf);
		return NULL;
	}
	return buf;
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
	if (len < sizeof(buf) && c->o->search == REPAIR_SEARCH_DECLARED)
		snprintf(buf + len, sizeof(buf) - len,
			 "%s; only --lib-path folders and $ORIGIN are "
			 "searched, not the system's folders: add its "
			 "directory with --lib-path, or --exclude it if every "
			 "target system has it",
			 l->ntried ? "" : "nothing");
	else if (len < sizeof(buf))
		snprintf(buf + len, sizeof(buf) - len,
			 "; add its directory with --lib-path, or --exclude "
			 "it if every target system has it");
	return sp_err_set(e, "%s", buf);
}

/* The highest version per namespace that the module and the bundled
 * libraries require: {"GLIBC": "2.17", "ZLIB": "1.2.9"}. */
static json_t *symvers_json(const struct ctx *c)
{
	const struct symvers **svs = calloc(c->ng + 1, sizeof(*svs));
	json_t *o;
	size_t i;

	if (!svs)
		return NULL;
	svs[0] = &c->mod_sv;
	for (i = 0; i < c->ng; i++)
		svs[i + 1] = &c->g[i].sv;
	o = verdict_symvers_json(svs, c->ng + 1);
	free(svs);
	return o;
}

/* Opens the libraries to bundle, hashes them for their names and reads
 * their symbol versions, none of them whole: each stays open, to be
 * patched from the same file; fails on the first one that was not
 * found. */
static int collect_grafts(struct ctx *c, struct sp_err *e)
{
	uint8_t digest[32];
	struct stat st;
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
		g->fd = open(l->path, O_RDONLY | O_CLOEXEC);
		if (g->fd < 0)
			return sp_err_sys(e, "cannot open '%s'", l->path);
		c->ng++;
		if (fstat(g->fd, &st) < 0)
			return sp_err_sys(e, "cannot stat '%s'", l->path);
		if (!S_ISREG(st.st_mode))
			return sp_err_set(e, "'%s' is not a regular file",
					  l->path);
		g->len = (uint64_t)st.st_size;
		g->st = st;
		if (hash_fd(g->fd, g->len, l->path, digest, e) < 0 ||
		    symvers_read_fd(g->fd, l->path, &g->sv, e) < 0)
			return -1;
		g->name = hashed_name(l->soname, digest);
		if (!g->name)
			return sp_err_set(e, "out of memory");
	}
	return 0;
}

/* Picks the tag by the verdict (verdict.h) on the module and every
 * library to be bundled (the wheel will hold them), with every library
 * found for them handed over: with --compat exactly its tag, else the
 * policy's rule.  The error names every symbol version, library and
 * black-listed symbol that does not fit --compat's tag, or the newest. */
static const struct policy_tag *choose_tag(struct ctx *c, struct sp_err *e)
{
	struct verdict_object *objs = calloc(c->ng + 1, sizeof(*objs));
	const struct policy_tag *t = NULL;
	size_t i;

	if (!objs) {
		sp_err_set(e, "out of memory");
		return NULL;
	}
	/* The module's own Python rules were checked (python_rules): no
	 * pycheck is handed over. */
	objs[0].name = c->in->name;
	objs[0].path = c->in->module_path;
	objs[0].info = c->in->info;
	objs[0].sv = &c->mod_sv;
	for (i = 0; i < c->ng; i++) {
		const struct ld_lib *l = &c->tree.libs[c->g[i].lib];

		objs[i + 1].name = l->path;
		objs[i + 1].info = &l->info;
		objs[i + 1].sv = &c->g[i].sv;
	}
	for (i = 0; i < c->tree.nlibs; i++)
		if (verdict_add_lib(&c->v, c->tree.libs[i].soname,
				    c->tree.libs[i].path) < 0) {
			sp_err_set(e, "out of memory");
			goto out;
		}
	if (verdict_decide(&c->v, objs, c->ng + 1, e) < 0 ||
	    verdict_misfit(&c->v, c->in->name, e) < 0)
		goto out;
	t = c->v.tag;
out:
	free(objs);
	return t;
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

		if (o && json_object_set_new(o, "ident",
					     ident_json(&c->g[i].st)) < 0) {
			json_decref(o);
			o = NULL;
		}
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

/* Each folder searched in vain before a bundled library was found, once,
 * as it was when searched: {"path", "ident"} (null ident: it could not be
 * read).  A library with the same name put there later would be the one
 * the loader picks, so the coordinator reuses the wheel only while these
 * are unchanged (server/reuse.h). */
static json_t *searched_json(const struct ctx *c)
{
	json_t *a = json_array(), *seen = json_object();
	size_t i, k;

	for (i = 0; a && seen && i < c->ng; i++) {
		const struct ld_lib *l = &c->tree.libs[c->g[i].lib];

		for (k = 0; k < l->ndirs; k++) {
			const struct ld_dir *d = &l->dirs[k];
			json_t *id, *o;

			if (json_object_get(seen, d->path))
				continue;
			id = d->err ? json_null() : ident_json(&d->st);
			o = json_pack("{s:s,s:o}", "path", d->path, "ident",
				      id);
			if (json_object_set_new(seen, d->path, json_true()) <
				0 ||
			    json_array_append_new(a, o) < 0) {
				json_decref(a);
				a = NULL;
			}
		}
	}
	json_decref(seen);
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
		      policy_libc_name(c->v.libc), "symvers",
		      symvers_json(c), "libs", libs, "grafted",
		      grafted_json(c));
	if (r && json_object_set_new(r, "older_tags",
				     verdict_older_json(&c->v)) < 0) {
		json_decref(r);
		return NULL;
	}
	if (r && rpath)
		json_object_set_new(r, "rpath", json_string(rpath));
	return r;
}

/* Reads the DT_NEEDED entries of a patched module back through libelf, so
 * that what the result reports is what the wheel holds.  The scratch file
 * is read through its descriptor: its headers and dynamic section only. */
static json_t *needed_of_image(int fd, const char *name, struct sp_err *e)
{
	struct elf_info info;
	json_t *a;
	size_t i;

	if (elf_inspect_object_fd(fd, name, &info, e) < 0)
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
	const char *path = c->tree.libs[g->lib].path;
	char *rel = NULL;
	void *data;
	int rc;

	if (!(data = read_whole(g->fd, g->len, path, e)))
		return -1;
	rc = debugsplit_for_wheel(data, (size_t)g->len, path, g->wheel_path,
				  c->wheel_stem, &f->debug, &rel, e);
	free(data);
	if (rc < 0)
		return -1;
	if (rel && !(f->debug_path = path_join(c->debug_dir, rel))) {
		free(rel);
		return sp_err_set(e, "out of memory");
	}
	free(rel);
	g->debug_path = f->debug_path;
	return 0;
}

/* A new scratch file for a patched copy of the object name, in the
 * caller's folder.  Returns its descriptor, or -1 with e filled. */
static int scratch(const struct ctx *c, const char *name, struct sp_err *e)
{
	if (c->in->tmp_dirfd < 0 || !c->in->tmp_label)
		return sp_err_set(e, "no folder for the patched copy of '%s'",
				  name);
	return tmpfile_anon(c->in->tmp_dirfd, c->in->tmp_label,
			    path_basename(name), e);
}

/* The size of the scratch file fd, for the wheel writer. */
static int scratch_len(int fd, const struct ctx *c, uint64_t *len,
		       struct sp_err *e)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return sp_err_sys(e, "cannot stat a temporary file in '%s'",
				  c->in->tmp_label);
	*len = (uint64_t)st.st_size;
	return 0;
}

/* Writes the image p (len bytes) to the scratch file fd. */
static int scratch_write(int fd, const struct ctx *c, const void *p, size_t len,
			 struct sp_err *e)
{
	const uint8_t *b = p;
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pwrite(fd, b + done, len - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			return sp_err_sys(e, "cannot write to '%s'",
					  c->in->tmp_label);
		}
		done += (size_t)n;
	}
	return 0;
}

/* Patches bundled library i into f->fd, a scratch file: from its file
 * (elf_patch_fd: the bulk copied in the kernel), or, with split_debug and
 * DWARF to strip, from the stripped image in memory. */
static int patch_graft(struct ctx *c, size_t i, const struct elf_edit *ed,
		       struct repair_file *f, struct sp_err *e)
{
	const char *path = c->tree.libs[c->g[i].lib].path;
	void *img = NULL;
	size_t len = 0;
	int rc;

	if ((f->fd = scratch(c, path, e)) < 0)
		return -1;
	if (!f->debug.stripped)
		rc = elf_patch_fd(c->g[i].fd, path, ed, f->fd, c->in->tmp_label,
				  e);
	else if ((rc = elf_patch_mem(f->debug.stripped, f->debug.stripped_len,
				     path, ed, &img, &len, e)) == 0)
		rc = scratch_write(f->fd, c, img, len, e);
	free(img);
	/* The patched copy is what goes into the wheel. */
	free(f->debug.stripped);
	f->debug.stripped = NULL;
	if (rc < 0)
		return -1;
	return scratch_len(f->fd, c, &f->len, e);
}

/* Patches the module and every bundled library, each into a scratch file
 * of its own; with split_debug, each library is stripped first. */
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
	for (i = 0; i < c->ng + 1; i++)
		out->files[i].fd = -1;
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
	if ((out->mod_fd = scratch(c, c->in->name, e)) < 0 ||
	    elf_patch_fd(c->in->mod_fd, c->in->name, &ed, out->mod_fd,
			 c->in->tmp_label, e) < 0 ||
	    scratch_len(out->mod_fd, c, &out->mod_len, e) < 0)
		goto out;
	if (c->o->split_debug && debug_dirs(c, e) < 0)
		goto out;
	for (i = 0; i < c->ng; i++) {
		struct repair_file *f = &out->files[out->nfiles];

		/* Counted first: what the split holds and the scratch file
		 * are released with out on failure. */
		out->nfiles++;
		if (c->o->split_debug && split_graft(c, i, f, e) < 0)
			goto out;
		ed.set_rpath = "$ORIGIN";
		ed.set_soname = c->g[i].name;
		if (patch_graft(c, i, &ed, f, e) < 0)
			goto out;
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
		if (c->g[i].fd >= 0)
			close(c->g[i].fd);
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
	verdict_release(&c->v);
	free(c->removed);
	json_decref(c->removals);
}

/* Explains why check mode fails: what repair would bundle. */
static int check_failed(const struct ctx *c, struct sp_err *e)
{
	const char *family = c->v.libc == POLICY_MUSL ? "musllinux"
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
 * whose list decides what is left to the system (verdict_policy). */
static int load_policy(struct ctx *c, struct sp_err *e)
{
	struct verdict_object mod = {0};
	char what[256];

	mod.name = c->in->name;
	mod.path = c->in->module_path;
	mod.info = c->in->info;
	c->vo.compat = c->o->compat;
	c->vo.exclude = c->o->exclude;
	c->vo.nexclude = c->o->nexclude;
	snprintf(what, sizeof(what), "'%s'", c->in->name);
	return verdict_policy(&c->v, &mod, 1, &c->vo, what, e);
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

	if (!(c->removals = json_array()))
		return sp_err_set(e, "out of memory");
	/* A program that embeds Python loads libpython itself: the link is
	 * kept (still neither bundled nor looked into). */
	if (c->in->keep_libpython)
		return 0;
	if (note_removals(c, c->in->info->needed, c->in->info->nneeded,
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
 * manylinux or musllinux tag, whatever its libraries.  Its imports are
 * the ones its symbol versions were read with (c->mod_sv). */
static int python_rules(const struct ctx *c, struct sp_err *e)
{
	struct pycheck pc;
	char why[512], *mod = pycheck_modname(c->in->module_path);
	int rc;

	if (!mod)
		return sp_err_set(e, "out of memory");
	rc = pycheck_imports_fd(&c->mod_sv.imports, c->in->mod_fd, c->in->name,
				mod, &pc, e);
	free(mod);
	if (rc < 0)
		return -1;
	if (pycheck_reason(&pc, why, sizeof(why)))
		rc = sp_err_set(e,
				"cannot repair '%s' for %s: it %s, so only "
				"a linux_%s tag fits it",
				c->in->name,
				c->v.libc == POLICY_MUSL ? "musllinux"
							 : "manylinux",
				why, c->v.arch);
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
	int warn_only, rc = -1;

	if (load_policy(c, e) < 0 ||
	    symvers_read_fd(in->mod_fd, in->name, &c->mod_sv, e) < 0 ||
	    python_rules(c, e) < 0)
		return -1;
	lo.root_origin = in->origin;
	lo.linked_paths = c->o->linked_paths;
	lo.nlinked = c->o->nlinked;
	lo.lib_paths = c->o->lib_path;
	lo.nlib = c->o->nlib;
	lo.ld_library_path = c->o->ld_library_path;
	lo.declared_only = c->o->search == REPAIR_SEARCH_DECLARED;
	lo.descend = descend;
	lo.arg = c;
	if (ld_resolve(in->info, in->name, &lo, &c->tree, e) < 0)
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
	/* warn, with something to bundle: the wheel is written as cargo
	 * built it, and a module that needs libraries no manylinux system
	 * has can only claim linux_<arch>. */
	warn_only = c->o->mode == REPAIR_MODE_WARN && c->ng;
	if ((c->ng || c->nremoved) && !warn_only) {
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
	if (!(out->plat = warn_only ? strdup(in->plat)
				    : policy_platform_tag(c->v.pol, t))) {
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
	if ((c->ng || c->nremoved) && !warn_only &&
	    patch_all(c, rpath, out, e) < 0)
		goto out;
	out->result = json_pack(
		"{s:s,s:O,s:o,s:o,s:o,s:s}", "platform_tag", out->plat,
		"repair", c->report, "grafted",
		warn_only ? json_array() : grafted_json(c), "searched",
		warn_only ? json_array() : searched_json(c),
		"needed",
		out->mod_fd >= 0 ? needed_of_image(out->mod_fd, in->name, e)
				 : needed_of_info(in->info),
		"patch", (c->ng || c->nremoved) && !warn_only ? "applied"
							       : "none");
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

	repair_result_init(out);
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

void repair_result_init(struct repair_result *r)
{
	memset(r, 0, sizeof(*r));
	r->mod_fd = -1;
}

void repair_result_release(struct repair_result *r)
{
	size_t i;

	free(r->plat);
	if (r->mod_fd >= 0)
		close(r->mod_fd);
	for (i = 0; i < r->nfiles; i++) {
		free(r->files[i].path);
		if (r->files[i].fd >= 0)
			close(r->files[i].fd);
		debugsplit_release(&r->files[i].debug);
		free(r->files[i].debug_path);
	}
	free(r->files);
	json_decref(r->result);
	repair_result_init(r);
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
