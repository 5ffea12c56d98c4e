#include "worker/elf/inspect.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "worker/elf/machine.h"

/* An open ELF file: the descriptor is the caller's, the Elf handle ours. */
struct elf_file {
	Elf *elf;
	const char *name;
	uint64_t size;
	int on_fd; /* libelf reads the file with pread(): see elf_lib_fail */
	GElf_Ehdr ehdr;
};

static int corrupt(const struct elf_file *f, const char *why, struct sp_err *e)
{
	return sp_err_set(e, "'%s' is truncated or corrupt: %s", f->name, why);
}

int elf_lib_fail(const char *name, int on_fd, struct sp_err *e)
{
	int err = errno;

	if (on_fd && err)
		return sp_err_set(e, "cannot read '%s': %s", name,
				  strerror(err));
	return sp_err_set(e, "'%s' is truncated or corrupt: %s", name,
			  elf_errmsg(-1));
}

static int elf_fail(const struct elf_file *f, struct sp_err *e)
{
	return elf_lib_fail(f->name, f->on_fd, e);
}

/* Opens the ELF handle on fd, or, when fd is -1, on the len bytes at mem
 * (NULL for an empty file), and checks that it is an ELF file at all. */
static int elf_file_open(struct elf_file *f, int fd, const void *mem,
			 size_t len, const char *name, struct sp_err *e)
{
	/* elf_memory() refuses a NULL image; an empty one is not ELF. */
	static const char empty;
	struct stat st;

	memset(f, 0, sizeof(*f));
	f->name = name;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return sp_err_set(e, "libelf is unusable: %s", elf_errmsg(-1));
	if (fd < 0) {
		/* elf_memory() takes a non-const image because elf_update()
		 * could write it; nothing here updates. */
		f->size = len;
		f->elf =
		    elf_memory((char *)(uintptr_t)(mem ? mem : &empty), len);
	} else {
		if (fstat(fd, &st) < 0)
			return sp_err_sys(e, "cannot stat '%s'", name);
		if (!S_ISREG(st.st_mode))
			return sp_err_set(e, "'%s' is not a regular file",
					  name);
		f->size = (uint64_t)st.st_size;
		/* ELF_C_READ reads with pread() as needed, so the file may
		 * shrink under us without a SIGBUS; libelf then reports a
		 * short read. */
		f->on_fd = 1;
		errno = 0;
		f->elf = elf_begin(fd, ELF_C_READ, NULL);
	}
	if (!f->elf)
		return sp_err_set(e, "cannot read '%s': %s", name,
				  f->on_fd && errno ? strerror(errno)
						    : elf_errmsg(-1));
	switch (elf_kind(f->elf)) {
	case ELF_K_ELF:
		break;
	case ELF_K_AR:
		sp_err_set(e, "'%s' is a static archive, not a shared library",
			   name);
		goto fail;
	default:
		sp_err_set(e, "'%s' is not an ELF file", name);
		goto fail;
	}
	if (!gelf_getehdr(f->elf, &f->ehdr)) {
		elf_fail(f, e);
		goto fail;
	}
	return 0;
fail:
	elf_end(f->elf);
	f->elf = NULL;
	return -1;
}

static void elf_file_close(struct elf_file *f)
{
	elf_end(f->elf);
	f->elf = NULL;
}

/* Checks the header: a shared object for this machine. */
static int check_header(const struct elf_file *f, struct sp_err *e)
{
	const GElf_Ehdr *h = &f->ehdr;
	int cls = h->e_ident[EI_CLASS];

	switch (h->e_type) {
	case ET_DYN:
		break;
	case ET_EXEC:
		return sp_err_set(
		    e, "'%s' is an executable, not a shared library", f->name);
	case ET_REL:
		return sp_err_set(
		    e, "'%s' is an object file (.o), not a shared library",
		    f->name);
	case ET_CORE:
		return sp_err_set(
		    e, "'%s' is a core dump, not a shared library", f->name);
	default:
		return sp_err_set(e, "'%s' has unknown ELF type %u", f->name,
				  (unsigned)h->e_type);
	}
	if (cls != elf_machine_host_class())
		return sp_err_set(
		    e, "'%s' is a %s ELF file; this machine needs %s", f->name,
		    cls == ELFCLASS32 ? "32-bit" : "64-bit",
		    elf_machine_host_class() == ELFCLASS64 ? "64-bit"
							   : "32-bit");
	if (h->e_ident[EI_DATA] != elf_machine_host_data())
		return sp_err_set(
		    e, "'%s' has the wrong byte order for this machine",
		    f->name);
	return elf_machine_check(h->e_machine, elf_machine_host(cls), f->name,
				 e);
}

/* 1 when [off, off + len) lies inside the file. */
static int in_file(const struct elf_file *f, uint64_t off, uint64_t len)
{
	return off <= f->size && len <= f->size - off;
}

/* Maps a virtual address of the dynamic string table to a file offset,
 * through the PT_LOAD segment that holds all len bytes of it. */
