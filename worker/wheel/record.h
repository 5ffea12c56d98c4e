/*
 * record.h - a wheel's RECORD, written and read as the CSV it is.
 *
 * RECORD is CSV as Python's csv module writes it (RFC 4180 quoting): a
 * field holding a comma, a double quote, CR or LF is put in double quotes,
 * and a double quote inside is doubled.  Installers read it with that
 * module, so a name with a comma is fine once quoted, and spoke's writers
 * (worker/build_wheel.c, worker/repair_wheel.c) and its reader
 * (worker/wheel/wheel_read.c) all go through this one module so that they can
 * never disagree on what a line means.
 *
 * Rows end in LF (as the `wheel` package and maturin write them); the
 * reader also takes CRLF, which Python's csv writer uses by default.
 */
#ifndef SPOKE_WORKER_WHEEL_RECORD_H
#define SPOKE_WORKER_WHEEL_RECORD_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "common/err.h"
#include "worker/zip/zip_write.h"

/*
 * A RECORD being written, as a wheel writer fills it: one row per entry,
 * in the order the entries go into the zip, then RECORD's own row, last.
 *
 *	struct record r;
 *	record_init(&r, e);
 *	record_zip_add(&r, z, "pkg/a.py", data, len, 0644, e);  per entry
 *	record_zip_finish(&r, z, "<dist-info>/RECORD", e);
 *	record_release(&r);
 *
 * (record_add and record_finish are the same without the zip.)
 *
 * Each row is "path,sha256=<digest>,<size>" with the digest in urlsafe
 * base64 without padding (zip_write.h gives it in that form); RECORD's
 * own row is "path,,", since a file cannot hold its own hash.
 */
struct record {
	char *text; /* the rows, once record_finish() returned 0 */
	size_t len;
	FILE *f;    /* the stream being written, until record_finish() */
};

/* Starts an empty RECORD.  Returns 0, or -1 with e saying memory ran out;
 * r then needs no release (record_release() is harmless). */
int record_init(struct record *r, struct sp_err *e);

/* Adds the row of one entry: path, its sha256 b64 (the RECORD form) and
 * its size.  Returns 0, or -1 with e saying memory ran out. */
int record_add(struct record *r, const char *path, const char *b64,
	       size_t size, struct sp_err *e);

/* Adds RECORD's own row, at path, and ends the text: r->text and r->len
 * then hold the whole RECORD (owned by r).  Returns 0, or -1 with e
 * saying memory ran out. */
int record_finish(struct record *r, const char *path, struct sp_err *e);

/* What a wheel writer does with each entry: writes it to z (zip_write.h:
 * zipw_add, with the mode's execute bits) and adds its row, with the
 * digest zipw computed.  Returns 0, or -1 with e saying what failed. */
int record_zip_add(struct record *r, struct zipw *z, const char *path,
		   const void *data, size_t len, mode_t mode,
		   struct sp_err *e);

/* Ends r with RECORD's own row (record_finish) and writes it to z as the
 * entry path, mode 0644: the last entry of a wheel.  Returns 0, or -1
 * with e saying what failed. */
int record_zip_finish(struct record *r, struct zipw *z, const char *path,
		      struct sp_err *e);

/* Frees what r holds; safe on a zeroed record and twice. */
void record_release(struct record *r);

/*
 * Whether spoke can put a file of this name in a wheel and its RECORD: a
 * valid entry name (worker/zip/zipfmt.h: zip_name_check) whose bytes are
 * valid UTF-8 and hold no control character (a newline in a name would
 * need a quoted line break that some RECORD readers split on, and nothing
 * in a Python package needs one).  what says what the name is ("python
 * source", "license file") for the message.  Returns 0, or -1 with e
 * naming the file and the reason.
 */
int record_name_ok(const char *name, const char *what, struct sp_err *e);

/* One parsed row; the fields point into the parsed text. */
struct record_row {
	char *f[3];  /* path, hash, size; NULL past nf */
	int nf;	     /* how many fields the row had (may exceed 3) */
	size_t line; /* 1-based line where the row starts */
};

/*
 * Parses RECORD text of len bytes in place (text must have a NUL at
 * text[len]; fields are unquoted into it).  Empty lines are skipped.
 * Fills *rows (malloc'd, caller frees) and *nrows.  Returns 0, or -1 with
 * e saying which line is malformed and why (an unclosed quote, text after
 * a closing quote, a NUL byte) or that memory ran out; *rows is then NULL.
 */
int record_parse(char *text, size_t len, struct record_row **rows,
		 size_t *nrows, struct sp_err *e);

#endif
