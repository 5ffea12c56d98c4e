/*
 * elfgen.h - builds an ELF shared object from a fuzzer's decisions
 * (fuzzin.h), for the structure-aware harnesses: fuzz_elfgen.c patches
 * it, fuzz_wheelgen.c puts it into wheels as a ".so".
 *
 * elfgen_build() writes the object byte by byte (either class, either byte
 * order, several machines): the header, the program headers, .dynsym,
 * .dynstr, .gnu.version, .gnu.version_r, .gnu.version_d, .dynamic, section
 * headers.  What each decision means is said where it is read; the
 * ordinary choice (a 0 byte, or the end of the input) is this machine's
 * 64-bit kind, with a soname, a run path, one needed file's versions and
 * two version definitions.  Quirk bits, rarely all set, make it lie.
 */
#ifndef SPOKE_FUZZ_ELFGEN_H
#define SPOKE_FUZZ_ELFGEN_H

#include <gelf.h>
#include <stdint.h>
#include <string.h>

#include "fuzz/fuzzin.h"

#if defined(__x86_64__) || defined(__i386__)
#define MACH64 EM_X86_64
#define MACH32 EM_386
#elif defined(__aarch64__) || defined(__arm__)
#define MACH64 EM_AARCH64
#define MACH32 EM_ARM
#else
#define MACH64 EM_NONE
#define MACH32 EM_NONE
#endif

static const char *const dict[] = {
    "libc.so.6",      "libm.so.6",	     "libpthread.so.0",
    "libfoo.so.1",    "libfoo-0123abcd.so.1", "libz.so.1",
    "libgcc_s.so.1",  "$ORIGIN",	     "$ORIGIN/../fuzz.libs",
    "/usr/lib",	      "GLIBC_2.2.5",	     "GLIBC_2.17",
    "GCC_3.0",	      "PyInit__native",      "malloc",
    "c.so.6",	      "",		     "libfuzz.so.1",
    "FUZZ_1.0",	      "libbar.so.2",
};
#define NDICT (sizeof(dict) / sizeof(dict[0]))

/* Quirks: lies the harness tells on purpose (0: none). */
enum {
	QE_STRSZ = 1 << 0,	/* DT_STRSZ past the file */
	QE_NO_NULL = 1 << 1,	/* the dynamic table has no DT_NULL */
	QE_DYN_PAST = 1 << 2,	/* PT_DYNAMIC extends past the file */
	QE_NO_SHDRS = 1 << 3,	/* no section headers at all */
	QE_STRTAB = 1 << 4,	/* DT_STRTAB points nowhere */
	QE_VN_NEXT = 1 << 5,	/* a verneed vn_next runs off the table */
	QE_SHSTRNDX = 1 << 6,	/* e_shstrndx out of range */
	QE_PH_OFF = 1 << 7,	/* e_phoff past the file */
};

struct img {
	struct fbuf b;
	int is64, msb;
};

static void put(struct img *im, size_t off, uint64_t v, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		im->b.p[off + i] =
		    (uint8_t)(v >> (8 * (im->msb ? n - 1 - i : i)));
}

/* Appends an n-byte field. */
static void add(struct img *im, uint64_t v, unsigned n)
{
	size_t at = im->b.len;

	fbuf_fill(&im->b, 0, n);
	put(im, at, v, n);
}

/* A word: 4 bytes in ELFCLASS32, 8 in ELFCLASS64. */
static void addw(struct img *im, uint64_t v)
{
	add(im, v, im->is64 ? 8 : 4);
}

static void align(struct img *im, size_t a)
{
	while (im->b.len % a)
		fbuf_add(&im->b, "", 1);
}

struct strs {
	struct fbuf b;	   /* the table */
	uint32_t off[24];  /* of each string added */
	const char *s[24]; /* its text when it is from dict, else NULL */
	size_t n;
};

/* An offset into the table: mostly the start of one of its strings,
 * sometimes the middle of one (a tail shared), sometimes 0 (""). */
static uint32_t str_ref(struct fin *in, const struct strs *t)
{
	unsigned how = fin_pick(in, 8), i;
	uint32_t len;

	if (!t->n || how == 7)
		return 0;
	i = fin_pick(in, (unsigned)t->n);
	if (how == 6) {
		len = (uint32_t)strlen((const char *)t->b.p + t->off[i]);
		return t->off[i] + (len ? fin_u8(in) % len : 0);
	}
	return t->off[i];
}

