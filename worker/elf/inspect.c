#include "worker/elf/inspect.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/path.h"
#include "worker/elf/elffile.h"
#include "worker/elf/machine.h"

/* What the dynamic section says: its entries up to DT_NULL (dyn, from
 * elf_file_dynamic; the DT_NEEDED ones are read from there in file order)
 * and the rest as string-table offsets. */
struct dyn_refs {
	GElf_Dyn *dyn;
	size_t ndyn;
	size_t nneeded;
	int has_soname, has_rpath, has_runpath;
	uint64_t soname, rpath, runpath;
	uint64_t strtab, strsz, flags_1;
	int has_strtab, has_strsz;
};

/* Reads the dynamic section of dph up to its DT_NULL (or its end). */
static int read_dynamic(const struct elf_file *f, const GElf_Phdr *dph,
			struct dyn_refs *r, struct sp_err *e)
{
	size_t cap, i;
	const GElf_Dyn *d;

	if (elf_file_dynamic(f, dph, &r->dyn, &r->ndyn, &cap, e) < 0)
		return -1;
	for (i = 0; i < r->ndyn; i++) {
		d = &r->dyn[i];
		switch (d->d_tag) {
		case DT_NEEDED:
			r->nneeded++;
			break;
		case DT_SONAME:
			if (!r->has_soname)
				r->soname = d->d_un.d_val;
			r->has_soname = 1;
			break;
		case DT_RPATH:
			if (!r->has_rpath)
				r->rpath = d->d_un.d_val;
			r->has_rpath = 1;
			break;
		case DT_RUNPATH:
			if (!r->has_runpath)
				r->runpath = d->d_un.d_val;
			r->has_runpath = 1;
			break;
		case DT_STRTAB:
			r->strtab = d->d_un.d_ptr;
			r->has_strtab = 1;
			break;
		case DT_STRSZ:
			r->strsz = d->d_un.d_val;
			r->has_strsz = 1;
			break;
		case DT_FLAGS_1:
			r->flags_1 = d->d_un.d_val;
			break;
		default:
			break;
		}
	}
	return 0;
}

/* Copies the string at off of the dynamic string table, which must end
 * inside the table. */
static char *dyn_string(const struct elf_file *f, const Elf_Data *strs,
			uint64_t off, struct sp_err *e)
{
	const char *base = strs->d_buf;
	char *s;

	if (off >= strs->d_size ||
	    !memchr(base + off, '\0', strs->d_size - (size_t)off)) {
		elf_file_corrupt(f, "a dynamic string lies outside its table",
				 e);
		return NULL;
	}
	s = strdup(base + off);
	if (!s)
		sp_err_set(e, "out of memory");
	return s;
}

static int fill_strings(const struct elf_file *f, const GElf_Phdr *ph,
			size_t nph, const struct dyn_refs *r,
			struct elf_info *out, struct sp_err *e)
{
	Elf_Data *strs;
	uint64_t off;
	size_t i;

	if (!r->nneeded && !r->has_soname && !r->has_rpath && !r->has_runpath)
		return 0;
	if (!r->has_strtab || !r->has_strsz)
		return elf_file_corrupt(
		    f, "the dynamic string table is missing", e);
	if (elf_file_vaddr_to_off(f, ph, nph, r->strtab, r->strsz, &off) < 0)
		return elf_file_corrupt(
		    f, "the dynamic string table lies outside the file", e);
	strs = elf_file_chunk(f, off, r->strsz, ELF_T_BYTE,
			      "dynamic string table", e);
	if (!strs)
		return -1;
	out->needed = calloc(r->nneeded ? r->nneeded : 1, sizeof(char *));
	if (!out->needed)
		return sp_err_set(e, "out of memory");
	for (i = 0; i < r->ndyn; i++) {
		if (r->dyn[i].d_tag != DT_NEEDED)
			continue;
		out->needed[out->nneeded] =
		    dyn_string(f, strs, r->dyn[i].d_un.d_val, e);
		if (!out->needed[out->nneeded])
			return -1;
		out->nneeded++;
	}
	if (r->has_soname && !(out->soname = dyn_string(f, strs, r->soname, e)))
		return -1;
	if (r->has_rpath && !(out->rpath = dyn_string(f, strs, r->rpath, e)))
		return -1;
	if (r->has_runpath &&
	    !(out->runpath = dyn_string(f, strs, r->runpath, e)))
		return -1;
	return 0;
}

