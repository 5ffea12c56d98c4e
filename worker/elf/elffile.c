#include "worker/elf/elffile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


int elf_lib_fail(const char *name, int on_fd, struct sp_err *e)
{
	int err = errno;

	if (on_fd && err)
		return sp_err_set(e, "cannot read '%s': %s", name,
				  strerror(err));
	return sp_err_set(e, "'%s' is truncated or corrupt: %s", name,
			  elf_errmsg(-1));
}

int elf_file_fail(const struct elf_file *f, struct sp_err *e)
{
	return elf_lib_fail(f->name, f->on_fd, e);
}

int elf_file_corrupt(const struct elf_file *f, const char *why,
		     struct sp_err *e)
{
	return sp_err_set(e, "'%s' is truncated or corrupt: %s", f->name, why);
}

int elf_file_contains(const struct elf_file *f, uint64_t off, uint64_t len)
{
	return off <= f->size && len <= f->size - off;
}

/* Before a libelf call that may read the descriptor: an errno set after
 * this is the read's (elf_lib_fail). */
static void arm_errno(const struct elf_file *f)
{
	if (f->on_fd)
		errno = 0;
}

/* Checks that the handle libelf gave is an ELF file and reads its
 * header; ends the handle on failure. */
static int finish_open(struct elf_file *f, struct sp_err *e)
{
	if (!f->elf)
		return sp_err_set(e, "cannot read '%s': %s", f->name,
				  f->on_fd && errno ? strerror(errno)
						    : elf_errmsg(-1));
	switch (elf_kind(f->elf)) {
	case ELF_K_ELF:
		break;
	case ELF_K_AR:
		sp_err_set(e, "'%s' is a static archive, not a shared library",
			   f->name);
		goto fail;
	default:
		sp_err_set(e, "'%s' is not an ELF file", f->name);
		goto fail;
	}
	if (!gelf_getehdr(f->elf, &f->ehdr)) {
		elf_file_fail(f, e);
		goto fail;
	}
	return 0;
fail:
	elf_end(f->elf);
	f->elf = NULL;
	return -1;
}

static int start(struct elf_file *f, const char *name, struct sp_err *e)
{
	memset(f, 0, sizeof(*f));
	f->name = name;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return sp_err_set(e, "libelf is unusable: %s", elf_errmsg(-1));
	return 0;
}

int elf_file_open_fd(struct elf_file *f, int fd, const char *name,
		     struct sp_err *e)
{
	struct stat st;

	if (start(f, name, e) < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		return sp_err_sys(e, "cannot stat '%s'", name);
	if (!S_ISREG(st.st_mode))
		return sp_err_set(e, "'%s' is not a regular file", name);
	f->size = (uint64_t)st.st_size;
	/* ELF_C_READ reads with pread() as needed, so the file may shrink
	 * under us without a SIGBUS; libelf then reports a short read. */
	f->on_fd = 1;
	errno = 0;
	f->elf = elf_begin(fd, ELF_C_READ, NULL);
	return finish_open(f, e);
}

int elf_file_open_mem(struct elf_file *f, const void *p, size_t len,
		      const char *name, struct sp_err *e)
{
	/* elf_memory() refuses a NULL image; an empty one is not ELF. */
	static const char empty;

	if (start(f, name, e) < 0)
		return -1;
	f->size = len;
	/* elf_memory() takes a non-const image because elf_update() could
	 * write it; nothing here updates. */
	f->elf = elf_memory((char *)(uintptr_t)(p ? p : &empty), len);
	return finish_open(f, e);
}

void elf_file_close(struct elf_file *f)
{
	if (f->elf)
		elf_end(f->elf);
	f->elf = NULL;
}

int elf_file_check_type(const struct elf_file *f, struct sp_err *e)
{
	switch (f->ehdr.e_type) {
	case ET_DYN:
		return 0;
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
				  (unsigned)f->ehdr.e_type);
	}
}

