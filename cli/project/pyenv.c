/*
 * pyenv.c - pyenv's choice of a Python, followed without running bash.
 *
 * Each rule below mirrors a pyenv 2.x script, named where it is used
 * (libexec/pyenv, pyenv-version-file, pyenv-version-file-read,
 * pyenv-version-name, pyenv-which); where pyenv would do more than
 * these lines, the shim is left unresolved.
 */
#define _GNU_SOURCE
#include "cli/project/pyenv.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/project/pathsearch.h"
#include "cli/project/strutil.h"
#include "common/path.h"

extern char **environ;

/* What a shim says: its PYENV_ROOT and the pyenv it runs. */
struct shim {
	char root[PATH_MAX];
	char pyenv[PATH_MAX];
	char shimdir[PATH_MAX];
};

/* A quoted value of a shim line: no quote, $, \ or backquote inside. */
static int take_value(const char *line, const char *pre, const char *post,
		      char *dst, size_t size)
{
	size_t lp = strlen(pre), ll = strlen(line), lq = strlen(post), n;

	if (ll < lp + lq || strncmp(line, pre, lp) ||
	    strcmp(line + ll - lq, post))
		return 0;
	n = ll - lp - lq;
	if (n == 0 || n >= size || strcspn(line + lp, "\"$\\`") < n)
		return 0;
	memcpy(dst, line + lp, n);
	dst[n] = '\0';
	return 1;
}

/* Reads the shim's text as `pyenv rehash` writes it (pyenv 2.x); any
 * other line makes it a script spoke does not know. */
static int parse_shim(const char *head, struct shim *s)
{
	static const char *const fixed[] = {
	    "set -e",
	    "[ -n \"$PYENV_DEBUG\" ] && set -x",
	    "program=\"${0##*/}\"",
	    "SHIM_PATH=${0%/*}",
	    "export _PYENV_SHIM_PATH=\"$SHIM_PATH\"",
	    "fi",
	};
	const char *p = head, *end;
	char line[PATH_MAX + 64];
	size_t i, n;
	int first = 1, known;

	memset(s, 0, sizeof(*s));
	for (; *p; p = *end ? end + 1 : end, first = 0) {
		end = strchrnul(p, '\n');
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		n = (size_t)(end - p);
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n >= sizeof(line))
			return 0;
		memcpy(line, p, n);
		line[n] = '\0';
		if (first) {
			if (strncmp(line, "#!", 2) || !strstr(line, "bash"))
				return 0;
			continue;
		}
		known = n == 0 || line[0] == '#';
		for (i = 0; !known && i < sizeof(fixed) / sizeof(*fixed); i++)
			known = strcmp(line, fixed[i]) == 0;
		if (!known &&
		    !take_value(line, "export PYENV_ROOT=\"", "\"", s->root,
				sizeof(s->root)) &&
		    !take_value(line, "if [[ $SHIM_PATH != \"",
				"\" ]]; then", s->shimdir,
				sizeof(s->shimdir)) &&
		    !take_value(line, "exec \"",
				"\" exec \"$program\" \"$@\"", s->pyenv,
				sizeof(s->pyenv)))
			return 0;
	}
	return s->root[0] == '/' && s->pyenv[0] == '/';
}

/* Hook scripts pyenv sources on the way (pyenv-hooks): only the ones
 * pyenv and pyenv-virtualenv ship are allowed, since each acts only for
 * pip or for a command that was not found (then spoke resolves nothing). */
static int hooks_known(const char *root)
{
	static const char *const cmds[] = {"exec", "which", "version-name"};
	static const char *const known[] = {
	    "exec/pip-rehash.bash", "which/python-config.bash",
	    "which/system-site-packages.bash", "which/conda.bash"};
	const char *env = getenv("PYENV_HOOK_PATH");
	char *list = NULL, *tok, *save = NULL, pat[PATH_MAX + 64];
	glob_t g;
	size_t i, j, k;
	int ok = 1;

	if (asprintf(&list,
		     "%s:%s/pyenv.d:/usr/etc/pyenv.d:/usr/local/etc/pyenv.d:"
		     "/etc/pyenv.d:/usr/lib/pyenv/hooks",
		     env ? env : "", root) < 0)
		return 0;
	snprintf(pat, sizeof(pat), "%s/plugins/*/etc/pyenv.d", root);
	memset(&g, 0, sizeof(g));
	if (glob(pat, 0, NULL, &g) == 0)
		for (i = 0; i < g.gl_pathc; i++) {
			char *more;

			if (asprintf(&more, "%s:%s", list, g.gl_pathv[i]) < 0) {
				ok = 0;
				break;
			}
			free(list);
			list = more;
		}
	globfree(&g);
	for (tok = strtok_r(list, ":", &save); ok && tok;
	     tok = strtok_r(NULL, ":", &save)) {
		for (i = 0; ok && i < sizeof(cmds) / sizeof(*cmds); i++) {
			snprintf(pat, sizeof(pat), "%s/%s/*.bash", tok,
				 cmds[i]);
			memset(&g, 0, sizeof(g));
			if (glob(pat, 0, NULL, &g) != 0)
				continue;
			for (j = 0; ok && j < g.gl_pathc; j++) {
				char rel[NAME_MAX * 2 + 2];

				snprintf(rel, sizeof(rel), "%s/%s", cmds[i],
					 path_basename(g.gl_pathv[j]));
				for (k = 0; k < sizeof(known) / sizeof(*known);
				     k++)
					if (strcmp(rel, known[k]) == 0)
						break;
				ok = k < sizeof(known) / sizeof(*known);
			}
			globfree(&g);
		}
	}
	free(list);
	return ok;
}

