#define _GNU_SOURCE
#include "worker/elf/debugsplit.h"

#include <gelf.h>
#include <stddef.h>
#include <libdeflate.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "common/dirs.h"
#include "common/path.h"
#include "common/tmpfile.h"
#include "worker/elf/elffile.h"

/* A growing output image. */
struct buf {
	uint8_t *p;
	size_t len, cap;
	int oom;
};

static void buf_put(struct buf *b, const void *data, size_t n)
{
	uint8_t *np;
	size_t cap;

	/* No output is near a terabyte: hostile sizes end here, before the
	 * doubling below could overflow. */
	if (b->oom || n > ((size_t)1 << 40) - b->len) {
		b->oom = 1;
		return;
	}
	if (b->len + n > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	if (data)
		memcpy(b->p + b->len, data, n);
	else
		memset(b->p + b->len, 0, n);
	b->len += n;
}

/* Zero bytes up to a multiple of align (a power of two, else ignored). */
static void buf_align(struct buf *b, uint64_t align)
{
	/* Non-allocated sections need no more than a page. */
	if (align > 4096)
		align = 4096;
	if (align > 1 && !(align & (align - 1)) && b->len % align)
		buf_put(b, NULL, (size_t)(align - b->len % align));
}

/* The input's headers, read through libelf (elffile.h) and checked
 * against its size.  The outputs are written in the input's class and
 * byte order: every header, compression header, symbol index and CRC
 * goes through libelf's translation (elf_file_xlate). */
struct elfin {
	struct elf_file ef;
	const uint8_t *p;
	size_t len;
	const char *name;
	GElf_Ehdr eh;
	GElf_Shdr *sh; /* copies: the input may be unaligned */
	size_t nsh;
	/* The class's sizes of the header, a section header, a program
	 * header, a symbol and a compression header. */
	size_t ehsz, shsz, phsz, symsz, chsz;
	const char *shstr;
	size_t shstr_len;
	uint64_t load_end; /* past every loaded byte and allocated section */
};

static int bad(const struct elfin *f, const char *why, struct sp_err *e)
{
	return sp_err_set(e, "cannot split the debug info of '%s': %s",
			  f->name, why);
}

/* end = off + size within the file, without overflow. */
static int in_file(const struct elfin *f, uint64_t off, uint64_t size)
{
	return off <= f->len && size <= f->len - off;
}

/* Opens the input through the reading layer and reads its headers: the
 * section headers into f->sh, the end of what is loaded into
 * f->load_end.  Either class and byte order, of any machine, with every
 * table where the loader and debuggers expect it. */
static int parse(struct elfin *f, struct sp_err *e)
{
	const GElf_Shdr *ss;
	GElf_Phdr ph;
	Elf_Scn *scn;
	size_t i;

	/* Said in this module's words before libelf says it in its own
	 * (libelf would call another class or byte order "not ELF"). */
	if (f->len < EI_NIDENT || memcmp(f->p, ELFMAG, SELFMAG) != 0)
		return bad(f, "not an ELF file", e);
	if ((f->p[EI_CLASS] != ELFCLASS64 && f->p[EI_CLASS] != ELFCLASS32) ||
	    (f->p[EI_DATA] != ELFDATA2LSB && f->p[EI_DATA] != ELFDATA2MSB))
		return bad(f, "unknown ELF class or byte order", e);
	if (f->len < (f->p[EI_CLASS] == ELFCLASS64 ? sizeof(Elf64_Ehdr)
						   : sizeof(Elf32_Ehdr)))
		return bad(f, "not an ELF file", e);
	/* libelf, like the loader, reads no other version. */
	if (f->p[EI_VERSION] != EV_CURRENT)
		return bad(f, "unknown ELF version", e);
	if (elf_file_open_mem(&f->ef, f->p, f->len, f->name, e) < 0)
		return -1;
	f->eh = f->ef.ehdr;
	f->ehsz = gelf_fsize(f->ef.elf, ELF_T_EHDR, 1, EV_CURRENT);
	f->shsz = gelf_fsize(f->ef.elf, ELF_T_SHDR, 1, EV_CURRENT);
	f->phsz = gelf_fsize(f->ef.elf, ELF_T_PHDR, 1, EV_CURRENT);
	f->symsz = gelf_fsize(f->ef.elf, ELF_T_SYM, 1, EV_CURRENT);
	f->chsz = gelf_fsize(f->ef.elf, ELF_T_CHDR, 1, EV_CURRENT);
	if (!f->ehsz || !f->shsz || !f->phsz || !f->symsz || !f->chsz)
		return elf_file_fail(&f->ef, e);
	/* No extended numbering: the table is rewritten with e_shnum. */
	if (!f->eh.e_shnum || f->eh.e_shnum >= SHN_LORESERVE ||
	    f->eh.e_shentsize != f->shsz ||
	    f->eh.e_shstrndx >= f->eh.e_shnum ||
	    !in_file(f, f->eh.e_shoff, (uint64_t)f->eh.e_shnum * f->shsz))
		return bad(f, "no valid section header table", e);
	f->nsh = f->eh.e_shnum;
	f->sh = calloc(f->nsh, sizeof(*f->sh));
	if (!f->sh)
		return sp_err_set(e, "out of memory");
	for (i = 0; i < f->nsh; i++)
		if (!(scn = elf_getscn(f->ef.elf, i)) ||
		    !gelf_getshdr(scn, &f->sh[i]))
			return elf_file_fail(&f->ef, e);
	f->load_end = f->ehsz;
	for (i = 0; i < f->nsh; i++) {
		ss = &f->sh[i];
		if (ss->sh_type != SHT_NOBITS && ss->sh_type != SHT_NULL &&
		    !in_file(f, ss->sh_offset, ss->sh_size))
			return bad(f, "a section lies outside the file", e);
		if ((ss->sh_flags & SHF_ALLOC) && ss->sh_type != SHT_NOBITS &&
		    ss->sh_offset + ss->sh_size > f->load_end)
			f->load_end = ss->sh_offset + ss->sh_size;
	}
	ss = &f->sh[f->eh.e_shstrndx];
	if (ss->sh_type != SHT_STRTAB || !ss->sh_size ||
	    f->p[ss->sh_offset + ss->sh_size - 1] != '\0')
		return bad(f, "corrupt section name table", e);
	f->shstr = (const char *)f->p + ss->sh_offset;
	f->shstr_len = ss->sh_size;
	if (f->eh.e_phnum &&
	    (f->eh.e_phentsize != f->phsz ||
	     !in_file(f, f->eh.e_phoff, (uint64_t)f->eh.e_phnum * f->phsz)))
		return bad(f, "no valid program header table", e);
	if (f->eh.e_phnum &&
	    f->eh.e_phoff + f->eh.e_phnum * f->phsz > f->load_end)
		f->load_end = f->eh.e_phoff + f->eh.e_phnum * f->phsz;
	for (i = 0; i < f->eh.e_phnum; i++) {
		if (!gelf_getphdr(f->ef.elf, (int)i, &ph))
			return elf_file_fail(&f->ef, e);
		if (!in_file(f, ph.p_offset, ph.p_filesz))
			return bad(f, "a segment lies outside the file", e);
		if (ph.p_offset + ph.p_filesz > f->load_end)
			f->load_end = ph.p_offset + ph.p_filesz;
	}
	return 0;
}

static const char *sec_name(const struct elfin *f, size_t i)
{
	return f->sh[i].sh_name < f->shstr_len ? f->shstr + f->sh[i].sh_name
					       : "";
}

static int is_debug(const struct elfin *f, size_t i)
{
	return !(f->sh[i].sh_flags & SHF_ALLOC) &&
	       f->sh[i].sh_type != SHT_NOBITS &&
	       !strncmp(sec_name(f, i), ".debug_", 7);
}

/* Every .debug_* section after every loaded byte and allocated section:
 * then dropping them moves nothing the loader sees. */
static int check_layout(const struct elfin *f, size_t *ndebug,
			struct sp_err *e)
{
	size_t i, last_alloc = 0;

	for (i = 0; i < f->nsh; i++)
		if (f->sh[i].sh_flags & SHF_ALLOC)
			last_alloc = i;
	*ndebug = 0;
	if (is_debug(f, f->eh.e_shstrndx))
		return bad(f, "corrupt section name table", e);
	for (i = 0; i < f->nsh; i++) {
		if (!is_debug(f, i))
			continue;
		if (i < last_alloc || f->sh[i].sh_offset < f->load_end)
			return bad(f, "its debug sections lie among the loaded "
				      "ones",
				   e);
		(*ndebug)++;
	}
	return 0;
}

/* The NT_GNU_BUILD_ID of the object as lowercase hex, or NULL.  The notes
 * are read through libelf, which knows their alignment (4, or 8 in a
 * section aligned to 8). */
static char *build_id(const struct elfin *f)
{
	const uint8_t *desc;
	GElf_Nhdr nh;
	Elf_Data *d;
	Elf_Scn *scn;
	size_t i, off, name_off, desc_off;
	char *hex;
	uint32_t k;

	for (i = 0; i < f->nsh; i++) {
		if (f->sh[i].sh_type != SHT_NOTE ||
		    !(scn = elf_getscn(f->ef.elf, i)) ||
		    !(d = elf_getdata(scn, NULL)) || !d->d_buf)
			continue;
		off = 0;
		while ((off = gelf_getnote(d, off, &nh, &name_off,
					   &desc_off)) > 0) {
			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((const char *)d->d_buf + name_off, "GNU",
				   4) != 0 ||
			    !nh.n_descsz || nh.n_descsz > 64)
				continue;
			desc = (const uint8_t *)d->d_buf + desc_off;
			hex = malloc(2 * nh.n_descsz + 1);
			for (k = 0; hex && k < nh.n_descsz; k++)
				sprintf(hex + 2 * k, "%02x", desc[k]);
			return hex;
		}
	}
	return NULL;
}

