/*
 * Unit tests of worker/zip/zip_write: names, encoding helpers, and archives checked
 * three ways: by a small central-directory reader here, by unzip -t and by
 * Python's zipfile, when those tools exist.
 */
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsx.h"
#include "common/path.h"
#include "common/sha256.h"
#include "worker/zip/pdeflate.h"
#include "worker/zip/zip_write.h"

#define PYTHON "/usr/bin/python3"

#define SCRATCH_NAME "zipw"
#include "tests/unit/scratch.h"

static int have(const char *path)
{
	return access(path, X_OK) == 0;
}

/* Runs "unzip -tqq" on path, when unzip exists: 1 ok, 0 bad, -1 absent. */
static int unzip_ok(const char *path)
{
	char cmd[512];

	if (!have("/usr/bin/unzip"))
		return -1;
	snprintf(cmd, sizeof(cmd), "/usr/bin/unzip -tqq '%s' >/dev/null", path);
	return system(cmd) == 0;
}

/* Python's zipfile reads every entry and checks its CRC; it also checks
 * that the number of entries matches. */
static int python_ok(const char *path, size_t nentries)
{
	char cmd[1024];

	if (!have(PYTHON))
		return -1;
	snprintf(cmd, sizeof(cmd),
		 PYTHON " -c 'import zipfile,sys\n"
			"z = zipfile.ZipFile(sys.argv[1])\n"
			"sys.exit(z.testzip() is not None or "
			"len(z.infolist()) != %zu)' '%s'",
		 nentries, path);
	return system(cmd) == 0;
}

/* --- a small reader, independent of the writer's code --- */

struct zent {
	char *name;
	uint16_t made_by, needed, flags, method, time, date;
	uint32_t crc, xattr;
	uint64_t csize, usize, off;
};

struct zfile {
	uint8_t *buf;
	size_t len;
	struct zent *ents;
	uint64_t n;
	int zip64_end;
};

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void zfile_load(struct zfile *zf, const char *path)
{
	struct sp_err e;
	const uint8_t *eocd, *p, *x;
	uint64_t cd_off, cd_size, i;
	size_t xlen;

	memset(zf, 0, sizeof(*zf));
	zf->buf = (uint8_t *)fsx_read_all(path, &zf->len, &e);
	assert_non_null(zf->buf);
	assert_true(zf->len >= 22);
	eocd = zf->buf + zf->len - 22;
	assert_int_equal(rd32(eocd), 0x06054b50);
	assert_int_equal(rd16(eocd + 20), 0); /* no comment */
	zf->n = rd16(eocd + 10);
	cd_size = rd32(eocd + 12);
	cd_off = rd32(eocd + 16);
	if (zf->len >= 22 + 20 && rd32(eocd - 20) == 0x07064b50) {
		p = zf->buf + rd64(eocd - 20 + 8);
		assert_int_equal(rd32(p), 0x06064b50);
		assert_int_equal(rd64(p + 4), 44);
		zf->n = rd64(p + 32);
		cd_size = rd64(p + 40);
		cd_off = rd64(p + 48);
		assert_int_equal(rd64(p + 24), zf->n);
		/* The record sits right after the central directory. */
		assert_int_equal(cd_off + cd_size, (uint64_t)(p - zf->buf));
		zf->zip64_end = 1;
	} else {
		assert_int_equal(cd_off + cd_size, zf->len - 22);
	}
	zf->ents = calloc(zf->n ? zf->n : 1, sizeof(*zf->ents));
	assert_non_null(zf->ents);
	p = zf->buf + cd_off;
	for (i = 0; i < zf->n; i++) {
		struct zent *z = &zf->ents[i];

		assert_true(p + 46 <= zf->buf + cd_off + cd_size);
		assert_int_equal(rd32(p), 0x02014b50);
		z->made_by = rd16(p + 4);
		z->needed = rd16(p + 6);
		z->flags = rd16(p + 8);
		z->method = rd16(p + 10);
		z->time = rd16(p + 12);
		z->date = rd16(p + 14);
		z->crc = rd32(p + 16);
		z->csize = rd32(p + 20);
		z->usize = rd32(p + 24);
		z->xattr = rd32(p + 38);
		z->off = rd32(p + 42);
		z->name = strndup((const char *)p + 46, rd16(p + 28));
		xlen = rd16(p + 30);
		assert_int_equal(rd16(p + 32), 0);
		x = p + 46 + rd16(p + 28);
		if (xlen) {
			/* The only extra field allowed is zip64. */
			assert_int_equal(rd16(x), 1);
			assert_int_equal(rd16(x + 2) + 4, xlen);
			x += 4;
			if (z->usize == 0xffffffff) {
				z->usize = rd64(x);
				x += 8;
			}
			if (z->csize == 0xffffffff) {
				z->csize = rd64(x);
				x += 8;
			}
			if (z->off == 0xffffffff)
				z->off = rd64(x);
		}
		p += 46 + rd16(p + 28) + xlen;
	}
	assert_ptr_equal(p, zf->buf + cd_off + cd_size);
}

