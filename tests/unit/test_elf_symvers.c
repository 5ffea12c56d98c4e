/*
 * Unit tests of worker/elf/symvers: a real library's required versions, the
 * per-namespace maximum, and hostile images (cut, flipped) that must give
 * an error or a result, never a crash.
 */
#define _GNU_SOURCE
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsx.h"
#include "worker/elf/symvers.h"

static int find_libc(struct dl_phdr_info *info, size_t size, void *arg)
{
	char **out = arg;

	(void)size;
	if (info->dlpi_name && strstr(info->dlpi_name, "libc.so")) {
		*out = strdup(info->dlpi_name);
		return 1;
	}
	return 0;
}

static void test_real(void **state)
{
	struct symvers s, t;
	struct sp_err e;
	char *lib = NULL, buf[32];
	void *img;
	size_t len, i;
	int fd;

	(void)state;
	dl_iterate_phdr(find_libc, &lib);
	assert_non_null(lib);
	assert_int_equal(symvers_read_file(lib, &s, &e), 0);
	/* libc needs the loader's GLIBC_ versions. */
	assert_true(s.glibc.present);
	assert_int_equal(s.glibc.v[0], 2);
	assert_false(s.glibcxx.present);
	symver_format(&s.glibc, buf, sizeof(buf));
	assert_true(strncmp(buf, "2.", 2) == 0);

	img = fsx_read_all(lib, &len, &e);
	assert_non_null(img);
	assert_int_equal(symvers_read_mem(img, len, lib, &t, &e), 0);
	assert_int_equal(symver_cmp(&s.glibc, &t.glibc), 0);
	/* Through a descriptor: the same versions, the offset not moved. */
	fd = open(lib, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(symvers_read_fd(fd, lib, &t, &e), 0);
	assert_int_equal(symver_cmp(&s.glibc, &t.glibc), 0);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 0);
	close(fd);
	assert_int_equal(symvers_read_fd(-1, "x", &t, &e), -1);
	/* Every cut and a flip every few bytes: no crash. */
	for (i = 0; i < len; i += len / 211 + 1)
		symvers_read_mem(img, i, lib, &t, &e);
	for (i = 0; i < len; i += len / 503 + 1) {
		((unsigned char *)img)[i] ^= 0xff;
		symvers_read_mem(img, len, lib, &t, &e);
		((unsigned char *)img)[i] ^= 0xff;
	}
	assert_int_equal(symvers_read_mem("not elf", 7, "x", &t, &e), -1);
	/* Without its section header table (at the end of the file) the
	 * object is corrupt: it must not read as requiring nothing. */
	assert_int_equal(symvers_read_mem(img, len - 64, lib, &t, &e), -1);
	assert_non_null(strstr(e.msg, "truncated or corrupt"));
	free(img);
	free(lib);
}

static void test_merge_cmp(void **state)
{
	struct symvers a = {0}, b = {0};
	char buf[32];

	(void)state;
	a.glibc = (struct symver){.v = {2, 17, 0}, .parts = 2, .present = 1};
	b.glibc = (struct symver){.v = {2, 2, 5}, .parts = 3, .present = 1};
	b.glibcxx = (struct symver){.v = {3, 4, 29}, .parts = 3, .present = 1};
	assert_true(symver_cmp(&a.glibc, &b.glibc) > 0);
	assert_true(symver_cmp(&a.glibcxx, &b.glibcxx) < 0);
	symvers_merge(&a, &b);
	assert_int_equal(a.glibc.v[1], 17);
	assert_true(a.glibcxx.present);
	symver_format(&a.glibcxx, buf, sizeof(buf));
	assert_string_equal(buf, "3.4.29");
	symver_format(&a.glibc, buf, sizeof(buf));
	assert_string_equal(buf, "2.17");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_real),
	    cmocka_unit_test(test_merge_cmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