/* Appends the header eh in f's class and byte order at b's start. */
static void put_ehdr(const struct elfin *f, uint8_t *b, const GElf_Ehdr *eh)
{
	Elf32_Ehdr e32;

	if (f->eh.e_ident[EI_CLASS] == ELFCLASS64) {
		elf_file_xlate(&f->ef, b, eh, sizeof(Elf64_Ehdr), ELF_T_EHDR,
			       0);
		return;
	}
	memcpy(e32.e_ident, eh->e_ident, EI_NIDENT);
	e32.e_type = eh->e_type;
	e32.e_machine = eh->e_machine;
	e32.e_version = eh->e_version;
	e32.e_entry = (Elf32_Addr)eh->e_entry;
	e32.e_phoff = (Elf32_Off)eh->e_phoff;
	e32.e_shoff = (Elf32_Off)eh->e_shoff;
	e32.e_flags = eh->e_flags;
	e32.e_ehsize = eh->e_ehsize;
	e32.e_phentsize = eh->e_phentsize;
	e32.e_phnum = eh->e_phnum;
	e32.e_shentsize = eh->e_shentsize;
	e32.e_shnum = eh->e_shnum;
	e32.e_shstrndx = eh->e_shstrndx;
	elf_file_xlate(&f->ef, b, &e32, sizeof(e32), ELF_T_EHDR, 0);
}

