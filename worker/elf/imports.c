#include "worker/elf/imports.h"

#include <errno.h>
#include <gelf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "worker/elf/elffile.h"

/* The strings are gathered into one growing buffer and named by offset
 * while it grows; the pointers are made once it is final. */
struct arena {
	char *buf;
	size_t len, cap;
};

static int arena_add(struct arena *a, const char *s, size_t *off)
{
	size_t n = strlen(s) + 1;
	char *p;

	if (a->len + n > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 4096;

		while (cap < a->len + n)
			cap *= 2;
		if (!(p = realloc(a->buf, cap)))
			return -1;
		a->buf = p;
		a->cap = cap;
	}
	memcpy(a->buf + a->len, s, n);
	*off = a->len;
	a->len += n;
	return 0;
}

/* A required version: the index symbols name it by, its name and its
 * library, as offsets into the arena. */
struct need {
	unsigned index;
	size_t version, file;
};

struct build {
	const struct elf_file *f;
	struct arena a;
	struct need *needs;
	size_t nneeds, capneeds;
	/* Per import: offsets of its name and, when versioned, the
	 * need it names (SIZE_MAX: none). */
	size_t *name_off, *need_of;
};

/* The string at off of the table strs, or NULL when it does not start
 * and end inside it. */
static const char *str_at(const Elf_Data *strs, uint64_t off)
{
	const char *base = strs->d_buf;

	if (!base || off >= strs->d_size ||
	    !memchr(base + off, '\0', strs->d_size - (size_t)off))
		return NULL;
	return base + off;
}

/* The data of section index link, a string table inside the file. */
static Elf_Data *linked_strings(const struct elf_file *f, GElf_Word link,
				const char *what, struct sp_err *e)
{
	Elf_Scn *scn;
	GElf_Shdr sh;
	Elf_Data *d;
	size_t nsh;

	if (elf_getshdrnum(f->elf, &nsh) < 0) {
		elf_file_fail(f, e);
		return NULL;
	}
	if (link == 0 || link >= nsh || !(scn = elf_getscn(f->elf, link)) ||
	    !gelf_getshdr(scn, &sh) || sh.sh_type != SHT_STRTAB) {
		elf_file_corrupt(f, what, e);
		return NULL;
	}
	if (!elf_file_contains(f, sh.sh_offset, sh.sh_size)) {
		elf_file_corrupt(f, what, e);
		return NULL;
	}
	if (f->on_fd)
		errno = 0; /* see elf_lib_fail */
	d = elf_getdata(scn, NULL);
	if (!d) {
		elf_file_fail(f, e);
		return NULL;
	}
	return d;
}

static int add_need(struct build *b, unsigned index, const char *version,
		    const char *file, struct sp_err *e)
{
	struct need *n;

	if (b->nneeds == b->capneeds) {
		size_t cap = b->capneeds ? b->capneeds * 2 : 16;

		if (!(n = realloc(b->needs, cap * sizeof(*n))))
			return sp_err_set(e, "out of memory");
		b->needs = n;
		b->capneeds = cap;
	}
	n = &b->needs[b->nneeds];
	n->index = index;
	if (arena_add(&b->a, version, &n->version) < 0 ||
	    arena_add(&b->a, file, &n->file) < 0)
		return sp_err_set(e, "out of memory");
	b->nneeds++;
	return 0;
}

/* Walks one .gnu.version_r section: every Verneed names a library, every
 * Vernaux one version of it and the index symbols use for it. */
static int read_verneed(struct build *b, Elf_Scn *scn, const GElf_Shdr *sh,
			struct sp_err *e)
{
	const struct elf_file *f = b->f;
	/* Every entry takes 16 bytes: more steps than that would loop. */
	uint64_t steps = 0, max_steps = sh->sh_size / 16 + 1;
	uint64_t off = 0, aux;
	const char *file, *ver;
	Elf_Data *d, *strs;
	GElf_Verneed vn;
	GElf_Vernaux va;
	unsigned j;