/* bash's $PWD at start: the inherited PWD when it names the current
 * folder, else getcwd(). */
static char *shell_pwd(void)
{
	const char *pwd = getenv("PWD");
	struct stat a, b;

	if (pwd && pwd[0] == '/' && stat(pwd, &a) == 0 && stat(".", &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino &&
	    !strstr(pwd, "/./") && !strstr(pwd, "/../"))
		return strdup(pwd);
	return getcwd(NULL, 0);
}

/* pyenv-version-file's find_local_version_file: the first
 * .python-version (a regular file, links followed) from dir up to /. */
static char *local_version_file(const char *dir)
{
	char *root = strdup(dir), *f, *slash;
	struct stat st;

	while (root) {
		if (asprintf(&f, "%s/.python-version", root) < 0)
			break;
		if (stat(f, &st) == 0 && S_ISREG(st.st_mode)) {
			free(root);
			return f;
		}
		free(f);
		if (!*root)
			break;
		slash = strrchr(root, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
	free(root);
	return NULL;
}

/* pyenv-version-file-read: the first word of each line, lines empty or
 * starting with '#' skipped, joined with ':'.  *out "" when the file is
 * empty or missing (pyenv then says "system").  0, or -1 when pyenv
 * would do more than this (a '/' in a word, a line too long). */
static int read_version_file(const char *path, char **out)
{
	char line[1100], *w, *save;
	size_t len;
	FILE *f;

	*out = NULL;
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -1;
	while (fgets(line, sizeof(line), f)) {
		len = strlen(line);
		if (len >= 1000 && line[len - 1] != '\n')
			goto bad;
		w = strtok_r(line, " \t\r\n", &save);
		if (!w || w[0] == '#')
			continue;
		if (strchr(w, '/') || !strcmp(w, ".."))
			goto bad;
		if (str_append(out, ":", w) < 0)
			goto bad;
	}
	fclose(f);
	return 0;
bad:
	fclose(f);
	return -1;
}

/* pyenv-version-name's input: PYENV_VERSION, else the version file.
 * *out malloc'd, NULL meaning none ("system").  0, or -1: unresolved. */
static int version_setting(const char *root, char **out)
{
	const char *env = getenv("PYENV_VERSION"), *dirv = getenv("PYENV_DIR");
	char *pwd = NULL, *file = NULL;
	struct stat st;
	int ret = -1;

	*out = NULL;
	if (env && *env)
		return (*out = strdup(env)) ? 0 : -1;
	pwd = shell_pwd();
	if (!pwd)
		return -1;
	/* libexec/pyenv: PYENV_DIR, else $PWD, made absolute by cd; only an
	 * absolute one without "." or ".." is followed here. */
	if (dirv && *dirv) {
		if (dirv[0] != '/' || strstr(dirv, "/.") ||
		    stat(dirv, &st) < 0 || !S_ISDIR(st.st_mode))
			goto out;
	} else {
		dirv = pwd;
	}
	{
		char *d = strdup(dirv);
		size_t n = d ? strlen(d) : 0;

		if (!d)
			goto out;
		while (n > 1 && d[n - 1] == '/')
			d[--n] = '\0';
		if (n == 1)
			d[0] = '\0'; /* "/" walks as "" */
		file = local_version_file(d);
		free(d);
	}
	if (!file && strcmp(dirv, pwd) != 0)
		file = local_version_file(pwd);
	if (!file && asprintf(&file, "%s/version", root) < 0) {
		file = NULL;
		goto out;
	}
	ret = read_version_file(file, out);
out:
	free(file);
	free(pwd);
	return ret;
}

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_exec(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && !S_ISDIR(st.st_mode) &&
	       access(path, X_OK) == 0;
}

/* pyenv-which for "system": the command on PATH as pyenv's own scripts
 * see it (its libexec and plugins' bin first), the shims left out. */
static char *system_which(const char *root, const char *prog)
{
	const char *path = getenv("PATH"), *p, *colon;
	char *search = NULL, *shims = NULL, pat[PATH_MAX + 32], *found = NULL;
	glob_t g;
	size_t i;

	if (!path || strchr(path, '~') || asprintf(&shims, "%s/shims", root) < 0)
		return NULL;
	if (asprintf(&search, "%s/libexec", root) < 0) {
		search = NULL;
		goto out;
	}
	/* libexec/pyenv prepends each plugin's bin in turn: the last one
	 * globbed comes first. */
	snprintf(pat, sizeof(pat), "%s/plugins/*/bin", root);
	memset(&g, 0, sizeof(g));
	if (glob(pat, 0, NULL, &g) == 0)
		for (i = g.gl_pathc; i-- > 0;)
			if (str_append(&search, ":", g.gl_pathv[i]) < 0) {
				globfree(&g);
				goto out;
			}
	globfree(&g);
	for (p = path; p; p = colon ? colon + 1 : NULL) {
		char *entry;

		colon = strchr(p, ':');
		entry = colon ? strndup(p, (size_t)(colon - p)) : strdup(p);
		if (!entry)
			goto out;
		if (strcmp(entry, shims) != 0 &&
		    str_append(&search, ":", entry) < 0) {
			free(entry);
			goto out;
		}
		free(entry);
	}
	found = pathsearch(search, prog);
	if (found && found[0] != '/') {
		free(found);
		found = NULL;
	}
out:
	free(search);
	free(shims);
	return found;
}

int pyenv_shim_target(const char *shim, const char *head, char **target,
		      const char **why)
{
	struct shim s;
	char *setting = NULL, *dir = NULL, *a = NULL, *b = NULL, *v, *save;
	const char *prog = path_basename(shim);
	char **ep, vdir[PATH_MAX + NAME_MAX + 32];
	int ret = 0;

	*target = NULL;
	*why = "a script that is not a pyenv shim";
	if (!parse_shim(head, &s))
		return 0;
	*why = "a pyenv shim spoke does not resolve (see the README)";
	/* libexec/pyenv: PYENV_ROOT without its trailing slash. */
	while (strlen(s.root) > 1 && s.root[strlen(s.root) - 1] == '/')
		s.root[strlen(s.root) - 1] = '\0';
	dir = path_dirname(shim);
	a = realpath(s.root, NULL);
	b = path_dirname(s.pyenv);
	if (!dir || !b)
		goto oom;
	{
		char *inst = path_dirname(b);

		free(b);
		b = inst ? realpath(inst, NULL) : NULL;
		free(inst);
	}
	if (!a || !b || strcmp(a, b) != 0 ||
	    strcmp(path_basename(s.pyenv), "pyenv") ||
	    strcmp(path_basename(dir), "shims") ||
	    strncmp(dir, s.root, strlen(s.root)) ||
	    strcmp(dir + strlen(s.root), "/shims") ||
	    (s.shimdir[0] && strcmp(s.shimdir, dir)) ||
	    !strncmp(prog, "pip", 3) || !strncmp(prog, "easy_install", 12))
		goto out;
	for (ep = environ; *ep; ep++)
		if (!strncmp(*ep, "_PYENV_SHIM_PATHS_", 18))
			goto out;
	if (!hooks_known(s.root) || version_setting(s.root, &setting) < 0)
		goto out;
	/* pyenv-version-name: none, or "system", is the system's; else each
	 * name must be an installed folder (or one with "python-" dropped).
	 * pyenv-which then takes the first that has the command, and the
	 * system's last. */
	if (setting && strcmp(setting, "system") != 0) {
		if (setting[0] == ':' || strstr(setting, "::") ||
		    setting[strlen(setting) - 1] == ':' ||
		    strpbrk(setting, "*?[ \t\n/"))
			goto out;
		for (v = strtok_r(setting, ":", &save); v;
		     v = strtok_r(NULL, ":", &save)) {
			if (!strcmp(v, "..") || !strcmp(v, "."))
				goto out;
			if (!strcmp(v, "system")) {
				*target = system_which(s.root, prog);
				if (*target) {
					ret = 1;
					goto out;
				}
				continue;
			}
			snprintf(vdir, sizeof(vdir), "%s/versions/%s", s.root, v);
			if (!is_dir(vdir) && !strncmp(v, "python-", 7))
				snprintf(vdir, sizeof(vdir), "%s/versions/%s",
					 s.root, v + 7);
			if (!is_dir(vdir))
				goto out;
			if (strlen(vdir) + strlen(prog) + 6 >= sizeof(vdir))
				goto out;
			strcat(vdir, "/bin/");
			strcat(vdir, prog);
			if (is_exec(vdir)) {
				*target = strdup(vdir);
				ret = *target ? 1 : -1;
				goto out;
			}
		}
	}
	*target = system_which(s.root, prog);
	ret = *target ? 1 : 0;
	goto out;
oom:
	ret = -1;
out:
	if (ret == 1)
		*why = NULL;
	free(setting);
	free(dir);
	free(a);
	free(b);
	return ret;
}