/* 1 when the section headers that follow b's bytes would lie past what
 * a 32-bit file's offsets can say. */
static int too_large(const struct elfin *f, const struct buf *b)
{
	return f->eh.e_ident[EI_CLASS] == ELFCLASS32 &&
	       (uint64_t)b->len + (uint64_t)f->nsh * f->shsz + f->shsz >
		   UINT32_MAX;
}

/* Appends the n section headers sh to b in f's class and byte order.
 * The 32-bit fields were read from a 32-bit file and only shrink. */
static void put_shdrs(const struct elfin *f, struct buf *b,
		      const GElf_Shdr *sh, size_t n)
{
	unsigned char one[sizeof(Elf64_Shdr)];
	Elf32_Shdr s32;
	size_t i;

	for (i = 0; i < n; i++) {
		if (f->eh.e_ident[EI_CLASS] == ELFCLASS64) {
			elf_file_xlate(&f->ef, one, &sh[i], sizeof(Elf64_Shdr),
				       ELF_T_SHDR, 0);
		} else {
			s32.sh_name = sh[i].sh_name;
			s32.sh_type = sh[i].sh_type;
			s32.sh_flags = (Elf32_Word)sh[i].sh_flags;
			s32.sh_addr = (Elf32_Addr)sh[i].sh_addr;
			s32.sh_offset = (Elf32_Off)sh[i].sh_offset;
			s32.sh_size = (Elf32_Word)sh[i].sh_size;
			s32.sh_link = sh[i].sh_link;
			s32.sh_info = sh[i].sh_info;
			s32.sh_addralign = (Elf32_Word)sh[i].sh_addralign;
			s32.sh_entsize = (Elf32_Word)sh[i].sh_entsize;
			elf_file_xlate(&f->ef, one, &s32, sizeof(s32),
				       ELF_T_SHDR, 0);
		}
		buf_put(b, one, f->shsz);
	}
}

