/*
 * cargo.c - from a cargo workspace to a list of wheel jobs.
 *
 * Everything spoke knows about the workspace comes from cargo itself
 * (`cargo metadata`, the JSON messages of `cargo build`) and from the
 * interpreter (pyinfo.h): the path of each cdylib is the one cargo reports,
 * never one guessed from names, and no TOML is parsed here.
 */
#define _GNU_SOURCE
#include "cli/project/cargo.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/project/pep440.h"
#include "cli/project/proc.h"
#include "cli/project/pysrc.h"
#include "common/fsx.h"
#include "worker/elf/inspect.h"

/* ---- small helpers ---- */

/* The string member key of o when it is a non-empty string, else NULL. */
static const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? s : NULL;
}

static int oom(struct sp_err *e)
{
	errno = ENOMEM;
	return sp_err_sys(e, "cannot plan the build");
}

/* Sets o[key] to the string v; a NULL v sets nothing. */
static int set_str(json_t *o, const char *key, const char *v, struct sp_err *e)
{
	json_t *s;

	if (!v)
		return 0;
	s = json_string(v);
	if (!s)
		return sp_err_set(e, "%s '%.100s' is not valid UTF-8", key, v);
	if (json_object_set_new(o, key, s) < 0)
		return oom(e);
	return 0;
}

/* Appends add to the malloc'd string *s (NULL when empty), with sep in
 * between.  Returns 0, or -1 when out of memory. */
static int str_append(char **s, const char *sep, const char *add)
{
	size_t a = *s ? strlen(*s) : 0, b = strlen(add);
	size_t c = *s ? strlen(sep) : 0;
	char *n = realloc(*s, a + c + b + 1);

	if (!n)
		return -1;
	memcpy(n + a, sep, c);
	memcpy(n + a + c, add, b + 1);
	*s = n;
	return 0;
}

static char *str_printf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static char *str_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

/* Appends the string v to the array a unless it holds it already. */
static int array_add_unique(json_t *a, const char *v)
{
	size_t i;
	json_t *x;

	json_array_foreach(a, i, x)
	{
		if (strcmp(json_string_value(x), v) == 0)
			return 0;
	}
	return json_array_append_new(a, json_string(v));
}

/* state[key], created with make() when missing.  NULL when out of memory. */
static json_t *member(json_t *state, const char *key, json_t *(*make)(void))
{
	json_t *m = json_object_get(state, key);

	if (m)
		return m;
	m = make();
	if (!m || json_object_set_new(state, key, m) < 0)
		return NULL;
	return m;
}

static const char *cargo_program(void)
{
	const char *c = getenv("CARGO");

	return c && *c ? c : "cargo";
}

/* ---- cargo's messages ---- */

/* The kinds a build script may put before a linked path ("native=/x"). */
static const char *const link_kinds[] = {"dependency", "crate", "native",
					 "framework", "all"};

static const char *strip_link_kind(const char *p)
{
	size_t i;

	for (i = 0; i < sizeof(link_kinds) / sizeof(link_kinds[0]); i++) {
		size_t n = strlen(link_kinds[i]);

		if (strncmp(p, link_kinds[i], n) == 0 && p[n] == '=')
			return p + n + 1;
	}
	return p;
}

static int has_string(const json_t *a, const char *v)
{
	size_t i;
	json_t *x;

	json_array_foreach(a, i, x)
	{
		if (json_is_string(x) && strcmp(json_string_value(x), v) == 0)
			return 1;
	}
	return 0;
}

static int on_artifact(const json_t *msg, const char *pkg, json_t *state,
		       struct sp_err *e)
{
	const json_t *target = json_object_get(msg, "target");
	const json_t *files = json_object_get(msg, "filenames");
	json_t *built, *cdylibs, *x, *art;
	const char *name, *so = NULL;
	char *lib;
	size_t i;

	built = member(state, "built", json_object);
	if (!built || json_object_set_new(built, pkg, json_true()) < 0)
		return oom(e);
	if (!has_string(json_object_get(target, "kind"), "cdylib"))
		return 0;

	name = jstr(target, "name");
	json_array_foreach(files, i, x)
	{
		const char *f = json_string_value(x);
		size_t n = f ? strlen(f) : 0;

		if (n > 3 && strcmp(f + n - 3, ".so") == 0)
			so = f;
	}
	if (!name || !so)
		return sp_err_set(e,
				  "cargo built the cdylib '%s' of '%s' but "
				  "reported no .so file for it",
				  name ? name : "?", pkg);

	cdylibs = member(state, "cdylibs", json_array);
	if (!cdylibs)
		return oom(e);
	json_array_foreach(cdylibs, i, x)
	{
		if (strcmp(jstr(x, "path"), so) == 0)
			return 0;
	}
	/* The lib target's crate name; cargo already spells it with '_'
	 * in new versions, and the symbol PyInit_<name> needs that form. */
	lib = strdup(name);
	if (!lib)
		return oom(e);
	for (i = 0; lib[i]; i++)
		if (lib[i] == '-')
			lib[i] = '_';
	art = json_pack("{s:s, s:s, s:s}", "package_id", pkg, "name", lib,
			"path", so);
	free(lib);
	if (!art || json_array_append_new(cdylibs, art) < 0)
		return oom(e);
	return 0;
}

static int on_build_script(const json_t *msg, const char *pkg, json_t *state,
			   struct sp_err *e)
{
	json_t *all, *paths, *x;
	size_t i;

	all = member(state, "linked_paths", json_object);
	if (!all)
		return oom(e);
	paths = json_object_get(all, pkg);
	if (!paths) {
		paths = json_array();
		if (!paths || json_object_set_new(all, pkg, paths) < 0)
			return oom(e);
	}
	json_array_foreach(json_object_get(msg, "linked_paths"), i, x)
	{
		const char *p = json_string_value(x);

		if (p && *strip_link_kind(p) &&
		    array_add_unique(paths, strip_link_kind(p)) < 0)
			return oom(e);
	}
	return 0;
}

