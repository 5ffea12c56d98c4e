/*
 * record.c - a wheel's RECORD, written and read as CSV.
 */
#define _GNU_SOURCE
#include "worker/wheel/record.h"

#include <stdlib.h>
#include <string.h>

#include "worker/zip/zipfmt.h"

/* Writes one field to f, quoted when it must be (see the header).
 * Returns 0, or -1 when the stream fails. */
static int put_field(FILE *f, const char *s)
{
	const char *p;

	if (!strpbrk(s, ",\"\r\n"))
		return fputs(s, f) < 0 ? -1 : 0;
	if (fputc('"', f) == EOF)
		return -1;
	for (p = s; *p; p++) {
		if (*p == '"' && fputc('"', f) == EOF)
			return -1;
		if (fputc(*p, f) == EOF)
			return -1;
	}
	return fputc('"', f) == EOF ? -1 : 0;
}

/* Writes one row, or RECORD's own ("path,,") when b64 is NULL. */
static int put_row(FILE *f, const char *path, const char *b64, size_t size)
{
	if (put_field(f, path) < 0)
		return -1;
	if (b64)
		return fprintf(f, ",sha256=%s,%zu\n", b64, size) < 0 ? -1 : 0;
	return fputs(",,\n", f) < 0 ? -1 : 0;
}

int record_init(struct record *r, struct sp_err *e)
{
	memset(r, 0, sizeof(*r));
	r->f = open_memstream(&r->text, &r->len);
	if (!r->f)
		return sp_err_set(e, "out of memory writing RECORD");
	return 0;
}

int record_add(struct record *r, const char *path, const char *b64,
	       size_t size, struct sp_err *e)
{
	if (!r->f || put_row(r->f, path, b64, size) < 0)
		return sp_err_set(e, "out of memory writing RECORD");
	return 0;
}

int record_finish(struct record *r, const char *path, struct sp_err *e)
{
	int bad;

	if (!r->f)
		return sp_err_set(e, "out of memory writing RECORD");
	bad = put_row(r->f, path, NULL, 0) < 0;
	/* The stream's text and length are only settled by fclose. */
	if (fclose(r->f) != 0)
		bad = 1;
	r->f = NULL;
	if (bad)
		return sp_err_set(e, "out of memory writing RECORD");
	return 0;
}

int record_zip_add(struct record *r, struct zipw *z, const char *path,
		   const void *data, size_t len, mode_t mode,
		   struct sp_err *e)
{
	char b64[ZIPW_B64_SHA256];

	if (zipw_add(z, path, data, len, mode, b64, e) < 0)
		return -1;
	return record_add(r, path, b64, len, e);
}

int record_zip_finish(struct record *r, struct zipw *z, const char *path,
		      struct sp_err *e)
{
	if (record_finish(r, path, e) < 0)
		return -1;
	return zipw_add(z, path, r->text, r->len, 0644, NULL, e);
}

void record_release(struct record *r)
{
	if (r->f)
		fclose(r->f);
	free(r->text);
	memset(r, 0, sizeof(*r));
}

int record_name_ok(const char *name, const char *what, struct sp_err *e)
{
	struct sp_err why;
	const char *p;

	for (p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return sp_err_set(e,
					  "%s '%s' has a control character "
					  "(byte 0x%02x) in its name, which "
					  "a wheel cannot hold: rename it",
					  what, name, (unsigned char)*p);
	if (zip_name_check(name, strlen(name), ZIP_NAME_DIR, &why) < 0)
		return sp_err_set(e, "%s '%s' cannot go in a wheel: %s", what,
				  name, why.msg);
	return 0;
}

/* Appends a row; the array grows by doubling. */
static int push(struct record_row **rows, size_t *n, size_t *cap,
		const struct record_row *row)
{
	struct record_row *nr;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		nr = realloc(*rows, *cap * sizeof(*nr));
		if (!nr)
			return -1;
		*rows = nr;
	}
	(*rows)[(*n)++] = *row;
	return 0;
}

int record_parse(char *text, size_t len, struct record_row **rows,
		 size_t *nrows, struct sp_err *e)
{
	char *in = text, *end = text + len, *out = text;
	struct record_row row;
	size_t line = 1, cap = 0;
	int quoted;

	*rows = NULL;
	*nrows = 0;
	while (in < end) {
		/* An empty line (LF or CRLF) is no row. */
		if (*in == '\n' ||
		    (*in == '\r' && in + 1 < end && in[1] == '\n')) {
			in += *in == '\r' ? 2 : 1;
			line++;
			continue;
		}
		memset(&row, 0, sizeof(row));
		row.line = line;
		for (;;) {
			if (row.nf < 3)
				row.f[row.nf] = out;
			row.nf++;
			quoted = in < end && *in == '"';
			if (quoted) {
				in++;
				for (;;) {
					if (in >= end) {
						sp_err_set(e,
							   "line %zu has a "
							   "quote that is "
							   "never closed",
							   row.line);
						goto fail;
					}
					if (*in == '"' && in + 1 < end &&
					    in[1] == '"') {
						*out++ = '"';
						in += 2;
					} else if (*in == '"') {
						in++;
						break;
					} else {
						if (*in == '\n')
							line++;
						if (!*in)
							goto nul;
						*out++ = *in++;
					}
				}
			} else {
				while (in < end && *in != ',' && *in != '\n' &&
				       *in != '"' &&
				       !(*in == '\r' && in + 1 < end &&
					 in[1] == '\n')) {
					if (!*in)
						goto nul;
					*out++ = *in++;
				}
			}
			if (in < end && *in == ',') {
				in++;
				*out++ = '\0';
				continue;
			}
			if (in < end && *in == '"') {
				sp_err_set(e,
					   "line %zu has a quote inside a "
					   "field%s",
					   row.line,
					   quoted ? " (after its closing "
						    "quote)"
						  : " that is not quoted");
				goto fail;
			}
			/* The end of the row: LF, CRLF, or the end of the
			 * text.  out never passes in, so the NUL written
			 * here lands on a byte already consumed. */
			if (in < end && *in == '\n') {
				in++;
			} else if (in + 1 < end && in[0] == '\r' &&
				   in[1] == '\n') {
				in += 2;
			} else if (in < end) {
				sp_err_set(e,
					   "line %zu has text after a closing "
					   "quote",
					   row.line);
				goto fail;
			}
			line++;
			*out++ = '\0';
			break;
		}
		if (push(rows, nrows, &cap, &row) < 0) {
			sp_err_set(e, "out of memory");
			goto fail;
		}
	}
	return 0;
nul:
	sp_err_set(e, "line %zu holds a NUL byte", line);
fail:
	free(*rows);
	*rows = NULL;
	*nrows = 0;
	return -1;
}