/* Appends a compression header (zstd, size, alignment) to b. */
static void put_chdr(const struct elfin *f, struct buf *b, uint64_t size,
		     uint64_t align)
{
	unsigned char one[sizeof(Elf64_Chdr)];
	Elf64_Chdr c64 = {0};
	Elf32_Chdr c32 = {0};

	if (f->eh.e_ident[EI_CLASS] == ELFCLASS64) {
		c64.ch_type = SP_ELFCOMPRESS_ZSTD;
		c64.ch_size = size;
		c64.ch_addralign = align;
		elf_file_xlate(&f->ef, one, &c64, sizeof(c64), ELF_T_CHDR, 0);
	} else {
		c32.ch_type = SP_ELFCOMPRESS_ZSTD;
		c32.ch_size = (Elf32_Word)size;
		c32.ch_addralign = (Elf32_Word)align;
		elf_file_xlate(&f->ef, one, &c32, sizeof(c32), ELF_T_CHDR, 0);
	}
	buf_put(b, one, f->chsz);
}

/* One .debug_* section as SHF_COMPRESSED zstd, when that is smaller. */
static int compress_section(const struct elfin *f, GElf_Shdr *s, int level,
			    struct buf *b, struct sp_err *e)
{
	const uint8_t *data = f->p + s->sh_offset;
	size_t cap, n;
	uint8_t *z;

	cap = ZSTD_compressBound(s->sh_size);
	z = malloc(cap ? cap : 1);
	if (!z)
		return sp_err_set(e, "out of memory");
	n = ZSTD_compress(z, cap, data, s->sh_size, level);
	if (ZSTD_isError(n)) {
		free(z);
		return bad(f, ZSTD_getErrorName(n), e);
	}
	if (f->chsz + n >= s->sh_size ||
	    (f->eh.e_ident[EI_CLASS] == ELFCLASS32 && s->sh_size > UINT32_MAX)) {
		buf_align(b, s->sh_addralign);
		s->sh_offset = b->len;
		buf_put(b, data, s->sh_size);
		free(z);
		return 0;
	}
	/* The compression header is aligned as the class's words. */
	buf_align(b, f->chsz == sizeof(Elf64_Chdr) ? 8 : 4);
	s->sh_offset = b->len;
	put_chdr(f, b, s->sh_size, s->sh_addralign ? s->sh_addralign : 1);
	buf_put(b, z, n);
	s->sh_size = f->chsz + n;
	s->sh_flags |= SHF_COMPRESSED;
	s->sh_addralign = f->chsz == sizeof(Elf64_Chdr) ? 8 : 4;
	free(z);
	return 0;
}