int cargo_parse_message(const char *line, json_t *state, struct sp_err *e)
{
	const char *reason, *pkg;
	json_error_t jerr;
	json_t *msg;
	int ret = 0;

	while (isspace((unsigned char)*line))
		line++;
	if (!*line)
		return 0;
	if (*line != '{')
		return 1;
	msg = json_loads(line, 0, &jerr);
	if (!json_is_object(msg)) {
		json_decref(msg);
		return 1;
	}
	reason = jstr(msg, "reason");
	pkg = jstr(msg, "package_id");
	if (reason &&
	    (strcmp(reason, "compiler-artifact") == 0 ||
	     strcmp(reason, "build-script-executed") == 0) &&
	    !pkg) {
		ret = sp_err_set(e,
				 "cargo sent a %s message without a "
				 "package_id",
				 reason);
	} else if (reason && strcmp(reason, "compiler-artifact") == 0) {
		ret = on_artifact(msg, pkg, state, e);
	} else if (reason && strcmp(reason, "build-script-executed") == 0) {
		ret = on_build_script(msg, pkg, state, e);
	}
	json_decref(msg);
	return ret;
}

/* ---- running cargo ---- */

/*
 * Checks that there is a Cargo.toml for cargo to find, so the user gets
 * spoke's hint rather than cargo's.  *manifest gets what to pass as
 * --manifest-path (malloc'd), or NULL to let cargo search from the cwd.
 */
static int find_manifest(const char *given, char **manifest, struct sp_err *e)
{
	char *dir = NULL, *path = NULL;
	struct stat st;
	size_t len;
	int ret = -1;

	*manifest = NULL;
	if (given) {
		if (stat(given, &st) < 0) {
			sp_err_sys(e, "cannot use manifest path '%s'", given);
			goto out;
		}
		/* A directory is taken to mean its Cargo.toml. */
		path = S_ISDIR(st.st_mode) ? fsx_join(given, "Cargo.toml")
					   : strdup(given);
		if (!path) {
			oom(e);
			goto out;
		}
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			sp_err_set(e, "could not find Cargo.toml at '%s'",
				   path);
			goto out;
		}
		*manifest = path;
		path = NULL;
		ret = 0;
		goto out;
	}

	dir = getcwd(NULL, 0);
	if (!dir) {
		sp_err_sys(e, "cannot get the current directory");
		goto out;
	}
	/* Cargo searches from the cwd upward; its path is absolute. */
	for (len = strlen(dir);;) {
		free(path);
		path = fsx_join(len ? dir : "/", "Cargo.toml");
		if (!path) {
			oom(e);
			goto out;
		}
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			ret = 0;
			goto out;
		}
		if (len == 0)
			break;
		while (len > 0 && dir[len - 1] != '/')
			len--;
		while (len > 0 && dir[len - 1] == '/')
			len--;
		dir[len] = '\0';
	}
	free(dir);
	dir = getcwd(NULL, 0);
	sp_err_set(e,
		   "could not find Cargo.toml in '%s' or any parent "
		   "directory (use --manifest-path)",
		   dir ? dir : ".");
out:
	free(dir);
	free(path);
	return ret;
}

static int spawn_cargo(struct proc *p, const char *const *argv,
		       const char *const *env, unsigned flags, struct sp_err *e)
{
	if (proc_spawn(p, argv, env, flags, e) == 0)
		return 0;
	if (errno == ENOENT)
		return sp_err_set(e, "cargo not found (install Rust, or set "
				     "CARGO to the cargo program)");
	return -1;
}

/* Runs `cargo metadata` and returns its parsed output (new reference). */
static json_t *cargo_metadata(const char *manifest, struct sp_err *e)
{
	const char *argv[] = {cargo_program(),
			      "metadata",
			      "--format-version",
			      "1",
			      "--no-deps",
			      NULL,
			      NULL,
			      NULL};
	struct proc p = {.pid = -1, .out_fd = -1, .err_fd = -1};
	json_t *meta = NULL;
	json_error_t jerr;
	char *out = NULL;
	size_t len = 0;
	int code;

	if (manifest) {
		argv[5] = "--manifest-path";
		argv[6] = manifest;
	}
	if (spawn_cargo(&p, argv, NULL, PROC_PIPE_STDOUT, e) < 0)
		goto out;
	if (proc_collect(&p, &out, &len, NULL, NULL, e) < 0 ||
	    proc_wait(&p, &code, e) < 0)
		goto out;
	if (code != 0) {
		sp_err_set(e, "cargo metadata failed (exit %d)", code);
		goto out;
	}
	meta = json_loadb(out, len, 0, &jerr);
	if (!json_is_object(meta) ||
	    !json_is_array(json_object_get(meta, "packages")) ||
	    !jstr(meta, "target_directory") || !jstr(meta, "workspace_root")) {
		sp_err_set(e,
			   "cannot understand the output of cargo metadata%s%s",
			   meta ? "" : ": ", meta ? "" : jerr.text);
		json_decref(meta);
		meta = NULL;
	}
out:
	proc_release(&p);
	free(out);
	return meta;
}

/* Feeds one line of cargo build's stdout to the parser; keeps the first
 * error in e and carries on, so cargo is never left blocked on a pipe. */
static void build_line(const char *line, json_t *state, int *failed,
		       struct sp_err *e)
{
	struct sp_err perr;
	int r = cargo_parse_message(line, state, &perr);

	if (r == 1)
		fprintf(stderr, "%s\n", line);
	else if (r < 0 && !*failed) {
		*e = perr;
		*failed = 1;
	}
}

