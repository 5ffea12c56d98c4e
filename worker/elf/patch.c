/*
 * patch.c - out-of-place editing of a shared object's dynamic section.
 *
 * The work is split in two.  plan_*() reads the input's headers and its
 * dynamic section (through worker/elf/elffile.h), its dynamic string
 * table and its version tables, and decides the new layout as a list of
 * writes.  apply() then makes the copy:
 * the whole input first (copy_file_range, or memcpy for an image), then each
 * write on top.  Nothing is ever written to the input.
 */
#define _GNU_SOURCE
#include "worker/elf/patch.h"
#include "worker/elf/elffile.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Segment alignments above this are not believed: no loader uses them. */
#define MAX_ALIGN (1ULL << 30)
/* Bytes read at a time when scanning .dynsym. */
#define CHUNK (64 * 1024)

/* The input: a descriptor read with pread, or a memory image. */
struct src {
	int fd;
	const unsigned char *mem;
	uint64_t size;
	const char *name;
};

/* The output: a descriptor written with pwrite, or a malloc'd image. */
struct sink {
	int fd;
	const char *name;
	unsigned char *buf;
	uint64_t size;
};

/* One write of the plan; p is owned by the list. */
struct wr {
	uint64_t off;
	unsigned char *p;
	size_t n;
};

/* A dynamic entry; req >= 0 when its value is the offset that request
 * req will get in the new string table. */
struct dent {
	int64_t tag;
	uint64_t val;
	int req;
};

/* A string the new file needs in .dynstr. */
struct req {
	const char *s;
	uint64_t off;
	int placed;
};

/* A 32-bit field in a version table that holds a .dynstr offset. */
struct vref {
	uint64_t field; /* file offset of the field */
	uint64_t val;
	int req; /* >= 0 when it is rewritten to that request */
};

struct plan {
	struct src src;
	struct sp_err *e;
	struct elf_file f; /* the input through libelf (elffile.h) */
	int cls;
	GElf_Ehdr eh;
	size_t phnum, shnum;
	GElf_Phdr *ph;
	GElf_Shdr *sh;
	size_t phentsize, shentsize, dynent;

	/* The old dynamic section. */
	size_t dyn_ph;
	long dyn_sec;
	size_t dyn_cap;
	struct dent *old;
	size_t nold;

	/* The old dynamic string table, read whole. */
	uint64_t str_vaddr, str_off, str_size;
	long str_sec;
	char *str;

	/* The new dynamic section and the strings it needs. */
	struct dent *dyn;
	size_t ndyn, dyncap_alloc;
	struct req *reqs;
	size_t nreqs;
	uint64_t *freed; /* offsets of strings that lost a reference */
	size_t nfreed, freedcap;
	struct vref *vrefs;
	size_t nvrefs, vrefcap;

	/* Strings appended after the old table. */
	char *app;
	size_t napp;

	struct wr *w;
	size_t nw, wcap;
	/* When the string table moves: copy it from str_off to this. */
	int str_moves;
	uint64_t str_new_off;
	uint64_t new_size;
};

static int corrupt(const struct plan *p, const char *why)
{
	return sp_err_set(p->e, "'%s' is truncated or corrupt: %s", p->src.name,
			  why);
}

static int nomem(const struct plan *p)
{
	return sp_err_set(p->e, "out of memory while patching '%s'",
			  p->src.name);
}

/* 1 when [off, off + len) lies inside the input. */
static int in_file(const struct plan *p, uint64_t off, uint64_t len)
{
	return off <= p->src.size && len <= p->src.size - off;
}

