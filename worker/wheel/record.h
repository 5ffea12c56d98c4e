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

#include "common/err.h"

/* Writes one field to f, quoted when it must be.  Returns 0, or -1 when
 * the stream fails. */
int record_put_field(FILE *f, const char *s);

/* Writes one row "path,sha256=<b64>,<size>\n", or "path,,\n" (RECORD's own
 * line) when b64 is NULL.  Returns 0, or -1 when the stream fails. */
int record_put_row(FILE *f, const char *path, const char *b64, size_t size);

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