	if (sh->sh_type == SHT_NOBITS ||
	    !elf_file_contains(f, sh->sh_offset, sh->sh_size))
		return elf_file_corrupt(f, ".gnu.version_r outside the file",
					e);
	if (!(strs = linked_strings(f, sh->sh_link,
				    "bad .gnu.version_r link", e)))
		return -1;
	if (f->on_fd)
		errno = 0;
	d = elf_getdata(scn, NULL);
	if (!d)
		return elf_file_fail(f, e);
	if (!d->d_buf || !d->d_size)
		return 0;
	for (;;) {
		if (off > INT32_MAX || !gelf_getverneed(d, (int)off, &vn))
			return elf_file_corrupt(f, "bad .gnu.version_r entry",
						e);
		if (!(file = str_at(strs, vn.vn_file)))
			return elf_file_corrupt(f, "bad version file name", e);
		aux = off + vn.vn_aux;
		for (j = 0; j < vn.vn_cnt; j++) {
			if (++steps > max_steps || aux > INT32_MAX ||
			    !gelf_getvernaux(d, (int)aux, &va))
				return elf_file_corrupt(
				    f, "bad .gnu.version_r entry", e);
			if (!(ver = str_at(strs, va.vna_name)))
				return elf_file_corrupt(f, "bad version name",
							e);
			if (add_need(b, va.vna_other & 0x7fff, ver, file, e) <
			    0)
				return -1;
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

/* The need symbols name by index, or SIZE_MAX for 0 and 1 (local and
 * global: no version).  -1 when no Vernaux has that index: a version
 * defined by the object itself (.gnu.version_d) cannot be on an undefined
 * symbol, so the table is corrupt. */
static int need_of(const struct build *b, unsigned index, size_t *out)
{
	size_t i;

	index &= 0x7fff; /* the high bit marks a hidden symbol */
	if (index <= 1) {
		*out = SIZE_MAX;
		return 0;
	}
	for (i = 0; i < b->nneeds; i++)
		if (b->needs[i].index == index) {
			*out = i;
			return 0;
		}
	return -1;
}

/* The .gnu.version section's data, checked to hold an entry for each of
 * the nsyms dynamic symbols; NULL with *absent set when the object has
 * none, or NULL with e filled when it cannot be read. */
static Elf_Data *versym_data(const struct elf_file *f, size_t nsyms,
			     int *absent, struct sp_err *e)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	Elf_Data *d;
	int more;

	*absent = 0;
	more = elf_file_next_section(f, SHT_GNU_versym, &scn, &sh, e);
	if (more < 0)
		return NULL;
	if (!more) {
		*absent = 1;
		return NULL;
	}
	if (sh.sh_type == SHT_NOBITS ||
	    !elf_file_contains(f, sh.sh_offset, sh.sh_size)) {
		elf_file_corrupt(f, ".gnu.version outside the file", e);
		return NULL;
	}
	if (f->on_fd)
		errno = 0;
	d = elf_getdata(scn, NULL);
	if (!d) {
		elf_file_fail(f, e);
		return NULL;
	}
	if (d->d_size / 2 < nsyms) {
		elf_file_corrupt(f, ".gnu.version is shorter than .dynsym", e);
		return NULL;
	}
	return d;
}

static int read_dynsym(struct build *b, struct elf_imports *out,
		       struct sp_err *e)
{
	const struct elf_file *f = b->f;
	size_t esz = gelf_fsize(f->elf, ELF_T_SYM, 1, EV_CURRENT);
	Elf_Data *d, *strs, *vd = NULL;
	Elf_Scn *scn = NULL;
	const char *name;
	GElf_Versym vs;
	GElf_Shdr sh;
	GElf_Sym sym;
	size_t n, i;
	int more, absent = 1;

	more = elf_file_next_section(f, SHT_DYNSYM, &scn, &sh, e);
	if (more <= 0)
		return more;
	if (!esz || sh.sh_entsize != esz)
		return elf_file_corrupt(f, "bad dynamic symbol entry size", e);
	if (sh.sh_type == SHT_NOBITS ||
	    !elf_file_contains(f, sh.sh_offset, sh.sh_size))
		return elf_file_corrupt(
		    f, "the dynamic symbol table lies outside the file", e);
	if (!(strs = linked_strings(f, sh.sh_link, "bad .dynsym link", e)))
		return -1;
	if (f->on_fd)
		errno = 0;
	d = elf_getdata(scn, NULL);
	if (!d)
		return elf_file_fail(f, e);
	n = d->d_size / esz;
	if (b->nneeds && !(vd = versym_data(f, n, &absent, e)) && !absent)
		return -1;
	out->syms = calloc(n + 1, sizeof(*out->syms));
	b->name_off = calloc(n + 1, sizeof(*b->name_off));
	b->need_of = calloc(n + 1, sizeof(*b->need_of));
	if (!out->syms || !b->name_off || !b->need_of)
		return sp_err_set(e, "out of memory");
	for (i = 1; i < n; i++) {
		struct elf_import *im = &out->syms[out->n];

		if (!gelf_getsym(d, (int)i, &sym))
			return elf_file_fail(f, e);
		if (sym.st_shndx != SHN_UNDEF)
			continue;
		if (!(name = str_at(strs, sym.st_name)))
			return elf_file_corrupt(f, "bad symbol name", e);
		b->need_of[out->n] = SIZE_MAX;
		if (vd) {
			if (!gelf_getversym(vd, (int)i, &vs))
				return elf_file_fail(f, e);
			if (need_of(b, vs, &b->need_of[out->n]) < 0)
				return elf_file_corrupt(
				    f, "a symbol names a version no "
				       ".gnu.version_r entry has",
				    e);
		}
		if (arena_add(&b->a, name, &b->name_off[out->n]) < 0)
			return sp_err_set(e, "out of memory");
		im->type = GELF_ST_TYPE(sym.st_info);
		im->bind = GELF_ST_BIND(sym.st_info);
		out->n++;
	}
	return 0;
}

static int imports(int fd, const void *p, size_t len, const char *name,
		   struct elf_imports *out, struct sp_err *e)
{
	struct build b;
	struct elf_file f;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	size_t i;
	int more, rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&b, 0, sizeof(b));
	if ((fd >= 0 ? elf_file_open_fd(&f, fd, name, e)
		     : elf_file_open_mem(&f, p, len, name, e)) < 0)
		return -1;
	b.f = &f;
	while ((more = elf_file_next_section(&f, SHT_GNU_verneed, &scn, &sh,
					     e))) {
		if (more < 0 || read_verneed(&b, scn, &sh, e) < 0)
			goto out;
	}
	if (read_dynsym(&b, out, e) < 0)
		goto out;
	/* The arena is final: offsets become pointers. */
	out->strings = b.a.buf;
	b.a.buf = NULL;
	for (i = 0; i < out->n; i++) {
		struct elf_import *im = &out->syms[i];

		im->name = out->strings + b.name_off[i];
		if (b.need_of[i] != SIZE_MAX) {
			im->version = out->strings +
				      b.needs[b.need_of[i]].version;
			im->file = out->strings + b.needs[b.need_of[i]].file;
		}
	}
	rc = 0;
out:
	elf_file_close(&f);
	free(b.a.buf);
	free(b.needs);
	free(b.name_off);
	free(b.need_of);
	if (rc < 0)
		elf_imports_release(out);
	return rc;
}

int elf_imports_mem(const void *p, size_t len, const char *name,
		    struct elf_imports *out, struct sp_err *e)
{
	return imports(-1, p, len, name, out, e);
}

int elf_imports_fd(int fd, const char *name, struct elf_imports *out,
		   struct sp_err *e)
{
	if (fd < 0)
		return sp_err_set(e, "'%s': no descriptor", name);
	return imports(fd, NULL, 0, name, out, e);
}

void elf_imports_release(struct elf_imports *out)
{
	free(out->syms);
	free(out->strings);
	memset(out, 0, sizeof(*out));
}

const struct elf_import *elf_imports_find(const struct elf_imports *l,
					  const char *sym)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->syms[i].name, sym) == 0)
			return &l->syms[i];
	return NULL;
}