/* Reads PT_INTERP's path, which must end inside its segment. */
static int read_interp(const struct elf_file *f, const GElf_Phdr *iph,
		       struct elf_info *out, struct sp_err *e)
{
	Elf_Data *d;
	const char *s;

	if (!iph->p_filesz)
		return elf_file_corrupt(f, "the interpreter path is empty", e);
	d = elf_file_chunk(f, iph->p_offset, iph->p_filesz, ELF_T_BYTE,
			   "interpreter path", e);
	if (!d)
		return -1;
	s = d->d_buf;
	if (!memchr(s, '\0', d->d_size))
		return elf_file_corrupt(
		    f, "the interpreter path does not end in its segment", e);
	out->interp = strdup(s);
	if (!out->interp)
		return sp_err_set(e, "out of memory");
	return 0;
}

/* What the ELF header of f says (a checked one: elf_file_check_ident). */
static void header_ident(const struct elf_file *f, struct elf_ident *out)
{
	out->elfclass = f->ehdr.e_ident[EI_CLASS];
	out->data = f->ehdr.e_ident[EI_DATA];
	out->machine = f->ehdr.e_machine;
	out->type = f->ehdr.e_type;
	out->flags = f->ehdr.e_flags;
	out->arch = elf_arch_name(out->machine, out->elfclass, out->data,
				  out->flags);
}

static int open_either(struct elf_file *f, int fd, const void *mem, size_t len,
		       const char *name, struct sp_err *e)
{
	if (fd < 0)
		return elf_file_open_mem(f, mem, len, name, e);
	return elf_file_open_fd(f, fd, name, e);
}

/* Inspects a shared library, or with object any loadable object: an
 * executable (ET_EXEC or a PIE) too, and one without a dynamic section (a
 * static executable), which needs nothing. */
static int inspect(int fd, const void *mem, size_t len, const char *name,
		   int object, struct elf_info *out, struct sp_err *e)
{
	struct elf_file f;
	struct dyn_refs r = {0};
	GElf_Phdr *ph = NULL;
	const GElf_Phdr *dph = NULL, *iph = NULL;
	size_t nph, i;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (open_either(&f, fd, mem, len, name, e) < 0)
		return -1;
	/* elf_file_check_type takes ET_DYN only, and names what else the
	 * file is (an object file, a core dump) when it refuses it. */
	if ((!object || f.ehdr.e_type != ET_EXEC) &&
	    elf_file_check_type(&f, e) < 0)
		goto out;
	if (elf_file_check_ident(&f, e) < 0 ||
	    elf_file_phdrs(&f, 0, &ph, &nph, e) < 0)
		goto out;
	for (i = 0; i < nph; i++) {
		if (ph[i].p_type == PT_DYNAMIC && !dph)
			dph = &ph[i];
		if (ph[i].p_type == PT_INTERP && !iph)
			iph = &ph[i];
	}
	if (!dph && object)
		goto done;
	if (!dph) {
		sp_err_set(
		    e,
		    "'%s' has no dynamic section: it is not a shared library",
		    name);
		goto out;
	}
	if (read_dynamic(&f, dph, &r, e) < 0)
		goto out;
	/* A PIE is ET_DYN like a library; only this flag tells them apart. */
	if ((r.flags_1 & DF_1_PIE) && !object) {
		sp_err_set(e, "'%s' is an executable, not a shared library",
			   name);
		goto out;
	}
	if (fill_strings(&f, ph, nph, &r, out, e) < 0)
		goto out;
done:
	if (iph && read_interp(&f, iph, out, e) < 0)
		goto out;
	header_ident(&f, &out->id);
	out->id.pie = out->id.type == ET_DYN && (r.flags_1 & DF_1_PIE) != 0;
	rc = 0;
out:
	if (rc < 0)
		elf_info_release(out);
	free(r.dyn);
	free(ph);
	elf_file_close(&f);
	return rc;
}