/*
 * Runs `cargo build` and parses its messages into state as they arrive.
 * Builds with PYO3_PYTHON pointing at the target interpreter (a value in
 * the environment has already chosen that interpreter when no -i was
 * given, see cmd_build.c), so crates that configure themselves for a
 * Python get the one the wheel is tagged for.
 */
static int cargo_build(const struct cargo_opts *o, const char *manifest,
		       const char *pyexe, json_t *state, struct sp_err *e)
{
	struct proc p = {.pid = -1, .out_fd = -1, .err_fd = -1};
	const char **argv = NULL;
	const char *env[2] = {NULL, NULL};
	char *pyenv = NULL, *buf = NULL;
	size_t n = 0, i, len = 0, cap = 0, scanned = 0;
	int failed = 0, code, ret = -1;

	argv = calloc(16 + 2 * o->npackages, sizeof(*argv));
	if (!argv) {
		oom(e);
		goto out;
	}
	argv[n++] = cargo_program();
	argv[n++] = "build";
	argv[n++] = "--message-format=json-render-diagnostics";
	if (o->profile) {
		argv[n++] = "--profile";
		argv[n++] = o->profile;
	} else {
		argv[n++] = "--release";
	}
	for (i = 0; i < o->npackages; i++) {
		argv[n++] = "-p";
		argv[n++] = o->packages[i];
	}
	if (o->features) {
		argv[n++] = "--features";
		argv[n++] = o->features;
	}
	if (o->target_dir) {
		argv[n++] = "--target-dir";
		argv[n++] = o->target_dir;
	}
	if (manifest) {
		argv[n++] = "--manifest-path";
		argv[n++] = manifest;
	}
	if (o->quiet)
		argv[n++] = "-q";

	pyenv = str_printf("PYO3_PYTHON=%s", pyexe);
	if (!pyenv) {
		oom(e);
		goto out;
	}
	env[0] = pyenv;
	if (spawn_cargo(&p, argv, env, PROC_PIPE_STDOUT, e) < 0)
		goto out;

	/* One JSON message per line; a line may span many reads. */
	for (;;) {
		size_t start = 0;
		char *nl;
		ssize_t r;

		if (cap - len < 65536) {
			char *nb = realloc(buf, cap ? cap * 2 : 131072);

			if (!nb) {
				oom(e);
				goto out;
			}
			buf = nb;
			cap = cap ? cap * 2 : 131072;
		}
		r = read(p.out_fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			sp_err_sys(e, "cannot read the output of cargo build");
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		while ((nl = memchr(buf + scanned, '\n', len - scanned))) {
			*nl = '\0';
			build_line(buf + start, state, &failed, e);
			start = scanned = (size_t)(nl - buf) + 1;
		}
		memmove(buf, buf + start, len - start);
		len -= start;
		scanned = len;
	}
	if (len > 0) {
		buf[len] = '\0';
		build_line(buf, state, &failed, e);
	}
	if (proc_wait(&p, &code, e) < 0)
		goto out;
	if (code != 0) {
		sp_err_set(e, "cargo build failed (exit %d)", code);
		goto out;
	}
	if (!failed)
		ret = 0;
out:
	proc_release(&p);
	free(buf);
	free(pyenv);
	free(argv);
	return ret;
}

/* ---- core metadata ---- */

/* RFC 822 specials: a display name holding one must be quoted. */
static int needs_quotes(const char *name)
{
	return strpbrk(name, "()<>@,;:\\\".[]") != NULL;
}

/* Adds one person to the Author / Author-email pair of strings. */
static int person_add(const char *name, const char *email, char **names,
		      char **emails)
{
	char *q = NULL, *entry = NULL;
	size_t i, j;
	int r;

	if (!email)
		return name ? str_append(names, ", ", name) : 0;
	if (!name)
		return str_append(emails, ", ", email);
	if (needs_quotes(name)) {
		q = malloc(2 * strlen(name) + 3);
		if (!q)
			return -1;
		j = 0;
		q[j++] = '"';
		for (i = 0; name[i]; i++) {
			if (name[i] == '"' || name[i] == '\\')
				q[j++] = '\\';
			q[j++] = name[i];
		}
		q[j++] = '"';
		q[j] = '\0';
		name = q;
	}
	entry = str_printf("%s <%s>", name, email);
	r = entry ? str_append(emails, ", ", entry) : -1;
	free(entry);
	free(q);
	return r;
}

/* Copies s[0..n) without surrounding white space; NULL when that is empty
 * (and *oom is set when out of memory). */
static char *trimmed(const char *s, size_t n, int *nomem)
{
	char *r;

	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n == 0)
		return NULL;
	r = strndup(s, n);
	if (!r)
		*nomem = 1;
	return r;
}

/* Splits a cargo author, "Name <email>", "<email>", "email" or "Name". */
static int cargo_person(const char *s, char **names, char **emails)
{
	const char *lt = strrchr(s, '<'), *gt = strrchr(s, '>');
	char *name = NULL, *email = NULL;
	int nomem = 0, r;

	if (lt && gt && gt > lt) {
		name = trimmed(s, (size_t)(lt - s), &nomem);
		email = trimmed(lt + 1, (size_t)(gt - lt - 1), &nomem);
	} else if (strchr(s, '@') && !strpbrk(s, " \t")) {
		email = trimmed(s, strlen(s), &nomem);
	} else {
		name = trimmed(s, strlen(s), &nomem);
	}
	r = nomem ? -1 : person_add(name, email, names, emails);
	free(name);
	free(email);
	return r;
}

/* Sets key_name / key_email in meta from an array of cargo author strings
 * or pyproject {name, email} tables. */
static int people_to_metadata(const json_t *people, const char *key_name,
			      const char *key_email, json_t *meta,
			      struct sp_err *e)
{
	char *names = NULL, *emails = NULL;
	json_t *x;
	size_t i;
	int ret = -1;

