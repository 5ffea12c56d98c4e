#define _GNU_SOURCE
#include "worker/zip/zip_write.h"

#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fault.h"
#include "worker/zip/pdeflate.h"
#include "worker/zip/zipfmt.h"

/* The earliest time a DOS timestamp can hold: 1980-01-01T00:00:00Z. */
#define DOS_EPOCH 315532800

/* Value of zipw.failed once the end records are out. */
#define ZIPW_FINISHED 2

struct zipw_entry {
	char *name;
	uint16_t nlen;
	uint16_t method;
	int z64; /* the local header has the zip64 field */
	uint32_t crc;
	uint32_t xattr;
	uint64_t csize, usize, offset;
};

/* Where an entry's data comes from: memory, or a file read with pread
 * in pieces. */
struct src {
	const uint8_t *p; /* the data, or NULL: read from fd */
	int fd;
	uint64_t off;	  /* of the data in fd */
	const char *name; /* of fd, for messages */
	uint8_t *buf;	  /* reading from fd: one piece (SRC_PIECE) */
};

/* The piece a file's data is read and handled in. */
#define SRC_PIECE ((size_t)1 << 20)

/* Reads the n bytes at pos of the entry's data (n <= SRC_PIECE) and
 * returns where they are: in memory as given, or in s->buf.  NULL with e
 * filled on a read error or a file shorter than promised. */
static const uint8_t *src_get(struct src *s, uint64_t pos, size_t n,
			      struct sp_err *e)
{
	size_t done = 0;
	ssize_t r;

	if (s->p)
		return s->p + pos;
	if (!s->buf && !(s->buf = malloc(SRC_PIECE))) {
		sp_err_set(e, "out of memory");
		return NULL;
	}
	while (done < n) {
		r = pread(s->fd, s->buf + done, n - done,
			  (off_t)(s->off + pos + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			sp_err_sys(e, "cannot read '%s'", s->name);
			return NULL;
		}
		if (r == 0) {
			sp_err_set(e, "'%s' changed while it was read",
				   s->name);
			return NULL;
		}
		done += (size_t)r;
	}
	return s->buf;
}

/* A growable byte buffer for headers, so that the central directory goes out
 * in a few large writes rather than two per entry. */
struct obuf {
	uint8_t *p;
	size_t len, cap;
};

static int obuf_reserve(struct obuf *b, size_t n, struct sp_err *e)
{
	size_t cap;
	uint8_t *p;

	if (b->cap - b->len >= n)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap - b->len < n) {
		if (cap > SIZE_MAX / 2)
			return sp_err_set(e, "out of memory");
		cap *= 2;
	}
	p = realloc(b->p, cap);
	if (!p)
		return sp_err_set(e, "out of memory");
	b->p = p;
	b->cap = cap;
	return 0;
}

/* Callers reserve first, so the put helpers cannot fail. */
static void put16(struct obuf *b, uint16_t v)
{
	b->p[b->len++] = (uint8_t)v;
	b->p[b->len++] = (uint8_t)(v >> 8);
}

static void put32(struct obuf *b, uint32_t v)
{
	put16(b, (uint16_t)v);
	put16(b, (uint16_t)(v >> 16));
}

static void put64(struct obuf *b, uint64_t v)
{
	put32(b, (uint32_t)v);
	put32(b, (uint32_t)(v >> 32));
}

