/*
 * rustc_target.c - whether rustc can build for a target triple.
 */
#define _GNU_SOURCE
#include "cli/project/rustc_target.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/project/proc.h"
#include "cli/project/strutil.h"

static const char *rustc_program(void)
{
	const char *r = getenv("RUSTC");

	return r && *r ? r : "rustc";
}

/* Runs rustc with argv[1..] and returns its stdout with trailing white
 * space removed (malloc'd), or NULL with e filled; its stderr is kept in
 * the message when it fails, since it names what rustc did not like. */
static char *rustc_output(const char *const *argv, struct sp_err *e)
{
	struct proc p = {.pid = -1, .out_fd = -1, .err_fd = -1};
	char *out = NULL, *err = NULL;
	size_t len = 0, elen = 0;
	int code;

	if (proc_spawn(&p, argv, NULL, PROC_PIPE_STDOUT | PROC_PIPE_STDERR, e) <
	    0) {
		if (errno == ENOENT)
			sp_err_set(e, "rustc not found (install Rust, or set "
				      "RUSTC to the rustc program)");
		goto fail;
	}
	if (proc_collect(&p, &out, &len, &err, &elen, e) < 0 ||
	    proc_wait(&p, &code, e) < 0)
		goto fail;
	if (code != 0) {
		char *nl = err ? strchr(err, '\n') : NULL;

		if (nl)
			*nl = '\0';
		sp_err_set(e, "%s failed (exit %d)%s%s", argv[0], code,
			   err && *err ? ": " : "", err ? err : "");
		goto fail;
	}
	while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == ' ' ||
			   out[len - 1] == '\r'))
		out[--len] = '\0';
	proc_release(&p);
	free(err);
	return out;
fail:
	proc_release(&p);
	free(out);
	free(err);
	return NULL;
}

int rustc_target_check(const char *triple, struct sp_err *e)
{
	const char *argv[] = {rustc_program(), "--print", "target-libdir",
			      "--target",      triple,	  NULL};
	struct dirent *d;
	char *libdir;
	DIR *dir;
	int found = 0;

	libdir = rustc_output(argv, e);
	if (!libdir) {
		sp_err_wrap(e, "target '%s'", triple);
		return -1;
	}
	dir = opendir(libdir);
	while (dir && (d = readdir(dir)))
		if (!strncmp(d->d_name, "libstd-", 7) &&
		    strlen(d->d_name) > 12 &&
		    !strcmp(d->d_name + strlen(d->d_name) - 5, ".rlib"))
			found = 1;
	if (dir)
		closedir(dir);
	if (!found)
		sp_err_set(e,
			   "the Rust standard library for target '%s' is not "
			   "installed (no libstd in '%s'); with rustup: "
			   "rustup target add %s",
			   triple, libdir, triple);
	free(libdir);
	return found ? 0 : -1;
}

/* The triple's first component in Python's spelling, or NULL when this
 * table does not know it. */
static const char *python_arch(const char *triple, size_t len)
{
	static const struct {
		const char *rust, *py;
		int prefix; /* rust is a prefix (armv7, armv7a, ...) */
	} map[] = {
	    {"x86_64", "x86_64", 0},
	    {"i686", "i686", 0},
	    {"i586", "i686", 0},
	    {"i386", "i686", 0},
	    {"aarch64", "aarch64", 0},
	    {"armv7", "armv7l", 1},
	    {"powerpc64le", "ppc64le", 0},
	    {"powerpc64", "ppc64", 0},
	    {"s390x", "s390x", 0},
	    {"riscv64", "riscv64", 1},
	    {"loongarch64", "loongarch64", 0},
	};
	size_t i, n;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		n = strlen(map[i].rust);
		if (map[i].prefix
			? len >= n && !strncmp(triple, map[i].rust, n)
			: len == n && !strncmp(triple, map[i].rust, n))
			return map[i].py;
	}
	return NULL;
}

int rustc_target_fits(const char *triple, const char *platform_tag,
		      struct sp_err *e)
{
	const char *arch = python_arch(triple, strcspn(triple, "-"));
	const char *have = platform_tag ? strchr(platform_tag, '_') : NULL;

	if (!arch || !have || !strcmp(have + 1, arch))
		return 0;
	return sp_err_set(e,
			  "--target %s builds for %s, but the interpreter is "
			  "for %s (%s): spoke tags wheels for the "
			  "interpreter, so cross builds are not supported",
			  triple, arch, have + 1, platform_tag);
}
