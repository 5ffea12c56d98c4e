/*
 * cmd_patchelf.c - spoke patch-elf: patchelf's common edits, out of place.
 *
 * Runs in the spoke process itself (no coordinator): it touches no cargo
 * output, as IN is only read.  OUT is written the one durable way
 * (common/tmpfile.h): a temporary file beside it (O_EXCL|O_NOFOLLOW, an
 * unpredictable name), fsync, rename, fsync of the directory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "common/err.h"
#include "common/dirs.h"
#include "common/path.h"
#include "common/tmpfile.h"
#include "worker/elf/inspect.h"
#include "worker/elf/patch.h"

static const char patchelf_help[] =
    "usage: spoke patch-elf IN -o OUT [edits...] [--print-...]\n"
    "       spoke patch-elf IN --print-needed|--print-rpath|"
    "--print-soname\n"
    "\n"
    "Writes a patched copy of the shared library or executable IN to OUT\n"
    "(atomically, with IN's mode).  IN itself is never written.  All\n"
    "edits are applied together.\n"
    "\n"
    "edits:\n"
    "  --set-rpath R             set DT_RUNPATH to R (an RPATH becomes\n"
    "                            a RUNPATH)\n"
    "  --force-rpath             with --set-rpath: set DT_RPATH instead\n"
    "  --replace-needed OLD NEW  rename the needed library OLD to NEW\n"
    "                            (repeatable)\n"
    "  --add-needed L            add a needed library (repeatable)\n"
    "  --remove-needed L         drop a needed library (repeatable)\n"
    "  --set-soname S            set DT_SONAME\n"
    "\n"
    "output:\n"
    "  -o, --output OUT          where the patched copy goes\n"
    "  --print-needed            print the needed libraries, one a line\n"
    "  --print-rpath             print DT_RUNPATH, else DT_RPATH\n"
    "  --print-soname            print DT_SONAME\n"
    "                            (from OUT when there are edits, else\n"
    "                            from IN)\n"
    "  -h, --help                show this help\n"
    "\n"
    "exit status: 0 success, 1 failure, 2 usage error.\n";

struct patchelf_opts {
	const char *in, *out;
	struct elf_edit ed;
	const char **rold, **rnew, **add, **rm;
	int print_needed, print_rpath, print_soname;
	int edits;
};

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("spoke patch-elf: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	fputs(patchelf_help, stderr);
	return EXIT_USAGE;
}

/* Returns the value of option argv[*i] (from "--opt=value" or the next
 * argument), or NULL when there is none. */
static const char *opt_value(int argc, char **argv, int *i, const char *eq)
{
	if (eq)
		return eq + 1;
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

/* Parses argv.  Returns 0, or the exit status to return now. */
static int patchelf_parse(int argc, char **argv, struct patchelf_opts *o)
{
	int i, dashdash = 0;
	size_t n = (size_t)argc;

	memset(o, 0, sizeof(*o));
	o->rold = calloc(n, sizeof(char *));
	o->rnew = calloc(n, sizeof(char *));
	o->add = calloc(n, sizeof(char *));
	o->rm = calloc(n, sizeof(char *));
	if (!o->rold || !o->rnew || !o->add || !o->rm) {
		fputs("spoke: out of memory\n", stderr);
		return 1;
	}
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *eq, *v;
		size_t len;

		if (dashdash || a[0] != '-' || !a[1]) {
			if (o->in)
				return usage_error("unexpected argument '%s'",
						   a);
			o->in = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			dashdash = 1;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(patchelf_help, stdout);
			return 0;
		}
		eq = a[1] == '-' ? strchr(a, '=') : NULL;
		len = eq ? (size_t)(eq - a) : strlen(a);
#define IS(name) (len == strlen(name) && !strncmp(a, name, len))
		if (IS("-o") || IS("--output")) {
			if (!(v = opt_value(argc, argv, &i, eq)))
				goto missing;
			o->out = v;
		} else if (IS("--set-rpath")) {
			if (!(v = opt_value(argc, argv, &i, eq)))
				goto missing;
			o->ed.set_rpath = v;
			o->edits = 1;
		} else if (IS("--set-soname")) {
			if (!(v = opt_value(argc, argv, &i, eq)))
				goto missing;
			o->ed.set_soname = v;
			o->edits = 1;
		} else if (IS("--add-needed")) {
			if (!(v = opt_value(argc, argv, &i, eq)))
				goto missing;
			o->add[o->ed.nadd++] = v;
			o->edits = 1;
		} else if (IS("--remove-needed")) {
			if (!(v = opt_value(argc, argv, &i, eq)))
				goto missing;
			o->rm[o->ed.nremove++] = v;
			o->edits = 1;
		} else if (IS("--replace-needed")) {
			/* Two values: OLD NEW (or --replace-needed=OLD NEW). */
			if (!(v = opt_value(argc, argv, &i, eq)) ||
			    i + 1 >= argc)
				return usage_error("'%s' needs OLD and NEW",
						   "--replace-needed");
			o->rold[o->ed.nreplace] = v;
			o->rnew[o->ed.nreplace++] = argv[++i];
			o->edits = 1;
		} else if (IS("--force-rpath") && !eq) {
			o->ed.force_rpath = 1;
		} else if (IS("--print-needed") && !eq) {
			o->print_needed = 1;
		} else if (IS("--print-rpath") && !eq) {
			o->print_rpath = 1;
		} else if (IS("--print-soname") && !eq) {
			o->print_soname = 1;
		} else {
			return usage_error("unknown option '%s'", a);
		}
#undef IS
		continue;
	missing:
		return usage_error("option '%s' needs a value", a);
	}
	o->ed.replace_old = o->rold;
	o->ed.replace_new = o->rnew;
	o->ed.add_needed = o->add;
	o->ed.remove_needed = o->rm;
	if (!o->in)
		return usage_error("%s", "missing IN");
	if (o->ed.force_rpath && !o->ed.set_rpath)
		return usage_error("%s", "--force-rpath needs --set-rpath");
	if (o->edits && !o->out)
		return usage_error("%s", "edits need -o OUT (IN is never "
					 "modified)");
	if (!o->out && !o->print_needed && !o->print_rpath && !o->print_soname)
		return usage_error("%s", "nothing to do: give -o OUT or a "
					 "--print option");
	for (i = 0; i < (int)o->ed.nreplace; i++)
		if (!o->rold[i][0] || !o->rnew[i][0])
			return usage_error("%s", "--replace-needed names must "
						 "not be empty");
	for (i = 0; i < (int)o->ed.nadd; i++)
		if (!o->add[i][0])
			return usage_error("%s", "--add-needed needs a name");
	return -1;
}

