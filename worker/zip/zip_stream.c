#include "worker/zip/zip_stream.h"

#include <archive.h>
#include <archive_entry.h>
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/sha256.h"

/* One pass over the archive. */
struct pass {
	struct zip_archive *za;
	enum zip_pass kind;
	uint64_t max_bytes;
	uint64_t *bytes_read;
	const struct zip_consumer *c;
	struct archive *a;
	uint8_t *buf; /* ZIP_STREAM_BUF bytes */
};

static int consume(const struct pass *p, struct zip_entry *ent, size_t n,
		   struct sp_err *e)
{
	return p->c->data ? p->c->data(p->c->arg, ent, p->buf, n, e) : 0;
}

static int finish(const struct pass *p, struct zip_entry *ent, int intact,
		  struct sp_err *e)
{
	return p->c->end ? p->c->end(p->c->arg, ent, intact, e) : 0;
}

/* The first pass over one entry: bounded, digested, checked.  Returns -1
 * on a fatal error (e), 1 when the pass must stop, else 0. */
static int read_checked(const struct pass *p, struct zip_entry *ent,
			struct sp_err *e)
{
	const struct zip_archive *za = p->za;
	struct sha256 h;
	uint8_t digest[32];
	uint64_t got = 0;
	uint32_t crc = 0;
	la_ssize_t n;
	int stop = 0, bad = 0;

	if (sha256_init(&h, e) < 0)
		return -1;
	for (;;) {
		n = archive_read_data(p->a, p->buf, ZIP_STREAM_BUF);
		if (n == 0)
			break;
		if (n < 0) {
			zip_problem(za, ent->name, "cannot read its data: %s",
				    archive_error_string(p->a));
			bad = 1;
			if (n == ARCHIVE_FATAL)
				stop = 1;
			break;
		}
		got += (uint64_t)n;
		*p->bytes_read += (uint64_t)n;
		if (got > ent->usize) {
			zip_problem(za, ent->name,
				    "expands past its declared size of %llu "
				    "bytes (a zip bomb?)",
				    (unsigned long long)ent->usize);
			bad = 1;
			break;
		}
		if (*p->bytes_read > p->max_bytes) {
			zip_problem(za, NULL,
				    "more than %llu bytes decompressed: "
				    "stopped (see --max-size)",
				    (unsigned long long)p->max_bytes);
			bad = stop = 1;
			break;
		}
		crc = libdeflate_crc32(crc, p->buf, (size_t)n);
		sha256_update(&h, p->buf, (size_t)n);
		if (consume(p, ent, (size_t)n, e) < 0) {
			sha256_release(&h);
			return -1;
		}
	}
	if (!bad && got != ent->usize) {
		zip_problem(za, ent->name,
			    "holds %llu bytes, not the declared %llu",
			    (unsigned long long)got,
			    (unsigned long long)ent->usize);
		bad = 1;
	}
	if (!bad && crc != ent->crc) {
		zip_problem(za, ent->name, "its CRC-32 does not match");
		bad = 1;
	}
	sha256_final(&h, digest);
	if (!bad) {
		ent->hashed = 1;
		b64url_nopad(digest, sizeof(digest), ent->sha256);
	}
	if (finish(p, ent, !bad, e) < 0)
		return -1;
	return stop;
}

/* A later pass over one entry the first found intact: only its bytes to
 * the consumer.  Returns -1 on a fatal error (e), 1 when the pass must
 * stop, else 0. */
static int read_again(const struct pass *p, struct zip_entry *ent,
		      struct sp_err *e)
{
	la_ssize_t n;

	while ((n = archive_read_data(p->a, p->buf, ZIP_STREAM_BUF)) > 0)
		if (consume(p, ent, (size_t)n, e) < 0)
			return -1;
	if (n < 0)
		zip_problem(p->za, ent->name, "cannot read its data again: %s",
			    archive_error_string(p->a));
	if (finish(p, ent, n == 0, e) < 0)
		return -1;
	return n == ARCHIVE_FATAL;
}

/* libarchive's seekable reader takes the entries in the order of their
 * local headers; each is matched to its central record by name when
 * libarchive gives the name back unchanged (names are unique by now),
 * else by position. */
static int walk(struct pass *p, struct sp_err *e)
{
	struct zip_archive *za = p->za;
	struct archive_entry *ae;
	struct zip_entry *ent;
	size_t i;
	long idx;
	int st;

	for (i = 0;; i++) {
		st = archive_read_next_header(p->a, &ae);
		if (st == ARCHIVE_EOF)
			break;
		if (st < ARCHIVE_WARN) {
			zip_problem(za, NULL, "libarchive cannot read it: %s",
				    archive_error_string(p->a));
			break;
		}
		if (i >= za->nents) {
			zip_problem(za, NULL,
				    "libarchive finds more entries than the "
				    "central directory holds");
			break;
		}
		idx = archive_entry_pathname(ae)
			  ? zip_find(za, archive_entry_pathname(ae))
			  : -1;
		ent = &za->ents[idx >= 0 ? (size_t)idx : za->order[i]];
		if (archive_entry_size_is_set(ae) &&
		    (uint64_t)archive_entry_size(ae) != ent->usize &&
		    !ent->is_dir) {
			zip_problem(za, ent->name,
				    "libarchive reads another size for it");
			break;
		}
		/* libarchive turns a link's data into its target. */
		if (S_ISLNK(ent->mode))
			continue;
		st = p->c->begin ? p->c->begin(p->c->arg, ent, e) : 0;
		if (st < 0)
			return -1;
		if (st > 0)
			continue;
		st = p->kind == ZIP_PASS_AGAIN ? read_again(p, ent, e)
					       : read_checked(p, ent, e);
		if (st < 0)
			return -1;
		if (st > 0)
			break;
	}
	return 0;
}

int zip_stream_read(struct zip_archive *za, enum zip_pass pass,
		    uint64_t max_bytes, uint64_t *bytes_read,
		    const struct zip_consumer *c, struct sp_err *e)
{
	struct pass p = {.za = za,
			 .kind = pass,
			 .max_bytes = max_bytes,
			 .bytes_read = bytes_read,
			 .c = c};
	uint64_t declared = 0;
	size_t i;
	int rc = -1;

	for (i = 0; i < za->nents; i++) {
		declared += za->ents[i].usize;
		if (declared < za->ents[i].usize)
			declared = UINT64_MAX;
	}
	if (declared > max_bytes) {
		zip_problem(za, NULL,
			    "its entries declare %llu bytes in total, more "
			    "than the limit of %llu (see --max-size): not "
			    "read",
			    (unsigned long long)declared,
			    (unsigned long long)max_bytes);
		return 0;
	}
	p.buf = malloc(ZIP_STREAM_BUF);
	p.a = archive_read_new();
	if (!p.buf || !p.a) {
		free(p.buf);
		if (p.a)
			archive_read_free(p.a);
		return sp_err_set(e, "out of memory");
	}
	if (archive_read_support_format_zip_seekable(p.a) != ARCHIVE_OK ||
	    archive_read_open_fd(p.a, za->fd, ZIP_STREAM_BUF) != ARCHIVE_OK) {
		zip_problem(za, NULL, "libarchive cannot read it: %s",
			    archive_error_string(p.a));
		rc = 0;
		goto out;
	}
	rc = walk(&p, e);
out:
	archive_read_free(p.a);
	free(p.buf);
	return rc;
}