int elf_ident_fd(int fd, const char *name, struct elf_ident *out,
		 struct sp_err *e)
{
	struct elf_file f;
	struct dyn_refs r = {0};
	GElf_Phdr *ph = NULL;
	size_t nph, i;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (elf_file_open_fd(&f, fd, name, e) < 0)
		return -1;
	if (elf_file_check_ident(&f, e) < 0)
		goto out;
	header_ident(&f, out);
	/* Only a PIE's dynamic section tells it from a library. */
	if (out->type == ET_DYN) {
		if (elf_file_phdrs(&f, 0, &ph, &nph, e) < 0)
			goto out;
		for (i = 0; i < nph; i++) {
			if (ph[i].p_type != PT_DYNAMIC)
				continue;
			if (!ph[i].p_filesz)
				out->debug_only = 1;
			else if (read_dynamic(&f, &ph[i], &r, e) < 0)
				goto out;
			break;
		}
		out->pie = (r.flags_1 & DF_1_PIE) != 0;
	}
	rc = 0;
out:
	free(r.dyn);
	free(ph);
	elf_file_close(&f);
	return rc;
}

const char *elf_ident_label(const struct elf_ident *id, char *buf,
			    size_t len)
{
	if (id->arch)
		return id->arch;
	snprintf(buf, len, "ELF machine %u", (unsigned)id->machine);
	return buf;
}

int elf_inspect_fd(int fd, const char *name, struct elf_info *out,
		   struct sp_err *e)
{
	return inspect(fd, NULL, 0, name, 0, out, e);
}

int elf_inspect_object_fd(int fd, const char *name, struct elf_info *out,
			  struct sp_err *e)
{
	return inspect(fd, NULL, 0, name, 1, out, e);
}

int elf_inspect_mem(const void *p, size_t len, const char *name,
		    struct elf_info *out, struct sp_err *e)
{
	return inspect(-1, p, len, name, 0, out, e);
}

int elf_inspect(const char *path, struct elf_info *out, struct sp_err *e)
{
	int fd, rc;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sp_err_sys(e, "cannot open '%s'", path);
	rc = elf_inspect_fd(fd, path, out, e);
	close(fd);
	return rc;
}

void elf_info_release(struct elf_info *info)
{
	size_t i;

	for (i = 0; i < info->nneeded; i++)
		free(info->needed[i]);
	free(info->needed);
	free(info->soname);
	free(info->rpath);
	free(info->runpath);
	free(info->interp);
	memset(info, 0, sizeof(*info));
}

int elf_is_loader(const char *soname)
{
	const char *b = path_basename(soname);

	return strncmp(b, "ld-linux", 8) == 0 || strcmp(b, "ld64.so.1") == 0 ||
	       strcmp(b, "ld64.so.2") == 0 || strncmp(b, "ld-musl-", 8) == 0;
}

enum elf_libc elf_info_libc(const struct elf_info *info)
{
	const char *n;
	size_t i, len;

	if (info->interp && elf_is_loader(info->interp))
		return strncmp(path_basename(info->interp), "ld-musl-", 8) == 0
			   ? ELF_LIBC_MUSL
			   : ELF_LIBC_GLIBC;
	for (i = 0; i < info->nneeded; i++) {
		n = info->needed[i];
		len = strlen(n);
		/* libc.musl-<arch>.so.1, as Alpine and other musl
		 * distributions name it. */
		if ((strncmp(n, "libc.musl-", 10) == 0 && len > 15 &&
		     strcmp(n + len - 5, ".so.1") == 0) ||
		    strncmp(n, "ld-musl-", 8) == 0)
			return ELF_LIBC_MUSL;
	}
	for (i = 0; i < info->nneeded; i++)
		if (strcmp(info->needed[i], "libc.so.6") == 0)
			return ELF_LIBC_GLIBC;
	return ELF_LIBC_UNKNOWN;
}

int elf_info_check_host(const struct elf_info *info, const char *name,
			struct sp_err *e)
{
	return elf_machine_check_host(info->id.machine, info->id.elfclass,
				      info->id.data, name, e);
}