	json_array_foreach(people, i, x)
	{
		int r = 0;

		if (json_is_string(x))
			r = cargo_person(json_string_value(x), &names, &emails);
		else if (json_is_object(x))
			r = person_add(jstr(x, "name"), jstr(x, "email"),
				       &names, &emails);
		if (r < 0) {
			oom(e);
			goto out;
		}
	}
	if (set_str(meta, key_name, names, e) < 0 ||
	    set_str(meta, key_email, emails, e) < 0)
		goto out;
	ret = 0;
out:
	free(names);
	free(emails);
	return ret;
}

int cargo_authors_to_metadata(const json_t *authors, json_t *meta,
			      struct sp_err *e)
{
	return people_to_metadata(authors, "author", "author_email", meta, e);
}

/* Summary is one line in METADATA; cargo descriptions often are not. */
static int set_summary(json_t *meta, const char *text, struct sp_err *e)
{
	char *s, *o;
	const char *p;
	int r;

	if (!text)
		return 0;
	s = malloc(strlen(text) + 1);
	if (!s)
		return oom(e);
	for (o = s, p = text; *p; p++) {
		if (isspace((unsigned char)*p)) {
			if (o > s && o[-1] != ' ')
				*o++ = ' ';
		} else {
			*o++ = *p;
		}
	}
	if (o > s && o[-1] == ' ')
		o--;
	*o = '\0';
	r = set_str(meta, "summary", *s ? s : NULL, e);
	free(s);
	return r;
}

/* Joins an array of strings with sep into meta[key]; empty sets nothing. */
static int set_joined(json_t *meta, const char *key, const json_t *a,
		      const char *sep, struct sp_err *e)
{
	char *s = NULL;
	json_t *x;
	size_t i;
	int r;

	json_array_foreach(a, i, x)
	{
		const char *v = json_string_value(x);

		if (v && *v && str_append(&s, sep, v) < 0) {
			free(s);
			return oom(e);
		}
	}
	r = set_str(meta, key, s, e);
	free(s);
	return r;
}

static const char *content_type_of(const char *path)
{
	const char *dot = strrchr(fsx_basename(path), '.');

	if (dot &&
	    (strcasecmp(dot, ".md") == 0 || strcasecmp(dot, ".markdown") == 0))
		return "text/markdown";
	if (dot && strcasecmp(dot, ".rst") == 0)
		return "text/x-rst";
	return "text/plain";
}

/* 1 when real (a resolved path) is root or lies below it. */
static int below(const char *real, const char *root)
{
	char *r = root ? realpath(root, NULL) : NULL;
	size_t n = r ? strlen(r) : 0;
	int in = r && (strcmp(r, "/") == 0 ||
		       (strncmp(real, r, n) == 0 &&
			(real[n] == '\0' || real[n] == '/')));

	free(r);
	return in;
}

/*
 * A crate names its readme, and spoke reads the file into METADATA: a
 * crate spoke does not trust could name /etc/shadow, or a link to it, and
 * the wheel or sdist built by root would carry it.  So the readme must
 * resolve inside the cargo workspace or the package's own folder (a path
 * dependency may live outside the workspace), as cargo itself packages
 * only files of the package.
 */
static int readme_inside(const char *path, const char *pkgdir,
			 const char *workspace_root, struct sp_err *e)
{
	char *real = realpath(path, NULL);
	int ret = 0;

	if (!real)
		return sp_err_sys(e, "cannot read the readme '%s'", path);
	if (!below(real, pkgdir) && !below(real, workspace_root))
		ret = sp_err_set(e,
				 "the readme '%s' resolves to '%s', outside "
				 "the package and its workspace: refused, "
				 "since it would put a file from elsewhere on "
				 "this machine in the package's METADATA",
				 path, real);
	free(real);
	return ret;
}

/* Reads the readme at dir/file into description (and its content type:
 * ctype, else from the extension); it must lie inside dir or
 * workspace_root (readme_inside). */
static int set_readme_file(json_t *meta, const char *dir, const char *file,
			   const char *ctype, const char *workspace_root,
			   struct sp_err *e)
{
	char *path = file[0] == '/' ? strdup(file) : fsx_join(dir, file);
	char *text = NULL;
	size_t len;
	json_t *s;
	int ret = -1;

	if (!path)
		return oom(e);
	if (readme_inside(path, dir, workspace_root, e) < 0)
		goto out;
	text = fsx_read_all(path, &len, e);
	if (!text) {
		sp_err_wrap(e, "cannot read the readme");
		goto out;
	}
	s = json_stringn(text, len);
	if (!s) {
		sp_err_set(e, "readme '%s' is not UTF-8 text", path);
		goto out;
	}
	if (json_object_set_new(meta, "description", s) < 0) {
		oom(e);
		goto out;
	}
	ret = set_str(meta, "description_content_type",
		      ctype ? ctype : content_type_of(path), e);
out:
	free(text);
	free(path);
	return ret;
}

/* The readme: pyproject's "readme" (a path, or a table with "file" or
 * "text" and "content-type") wins over cargo's "readme" path. */
static int set_readme(json_t *meta, const json_t *pkg, const char *pkgdir,
		      const json_t *proj, const char *workspace_root,
		      struct sp_err *e)
{
	const json_t *r = json_object_get(proj, "readme");
	const char *ctype;

