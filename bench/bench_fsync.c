/*
 * bench_fsync.c - how much a second process helps when every file must be
 * fsynced: the ceiling the disk puts on `spoke build -j 2` against `-j 1`
 * for small wheels (bench_scale.sh).
 *
 * A small wheel costs its worker a little CPU and one fsync of a new file,
 * and on a fast CPU the fsync is most of it.  If the disk serves two
 * flushes no faster than one, no number of workers helps.  This program
 * measures exactly that, without spoke: one process, then two, each
 * creating files of the size of a small wheel in a directory of its own
 * (O_CREAT|O_EXCL, one pwrite, fsync, close, as a worker does), and prints
 * the files per second of each and their ratio.  Interleaved rounds; the
 * medians are compared.
 *
 * Usage: bench_fsync [--files N] [--size BYTES] [--rounds N] [--dir DIR]
 * Files go to a mkdtemp directory under DIR (default: the current
 * directory: run it on the filesystem of the target dir), removed at exit.
 * Exits 0 whatever the figures; 1 only when a file cannot be written.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char root[4096];

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Writes n files of size bytes into dir, each fsynced.  0 or -1. */
static int write_files(const char *dir, long n, size_t size)
{
	char path[4200], *buf = malloc(size ? size : 1);
	long i;

	if (!buf)
		return -1;
	memset(buf, 'w', size);
	for (i = 0; i < n; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/f%ld", dir, i);
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 || pwrite(fd, buf, size, 0) != (ssize_t)size ||
		    fsync(fd) < 0) {
			fprintf(stderr, "bench_fsync: '%s': %s\n", path,
				strerror(errno));
			if (fd >= 0)
				close(fd);
			free(buf);
			return -1;
		}
		close(fd);
	}
	free(buf);
	return 0;
}

/* np processes share n files, each in a fresh directory.  Files per
 * second, or a negative number on failure. */
static double run(int round, int np, long n, size_t size)
{
	char dir[4200];
	double t0, t1;
	int p, status, bad = 0;

	for (p = 0; p < np; p++) {
		snprintf(dir, sizeof(dir), "%s/r%d-p%d-%d", root, round, np, p);
		if (mkdir(dir, 0755) < 0)
			return -1;
	}
	t0 = now_s();
	for (p = 0; p < np; p++) {
		pid_t pid = fork();

		if (pid < 0)
			return -1;
		if (pid == 0) {
			snprintf(dir, sizeof(dir), "%s/r%d-p%d-%d", root, round,
				 np, p);
			_exit(write_files(dir, n / np, size) < 0);
		}
	}
	while (wait(&status) > 0)
		bad |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	t1 = now_s();
	return bad ? -1 : (double)(n / np * np) / (t1 - t0);
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void cleanup(void)
{
	if (root[0])
		nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"files", required_argument, NULL, 'n'},
	    {"size", required_argument, NULL, 's'},
	    {"rounds", required_argument, NULL, 'r'},
	    {"dir", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	long n = 1000;
	size_t size = 3000;
	int rounds = 3, r, c;
	const char *dir = ".";
	double one[64], two[64];

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			n = atol(optarg);
			break;
		case 's':
			size = (size_t)atol(optarg);
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		case 'd':
			dir = optarg;
			break;
		default:
			printf("usage: bench_fsync [--files N] [--size BYTES] "
			       "[--rounds N] [--dir DIR]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (n < 2 || rounds < 1 || rounds > 64) {
		fprintf(stderr, "bench_fsync: need --files >= 2 and 1 <= "
				"--rounds <= 64\n");
		return 2;
	}
	snprintf(root, sizeof(root), "%s/spoke-bench-fsync.XXXXXX", dir);
	if (!mkdtemp(root)) {
		fprintf(stderr, "bench_fsync: cannot create '%s': %s\n", root,
			strerror(errno));
		return 1;
	}
	atexit(cleanup);
	for (r = 0; r < rounds; r++) {
		one[r] = run(r, 1, n, size);
		two[r] = run(r, 2, n, size);
		if (one[r] < 0 || two[r] < 0)
			return 1;
		printf("round %d: 1 process %.0f files/s, 2 processes %.0f "
		       "files/s\n",
		       r + 1, one[r], two[r]);
	}
	qsort(one, (size_t)rounds, sizeof(*one), cmp_double);
	qsort(two, (size_t)rounds, sizeof(*two), cmp_double);
	printf("create + write %zu bytes + fsync, medians: 1 process %.0f "
	       "files/s (%.3f ms each), 2 processes %.0f files/s\n",
	       size, one[rounds / 2], 1000.0 / one[rounds / 2],
	       two[rounds / 2]);
	printf("2 processes / 1 process: %.2fx (what -j 2 gains over -j 1 on "
	       "work that is all fsync)\n",
	       two[rounds / 2] / one[rounds / 2]);
	return 0;
}