/* The debug file: see the header. */
static int make_debug(const struct elfin *f, int level, struct debugsplit *d,
		      struct sp_err *e)
{
	struct buf b = {0};
	GElf_Shdr *sh;
	GElf_Ehdr eh = f->eh;
	size_t i;

	sh = malloc(f->nsh * sizeof(*sh));
	if (!sh)
		return sp_err_set(e, "out of memory");
	memcpy(sh, f->sh, f->nsh * sizeof(*sh));
	buf_put(&b, NULL, f->ehsz);
	for (i = 1; i < f->nsh; i++) {
		GElf_Shdr *s = &sh[i];

		if (s->sh_type == SHT_NOBITS ||
		    ((s->sh_flags & SHF_ALLOC) && s->sh_type != SHT_NOTE)) {
			s->sh_type = SHT_NOBITS;
			s->sh_offset = b.len;
			continue;
		}
		if (is_debug(f, i) && !(s->sh_flags & SHF_COMPRESSED) &&
		    s->sh_size) {
			d->dwarf_len += s->sh_size;
			if (compress_section(f, s, level, &b, e) < 0)
				goto fail;
			continue;
		}
		buf_align(&b, s->sh_addralign);
		s->sh_offset = b.len;
		buf_put(&b, f->p + f->sh[i].sh_offset, s->sh_size);
	}
	buf_align(&b, 8);
	eh.e_shoff = b.len;
	eh.e_phoff = 0;
	eh.e_phnum = 0;
	if (too_large(f, &b)) {
		bad(f, "the debug file would be too large for a 32-bit ELF "
		       "file", e);
		goto fail;
	}
	put_shdrs(f, &b, sh, f->nsh);
	if (b.oom) {
		sp_err_set(e, "out of memory");
		goto fail;
	}
	put_ehdr(f, b.p, &eh);
	free(sh);
	d->debug = b.p;
	d->debug_len = b.len;
	return 0;
fail:
	free(sh);
	free(b.p);
	return -1;
}

/* Section indices in .symtab follow the sections that remain; a symbol
 * of a dropped section becomes undefined.  st_shndx is the only field
 * rewritten, in the file's byte order. */
static void remap_symtab(const struct elfin *f, uint8_t *data, uint64_t size,
			 const size_t *map)
{
	size_t at = f->eh.e_ident[EI_CLASS] == ELFCLASS64
			? offsetof(Elf64_Sym, st_shndx)
			: offsetof(Elf32_Sym, st_shndx);
	uint16_t ndx;
	uint64_t off;

	for (off = 0; off + f->symsz <= size; off += f->symsz) {
		elf_file_xlate(&f->ef, &ndx, data + off + at, 2, ELF_T_HALF, 1);
		if (ndx == SHN_UNDEF || ndx >= SHN_LORESERVE)
			continue;
		ndx = ndx < f->nsh ? (uint16_t)map[ndx] : SHN_UNDEF;
		elf_file_xlate(&f->ef, data + off + at, &ndx, 2, ELF_T_HALF, 0);
	}
}

/* The stripped object: see the header. */
static int make_stripped(const struct elfin *f, const char *link_name,
			 struct debugsplit *d, struct sp_err *e)
{
	struct buf b = {0}, names = {0};
	GElf_Shdr *sh = NULL, link = {0};
	GElf_Ehdr eh = f->eh;
	size_t *map, i, k = 0, llen;
	uint32_t crc;
	unsigned char crc_bytes[4];
	int rc = -1;

