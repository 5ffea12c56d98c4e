/*
 * pycheck.h - what CPython's ABI forbids in an extension module, read
 * from its ELF file: the rules a platform tag depends on beyond symbol
 * versions and libraries.
 *
 *  - libpython: a module must not need libpython.  The interpreter that
 *    imports it already holds Python's symbols; a module that names the
 *    shared library loads a second copy of it, or fails to load where the
 *    interpreter is linked statically and no libpython is installed (as
 *    in the manylinux images).  The repair removes such a DT_NEEDED and
 *    never bundles the library; `spoke build` refuses the module.
 *  - PyFPE_jbuf: Python 2 and Python 3 up to 3.6 configured
 *    --with-fpectl define PyFPE_jbuf, PyFPE_dummy and PyFPE_counter;
 *    the interpreters manylinux promises are not configured so.  A module
 *    that leaves one of them undefined (a function, or a symbol of no
 *    type) loads only where Python was built that way: linux_<arch> only.
 *  - UCS2: Python 2 built with narrow (UCS2) unicode names its unicode
 *    functions PyUnicodeUCS2_*; manylinux's Python 2 is UCS4.  A Python 2
 *    module importing such a function is linux_<arch> only.
 *
 * An object is an extension module when it defines the init function
 * Python calls for its name: PyInit_<name> (Python 3), init<name>
 * (Python 2) or _cffi_pypyinit_<name> (PyPy's cffi modules, counted as
 * Python 2 as auditwheel counts them).  The last two rules apply to
 * extension modules only, the UCS2 rule to Python 2 ones only, as
 * auditwheel applies them.  Symbols are read through the room's symbol
 * readers (imports.h, inspect.h): objects of any machine, hostile input.
 */
#ifndef SPOKE_WORKER_ELF_PYCHECK_H
#define SPOKE_WORKER_ELF_PYCHECK_H

#include <stddef.h>

#include "common/err.h"
#include "worker/elf/imports.h"

/* Returns 1 when soname names a libpython: "libpython", the version
 * ("3.11"; "3" for the stable-ABI library), ABI flags made of the letters
 * d, m, u and t ("3.7m", "3.13t"), ".so", then any number of ".<digits>"
 * ("libpython3.11.so.1.0", "libpython2.7.so.1.0").  auditwheel's pattern
 * takes fewer flags and no "libpython3.so"; those are libpython too.
 * Else 0. */
int pycheck_is_libpython(const char *soname);

/* What one object's symbols say; owned: pycheck_release(). */
struct pycheck {
	int python; /* 0: not an extension module; else 2 or 3, the
		     * Python its init function is for */
	char *init; /* the init function it defines, or NULL */
	char *fpe;  /* an undefined PyFPE_* symbol it uses, or NULL */
	char *ucs2; /* an undefined PyUnicodeUCS2_* function it uses
		     * (Python 2 modules only), or NULL */
};

/* The module name Python would import the file at path as: its base name
 * up to the first '.' ("pkg/_native.cpython-311-x86_64-linux-gnu.so" ->
 * "_native").  malloc'd; NULL when out of memory. */
char *pycheck_modname(const char *path);

/* Reads the object of len bytes at p (only read; name is for messages)
 * as the extension module modname would be, into out.  Returns 0, or -1
 * with e naming name when its symbols cannot be read (not ELF, corrupt)
 * or memory runs out; out then holds nothing. */
int pycheck_mem(const void *p, size_t len, const char *name,
		const char *modname, struct pycheck *out, struct sp_err *e);

/* The same on an open descriptor (read with pread: its offset is not
 * moved, and the object is not read whole). */
int pycheck_fd(int fd, const char *name, const char *modname,
	       struct pycheck *out, struct sp_err *e);

/* The same, for a caller that has read the object's imports already
 * (symvers.h's struct symvers holds them): only its exports are read,
 * from fd with pread (its offset is not moved, the object is not read
 * whole), in one pass for the three init names.  im is only read.
 * Returns 0, or -1 with e naming name when memory runs out. */
int pycheck_imports_fd(const struct elf_imports *im, int fd, const char *name,
		       const char *modname, struct pycheck *out,
		       struct sp_err *e);

/* Writes into buf (size bytes, truncated to fit) why the object can only
 * be tagged linux_<arch>, as the end of a sentence whose subject is the
 * object ("uses PyFPE_jbuf, which ..."; the caller says what follows),
 * and returns 1; returns 0 and writes nothing when no rule above limits
 * it. */
int pycheck_reason(const struct pycheck *pc, char *buf, size_t size);

/* Frees what pc holds and zeroes it; safe on a zeroed one. */
void pycheck_release(struct pycheck *pc);

#endif
