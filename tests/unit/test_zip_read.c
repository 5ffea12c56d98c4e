/*
 * Unit tests of worker/zip/zip_read and worker/zip/zip_stream, on their
 * own: archives written by zipw, then damaged.  The wheel-level tests
 * (tests/unit/test_wheel_read.c) drive the same code through wheel_read()
 * with a raw zip writer that writes any name, size or offset it is told
 * to (traversal names, overlaps, zip bombs).
 */
#define _GNU_SOURCE
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "worker/zip/zip_read.h"
#include "worker/zip/zip_stream.h"
#include "worker/zip/zip_write.h"

/* The problems one read reported. */
struct seen {
	char *text; /* "<entry>: <reason>\n"..., or "-: <reason>\n" */
	size_t n;
};

static void seen_problem(void *arg, const char *entry, const char *reason)
{
	struct seen *s = arg;
	char *t;

	assert_non_null(reason);
	assert_true(asprintf(&t, "%s%s: %s\n", s->text ? s->text : "",
			     entry ? entry : "-", reason) >= 0);
	free(s->text);
	s->text = t;
	s->n++;
}

static int seen_has(const struct seen *s, const char *needle)
{
	return s->text && strstr(s->text, needle);
}

static void seen_release(struct seen *s)
{
	free(s->text);
	memset(s, 0, sizeof(*s));
}

/* An anonymous file holding a zipw archive of the three entries below;
 * their RECORD digests in sha[]. */
static const char *const names[] = {"pkg/__init__.py", "pkg/data.bin",
				    "pkg-1.0.dist-info/RECORD"};
static char sha[3][ZIPW_B64_SHA256];
static uint8_t data1[300000];

static int make_archive(size_t *len)
{
	struct zipw z;
	struct sp_err e;
	uint64_t size;
	size_t i;
	int fd = memfd_create("zip", MFD_CLOEXEC);

	assert_true(fd >= 0);
	for (i = 0; i < sizeof(data1); i++)
		data1[i] = (uint8_t)(i * 7 % 251);
	assert_int_equal(zipw_open(&z, fd, "t.zip", 0, 6, &e), 0);
	assert_int_equal(zipw_add(&z, names[0], "x = 1\n", 6, 0644, sha[0], &e),
			 0);
	assert_int_equal(
	    zipw_add(&z, names[1], data1, sizeof(data1), 0755, sha[1], &e), 0);
	assert_int_equal(zipw_add(&z, names[2], "", 0, 0644, sha[2], &e), 0);
	assert_int_equal(zipw_finish(&z, NULL, &size, &e), 0);
	zipw_release(&z);
	*len = (size_t)size;
	return fd;
}

/* What a consumer saw of each entry. */
struct got {
	size_t bytes[3];
	int intact[3];
	int skip; /* entry index begin skips, or -1 */
	const struct zip_archive *za;
};

static int got_begin(void *arg, struct zip_entry *ent, struct sp_err *e)
{
	struct got *g = arg;

	(void)e;
	return ent - g->za->ents == g->skip;
}

static int got_data(void *arg, struct zip_entry *ent, const uint8_t *p,
		    size_t n, struct sp_err *e)
{
	struct got *g = arg;

	(void)p;
	(void)e;
	assert_true(n <= ZIP_STREAM_BUF);
	g->bytes[ent - g->za->ents] += n;
	return 0;
}

static int got_end(void *arg, struct zip_entry *ent, int intact,
		   struct sp_err *e)
{
	struct got *g = arg;

	(void)e;
	g->intact[ent - g->za->ents] = intact ? 1 : -1;
	return 0;
}

static void test_round_trip(void **state)
{
	struct zip_archive za;
	struct seen s = {0};
	struct got g = {.skip = -1};
	struct zip_consumer c = {got_begin, got_data, got_end, &g};
	struct sp_err e;
	uint64_t read = 0;
	size_t len, i;
	int fd = make_archive(&len);

	(void)state;
	assert_int_equal(zip_read(&za, fd, "t.zip", len, seen_problem, &s, &e),
			 0);
	assert_null(s.text);
	assert_true(za.have_cd);
	assert_false(za.broken);
	assert_false(za.zip64);
	assert_int_equal(za.nents, 3);
	for (i = 0; i < 3; i++) {
		assert_string_equal(za.ents[i].name, names[i]);
		assert_int_equal(zip_find(&za, names[i]), (long)i);
		assert_int_equal(za.order[i], i);
	}
	assert_int_equal(zip_find(&za, "pkg/other.py"), -1);
	assert_int_equal(za.ents[1].usize, sizeof(data1));
	assert_int_equal(za.ents[1].method, ZIP_METHOD_DEFLATE);
	assert_int_equal(za.ents[1].mode, 0100755);
	assert_int_equal(za.ents[2].usize, 0);

	g.za = &za;
	assert_int_equal(zip_stream_read(&za, ZIP_PASS_CHECK, 1ull << 30,
					 &read, &c, &e),
			 0);
	assert_null(s.text);
	assert_int_equal(read, 6 + sizeof(data1));
	for (i = 0; i < 3; i++) {
		assert_true(za.ents[i].hashed);
		assert_string_equal(za.ents[i].sha256, sha[i]);
		assert_int_equal(g.intact[i], 1);
	}
	assert_int_equal(g.bytes[1], sizeof(data1));

	/* Again, skipping one entry: no checks, nothing counted. */
	memset(g.bytes, 0, sizeof(g.bytes));
	memset(g.intact, 0, sizeof(g.intact));
	g.skip = 0;
	assert_int_equal(zip_stream_read(&za, ZIP_PASS_AGAIN, 1ull << 30,
					 &read, &c, &e),
			 0);
	assert_int_equal(read, 6 + sizeof(data1));
	assert_int_equal(g.intact[0], 0);
	assert_int_equal(g.bytes[0], 0);
	assert_int_equal(g.intact[1], 1);
	assert_int_equal(g.bytes[1], sizeof(data1));

	/* A cap below what the entries declare: nothing is read. */
	memset(&g.bytes, 0, sizeof(g.bytes));
	za.ents[0].hashed = 0;
	read = 0;
	assert_int_equal(
	    zip_stream_read(&za, ZIP_PASS_CHECK, 1000, &read, &c, &e), 0);
	assert_true(seen_has(&s, "-: its entries declare 300006 bytes in "
				 "total, more than the limit of 1000"));
	assert_int_equal(read, 0);
	assert_false(za.ents[0].hashed);
	zip_archive_release(&za);
	zip_archive_release(&za);
	seen_release(&s);
	close(fd);
}