void elf_file_xlate(const struct elf_file *f, void *dst, const void *src,
		    size_t n, Elf_Type t, int tom)
{
	/* Aligned locals: libelf may require its memory side aligned. */
	union {
		Elf64_Ehdr eh;
		uint64_t align;
		unsigned char b[64];
	} in, out;
	unsigned enc = f->ehdr.e_ident[EI_DATA];
	Elf_Data d, s;

	if (n > sizeof(in.b))
		SP_BUG("translation of %zu bytes", n);
	memcpy(in.b, src, n);
	memset(&d, 0, sizeof(d));
	memset(&s, 0, sizeof(s));
	s.d_buf = in.b;
	s.d_size = n;
	s.d_type = t;
	s.d_version = EV_CURRENT;
	d.d_buf = out.b;
	d.d_size = n;
	d.d_type = t;
	d.d_version = EV_CURRENT;
	if (!(tom ? gelf_xlatetom(f->elf, &d, &s, enc)
		  : gelf_xlatetof(f->elf, &d, &s, enc)))
		SP_BUG("libelf cannot translate '%s': %s", f->name,
		       elf_errmsg(-1));
	if (d.d_size != n)
		SP_BUG("libelf translated %zu bytes of '%s' to %zu", n,
		       f->name, (size_t)d.d_size);
	memcpy(dst, out.b, n);
}

int elf_file_check_ident(const struct elf_file *f, struct sp_err *e)
{
	int cls = f->ehdr.e_ident[EI_CLASS], data = f->ehdr.e_ident[EI_DATA];

	if (cls != ELFCLASS64 && cls != ELFCLASS32)
		return elf_file_corrupt(f, "unknown ELF class", e);
	if (data != ELFDATA2LSB && data != ELFDATA2MSB)
		return elf_file_corrupt(f, "unknown ELF byte order", e);
	return 0;
}

int elf_file_phdrs(const struct elf_file *f, size_t spare, GElf_Phdr **ph,
		   size_t *n, struct sp_err *e)
{
	size_t ent = gelf_fsize(f->elf, ELF_T_PHDR, 1, EV_CURRENT);
	size_t nph, i;

	*ph = NULL;
	*n = 0;
	arm_errno(f);
	if (elf_getphdrnum(f->elf, &nph) < 0)
		return elf_file_fail(f, e);
	/* libelf reads entries at its own size whatever e_phentsize says,
	 * and the loader refuses any other size. */
	if (!nph || !ent || f->ehdr.e_phentsize != ent || nph > f->size / ent ||
	    !elf_file_contains(f, f->ehdr.e_phoff, (uint64_t)nph * ent))
		return elf_file_corrupt(
		    f, "the program headers lie outside the file", e);
	*ph = calloc(nph + spare, sizeof(**ph));
	if (!*ph)
		return sp_err_set(e, "out of memory");
	for (i = 0; i < nph; i++)
		if (!gelf_getphdr(f->elf, (int)i, &(*ph)[i])) {
			free(*ph);
			*ph = NULL;
			return elf_file_fail(f, e);
		}
	*n = nph;
	return 0;
}

/* Counts the sections into *nsh and checks that their table lies inside
 * the file.  strict: libelf shows a table it could not read (outside a
 * truncated image) as no sections at all; take the header's count then,
 * so that the table is refused rather than read as empty. */
static int section_table(const struct elf_file *f, int strict, size_t *nsh,
			 struct sp_err *e)
{
	size_t ent = gelf_fsize(f->elf, ELF_T_SHDR, 1, EV_CURRENT);

	arm_errno(f);
	if (elf_getshdrnum(f->elf, nsh) < 0)
		return elf_file_fail(f, e);
	/* Below SHN_LORESERVE: above, the count is in section 0. */
	if (strict && f->ehdr.e_shoff && f->ehdr.e_shnum > *nsh)
		*nsh = f->ehdr.e_shnum;
	if (!*nsh)
		return 0;
	if (!ent || f->ehdr.e_shentsize != ent || *nsh > f->size / ent ||
	    !elf_file_contains(f, f->ehdr.e_shoff, (uint64_t)*nsh * ent))
		return elf_file_corrupt(
		    f, "the section headers lie outside the file", e);
	return 0;
}

int elf_file_shdrs(const struct elf_file *f, GElf_Shdr **sh, size_t *n,
		   struct sp_err *e)
{
	size_t nsh, i;
	Elf_Scn *scn;

