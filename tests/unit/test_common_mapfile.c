/*
 * Unit tests of common/mapfile: the bytes of the file, mapped or (small)
 * read; a file truncated while mapped gives zeros and an error from
 * mapfile_check(), not a SIGBUS that kills the process; a small file
 * truncated after its read is caught too; one file at a time.
 */
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
#include <unistd.h>

#include "common/mapfile.h"

static char path[64];

static int make_file(size_t n)
{
	uint8_t *buf = malloc(n);
	size_t i;
	int fd;

	assert_non_null(buf);
	for (i = 0; i < n; i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	strcpy(path, "/tmp/spoke-mapfile-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	free(buf);
	return fd;
}

static void check_bytes(size_t n, int read)
{
	struct mapfile m;
	struct sp_err e;
	size_t i;
	int fd = make_file(n);

	assert_int_equal(mapfile_open(&m, fd, path, &e), 0);
	assert_int_equal(m.len, n);
	assert_int_equal(m.read, read);
	for (i = 0; i < n; i++)
		if (m.p[i] != (uint8_t)(i * 7 + 1))
			fail_msg("byte %zu differs", i);
	assert_int_equal(mapfile_check(&m, &e), 0);
	mapfile_close(&m);
	mapfile_close(&m);
	close(fd);
	unlink(path);
}

static void test_bytes(void **state)
{
	(void)state;
	check_bytes(3 * 4096 + 100, 1);
	check_bytes(MAPFILE_READ_MAX, 1);
	check_bytes(MAPFILE_READ_MAX + 1, 0);
	/* The kept buffer holds the new file's bytes, not the old one's. */
	check_bytes(100, 1);
}

/* A small file is read: shrunk after the read, its check fails by size. */
static void test_small_truncated(void **state)
{
	struct mapfile m;
	struct sp_err e;
	int fd = make_file(5000);

	(void)state;
	assert_int_equal(mapfile_open(&m, fd, path, &e), 0);
	assert_int_equal(m.read, 1);
	assert_int_equal(ftruncate(fd, 100), 0);
	assert_int_equal(mapfile_check(&m, &e), -1);
	assert_non_null(strstr(e.msg, "changed while being read"));
	mapfile_close(&m);
	close(fd);
	unlink(path);
}

static void test_truncated(void **state)
{
	long page = sysconf(_SC_PAGESIZE);
	/* Large enough to be mapped, not read. */
	size_t n = MAPFILE_READ_MAX + 4 * (size_t)page, i;
	volatile uint8_t sum = 0;
	struct mapfile m;
	struct sp_err e;
	int fd = make_file(n);

	(void)state;
	assert_int_equal(mapfile_open(&m, fd, path, &e), 0);
	assert_int_equal(m.read, 0);
	assert_int_equal(m.p[0], 1);
	/* Someone truncates the file under the mapping. */
	assert_int_equal(ftruncate(fd, page), 0);
	for (i = (size_t)page; i < n; i++)
		sum = (uint8_t)(sum | m.p[i]);
	assert_int_equal(sum, 0);
	assert_int_equal(mapfile_check(&m, &e), -1);
	assert_non_null(strstr(e.msg, "changed while being read"));
	assert_non_null(strstr(e.msg, path));
	mapfile_close(&m);
	close(fd);
	unlink(path);

	/* Shrunk without a read past the end: still caught, by size. */
	fd = make_file(n);
	assert_int_equal(mapfile_open(&m, fd, path, &e), 0);
	assert_int_equal(ftruncate(fd, page), 0);
	assert_int_equal(mapfile_check(&m, &e), -1);
	mapfile_close(&m);
	close(fd);
	unlink(path);
}

static void test_one_at_a_time(void **state)
{
	struct mapfile m, m2;
	struct sp_err e;
	int big = make_file(MAPFILE_READ_MAX + 1), fd, dir;

	(void)state;
	unlink(path);
	fd = make_file(100);
	/* Read or mapped, one at a time. */
	assert_int_equal(mapfile_open(&m, fd, path, &e), 0);
	assert_int_equal(mapfile_open(&m2, fd, path, &e), -1);
	assert_int_equal(mapfile_open(&m2, big, path, &e), -1);
	mapfile_close(&m);
	assert_int_equal(mapfile_open(&m, big, path, &e), 0);
	assert_int_equal(mapfile_open(&m2, fd, path, &e), -1);
	mapfile_close(&m);
	close(big);
	assert_int_equal(mapfile_open(&m2, fd, path, &e), 0);
	mapfile_close(&m2);
	/* Empty: nothing to map, nothing to check. */
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(mapfile_open(&m, fd, path, &e), 0);
	assert_null(m.p);
	assert_int_equal(m.len, 0);
	assert_int_equal(mapfile_check(&m, &e), 0);
	mapfile_close(&m);
	close(fd);
	unlink(path);
	dir = open("/tmp", O_RDONLY | O_DIRECTORY);
	assert_true(dir >= 0);
	assert_int_equal(mapfile_open(&m, dir, "/tmp", &e), -1);
	assert_non_null(strstr(e.msg, "not a regular file"));
	close(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bytes),
	    cmocka_unit_test(test_small_truncated),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_one_at_a_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