/* The offset of dictionary string d, added when missing. */
static uint32_t str_of(struct strs *t, const char *d)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->s[i] && strcmp(t->s[i], d) == 0)
			return t->off[i];
	if (t->n == 24)
		return 0;
	t->off[t->n] = (uint32_t)t->b.len;
	t->s[t->n++] = d;
	fbuf_add(&t->b, d, strlen(d) + 1);
	return t->off[t->n - 1];
}

static unsigned long elf_hash_of(const char *s)
{
	unsigned long h = 0, g;

	for (; *s; s++) {
		h = (h << 4) + (unsigned char)*s;
		g = h & 0xf0000000;
		if (g)
			h ^= g >> 24;
		h &= ~g;
	}
	return h;
}

struct dyn {
	int64_t tag;
	uint64_t val;
};

struct plan {
	unsigned quirk;
	uint64_t base;
	struct strs str;
	struct dyn dyn[48];
	size_t ndyn, spare;
	uint32_t needed[8];
	size_t nneeded;
	unsigned nsym, nvn, nvd;
};

/* ---- building the file ---- */

static void elfgen_build(struct fin *in, struct img *im, unsigned *quirk)
{
	struct plan p = {0};
	unsigned cls = fin_pick(in, 4), type, mach, i, j, k, nph, two_loads;
	size_t ehsz, phsz, phoff, symoff, stroff, versymoff, vnoff, vdoff;
	size_t dynoff, shstroff, shoff, end, dynent, syment, load2;
	static const char shnames[] =
	    "\0.dynsym\0.dynstr\0.gnu.version\0.gnu.version_r\0"
	    ".gnu.version_d\0.dynamic\0.shstrtab";
	unsigned want_ph[8], nwant = 0;

	/* The ordinary choice (0) is this machine's 64-bit kind. */
	im->is64 = cls != 1;
	im->msb = fin_pick(in, 8) == 7;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	im->msb = !im->msb;
#endif
	switch (fin_pick(in, 10)) {
	case 7:
		mach = EM_AARCH64;
		break;
	case 8:
		mach = EM_PPC64;
		break;
	case 9:
		mach = EM_S390;
		break;
	default:
		mach = im->is64 ? MACH64 : MACH32;
		break;
	}
	type = fin_pick(in, 10) == 9 ? ET_EXEC : ET_DYN;
	p.quirk = *quirk = fin_u8(in) & fin_u8(in);
	p.base = fin_u8(in) & 1 ? 0x400000 : 0;
	ehsz = im->is64 ? 64 : 52;
	phsz = im->is64 ? 56 : 32;
	dynent = im->is64 ? 16 : 8;
	syment = im->is64 ? 24 : 16;

	/* Strings: the empty one, then some from the dictionary or the
	 * input. */
	fbuf_add(&p.str.b, "", 1);
	k = 2 + fin_pick(in, 10);
	for (i = 0; i < k; i++) {
		unsigned sel = fin_u8(in);

		if (sel < NDICT * 12) {
			str_of(&p.str, dict[sel % NDICT]);
		} else if (p.str.n < 24) {
			const uint8_t *s;
			size_t n = fin_bytes(in, 40, &s), z;

			p.str.off[p.str.n] = (uint32_t)p.str.b.len;
			p.str.s[p.str.n++] = NULL;
			for (z = 0; z < n; z++)
				if (s[z])
					fbuf_add(&p.str.b, s + z, 1);
			fbuf_add(&p.str.b, "", 1);
		}
	}

	/* The dynamic table, in the order a linker writes it. */
	p.nneeded = 1 + fin_pick(in, 5);
	for (i = 0; i < p.nneeded; i++) {
		p.needed[i] = fin_u8(in) < 200
				  ? str_of(&p.str, dict[i % 7])
				  : str_ref(in, &p.str);
		p.dyn[p.ndyn++] = (struct dyn){DT_NEEDED, p.needed[i]};
	}
	k = fin_u8(in);
	if (!(k & 1))
		p.dyn[p.ndyn++] =
		    (struct dyn){DT_SONAME, str_of(&p.str, "libfuzz.so.1")};
	/* 0 (the ordinary choice): DT_RUNPATH. */
	switch (((k >> 1) + 1) & 3) {
	case 1:
		p.dyn[p.ndyn++] = (struct dyn){DT_RUNPATH, str_ref(in, &p.str)};
		break;
	case 2:
		p.dyn[p.ndyn++] = (struct dyn){DT_RPATH, str_ref(in, &p.str)};
		break;
	case 3:
		p.dyn[p.ndyn++] = (struct dyn){DT_RPATH, str_ref(in, &p.str)};
		p.dyn[p.ndyn++] = (struct dyn){DT_RUNPATH, str_ref(in, &p.str)};
		break;
	default:
		break;
	}
	p.nsym = 1 + fin_pick(in, 6);
	/* Ordinarily one file's versions needed, and two defined. */
	p.nvn = (1 + fin_pick(in, 3)) % 3;
	p.nvd = (2 + fin_pick(in, 3)) % 3;
	/* Other tags, with values that are not addresses. */
	k = fin_pick(in, 4);
	for (i = 0; i < k; i++) {
		static const int64_t tags[] = {DT_FLAGS, DT_FLAGS_1, DT_DEBUG,
					       DT_BIND_NOW, DT_NEEDED,
					       DT_RUNPATH, 0x6ffffef5,
					       0x7fffffff};
		int64_t t = tags[fin_pick(in, 8)];

		p.dyn[p.ndyn++] =
		    (struct dyn){t, t == DT_NEEDED || t == DT_RUNPATH
					? str_ref(in, &p.str)
					: fin_u32(in)};
	}
	p.spare = fin_pick(in, 5);

	/* The layout: headers, then the tables, then section headers. */
	nph = 0;
	want_ph[nwant++] = PT_LOAD;
	two_loads = fin_u8(in) & 1;
	if (two_loads)
		want_ph[nwant++] = PT_LOAD;
	want_ph[nwant++] = PT_DYNAMIC;
	k = fin_u8(in);
	if (!(k & 1))
		want_ph[nwant++] = PT_GNU_STACK;
	if (k & 2) {
		/* PT_PHDR first, as linkers put it. */
		memmove(want_ph + 1, want_ph, nwant * sizeof(*want_ph));
		want_ph[0] = PT_PHDR;
		nwant++;
	}
	if (k & 4)
		want_ph[nwant++] = PT_GNU_RELRO;
	if (k & 8)
		want_ph[nwant++] = PT_NOTE;
	nph = nwant;
	phoff = ehsz;
	/* A free slot after the program headers lets the patcher add one
	 * in place instead of moving the table. */
	symoff = (phoff + (nph + !!(k & 16)) * phsz + 7) & ~(size_t)7;
	stroff = symoff + p.nsym * syment;
	/* .dynstr is final only after the version tables name their
	 * strings: take them now. */
	for (i = 0; i < p.nvn; i++) {
		str_of(&p.str, dict[fin_pick(in, 7)]);
		str_of(&p.str, dict[10 + fin_pick(in, 3)]);
	}
	if (p.nvd) {
		str_of(&p.str, "libfuzz.so.1");
		str_of(&p.str, "FUZZ_1.0");
	}
	versymoff = (stroff + p.str.b.len + 1) & ~(size_t)1;
	vnoff = (versymoff + p.nsym * 2 + 3) & ~(size_t)3;
	vdoff = vnoff + p.nvn * (16 + 2 * 16);
	dynoff = (vdoff + p.nvd * (20 + 8) + 7) & ~(size_t)7;

	/* Now the address-valued tags. */
	p.dyn[p.ndyn++] =
	    (struct dyn){DT_STRTAB, p.quirk & QE_STRTAB
					? 0x7ffffff0
					: p.base + stroff};
	p.dyn[p.ndyn++] =
	    (struct dyn){DT_STRSZ, p.str.b.len + (p.quirk & QE_STRSZ
						      ? 0x100000
						      : 0)};
	p.dyn[p.ndyn++] = (struct dyn){DT_SYMTAB, p.base + symoff};
	p.dyn[p.ndyn++] = (struct dyn){DT_SYMENT, syment};
	p.dyn[p.ndyn++] = (struct dyn){DT_VERSYM, p.base + versymoff};
	if (p.nvn) {
		p.dyn[p.ndyn++] = (struct dyn){DT_VERNEED, p.base + vnoff};
		p.dyn[p.ndyn++] = (struct dyn){DT_VERNEEDNUM, p.nvn};
	}
	if (p.nvd) {
		p.dyn[p.ndyn++] = (struct dyn){DT_VERDEF, p.base + vdoff};
		p.dyn[p.ndyn++] = (struct dyn){DT_VERDEFNUM, p.nvd};
	}
	if (!(p.quirk & QE_NO_NULL))
		p.dyn[p.ndyn++] = (struct dyn){DT_NULL, 0};
	for (i = 0; i < p.spare; i++)
		p.dyn[p.ndyn++] = (struct dyn){DT_NULL, 0};
	shstroff = dynoff + p.ndyn * dynent;
	load2 = two_loads ? dynoff & ~(size_t)0xfff : 0;
	end = shstroff + sizeof(shnames);
	shoff = (end + 7) & ~(size_t)7;

	/* The ELF header. */
	fbuf_add(&im->b, "\177ELF", 4);
	add(im, im->is64 ? ELFCLASS64 : ELFCLASS32, 1);
	add(im, im->msb ? ELFDATA2MSB : ELFDATA2LSB, 1);
	add(im, EV_CURRENT, 1);
	fbuf_fill(&im->b, 0, 9);
	add(im, type, 2);
	add(im, mach, 2);
	add(im, EV_CURRENT, 4);
	addw(im, 0); /* entry */
	addw(im, p.quirk & QE_PH_OFF ? 0x7fff0000 : phoff);
	addw(im, p.quirk & QE_NO_SHDRS ? 0 : shoff);
	add(im, 0, 4); /* flags */
	add(im, ehsz, 2);
	add(im, phsz, 2);
	add(im, nph, 2);
	add(im, im->is64 ? 64 : 40, 2);
	add(im, p.quirk & QE_NO_SHDRS ? 0 : 9, 2);
	add(im, p.quirk & QE_SHSTRNDX ? 77 : 7, 2);

	/* Program headers. */
	for (i = 0; i < nph; i++) {
		uint64_t off = 0, filesz = 0, flags = 4, al = 0x1000;
		uint32_t t = want_ph[i];

		if (t == PT_LOAD) {
			int second = i && want_ph[i - 1] == PT_LOAD;

			off = second ? load2 : 0;
			filesz = second ? end - load2
					: two_loads ? load2 : end;
			flags = second ? 6 : 5;
		} else if (t == PT_DYNAMIC || t == PT_GNU_RELRO) {
			off = dynoff;
			filesz = p.ndyn * dynent +
				 (t == PT_DYNAMIC && p.quirk & QE_DYN_PAST
				      ? 0x10000
				      : 0);
			flags = 6;
			al = 8;
		} else if (t == PT_PHDR) {
			off = phoff;
			filesz = nph * phsz;
			al = 8;
		} else if (t == PT_NOTE) {
			off = shstroff;
			filesz = 0;
			al = 4;
		} else {
			al = 16;
		}
		add(im, t, 4);
		if (im->is64)
			add(im, flags, 4);
		addw(im, off);
		addw(im, t == PT_GNU_STACK ? 0 : p.base + off);
		addw(im, t == PT_GNU_STACK ? 0 : p.base + off);
		addw(im, filesz);
		addw(im, filesz);
		if (!im->is64)
			add(im, flags, 4);
		addw(im, al);
	}
	fbuf_fill(&im->b, 0, symoff - im->b.len);

	/* .dynsym: symbol 0 is null; the others are global functions. */
	for (i = 0; i < p.nsym; i++) {
		uint32_t name = i ? str_ref(in, &p.str) : 0;
		unsigned info = i ? (STB_GLOBAL << 4 | STT_FUNC) : 0;

		add(im, name, 4);
		if (im->is64) {
			add(im, info, 1);
			add(im, 0, 1);
			add(im, i ? 1 : 0, 2);
			add(im, 0, 8);
			add(im, 0, 8);
		} else {
			add(im, 0, 4);
			add(im, 0, 4);
			add(im, info, 1);
			add(im, 0, 1);
			add(im, i ? 1 : 0, 2);
		}
	}
	fbuf_add(&im->b, p.str.b.p, p.str.b.len);
	align(im, 2);
	for (i = 0; i < p.nsym; i++)
		add(im, i ? fin_pick(in, 4) : 0, 2);
	align(im, 4);

	/* .gnu.version_r: each file needs two versions. */
	for (i = 0; i < p.nvn; i++) {
		uint32_t file = fin_u8(in) < 200 && p.nneeded
				    ? p.needed[i % p.nneeded]
				    : str_ref(in, &p.str);
		uint32_t next = i + 1 < p.nvn ? 16 + 2 * 16 : 0;

		if (p.quirk & QE_VN_NEXT && i + 1 == p.nvn)
			next = 0x1000;
		add(im, 1, 2);
		add(im, 2, 2);
		add(im, file, 4);
		add(im, 16, 4);
		add(im, next, 4);
		for (j = 0; j < 2; j++) {
			uint32_t name = str_ref(in, &p.str);

			add(im, elf_hash_of((const char *)p.str.b.p + name),
			    4);
			add(im, 0, 2);
			add(im, 2 + i * 2 + j, 2);
			add(im, name, 4);
			add(im, j ? 0 : 16, 4);
		}
	}
	/* .gnu.version_d: the base definition, then FUZZ_1.0. */
	for (i = 0; i < p.nvd; i++) {
		uint32_t name = i ? str_of(&p.str, "FUZZ_1.0")
				  : str_of(&p.str, "libfuzz.so.1");

		add(im, 1, 2);
		add(im, i ? 0 : 1, 2); /* VER_FLG_BASE */
		add(im, i + 1, 2);
		add(im, 1, 2);
		add(im, elf_hash_of((const char *)p.str.b.p + name), 4);
		add(im, 20, 4);
		add(im, i + 1 < p.nvd ? 28 : 0, 4);
		add(im, name, 4);
		add(im, 0, 4);
	}
	fbuf_fill(&im->b, 0, dynoff - im->b.len);
	for (i = 0; i < p.ndyn; i++) {
		addw(im, (uint64_t)p.dyn[i].tag);
		addw(im, p.dyn[i].val);
	}
	fbuf_add(&im->b, shnames, sizeof(shnames));
	fbuf_fill(&im->b, 0, shoff - im->b.len);
	if (p.quirk & QE_NO_SHDRS)
		goto out;

	/* Section headers: null, .dynsym, .dynstr, .gnu.version,
	 * .gnu.version_r, .gnu.version_d, .dynamic, .shstrtab, and an
	 * unallocated section the symbols point into. */
	{
		struct {
			uint32_t name, type;
			uint64_t flags;
			size_t off, size;
			uint32_t link, info;
			uint64_t al, ent;
		} sh[9] = {
		    {0, 0, 0, 0, 0, 0, 0, 0, 0},
		    {1, SHT_DYNSYM, SHF_ALLOC, symoff, p.nsym * syment, 2, 1,
		     8, syment},
		    {9, SHT_STRTAB, SHF_ALLOC, stroff, p.str.b.len, 0, 0, 1, 0},
		    {17, SHT_GNU_versym, SHF_ALLOC, versymoff, p.nsym * 2, 1, 0,
		     2, 2},
		    {30, SHT_GNU_verneed, SHF_ALLOC, vnoff,
		     p.nvn * (16 + 2 * 16), 2, p.nvn, 4, 0},
		    {45, SHT_GNU_verdef, SHF_ALLOC, vdoff, p.nvd * 28, 2, p.nvd,
		     4, 0},
		    {60, SHT_DYNAMIC, SHF_ALLOC | SHF_WRITE, dynoff,
		     p.ndyn * dynent, 2, 0, 8, dynent},
		    {69, SHT_STRTAB, 0, shstroff, sizeof(shnames), 0, 0, 1, 0},
		    {0, SHT_PROGBITS, 0, shstroff, 0, 0, 0, 1, 0},
		};

		for (i = 0; i < 9; i++) {
			add(im, sh[i].name, 4);
			add(im, sh[i].type, 4);
			addw(im, sh[i].flags);
			addw(im, sh[i].flags & SHF_ALLOC ? p.base + sh[i].off
							 : 0);
			addw(im, sh[i].off);
			addw(im, sh[i].size);
			add(im, sh[i].link, 4);
			add(im, sh[i].info, 4);
			addw(im, sh[i].al);
			addw(im, sh[i].ent);
		}
	}
out:
	free(p.str.b.p);
}

#endif
