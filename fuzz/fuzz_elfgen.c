/*
 * fuzz_elfgen.c - structure-aware libFuzzer harness for the ELF patcher
 * (worker/elf_patch, what repair does to every object it bundles or
 * edits).
 *
 * fuzz_elfpatch.c mutates the bytes of two real shared objects; nearly
 * every mutation that matters breaks a header, and the patcher stops in
 * check_header() or read_dynamic().  This harness decodes its input
 * (fuzzin.h) into a shared object instead and writes it out itself, so
 * that what varies is what the patcher has to plan around:
 *
 *   - the header: ELFCLASS32 or 64, this machine's byte order or the other,
 *     this machine or another one, ET_DYN or another type;
 *   - the program headers: PT_PHDR, one or two PT_LOADs, PT_DYNAMIC,
 *     PT_GNU_STACK, PT_GNU_RELRO, PT_NOTE, in an order and number chosen;
 *   - .dynstr: strings from a dictionary of library names, run paths,
 *     version and symbol names (or bytes from the input), and references to
 *     them that may point into the middle of another string (tail sharing,
 *     as linkers do);
 *   - .dynamic: DT_NEEDED, DT_SONAME, DT_RPATH / DT_RUNPATH, the table
 *     addresses, the version counts, other tags, spare DT_NULL slots;
 *   - .dynsym, .gnu.version, .gnu.version_r (files and their version
 *     names) and .gnu.version_d, all referring to .dynstr;
 *   - section headers or none, and (only when a quirk bit says so) a lie:
 *     a DT_STRSZ too large, no DT_NULL, a dynamic segment past the end.
 *
 * The edits (set the run path, force DT_RPATH, set the soname, rename,
 * add and remove DT_NEEDED entries) are decoded too, and applied with
 * elf_patch_mem().  When the patch succeeds the result must read back:
 * libelf opens it and every section's data loads, elf_inspect_mem() reads
 * it, its DT_NEEDED list is the input's with the edits applied, its run
 * path and soname are the ones asked for (or unchanged), and every name
 * that .dynsym, .gnu.version_r and .gnu.version_d give is the same string
 * as before, except the version requirement files that were renamed.
 */
#include <gelf.h>
#include <libelf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzzin.h"
#include "worker/elf.h"
#include "worker/elf_patch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

/* Names the edits use: some of them are in dict, some are not. */
static const char *const edit_names[] = {
    "libc.so.6",      "libfoo.so.1",	      "libz.so.1",
    "libm.so.6",      "libfoo-0123abcd.so.1", "libnew-89abcdef.so.3",
    "c.so.6",	      "libbar.so.2",	      "",
    "libextremely-long-name-that-will-not-fit-in-the-old-slot.so.1"};
#define NEDIT (sizeof(edit_names) / sizeof(edit_names[0]))

static const char *const rpaths[] = {
    "$ORIGIN/../fuzz.libs", "$ORIGIN", "", "/usr/lib",
    "$ORIGIN/../a-rather-long-directory-name/that/will/not/fit/in/place"};

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

static void build(struct fin *in, struct img *im, unsigned *quirk)
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
	symoff = (phoff + nph * phsz + 7) & ~(size_t)7;
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

/* ---- the edits and what must hold after them ---- */

struct edits {
	struct elf_edit ed;
	const char *old[3], *new[3], *add[3], *rm[3];
};

static void decode_edits(struct fin *in, struct edits *x)
{
	unsigned k = fin_u8(in), i, n;

	memset(x, 0, sizeof(*x));
	/* The ordinary edit is repair's: a run path, and a renamed
	 * libc.so.6 (as when a library is bundled under a hashed name). */
	if (!(k & 1))
		x->ed.set_rpath = rpaths[fin_pick(in, 5)];
	x->ed.force_rpath = (k >> 1) & 1;
	if (k & 4)
		x->ed.set_soname = edit_names[fin_pick(in, NEDIT)];
	n = k & 8 ? fin_pick(in, 4) : 1;
	for (i = 0; i < n; i++) {
		x->old[i] = i || fin_u8(in) ? edit_names[fin_pick(in, NEDIT)]
					    : "libc.so.6";
		x->new[i] = edit_names[(fin_pick(in, NEDIT) + 5) % NEDIT];
	}
	x->ed.replace_old = x->old;
	x->ed.replace_new = x->new;
	x->ed.nreplace = n;
	n = k & 16 ? 1 + fin_pick(in, 3) : 0;
	for (i = 0; i < n; i++)
		x->add[i] = edit_names[fin_pick(in, NEDIT)];
	x->ed.add_needed = x->add;
	x->ed.nadd = n;
	n = k & 32 ? 1 + fin_pick(in, 3) : 0;
	for (i = 0; i < n; i++)
		x->rm[i] = edit_names[fin_pick(in, NEDIT)];
	x->ed.remove_needed = x->rm;
	x->ed.nremove = n;
}