static int print_info(const struct patchelf_opts *o, int fd, const char *name,
		      struct sp_err *e)
{
	struct elf_info info;
	size_t i;

	/* A library or an executable, as the patcher takes both. */
	if (elf_inspect_object_fd(fd, name, &info, e) < 0)
		return -1;
	if (o->print_needed)
		for (i = 0; i < info.nneeded; i++)
			printf("%s\n", info.needed[i]);
	if (o->print_rpath)
		printf("%s\n", info.runpath ? info.runpath
			       : info.rpath ? info.rpath
					    : "");
	if (o->print_soname)
		printf("%s\n", info.soname ? info.soname : "");
	elf_info_release(&info);
	return 0;
}

/* Writes the patched copy of in_fd to o->out through the temporary-file
 * recipe (tmpfile.h) in its folder, which the user named and which is
 * opened once (symlinks in it followed); prints from the copy before it
 * is renamed. */
static int write_out(const struct patchelf_opts *o, int in_fd,
		     const struct stat *st, struct sp_err *e)
{
	struct tmpfile t = TMPFILE_INIT;
	const char *base = path_basename(o->out);
	char *dir = path_dirname(o->out);
	int dirfd = -1, rc = -1;

	if (!dir) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	dirfd = dirs_open(dir, DIRS_FOLLOW, 0, e);
	if (dirfd < 0 || tmpfile_create(&t, dirfd, dir, base, 0600, e) < 0)
		goto out;
	if (fchmod(t.fd, st->st_mode & 07777) < 0) {
		sp_err_sys(e, "cannot set the mode of '%s/%s'", dir, t.name);
		goto out;
	}
	if (elf_patch_fd(in_fd, o->in, &o->ed, t.fd, o->out, e) < 0)
		goto out;
	if ((o->print_needed || o->print_rpath || o->print_soname) &&
	    print_info(o, o->edits ? t.fd : in_fd, o->edits ? o->out : o->in,
		       e) < 0)
		goto out;
	rc = tmpfile_commit(&t, base, 0, e);
out:
	tmpfile_discard(&t);
	if (dirfd >= 0)
		close(dirfd);
	free(dir);
	return rc;
}

int cmd_patchelf(int argc, char **argv)
{
	struct patchelf_opts o;
	struct sp_err e;
	struct stat st;
	int fd = -1, rc;

	sp_err_clear(&e);
	rc = patchelf_parse(argc, argv, &o);
	if (rc >= 0)
		goto out;
	rc = 1;
	fd = open(o.in, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		sp_err_sys(&e, "cannot open '%s'", o.in);
		goto fail;
	}
	if (fstat(fd, &st) < 0) {
		sp_err_sys(&e, "cannot stat '%s'", o.in);
		goto fail;
	}
	if (o.out) {
		tmpfile_remove_on_signals();
		if (write_out(&o, fd, &st, &e) < 0)
			goto fail;
	} else if (print_info(&o, fd, o.in, &e) < 0) {
		goto fail;
	}
	if (fflush(stdout) != 0) {
		sp_err_sys(&e, "cannot write to standard output");
		goto fail;
	}
	rc = 0;
	goto out;
fail:
	sp_err_print(&e);
out:
	if (fd >= 0)
		close(fd);
	free(o.rold);
	free(o.rnew);
	free(o.add);
	free(o.rm);
	return rc;
}