	map = calloc(f->nsh, sizeof(*map));
	sh = calloc(f->nsh + 1, sizeof(*sh));
	if (!map || !sh) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	buf_put(&b, f->p, (size_t)f->load_end);
	buf_put(&names, "", 1);
	for (i = 0; i < f->nsh; i++) {
		if (is_debug(f, i))
			continue;
		map[i] = k;
		sh[k] = f->sh[i];
		if (i) {
			sh[k].sh_name = (Elf64_Word)names.len;
			buf_put(&names, sec_name(f, i),
				strlen(sec_name(f, i)) + 1);
		}
		k++;
	}
	for (i = 1; i < k; i++) {
		GElf_Shdr *s = &sh[i];

		if (s->sh_link && s->sh_link < f->nsh)
			s->sh_link = (Elf64_Word)map[s->sh_link];
		if (s->sh_info && s->sh_info < f->nsh &&
		    ((s->sh_flags & SHF_INFO_LINK) || s->sh_type == SHT_REL ||
		     s->sh_type == SHT_RELA))
			s->sh_info = (Elf64_Word)map[s->sh_info];
		if (s->sh_type == SHT_NOBITS || (s->sh_flags & SHF_ALLOC) ||
		    s == &sh[map[f->eh.e_shstrndx]])
			continue;
		if (s->sh_offset + s->sh_size > f->load_end) {
			buf_align(&b, s->sh_addralign);
			buf_put(&b, f->p + s->sh_offset, s->sh_size);
			s->sh_offset = b.len - s->sh_size;
		}
		if (s->sh_type == SHT_SYMTAB && !b.oom)
			remap_symtab(f, b.p + s->sh_offset, s->sh_size, map);
	}
	/* .gnu_debuglink: the name, zero-padded to 4, then the CRC-32 of
	 * the debug file, as gdb reads it. */
	link.sh_name = (Elf64_Word)names.len;
	buf_put(&names, ".gnu_debuglink", sizeof(".gnu_debuglink"));
	link.sh_type = SHT_PROGBITS;
	link.sh_addralign = 4;
	buf_align(&b, 4);
	link.sh_offset = b.len;
	llen = strlen(link_name) + 1;
	buf_put(&b, link_name, llen);
	buf_align(&b, 4);
	/* In the object's byte order, as gdb reads it. */
	crc = (uint32_t)libdeflate_crc32(0, d->debug, d->debug_len);
	elf_file_xlate(&f->ef, crc_bytes, &crc, 4, ELF_T_WORD, 0);
	buf_put(&b, crc_bytes, 4);
	link.sh_size = b.len - link.sh_offset;
	sh[k++] = link;

	sh[map[f->eh.e_shstrndx]].sh_offset = b.len;
	sh[map[f->eh.e_shstrndx]].sh_size = names.len;
	buf_put(&b, names.p, names.len);
	buf_align(&b, 8);
	eh.e_shoff = b.len;
	eh.e_shnum = (Elf64_Half)k;
	eh.e_shstrndx = (Elf64_Half)map[f->eh.e_shstrndx];
	if (too_large(f, &b)) {
		bad(f, "the stripped object would be too large for a 32-bit "
		       "ELF file", e);
		goto out;
	}
	put_shdrs(f, &b, sh, k);
	if (b.oom || names.oom) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	put_ehdr(f, b.p, &eh);
	d->stripped = b.p;
	d->stripped_len = b.len;
	b.p = NULL;
	rc = 0;
out:
	free(b.p);
	free(names.p);
	free(map);
	free(sh);
	return rc;
}

int debugsplit_mem(const void *in, size_t len, const char *name,
		   const char *link_name, int level, struct debugsplit *out,
		   struct sp_err *e)
{
	struct elfin f = {0};
	size_t ndebug;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	f.p = in;
	f.len = len;
	f.name = name;
	if (parse(&f, e) < 0 || check_layout(&f, &ndebug, e) < 0)
		goto out;
	if (!ndebug) {
		rc = 0;
		goto out;
	}
	out->build_id = build_id(&f);
	if (make_debug(&f, level, out, e) < 0 ||
	    make_stripped(&f, link_name, out, e) < 0)
		goto out;
	rc = 0;
out:
	free(f.sh);
	elf_file_close(&f.ef);
	if (rc < 0)
		debugsplit_release(out);
	return rc;
}

void debugsplit_release(struct debugsplit *d)
{
	free(d->stripped);
	free(d->debug);
	free(d->build_id);
	memset(d, 0, sizeof(*d));
}