static void fail(const char *what, const char *a, const char *b)
{
	fprintf(stderr, "elfgen: %s: '%s' where '%s' was expected\n", what,
		a ? a : "(none)", b ? b : "(none)");
	abort();
}

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int listed(const char *s, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, v[i]) == 0)
			return 1;
	return 0;
}

/* The DT_NEEDED list after the edits, from the one before: removals,
 * then renames, then the additions not already needed, in front. */
static void check_needed(const struct elf_info *a, const struct elf_info *b,
			 const struct elf_edit *ed)
{
	const char *want[32];
	size_t n = 0, i, j, nadd = 0;

	for (i = 0; i < a->nneeded && n < 32; i++) {
		const char *s = a->needed[i];

		if (listed(s, ed->remove_needed, ed->nremove))
			continue;
		for (j = 0; j < ed->nreplace; j++)
			if (strcmp(s, ed->replace_old[j]) == 0) {
				s = ed->replace_new[j];
				break;
			}
		want[n++] = s;
	}
	for (i = 0; i < ed->nadd; i++)
		if (!listed(ed->add_needed[i], want, n) &&
		    !listed(ed->add_needed[i], ed->add_needed, i))
			nadd++;
	if (b->nneeded != n + nadd) {
		fprintf(stderr, "elfgen: %zu DT_NEEDED entries, not %zu\n",
			b->nneeded, n + nadd);
		abort();
	}
	for (i = 0; i < n; i++)
		if (strcmp(b->needed[nadd + i], want[i]) != 0)
			fail("DT_NEEDED", b->needed[nadd + i], want[i]);
	for (i = 0; i < nadd; i++)
		if (!listed(b->needed[i], ed->add_needed, ed->nadd))
			fail("added DT_NEEDED", b->needed[i], "an added name");
}

/* Every name .dynsym, .gnu.version_r and .gnu.version_d give, in file
 * order; vn_file names marked (a rename may change them).  Returns how
 * many, or -1 when libelf cannot read the tables. */
static long names_of(Elf *elf, const char **out, int *is_file, size_t max)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	size_t n = 0;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;
		size_t i, off;

		if (!gelf_getshdr(scn, &sh))
			return -1;
		if (sh.sh_type != SHT_DYNSYM && sh.sh_type != SHT_GNU_verneed &&
		    sh.sh_type != SHT_GNU_verdef)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d)
			return -1;
		if (sh.sh_type == SHT_DYNSYM) {
			GElf_Sym sym;

			for (i = 0; gelf_getsym(d, (int)i, &sym) && n < max;
			     i++) {
				is_file[n] = 0;
				out[n++] = elf_strptr(elf, sh.sh_link,
						      sym.st_name);
			}
		} else if (sh.sh_type == SHT_GNU_verneed) {
			GElf_Verneed vn;
			GElf_Vernaux va;

			for (i = 0, off = 0;
			     i < sh.sh_info && gelf_getverneed(d, (int)off, &vn);
			     i++) {
				size_t a, aoff = off + vn.vn_aux;

				if (n < max) {
					is_file[n] = 1;
					out[n++] = elf_strptr(elf, sh.sh_link,
							      vn.vn_file);
				}
				for (a = 0; a < vn.vn_cnt && n < max &&
					    gelf_getvernaux(d, (int)aoff, &va);
				     a++) {
					is_file[n] = 0;
					out[n++] = elf_strptr(
					    elf, sh.sh_link, va.vna_name);
					if (!va.vna_next)
						break;
					aoff += va.vna_next;
				}
				if (!vn.vn_next)
					break;
				off += vn.vn_next;
			}
		} else {
			GElf_Verdef vd;
			GElf_Verdaux va;

			for (i = 0, off = 0;
			     i < sh.sh_info && gelf_getverdef(d, (int)off, &vd);
			     i++) {
				if (n < max &&
				    gelf_getverdaux(d, (int)(off + vd.vd_aux),
						    &va)) {
					is_file[n] = 0;
					out[n++] = elf_strptr(
					    elf, sh.sh_link, va.vda_name);
				}
				if (!vd.vd_next)
					break;
				off += vd.vd_next;
			}
		}
	}
	return (long)n;
}

/* The patched image must open in libelf with every section's data
 * readable, and name what the input named. */