static void putmem(struct obuf *b, const void *p, size_t n)
{
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void zipw_dos_time(int64_t t, uint16_t *dos_time, uint16_t *dos_date)
{
	struct tm tm;
	time_t tt;

	if (t < DOS_EPOCH)
		t = DOS_EPOCH;
	tt = (time_t)t;
	if ((int64_t)tt != t || !gmtime_r(&tt, &tm) || tm.tm_year > 207) {
		/* Past what DOS can say: its last representable second. */
		tm.tm_year = 207;
		tm.tm_mon = 11;
		tm.tm_mday = 31;
		tm.tm_hour = 23;
		tm.tm_min = 59;
		tm.tm_sec = 58;
	}
	*dos_time =
	    (uint16_t)(tm.tm_hour << 11 | tm.tm_min << 5 | tm.tm_sec / 2);
	*dos_date = (uint16_t)((tm.tm_year - 80) << 9 | (tm.tm_mon + 1) << 5 |
			       tm.tm_mday);
}

static int unusable(const struct zipw *z, struct sp_err *e)
{
	if (z->failed == ZIPW_FINISHED)
		return sp_err_set(
		    e, "cannot write '%s': archive already finished", z->name);
	return sp_err_set(e, "cannot write '%s': an earlier write failed",
			  z->name);
}

/* The one place bytes reach the archive: writes n bytes at offset off, a
 * full-write loop that names the archive in its error.  Every write has an
 * explicit offset (the chunked path writes an entry's header after its
 * data), so the descriptor's file position never matters. */
static int raw_pwrite(struct zipw *z, const void *buf, size_t n, uint64_t off,
		      struct sp_err *e)
{
	const uint8_t *p = buf;
	ssize_t w;

	if (z->failed)
		return unusable(z, e);
	while (n) {
		w = pwrite(z->fd, p, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			/* A zero-byte write of a regular file means the
			 * device is full. */
			if (w == 0)
				errno = ENOSPC;
			z->failed = 1;
			return sp_err_sys(e, "cannot write '%s'", z->name);
		}
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

/* Writes out what zw_write() gathered: it ends at z->off. */
static int pend_flush(struct zipw *z, struct sp_err *e)
{
	size_t n = z->npend;

	z->npend = 0;
	return n ? raw_pwrite(z, z->pend, n, z->off - n, e) : 0;
}

/* A write at an explicit offset, after whatever was gathered (which it may
 * follow or overwrite). */
static int zw_pwrite(struct zipw *z, const void *buf, size_t n, uint64_t off,
		     struct sp_err *e)
{
	if (pend_flush(z, e) < 0)
		return -1;
	return raw_pwrite(z, buf, n, off, e);
}

/* Appends n bytes at the archive's end (z->off) and feeds them to the
 * whole-archive digest.  Small appends are gathered up to ZIPW_PEND bytes
 * first: a small wheel's dozen headers and entries then reach the file in
 * one write, not a dozen. */
static int zw_write(struct zipw *z, const void *buf, size_t n, struct sp_err *e)
{
	if (z->failed)
		return unusable(z, e);
	sha256_update(&z->hash, buf, n);
	if (z->npend + n > ZIPW_PEND && pend_flush(z, e) < 0)
		return -1;
	if (n >= ZIPW_PEND) {
		if (raw_pwrite(z, buf, n, z->off, e) < 0)
			return -1;
	} else {
		if (!z->pend && !(z->pend = malloc(ZIPW_PEND))) {
			z->failed = 1;
			return sp_err_set(e, "out of memory");
		}
		memcpy(z->pend + z->npend, buf, n);
		z->npend += n;
	}
	z->off += n;
	return 0;
}

int zipw_open(struct zipw *z, int fd, const char *name, int64_t timestamp,
	      int level, struct sp_err *e)
{
	memset(z, 0, sizeof(*z));
	z->fd = fd;
	if (level < 0 || level > 12)
		return sp_err_set(e, "invalid compression level %d", level);
	z->level = level;
	z->threads = 0; /* pdeflate_threads(0) when a large entry comes */
	zipw_dos_time(timestamp, &z->dos_time, &z->dos_date);
	z->name = strdup(name);
	if (!z->name)
		return sp_err_set(e, "out of memory");
	if (level > 0) {
		z->comp = libdeflate_alloc_compressor(level);
		if (!z->comp) {
			free(z->name);
			z->name = NULL;
			return sp_err_set(e, "out of memory");
		}
	}
	if (sha256_init(&z->hash, e) < 0) {
		libdeflate_free_compressor(z->comp);
		free(z->name);
		memset(z, 0, sizeof(*z));
		return -1;
	}
	return 0;
}

/* Adds p[0..len) to a CRC-32 and a SHA-256 in one pass, a cache-sized
 * piece at a time. */
static void digest_update(const uint8_t *p, size_t len, uint32_t *crc,
			  struct sha256 *h)
{
	const size_t chunk = 256 * 1024;
	size_t n;

	while (len) {
		n = len < chunk ? len : chunk;
		*crc = libdeflate_crc32(*crc, p, n);
		sha256_update(h, p, n);
		p += n;
		len -= n;
	}
}

static int local_zip64(const struct zipw *z, const struct zipw_entry *ent)
{
	return z->force_zip64 || ent->usize >= ZIP_U32_MAX ||
	       ent->csize >= ZIP_U32_MAX;
}

/* The local header of ent (whose z64 says whether it has the zip64
 * field) into b. */
static int put_local_header(const struct zipw *z, struct obuf *b,
			    const struct zipw_entry *ent, struct sp_err *e)
{
	int z64 = ent->z64;

	if (obuf_reserve(b, 30 + ent->nlen + 20, e) < 0)
		return -1;
	put32(b, ZIP_SIG_LOCAL);
	put16(b, z64 ? ZIP_VERSION_ZIP64 : ZIP_VERSION_DEFAULT);
	put16(b, ZIP_FLAG_UTF8);
	put16(b, ent->method);
	put16(b, z->dos_time);
	put16(b, z->dos_date);
	put32(b, ent->crc);
	put32(b, z64 ? ZIP_U32_MAX : (uint32_t)ent->csize);
	put32(b, z64 ? ZIP_U32_MAX : (uint32_t)ent->usize);
	put16(b, ent->nlen);
	put16(b, z64 ? 20 : 0);
	putmem(b, ent->name, ent->nlen);
	if (z64) {
		/* The local zip64 field carries both sizes, always. */
		put16(b, ZIP_EXTRA_ZIP64);
		put16(b, 16);
		put64(b, ent->usize);
		put64(b, ent->csize);
	}
	return 0;
}

static int write_local_header(struct zipw *z, const struct zipw_entry *ent,
			      struct sp_err *e)
{
	struct obuf b = {0};
	int rc = -1;

	if (put_local_header(z, &b, ent, e) == 0)
		rc = zw_write(z, b.p, b.len, e);
	free(b.p);
	return rc;
}

static int entries_reserve(struct zipw *z, struct sp_err *e)
{
	struct zipw_entry *p;
	size_t cap;

	if (z->nents < z->cap)
		return 0;
	cap = z->cap ? z->cap * 2 : 16;
	if (cap > SIZE_MAX / sizeof(*p))
		return sp_err_set(e, "out of memory");
	p = realloc(z->ents, cap * sizeof(*p));
	if (!p)
		return sp_err_set(e, "out of memory");
	z->ents = p;
	z->cap = cap;
	return 0;
}

/* An entry small enough for one libdeflate call (or stored): digest,
 * compress, then header and data appended at the end. */
static int add_whole(struct zipw *z, struct zipw_entry *ent,
		     const uint8_t *data, size_t len, uint8_t digest[32],
		     struct sp_err *e)
{
	struct sha256 h;
	uint8_t *cbuf = NULL;
	const void *out = data;
	size_t clen;
	int rc = -1;

	if (sha256_init(&h, e) < 0)
		return -1;
	digest_update(data, len, &ent->crc, &h);
	sha256_final(&h, digest);
	ent->method = ZIP_METHOD_STORE;
	ent->csize = len;
	/* Deflate into a buffer one byte smaller than the input: when the
	 * result does not fit, storing is the smaller choice and libdeflate
	 * says so by returning 0. */
	if (z->comp && len > 1) {
		cbuf = malloc(len - 1);
		if (!cbuf)
			return sp_err_set(e, "out of memory");
		clen = libdeflate_deflate_compress(z->comp, data, len, cbuf,
						   len - 1);
		if (clen) {
			ent->method = ZIP_METHOD_DEFLATE;
			ent->csize = clen;
			out = cbuf;
		}
	}
	ent->z64 = local_zip64(z, ent);
	fault_point("write");
	if (write_local_header(z, ent, e) == 0 &&
	    zw_write(z, out, (size_t)ent->csize, e) == 0)
		rc = 0;
	free(cbuf);
	return rc;
}

/* A chunked entry (pdeflate.h) while its pieces come in. */
struct chunked {
	struct zipw *z;
	uint32_t crc;
	struct sha256 h; /* of the entry's data, for RECORD */
	int stream;	 /* pieces go to the file as they come, at off */
	uint64_t off;
	uint64_t csize;	 /* the deflate stream's length so far */
	struct obuf mem; /* not streaming: the whole stream */
};

static int chunk_sink(void *arg, const struct pdeflate_piece *p,
		      struct sp_err *e)
{
	struct chunked *c = arg;

	digest_update(p->in, p->in_len, &c->crc, &c->h);
	c->csize += p->out_len;
	if (!c->stream) {
		if (obuf_reserve(&c->mem, p->out_len, e) < 0)
			return -1;
		putmem(&c->mem, p->out, p->out_len);
		return 0;
	}
	fault_point("write");
	if (zw_pwrite(c->z, p->out, p->out_len, c->off, e) < 0)
		return -1;
	/* Start the write-back of this piece now, while later ones are
	 * compressed, so that the final fsync has little left to wait for.
	 * Only advice: where it fails, the fsync does it all. */
	sync_file_range(c->z->fd, (off_t)c->off, (off_t)p->out_len,
			SYNC_FILE_RANGE_WRITE);
	c->off += p->out_len;
	return 0;
}

/* Appends the len bytes of data at the archive's end, a piece at a
 * time. */
static int append_src(struct zipw *z, struct src *data, uint64_t len,
		      struct sp_err *e)
{
	const uint8_t *p;
	uint64_t pos;
	size_t n;

	if (data->p)
		return zw_write(z, data->p, (size_t)len, e);
	for (pos = 0; pos < len; pos += n) {
		n = len - pos < SRC_PIECE ? (size_t)(len - pos) : SRC_PIECE;
		if (!(p = src_get(data, pos, n, e)) || zw_write(z, p, n, e) < 0)
			return -1;
	}
	return 0;
}

/* An entry stored from a file (no compressor, and more than one piece):
 * a first pass for the CRC and the digest, which the header needs, then
 * the header and a second pass that copies the data. */
static int add_stored_src(struct zipw *z, struct zipw_entry *ent,
			  struct src *data, uint64_t len, uint8_t digest[32],
			  struct sp_err *e)
{
	const uint8_t *p;
	struct sha256 h;
	uint64_t pos;
	size_t n;

	if (sha256_init(&h, e) < 0)
		return -1;
	for (pos = 0; pos < len; pos += n) {
		n = len - pos < SRC_PIECE ? (size_t)(len - pos) : SRC_PIECE;
		if (!(p = src_get(data, pos, n, e))) {
			sha256_release(&h);
			return -1;
		}
		digest_update(p, n, &ent->crc, &h);
	}
	sha256_final(&h, digest);
	ent->method = ZIP_METHOD_STORE;
	ent->csize = len;
	ent->z64 = local_zip64(z, ent);
	fault_point("write");
	if (write_local_header(z, ent, e) < 0)
		return -1;
	return append_src(z, data, len, e);
}

/* Buffer size for reading a streamed entry back. */
#define READ_BACK ((size_t)1 << 20)

/* The end of a streamed chunked entry: the data in place (written is how
 * much of the deflate stream is), the header still to write. */
static int finish_streamed(struct zipw *z, const struct zipw_entry *ent,
			   struct src *data, uint64_t data_off,
			   uint64_t written, struct sp_err *e)
{
	struct obuf hdr = {0};
	uint8_t *buf = NULL;
	uint64_t pos, end = data_off + ent->csize;
	size_t n;
	ssize_t r;
	int rc = -1;

	if (ent->method == ZIP_METHOD_STORE) {
		/* Deflate did not pay off: the data replaces the stream. */
		for (pos = 0; pos < ent->csize; pos += n) {
			const uint8_t *p;

			n = ent->csize - pos < SRC_PIECE
				? (size_t)(ent->csize - pos)
				: SRC_PIECE;
			if (pos % PDEFLATE_CHUNK == 0)
				fault_point("write");
			if (!(p = src_get(data, pos, n, e)))
				goto out;
			if (zw_pwrite(z, p, n, data_off + pos, e) < 0)
				goto out;
		}
		if (written > ent->csize && ftruncate(z->fd, (off_t)end) < 0) {
			z->failed = 1;
			sp_err_sys(e, "cannot write '%s'", z->name);
			goto out;
		}
	}
	if (put_local_header(z, &hdr, ent, e) < 0)
		goto out;
	fault_point("write");
	if (zw_pwrite(z, hdr.p, hdr.len, ent->offset, e) < 0)
		goto out;
	/* The archive's digest takes its bytes in order, and the header
	 * went out last: the data is read back from the page cache. */
	buf = malloc(READ_BACK);
	if (!buf) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	sha256_update(&z->hash, hdr.p, hdr.len);
	for (pos = data_off; pos < end; pos += (uint64_t)r) {
		n = end - pos < READ_BACK ? (size_t)(end - pos) : READ_BACK;
		r = pread(z->fd, buf, n, (off_t)pos);
		if (r < 0 && errno == EINTR) {
			r = 0;
			continue;
		}
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			z->failed = 1;
			sp_err_sys(e, "cannot read back '%s'", z->name);
			goto out;
		}
		sha256_update(&z->hash, buf, (size_t)r);
	}
	z->off = end;
	rc = 0;
out:
	free(hdr.p);
	free(buf);
	return rc;
}

/* An entry of more than one chunk: deflated on several threads
 * (pdeflate.h).  On a descriptor open for reading and writing, each piece
 * is written as soon as it and all before it are done, after a gap for
 * the header, which holds the CRC and sizes and so goes out last;
 * otherwise the stream is gathered in memory and written like a whole
 * entry.  Both give the same bytes. */
static int add_chunked(struct zipw *z, struct zipw_entry *ent, struct src *data,
		       size_t len, uint8_t digest[32], struct sp_err *e)
{
	struct chunked c = {0};
	uint64_t data_off;
	unsigned threads;
	int flags, rc = -1;

	/* The header's length must be known before its fields are: it has
	 * the zip64 field whenever the sizes might need it. */
	ent->z64 = z->force_zip64 || len >= ZIP_U32_MAX ||
		   pdeflate_bound(len) >= ZIP_U32_MAX;
	data_off = z->off + 30 + ent->nlen + (ent->z64 ? 20 : 0);
	flags = fcntl(z->fd, F_GETFL);
	c.z = z;
	c.stream =
	    flags >= 0 && (flags & O_ACCMODE) == O_RDWR && !(flags & O_APPEND);
	c.off = data_off;
	if (sha256_init(&c.h, e) < 0)
		return -1;
	threads = z->threads ? z->threads : pdeflate_threads(0);
	if ((data->p ? pdeflate_run(data->p, len, z->level, threads,
				    chunk_sink, &c, e)
		     : pdeflate_run_fd(data->fd, data->off, len, data->name,
				       z->level, threads, chunk_sink, &c,
				       e)) < 0) {
		sha256_release(&c.h);
		/* Pieces may be in the file past z->off. */
		z->failed = 1;
		goto out;
	}
	sha256_final(&c.h, digest);
	ent->crc = c.crc;
	ent->method = ZIP_METHOD_DEFLATE;
	ent->csize = c.csize;
	if (c.csize >= len) {
		ent->method = ZIP_METHOD_STORE;
		ent->csize = len;
	}
	if (c.stream) {
		rc = finish_streamed(z, ent, data, data_off, c.csize, e);
	} else {
		fault_point("write");
		if (write_local_header(z, ent, e) == 0 &&
		    (ent->method == ZIP_METHOD_STORE
			 ? append_src(z, data, len, e)
			 : zw_write(z, c.mem.p, (size_t)ent->csize, e)) == 0)
			rc = 0;
	}
out:
	free(c.mem.p);
	return rc;
}

/* zipw_add and zipw_add_fd: the entry name's checks, then the data by
 * the path its size and the compressor call for. */
static int add_entry(struct zipw *z, const char *name, struct src *data,
		     uint64_t len, mode_t mode, char sha256[ZIPW_B64_SHA256],
		     struct sp_err *e)
{
	struct zipw_entry ent = {0};
	uint8_t digest[32];
	size_t nlen = strlen(name);
	int rc;

	if (z->failed)
		return unusable(z, e);
	if (zip_name_check(name, nlen, 0, e) < 0)
		return sp_err_wrap(e, "cannot add '%s' to '%s'", name,
				   z->name);
	/* The rule leaves the width of the name field to the writer. */
	if (nlen > ZIP_U16_MAX)
		return sp_err_set(e,
				  "cannot add to '%s': zip entry name is too "
				  "long (%zu bytes)",
				  z->name, nlen);
	/* Room first, so that recording the entry cannot fail once its
	 * bytes are in the archive. */
	if (zip_names_reserve(&z->names, z->nents + 1, e) < 0 ||
	    entries_reserve(z, e) < 0)
		return -1;
	if (zip_names_find(&z->names, name) >= 0)
		return sp_err_set(e, "cannot add '%s' to '%s': duplicate entry",
				  name, z->name);
	ent.name = strdup(name);
	if (!ent.name)
		return sp_err_set(e, "out of memory");
	ent.nlen = (uint16_t)nlen;
	ent.offset = z->off;
	ent.usize = len;
	ent.xattr = (uint32_t)((mode & 0111) ? 0100755 : 0100644) << 16;
	if (len > SIZE_MAX) {
		free(ent.name);
		return sp_err_set(e, "cannot add '%s' to '%s': too large", name,
				  z->name);
	}
	if (z->comp && len > PDEFLATE_MIN)
		rc = add_chunked(z, &ent, data, (size_t)len, digest, e);
	else if (data->p || len == 0)
		rc = add_whole(z, &ent, data->p ? data->p : (const uint8_t *)"",
			       (size_t)len, digest, e);
	else if (!z->comp && len > SRC_PIECE)
		rc = add_stored_src(z, &ent, data, len, digest, e);
	else {
		/* Small enough to hold: one piece, or one chunk. */
		uint8_t *buf = malloc((size_t)len);
		struct src whole = *data;

		whole.buf = buf;
		rc = -1;
		if (!buf)
			sp_err_set(e, "out of memory");
		else if (src_get(&whole, 0, (size_t)len, e) == buf)
			rc = add_whole(z, &ent, buf, (size_t)len, digest, e);
		free(buf);
	}
	if (rc < 0) {
		free(ent.name);
		return -1;
	}
	z->ents[z->nents] = ent;
	/* Cannot fail: the room was reserved above. */
	(void)zip_names_add(&z->names, ent.name, z->nents, NULL, e);
	z->nents++;
	if (sha256)
		b64url_nopad(digest, sizeof(digest), sha256);
	return 0;
}

int zipw_add(struct zipw *z, const char *name, const void *data, size_t len,
	     mode_t mode, char sha256[ZIPW_B64_SHA256], struct sp_err *e)
{
	struct src s = {.p = data ? data : (const void *)"", .fd = -1};

	return add_entry(z, name, &s, len, mode, sha256, e);
}

int zipw_add_fd(struct zipw *z, const char *name, int fd, uint64_t off,
		uint64_t len, const char *fd_name, mode_t mode,
		char sha256[ZIPW_B64_SHA256], struct sp_err *e)
{
	struct src s = {.fd = fd, .off = off, .name = fd_name};
	int rc;

	rc = add_entry(z, name, &s, len, mode, sha256, e);
	free(s.buf);
	return rc;
}

static int flush_obuf(struct zipw *z, struct obuf *b, struct sp_err *e)
{
	int rc = zw_write(z, b->p, b->len, e);

	b->len = 0;
	return rc;
}

static int put_central(struct zipw *z, struct obuf *b,
		       const struct zipw_entry *ent, struct sp_err *e)
{
	int big_u = z->force_zip64 || ent->usize >= ZIP_U32_MAX;
	int big_c = z->force_zip64 || ent->csize >= ZIP_U32_MAX;
	int big_o = z->force_zip64 || ent->offset >= ZIP_U32_MAX;
	uint16_t xlen = (uint16_t)(8 * (big_u + big_c + big_o));
	uint16_t ver = xlen ? ZIP_VERSION_ZIP64 : ZIP_VERSION_DEFAULT;

	if (obuf_reserve(b, 46 + ent->nlen + 4 + xlen, e) < 0)
		return -1;
	put32(b, ZIP_SIG_CENTRAL);
	put16(b, ZIP_MADE_BY_UNIX << 8 | ver);
	put16(b, ver);
	put16(b, ZIP_FLAG_UTF8);
	put16(b, ent->method);
	put16(b, z->dos_time);
	put16(b, z->dos_date);
	put32(b, ent->crc);
	put32(b, big_c ? ZIP_U32_MAX : (uint32_t)ent->csize);
	put32(b, big_u ? ZIP_U32_MAX : (uint32_t)ent->usize);
	put16(b, ent->nlen);
	put16(b, xlen ? xlen + 4 : 0);
	put16(b, 0); /* comment */
	put16(b, 0); /* disk number start */
	put16(b, 0); /* internal attributes */
	put32(b, ent->xattr);
	put32(b, big_o ? ZIP_U32_MAX : (uint32_t)ent->offset);
	putmem(b, ent->name, ent->nlen);
	if (xlen) {
		/* Only the fields that overflowed, in the order the
		 * specification fixes. */
		put16(b, ZIP_EXTRA_ZIP64);
		put16(b, xlen);
		if (big_u)
			put64(b, ent->usize);
		if (big_c)
			put64(b, ent->csize);
		if (big_o)
			put64(b, ent->offset);
	}
	return 0;
}

static int put_end(struct zipw *z, struct obuf *b, uint64_t cd_off,
		   uint64_t cd_size, struct sp_err *e)
{
	uint64_t n = z->nents, eocd64_off;
	int z64 = z->force_zip64 || n >= ZIP_U16_MAX ||
		  cd_off >= ZIP_U32_MAX || cd_size >= ZIP_U32_MAX;

	if (obuf_reserve(b, 56 + 20 + 22, e) < 0)
		return -1;
	if (z64) {
		eocd64_off = cd_off + cd_size;
		put32(b, ZIP_SIG_EOCD64);
		put64(b, 44); /* size of the rest of this record */
		put16(b, ZIP_MADE_BY_UNIX << 8 | ZIP_VERSION_ZIP64);
		put16(b, ZIP_VERSION_ZIP64);
		put32(b, 0); /* this disk */
		put32(b, 0); /* disk of the central directory */
		put64(b, n);
		put64(b, n);
		put64(b, cd_size);
		put64(b, cd_off);
		put32(b, ZIP_SIG_LOC64);
		put32(b, 0);
		put64(b, eocd64_off);
		put32(b, 1); /* total disks */
	}
	put32(b, ZIP_SIG_EOCD);
	put16(b, 0);
	put16(b, 0);
	put16(b, z64 && (z->force_zip64 || n >= ZIP_U16_MAX) ? ZIP_U16_MAX
							       : (uint16_t)n);
	put16(b, z64 && (z->force_zip64 || n >= ZIP_U16_MAX) ? ZIP_U16_MAX
							       : (uint16_t)n);
	put32(b, z64 && (z->force_zip64 || cd_size >= ZIP_U32_MAX)
		     ? ZIP_U32_MAX
		     : (uint32_t)cd_size);
	put32(b, z64 && (z->force_zip64 || cd_off >= ZIP_U32_MAX)
		     ? ZIP_U32_MAX
		     : (uint32_t)cd_off);
	put16(b, 0); /* comment length */
	return 0;
}

int zipw_finish(struct zipw *z, uint8_t digest[32], uint64_t *size,
		struct sp_err *e)
{
	struct obuf b = {0};
	uint64_t cd_off = z->off;
	size_t i;
	int rc = -1;

	if (z->failed)
		return unusable(z, e);
	fault_point("write");
	for (i = 0; i < z->nents; i++) {
		if (put_central(z, &b, &z->ents[i], e) < 0)
			goto out;
		if (b.len >= (1u << 20) && flush_obuf(z, &b, e) < 0)
			goto out;
	}
	if (flush_obuf(z, &b, e) < 0)
		goto out;
	if (put_end(z, &b, cd_off, z->off - cd_off, e) < 0 ||
	    flush_obuf(z, &b, e) < 0 || pend_flush(z, e) < 0)
		goto out;
	if (size)
		*size = z->off;
	if (digest)
		sha256_final(&z->hash, digest);
	else
		sha256_release(&z->hash);
	/* The archive is complete: nothing more may be added. */
	z->failed = ZIPW_FINISHED;
	rc = 0;
out:
	free(b.p);
	return rc;
}

void zipw_release(struct zipw *z)
{
	size_t i;

	for (i = 0; i < z->nents; i++)
		free(z->ents[i].name);
	free(z->ents);
	zip_names_release(&z->names);
	free(z->name);
	free(z->pend);
	libdeflate_free_compressor(z->comp);
	sha256_release(&z->hash);
	memset(z, 0, sizeof(*z));
	z->fd = -1;
}