static int src_read(const struct plan *p, uint64_t off, void *buf, size_t len)
{
	unsigned char *b = buf;
	ssize_t n;

	if (!in_file(p, off, len))
		return corrupt(p, "a table lies outside the file");
	if (p->src.mem) {
		memcpy(buf, p->src.mem + off, len);
		return 0;
	}
	while (len) {
		n = pread(p->src.fd, b, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sp_err_sys(p->e, "cannot read '%s'",
					  p->src.name);
		/* The file shrank under us. */
		if (n == 0)
			return corrupt(p, "the file ends early");
		b += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Every field read from or written to the file goes through libelf's
 * translation (gelf_xlatetom / gelf_xlatetof) with the file's own byte
 * order, so that 32- and 64-bit, little- and big-endian objects of every
 * machine are patched alike (elffile.h's elf_file_xlate).
 */

static void xlate(const struct plan *p, void *dst, const void *src, size_t n,
		  Elf_Type t, int tom)
{
	elf_file_xlate(&p->f, dst, src, n, t, tom);
}

/* A 32-bit field (Elf32_Word and Elf64_Word alike) of the file at b. */
static uint32_t get32(const struct plan *p, const unsigned char *b)
{
	uint32_t v;

	xlate(p, &v, b, 4, ELF_T_WORD, 1);
	return v;
}

static uint16_t get16(const struct plan *p, const unsigned char *b)
{
	uint16_t v;

	xlate(p, &v, b, 2, ELF_T_HALF, 1);
	return v;
}

/* Writes v as a 32-bit field of the file at b. */
static void put32(const struct plan *p, unsigned char *b, uint32_t v)
{
	xlate(p, b, &v, 4, ELF_T_WORD, 0);
}

static void put_dyn(const struct plan *p, unsigned char *b, int64_t tag,
		    uint64_t val)
{
	Elf64_Dyn d64;
	Elf32_Dyn d32;

	if (p->cls == ELFCLASS64) {
		d64.d_tag = tag;
		d64.d_un.d_val = val;
		xlate(p, b, &d64, sizeof(d64), ELF_T_DYN, 0);
	} else {
		d32.d_tag = (Elf32_Sword)tag;
		d32.d_un.d_val = (Elf32_Word)val;
		xlate(p, b, &d32, sizeof(d32), ELF_T_DYN, 0);
	}
}

/* The put_* functions narrow to 32 bits for ELFCLASS32; fits32() has
 * checked every value that can grow before they run. */
static void put_phdr(const struct plan *p, unsigned char *b,
		     const GElf_Phdr *h)
{
	Elf64_Phdr p64;
	Elf32_Phdr p32;

	if (p->cls == ELFCLASS64) {
		p64.p_type = h->p_type;
		p64.p_flags = h->p_flags;
		p64.p_offset = h->p_offset;
		p64.p_vaddr = h->p_vaddr;
		p64.p_paddr = h->p_paddr;
		p64.p_filesz = h->p_filesz;
		p64.p_memsz = h->p_memsz;
		p64.p_align = h->p_align;
		xlate(p, b, &p64, sizeof(p64), ELF_T_PHDR, 0);
	} else {
		p32.p_type = h->p_type;
		p32.p_flags = h->p_flags;
		p32.p_offset = (Elf32_Off)h->p_offset;
		p32.p_vaddr = (Elf32_Addr)h->p_vaddr;
		p32.p_paddr = (Elf32_Addr)h->p_paddr;
		p32.p_filesz = (Elf32_Word)h->p_filesz;
		p32.p_memsz = (Elf32_Word)h->p_memsz;
		p32.p_align = (Elf32_Word)h->p_align;
		xlate(p, b, &p32, sizeof(p32), ELF_T_PHDR, 0);
	}
}

static void put_shdr(const struct plan *p, unsigned char *b,
		     const GElf_Shdr *h)
{
	Elf64_Shdr s64;
	Elf32_Shdr s32;

	if (p->cls == ELFCLASS64) {
		s64.sh_name = h->sh_name;
		s64.sh_type = h->sh_type;
		s64.sh_flags = h->sh_flags;
		s64.sh_addr = h->sh_addr;
		s64.sh_offset = h->sh_offset;
		s64.sh_size = h->sh_size;
		s64.sh_link = h->sh_link;
		s64.sh_info = h->sh_info;
		s64.sh_addralign = h->sh_addralign;
		s64.sh_entsize = h->sh_entsize;
		xlate(p, b, &s64, sizeof(s64), ELF_T_SHDR, 0);
	} else {
		s32.sh_name = h->sh_name;
		s32.sh_type = h->sh_type;
		s32.sh_flags = (Elf32_Word)h->sh_flags;
		s32.sh_addr = (Elf32_Addr)h->sh_addr;
		s32.sh_offset = (Elf32_Off)h->sh_offset;
		s32.sh_size = (Elf32_Word)h->sh_size;
		s32.sh_link = h->sh_link;
		s32.sh_info = h->sh_info;
		s32.sh_addralign = (Elf32_Word)h->sh_addralign;
		s32.sh_entsize = (Elf32_Word)h->sh_entsize;
		xlate(p, b, &s32, sizeof(s32), ELF_T_SHDR, 0);
	}
}

/* Writes e_phoff and e_phnum into the header bytes b (the rest of the
 * header is the input's, copied unchanged). */
static void put_ehdr_ph(const struct plan *p, unsigned char *b,
			uint64_t phoff, uint16_t phnum)
{
	Elf64_Ehdr e64;
	Elf32_Ehdr e32;

	if (p->cls == ELFCLASS64) {
		xlate(p, &e64, b, sizeof(e64), ELF_T_EHDR, 1);
		e64.e_phoff = phoff;
		e64.e_phnum = phnum;
		xlate(p, b, &e64, sizeof(e64), ELF_T_EHDR, 0);
	} else {
		xlate(p, &e32, b, sizeof(e32), ELF_T_EHDR, 1);
		e32.e_phoff = (Elf32_Off)phoff;
		e32.e_phnum = phnum;
		xlate(p, b, &e32, sizeof(e32), ELF_T_EHDR, 0);
	}
}

/* Adds a write of n bytes at off to the plan; the bytes are copied. */
static int plan_write(struct plan *p, uint64_t off, const void *buf, size_t n)
{
	struct wr *nw;

	if (p->nw == p->wcap) {
		size_t cap = p->wcap ? 2 * p->wcap : 16;

		nw = realloc(p->w, cap * sizeof(*nw));
		if (!nw)
			return nomem(p);
		p->w = nw;
		p->wcap = cap;
	}
	p->w[p->nw].p = malloc(n ? n : 1);
	if (!p->w[p->nw].p)
		return nomem(p);
	memcpy(p->w[p->nw].p, buf, n);
	p->w[p->nw].off = off;
	p->w[p->nw].n = n;
	p->nw++;
	return 0;
}

/* The string at off of the old table, or NULL when off is outside it or
 * the string does not end inside it. */
static const char *old_str(const struct plan *p, uint64_t off)
{
	if (off >= p->str_size ||
	    !memchr(p->str + off, '\0', (size_t)(p->str_size - off)))
		return NULL;
	return p->str + off;
}

/* Maps [vaddr, vaddr + len) to a file offset through the PT_LOAD segment
 * whose file bytes hold all of it. */
static int vaddr_to_off(const struct plan *p, uint64_t vaddr, uint64_t len,
			uint64_t *off)
{
	return elf_file_vaddr_to_off(&p->f, p->ph, p->phnum, vaddr, len, off);
}

/* Opens the input with libelf, checks that it is a shared object or an
 * executable (of any machine, class and byte order) and reads every program and
 * section header.  libelf reads with pread (ELF_C_READ), so only the headers
 * are read here, not the file. */
static int read_headers(struct plan *p)
{
	int rc;

	if (p->src.mem)
		rc = elf_file_open_mem(&p->f, p->src.mem, (size_t)p->src.size,
				       p->src.name, p->e);
	else
		rc = elf_file_open_fd(&p->f, p->src.fd, p->src.name, p->e);
	if (rc < 0)
		return -1;
	p->src.size = p->f.size;
	p->eh = p->f.ehdr;
	/* An executable is patched as a library is (spoke repair points
	 * one at the libraries it bundles); an object file is not. */
	if ((p->eh.e_type != ET_EXEC && elf_file_check_type(&p->f, p->e) < 0) ||
	    elf_file_check_ident(&p->f, p->e) < 0)
		return -1;
	p->cls = p->eh.e_ident[EI_CLASS];
	p->phentsize = gelf_fsize(p->f.elf, ELF_T_PHDR, 1, EV_CURRENT);
	p->shentsize = gelf_fsize(p->f.elf, ELF_T_SHDR, 1, EV_CURRENT);
	p->dynent = gelf_fsize(p->f.elf, ELF_T_DYN, 1, EV_CURRENT);
	if (!p->phentsize || !p->shentsize || !p->dynent)
		return corrupt(p, elf_errmsg(-1));
	/* One spare slot: plan_layout() may add an entry. */
	if (elf_file_phdrs(&p->f, 1, &p->ph, &p->phnum, p->e) < 0)
		return -1;
	return elf_file_shdrs(&p->f, &p->sh, &p->shnum, p->e);
}

/* Reads the dynamic section (up to its DT_NULL) and the dynamic string
 * table it names. */
static int read_dynamic(struct plan *p)
{
	const GElf_Phdr *d = NULL;
	GElf_Dyn *dyn = NULL;
	uint64_t strtab = 0, strsz = 0;
	int has_strtab = 0, has_strsz = 0, rc = -1;
	size_t i, n;

	for (i = 0; i < p->phnum && !d; i++)
		if (p->ph[i].p_type == PT_DYNAMIC) {
			d = &p->ph[i];
			p->dyn_ph = i;
		}
	if (!d)
		return sp_err_set(p->e,
				  "'%s' has no dynamic section: it is not a "
				  "shared library",
				  p->src.name);
	if (elf_file_dynamic(&p->f, d, &dyn, &n, &p->dyn_cap, p->e) < 0)
		return -1;
	p->old = calloc(p->dyn_cap, sizeof(*p->old));
	if (!p->old) {
		nomem(p);
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct dent *t = &p->old[i];

		t->tag = dyn[i].d_tag;
		t->val = dyn[i].d_un.d_val;
		t->req = -1;
		if (t->tag == DT_STRTAB) {
			strtab = t->val;
			has_strtab = 1;
		} else if (t->tag == DT_STRSZ) {
			strsz = t->val;
			has_strsz = 1;
		}
	}
	if (n == p->dyn_cap) {
		corrupt(p, "the dynamic section has no DT_NULL terminator");
		goto out;
	}
	p->nold = n;
	if (!has_strtab || !has_strsz) {
		corrupt(p, "the dynamic string table is missing");
		goto out;
	}
	if (vaddr_to_off(p, strtab, strsz, &p->str_off) < 0) {
		corrupt(p, "the dynamic string table lies outside the file");
		goto out;
	}
	p->str_vaddr = strtab;
	p->str_size = strsz;
	/* Read whole: it is small next to the file (2.5 MB for a 150 MB
	 * librustc_driver), and bounded by the file's size. */
	p->str = malloc(strsz ? (size_t)strsz : 1);
	if (!p->str) {
		nomem(p);
		goto out;
	}
	if (src_read(p, p->str_off, p->str, (size_t)strsz) < 0)
		goto out;
	p->dyn_sec = p->str_sec = -1;
	for (i = 0; i < p->shnum; i++) {
		const GElf_Shdr *s = &p->sh[i];

		if (s->sh_type == SHT_DYNAMIC && p->dyn_sec < 0)
			p->dyn_sec = (long)i;
		if (s->sh_type == SHT_STRTAB && (s->sh_flags & SHF_ALLOC) &&
		    s->sh_addr == strtab && p->str_sec < 0)
			p->str_sec = (long)i;
	}
	rc = 0;
out:
	free(dyn);
	return rc;
}

/* Returns the index of the request for string s, adding it when new. */
static int req_get(struct plan *p, const char *s)
{
	size_t i;

	for (i = 0; i < p->nreqs; i++)
		if (strcmp(p->reqs[i].s, s) == 0)
			return (int)i;
	p->reqs[p->nreqs].s = s;
	p->reqs[p->nreqs].placed = 0;
	return (int)p->nreqs++;
}

/* Remembers that the string at off lost a reference. */
static int note_freed(struct plan *p, uint64_t off)
{
	uint64_t *n;

	if (p->nfreed == p->freedcap) {
		size_t cap = p->freedcap ? 2 * p->freedcap : 16;

		n = realloc(p->freed, cap * sizeof(*n));
		if (!n)
			return nomem(p);
		p->freed = n;
		p->freedcap = cap;
	}
	p->freed[p->nfreed++] = off;
	return 0;
}

static int in_list(const char *s, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

/* The name an entry of the new table will have. */
static const char *dent_name(const struct plan *p, const struct dent *d)
{
	if (d->req >= 0)
		return p->reqs[d->req].s;
	return old_str(p, d->val);
}

static int insert_dent(struct plan *p, size_t at, int64_t tag, int req)
{
	memmove(&p->dyn[at + 1], &p->dyn[at], (p->ndyn - at) * sizeof(*p->dyn));
	p->dyn[at].tag = tag;
	p->dyn[at].val = 0;
	p->dyn[at].req = req;
	p->ndyn++;
	return 0;
}

/* Builds the new dynamic table from the old one and the edits. */
static int plan_dynamic(struct plan *p, const struct elf_edit *ed)
{
	int64_t rtag = ed->force_rpath ? DT_RPATH : DT_RUNPATH;
	int rpath_done = 0, soname_done = 0;
	size_t i, j, after_needed = 0, nstr;
	const char *name;

	/* Every edit adds at most one entry and one string. */
	nstr = ed->nreplace + ed->nadd + 2;
	p->dyncap_alloc = p->nold + ed->nadd + 2;
	p->dyn = calloc(p->dyncap_alloc, sizeof(*p->dyn));
	p->reqs = calloc(nstr, sizeof(*p->reqs));
	if (!p->dyn || !p->reqs)
		return nomem(p);
	for (i = 0; i < p->nold; i++) {
		struct dent d = p->old[i];

		if (d.tag == DT_NEEDED) {
			name = old_str(p, d.val);
			if (!name)
				return corrupt(p, "a DT_NEEDED name lies "
						  "outside the string table");
			if (in_list(name, ed->remove_needed, ed->nremove)) {
				if (note_freed(p, d.val) < 0)
					return -1;
				continue;
			}
			for (j = 0; j < ed->nreplace; j++)
				if (strcmp(name, ed->replace_old[j]) == 0)
					break;
			if (j < ed->nreplace) {
				if (note_freed(p, d.val) < 0)
					return -1;
				d.req = req_get(p, ed->replace_new[j]);
			}
		} else if ((d.tag == DT_RPATH || d.tag == DT_RUNPATH) &&
			   ed->set_rpath) {
			/* One entry of the wanted kind remains. */
			if (note_freed(p, d.val) < 0)
				return -1;
			if (rpath_done)
				continue;
			d.tag = rtag;
			d.req = req_get(p, ed->set_rpath);
			rpath_done = 1;
		} else if (d.tag == DT_SONAME && ed->set_soname) {
			if (note_freed(p, d.val) < 0)
				return -1;
			if (soname_done)
				continue;
			d.req = req_get(p, ed->set_soname);
			soname_done = 1;
		}
		p->dyn[p->ndyn++] = d;
		if (d.tag == DT_NEEDED)
			after_needed = p->ndyn;
	}
	if (ed->set_soname && !soname_done)
		insert_dent(p, after_needed, DT_SONAME,
			    req_get(p, ed->set_soname));
	if (ed->set_rpath && !rpath_done)
		insert_dent(p, after_needed, rtag, req_get(p, ed->set_rpath));
	/* Added libraries go first, as patchelf puts them, in the order
	 * given. */
	for (i = 0, j = 0; i < ed->nadd; i++) {
		size_t k;
		int have = 0;

		for (k = 0; k < p->ndyn && !have; k++)
			have = p->dyn[k].tag == DT_NEEDED &&
			       (name = dent_name(p, &p->dyn[k])) &&
			       strcmp(name, ed->add_needed[i]) == 0;
		if (have)
			continue;
		insert_dent(p, j++, DT_NEEDED, req_get(p, ed->add_needed[i]));
	}
	return 0;
}

static int add_vref(struct plan *p, uint64_t field, uint32_t val, int req)
{
	struct vref *n;

	if (p->nvrefs == p->vrefcap) {
		size_t cap = p->vrefcap ? 2 * p->vrefcap : 32;

		n = realloc(p->vrefs, cap * sizeof(*n));
		if (!n)
			return nomem(p);
		p->vrefs = n;
		p->vrefcap = cap;
	}
	p->vrefs[p->nvrefs].field = field;
	p->vrefs[p->nvrefs].val = val;
	p->vrefs[p->nvrefs].req = req;
	p->nvrefs++;
	return 0;
}

static int dyn_value(const struct plan *p, int64_t tag, uint64_t *v)
{
	size_t i;

	for (i = 0; i < p->nold; i++)
		if (p->old[i].tag == tag) {
			*v = p->old[i].val;
			return 1;
		}
	return 0;
}

/* Walks .gnu.version_r: records every string reference it holds, and
 * renames the files that DT_NEEDED renames (vn_file), as the loader
 * matches version requirements to libraries by that name. */
static int scan_verneed(struct plan *p, const struct elf_edit *ed)
{
	uint64_t addr, num, off, aoff, budget;
	unsigned char b[16];
	const char *name;
	uint32_t next, anext, cnt, k;
	size_t j;
	int req;

	if (!dyn_value(p, DT_VERNEED, &addr))
		return 0;
	if (!dyn_value(p, DT_VERNEEDNUM, &num))
		return corrupt(p, "DT_VERNEED without DT_VERNEEDNUM");
	if (vaddr_to_off(p, addr, 16, &off) < 0)
		return corrupt(p, "the version requirements lie outside the "
				  "file");
	/* Every entry takes 16 bytes of the file: more would loop. */
	budget = p->src.size / 16;
	for (; num; num--) {
		if (!budget--)
			return corrupt(p, "the version requirements loop");
		if (src_read(p, off, b, 16) < 0)
			return -1;
		cnt = get16(p, b + 2);
		next = get32(p, b + 12);
		name = old_str(p, get32(p, b + 4));
		if (!name)
			return corrupt(p, "a version requirement names no "
					  "string");
		req = -1;
		for (j = 0; j < ed->nreplace; j++)
			if (strcmp(name, ed->replace_old[j]) == 0 &&
			    !in_list(name, ed->remove_needed, ed->nremove)) {
				req = req_get(p, ed->replace_new[j]);
				if (note_freed(p, get32(p, b + 4)) < 0)
					return -1;
				break;
			}
		if (add_vref(p, off + 4, get32(p, b + 4), req) < 0)
			return -1;
		aoff = off + get32(p, b + 8);
		for (k = 0; k < cnt; k++) {
			if (!budget--)
				return corrupt(p, "the version requirements "
						  "loop");
			/* src_read() says why it failed: the disk, or
			 * an offset outside the file. */
			if (aoff < off)
				return corrupt(p, "a version requirement "
						  "lies outside the file");
			if (src_read(p, aoff, b, 16) < 0)
				return -1;
			if (add_vref(p, aoff + 8, get32(p, b + 8), -1) < 0)
				return -1;
			anext = get32(p, b + 12);
			if (!anext)
				break;
			aoff += anext;
		}
		if (!next)
			break;
		off += next;
	}
	return 0;
}

/* Records the string references of .gnu.version_d. */
static int scan_verdef(struct plan *p)
{
	uint64_t addr, num, off, aoff, budget;
	unsigned char b[20];
	uint32_t next, anext, cnt, k;

	if (!dyn_value(p, DT_VERDEF, &addr))
		return 0;
	if (!dyn_value(p, DT_VERDEFNUM, &num))
		return corrupt(p, "DT_VERDEF without DT_VERDEFNUM");
	if (vaddr_to_off(p, addr, 20, &off) < 0)
		return corrupt(p, "the version definitions lie outside the "
				  "file");
	budget = p->src.size / 8;
	for (; num; num--) {
		if (!budget--)
			return corrupt(p, "the version definitions loop");
		if (src_read(p, off, b, 20) < 0)
			return -1;
		cnt = get16(p, b + 6);
		next = get32(p, b + 16);
		aoff = off + get32(p, b + 12);
		for (k = 0; k < cnt; k++) {
			if (!budget--)
				return corrupt(p, "the version definitions "
						  "loop");
			if (aoff < off)
				return corrupt(p, "a version definition lies "
						  "outside the file");
			if (src_read(p, aoff, b, 8) < 0)
				return -1;
			if (add_vref(p, aoff, get32(p, b), -1) < 0)
				return -1;
			anext = get32(p, b + 4);
			if (!anext)
				break;
			aoff += anext;
		}
		if (!next)
			break;
		off += next;
	}
	return 0;
}

static int is_string_tag(int64_t tag)
{
	switch (tag) {
	case DT_NEEDED:
	case DT_SONAME:
	case DT_RPATH:
	case DT_RUNPATH:
	case DT_AUXILIARY:
	case DT_FILTER:
	case DT_CONFIG:
	case DT_DEPAUDIT:
	case DT_AUDIT:
		return 1;
	default:
		return 0;
	}
}

/* A string of the old table that nothing will refer to any more. */
struct region {
	uint64_t off, len; /* len without the NUL */
	int used;
};

static int ref_hits(const struct region *r, size_t nr, uint64_t v)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (v >= r[i].off && v <= r[i].off + r[i].len)
			return 1;
	return 0;
}

/* Drops every region that a symbol name of .dynsym still points into.
 * Returns 0, or 1 when .dynsym cannot be checked (then no region may be
 * reused), or -1 on error. */
static int check_dynsym(struct plan *p, struct region *r, size_t *nr)
{
	unsigned char *buf = NULL;
	uint64_t symtab, off, end, n;
	size_t symsz = gelf_fsize(p->f.elf, ELF_T_SYM, 1, EV_CURRENT);
	size_t i, k, m;
	long sec = -1;
	int rc = 1;

	if (!dyn_value(p, DT_SYMTAB, &symtab) || p->str_sec < 0 || !symsz)
		return 1;
	for (i = 0; i < p->shnum; i++) {
		const GElf_Shdr *s = &p->sh[i];

		if (s->sh_link != (uint64_t)p->str_sec)
			continue;
		switch (s->sh_type) {
		case SHT_DYNSYM:
			if (s->sh_addr != symtab || sec >= 0)
				return 1;
			sec = (long)i;
			break;
		case SHT_DYNAMIC:
		case SHT_GNU_verdef:
		case SHT_GNU_verneed:
			break;
		default:
			/* Some table we do not know refers to .dynstr. */
			return 1;
		}
	}
	if (sec < 0 || p->sh[sec].sh_entsize != symsz ||
	    !in_file(p, p->sh[sec].sh_offset, p->sh[sec].sh_size))
		return 1;
	buf = malloc(CHUNK);
	if (!buf)
		return nomem(p);
	off = p->sh[sec].sh_offset;
	end = off + p->sh[sec].sh_size / symsz * symsz;
	while (off < end && *nr) {
		n = end - off < CHUNK / symsz * symsz ? end - off
						      : CHUNK / symsz * symsz;
		if (src_read(p, off, buf, (size_t)n) < 0) {
			rc = -1;
			goto out;
		}
		for (k = 0; k < n; k += symsz) {
			uint64_t v = get32(p, buf + k); /* st_name, both classes */

			for (m = 0; m < *nr; m++)
				if (v >= r[m].off && v <= r[m].off + r[m].len)
					r[m] = r[--*nr];
		}
		off += n;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

/* Gives each request its offset in the new string table: an equal string
 * already there (also the tail of a longer one), else the place of a
 * string that lost its last reference, else the end of the table. */
static int plan_strings(struct plan *p)
{
	struct region *r = NULL;
	size_t i, j, nr = 0, pending = 0, best;
	const char *hit;
	int rc = -1, ck;

	for (i = 0; i < p->nreqs; i++) {
		struct req *q = &p->reqs[i];

		hit = p->str_size ? memmem(p->str, (size_t)p->str_size, q->s,
					   strlen(q->s) + 1)
				  : NULL;
		if (hit) {
			q->off = (uint64_t)(hit - p->str);
			q->placed = 1;
		} else {
			pending++;
		}
	}
	if (!pending)
		return 0;
	/* Regions: freed strings that start a string (not a tail) and that
	 * no surviving entry, version table or request points into. */
	r = calloc(p->nfreed + 1, sizeof(*r));
	if (!r)
		return nomem(p);
	for (i = 0; i < p->nfreed; i++) {
		uint64_t o = p->freed[i];

		if (o == 0 || o >= p->str_size || p->str[o - 1] != '\0' ||
		    !old_str(p, o) || ref_hits(r, nr, o))
			continue;
		r[nr].off = o;
		r[nr].len = strlen(p->str + o);
		r[nr].used = 0;
		nr++;
	}
	for (i = 0; i < nr;) {
		int hit_ref = 0;

		for (j = 0; j < p->ndyn && !hit_ref; j++)
			hit_ref = is_string_tag(p->dyn[j].tag) &&
				  p->dyn[j].req < 0 &&
				  ref_hits(&r[i], 1, p->dyn[j].val);
		for (j = 0; j < p->nvrefs && !hit_ref; j++)
			hit_ref = p->vrefs[j].req < 0 &&
				  ref_hits(&r[i], 1, p->vrefs[j].val);
		for (j = 0; j < p->nreqs && !hit_ref; j++)
			hit_ref = p->reqs[j].placed &&
				  ref_hits(&r[i], 1, p->reqs[j].off);
		if (hit_ref)
			r[i] = r[--nr];
		else
			i++;
	}
	if (nr) {
		ck = check_dynsym(p, r, &nr);
		if (ck < 0)
			goto out;
		if (ck > 0)
			nr = 0;
	}
	/* Best fit, longest request first; all of them or none, so that the
	 * table either stays in place or moves whole. */
	for (;;) {
		size_t longest = SIZE_MAX, len;

		for (i = 0; i < p->nreqs; i++)
			if (!p->reqs[i].placed &&
			    (longest == SIZE_MAX ||
			     strlen(p->reqs[i].s) > strlen(p->reqs[longest].s)))
				longest = i;
		if (longest == SIZE_MAX)
			break;
		len = strlen(p->reqs[longest].s);
		best = SIZE_MAX;
		for (j = 0; j < nr; j++)
			if (!r[j].used && r[j].len >= len &&
			    (best == SIZE_MAX || r[j].len < r[best].len))
				best = j;
		if (best == SIZE_MAX)
			break;
		r[best].used = 1;
		p->reqs[longest].off = r[best].off;
		p->reqs[longest].placed = 2;
	}
	for (i = 0; i < p->nreqs; i++)
		if (!p->reqs[i].placed)
			break;
	if (i == p->nreqs) {
		/* Everything fits: overwrite the freed strings, padding
		 * with NULs the bytes the old, longer name used. */
		for (j = 0; j < nr; j++) {
			if (!r[j].used)
				continue;
			for (i = 0; i < p->nreqs; i++)
				if (p->reqs[i].placed == 2 &&
				    p->reqs[i].off == r[j].off)
					break;
			memset(p->str + r[j].off, 0, (size_t)r[j].len + 1);
			memcpy(p->str + r[j].off, p->reqs[i].s,
			       strlen(p->reqs[i].s));
			if (plan_write(p, p->str_off + r[j].off,
				       p->str + r[j].off,
				       (size_t)r[j].len + 1) < 0)
				goto out;
		}
		rc = 0;
		goto out;
	}
	/* Something does not fit: append every string not already there.
	 * The whole table moves, so the freed ones stay as they were. */
	p->napp = 0;
	for (i = 0; i < p->nreqs; i++)
		if (p->reqs[i].placed != 1)
			p->napp += strlen(p->reqs[i].s) + 1;
	p->app = malloc(p->napp);
	if (!p->app) {
		nomem(p);
		goto out;
	}
	p->napp = 0;
	for (i = 0; i < p->nreqs; i++) {
		size_t len = strlen(p->reqs[i].s) + 1;

		if (p->reqs[i].placed == 1)
			continue;
		memcpy(p->app + p->napp, p->reqs[i].s, len);
		p->reqs[i].off = p->str_size + p->napp;
		p->reqs[i].placed = 3;
		p->napp += len;
	}
	p->str_moves = 1;
	rc = 0;
out:
	free(r);
	return rc;
}

static int round_up(uint64_t v, uint64_t a, uint64_t *out)
{
	if (v > UINT64_MAX - (a - 1))
		return -1;
	*out = (v + a - 1) & ~(a - 1);
	return 0;
}

/* 1 when [a, a + n) and [b, b + m) share a byte. */
static int overlaps(uint64_t a, uint64_t n, uint64_t b, uint64_t m)
{
	return n && m && a < b + m && b < a + n;
}

/* 1 when the program header table can grow by one entry where it is: the
 * bytes after it belong to no section, no other table and no segment but
 * the PT_LOAD (and PT_PHDR) that hold the table. */
static int phdr_room(const struct plan *p)
{
	uint64_t start = p->eh.e_phoff;
	uint64_t end = start + (uint64_t)p->phnum * p->phentsize;
	const GElf_Phdr *h;
	size_t i;
	int loaded = 0;

	if (!p->shnum || !in_file(p, end, p->phentsize))
		return 0;
	if (overlaps(end, p->phentsize, 0, p->eh.e_ehsize) ||
	    overlaps(end, p->phentsize, p->eh.e_shoff,
		     (uint64_t)p->shnum * p->shentsize))
		return 0;
	for (i = 0; i < p->shnum; i++)
		if (p->sh[i].sh_type != SHT_NOBITS &&
		    p->sh[i].sh_type != SHT_NULL &&
		    overlaps(end, p->phentsize, p->sh[i].sh_offset,
			     p->sh[i].sh_size))
			return 0;
	for (i = 0; i < p->phnum; i++) {
		h = &p->ph[i];
		if (h->p_type == PT_PHDR)
			continue;
		if (h->p_type == PT_LOAD && h->p_offset <= start &&
		    end + p->phentsize <= h->p_offset + h->p_filesz) {
			loaded = 1;
			continue;
		}
		if (overlaps(end, p->phentsize, h->p_offset, h->p_filesz))
			return 0;
	}
	return loaded;
}

static int fits32(const struct plan *p, uint64_t v)
{
	return p->cls == ELFCLASS64 || v <= UINT32_MAX;
}

/* Where the new segment goes and what it holds, when the tables move. */
struct seg {
	uint64_t off0, va0;		/* its file offset and address */
	uint64_t align, total;		/* its alignment and size */
	uint64_t ph_rel, dyn_rel, str_rel; /* the tables' places in it */
	size_t nph;			/* entries of the new header table */
	int ph_moves;			/* the header table moves into it */
	int null_slot;			/* a spare PT_NULL it replaces, or -1 */
	size_t last_load;		/* the PT_LOAD it follows */
};

/* Gives every dynamic entry and version field that names a request its
 * offset in the new string table (and DT_STRSZ its new size), planning
 * the version fields' writes. */
static int plan_values(struct plan *p, uint64_t newstrsz)
{
	size_t i;
	unsigned char v[4];

	for (i = 0; i < p->ndyn; i++) {
		if (p->dyn[i].req >= 0)
			p->dyn[i].val = p->reqs[p->dyn[i].req].off;
		if (p->str_moves && p->dyn[i].tag == DT_STRSZ)
			p->dyn[i].val = newstrsz;
	}
	for (i = 0; i < p->nvrefs; i++) {
		if (p->vrefs[i].req < 0)
			continue;
		if (p->reqs[p->vrefs[i].req].off > UINT32_MAX)
			return corrupt(p, "the string table is too large");
		put32(p, v, (uint32_t)p->reqs[p->vrefs[i].req].off);
		if (plan_write(p, p->vrefs[i].field, v, 4) < 0)
			return -1;
	}
	return 0;
}

/* Places the new segment above every PT_LOAD, aligned as the most
 * aligned of them, so that the loader maps it like the others, and lays
 * out in it the tables that move: the program headers (when they cannot
 * grow where they are), .dynamic (when dyn_moves) and .dynstr. */
static int plan_segment(struct plan *p, int dyn_moves, uint64_t dyncap,
			uint64_t newstrsz, struct seg *g)
{
	uint64_t maxend = 0, cur = 0;
	int has_load = 0;
	size_t i;

	memset(g, 0, sizeof(*g));
	g->align = 4096;
	g->null_slot = -1;
	g->nph = p->phnum;
	for (i = 0; i < p->phnum; i++) {
		const GElf_Phdr *h = &p->ph[i];

		if (h->p_type == PT_NULL && g->null_slot < 0)
			g->null_slot = (int)i;
		if (h->p_type != PT_LOAD)
			continue;
		has_load = 1;
		g->last_load = i;
		if (h->p_align > MAX_ALIGN || (h->p_align & (h->p_align - 1)))
			return corrupt(p, "a segment has a bad alignment");
		if (h->p_align > g->align)
			g->align = h->p_align;
		if (h->p_vaddr > UINT64_MAX - h->p_memsz)
			return corrupt(p, "a segment wraps around");
		if (h->p_vaddr + h->p_memsz > maxend)
			maxend = h->p_vaddr + h->p_memsz;
	}
	if (!has_load)
		return corrupt(p, "there is no loadable segment");
	/* Extended numbering keeps the count in section 0: not worth it. */
	if (p->eh.e_phnum == PN_XNUM)
		return sp_err_set(p->e,
				  "'%s' has too many program headers to add "
				  "one",
				  p->src.name);
	if (g->null_slot < 0) {
		if (p->phnum + 1 >= PN_XNUM)
			return sp_err_set(p->e,
					  "'%s' has too many program headers "
					  "to add one",
					  p->src.name);
		g->nph = p->phnum + 1;
		g->ph_moves = !phdr_room(p);
	}
	if (round_up(p->src.size, g->align < 65536 ? g->align : 65536,
		     &g->off0) < 0 ||
	    round_up(maxend, g->align, &g->va0) < 0 ||
	    g->va0 > UINT64_MAX - (g->off0 & (g->align - 1)))
		return corrupt(p, "the segments reach the end of the address "
				  "space");
	g->va0 += g->off0 & (g->align - 1);
	if (g->ph_moves) {
		g->ph_rel = cur;
		cur += (uint64_t)g->nph * p->phentsize;
	}
	if (dyn_moves) {
		cur = (cur + 7) & ~(uint64_t)7;
		g->dyn_rel = cur;
		cur += dyncap * p->dynent;
	}
	if (p->str_moves) {
		g->str_rel = cur;
		cur += newstrsz;
	}
	g->total = cur;
	if (g->off0 > UINT64_MAX - g->total || g->va0 > UINT64_MAX - g->total ||
	    !fits32(p, g->off0 + g->total) || !fits32(p, g->va0 + g->total))
		return sp_err_set(p->e, "'%s' is too large to add a segment to",
				  p->src.name);
	p->new_size = g->off0 + g->total;
	return 0;
}

/* Plans the new program header table and the ELF header that points to
 * it: the old table without its spare PT_NULL, with the new PT_LOAD after
 * the last one (PT_LOAD entries must be sorted by address), PT_PHDR and
 * PT_DYNAMIC pointed at the tables' new places. */
static int plan_phdrs(struct plan *p, const struct seg *g, int dyn_moves,
		      uint64_t dyncap)
{
	uint64_t phoff = g->ph_moves ? g->off0 + g->ph_rel : p->eh.e_phoff;
	unsigned char *buf = NULL, hb[sizeof(Elf64_Ehdr)];
	size_t ehsz = p->cls == ELFCLASS64 ? sizeof(Elf64_Ehdr)
					   : sizeof(Elf32_Ehdr);
	GElf_Phdr *nh, load;
	size_t i, k = 0;
	int rc = -1;

	memset(&load, 0, sizeof(load));
	load.p_type = PT_LOAD;
	/* Writable when it holds .dynamic: glibc before 2.35 relocates the
	 * dynamic section in place. */
	load.p_flags = PF_R | (dyn_moves ? PF_W : 0);
	load.p_offset = g->off0;
	load.p_vaddr = load.p_paddr = g->va0;
	load.p_filesz = load.p_memsz = g->total;
	load.p_align = g->align;
	nh = calloc(g->nph, sizeof(*nh));
	if (!nh)
		return nomem(p);
	for (i = 0; i < p->phnum; i++) {
		if ((int)i != g->null_slot)
			nh[k++] = p->ph[i];
		if (i == g->last_load)
			nh[k++] = load;
	}
	for (i = 0; i < g->nph; i++) {
		GElf_Phdr *h = &nh[i];

		if (h->p_type == PT_PHDR) {
			if (g->ph_moves) {
				h->p_offset = phoff;
				h->p_vaddr = h->p_paddr = g->va0 + g->ph_rel;
			}
			h->p_filesz = h->p_memsz =
			    (uint64_t)g->nph * p->phentsize;
		} else if (h->p_type == PT_DYNAMIC && dyn_moves) {
			h->p_offset = g->off0 + g->dyn_rel;
			h->p_vaddr = h->p_paddr = g->va0 + g->dyn_rel;
			h->p_filesz = h->p_memsz = dyncap * p->dynent;
		}
	}
	buf = calloc(g->nph, p->phentsize);
	if (!buf) {
		nomem(p);
		goto out;
	}
	for (i = 0; i < g->nph; i++)
		put_phdr(p, buf + i * p->phentsize, &nh[i]);
	if (plan_write(p, phoff, buf, g->nph * p->phentsize) < 0)
		goto out;
	if (src_read(p, 0, hb, ehsz) < 0)
		goto out;
	put_ehdr_ph(p, hb, phoff, (uint16_t)g->nph);
	if (plan_write(p, 0, hb, ehsz) < 0)
		goto out;
	rc = 0;
out:
	free(nh);
	free(buf);
	return rc;
}

/* Plans a rewrite of section header sec, moved to off and addr. */
static int plan_shdr(struct plan *p, long sec, uint64_t off, uint64_t addr,
		     uint64_t size)
{
	unsigned char hb[sizeof(Elf64_Shdr)];
	GElf_Shdr s = p->sh[sec];

	s.sh_offset = off;
	s.sh_addr = addr;
	s.sh_size = size;
	put_shdr(p, hb, &s);
	return plan_write(p, p->eh.e_shoff + (uint64_t)sec * p->shentsize, hb,
			  p->shentsize);
}

/* Plans what moves into the new segment besides the program headers: the
 * strings appended to .dynstr (the old table itself is copied there by
 * apply()), DT_STRTAB, and the .dynstr and .dynamic section headers. */
static int plan_moved_tables(struct plan *p, const struct seg *g,
			     int dyn_moves, uint64_t dyncap, uint64_t newstrsz)
{
	size_t i;

	if (p->str_moves) {
		p->str_new_off = g->off0 + g->str_rel;
		if (p->napp && plan_write(p, p->str_new_off + p->str_size,
					  p->app, p->napp) < 0)
			return -1;
		for (i = 0; i < p->ndyn; i++)
			if (p->dyn[i].tag == DT_STRTAB)
				p->dyn[i].val = g->va0 + g->str_rel;
		if (p->str_sec >= 0 &&
		    plan_shdr(p, p->str_sec, g->off0 + g->str_rel,
			      g->va0 + g->str_rel, newstrsz) < 0)
			return -1;
	}
	if (dyn_moves && p->dyn_sec >= 0 &&
	    plan_shdr(p, p->dyn_sec, g->off0 + g->dyn_rel, g->va0 + g->dyn_rel,
		      dyncap * p->dynent) < 0)
		return -1;
	return 0;
}

/* Plans the new dynamic table at dyn_off: dyncap slots, the unused ones
 * DT_NULL. */
static int plan_dynamic_write(struct plan *p, uint64_t dyn_off,
			      uint64_t dyncap)
{
	unsigned char *buf;
	size_t i;
	int rc = -1;

	buf = calloc((size_t)dyncap, p->dynent);
	if (!buf)
		return nomem(p);
	for (i = 0; i < p->ndyn; i++) {
		if (!fits32(p, p->dyn[i].val)) {
			sp_err_set(p->e,
				   "'%s' is too large for a 32-bit ELF "
				   "file",
				   p->src.name);
			goto out;
		}
		put_dyn(p, buf + i * p->dynent, p->dyn[i].tag,
			p->dyn[i].val);
	}
	/* Unused slots are DT_NULL: calloc'd zeros. */
	rc = plan_write(p, dyn_off, buf, (size_t)dyncap * p->dynent);
out:
	free(buf);
	return rc;
}

/* Lays out the new segment, when the new tables do not fit in the old
 * places, and plans the writes of every header and table. */
static int plan_layout(struct plan *p)
{
	uint64_t newstrsz = p->str_size + p->napp;
	uint64_t dyncap = p->dyn_cap, dyn_off = p->ph[p->dyn_ph].p_offset;
	int dyn_moves = p->ndyn + 1 > p->dyn_cap;
	struct seg g;

	if (plan_values(p, newstrsz) < 0)
		return -1;
	p->new_size = p->src.size;
	if (dyn_moves || p->str_moves) {
		if (dyn_moves)
			dyncap = p->ndyn + 1;
		if (plan_segment(p, dyn_moves, dyncap, newstrsz, &g) < 0 ||
		    plan_phdrs(p, &g, dyn_moves, dyncap) < 0 ||
		    plan_moved_tables(p, &g, dyn_moves, dyncap, newstrsz) < 0)
			return -1;
		if (dyn_moves)
			dyn_off = g.off0 + g.dyn_rel;
	}
	return plan_dynamic_write(p, dyn_off, dyncap);
}

static void plan_release(struct plan *p)
{
	size_t i;

	for (i = 0; i < p->nw; i++)
		free(p->w[i].p);
	free(p->w);
	elf_file_close(&p->f);
	free(p->ph);
	free(p->sh);
	free(p->old);
	free(p->str);
	free(p->dyn);
	free(p->reqs);
	free(p->freed);
	free(p->vrefs);
	free(p->app);
}

static int plan_make(struct plan *p, const struct elf_edit *ed)
{
	static const struct elf_edit none;

	if (!ed)
		ed = &none;
	if (ed->nreplace && (!ed->replace_old || !ed->replace_new))
		return sp_err_set(p->e, "bad edit: replacements without names");
	if (read_headers(p) < 0 || read_dynamic(p) < 0)
		return -1;
	if (plan_dynamic(p, ed) < 0)
		return -1;
	if (scan_verneed(p, ed) < 0 || scan_verdef(p) < 0)
		return -1;
	if (plan_strings(p) < 0)
		return -1;
	return plan_layout(p);
}

static int sink_write(struct sink *k, uint64_t off, const void *buf, size_t n)
{
	const unsigned char *b = buf;
	ssize_t w;

	if (k->buf) {
		memcpy(k->buf + off, buf, n);
		return 0;
	}
	while (n) {
		w = pwrite(k->fd, b, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		b += w;
		off += (uint64_t)w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copies n bytes of the input at soff to the output at doff: in the
 * kernel when it can (copy_file_range), else through a small buffer, so
 * the bulk of the file never enters our memory. */
static int sink_copy(struct plan *p, struct sink *k, uint64_t soff,
		     uint64_t doff, uint64_t n)
{
	unsigned char *buf;
	loff_t in = (loff_t)soff, out = (loff_t)doff;
	ssize_t c;
	size_t chunk;

	if (k->buf) {
		memcpy(k->buf + doff, p->src.mem + soff, (size_t)n);
		return 0;
	}
	while (n) {
		c = copy_file_range(p->src.fd, &in, k->fd, &out,
				    n > (1U << 30) ? (1U << 30) : (size_t)n, 0);
		if (c < 0 && errno == EINTR)
			continue;
		if (c < 0) {
			if (errno == EXDEV || errno == ENOSYS ||
			    errno == EINVAL || errno == EOPNOTSUPP ||
			    errno == EBADF)
				break;
			return sp_err_sys(p->e, "cannot copy '%s' to '%s'",
					  p->src.name, k->name);
		}
		if (c == 0)
			return corrupt(p, "the file ends early");
		n -= (uint64_t)c;
	}
	if (!n)
		return 0;
	buf = malloc(CHUNK);
	if (!buf)
		return nomem(p);
	while (n) {
		chunk = n > CHUNK ? CHUNK : (size_t)n;
		if (src_read(p, (uint64_t)in, buf, chunk) < 0)
			goto fail;
		if (sink_write(k, (uint64_t)out, buf, chunk) < 0) {
			sp_err_sys(p->e, "cannot write '%s'", k->name);
			goto fail;
		}
		in += (loff_t)chunk;
		out += (loff_t)chunk;
		n -= chunk;
	}
	free(buf);
	return 0;
fail:
	free(buf);
	return -1;
}

/* Makes the copy: the input, then the moved string table, then every
 * planned write in order. */
static int apply(struct plan *p, struct sink *k)
{
	size_t i;

	if (sink_copy(p, k, 0, 0, p->src.size) < 0)
		return -1;
	if (p->str_moves &&
	    sink_copy(p, k, p->str_off, p->str_new_off, p->str_size) < 0)
		return -1;
	for (i = 0; i < p->nw; i++) {
		if (p->w[i].off > p->new_size ||
		    p->w[i].n > p->new_size - p->w[i].off)
			SP_BUG(
			    "write of %zu bytes at %llu past the end of '%s'",
			    p->w[i].n, (unsigned long long)p->w[i].off,
			    k->name);
		if (sink_write(k, p->w[i].off, p->w[i].p, p->w[i].n) < 0)
			return sp_err_sys(p->e, "cannot write '%s'", k->name);
	}
	if (!k->buf && ftruncate(k->fd, (off_t)p->new_size) < 0)
		return sp_err_sys(p->e, "cannot write '%s'", k->name);
	return 0;
}

int elf_patch_fd(int in_fd, const char *in_name, const struct elf_edit *ed,
		 int out_fd, const char *out_name, struct sp_err *e)
{
	struct plan p;
	struct sink k = {.fd = out_fd, .name = out_name};
	int rc = -1;

	memset(&p, 0, sizeof(p));
	p.e = e;
	p.src.fd = in_fd;
	p.src.name = in_name;
	/* read_headers() checks the descriptor and takes its size. */
	if (plan_make(&p, ed) < 0)
		goto out;
	rc = apply(&p, &k);
out:
	plan_release(&p);
	return rc;
}

int elf_patch_mem(const void *in, size_t len, const char *name,
		  const struct elf_edit *ed, void **out, size_t *outlen,
		  struct sp_err *e)
{
	struct plan p;
	struct sink k = {.fd = -1, .name = name};
	int rc = -1;

	*out = NULL;
	*outlen = 0;
	memset(&p, 0, sizeof(p));
	p.e = e;
	p.src.fd = -1;
	/* A non-NULL pointer marks the image even when it is empty. */
	p.src.mem = in ? in : (const void *)"";
	p.src.size = len;
	p.src.name = name;
	if (plan_make(&p, ed) < 0)
		goto out;
	if (p.new_size > SIZE_MAX) {
		nomem(&p);
		goto out;
	}
	k.buf = calloc(1, (size_t)p.new_size ? (size_t)p.new_size : 1);
	if (!k.buf) {
		nomem(&p);
		goto out;
	}
	k.size = p.new_size;
	if (apply(&p, &k) < 0)
		goto out;
	*out = k.buf;
	*outlen = (size_t)p.new_size;
	k.buf = NULL;
	rc = 0;
out:
	free(k.buf);
	plan_release(&p);
	return rc;
}
