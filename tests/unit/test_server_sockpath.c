/*
 * Unit tests of server/sockpath: the socket folder's checks (on a
 * descriptor), the XDG_RUNTIME_DIR rule, and the record of the socket's
 * path in the state directory, on real folders under a private temporary
 * directory.
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/sockpath.h"

static char base[64];

static int setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/spoke-unit-sockpath.XXXXXX");
	return mkdtemp(base) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	return system(cmd) == 0 ? 0 : -1;
}

static void sub(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", base, name);
}

/* An XDG_RUNTIME_DIR of ours, closed to others: its spoke/ folder is
 * created 0700 and the socket named by 24 hex digits. */
static void test_xdg_used(void **state)
{
	struct sockpath sp;
	struct sp_err e;
	struct stat st;
	char xdg[128], want[192];

	(void)state;
	sub(xdg, sizeof(xdg), "xdg");
	assert_int_equal(mkdir(xdg, 0700), 0);
	setenv("XDG_RUNTIME_DIR", xdg, 1);
	assert_int_equal(sockpath_open("/some/state", 1, &sp, &e), 0);
	assert_string_equal(sp.note, "");
	snprintf(want, sizeof(want), "%s/spoke/", xdg);
	assert_memory_equal(sp.path, want, strlen(want));
	assert_int_equal(strlen(sp.path), strlen(want) + 24 + 5);
	assert_true(sp.dfd >= 0);
	assert_int_equal(fstat(sp.dfd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	sockpath_release(&sp);
	/* Without create, a missing folder is no error: nothing listens. */
	sub(xdg, sizeof(xdg), "xdg-empty");
	assert_int_equal(mkdir(xdg, 0700), 0);
	setenv("XDG_RUNTIME_DIR", xdg, 1);
	assert_int_equal(sockpath_open("/some/state", 0, &sp, &e), 0);
	assert_int_equal(sp.dfd, -1);
	sockpath_release(&sp);
}

/* An XDG_RUNTIME_DIR others may write is not used, and the note says so
 * and names the fallback. */
static void test_xdg_open_to_others(void **state)
{
	struct sockpath sp;
	struct sp_err e;
	char xdg[128], want[64], using[80];

	(void)state;
	sub(xdg, sizeof(xdg), "xdg-open");
	assert_int_equal(mkdir(xdg, 0700), 0);
	assert_int_equal(chmod(xdg, 0777), 0);
	setenv("XDG_RUNTIME_DIR", xdg, 1);
	assert_int_equal(sockpath_open("/some/state", 0, &sp, &e), 0);
	assert_non_null(strstr(sp.note, "not using XDG_RUNTIME_DIR"));
	snprintf(want, sizeof(want), "/tmp/spoke-%u/", (unsigned)geteuid());
	snprintf(using, sizeof(using), "; using '/tmp/spoke-%u'",
		 (unsigned)geteuid());
	assert_non_null(strstr(sp.note, using));
	assert_memory_equal(sp.path, want, strlen(want));
	sockpath_release(&sp);
}

/* A socket folder that is a symlink, or open to others, is refused. */
static void test_folder_refused(void **state)
{
	struct sockpath sp;
	struct sp_err e;
	char xdg[128], dir[160], target[160];

	(void)state;
	sub(xdg, sizeof(xdg), "xdg-bad");
	assert_int_equal(mkdir(xdg, 0700), 0);
	sub(target, sizeof(target), "target");
	assert_int_equal(mkdir(target, 0700), 0);
	snprintf(dir, sizeof(dir), "%s/spoke", xdg);
	assert_int_equal(symlink(target, dir), 0);
	setenv("XDG_RUNTIME_DIR", xdg, 1);
	assert_int_equal(sockpath_open("/some/state", 1, &sp, &e), -1);
	assert_non_null(strstr(e.msg, "it is a symlink"));
	assert_int_equal(unlink(dir), 0);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(sockpath_open("/some/state", 0, &sp, &e), -1);
	assert_non_null(strstr(e.msg, "mode 0755"));
	/* A recorded path gets the same checks. */
	snprintf(target, sizeof(target), "%s/abc.sock", dir);
	assert_int_equal(sockpath_open_path(target, &sp, &e), -1);
	assert_non_null(strstr(e.msg, "mode 0755"));
	assert_int_equal(sockpath_open_path("relative/x.sock", &sp, &e), -1);
	assert_int_equal(sockpath_open_path("/etc/passwd", &sp, &e), -1);
}

/* The record: written, read back, replaced; a symlink planted in its
 * place is not followed. */
static void test_record(void **state)
{
	struct sp_err e;
	char st[128], rec[160], *got;
	int dfd;

	(void)state;
	sub(st, sizeof(st), "state");
	assert_int_equal(mkdir(st, 0700), 0);
	got = sockpath_recorded(st, &e);
	assert_null(got);
	assert_string_equal(e.msg, "");
	dfd = open(st, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	assert_int_equal(sockpath_record(dfd, st, "/run/a/spoke/x.sock", &e), 0);
	assert_int_equal(sockpath_record(dfd, st, "/run/b/spoke/x.sock", &e), 0);
	close(dfd);
	got = sockpath_recorded(st, &e);
	assert_non_null(got);
	assert_string_equal(got, "/run/b/spoke/x.sock");
	free(got);
	snprintf(rec, sizeof(rec), "%s/socket", st);
	assert_int_equal(unlink(rec), 0);
	assert_int_equal(symlink("/etc/hostname", rec), 0);
	got = sockpath_recorded(st, &e);
	assert_null(got);
	assert_string_not_equal(e.msg, "");
}

/* Our own peer passes the uid check. */
static void test_peer(void **state)
{
	struct sp_err e;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(sockpath_check_peer(sv[0], "pair", &e), 0);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xdg_used),
		cmocka_unit_test(test_xdg_open_to_others),
		cmocka_unit_test(test_folder_refused),
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_peer),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