static void check_names(const struct img *im, const void *out, size_t outlen,
			const struct elf_edit *ed)
{
	const char *a[64], *b[64];
	int fa[64], fb[64];
	Elf *ea = elf_memory((char *)im->b.p, im->b.len);
	Elf *eb = elf_memory((char *)out, outlen);
	Elf_Scn *scn = NULL;
	long na, nb, i;
	size_t j;

	if (!eb)
		fail("libelf cannot open the result", elf_errmsg(-1), "");
	while ((scn = elf_nextscn(eb, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			fail("a section header", elf_errmsg(-1), "");
		if (sh.sh_type != SHT_NOBITS && sh.sh_type != SHT_NULL &&
		    !elf_getdata(scn, NULL))
			fail("a section's data", elf_errmsg(-1), "");
	}
	na = ea ? names_of(ea, a, fa, 64) : -1;
	nb = names_of(eb, b, fb, 64);
	if (na >= 0) {
		if (nb != na) {
			fprintf(stderr, "elfgen: %ld names, not %ld\n", nb, na);
			abort();
		}
		for (i = 0; i < na; i++) {
			const char *want = a[i];

			/* A file's requirement is renamed with it, unless
			 * the file's DT_NEEDED is being removed. */
			for (j = 0; fa[i] && want && j < ed->nreplace &&
				    !listed(want, ed->remove_needed,
					    ed->nremove);
			     j++)
				if (strcmp(want, ed->replace_old[j]) == 0) {
					want = ed->replace_new[j];
					break;
				}
			if (!same(b[i], want))
				fail(fa[i] ? "a version requirement's file"
					   : "a symbol or version name",
				     b[i], want);
		}
	}
	if (ea)
		elf_end(ea);
	elf_end(eb);
}

/* SPOKE_FUZZ_KEEP=DIR keeps each object built, and its patched copy, in
 * DIR/<n>/, to be looked at with readelf (see docs/security.md). */
static void keep(const struct img *im, const char *name)
{
	static unsigned count;
	const char *to = getenv("SPOKE_FUZZ_KEEP");
	char dst[512];
	FILE *f;

	if (!to)
		return;
	if (strcmp(name, "in.so") == 0)
		count++;
	snprintf(dst, sizeof(dst), "%s/%u", to, count);
	mkdir(dst, 0700);
	snprintf(dst, sizeof(dst), "%s/%u/%s", to, count, name);
	f = fopen(dst, "wbx");
	if (!f)
		return;
	fwrite(im->b.p, 1, im->b.len, f);
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = {data, size};
	struct img im = {0};
	struct edits x;
	struct elf_info a = {0}, b = {0};
	struct sp_err e;
	void *out = NULL;
	size_t outlen = 0;
	unsigned quirk;
	int have_a;

	elf_version(EV_CURRENT);
	decode_edits(&in, &x);
	build(&in, &im, &quirk);
	keep(&im, "in.so");
	have_a = elf_inspect_mem(im.b.p, im.b.len, "in.so", &a, &e) == 0;
	if (elf_patch_mem(im.b.p, im.b.len, "in.so", &x.ed, &out, &outlen,
			  &e) == 0) {
		/* elf_inspect_mem() reads this machine's own class only
		 * (the patcher also takes its 32-bit companion). */
		if (have_a && elf_inspect_mem(out, outlen, "out.so", &b, &e) < 0)
			fail("the result does not read back", e.msg, "");
		if (have_a) {
			check_needed(&a, &b, &x.ed);
			if (x.ed.set_rpath) {
				const char *want = x.ed.set_rpath;

				if (!same(x.ed.force_rpath ? b.rpath
							   : b.runpath,
					  want) ||
				    (x.ed.force_rpath ? b.runpath : b.rpath))
					fail("the run path",
					     x.ed.force_rpath ? b.rpath
							      : b.runpath,
					     want);
			} else if (!same(a.rpath, b.rpath) ||
				   !same(a.runpath, b.runpath)) {
				fail("an unchanged run path", b.runpath,
				     a.runpath);
			}
			if (!same(b.soname,
				  x.ed.set_soname ? x.ed.set_soname : a.soname))
				fail("the soname", b.soname,
				     x.ed.set_soname ? x.ed.set_soname
						     : a.soname);
		}
		check_names(&im, out, outlen, &x.ed);
		keep(&(struct img){{out, outlen, outlen}, 0, 0}, "out.so");
		if (have_a)
			elf_info_release(&b);
		free(out);
	}
	if (have_a)
		elf_info_release(&a);
	free(im.b.p);
	return 0;
}