/* Copies n bytes of buf into a fresh anonymous file. */
static int file_of(const uint8_t *buf, size_t n)
{
	int fd = memfd_create("cut", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, buf, n, 0), (ssize_t)n);
	return fd;
}

/* Reads the structure and, when it holds, the data; returns how many
 * problems were reported. */
static size_t check_all(int fd, size_t len, struct seen *s)
{
	struct zip_archive za;
	struct zip_consumer c = {0};
	struct sp_err e;
	uint64_t read = 0;

	assert_int_equal(zip_read(&za, fd, "t.zip", len, seen_problem, s, &e),
			 0);
	if (!za.broken && za.have_cd)
		assert_int_equal(zip_stream_read(&za, ZIP_PASS_CHECK,
						 1ull << 30, &read, &c, &e),
				 0);
	zip_archive_release(&za);
	return s->n;
}

/* Every truncation is a problem; every flipped byte is survived (most
 * are problems, but a flip inside a stored entry's unused bits may not
 * be). */
static void test_damage(void **state)
{
	struct seen s = {0};
	uint8_t *buf;
	size_t len, i;
	int fd = make_archive(&len), cut;

	(void)state;
	buf = malloc(len);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, len, 0), (ssize_t)len);
	assert_int_equal(check_all(fd, len, &s), 0);
	close(fd);
	for (i = 0; i < len; i += i < 200 || len - i < 200 ? 1 : 997) {
		cut = file_of(buf, i);
		if (!check_all(cut, i, &s))
			fail_msg("cut at %zu of %zu: no problem", i, len);
		seen_release(&s);
		close(cut);
	}
	cut = file_of(buf, len - 1);
	check_all(cut, len - 1, &s);
	assert_true(seen_has(&s, "-: no end of central directory record"));
	seen_release(&s);
	close(cut);
	for (i = 0; i < len; i += i < 200 || len - i < 300 ? 1 : 997) {
		buf[i] ^= 0x5a;
		cut = file_of(buf, len);
		check_all(cut, len, &s);
		seen_release(&s);
		close(cut);
		buf[i] ^= 0x5a;
	}
	free(buf);
}

/* Two entries of one name: the name set reports the second, the
 * structure is too ambiguous for the data pass, and a lookup finds the
 * first.  zipw refuses to write one, so its archive of "pkg/a.py" and
 * "pkg/b.py" is renamed in place. */
static void test_duplicate(void **state)
{
	struct zip_archive za;
	struct seen s = {0};
	struct zipw z;
	struct sp_err e;
	uint64_t size;
	uint8_t *buf, *p;
	size_t len;
	int fd = memfd_create("dup", MFD_CLOEXEC), n = 0;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(zipw_open(&z, fd, "t.zip", 0, 0, &e), 0);
	assert_int_equal(zipw_add(&z, "pkg/a.py", "1", 1, 0644, NULL, &e), 0);
	assert_int_equal(zipw_add(&z, "pkg/b.py", "2", 1, 0644, NULL, &e), 0);
	assert_int_equal(zipw_finish(&z, NULL, &size, &e), 0);
	zipw_release(&z);
	len = (size_t)size;
	buf = malloc(len);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, len, 0), (ssize_t)len);
	for (p = buf; (p = memmem(p, len - (size_t)(p - buf), "pkg/b.py", 8));
	     p += 8, n++)
		memcpy(p, "pkg/a.py", 8);
	assert_int_equal(n, 2); /* local header and central record */
	assert_int_equal(pwrite(fd, buf, len, 0), (ssize_t)len);
	free(buf);

	assert_int_equal(zip_read(&za, fd, "t.zip", len, seen_problem, &s, &e),
			 0);
	assert_string_equal(s.text,
			    "pkg/a.py: appears more than once in the archive\n");
	assert_true(za.broken);
	assert_int_equal(za.nents, 2);
	assert_int_equal(zip_find(&za, "pkg/a.py"), 0);
	zip_archive_release(&za);
	seen_release(&s);
	close(fd);
}

/* A file too short for the end record: one problem, no central
 * directory, and nothing to release but the zeroed archive. */
static void test_not_a_zip(void **state)
{
	struct zip_archive za;
	struct seen s = {0};
	struct sp_err e;
	int fd = file_of((const uint8_t *)"hello\n", 6);

	(void)state;
	assert_int_equal(zip_read(&za, fd, "t.zip", 6, seen_problem, &s, &e),
			 0);
	assert_string_equal(s.text,
			    "-: too short to be a zip archive (6 bytes)\n");
	assert_false(za.have_cd);
	assert_true(za.broken);
	assert_int_equal(za.nents, 0);
	zip_archive_release(&za);
	seen_release(&s);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_damage),
	    cmocka_unit_test(test_duplicate),
	    cmocka_unit_test(test_not_a_zip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