/* Checks the local header of entry i and returns its data (malloc'd). */
static uint8_t *zfile_data(struct zfile *zf, size_t i)
{
	struct zent *z = &zf->ents[i];
	const uint8_t *h = zf->buf + z->off;
	uint8_t *out;
	size_t got = 0;
	struct libdeflate_decompressor *d;

	assert_int_equal(rd32(h), 0x04034b50);
	assert_int_equal(rd16(h + 6), z->flags);
	assert_int_equal(rd16(h + 8), z->method);
	assert_int_equal(rd32(h + 14), z->crc);
	assert_int_equal(rd16(h + 26), strlen(z->name));
	assert_memory_equal(h + 30, z->name, strlen(z->name));
	h += 30 + rd16(h + 26) + rd16(h + 28);
	out = malloc(z->usize + 1);
	assert_non_null(out);
	if (z->method == 0) {
		assert_int_equal(z->csize, z->usize);
		memcpy(out, h, z->usize);
	} else {
		assert_int_equal(z->method, 8);
		assert_true(z->csize < z->usize);
		d = libdeflate_alloc_decompressor();
		assert_int_equal(libdeflate_deflate_decompress(
				     d, h, z->csize, out, z->usize, &got),
				 LIBDEFLATE_SUCCESS);
		assert_int_equal(got, z->usize);
		libdeflate_free_decompressor(d);
	}
	assert_int_equal(libdeflate_crc32(0, out, z->usize), z->crc);
	return out;
}

static void zfile_free(struct zfile *zf)
{
	uint64_t i;

	for (i = 0; i < zf->n; i++)
		free(zf->ents[i].name);
	free(zf->ents);
	free(zf->buf);
}

/* --- tests --- */

static void test_dos_time(void **state)
{
	uint16_t t, d;

	(void)state;
	/* Before 1980 clamps to its first second. */
	zipw_dos_time(0, &t, &d);
	assert_int_equal(t, 0);
	assert_int_equal(d, (0 << 9) | (1 << 5) | 1);
	/* 2021-01-02T03:04:06Z */
	zipw_dos_time(1609556646, &t, &d);
	assert_int_equal(t, (3 << 11) | (4 << 5) | 3);
	assert_int_equal(d, (41 << 9) | (1 << 5) | 2);
	/* After 2107 clamps to its last second. */
	zipw_dos_time(INT64_MAX, &t, &d);
	assert_int_equal(d, (127 << 9) | (12 << 5) | 31);
	assert_int_equal(t, (23 << 11) | (59 << 5) | 29);
}

/* zipw_add holds names to the entry-name rule (zipfmt.h, tested in
 * test_zip_fmt.c) without the directory allowance, and to the width of
 * the name field; the message names the entry and the archive. */
static void test_name_check(void **state)
{
	static const char *const bad[] = {"../x", "a/", "a\\b", "\xff"};
	char path[128], *longname;
	struct zipw z;
	struct sp_err e;
	size_t i;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/names.zip", tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(zipw_open(&z, fd, path, 0, 6, &e), 0);
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		sp_err_clear(&e);
		assert_int_equal(zipw_add(&z, bad[i], "x", 1, 0644, NULL, &e),
				 -1);
		assert_non_null(strstr(e.msg, "cannot add '"));
		assert_non_null(strstr(e.msg, "the name "));
	}
	longname = malloc(70000);
	assert_non_null(longname);
	memset(longname, 'a', 69999);
	longname[69999] = '\0';
	assert_int_equal(zipw_add(&z, longname, "x", 1, 0644, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "too long"));
	free(longname);
	/* A refused name leaves the archive usable. */
	assert_int_equal(zipw_add(&z, "a/b.py", "x", 1, 0644, NULL, &e), 0);
	assert_int_equal(zipw_finish(&z, NULL, NULL, &e), 0);
	zipw_release(&z);
	close(fd);
	unlink(path);
}