static int vaddr_to_off(const struct elf_file *f, size_t nph, uint64_t addr,
			uint64_t len, uint64_t *off)
{
	GElf_Phdr ph;
	uint64_t delta;
	size_t i;

	for (i = 0; i < nph; i++) {
		if (!gelf_getphdr(f->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (addr < ph.p_vaddr)
			continue;
		delta = addr - ph.p_vaddr;
		if (delta >= ph.p_filesz || len > ph.p_filesz - delta)
			continue;
		if (ph.p_offset > UINT64_MAX - delta)
			return -1;
		*off = ph.p_offset + delta;
		return 0;
	}
	return -1;
}

/* What the dynamic section says, as string-table offsets. */
struct dyn_refs {
	uint64_t *needed;
	size_t nneeded;
	int has_soname, has_rpath, has_runpath;
	uint64_t soname, rpath, runpath;
	uint64_t strtab, strsz, flags_1;
	int has_strtab, has_strsz;
};

static int read_dynamic(const struct elf_file *f, const GElf_Phdr *dph,
			struct dyn_refs *r, struct sp_err *e)
{
	size_t dsz = gelf_fsize(f->elf, ELF_T_DYN, 1, EV_CURRENT);
	size_t n, i;
	Elf_Data *d;
	GElf_Dyn dyn;

	if (!dsz)
		return elf_fail(f, e);
	if (!in_file(f, dph->p_offset, dph->p_filesz))
		return corrupt(f, "the dynamic segment lies outside the file",
			       e);
	n = dph->p_filesz / dsz;
	if (!n)
		return corrupt(f, "the dynamic segment is empty", e);
	d = elf_getdata_rawchunk(f->elf, (int64_t)dph->p_offset, n * dsz,
				 ELF_T_DYN);
	if (!d)
		return elf_fail(f, e);
	/* n bounds the number of DT_NEEDED entries. */
	r->needed = calloc(n, sizeof(*r->needed));
	if (!r->needed)
		return sp_err_set(e, "out of memory");
	for (i = 0; i < n; i++) {
		if (!gelf_getdyn(d, (int)i, &dyn))
			return elf_fail(f, e);
		switch (dyn.d_tag) {
		case DT_NULL:
			return 0;
		case DT_NEEDED:
			r->needed[r->nneeded++] = dyn.d_un.d_val;
			break;
		case DT_SONAME:
			if (!r->has_soname)
				r->soname = dyn.d_un.d_val;
			r->has_soname = 1;
			break;
		case DT_RPATH:
			if (!r->has_rpath)
				r->rpath = dyn.d_un.d_val;
			r->has_rpath = 1;
			break;
		case DT_RUNPATH:
			if (!r->has_runpath)
				r->runpath = dyn.d_un.d_val;
			r->has_runpath = 1;
			break;
		case DT_STRTAB:
			r->strtab = dyn.d_un.d_ptr;
			r->has_strtab = 1;
			break;
		case DT_STRSZ:
			r->strsz = dyn.d_un.d_val;
			r->has_strsz = 1;
			break;
		case DT_FLAGS_1:
			r->flags_1 = dyn.d_un.d_val;
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
		corrupt(f, "a dynamic string lies outside its table", e);
		return NULL;
	}
	s = strdup(base + off);
	if (!s)
		sp_err_set(e, "out of memory");
	return s;
}

static int fill_strings(const struct elf_file *f, size_t nph,
			const struct dyn_refs *r, struct elf_info *out,
			struct sp_err *e)
{
	Elf_Data *strs;
	uint64_t off;
	size_t i;

	if (!r->nneeded && !r->has_soname && !r->has_rpath && !r->has_runpath)
		return 0;
	if (!r->has_strtab || !r->has_strsz)
		return corrupt(f, "the dynamic string table is missing", e);
	if (vaddr_to_off(f, nph, r->strtab, r->strsz, &off) < 0 ||
	    !in_file(f, off, r->strsz))
		return corrupt(
		    f, "the dynamic string table lies outside the file", e);
	strs = elf_getdata_rawchunk(f->elf, (int64_t)off, (size_t)r->strsz,
				    ELF_T_BYTE);
	if (!strs)
		return elf_fail(f, e);
	out->needed = calloc(r->nneeded ? r->nneeded : 1, sizeof(char *));
	if (!out->needed)
		return sp_err_set(e, "out of memory");
	for (i = 0; i < r->nneeded; i++) {
		out->needed[i] = dyn_string(f, strs, r->needed[i], e);
		if (!out->needed[i])
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

static int inspect(int fd, const void *mem, size_t len, const char *name,
		   struct elf_info *out, struct sp_err *e)
{
	struct elf_file f;
	struct dyn_refs r = {0};
	GElf_Phdr ph, dph = {0};
	size_t nph, i;
	int found = 0, rc = -1;

	memset(out, 0, sizeof(*out));
	if (elf_file_open(&f, fd, mem, len, name, e) < 0)
		return -1;
	if (check_header(&f, e) < 0)
		goto out;
	if (elf_getphdrnum(f.elf, &nph) < 0) {
		elf_fail(&f, e);
		goto out;
	}
	if (!nph ||
	    f.ehdr.e_phentsize != gelf_fsize(f.elf, ELF_T_PHDR, 1, EV_CURRENT) ||
	    !f.ehdr.e_phentsize || nph > (f.size / f.ehdr.e_phentsize) ||
	    !in_file(&f, f.ehdr.e_phoff, (uint64_t)nph * f.ehdr.e_phentsize)) {
		corrupt(&f, "the program headers lie outside the file", e);
		goto out;
	}
	for (i = 0; i < nph; i++) {
		if (!gelf_getphdr(f.elf, (int)i, &ph)) {
			elf_fail(&f, e);
			goto out;
		}
		if (ph.p_type == PT_DYNAMIC && !found) {
			dph = ph;
			found = 1;
		}
	}
	if (!found) {
		sp_err_set(
		    e,
		    "'%s' has no dynamic section: it is not a shared library",
		    name);
		goto out;
	}
	if (read_dynamic(&f, &dph, &r, e) < 0)
		goto out;
	/* A PIE is ET_DYN like a library; only this flag tells them apart. */
	if (r.flags_1 & DF_1_PIE) {
		sp_err_set(e, "'%s' is an executable, not a shared library",
			   name);
		goto out;
	}
	if (fill_strings(&f, nph, &r, out, e) < 0)
		goto out;
	out->elfclass = f.ehdr.e_ident[EI_CLASS];
	out->machine = f.ehdr.e_machine;
	rc = 0;
out:
	if (rc < 0)
		elf_info_release(out);
	free(r.needed);
	elf_file_close(&f);
	return rc;
}

int elf_inspect_fd(int fd, const char *name, struct elf_info *out,
		   struct sp_err *e)
{
	return inspect(fd, NULL, 0, name, out, e);
}

int elf_inspect_mem(const void *p, size_t len, const char *name,
		    struct elf_info *out, struct sp_err *e)
{
	return inspect(-1, p, len, name, out, e);
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
	memset(info, 0, sizeof(*info));
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

static int scan_dynsym(const struct elf_file *f, Elf_Scn *scn,
		       const GElf_Shdr *sh, const char *symbol,
		       struct sp_err *e)
{
	size_t esz = gelf_fsize(f->elf, ELF_T_SYM, 1, EV_CURRENT);
	const char *name;
	Elf_Data *d;
	GElf_Sym sym;
	size_t n, i;

	if (!esz || sh->sh_entsize != esz)
		return corrupt(f, "bad dynamic symbol entry size", e);
	if (!in_file(f, sh->sh_offset, sh->sh_size))
		return corrupt(
		    f, "the dynamic symbol table lies outside the file", e);
	d = elf_getdata(scn, NULL);
	if (!d)
		return elf_fail(f, e);
	n = d->d_size / esz;
	for (i = 0; i < n; i++) {
		if (!gelf_getsym(d, (int)i, &sym))
			return elf_fail(f, e);
		if (!sym_exported(&sym))
			continue;
		/* elf_strptr checks the index against its section and that
		 * the string ends inside it.  A bad index is one symbol
		 * skipped; a string table the disk failed to give must not
		 * read as "not exported" (elf_lib_fail). */
		name = elf_strptr(f->elf, sh->sh_link, sym.st_name);
		if (!name && f->on_fd && errno)
			return elf_fail(f, e);
		if (name && strcmp(name, symbol) == 0)
			return 1;
	}
	return 0;
}

static int exports(int fd, const void *mem, size_t len, const char *name,
		   const char *symbol, struct sp_err *e)
{
	struct elf_file f;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	size_t nsh;
	int found = 0, rc = 0;

	if (elf_file_open(&f, fd, mem, len, name, e) < 0)
		return -1;
	/* A corrupt section table must not read as "no such symbol". */
	if (elf_getshdrnum(f.elf, &nsh) < 0)
		rc = elf_fail(&f, e);
	while (rc == 0 && (scn = elf_nextscn(f.elf, scn))) {
		if (!gelf_getshdr(scn, &sh)) {
			rc = elf_fail(&f, e);
			break;
		}
		if (sh.sh_type != SHT_DYNSYM)
			continue;
		found = 1;
		rc = scan_dynsym(&f, scn, &sh, symbol, e);
	}
	if (rc == 0 && !found)
		rc = sp_err_set(e, "'%s' has no dynamic symbol table", name);
	elf_file_close(&f);
	return rc;
}

int elf_exports_fd(int fd, const char *name, const char *symbol,
		   struct sp_err *e)
{
	return exports(fd, NULL, 0, name, symbol, e);
}

int elf_exports_mem(const void *p, size_t len, const char *name,
		    const char *symbol, struct sp_err *e)
{
	return exports(-1, p, len, name, symbol, e);
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
