/*
 * zip_read.h - the structure of a zip archive someone else may have
 * written, checked before any of its data is read.
 *
 * The file is treated as hostile.  zip_read() finds the end of central
 * directory record (and the zip64 locator and record when present), walks
 * the central directory and compares each entry with its local header
 * (name, flags, method, CRC, sizes), checks that every entry lies inside
 * the file and before the central directory and that no two overlap and
 * no bytes hide between them, holds each name to the entry-name rule
 * (zipfmt.h, directory entries allowed) and refuses duplicates.  It
 * holds the archive to what a wheel may be: one disk, stored or deflated
 * entries, none encrypted, no symbolic links.
 * libarchive's reader is lenient about all of that (it reads truncated
 * archives and duplicate names), so it is never the only judge: its data
 * pass (zip_stream.h) runs only over a structure found sound.
 *
 * Every finding goes to the caller's problem function, naming the entry
 * (when there is one) and the reason; reading continues past a problem
 * where it can, so that all of them are listed.  The reasons are
 * lowercase sentences without the entry's name, for example "overlaps
 * entry 'a.py'".
 */
#ifndef SPOKE_WORKER_ZIP_ZIP_READ_H
#define SPOKE_WORKER_ZIP_ZIP_READ_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "worker/zip/zip_names.h"
#include "worker/zip/zipfmt.h"

/* One entry, as its central directory record declares it. */
struct zip_entry {
	char *name;	   /* as stored, NUL-terminated */
	uint16_t method;   /* 0 stored, 8 deflate */
	uint16_t flags;	   /* general purpose bit flag */
	uint32_t crc;	   /* from the central directory */
	uint32_t mode;	   /* st_mode from the external attributes, or 0 */
	uint64_t csize;	   /* compressed size */
	uint64_t usize;	   /* uncompressed size, as declared */
	uint64_t offset;   /* of the local header */
	uint64_t end;	   /* one past its data (and data descriptor) */
	int is_dir;	   /* name ends in '/' */
	int hashed;	   /* the data pass read it completely and intact */
	char sha256[ZIPW_B64_SHA256]; /* of its data, when hashed */
};

/* Receives one problem: the entry concerned (NULL for the whole archive)
 * and the reason.  reason is NULL when memory ran out while the reason
 * was written; the callee then remembers that memory ran out. */
typedef void zip_problem_fn(void *arg, const char *entry, const char *reason);

/* What zip_read() learned.  Memory is owned by the archive and freed by
 * zip_archive_release(), except that a caller may take ents (set it to
 * NULL and nents to 0 before releasing) to keep the entries. */
struct zip_archive {
	int fd;		  /* not owned */
	const char *path; /* for messages; not owned */
	uint64_t size;	  /* of the file */
	int zip64;	  /* the archive has zip64 end records */
	/* The end records were found, so the central directory was read
	 * (as far as it could be). */
	int have_cd;
	/* The structure is too damaged for the data pass: libarchive on it
	 * would read garbage or loop. */
	int broken;
	uint64_t cd_off; /* where the central directory starts */
	struct zip_entry *ents; /* central directory order */
	size_t nents;
	/* Entry indices in the order of their local headers (the order in
	 * which the data pass meets them), when the structure is sound. */
	size_t *order;
	struct zip_names names; /* entry indices by name */
	zip_problem_fn *problem;
	void *arg;
};

/* Reads the structure of the archive open on fd (size bytes, named path
 * in messages) into za, reporting each problem to problem(arg, ...).
 * Returns 0 when the file could be examined, whatever it holds
 * (za->broken says whether the data may be read); -1 with e filled when
 * it cannot be read or memory runs out.  Either way za then needs
 * zip_archive_release(). */
int zip_read(struct zip_archive *za, int fd, const char *path, uint64_t size,
	     zip_problem_fn *problem, void *arg, struct sp_err *e);

/* The index of the entry called name, or -1. */
long zip_find(const struct zip_archive *za, const char *name);

/* Frees what za owns; safe on a zeroed archive and twice.  Does not close
 * the descriptor. */
void zip_archive_release(struct zip_archive *za);

/* Reports a problem through za's problem function: the reason is
 * formatted as by printf.  For the reader's own modules (zip_stream.c). */
void zip_problem(const struct zip_archive *za, const char *entry,
		 const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