static void fill_random(uint8_t *p, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

/* Writes the same small archive used by several tests. */
static void write_sample(const char *path, int level, int force_zip64,
			 uint8_t digest[32])
{
	static uint8_t rnd[5000];
	char text[8192], sha[ZIPW_B64_SHA256], want[ZIPW_B64_SHA256];
	uint8_t d[32];
	struct zipw z;
	struct sp_err e;
	struct stat st;
	uint64_t size;
	int fd;
	size_t i;

	for (i = 0; i + 1 < sizeof(text); i++)
		text[i] = "spoke writes wheels\n"[i % 20];
	text[sizeof(text) - 1] = '\0';
	fill_random(rnd, sizeof(rnd), 42);

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(zipw_open(&z, fd, path, 1609556646, level, &e), 0);
	z.force_zip64 = force_zip64;
	assert_int_equal(
	    zipw_add(&z, "text.txt", text, strlen(text), 0644, sha, &e), 0);
	sha256_buf(text, strlen(text), d);
	b64url_nopad(d, 32, want);
	assert_string_equal(sha, want);
	assert_int_equal(
	    zipw_add(&z, "pkg/rnd.so", rnd, sizeof(rnd), 0755, sha, &e), 0);
	assert_int_equal(zipw_add(&z, "empty", "", 0, 0644, NULL, &e), 0);
	assert_int_equal(zipw_add(&z, "one", "x", 1, 0600, NULL, &e), 0);
	assert_int_equal(
	    zipw_add(&z, "caf\xc3\xa9.txt", "caf\xc3\xa9", 5, 0644, NULL, &e),
	    0);
	/* A duplicate or a bad name is refused and leaves the archive
	 * usable. */
	assert_int_equal(zipw_add(&z, "text.txt", "x", 1, 0644, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "duplicate"));
	assert_int_equal(zipw_add(&z, "../x", "x", 1, 0644, NULL, &e), -1);
	assert_int_equal(zipw_finish(&z, digest, &size, &e), 0);
	/* A finished archive takes no more entries. */
	assert_int_equal(zipw_add(&z, "late", "x", 1, 0644, NULL, &e), -1);
	zipw_release(&z);
	assert_int_equal(close(fd), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(size, (uint64_t)st.st_size);
}

static void check_sample(const char *path, int level, int zip64)
{
	struct zfile zf;
	uint8_t *data;
	size_t i;

	zfile_load(&zf, path);
	assert_int_equal(zf.n, 5);
	assert_int_equal(zf.zip64_end, zip64);
	assert_string_equal(zf.ents[0].name, "text.txt");
	assert_string_equal(zf.ents[1].name, "pkg/rnd.so");
	assert_string_equal(zf.ents[2].name, "empty");
	assert_string_equal(zf.ents[3].name, "one");
	assert_string_equal(zf.ents[4].name, "caf\xc3\xa9.txt");
	/* Repetitive text deflates; random bytes and tiny entries do not. */
	assert_int_equal(zf.ents[0].method, level ? 8 : 0);
	assert_int_equal(zf.ents[1].method, 0);
	assert_int_equal(zf.ents[2].method, 0);
	assert_int_equal(zf.ents[3].method, 0);
	assert_int_equal(zf.ents[1].xattr, 0100755u << 16);
	assert_int_equal(zf.ents[0].xattr, 0100644u << 16);
	assert_int_equal(zf.ents[3].xattr, 0100644u << 16);
	for (i = 0; i < zf.n; i++) {
		assert_int_equal(zf.ents[i].flags, 0x0800);
		assert_int_equal(zf.ents[i].made_by >> 8, 3);
		assert_int_equal(zf.ents[i].made_by & 0xff, zip64 ? 45 : 20);
		assert_int_equal(zf.ents[i].time, (3 << 11) | (4 << 5) | 3);
		assert_int_equal(zf.ents[i].date, (41 << 9) | (1 << 5) | 2);
		data = zfile_data(&zf, i);
		free(data);
	}
	zfile_free(&zf);
}

static void test_round_trip(void **state)
{
	char *p = tpath("sample.zip");
	uint8_t d1[32], d2[32], d3[32];
	char hex[65], want[65];
	struct sp_err e;

	(void)state;
	write_sample(p, 6, 0, d1);
	check_sample(p, 6, 0);
	assert_int_not_equal(unzip_ok(p), 0);
	assert_int_not_equal(python_ok(p, 5), 0);
	/* The digest is of the bytes on disk. */
	hex_encode(d1, 32, hex);
	assert_int_equal(sha256_file_hex(p, want, &e), 0);
	assert_string_equal(hex, want);
	/* Same inputs, same bytes. */
	unlink(p);
	write_sample(p, 6, 0, d2);
	assert_memory_equal(d1, d2, 32);
	/* Level 0 stores everything. */
	unlink(p);
	write_sample(p, 0, 0, d3);
	check_sample(p, 0, 0);
	assert_int_not_equal(unzip_ok(p), 0);
	assert_int_not_equal(python_ok(p, 5), 0);
	free(p);
}

static void test_zip64_forced(void **state)
{
	char *p = tpath("zip64.zip");
	uint8_t d[32];

	(void)state;
	write_sample(p, 12, 1, d);
	check_sample(p, 12, 1);
	assert_int_not_equal(unzip_ok(p), 0);
	assert_int_not_equal(python_ok(p, 5), 0);
	free(p);
}

/* More than 65535 entries: the count only fits the zip64 end record. */
static void test_zip64_many(void **state)
{
	const size_t n = 70000;
	char *p = tpath("many.zip");
	char name[32], data[32];
	const uint8_t *eocd;
	struct zfile zf;
	struct zipw z;
	struct sp_err e;
	size_t i;
	int fd;

	(void)state;
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(zipw_open(&z, fd, p, 0, 1, &e), 0);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "d%zu/f%zu", i % 97, i);
		snprintf(data, sizeof(data), "%zu", i * 7);
		if (zipw_add(&z, name, data, strlen(data), 0644, NULL, &e))
			fail_msg("%s", e.msg);
	}
	assert_int_equal(zipw_add(&z, "d5/f5", "x", 1, 0644, NULL, &e), -1);
	assert_int_equal(zipw_finish(&z, NULL, NULL, &e), 0);
	zipw_release(&z);
	close(fd);

	zfile_load(&zf, p);
	assert_int_equal(zf.n, n);
	assert_true(zf.zip64_end);
	eocd = zf.buf + zf.len - 22;
	assert_int_equal(rd16(eocd + 10), 0xffff);
	assert_string_equal(zf.ents[n - 1].name, "d62/f69999");
	/* Small entries and offsets need no per-entry zip64 fields. */
	assert_int_equal(zf.ents[n - 1].made_by & 0xff, 20);
	free(zfile_data(&zf, n - 1));
	zfile_free(&zf);
	assert_int_not_equal(python_ok(p, n), 0);
	assert_int_not_equal(unzip_ok(p), 0);
	free(p);
}

