#include "worker/elf/symvers.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "worker/elf/elffile.h"
#include "worker/elf/inspect.h"

static const char *const ns_names[SYMVERS_NNS] = {
	"GLIBC", "GLIBCXX", "CXXABI", "GCC", "ZLIB", "LIBATOMIC"};

const char *symvers_ns_name(int ns)
{
	return ns >= 0 && ns < SYMVERS_NNS ? ns_names[ns] : NULL;
}

int symvers_ns_find(const char *name)
{
	int ns;

	for (ns = 0; ns < SYMVERS_NNS; ns++)
		if (strcmp(name, ns_names[ns]) == 0)
			return ns;
	return -1;
}

/* Records that the object requires version s of library file, when s is
 * in a judged namespace and file is not the loader (elf_is_loader);
 * each (file, name) once.  Returns 0, or -1 when memory runs out. */
static int note(const char *file, const char *s, struct symvers *out,
		size_t *cap)
{
	const char *us = strchr(s, '_');
	struct symvers_need *nd;
	char ns_name[16];
	size_t i, len;
	int ns;

	if (!us || elf_is_loader(file))
		return 0;
	len = (size_t)(us - s);
	if (len >= sizeof(ns_name))
		return 0;
	memcpy(ns_name, s, len);
	ns_name[len] = '\0';
	if ((ns = symvers_ns_find(ns_name)) < 0)
		return 0;
	for (i = 0; i < out->n; i++)
		if (!strcmp(out->needs[i].name, s) &&
		    !strcmp(out->needs[i].file, file))
			return 0;
	if (out->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;

		nd = realloc(out->needs, ncap * sizeof(*nd));
		if (!nd)
			return -1;
		out->needs = nd;
		*cap = ncap;
	}
	nd = &out->needs[out->n];
	memset(nd, 0, sizeof(*nd));
	nd->ns = ns;
	nd->name = strdup(s);
	nd->file = strdup(file);
	if (!nd->name || !nd->file) {
		free(nd->name);
		free(nd->file);
		return -1;
	}
	nd->version = nd->name + len + 1;
	out->n++;
	return 0;
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
			size_t *cap, struct sp_err *e)
{
	/* Every entry takes 16 bytes: more steps than that would loop. */
	uint64_t steps = 0, max_steps = sh->sh_size / 16 + 1;
	uint64_t off = 0, aux;
	Elf_Data *d, *strs;
	GElf_Verneed vn;
	GElf_Vernaux va;
	const char *s, *file;
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
		file = name_at(strs, vn.vn_file);
		if (!file)
			return elf_file_corrupt(f, "bad version file name", e);
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
			if (note(file, s, out, cap) < 0)
				return sp_err_set(e, "out of memory");
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

/* Reads every SHT_GNU_verneed section of the open f into out. */
static int read_needs(const struct elf_file *f, struct symvers *out,
		      struct sp_err *e)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	size_t cap = 0;
	int more;

	/* Any machine, class and byte order: a wheel's libraries are
	 * judged whatever they were built for. */
	while ((more = elf_file_next_section(f, SHT_GNU_verneed, &scn, &sh,
					     e))) {
		if (more < 0 || walk_verneed(f, scn, &sh, out, &cap, e) < 0)
			return -1;
	}
	return 0;
}

/* Gives each need the imports bound to it: the symbols whose version and
 * library are the need's. */
static int attach_symbols(struct symvers *s, struct sp_err *e)
{
	const struct elf_imports *im = &s->imports;
	size_t i, k, *count;

	if (!s->n)
		return 0;
	count = calloc(s->n, sizeof(*count));
	if (!count)
		return sp_err_set(e, "out of memory");
	for (k = 0; k < s->n; k++) {
		struct symvers_need *nd = &s->needs[k];

		for (i = 0; i < im->n; i++)
			if (im->syms[i].version &&
			    !strcmp(im->syms[i].version, nd->name) &&
			    !strcmp(im->syms[i].file, nd->file))
				count[k]++;
		if (!count[k])
			continue;
		nd->syms = calloc(count[k], sizeof(*nd->syms));
		if (!nd->syms) {
			free(count);
			return sp_err_set(e, "out of memory");
		}
		for (i = 0; i < im->n; i++)
			if (im->syms[i].version &&
			    !strcmp(im->syms[i].version, nd->name) &&
			    !strcmp(im->syms[i].file, nd->file))
				nd->syms[nd->nsyms++] = im->syms[i].name;
	}
	free(count);
	return 0;
}

/* The one reading: on fd when fd >= 0, else on the image. */
static int read_any(int fd, const void *in, size_t len, const char *name,
		    struct symvers *out, struct sp_err *e)
{
	struct elf_file f;
	int rc;

	memset(out, 0, sizeof(*out));
	if (fd >= 0)
		rc = elf_file_open_fd(&f, fd, name, e);
	else
		rc = elf_file_open_mem(&f, in, len, name, e);
	if (rc < 0)
		return -1;
	rc = read_needs(&f, out, e);
	elf_file_close(&f);
	if (rc == 0)
		rc = fd >= 0 ? elf_imports_fd(fd, name, &out->imports, e)
			     : elf_imports_mem(in, len, name, &out->imports, e);
	if (rc == 0)
		rc = attach_symbols(out, e);
	if (rc < 0)
		symvers_release(out);
	return rc;
}

int symvers_read_mem(const void *in, size_t len, const char *name,
		     struct symvers *out, struct sp_err *e)
{
	return read_any(-1, in, len, name, out, e);
}

int symvers_read_fd(int fd, const char *name, struct symvers *out,
		    struct sp_err *e)
{
	return read_any(fd, NULL, 0, name, out, e);
}

void symvers_release(struct symvers *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->needs[i].name);
		free(s->needs[i].file);
		free(s->needs[i].syms);
	}
	free(s->needs);
	elf_imports_release(&s->imports);
	memset(s, 0, sizeof(*s));
}

int symver_parse(const char *s, struct symver *v)
{
	unsigned long n;
	char *end;
	int k = 0;

	memset(v, 0, sizeof(*v));
	for (;;) {
		if (*s < '0' || *s > '9' || k == 4)
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
	for (i = 0; i < 4; i++)
		if (a->v[i] != b->v[i])
			return a->v[i] < b->v[i] ? -1 : 1;
	return 0;
}

void symver_format(const struct symver *v, char *buf, size_t n)
{
	size_t len = 0;
	int i;

	if (n)
		buf[0] = '\0';
	for (i = 0; i < v->parts && len < n; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s%u",
					i ? "." : "", v->v[i]);
}

void symvers_highest(const struct symvers *s, struct symver top[SYMVERS_NNS])
{
	struct symver v;
	size_t i;

	memset(top, 0, SYMVERS_NNS * sizeof(*top));
	for (i = 0; i < s->n; i++)
		if (symver_parse(s->needs[i].version, &v) == 0 &&
		    symver_cmp(&v, &top[s->needs[i].ns]) > 0)
			top[s->needs[i].ns] = v;
}

void symvers_format_highest(const struct symvers *s, char *buf, size_t n)
{
	struct symver top[SYMVERS_NNS];
	char ver[64];
	size_t len = 0;
	int ns;

	if (n)
		buf[0] = '\0';
	symvers_highest(s, top);
	for (ns = 0; ns < SYMVERS_NNS && len < n; ns++) {
		if (!top[ns].present)
			continue;
		symver_format(&top[ns], ver, sizeof(ver));
		len += (size_t)snprintf(buf + len, n - len, "%s%s_%s",
					len ? " " : "", ns_names[ns], ver);
	}
}