/* 1 when sym is a definition another object can bind to. */
static int sym_exported(const GElf_Sym *sym)
{
	int bind = GELF_ST_BIND(sym->st_info);
	int type = GELF_ST_TYPE(sym->st_info);
	int vis = GELF_ST_VISIBILITY(sym->st_other);

	if (sym->st_shndx == SHN_UNDEF)
		return 0;
	if (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE)
		return 0;
	if (type != STT_FUNC && type != STT_OBJECT && type != STT_GNU_IFUNC)
		return 0;
	return vis == STV_DEFAULT || vis == STV_PROTECTED;
}

/* Searches one dynamic symbol table for the names syms[0..*best): *best
 * is the lowest index found so far (the count of syms when none), lowered
 * to what this table defines.  Returns 0, or -1 with e filled. */
static int scan_dynsym(const struct elf_file *f, Elf_Scn *scn,
		       const GElf_Shdr *sh, const char *const *syms,
		       size_t *best, struct sp_err *e)
{
	size_t esz = gelf_fsize(f->elf, ELF_T_SYM, 1, EV_CURRENT);
	const char *name;
	Elf_Data *d;
	GElf_Sym sym;
	size_t nsym, i, k;

	if (!esz || sh->sh_entsize != esz)
		return elf_file_corrupt(f, "bad dynamic symbol entry size", e);
	if (!elf_file_contains(f, sh->sh_offset, sh->sh_size))
		return elf_file_corrupt(
		    f, "the dynamic symbol table lies outside the file", e);
	if (f->on_fd)
		errno = 0; /* see elf_lib_fail */
	d = elf_getdata(scn, NULL);
	if (!d)
		return elf_file_fail(f, e);
	nsym = d->d_size / esz;
	for (i = 0; i < nsym && *best > 0; i++) {
		if (!gelf_getsym(d, (int)i, &sym))
			return elf_file_fail(f, e);
		if (!sym_exported(&sym))
			continue;
		/* elf_strptr checks the index against its section and that
		 * the string ends inside it.  A bad index is one symbol
		 * skipped; a string table the disk failed to give must not
		 * read as "not exported" (elf_lib_fail). */
		name = elf_strptr(f->elf, sh->sh_link, sym.st_name);
		if (!name && f->on_fd && errno)
			return elf_file_fail(f, e);
		for (k = 0; name && k < *best; k++)
			if (strcmp(name, syms[k]) == 0)
				*best = k;
	}
	return 0;
}

static int exports(int fd, const void *mem, size_t len, const char *name,
		   const char *const *syms, size_t n, size_t *which,
		   struct sp_err *e)
{
	struct elf_file f;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	size_t best = n;
	int found = 0, rc = 0, more;

	if (open_either(&f, fd, mem, len, name, e) < 0)
		return -1;
	/* Every dynamic symbol table is searched; a corrupt section table
	 * must not read as "no such symbol". */
	while (rc == 0 && best > 0 &&
	       (more = elf_file_next_section(&f, SHT_DYNSYM, &scn, &sh, e))) {
		if (more < 0) {
			rc = -1;
			break;
		}
		found = 1;
		rc = scan_dynsym(&f, scn, &sh, syms, &best, e);
	}
	if (rc == 0 && !found)
		rc = sp_err_set(e, "'%s' has no dynamic symbol table", name);
	elf_file_close(&f);
	if (rc < 0)
		return -1;
	*which = best;
	return best < n;
}

int elf_exports_which_fd(int fd, const char *name, const char *const *syms,
			 size_t n, size_t *which, struct sp_err *e)
{
	return exports(fd, NULL, 0, name, syms, n, which, e);
}

int elf_exports_which_mem(const void *p, size_t len, const char *name,
			  const char *const *syms, size_t n, size_t *which,
			  struct sp_err *e)
{
	return exports(-1, p, len, name, syms, n, which, e);
}

int elf_exports_fd(int fd, const char *name, const char *symbol,
		   struct sp_err *e)
{
	size_t which;

	return exports(fd, NULL, 0, name, &symbol, 1, &which, e);
}

int elf_exports_mem(const void *p, size_t len, const char *name,
		    const char *symbol, struct sp_err *e)
{
	size_t which;

	return exports(-1, p, len, name, &symbol, 1, &which, e);
}

int elf_exports(const char *path, const char *symbol, struct sp_err *e)
{
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sp_err_sys(e, "cannot open '%s'", path);
	rc = elf_exports_fd(fd, path, symbol, e);
	close(fd);
	return rc;
}