/* A full disk surfaces as a clear error naming the archive, and the writer
 * refuses to go on. */
static void test_enospc(void **state)
{
	static uint8_t big[1 << 16];
	struct zipw z;
	struct sp_err e;
	int fd;

	(void)state;
	fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		skip();
	assert_int_equal(zipw_open(&z, fd, "/dev/full", 0, 0, &e), 0);
	assert_int_equal(zipw_add(&z, "a", big, sizeof(big), 0644, NULL, &e),
			 -1);
	assert_non_null(strstr(e.msg, "'/dev/full'"));
	assert_non_null(strstr(e.msg, strerror(ENOSPC)));
	assert_int_equal(zipw_add(&z, "b", "x", 1, 0644, NULL, &e), -1);
	assert_int_equal(zipw_finish(&z, NULL, NULL, &e), -1);
	zipw_release(&z);
	zipw_release(&z);
	close(fd);
}

/* Entries of more than a chunk (pdeflate.h): text that deflates (BIG1
 * bytes) and random bytes that end up stored (BIG2), between small
 * ones. */
#define BIG1 (2 * PDEFLATE_CHUNK + 12345)
#define BIG2 (PDEFLATE_CHUNK + 1)

static void big_data(uint8_t **text, uint8_t **rnd)
{
	size_t i = 0;
	int n;

	*text = malloc(BIG1 + 64);
	*rnd = malloc(BIG2);
	assert_non_null(*text);
	assert_non_null(*rnd);
	while (i < BIG1) {
		n = snprintf((char *)*text + i, 64, "line %zu of a big entry\n",
			     i * 31 % 100003);
		i += (size_t)n;
	}
	fill_random(*rnd, BIG2, 7);
}