char *debugsplit_rel_path(const struct debugsplit *d)
{
	char *s;

	if (!d->build_id || strlen(d->build_id) < 3)
		return NULL;
	if (asprintf(&s, ".build-id/%.2s/%s.debug", d->build_id,
		     d->build_id + 2) < 0)
		return NULL;
	return s;
}

int debugsplit_for_wheel(const void *in, size_t len, const char *name,
			 const char *wheel_path, const char *stem,
			 struct debugsplit *out, char **rel, struct sp_err *e)
{
	char *link = NULL;
	int rc;

	*rel = NULL;
	if (asprintf(&link, "%s.debug", path_basename(wheel_path)) < 0)
		return sp_err_set(e, "out of memory");
	rc = debugsplit_mem(in, len, name, link, 12, out, e);
	free(link);
	if (rc < 0 || !out->debug)
		return rc;
	*rel = debugsplit_rel_path(out);
	if (!*rel && asprintf(rel, "%s/%s.debug", stem, wheel_path) < 0) {
		*rel = NULL;
		return sp_err_set(e, "out of memory");
	}
	return 0;
}

int debugsplit_write_file(const char *path, const void *buf, size_t len,
			  struct sp_err *e)
{
	char *parent = path_dirname(path);
	int fd, rc;

	if (!parent)
		return sp_err_set(e, "out of memory");
	/* The path was resolved from the user's folder (dirs_resolve), so
	 * no component of it may be a symlink now: debug/, .build-id/ and
	 * xx/ are spoke's own, made here if missing, and a symlink planted
	 * at any of them is refused rather than followed. */
	fd = dirs_open(parent, DIRS_CREATE, 0755, e);
	if (fd < 0) {
		free(parent);
		return -1;
	}
	rc = tmpfile_write_buf(fd, parent, path_basename(path), buf, len, 0644,
			       e);
	close(fd);
	free(parent);
	return rc;
}

int debugsplit_write(const struct debugsplit *d, const char *dir,
		     const char *rel, struct sp_err *e)
{
	char *path = path_join(dir, rel);
	int rc;

	if (!path)
		return sp_err_set(e, "out of memory");
	rc = debugsplit_write_file(path, d->debug, d->debug_len, e);
	free(path);
	return rc;
}

int debugsplit_dirs(const char *final_path, const char *out_dir_resolved,
		    char **dir, char **stem, struct sp_err *e)
{
	const char *base = path_basename(final_path);
	size_t n = strlen(base) > 4 ? strlen(base) - 4 : 0;
	char *parent;

	*dir = NULL;
	*stem = NULL;
	/* The coordinator resolved the output folder once (dirs.h): the
	 * debug files go beneath that path, walked without following. */
	parent = out_dir_resolved ? strdup(out_dir_resolved)
				  : path_dirname(final_path);
	if (!parent || !(*dir = path_join(parent, "debug")) ||
	    !(*stem = strndup(base, n))) {
		free(parent);
		free(*dir);
		*dir = NULL;
		return sp_err_set(e, "out of memory");
	}
	free(parent);
	return 0;
}

int debugsplit_module(const char *file, const char *dir, const char *stem,
		      const char *name, void **mod, size_t *len,
		      char **debug_path, struct sp_err *e)
{
	char *rel = NULL;
	struct debugsplit d = {0};
	int rc = -1;

	*debug_path = NULL;
	if (debugsplit_for_wheel(*mod, *len, name, file, stem, &d, &rel, e) < 0)
		goto out;
	rc = 0;
	if (!d.debug)
		goto out;
	if (!(*debug_path = path_join(dir, rel))) {
		rc = sp_err_set(e, "out of memory");
		goto out;
	}
	if (debugsplit_write(&d, dir, rel, e) < 0) {
		free(*debug_path);
		*debug_path = NULL;
		rc = -1;
		goto out;
	}
	free(*mod);
	*mod = d.stripped;
	*len = d.stripped_len;
	d.stripped = NULL;
out:
	debugsplit_release(&d);
	free(rel);
	return rc;
}