	if (json_is_string(r))
		return set_readme_file(meta, pkgdir, json_string_value(r), NULL,
				       workspace_root, e);
	if (json_is_object(r)) {
		ctype = jstr(r, "content-type");
		if (jstr(r, "file"))
			return set_readme_file(meta, pkgdir, jstr(r, "file"),
					       ctype, workspace_root, e);
		if (!json_is_string(json_object_get(r, "text")))
			return 0;
		if (set_str(meta, "description",
			    json_string_value(json_object_get(r, "text")),
			    e) < 0)
			return -1;
		return set_str(meta, "description_content_type",
			       ctype ? ctype : "text/plain", e);
	}
	if (jstr(pkg, "readme"))
		return set_readme_file(meta, pkgdir, jstr(pkg, "readme"), NULL,
				       workspace_root, e);
	return 0;
}

/* PEP 685: extras compare by their normalized name. */
static char *extra_name(const char *s)
{
	char *n = malloc(strlen(s) + 1), *o = n;

	if (!n)
		return NULL;
	for (; *s; s++) {
		if (*s == '-' || *s == '_' || *s == '.') {
			if (o > n && o[-1] != '-')
				*o++ = '-';
		} else {
			*o++ = (char)tolower((unsigned char)*s);
		}
	}
	while (o > n && o[-1] == '-')
		o--;
	*o = '\0';
	return n;
}

/* One Requires-Dist of an extra: the requirement, its own marker (if any)
 * and'ed with the extra's. */
static char *extra_requirement(const char *req, const char *extra)
{
	const char *semi = strchr(req, ';');
	char *r, *name, *marker;
	int nomem = 0;

	if (!semi)
		return str_printf("%s; extra == \"%s\"", req, extra);
	name = trimmed(req, (size_t)(semi - req), &nomem);
	marker = trimmed(semi + 1, strlen(semi + 1), &nomem);
	r = nomem ? NULL
	    : marker
		? str_printf("%s; (%s) and extra == \"%s\"", name ? name : "",
			     marker, extra)
		: str_printf("%s; extra == \"%s\"", name ? name : "", extra);
	free(name);
	free(marker);
	return r;
}

/* requires_dist and provides_extra from [project] dependencies and
 * optional-dependencies. */
static int set_requirements(json_t *meta, const json_t *proj, struct sp_err *e)
{
	json_t *deps = json_array(), *extras = json_array(), *x, *list;
	const json_t *opt = json_object_get(proj, "optional-dependencies");
	const char *key;
	size_t i;
	int ret = -1;

	if (!deps || !extras) {
		oom(e);
		goto out;
	}
	json_array_foreach(json_object_get(proj, "dependencies"), i, x)
	{
		if (json_is_string(x) && json_array_append(deps, x) < 0) {
			oom(e);
			goto out;
		}
	}
	json_object_foreach((json_t *)opt, key, list)
	{
		char *extra = extra_name(key);

		if (!extra ||
		    json_array_append_new(extras, json_string(extra)) < 0) {
			free(extra);
			oom(e);
			goto out;
		}
		json_array_foreach(list, i, x)
		{
			char *req;

			if (!json_is_string(x))
				continue;
			req = extra_requirement(json_string_value(x), extra);
			if (!req ||
			    json_array_append_new(deps, json_string(req)) < 0) {
				free(req);
				free(extra);
				oom(e);
				goto out;
			}
			free(req);
		}
		free(extra);
	}
	if ((json_array_size(deps) &&
	     json_object_set(meta, "requires_dist", deps) < 0) ||
	    (json_array_size(extras) &&
	     json_object_set(meta, "provides_extra", extras) < 0)) {
		oom(e);
		goto out;
	}
	ret = 0;
out:
	json_decref(deps);
	json_decref(extras);
	return ret;
}

/* project_urls: cargo's homepage, repository and documentation, then
 * pyproject's [project.urls] over them. */
static int set_urls(json_t *meta, const json_t *pkg, const json_t *proj,
		    struct sp_err *e)
{
	json_t *urls = json_object(), *v;
	const char *label;
	int ret = -1;

	if (!urls)
		return oom(e);
	if (set_str(urls, "Homepage", jstr(pkg, "homepage"), e) < 0 ||
	    set_str(urls, "Source Code", jstr(pkg, "repository"), e) < 0 ||
	    set_str(urls, "Documentation", jstr(pkg, "documentation"), e) < 0)
		goto out;
	json_object_foreach((json_t *)json_object_get(proj, "urls"), label, v)
	{
		if (json_is_string(v) && json_object_set(urls, label, v) < 0) {
			oom(e);
			goto out;
		}
	}
	ret = 0;
	if (json_object_size(urls) &&
	    json_object_set(meta, "project_urls", urls) < 0)
		ret = oom(e);
out:
	json_decref(urls);
	return ret;
}

/*
 * The job's "metadata" object, from the cargo package and the pyproject
 * [project] table (NULL when none); what pyproject states wins.
 */
static json_t *job_metadata(const json_t *pkg, const char *pkgdir,
			    const json_t *proj, const char *workspace_root,
			    struct sp_err *e)
{
	const json_t *lic = json_object_get(proj, "license");
	const json_t *authors = json_object_get(proj, "authors");
	const json_t *kw = json_object_get(proj, "keywords");
	json_t *meta = json_object(), *cls;
	const char *license = jstr(pkg, "license"), *summary;

	if (!meta) {
		oom(e);
		return NULL;
	}
	if (json_is_string(lic))
		license = json_string_value(lic);
	else if (jstr(lic, "text"))
		license = jstr(lic, "text");
	if (!json_array_size(authors))
		authors = json_object_get(pkg, "authors");
	if (!json_array_size(kw))
		kw = json_object_get(pkg, "keywords");