	*sh = NULL;
	*n = 0;
	if (section_table(f, 0, &nsh, e) < 0)
		return -1;
	if (!nsh)
		return 0;
	*sh = calloc(nsh, sizeof(**sh));
	if (!*sh)
		return sp_err_set(e, "out of memory");
	for (i = 0; i < nsh; i++) {
		scn = elf_getscn(f->elf, i);
		if (!scn || !gelf_getshdr(scn, &(*sh)[i])) {
			free(*sh);
			*sh = NULL;
			return elf_file_fail(f, e);
		}
	}
	*n = nsh;
	return 0;
}

int elf_file_next_section(const struct elf_file *f, GElf_Word type,
			  Elf_Scn **scn, GElf_Shdr *sh, struct sp_err *e)
{
	size_t nsh;

	if (!*scn && section_table(f, 1, &nsh, e) < 0)
		return -1;
	arm_errno(f);
	while ((*scn = elf_nextscn(f->elf, *scn))) {
		if (!gelf_getshdr(*scn, sh))
			return elf_file_fail(f, e);
		if (sh->sh_type == type)
			return 1;
	}
	return 0;
}

int elf_file_vaddr_to_off(const struct elf_file *f, const GElf_Phdr *ph,
			  size_t n, uint64_t vaddr, uint64_t len, uint64_t *off)
{
	uint64_t delta;
	size_t i;

	for (i = 0; i < n; i++) {
		if (ph[i].p_type != PT_LOAD || vaddr < ph[i].p_vaddr)
			continue;
		delta = vaddr - ph[i].p_vaddr;
		if (delta >= ph[i].p_filesz || len > ph[i].p_filesz - delta)
			continue;
		if (ph[i].p_offset > UINT64_MAX - delta ||
		    !elf_file_contains(f, ph[i].p_offset + delta, len))
			return -1;
		*off = ph[i].p_offset + delta;
		return 0;
	}
	return -1;
}

Elf_Data *elf_file_chunk(const struct elf_file *f, uint64_t off, uint64_t len,
			 Elf_Type type, const char *what, struct sp_err *e)
{
	Elf_Data *d;

	if (!elf_file_contains(f, off, len) || off > INT64_MAX ||
	    len > SIZE_MAX) {
		sp_err_set(e,
			   "'%s' is truncated or corrupt: the %s lies "
			   "outside the file",
			   f->name, what);
		return NULL;
	}
	arm_errno(f);
	d = elf_getdata_rawchunk(f->elf, (int64_t)off, (size_t)len, type);
	if (!d)
		elf_file_fail(f, e);
	return d;
}

int elf_file_dynamic(const struct elf_file *f, const GElf_Phdr *dph,
		     GElf_Dyn **dyn, size_t *n, size_t *cap, struct sp_err *e)
{
	size_t dsz = gelf_fsize(f->elf, ELF_T_DYN, 1, EV_CURRENT);
	size_t slots, i;
	Elf_Data *d;

	*dyn = NULL;
	*n = *cap = 0;
	if (!dsz)
		return elf_file_fail(f, e);
	if (!elf_file_contains(f, dph->p_offset, dph->p_filesz))
		return elf_file_corrupt(
		    f, "the dynamic segment lies outside the file", e);
	slots = (size_t)(dph->p_filesz / dsz);
	if (!slots)
		return elf_file_corrupt(f, "the dynamic segment is empty", e);
	d = elf_file_chunk(f, dph->p_offset, (uint64_t)slots * dsz, ELF_T_DYN,
			   "dynamic segment", e);
	if (!d)
		return -1;
	*dyn = calloc(slots, sizeof(**dyn));
	if (!*dyn)
		return sp_err_set(e, "out of memory");
	for (i = 0; i < slots; i++)
		if (!gelf_getdyn(d, (int)i, &(*dyn)[i])) {
			free(*dyn);
			*dyn = NULL;
			return elf_file_fail(f, e);
		}
	for (i = 0; i < slots && (*dyn)[i].d_tag != DT_NULL; i++)
		;
	*n = i;
	*cap = slots;
	return 0;
}
