#define _GNU_SOURCE
#include "worker/elf/pycheck.h"

#include <ctype.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/path.h"
#include "worker/elf/imports.h"
#include "worker/elf/inspect.h"

/* Skips one or more digits at *s; 0 when there is none. */
static int digits(const char **s)
{
	const char *p = *s;

	while (isdigit((unsigned char)*p))
		p++;
	if (p == *s)
		return 0;
	*s = p;
	return 1;
}

int pycheck_is_libpython(const char *s)
{
	if (strncmp(s, "libpython", 9) != 0)
		return 0;
	s += 9;
	if (!digits(&s))
		return 0;
	if (*s == '.' && isdigit((unsigned char)s[1])) {
		s++;
		digits(&s);
	}
	while (*s && strchr("dmut", *s))
		s++;
	if (strncmp(s, ".so", 3) != 0)
		return 0;
	s += 3;
	while (*s == '.') {
		s++;
		if (!digits(&s))
			return 0;
	}
	return *s == '\0';
}

char *pycheck_modname(const char *path)
{
	const char *base = path_basename(path);

	return strndup(base, strcspn(base, "."));
}

/* The init function the object defines for modname, and the Python it is
 * for, in one pass over its exports.  The symbol readers were already
 * through the file (imports), so a failure here is no dynamic symbol
 * table: not an extension module. */
static int find_init(int fd, const void *p, size_t len, const char *name,
		     const char *modname, struct pycheck *out)
{
	static const char *const prefix[] = {"PyInit_", "init",
					     "_cffi_pypyinit_"};
	static const int python[] = {3, 2, 2};
	char *syms[3] = {NULL, NULL, NULL};
	struct sp_err ignored;
	size_t i, which;
	int rc = -1;

	for (i = 0; i < 3; i++)
		if (asprintf(&syms[i], "%s%s", prefix[i], modname) < 0) {
			syms[i] = NULL;
			goto out;
		}
	if ((fd >= 0 ? elf_exports_which_fd(fd, name,
					    (const char *const *)syms, 3,
					    &which, &ignored)
		     : elf_exports_which_mem(p, len, name,
					     (const char *const *)syms, 3,
					     &which, &ignored)) == 1) {
		out->init = syms[which];
		out->python = python[which];
		syms[which] = NULL;
	}
	rc = 0;
out:
	for (i = 0; i < 3; i++)
		free(syms[i]);
	return rc;
}

/* The object is at fd when fd >= 0, else the len bytes at p; im are its
 * imports. */
static int check(const struct elf_imports *im, int fd, const void *p,
		 size_t len, const char *name, const char *modname,
		 struct pycheck *out, struct sp_err *e)
{
	static const char *const fpe[] = {"PyFPE_jbuf", "PyFPE_dummy",
					  "PyFPE_counter"};
	size_t i, k;

	memset(out, 0, sizeof(*out));
	if (*modname && find_init(fd, p, len, name, modname, out) < 0)
		goto oom;
	for (i = 0; out->python && i < im->n; i++) {
		const struct elf_import *s = &im->syms[i];

		for (k = 0; !out->fpe && k < sizeof(fpe) / sizeof(*fpe); k++)
			if (!strcmp(s->name, fpe[k]) &&
			    (s->type == STT_FUNC || s->type == STT_NOTYPE) &&
			    !(out->fpe = strdup(s->name)))
				goto oom;
		if (out->python == 2 && !out->ucs2 && s->type == STT_FUNC &&
		    strstr(s->name, "PyUnicodeUCS2_") &&
		    !(out->ucs2 = strdup(s->name)))
			goto oom;
	}
	return 0;
oom:
	pycheck_release(out);
	return sp_err_set(e, "out of memory reading the symbols of '%s'", name);
}

int pycheck_imports_fd(const struct elf_imports *im, int fd, const char *name,
		       const char *modname, struct pycheck *out,
		       struct sp_err *e)
{
	memset(out, 0, sizeof(*out));
	if (fd < 0)
		return sp_err_set(e, "'%s': no descriptor", name);
	return check(im, fd, NULL, 0, name, modname, out, e);
}

int pycheck_mem(const void *p, size_t len, const char *name,
		const char *modname, struct pycheck *out, struct sp_err *e)
{
	struct elf_imports im;
	int rc;

	memset(out, 0, sizeof(*out));
	if (elf_imports_mem(p, len, name, &im, e) < 0)
		return -1;
	rc = check(&im, -1, p, len, name, modname, out, e);
	elf_imports_release(&im);
	return rc;
}

int pycheck_fd(int fd, const char *name, const char *modname,
	       struct pycheck *out, struct sp_err *e)
{
	struct elf_imports im;
	int rc;

	memset(out, 0, sizeof(*out));
	if (fd < 0)
		return sp_err_set(e, "'%s': no descriptor", name);
	if (elf_imports_fd(fd, name, &im, e) < 0)
		return -1;
	rc = check(&im, fd, NULL, 0, name, modname, out, e);
	elf_imports_release(&im);
	return rc;
}

int pycheck_reason(const struct pycheck *pc, char *buf, size_t size)
{
	if (pc->fpe)
		snprintf(buf, size,
			 "uses %s, which only Pythons configured "
			 "--with-fpectl define, and no manylinux or "
			 "musllinux interpreter is",
			 pc->fpe);
	else if (pc->ucs2)
		snprintf(buf, size,
			 "uses %s, a function of Python 2 builds with narrow "
			 "(UCS2) unicode, and manylinux's Python 2 is UCS4",
			 pc->ucs2);
	else
		return 0;
	return 1;
}

void pycheck_release(struct pycheck *pc)
{
	free(pc->init);
	free(pc->fpe);
	free(pc->ucs2);
	memset(pc, 0, sizeof(*pc));
}
