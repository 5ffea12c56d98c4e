/*
 * wheel_read.h - reads and verifies a wheel someone else may have written.
 *
 * The file is treated as hostile.  Its zip structure is checked first
 * (worker/zip/zip_read.h: end records, central directory against local
 * headers, bounds, overlaps, hidden bytes, the entry-name rule,
 * duplicates); libarchive's reader is lenient about all of that, so it is
 * never the only judge.
 *
 * When the structure holds, the data pass (worker/zip/zip_stream.h) reads
 * every entry in a fixed buffer: its CRC-32 and SHA-256 are computed as it
 * streams, never more than its declared size plus one buffer is read from
 * it, and never more than max_bytes from the whole archive, so a zip bomb
 * costs bounded time and memory.  Shared objects (any entry whose data
 * starts with the ELF magic, whatever its name: "help.so.txt" is text, as
 * auditwheel skips what is not ELF) are copied to an unlinked temporary
 * file as they stream and inspected there:
 * DT_NEEDED, RPATH, RUNPATH (elf/inspect.h), and the symbol versions it
 * requires with the symbols using them and its undefined symbols
 * (elf/symvers.h), from which `spoke show` judges the platform tag,
 * and the rules of CPython's ABI (elf/pycheck.h).
 *
 * Then the .dist-info: exactly one, named for the file name's distribution
 * and version; a WHEEL file with Wheel-Version 1.x, Root-Is-Purelib and Tag
 * lines that are exactly the file name's tags; a RECORD (CSV, record.h)
 * that lists every file once with its sha256 (urlsafe base64, no padding)
 * and size, and itself with neither (a sha384 or sha512 is checked by a
 * second data pass); a METADATA whose headers parse and whose Name and
 * Version are the file name's, and whose every License-File is an entry
 * name present under <dist-info>/licenses/ (or, before Metadata-Version
 * 2.4, beside METADATA); an entry_points.txt, when there is one, of
 * [group] sections and "name = object" lines.  Each of these four files is
 * first held to be text: not empty, not only white space, no NUL byte,
 * valid UTF-8, LF line ends (for METADATA, in its headers).
 *
 * A wheel's architecture is that of its ELF objects (of any machine, class
 * and byte order: elf/machine.h).  A shared object spoke cannot read as
 * ELF is a problem naming it and why; so are objects of different
 * architectures in one wheel (naming both), and a file name whose
 * platform tag names another architecture than the objects'.
 *
 * Every finding is a problem naming the entry (when there is one) and the
 * reason; reading continues past problems so that all of them are listed.
 */
#ifndef SPOKE_WORKER_WHEEL_WHEEL_READ_H
#define SPOKE_WORKER_WHEEL_WHEEL_READ_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "worker/elf/inspect.h"
#include "worker/elf/pycheck.h"
#include "worker/elf/symvers.h"
#include "worker/zip/zip_read.h"

/* Default cap on the bytes decompressed from one archive: 8 GiB. */
#define WHEEL_READ_MAX_DEFAULT (8ull << 30)

struct wheel_problem {
	char *entry;  /* the entry concerned, or NULL for the whole wheel */
	char *reason; /* lowercase, without the entry name */
};

struct wheel_so {
	char *entry;	     /* the entry's name (owned copy) */
	/* ident_ok: elf.id holds what the ELF header says (also of object
	 * files and separate debug files); 0 when the entry is not readable
	 * as ELF.  elf_ok: the rest of elf holds DT_NEEDED, RPATH, RUNPATH,
	 * of a library or an executable (elf_inspect_object_fd). */
	int ident_ok;
	int elf_ok;
	struct elf_info elf;
	int vers_ok;	     /* vers holds the required symbol versions
			      * and the undefined symbols */
	struct symvers vers;
	char *error;	     /* why inspection failed, else NULL */
	/* What CPython's ABI says of it (pycheck.h: an extension module
	 * using PyFPE_jbuf or UCS2 functions fits linux_<arch> only), read
	 * as the module its file name imports as; py_ok when read. */
	int py_ok;
	struct pycheck py;
};

/* Everything wheel_read() learned; all memory owned by the report. */
struct wheel_report {
	char *path;
	uint64_t size; /* of the file */

	/* From the file name; NULL when it is not a wheel name. */
	char *dist, *version, *build, *py, *abi, *plat;

	/* From the WHEEL file; NULL / -1 when absent. */
	char *wheel_version;
	int root_is_purelib; /* 1, 0, or -1 */
	char **tags;
	size_t ntags;

	char *dist_info; /* "<name>-<version>.dist-info", or NULL */
	int zip64;	 /* the archive has zip64 end records */

	struct zip_entry *ents; /* central directory order (zip_read.h) */
	size_t nents;
	struct wheel_so *sos;
	size_t nsos;
	/* The architecture of every ELF object ("aarch64": static), or NULL
	 * when there is none, one spoke has no name for, or several. */
	const char *arch;
	struct wheel_problem *problems;
	size_t nproblems;
	uint64_t bytes_read; /* decompressed by the data pass */
};

/* Reads and verifies the wheel at path into r.  max_bytes caps the bytes
 * decompressed from the whole archive (0: WHEEL_READ_MAX_DEFAULT).  Returns
 * 0 when the file could be examined; the wheel is valid when r->nproblems is
 * 0.  Returns -1 with e filled when the file cannot be opened or read (or
 * memory runs out); r then still needs wheel_report_release(). */
int wheel_read(const char *path, uint64_t max_bytes, struct wheel_report *r,
	       struct sp_err *e);

/* Frees everything the report holds (its entries, shared objects,
 * problems, tags and strings) and zeroes it; safe on a zeroed report and
 * twice. */
void wheel_report_release(struct wheel_report *r);

/* The whole check as one verdict: 0 when valid, else -1 with e holding the
 * first problem ("'<path>': '<entry>': <reason>") and how many more. */
int wheel_verify(const char *path, uint64_t max_bytes, struct sp_err *e);

#endif
