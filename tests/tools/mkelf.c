/*
 * mkelf.c - the writer mkelf.h describes: byte by byte, in the asked byte
 * order, sharing no code with libelf or spoke.
 */
#include "tests/tools/mkelf.h"

#include <stdlib.h>
#include <string.h>

/* A growing image written in one byte order. */
struct mkelf_buf {
	unsigned char *p;
	size_t len, cap;
	int msb;
	int ok;
};

static void mkelf_reserve(struct mkelf_buf *b, size_t at, size_t n)
{
	size_t need = at + n;

	if (!b->ok)
		return;
	if (need > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		unsigned char *np;

		while (cap < need)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->ok = 0;
			return;
		}
		memset(np + b->cap, 0, cap - b->cap);
		b->p = np;
		b->cap = cap;
	}
	if (need > b->len)
		b->len = need;
}

/* Writes the n low bytes of v at at, in the image's byte order (n may
 * exceed 8: the bytes above v's are zero). */
static void mkelf_put(struct mkelf_buf *b, size_t at, uint64_t v, size_t n)
{
	size_t i;

	mkelf_reserve(b, at, n);
	if (!b->ok)
		return;
	for (i = 0; i < n; i++)
		b->p[at + (b->msb ? n - 1 - i : i)] =
		    i < 8 ? (unsigned char)(v >> (8 * i)) : 0;
}

static void mkelf_bytes(struct mkelf_buf *b, size_t at, const void *s, size_t n)
{
	mkelf_reserve(b, at, n);
	if (b->ok)
		memcpy(b->p + at, s, n);
}

