#include "worker/elf/symvers.h"

#include <gelf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsx.h"
#include "worker/elf/elffile.h"

int symver_parse(const char *s, struct symver *v)
{
	unsigned long n;
	char *end;
	int k = 0;

	memset(v, 0, sizeof(*v));
	for (;;) {
		if (*s < '0' || *s > '9' || k == 3)
			return -1;
		n = strtoul(s, &end, 10);
		if (n > 0xffffu)
			return -1;
		v->v[k++] = (unsigned)n;
		if (!*end)
			break;
		if (*end != '.')
			return -1;
		s = end + 1;
	}
	v->parts = k;
	v->present = 1;
	return 0;
}

int symver_cmp(const struct symver *a, const struct symver *b)
{
	int i;

	if (a->present != b->present)
		return a->present - b->present;
	for (i = 0; i < 3; i++)
		if (a->v[i] != b->v[i])
			return a->v[i] < b->v[i] ? -1 : 1;
	return 0;
}

static void keep_max(struct symver *have, const struct symver *v)
{
	if (symver_cmp(v, have) > 0)
		*have = *v;
}

/* Folds one required version name ("GLIBC_2.17") into out. */
static void note(const char *s, struct symvers *out)
{
	static const struct {
		const char *prefix;
		size_t off;
	} ns[] = {
		{"GLIBC_", offsetof(struct symvers, glibc)},
		{"GLIBCXX_", offsetof(struct symvers, glibcxx)},
		{"CXXABI_", offsetof(struct symvers, cxxabi)},
		{"GCC_", offsetof(struct symvers, gcc)},
	};
	struct symver v;
	size_t i, n;

	for (i = 0; i < sizeof(ns) / sizeof(*ns); i++) {
		n = strlen(ns[i].prefix);
		if (strncmp(s, ns[i].prefix, n) == 0 &&
		    symver_parse(s + n, &v) == 0) {
			keep_max((struct symver *)((char *)out + ns[i].off),
				 &v);
			return;
		}
	}
}

/* The string at off of the version names' table strs, or NULL when it
 * does not start and end inside it. */
static const char *name_at(const Elf_Data *strs, uint64_t off)
{
	const char *base = strs->d_buf;

	if (off >= strs->d_size ||
	    !memchr(base + off, '\0', strs->d_size - (size_t)off))
		return NULL;
	return base + off;
}

/* Reads the string table that the .gnu.version_r section vn links to. */
static Elf_Data *verneed_names(const struct elf_file *f, const GElf_Shdr *vn,
			       struct sp_err *e)
{
	Elf_Scn *scn;
	GElf_Shdr sh;
	Elf_Data *d;
	size_t nsh;

	if (elf_getshdrnum(f->elf, &nsh) < 0) {
		elf_file_fail(f, e);
		return NULL;
	}
	if (vn->sh_link >= nsh || !(scn = elf_getscn(f->elf, vn->sh_link)) ||
	    !gelf_getshdr(scn, &sh)) {
		elf_file_corrupt(f, "bad .gnu.version_r link", e);
		return NULL;
	}
	if (sh.sh_type == SHT_NOBITS ||
	    !elf_file_contains(f, sh.sh_offset, sh.sh_size)) {
		elf_file_corrupt(f, ".gnu.version_r outside the file", e);
		return NULL;
	}
	d = elf_getdata(scn, NULL);
	if (!d || (!d->d_buf && d->d_size)) {
		elf_file_fail(f, e);
		return NULL;
	}
	return d;
}

/* Walks the Verneed chain of one SHT_GNU_verneed section, read through
 * libelf's translation (either class and byte order). */
static int walk_verneed(const struct elf_file *f, Elf_Scn *scn,
			const GElf_Shdr *sh, struct symvers *out,
			struct sp_err *e)
{
	/* Every entry takes 16 bytes: more steps than that would loop. */
	uint64_t steps = 0, max_steps = sh->sh_size / 16 + 1;
	uint64_t off = 0, aux;
	Elf_Data *d, *strs;
	GElf_Verneed vn;
	GElf_Vernaux va;
	const char *s;
	unsigned j;

	if (sh->sh_type == SHT_NOBITS ||
	    !elf_file_contains(f, sh->sh_offset, sh->sh_size))
		return elf_file_corrupt(f, ".gnu.version_r outside the file",
					e);
	strs = verneed_names(f, sh, e);
	if (!strs)
		return -1;
	d = elf_getdata(scn, NULL);
	if (!d || !d->d_buf)
		return elf_file_corrupt(f, "bad .gnu.version_r entry", e);
	for (;;) {
		if (off > INT32_MAX || !gelf_getverneed(d, (int)off, &vn))
			return elf_file_corrupt(f, "bad .gnu.version_r entry",
						e);
		aux = off + vn.vn_aux;
		for (j = 0; j < vn.vn_cnt; j++) {
			if (++steps > max_steps || aux > INT32_MAX ||
			    !gelf_getvernaux(d, (int)aux, &va))
				return elf_file_corrupt(
				    f, "bad .gnu.version_r entry", e);
			s = name_at(strs, va.vna_name);
			if (!s)
				return elf_file_corrupt(f, "bad version name",
							e);
			note(s, out);
			if (!va.vna_next)
				break;
			aux += va.vna_next;
		}
		if (!vn.vn_next)
			return 0;
		if (++steps > max_steps)
			return elf_file_corrupt(f, "bad .gnu.version_r chain",
						e);
		off += vn.vn_next;
	}
}

/* Reads every SHT_GNU_verneed section of the open f into out, and
 * closes f. */
static int read_open(struct elf_file *f, struct symvers *out,
		     struct sp_err *e)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int rc = 0, more;

	/* Any machine, class and byte order: a wheel's libraries are
	 * judged whatever they were built for. */
	while ((more = elf_file_next_section(f, SHT_GNU_verneed, &scn, &sh,
					     e))) {
		if (more < 0 || walk_verneed(f, scn, &sh, out, e) < 0) {
			rc = -1;
			break;
		}
	}
	elf_file_close(f);
	return rc;
}

int symvers_read_mem(const void *in, size_t len, const char *name,
		     struct symvers *out, struct sp_err *e)
{
	struct elf_file f;

	memset(out, 0, sizeof(*out));
	if (elf_file_open_mem(&f, in, len, name, e) < 0)
		return -1;
	return read_open(&f, out, e);
}

int symvers_read_fd(int fd, const char *name, struct symvers *out,
		    struct sp_err *e)
{
	struct elf_file f;

	memset(out, 0, sizeof(*out));
	if (elf_file_open_fd(&f, fd, name, e) < 0)
		return -1;
	return read_open(&f, out, e);
}

int symvers_read_file(const char *path, struct symvers *out,
		      struct sp_err *e)
{
	size_t len;
	char *buf = fsx_read_all(path, &len, e);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!buf)
		return -1;
	rc = symvers_read_mem(buf, len, path, out, e);
	free(buf);
	return rc;
}

void symvers_merge(struct symvers *a, const struct symvers *b)
{
	keep_max(&a->glibc, &b->glibc);
	keep_max(&a->glibcxx, &b->glibcxx);
	keep_max(&a->cxxabi, &b->cxxabi);
	keep_max(&a->gcc, &b->gcc);
}

void symver_format(const struct symver *v, char *buf, size_t n)
{
	if (v->parts == 1)
		snprintf(buf, n, "%u", v->v[0]);
	else if (v->parts == 3 || v->v[2])
		snprintf(buf, n, "%u.%u.%u", v->v[0], v->v[1], v->v[2]);
	else
		snprintf(buf, n, "%u.%u", v->v[0], v->v[1]);
}
