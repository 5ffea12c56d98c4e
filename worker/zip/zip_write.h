/*
 * zip_write.h - a streaming, reproducible zip writer for wheels.  Its
 * names keep the short prefix zipw_ (struct zipw): the writer's, beside
 * the reader's zip_ in zip_read.h and zip_stream.h.
 *
 * Entries are written one after another to a file descriptor the caller
 * owns: a local header, then the data (raw deflate from libdeflate, or
 * stored when deflate does not make it smaller), with no data descriptor,
 * because every entry is a whole buffer whose CRC and sizes are known before
 * its header is complete.  zipw_finish() writes the central directory and
 * the end records.  Zip64 extra fields and end records are used only when a
 * size, an offset or the entry count do not fit the classic fields.
 *
 * An entry of more than PDEFLATE_CHUNK bytes (when compressing) is deflated
 * in fixed chunks on several threads (pdeflate.h): the same bytes for any
 * thread count.  When the descriptor is open for reading and writing (and
 * not O_APPEND), its pieces are written as they come, behind a gap where
 * the local header goes once the CRC and size are known, and the archive's
 * digest reads them back; otherwise the stream is gathered in memory first.
 * Its local header has the zip64 field whenever its sizes could need it
 * (within a few hundred KiB of 4 GiB), even if they end up not needing it.
 *
 * The archive depends only on its inputs: one fixed DOS timestamp for every
 * entry, external attributes derived from the mode alone (0100644 or
 * 0100755), no extra fields other than zip64, names flagged UTF-8.
 *
 * Usage:
 *	struct zipw z;
 *	if (zipw_open(&z, fd, path, t, 6, e) < 0) ...
 *	zipw_add(&z, "a/b.py", buf, len, 0644, sha, e) ...
 *	zipw_finish(&z, digest, &size, e) ...
 *	zipw_release(&z);
 */
#ifndef SPOKE_WORKER_ZIP_ZIP_WRITE_H
#define SPOKE_WORKER_ZIP_ZIP_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "common/sha256.h"
#include "worker/zip/zip_names.h"
#include "worker/zip/zipfmt.h"

struct zipw_entry;
struct libdeflate_compressor;

/* How many appended bytes zipw gathers before it writes them. */
#define ZIPW_PEND (64u << 10)

struct zipw {
	int fd;	    /* not owned: the caller closes it */
	char *name; /* path for error messages (owned copy) */
	uint16_t dos_time, dos_date;
	int level;
	struct libdeflate_compressor *comp; /* NULL when level is 0 */
	uint64_t off;			    /* bytes written so far */
	struct sha256 hash;		    /* of every byte written */
	/* The last npend bytes of off, gathered but not in the file yet
	 * (ZIPW_PEND). */
	uint8_t *pend;
	size_t npend;
	struct zipw_entry *ents;
	size_t nents, cap;
	struct zip_names names; /* entry indices by name */
	int failed;	  /* a write failed, or finished: no more writes */
	int force_zip64;  /* tests: use zip64 records for everything */
	unsigned threads; /* for chunked entries; 0 (zipw_open's): what
			   * pdeflate_threads(0) says when one comes (asked
			   * late: it costs a system call).  The caller may
			   * set it after zipw_open(). */
};

/* Starts an archive on fd, which must be positioned at offset 0 of an empty
 * regular file, best open O_RDWR (see above).  name is only used in error
 * messages.  timestamp (unix seconds, UTC) becomes the DOS time of every entry,
 * clamped to 1980-01-01..2107-12-31. level is 0 (store everything) or a
 * libdeflate level 1..12.  On failure nothing needs releasing. */
int zipw_open(struct zipw *z, int fd, const char *name, int64_t timestamp,
	      int level, struct sp_err *e);

/* Writes one entry.  name must pass zip_name_check() (zipfmt.h: a relative
 * path of non-empty components separated by '/', in UTF-8, without '.' or
 * '..' components, backslashes or control characters; no directory
 * entries), fit the 16-bit name field, and not be in the archive already.
 * Only the execute bits of mode matter: the entry is 0100755 when any is
 * set, else 0100644.  When sha256 is not NULL it receives the data's
 * SHA-256 in urlsafe base64 without padding (the RECORD form).  After a
 * write error every later call fails.  Calls fault_point("write") once,
 * before writing the entry; a chunked entry written as it comes calls it
 * before each piece and before its header.  data is read by several
 * threads and must not change. */
int zipw_add(struct zipw *z, const char *name, const void *data, size_t len,
	     mode_t mode, char sha256[ZIPW_B64_SHA256], struct sp_err *e);

/* zipw_add for the len bytes at offset off of the file open on fd
 * (fd_name for messages), read with pread, never whole: a piece at a time
 * for a stored entry, a chunk per thread for a chunked one (pdeflate.h),
 * the whole of it only when it fits one chunk.  The same archive as
 * zipw_add of those bytes.  Errors also: a read failed, or the file ended
 * before off + len ("changed while it was read").  The file must not
 * change while it is read. */
int zipw_add_fd(struct zipw *z, const char *name, int fd, uint64_t off,
		uint64_t len, const char *fd_name, mode_t mode,
		char sha256[ZIPW_B64_SHA256], struct sp_err *e);

/* Writes the central directory and end records.  digest (optional) gets the
 * SHA-256 of the whole archive and size (optional) its length.  Calls
 * fault_point("write") once, before the central directory.  Does not fsync
 * or close the descriptor. */
int zipw_finish(struct zipw *z, uint8_t digest[32], uint64_t *size,
		struct sp_err *e);

/* Frees everything zipw_open allocated; safe after a failed zipw_add or
 * zipw_finish, and twice. */
void zipw_release(struct zipw *z);

/* Converts unix seconds to DOS date and time (UTC), clamped to the DOS
 * range.  Exposed for tests. */
void zipw_dos_time(int64_t t, uint16_t *dos_time, uint16_t *dos_date);

#endif