static size_t mkelf_alignup(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

/* Appends s (with its NUL) to the string table t; returns its offset. */
static size_t mkelf_str(struct mkelf_buf *t, const char *s)
{
	size_t off = t->len;

	mkelf_bytes(t, off, s, strlen(s) + 1);
	return off;
}

/* Section header fields, in both classes' order of meaning. */
struct mkelf_sh {
	uint32_t name, type, link, info;
	uint64_t flags, addr, off, size, align, entsize;
};

unsigned char *mkelf_build(const struct mkelf_spec *sp, size_t *len)
{
	int c64 = sp->elfclass == ELFCLASS64;
	size_t word = c64 ? 8 : 4;
	size_t ehsz = c64 ? 64 : 52, phsz = c64 ? 56 : 32, shsz = c64 ? 64 : 40;
	size_t symsz = c64 ? 24 : 16, dynsz = 2 * word;
	struct mkelf_buf b = {0}, str = {0}, shs = {0};
	struct mkelf_sh sh[7];
	size_t nph = sp->interp ? 3 : 2, nsh = 0, i, off, ndyn;
	size_t interp_off = 0, dynsym_off, dynstr_off, text_off, dyn_off;
	size_t shstr_off, shoff, load_end, name_fn, soname = 0, runpath = 0;
	size_t *needed = NULL;
	uint64_t align = sp->align ? sp->align : 0x1000;

	*len = 0;
	if ((sp->elfclass != ELFCLASS32 && sp->elfclass != ELFCLASS64) ||
	    (sp->data != ELFDATA2LSB && sp->data != ELFDATA2MSB))
		return NULL;
	b.ok = str.ok = shs.ok = 1;
	b.msb = sp->data == ELFDATA2MSB;
	needed = calloc(sp->nneeded + 1, sizeof(*needed));
	if (!needed)
		return NULL;

	/* The dynamic string table. */
	mkelf_str(&str, "");
	for (i = 0; i < sp->nneeded; i++)
		needed[i] = mkelf_str(&str, sp->needed[i]);
	if (sp->soname)
		soname = mkelf_str(&str, sp->soname);
	if (sp->runpath)
		runpath = mkelf_str(&str, sp->runpath);
	name_fn = mkelf_str(&str, "mkelf_answer");

	/* The layout: headers, then the tables, each aligned to a word. */
	off = ehsz + nph * phsz;
	if (sp->interp) {
		interp_off = off;
		off += strlen(sp->interp) + 1;
	}
	off = mkelf_alignup(off, word);
	dynsym_off = off;
	off += 2 * symsz;
	dynstr_off = off;
	off += str.len;
	off = mkelf_alignup(off, 16);
	text_off = off;
	off += 16;
	off = mkelf_alignup(off, word);
	dyn_off = off;
	ndyn = sp->nneeded + (sp->soname != NULL) + (sp->runpath != NULL) + 5 +
	       sp->spare;
	off += ndyn * dynsz;
	load_end = off;

	/* The ELF header. */
	mkelf_bytes(&b, 0, ELFMAG, SELFMAG);
	b.p[EI_CLASS] = (unsigned char)sp->elfclass;
	b.p[EI_DATA] = (unsigned char)sp->data;
	b.p[EI_VERSION] = EV_CURRENT;
	b.p[EI_OSABI] = ELFOSABI_NONE;
	mkelf_put(&b, 16, ET_DYN, 2);
	mkelf_put(&b, 18, sp->machine, 2);
	mkelf_put(&b, 20, EV_CURRENT, 4);
	mkelf_put(&b, 24, text_off, word);    /* e_entry */
	mkelf_put(&b, 24 + word, ehsz, word); /* e_phoff */
	/* e_shoff at 24 + 2 * word: written below. */
	mkelf_put(&b, 24 + 3 * word, sp->flags, 4); /* e_flags */
	mkelf_put(&b, 28 + 3 * word, ehsz, 2); /* e_ehsize */
	mkelf_put(&b, 30 + 3 * word, phsz, 2); /* e_phentsize */
	mkelf_put(&b, 32 + 3 * word, nph, 2);  /* e_phnum */
	mkelf_put(&b, 34 + 3 * word, shsz, 2); /* e_shentsize */

	/* The program headers: (type, flags, offset, vaddr, size, align). */
	{
		uint64_t ph[3][5] = {
		    {PT_LOAD, PF_R | PF_W | PF_X, 0, load_end, align},
		    {PT_DYNAMIC, PF_R | PF_W, dyn_off, ndyn * dynsz, word},
		    {PT_INTERP, PF_R, interp_off,
		     sp->interp ? strlen(sp->interp) + 1 : 0, 1},
		};

		for (i = 0; i < nph; i++) {
			size_t at = ehsz + i * phsz;

			mkelf_put(&b, at, ph[i][0], 4);
			if (c64) {
				mkelf_put(&b, at + 4, ph[i][1], 4);
				mkelf_put(&b, at + 8, ph[i][2], 8);
				mkelf_put(&b, at + 16, ph[i][2], 8);
				mkelf_put(&b, at + 24, ph[i][2], 8);
				mkelf_put(&b, at + 32, ph[i][3], 8);
				mkelf_put(&b, at + 40, ph[i][3], 8);
				mkelf_put(&b, at + 48, ph[i][4], 8);
			} else {
				mkelf_put(&b, at + 4, ph[i][2], 4);
				mkelf_put(&b, at + 8, ph[i][2], 4);
				mkelf_put(&b, at + 12, ph[i][2], 4);
				mkelf_put(&b, at + 16, ph[i][3], 4);
				mkelf_put(&b, at + 20, ph[i][3], 4);
				mkelf_put(&b, at + 24, ph[i][1], 4);
				mkelf_put(&b, at + 28, ph[i][4], 4);
			}
		}
	}
	if (sp->interp)
		mkelf_bytes(&b, interp_off, sp->interp, strlen(sp->interp) + 1);

	/* .dynsym: the null symbol, then mkelf_answer in .text (section
	 * index 4 with .interp, else 3). */
	{
		size_t at = dynsym_off + symsz;
		unsigned text_ndx = sp->interp ? 4 : 3;

		mkelf_put(&b, dynsym_off, 0, symsz);
		mkelf_put(&b, at, name_fn, 4);
		if (c64) {
			b.p[at + 4] = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
			b.p[at + 5] = STV_DEFAULT;
			mkelf_put(&b, at + 6, text_ndx, 2);
			mkelf_put(&b, at + 8, text_off, 8);
			mkelf_put(&b, at + 16, 16, 8);
		} else {
			mkelf_put(&b, at + 4, text_off, 4);
			mkelf_put(&b, at + 8, 16, 4);
			b.p[at + 12] = ELF32_ST_INFO(STB_GLOBAL, STT_FUNC);
			b.p[at + 13] = STV_DEFAULT;
			mkelf_put(&b, at + 14, text_ndx, 2);
		}
	}
	mkelf_bytes(&b, dynstr_off, str.p, str.len);
	mkelf_put(&b, text_off, 0, 16);

	/* .dynamic */
	{
		size_t at = dyn_off;
		uint64_t ent[64][2];
		size_t n = 0;

		for (i = 0; i < sp->nneeded && n < 50; i++) {
			ent[n][0] = DT_NEEDED;
			ent[n++][1] = needed[i];
		}
		if (sp->soname) {
			ent[n][0] = DT_SONAME;
			ent[n++][1] = soname;
		}
		if (sp->runpath) {
			ent[n][0] = DT_RUNPATH;
			ent[n++][1] = runpath;
		}
		ent[n][0] = DT_STRTAB;
		ent[n++][1] = dynstr_off;
		ent[n][0] = DT_STRSZ;
		ent[n++][1] = str.len;
		ent[n][0] = DT_SYMTAB;
		ent[n++][1] = dynsym_off;
		ent[n][0] = DT_SYMENT;
		ent[n++][1] = symsz;
		for (i = 0; i < n; i++, at += dynsz) {
			mkelf_put(&b, at, ent[i][0], word);
			mkelf_put(&b, at + word, ent[i][1], word);
		}
		/* DT_NULL and the spare slots. */
		mkelf_put(&b, at, 0, (ndyn - n) * dynsz);
	}

	/* .shstrtab and the section headers. */
	memset(sh, 0, sizeof(sh));
	mkelf_str(&shs, "");
	nsh = 1;
	if (sp->interp)
		sh[nsh++] = (struct mkelf_sh){mkelf_str(&shs, ".interp"),
					      SHT_PROGBITS,
					      0,
					      0,
					      SHF_ALLOC,
					      interp_off,
					      interp_off,
					      strlen(sp->interp) + 1,
					      1,
					      0};
	sh[nsh] = (struct mkelf_sh){mkelf_str(&shs, ".dynsym"),
				    SHT_DYNSYM,
				    (uint32_t)nsh + 1,
				    1,
				    SHF_ALLOC,
				    dynsym_off,
				    dynsym_off,
				    2 * symsz,
				    word,
				    symsz};
	nsh++;
	sh[nsh++] = (struct mkelf_sh){mkelf_str(&shs, ".dynstr"),
				      SHT_STRTAB,
				      0,
				      0,
				      SHF_ALLOC,
				      dynstr_off,
				      dynstr_off,
				      str.len,
				      1,
				      0};
	sh[nsh++] = (struct mkelf_sh){mkelf_str(&shs, ".text"),
				      SHT_PROGBITS,
				      0,
				      0,
				      SHF_ALLOC | SHF_EXECINSTR,
				      text_off,
				      text_off,
				      16,
				      16,
				      0};
	sh[nsh] = (struct mkelf_sh){mkelf_str(&shs, ".dynamic"),
				    SHT_DYNAMIC,
				    (uint32_t)nsh - 2,
				    0,
				    SHF_ALLOC | SHF_WRITE,
				    dyn_off,
				    dyn_off,
				    ndyn * dynsz,
				    word,
				    dynsz};
	nsh++;
	sh[nsh++] = (struct mkelf_sh){mkelf_str(&shs, ".shstrtab"),
				      SHT_STRTAB,
				      0,
				      0,
				      0,
				      0,
				      load_end,
				      0,
				      1,
				      0};
	sh[nsh - 1].size = shs.len;
	shstr_off = load_end;
	mkelf_bytes(&b, shstr_off, shs.p, shs.len);
	shoff = mkelf_alignup(shstr_off + shs.len, word);
	for (i = 0; i < nsh; i++) {
		size_t at = shoff + i * shsz;

		mkelf_put(&b, at, sh[i].name, 4);
		mkelf_put(&b, at + 4, sh[i].type, 4);
		mkelf_put(&b, at + 8, sh[i].flags, word);
		mkelf_put(&b, at + 8 + word, sh[i].addr, word);
		mkelf_put(&b, at + 8 + 2 * word, sh[i].off, word);
		mkelf_put(&b, at + 8 + 3 * word, sh[i].size, word);
		mkelf_put(&b, at + 8 + 4 * word, sh[i].link, 4);
		mkelf_put(&b, at + 12 + 4 * word, sh[i].info, 4);
		mkelf_put(&b, at + 16 + 4 * word, sh[i].align, word);
		mkelf_put(&b, at + 16 + 5 * word, sh[i].entsize, word);
	}
	mkelf_put(&b, 24 + 2 * word, shoff, word); /* e_shoff */
	mkelf_put(&b, 36 + 3 * word, nsh, 2);	   /* e_shnum */
	mkelf_put(&b, 38 + 3 * word, nsh - 1, 2);  /* e_shstrndx */

	free(needed);
	free(str.p);
	free(shs.p);
	if (!b.ok) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}
