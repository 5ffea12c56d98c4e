/*
 * zip_stream.h - the data pass: every entry's bytes read through
 * libarchive's seekable zip reader, in bounded time and memory.
 *
 * It runs over an archive whose structure zip_read() found sound, so that
 * libarchive never meets overlapping entries or a central directory that
 * lies.  Each entry is read through one fixed buffer (ZIP_STREAM_BUF);
 * its CRC-32 and SHA-256 are computed as it streams; never more than its
 * declared size plus one buffer is read from it, and never more than
 * max_bytes from the whole archive, so a zip bomb costs bounded time and
 * memory.  An entry read completely, of its declared size and CRC, is
 * marked hashed with its SHA-256 in the RECORD form (zipfmt.h).
 * Symbolic links are skipped: libarchive turns their data into the
 * target.
 *
 * What the caller does with the bytes (keep a text, copy out a shared
 * object) is its business: it sees each entry through the three
 * functions of struct zip_consumer.  Problems go to the archive's problem
 * function (zip_read.h), as "'<entry>' <reason>".
 */
#ifndef SPOKE_WORKER_ZIP_ZIP_STREAM_H
#define SPOKE_WORKER_ZIP_ZIP_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "worker/zip/zip_read.h"

/* The size of the one buffer an entry's data is read through. */
#define ZIP_STREAM_BUF (256u * 1024)

/* What the caller does with each entry's data.  Each function returns 0,
 * or -1 with e filled on an error that ends the whole read (the read
 * then returns -1 at once, without calling end). */
struct zip_consumer {
	/* Before an entry's data: 0 to read it, 1 to skip it.  NULL: read
	 * every entry. */
	int (*begin)(void *arg, struct zip_entry *ent, struct sp_err *e);
	/* Each piece of the data, in order; the bytes are valid during the
	 * call only.  NULL: not wanted. */
	int (*data)(void *arg, struct zip_entry *ent, const uint8_t *p,
		    size_t n, struct sp_err *e);
	/* After the data of an entry begin took: intact is 1 when it was
	 * read completely and intact, else 0 (the problem is reported
	 * already).  NULL: not wanted. */
	int (*end)(void *arg, struct zip_entry *ent, int intact,
		   struct sp_err *e);
	void *arg;
};

/* How a pass treats the data. */
enum zip_pass {
	/* The first pass: bounded by the declared sizes and max_bytes,
	 * checked against the CRC, counted in *bytes_read, and each intact
	 * entry marked hashed. */
	ZIP_PASS_CHECK,
	/* A later pass over data the first found intact, for a caller that
	 * needs it again (another digest): no checks; a read error is
	 * reported as "cannot read its data again". */
	ZIP_PASS_AGAIN,
};

/* Reads the data of every entry of za (whose structure zip_read() found
 * sound: za->broken is 0) through c.  max_bytes caps the bytes
 * decompressed from the whole archive; an archive whose entries declare
 * more is reported and not read.  *bytes_read grows by the bytes the
 * first pass decompresses.  Returns 0 when the archive could be read
 * (problems with it are reported, and may stop the pass early), or -1
 * with e filled on an error of this process (memory, or one of c's). */
int zip_stream_read(struct zip_archive *za, enum zip_pass pass,
		    uint64_t max_bytes, uint64_t *bytes_read,
		    const struct zip_consumer *c, struct sp_err *e);

#endif