static void write_big(const char *path, int flags, unsigned threads,
		      int force_zip64, uint8_t digest[32])
{
	char sha[ZIPW_B64_SHA256], want[ZIPW_B64_SHA256];
	uint8_t *text, *rnd, d[32];
	struct zipw z;
	struct sp_err e;
	struct stat st;
	uint64_t size;
	int fd;

	big_data(&text, &rnd);
	fd = open(path, flags | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(zipw_open(&z, fd, path, 1609556646, 6, &e), 0);
	z.threads = threads;
	z.force_zip64 = force_zip64;
	assert_int_equal(zipw_add(&z, "a.txt", "small", 5, 0644, NULL, &e), 0);
	if (zipw_add(&z, "big/text.so", text, BIG1, 0755, sha, &e) < 0)
		fail_msg("%s", e.msg);
	sha256_buf(text, BIG1, d);
	b64url_nopad(d, 32, want);
	assert_string_equal(sha, want);
	if (zipw_add(&z, "big/random.bin", rnd, BIG2, 0644, sha, &e) < 0)
		fail_msg("%s", e.msg);
	sha256_buf(rnd, BIG2, d);
	b64url_nopad(d, 32, want);
	assert_string_equal(sha, want);
	assert_int_equal(zipw_add(&z, "z.txt", "end", 3, 0644, NULL, &e), 0);
	assert_int_equal(zipw_finish(&z, digest, &size, &e), 0);
	zipw_release(&z);
	assert_int_equal(close(fd), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(size, (uint64_t)st.st_size);
	free(text);
	free(rnd);
}

static void check_big(const char *path, int zip64)
{
	uint8_t *text, *rnd, *data;
	struct zfile zf;

	big_data(&text, &rnd);
	zfile_load(&zf, path);
	assert_int_equal(zf.n, 4);
	assert_string_equal(zf.ents[1].name, "big/text.so");
	assert_int_equal(zf.ents[1].method, 8);
	assert_int_equal(zf.ents[1].usize, BIG1);
	assert_int_equal(zf.ents[2].method, 0);
	assert_int_equal(zf.ents[2].usize, BIG2);
	assert_int_equal(zf.ents[1].made_by & 0xff, zip64 ? 45 : 20);
	data = zfile_data(&zf, 1);
	assert_memory_equal(data, text, BIG1);
	free(data);
	data = zfile_data(&zf, 2);
	assert_memory_equal(data, rnd, BIG2);
	free(data);
	free(zfile_data(&zf, 0));
	data = zfile_data(&zf, 3);
	assert_memory_equal(data, "end", 3);
	free(data);
	zfile_free(&zf);
	assert_int_not_equal(unzip_ok(path), 0);
	assert_int_not_equal(python_ok(path, 4), 0);
	free(text);
	free(rnd);
}

/* Chunked entries: valid for three readers, and the same bytes whether
 * written as they come (O_RDWR) or gathered first (O_WRONLY), on one
 * thread or several. */
static void test_chunked(void **state)
{
	char *p1 = tpath("big1.zip"), *p2 = tpath("big2.zip");
	char *p3 = tpath("big3.zip");
	uint8_t d1[32], d2[32], d3[32];
	char hex[65], want[65];
	struct sp_err e;
	size_t l1, l2;
	char *b1, *b2;

	(void)state;
	write_big(p1, O_RDWR, 2, 0, d1);
	check_big(p1, 0);
	/* The digest is of the bytes on disk, header written last or not. */
	hex_encode(d1, 32, hex);
	assert_int_equal(sha256_file_hex(p1, want, &e), 0);
	assert_string_equal(hex, want);
	write_big(p2, O_WRONLY, 1, 0, d2);
	b1 = fsx_read_all(p1, &l1, &e);
	b2 = fsx_read_all(p2, &l2, &e);
	assert_non_null(b1);
	assert_non_null(b2);
	assert_int_equal(l1, l2);
	assert_memory_equal(b1, b2, l1);
	assert_memory_equal(d1, d2, 32);
	free(b1);
	free(b2);
	unlink(p2);
	write_big(p2, O_RDWR, 3, 0, d2);
	assert_memory_equal(d1, d2, 32);
	/* Forced zip64: the local header's field is there from the start. */
	write_big(p3, O_RDWR, 2, 1, d3);
	check_big(p3, 1);
	hex_encode(d3, 32, hex);
	assert_int_equal(sha256_file_hex(p3, want, &e), 0);
	assert_string_equal(hex, want);
	free(p1);
	free(p2);
	free(p3);
}

/* A full disk in the middle of a chunked entry: the error names the
 * archive and the writer refuses to go on. */
static void test_chunked_enospc(void **state)
{
	uint8_t *text, *rnd;
	struct zipw z;
	struct sp_err e;
	int fd;

	(void)state;
	fd = open("/dev/full", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		skip();
	big_data(&text, &rnd);
	assert_int_equal(zipw_open(&z, fd, "/dev/full", 0, 6, &e), 0);
	z.threads = 2;
	assert_int_equal(zipw_add(&z, "a", text, BIG1, 0644, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "'/dev/full'"));
	assert_int_equal(zipw_add(&z, "b", "x", 1, 0644, NULL, &e), -1);
	zipw_release(&z);
	close(fd);
	free(text);
	free(rnd);
}

/* A file holding n bytes of p after pad bytes of junk.  Returns its
 * descriptor, open for reading. */
static int data_file(const char *name, const uint8_t *p, size_t n, size_t pad)
{
	char *path = tpath(name);
	uint8_t junk[64];
	int fd;

	memset(junk, 0x5a, sizeof(junk));
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_true(pad <= sizeof(junk));
	assert_int_equal(pwrite(fd, junk, pad, 0), (ssize_t)pad);
	assert_int_equal(pwrite(fd, p, n, (off_t)pad), (ssize_t)n);
	free(path);
	return fd;
}

/* The archive of write_big (at level, of a small text and the two big
 * entries), its entries given in memory or, with from_fd, as files (the
 * random one at an offset). */
static void write_set(const char *path, int flags, unsigned threads,
		      int level, int from_fd, uint8_t digest[32])
{
	char sha[ZIPW_B64_SHA256], want[ZIPW_B64_SHA256];
	uint8_t *text, *rnd, d[32];
	struct zipw z;
	struct sp_err e;
	int fd, tfd = -1, rfd = -1, sfd = -1;

	big_data(&text, &rnd);
	if (from_fd) {
		tfd = data_file("text.in", text, BIG1, 0);
		rfd = data_file("rnd.in", rnd, BIG2, 17);
		sfd = data_file("small.in", (const uint8_t *)"small", 5, 3);
	}
	fd = open(path, flags | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(zipw_open(&z, fd, path, 1609556646, level, &e), 0);
	z.threads = threads;
	assert_int_equal(
	    from_fd ? zipw_add_fd(&z, "a.txt", sfd, 3, 5, "small.in", 0644,
				  NULL, &e)
		    : zipw_add(&z, "a.txt", "small", 5, 0644, NULL, &e),
	    0);
	if ((from_fd ? zipw_add_fd(&z, "big/text.so", tfd, 0, BIG1, "text.in",
				   0755, sha, &e)
		     : zipw_add(&z, "big/text.so", text, BIG1, 0755, sha,
				&e)) < 0)
		fail_msg("%s", e.msg);
	sha256_buf(text, BIG1, d);
	b64url_nopad(d, 32, want);
	assert_string_equal(sha, want);
	if ((from_fd ? zipw_add_fd(&z, "big/random.bin", rfd, 17, BIG2,
				   "rnd.in", 0644, sha, &e)
		     : zipw_add(&z, "big/random.bin", rnd, BIG2, 0644, sha,
				&e)) < 0)
		fail_msg("%s", e.msg);
	sha256_buf(rnd, BIG2, d);
	b64url_nopad(d, 32, want);
	assert_string_equal(sha, want);
	assert_int_equal(zipw_add(&z, "z.txt", "end", 3, 0644, NULL, &e), 0);
	assert_int_equal(zipw_finish(&z, digest, NULL, &e), 0);
	zipw_release(&z);
	assert_int_equal(close(fd), 0);
	if (from_fd) {
		close(tfd);
		close(rfd);
		close(sfd);
	}
	free(text);
	free(rnd);
}

/* Entries read from descriptors in pieces (zipw_add_fd) give the archive
 * that the same bytes in memory give: deflated in chunks (written as they
 * come or gathered), stored in pieces at level 0, small ones whole. */
static void test_from_fd(void **state)
{
	static const struct {
		int flags, level;
		unsigned threads;
	} cases[] = {{O_RDWR, 6, 2}, {O_WRONLY, 6, 1}, {O_RDWR, 0, 1}};
	char *p1 = tpath("mem.zip"), *p2 = tpath("fd.zip");
	uint8_t d1[32], d2[32];
	struct sp_err e;
	size_t i, l1, l2;
	char *b1, *b2;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		write_set(p1, cases[i].flags, cases[i].threads,
			  cases[i].level, 0, d1);
		write_set(p2, cases[i].flags, cases[i].threads,
			  cases[i].level, 1, d2);
		b1 = fsx_read_all(p1, &l1, &e);
		b2 = fsx_read_all(p2, &l2, &e);
		assert_non_null(b1);
		assert_non_null(b2);
		assert_int_equal(l1, l2);
		assert_memory_equal(b1, b2, l1);
		assert_memory_equal(d1, d2, 32);
		free(b1);
		free(b2);
		if (cases[i].level)
			check_big(p2, 0);
		else
			assert_int_not_equal(python_ok(p2, 4), 0);
	}
	free(p1);
	free(p2);
}

/* A file shorter than the length promised: the error names it, whether
 * the entry is read whole, in pieces or in chunks. */
static void test_from_fd_short(void **state)
{
	static const int levels[] = {6, 0, 6};
	static const size_t lens[] = {100, BIG2, BIG2};
	uint8_t *text, *rnd;
	struct zipw z;
	struct sp_err e;
	size_t i;
	int fd, rfd;

	(void)state;
	big_data(&text, &rnd);
	rfd = data_file("short.in", rnd, BIG2 - 10, 0);
	for (i = 0; i < 3; i++) {
		char *path = tpath("short.zip");

		fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		assert_true(fd >= 0);
		assert_int_equal(zipw_open(&z, fd, path, 0, levels[i], &e), 0);
		z.threads = 2;
		assert_int_equal(zipw_add_fd(&z, "a", rfd,
					     i == 0 ? BIG2 - 50 : 0, lens[i],
					     "short.in", 0644, NULL, &e),
				 -1);
		assert_non_null(strstr(e.msg, "'short.in' changed"));
		zipw_release(&z);
		close(fd);
		free(path);
	}
	close(rfd);
	free(text);
	free(rnd);
}

static void test_bad_level(void **state)
{
	struct zipw z;
	struct sp_err e;

	(void)state;
	assert_int_equal(zipw_open(&z, 1, "x", 0, 13, &e), -1);
	assert_int_equal(zipw_open(&z, 1, "x", 0, -1, &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dos_time),
	    cmocka_unit_test(test_name_check),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_zip64_forced),
	    cmocka_unit_test(test_zip64_many),
	    cmocka_unit_test(test_enospc),
	    cmocka_unit_test(test_chunked),
	    cmocka_unit_test(test_chunked_enospc),
	    cmocka_unit_test(test_from_fd),
	    cmocka_unit_test(test_from_fd_short),
	    cmocka_unit_test(test_bad_level),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