	summary = jstr(proj, "description");
	if (!summary)
		summary = jstr(pkg, "description");
	/* Each setter leaves out what neither source states. */
	if (set_summary(meta, summary, e) ||
	    set_str(meta, "license", license, e) ||
	    people_to_metadata(authors, "author", "author_email", meta, e) ||
	    people_to_metadata(json_object_get(proj, "maintainers"),
			       "maintainer", "maintainer_email", meta, e) ||
	    set_str(meta, "home_page", jstr(pkg, "homepage"), e) ||
	    set_urls(meta, pkg, proj, e) ||
	    set_joined(meta, "keywords", kw, ",", e) ||
	    set_readme(meta, pkg, pkgdir, proj, workspace_root, e) ||
	    set_requirements(meta, proj, e) ||
	    set_str(meta, "requires_python", jstr(proj, "requires-python"), e))
		goto fail;
	cls = json_object_get(proj, "classifiers");
	if (json_array_size(cls) &&
	    json_object_set(meta, "classifiers", cls) < 0) {
		oom(e);
		goto fail;
	}
	return meta;
fail:
	json_decref(meta);
	return NULL;
}

/* ---- selection and jobs ---- */

/* A Python module name: dotted identifiers ("pkg._native"). */
static int valid_module(const char *m)
{
	const char *p = m;

	for (;;) {
		if (!(isalpha((unsigned char)*p) || *p == '_'))
			return 0;
		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		if (*p == '\0')
			return 1;
		if (*p++ != '.')
			return 0;
	}
}

/* The pyproject.toml beside a package's Cargo.toml (malloc'd), or NULL. */
static char *pyproject_of(const json_t *pkg, int *nomem)
{
	char *dir = fsx_dirname(jstr(pkg, "manifest_path"));
	char *path = dir ? fsx_join(dir, "pyproject.toml") : NULL;

	free(dir);
	if (!path) {
		*nomem = 1;
		return NULL;
	}
	if (!fsx_exists(path)) {
		free(path);
		return NULL;
	}
	return path;
}

