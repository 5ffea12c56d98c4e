/*
 * fuzz_elfgen.c - structure-aware libFuzzer harness for the ELF patcher
 * (worker/elf/patch, what repair does to every object it bundles or
 * edits).
 *
 * fuzz_elfpatch.c mutates the bytes of two real shared objects; nearly
 * every mutation that matters breaks a header, and the patcher stops in
 * the header checks (worker/elf/elffile.c) or read_dynamic().  This harness decodes its input
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
 *
 * The input and the result are also read as a list of imports
 * (worker/elf/imports.h, which the blacklist, PyFPE and show's reasons
 * stand on): an import's version and its library come together or not at
 * all, and when both images read, the patch changed no import but the
 * library of a renamed requirement.
 */
#include <gelf.h>
#include <libelf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz/elfgen.h"
#include "fuzz/fuzzin.h"
#include "worker/elf/imports.h"
#include "worker/elf/inspect.h"
#include "worker/elf/patch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

/* Reads the imports of the len bytes at p into l; 1 when they read.
 * Each import must have both a version and its library, or neither. */
static int imports_of(const void *p, size_t len, struct elf_imports *l)
{
	struct sp_err e;
	size_t i;

	if (elf_imports_mem(p, len, "imports.so", l, &e) < 0)
		return 0;
	for (i = 0; i < l->n; i++)
		if (!l->syms[i].name ||
		    !l->syms[i].version != !l->syms[i].file)
			fail("an import's version and library",
			     l->syms[i].version, l->syms[i].file);
	return 1;
}

/* The patch renames version requirements' files and nothing else that an
 * import says. */
static void check_imports(const struct elf_imports *a,
			  const struct elf_imports *b,
			  const struct elf_edit *ed)
{
	size_t i, j;

	if (a->n != b->n)
		fail("the number of imports", "changed", "kept");
	for (i = 0; i < a->n; i++) {
		const char *want = a->syms[i].file;

		if (!same(a->syms[i].name, b->syms[i].name) ||
		    !same(a->syms[i].version, b->syms[i].version))
			fail("an import", b->syms[i].name, a->syms[i].name);
		for (j = 0; want && j < ed->nreplace &&
			    !listed(want, ed->remove_needed, ed->nremove);
		     j++)
			if (strcmp(want, ed->replace_old[j]) == 0) {
				want = ed->replace_new[j];
				break;
			}
		if (!same(b->syms[i].file, want))
			fail("an import's library", b->syms[i].file, want);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = {data, size};
	struct img im = {0};
	struct edits x;
	struct elf_info a = {0}, b = {0};
	struct elf_imports ia = {0}, ib = {0};
	struct sp_err e;
	void *out = NULL;
	size_t outlen = 0;
	unsigned quirk;
	int have_a;

	elf_version(EV_CURRENT);
	decode_edits(&in, &x);
	elfgen_build(&in, &im, &quirk);
	keep(&im, "in.so");
	have_a = elf_inspect_mem(im.b.p, im.b.len, "in.so", &a, &e) == 0;
	imports_of(im.b.p, im.b.len, &ia);
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
		if (imports_of(out, outlen, &ib) && ia.syms)
			check_imports(&ia, &ib, &x.ed);
		elf_imports_release(&ib);
		keep(&(struct img){{out, outlen, outlen}, 0, 0}, "out.so");
		if (have_a)
			elf_info_release(&b);
		free(out);
	}
	if (have_a)
		elf_info_release(&a);
	elf_imports_release(&ia);
	free(im.b.p);
	return 0;
}