/* Linked paths for a job: its package's first, then every other's. */
static json_t *job_linked_paths(const json_t *state, const char *pkgid)
{
	const json_t *all = json_object_get(state, "linked_paths");
	json_t *out = json_array(), *paths, *x;
	const char *id;
	size_t i;

	if (!out)
		return NULL;
	json_array_foreach(json_object_get(all, pkgid), i, x)
	{
		if (array_add_unique(out, json_string_value(x)) < 0)
			goto fail;
	}
	json_object_foreach((json_t *)all, id, paths)
	{
		json_array_foreach(paths, i, x)
		{
			if (array_add_unique(out, json_string_value(x)) < 0)
				goto fail;
		}
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

struct job_tags {
	const char *py, *abi, *ext;
};

/*
 * The tags and suffix of a job: the interpreter's, or, for a package whose
 * [package.metadata.spoke] says abi3 = "cp38", the stable ABI's
 * (cp38-abi3, ".abi3.so"), which every CPython from 3.8 on imports.  The
 * crate itself must keep to the limited API (pyo3's abi3-py38 feature);
 * spoke cannot check that.
 */
static int abi3_tags(const json_t *pkg, const struct pyinfo *py,
		     struct job_tags *t, struct sp_err *e)
{
	const json_t *v = json_object_get(
	    json_object_get(json_object_get(pkg, "metadata"), "spoke"), "abi3");
	const char *s = json_string_value(v), *p;
	unsigned long want, have;
	char *end;

	t->py = py->python_tag;
	t->abi = py->abi_tag;
	t->ext = py->ext_suffix;
	if (!v)
		return 0;
	if (!s || strncmp(s, "cp3", 3) != 0 || !isdigit((unsigned char)s[3]))
		return sp_err_set(e, "[package.metadata.spoke] abi3 must be "
				     "a CPython tag like \"cp38\"");
	for (p = s + 3; *p; p++)
		if (!isdigit((unsigned char)*p))
			return sp_err_set(e,
					  "[package.metadata.spoke] abi3 "
					  "'%s' is not a tag like \"cp38\"",
					  s);
	if (strncmp(py->python_tag, "cp3", 3) != 0)
		return sp_err_set(e,
				  "abi3 wheels need a CPython interpreter, "
				  "not '%s'",
				  py->python_tag);
	/* An interpreter older than the floor cannot vouch for the
	 * wheel's tag. */
	want = strtoul(s + 3, &end, 10);
	have = strtoul(py->python_tag + 3, &end, 10);
	if (have < want)
		return sp_err_set(e,
				  "abi3 = \"%s\" needs Python 3.%lu or newer "
				  "to build with; the interpreter is %s",
				  s, want, py->python_tag);
	t->py = s;
	t->abi = "abi3";
	t->ext = ".abi3.so";
	return 0;
}

/* Builds the job for one cdylib of pkg and appends it to plan->jobs. */
static int plan_job(struct cargo_plan *plan, const json_t *pkg,
		    const json_t *art, const json_t *state, const char *module,
		    struct sp_err *e)
{
	const char *cargo_name = jstr(pkg, "name");
	const json_t *proj = NULL, *entry;
	struct job_tags tags;
	char *pyproject, *pkgdir = NULL;
	json_t *job = NULL, *pm = NULL, *linked = NULL, *meta;
	int nomem = 0, ret = -1;

	pyproject = pyproject_of(pkg, &nomem);
	if (nomem) {
		oom(e);
		goto out;
	}
	if (pyproject) {
		entry = json_object_get(plan->py.pyprojects, pyproject);
		if (jstr(entry, "error")) {
			sp_err_set(e, "cannot read '%s': %s", pyproject,
				   jstr(entry, "error"));
			goto out;
		}
		proj = json_object_get(entry, "project");
		if (!json_is_object(proj))
			proj = NULL;
	}

	/* Distribution, version and metadata as `spoke sdist` states them,
	 * so a wheel and its sdist never disagree; errors name the package
	 * already. */
	pm = cargo_package_meta(pkg, proj, plan->workspace_root, e);
	if (!pm)
		goto out;
	meta = json_object_get(pm, "metadata");
	pkgdir = fsx_dirname(jstr(pkg, "manifest_path"));
	if (!pkgdir) {
		oom(e);
		goto out;
	}
	if (abi3_tags(pkg, &plan->py, &tags, e) < 0) {
		sp_err_wrap(e, "package '%s'", cargo_name);
		goto out;
	}
	linked = job_linked_paths(state, jstr(art, "package_id"));
	job = json_pack(
	    "{s:s, s:s, s:O, s:O, s:O, s:s, s:s, s:s, s:s, s:s, s:O}",
	    "cargo_path", jstr(art, "path"), "package", cargo_name,
	    "linked_paths", linked, "distribution",
	    json_object_get(pm, "distribution"), "version",
	    json_object_get(pm, "version"), "module", module, "python_tag",
	    tags.py, "abi_tag", tags.abi, "platform_tag",
	    plan->py.platform_tag, "ext_suffix", tags.ext, "metadata", meta);
	if (!job) {
		sp_err_set(e,
			   "cannot describe the job for package '%s' (out "
			   "of memory or not UTF-8)",
			   cargo_name);
		goto out;
	}
	/* The job holds meta itself, so License-File names reach it. */
	/* The project root: the pyproject.toml's folder, else the
	 * workspace's; links out of it are refused. */
	if (pysrc_plan(job, meta, pkg, pkgdir, proj, module,
		       pyproject ? pkgdir : plan->workspace_root, e) < 0) {
		sp_err_wrap(e, "package '%s'", cargo_name);
		goto out;
	}
	if (json_array_append(plan->jobs, job) < 0) {
		oom(e);
		goto out;
	}
	ret = 0;
out:
	json_decref(job);
	json_decref(linked);
	json_decref(pm);
	free(pkgdir);
	free(pyproject);
	return ret;
}

/*
 * Picks the cdylibs to package (see cargo.h) and plans a job for each, in
 * workspace member order.
 */
static int plan_jobs(struct cargo_plan *plan, const json_t *packages,
		     const json_t *state, struct sp_err *e)
{
	const json_t *built = json_object_get(state, "built");
	const json_t *cdylibs = json_object_get(state, "cdylibs");
	const json_t *pkg, *art;
	char *rejected = NULL, *sym = NULL;
	size_t i, j, ncdylib = 0;
	int spoke_mode = 0, ret = -1;

	json_array_foreach(packages, i, pkg)
	{
		const json_t *meta = json_object_get(pkg, "metadata");

		if (json_object_get(built, jstr(pkg, "id")) &&
		    json_is_object(json_object_get(meta, "spoke")))
			spoke_mode = 1;
	}

	json_array_foreach(packages, i, pkg)
	{
		const char *id = jstr(pkg, "id");
		const json_t *spoke =
		    json_object_get(json_object_get(pkg, "metadata"), "spoke");

		json_array_foreach(cdylibs, j, art)
		{
			const char *module, *last;
			int r;

			if (!id || strcmp(jstr(art, "package_id"), id) != 0)
				continue;
			ncdylib++;
			if (spoke_mode && !json_is_object(spoke))
				continue;
			module = jstr(spoke, "module") ? jstr(spoke, "module")
						       : jstr(art, "name");
			if (!valid_module(module)) {
				sp_err_set(e,
					   "package '%s': '%s' is not a "
					   "Python module name (set "
					   "[package.metadata.spoke] module)",
					   jstr(pkg, "name"), module);
				goto out;
			}
			last = strrchr(module, '.');
			last = last ? last + 1 : module;
			free(sym);
			sym = str_printf("PyInit_%s", last);
			if (!sym) {
				oom(e);
				goto out;
			}
			/* A concurrent --stage=move build may hold the output
			 * in its state directory right now.  A declared
			 * module needs no look here: the worker checks the
			 * export on the staged file, once the coordinator has
			 * serialized the builds. */
			if (spoke_mode && !fsx_exists(jstr(art, "path")))
				r = 1;
			else
				r = elf_exports(jstr(art, "path"), sym, e);
			if (r < 0)
				goto out;
			if (r == 0 && spoke_mode) {
				sp_err_set(e,
					   "package '%s': '%s' does not "
					   "export %s, so Python cannot "
					   "import it as module '%s' (check "
					   "[package.metadata.spoke] module)",
					   jstr(pkg, "name"), jstr(art, "path"),
					   sym, module);
				goto out;
			}
			if (r == 0) {
				char *why = str_printf("'%s' (no %s)",
						       jstr(art, "path"), sym);

				if (!why || str_append(&rejected, ", ", why)) {
					free(why);
					oom(e);
					goto out;
				}
				free(why);
				continue;
			}
			if (plan_job(plan, pkg, art, state, module, e) < 0)
				goto out;
		}
	}
	if (ncdylib == 0) {
		sp_err_set(e, "no cdylib in the workspace: spoke packages "
			      "crates with crate-type = [\"cdylib\"]");
		goto out;
	}
	if (json_array_size(plan->jobs) == 0) {
		sp_err_set(e,
			   "no cdylib in the workspace is a Python extension "
			   "module: %s; export PyInit_<module>, or name the "
			   "module in [package.metadata.spoke] module",
			   rejected ? rejected : "(none selected)");
		goto out;
	}
	ret = 0;
out:
	free(rejected);
	free(sym);
	return ret;
}

/* --target-dir as cargo resolves it: relative to the cwd. */
static char *absolute_dir(const char *dir, struct sp_err *e)
{
	char *cwd, *r;

	if (dir[0] == '/')
		r = strdup(dir);
	else {
		cwd = getcwd(NULL, 0);
		if (!cwd) {
			sp_err_sys(e, "cannot get the current directory");
			return NULL;
		}
		r = fsx_join(cwd, dir);
		free(cwd);
	}
	if (!r)
		oom(e);
	return r;
}

/*
 * Finds the interpreter as execvp() would (malloc'd path, or NULL), so a
 * wrong --interpreter fails before a long build rather than after it.
 */
static char *find_interpreter(const char *name, struct sp_err *e)
{
	const char *p = getenv("PATH"), *colon;
	char *cand;

	if (strchr(name, '/')) {
		if (access(name, X_OK) == 0) {
			cand = strdup(name);
			if (!cand)
				oom(e);
			return cand;
		}
		goto missing;
	}
	for (p = p ? p : "/usr/bin:/bin"; p; p = colon ? colon + 1 : NULL) {
		size_t len;

		colon = strchr(p, ':');
		len = colon ? (size_t)(colon - p) : strlen(p);
		/* An empty PATH entry means the current directory. */
		cand = len ? str_printf("%.*s/%s", (int)len, p, name)
			   : str_printf("./%s", name);
		if (!cand) {
			oom(e);
			return NULL;
		}
		if (access(cand, X_OK) == 0)
			return cand;
		free(cand);
	}
missing:
	sp_err_set(e, "python interpreter '%s' not found (use --interpreter)",
		   name);
	return NULL;
}

int cargo_plan_build(const struct cargo_opts *o, struct cargo_plan *out,
		     struct sp_err *e)
{
	const char *interp = o->interpreter ? o->interpreter : "python3";
	char *manifest = NULL, *interp_path = NULL, **pyprojects = NULL;
	json_t *meta = NULL, *state = NULL, *packages, *pkg, *built;
	size_t i, n = 0;
	int nomem = 0, ret = -1;

	memset(out, 0, sizeof(*out));
	if (find_manifest(o->manifest_path, &manifest, e) < 0)
		goto out;
	interp_path = find_interpreter(interp, e);
	if (!interp_path)
		goto out;
	meta = cargo_metadata(manifest, e);
	if (!meta)
		goto out;
	packages = json_object_get(meta, "packages");

	out->workspace_root = strdup(jstr(meta, "workspace_root"));
	out->target_dir = o->target_dir
			      ? absolute_dir(o->target_dir, e)
			      : strdup(jstr(meta, "target_directory"));
	out->jobs = json_array();
	state = json_object();
	pyprojects = calloc(json_array_size(packages) + 1, sizeof(*pyprojects));
	if (!out->target_dir) {
		if (!o->target_dir)
			oom(e);
		goto out;
	}
	if (!out->workspace_root || !out->jobs || !state || !pyprojects) {
		oom(e);
		goto out;
	}

	if (cargo_build(o, manifest, interp_path, state, e) < 0)
		goto out;

	/* One interpreter run for the tags and the pyproject.toml of every
	 * package cargo built: only those may need tomllib, or be valid. */
	built = json_object_get(state, "built");
	json_array_foreach(packages, i, pkg)
	{
		char *p;

		if (!json_object_get(built, jstr(pkg, "id")))
			continue;
		p = pyproject_of(pkg, &nomem);
		if (p)
			pyprojects[n++] = p;
	}
	if (nomem) {
		oom(e);
		goto out;
	}
	if (pyinfo_query(interp, (const char *const *)pyprojects, n, &out->py,
			 e) < 0 ||
	    plan_jobs(out, packages, state, e) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0)
		cargo_plan_release(out);
	for (i = 0; i < n; i++)
		free(pyprojects[i]);
	free(pyprojects);
	json_decref(state);
	json_decref(meta);
	free(interp_path);
	free(manifest);
	return ret;
}

void cargo_plan_release(struct cargo_plan *p)
{
	free(p->target_dir);
	free(p->workspace_root);
	json_decref(p->jobs);
	pyinfo_release(&p->py);
	memset(p, 0, sizeof(*p));
}

char *cargo_target_dir(const char *manifest_path, struct sp_err *e)
{
	char *manifest = NULL, *dir = NULL;
	json_t *meta;

	if (find_manifest(manifest_path, &manifest, e) < 0)
		return NULL;
	meta = cargo_metadata(manifest, e);
	if (meta) {
		dir = strdup(jstr(meta, "target_directory"));
		if (!dir)
			oom(e);
	}
	json_decref(meta);
	free(manifest);
	return dir;
}

json_t *cargo_metadata_json(const char *manifest_path, struct sp_err *e)
{
	char *manifest = NULL;
	json_t *meta;

	if (find_manifest(manifest_path, &manifest, e) < 0)
		return NULL;
	meta = cargo_metadata(manifest, e);
	free(manifest);
	return meta;
}

json_t *cargo_package_meta(const json_t *pkg, const json_t *proj,
			   const char *workspace_root, struct sp_err *e)
{
	const char *name =
	    jstr(proj, "name") ? jstr(proj, "name") : jstr(pkg, "name");
	char *pkgdir = fsx_dirname(jstr(pkg, "manifest_path"));
	char *version = NULL;
	json_t *meta = NULL, *out = NULL;

	if (!pkgdir) {
		oom(e);
		goto out;
	}
	version = jstr(proj, "version")
		      ? strdup(jstr(proj, "version"))
		      : pep440_from_semver(jstr(pkg, "version"), e);
	if (!version) {
		if (jstr(proj, "version"))
			oom(e);
		goto out;
	}
	meta = job_metadata(pkg, pkgdir, proj, workspace_root, e);
	if (!meta)
		goto out;
	out = json_pack("{s:s, s:s, s:O}", "distribution", name, "version",
			version, "metadata", meta);
	if (!out)
		sp_err_set(e, "cannot describe package '%s' (not UTF-8?)",
			   name);
out:
	if (!out) {
		const char *cname = jstr(pkg, "name");

		sp_err_wrap(e, "package '%s'", cname ? cname : "?");
	}
	json_decref(meta);
	free(version);
	free(pkgdir);
	return out;
}
