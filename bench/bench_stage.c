/*
 * bench_stage.c - what giving a cargo output back costs: spoke vs copy-back.
 *
 * Before its PR 3155, maturin renamed the cargo output into target/maturin/
 * and copied it back to cargo's path (reflink, else std::fs::copy).  On ext4
 * there is no reflink, so that is a full byte copy: seconds per GiB on the
 * large debug-info artifacts of #3111.  spoke stages with a hard link (or a
 * rename) and gives back with an unlink (or a rename back), journaled.
 *
 * This program creates one large file that really occupies disk, then times
 * N rounds of each method on it in the same run and on the same filesystem,
 * and checks after every round that the restore left cargo's file intact:
 * a benchmark of a broken restore would be worthless.
 *
 * Usage: bench_stage [--size BYTES[K|M|G]] [--rounds N] [--dir DIR]
 * All data lives in a mkdtemp directory under DIR (default: the current
 * directory, which is where a target dir would be) and is removed at exit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fsx.h"
#include "common/path.h"
#include "common/sha256.h"
#include "journal/journal.h"
#include "journal/stage.h"
#include "journal/statedir.h"

#define MIB (1024 * 1024)
#define GOAL_RATIO 100.0

enum method { M_LINK, M_MOVE, M_COPY, M_COPY_NOSYNC, M_COUNT };

static const char *const method_name[M_COUNT] = {
    [M_LINK] = "spoke link",
    [M_MOVE] = "spoke move",
    [M_COPY] = "copy-back + fsync",
    [M_COPY_NOSYNC] = "copy-back, no fsync",
};

struct bench {
	char *root;	  /* our mkdtemp directory: everything is under it */
	char *cargo_dir;  /* stands for target/release */
	char *cargo_path; /* the cargo output */
	char *state_dir;  /* spoke's state directory */
	struct statedir sd; /* it, held open */
	char *peer_dir;	  /* stands for target/maturin */
	char *peer_path;  /* the output while the peer has it staged */
	/* The two folders, held open: spoke's durable recipe (common/fsx.h)
	 * names a file by its folder's descriptor and its name in it. */
	int cargo_dfd, peer_dfd;
	struct fsx_at cargo_at, peer_at;
	struct journal *j;
	int lock_fd;
	int cloned; /* the peer's FICLONE worked: no byte copy to measure */
	long long size;
	int rounds;
	uint8_t head[32], tail[32]; /* sha256 of the first and last MiB */
	double *ms[M_COUNT];
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int check_interrupt(struct sp_err *e)
{
	if (interrupted)
		return sp_err_set(e, "interrupted");
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int parse_size(const char *s, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v <= 0)
		return -1;
	switch (*end) {
	case 'G':
	case 'g':
		v *= 1024;
		/* fall through */
	case 'M':
	case 'm':
		v *= 1024;
		/* fall through */
	case 'K':
	case 'k':
		v *= 1024;
		end++;
		break;
	case '\0':
		break;
	default:
		return -1;
	}
	if (*end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* The name of a filesystem: statfs f_type, and the mount table's word for
 * it, since ext2/3/4 share one magic number. */
static void print_fs(const char *dir)
{
	char line[4096], fstype[64] = "?";
	struct statfs sf;
	struct stat st;
	const char *magic = "unknown";
	FILE *f;

	if (statfs(dir, &sf) < 0 || stat(dir, &st) < 0) {
		printf("filesystem: unknown (%s)\n", strerror(errno));
		return;
	}
	switch ((unsigned long)sf.f_type) {
	case EXT4_SUPER_MAGIC:
		magic = "ext2/3/4";
		break;
	case XFS_SUPER_MAGIC:
		magic = "xfs";
		break;
	case BTRFS_SUPER_MAGIC:
		magic = "btrfs";
		break;
	case TMPFS_MAGIC:
		magic = "tmpfs";
		break;
	case OVERLAYFS_SUPER_MAGIC:
		magic = "overlayfs";
		break;
	case NFS_SUPER_MAGIC:
		magic = "nfs";
		break;
	case F2FS_SUPER_MAGIC:
		magic = "f2fs";
		break;
	case 0x2fc12fc1:
		magic = "zfs";
		break;
	case 0x65735546:
		magic = "fuse";
		break;
	}
	f = fopen("/proc/self/mountinfo", "r");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned int maj, min;
		char *sep = strstr(line, " - ");

		if (sscanf(line, "%*d %*d %u:%u", &maj, &min) == 2 &&
		    maj == major(st.st_dev) && min == minor(st.st_dev) && sep)
			sscanf(sep + 3, "%63s", fstype);
	}
	if (f)
		fclose(f);
	printf("filesystem: f_type 0x%lx (%s), mounted as %s\n",
	       (unsigned long)sf.f_type, magic, fstype);
	if ((unsigned long)sf.f_type == TMPFS_MAGIC)
		printf("warning: tmpfs holds files in memory; these figures "
		       "say nothing about a disk\n");
}

/* xorshift64*: fast, and its bytes do not compress, so a filesystem or a
 * thin-provisioned disk cannot shortcut the writes. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

static void fill_random(uint8_t *buf, size_t n, uint64_t *s)
{
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		uint64_t x = rng_next(s);

		memcpy(buf + i, &x, 8);
	}
	/* No zero bytes at all: nothing a filesystem could store sparse. */
	for (i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = 0x5a;
}

static int write_all(int fd, const void *p, size_t n, const char *name,
		     struct sp_err *e)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return sp_err_sys(e, "cannot write '%s'", name);
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int create_output(struct bench *b, struct sp_err *e)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	long long left = b->size;
	uint8_t *buf;
	double t0 = now_ms(), dt;
	int fd, rc = -1;

	buf = malloc(MIB);
	if (!buf)
		return sp_err_set(e, "out of memory");
	fd = open(b->cargo_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	if (fd < 0) {
		sp_err_sys(e, "cannot create '%s'", b->cargo_path);
		goto out;
	}
	while (left > 0) {
		size_t n = left < MIB ? (size_t)left : MIB;

		if (check_interrupt(e) < 0)
			goto out;
		fill_random(buf, n, &seed);
		if (write_all(fd, buf, n, b->cargo_path, e) < 0)
			goto out;
		left -= (long long)n;
	}
	if (fsx_fsync_fd(fd, b->cargo_path, e) < 0 ||
	    fsx_fsync_at(&b->cargo_at, e) < 0)
		goto out;
	dt = now_ms() - t0;
	printf("created %s: %lld bytes in %.0f ms (%.0f MiB/s incl. fsync)\n",
	       b->cargo_path, b->size, dt, b->size / (double)MIB / (dt / 1e3));
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

/* sha256 of the first and the last MiB: enough to catch a restore that
 * truncated, zeroed or swapped the file, without reading 1 GiB a round. */
static int digest_ends(const char *path, long long size, uint8_t head[32],
		       uint8_t tail[32], struct sp_err *e)
{
	size_t n = size < MIB ? (size_t)size : MIB;
	off_t offs[2] = {0, (off_t)(size - (long long)n)};
	uint8_t *out[2] = {head, tail};
	uint8_t *buf;
	int fd, i, rc = -1;

	buf = malloc(n);
	if (!buf)
		return sp_err_set(e, "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		sp_err_sys(e, "cannot open '%s'", path);
		goto out;
	}
	for (i = 0; i < 2; i++) {
		ssize_t r = pread(fd, buf, n, offs[i]);

		if (r < 0) {
			sp_err_sys(e, "cannot read '%s'", path);
			goto out;
		}
		if ((size_t)r != n) {
			sp_err_set(e, "'%s': short read", path);
			goto out;
		}
		sha256_buf(buf, n, out[i]);
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

/* The check after each round: cargo's output is at its path, with its
 * size and its bytes, and (unless the method replaces the file, as
 * copy-back does) the same inode and mtime as before the round. */
static int verify(struct bench *b, const struct fsx_ident *before,
		  int same_inode, const char *what, struct sp_err *e)
{
	struct fsx_ident now;
	uint8_t head[32], tail[32];

	if (fsx_ident_of(b->cargo_path, &now, e) < 0)
		return sp_err_wrap(e, "%s: cargo output not restored", what);
	if (now.size != b->size)
		return sp_err_set(e, "%s: '%s' has %lld bytes, not %lld", what,
				  b->cargo_path, (long long)now.size, b->size);
	if (same_inode && !fsx_ident_same(before, &now, 1))
		return sp_err_set(
		    e,
		    "%s: '%s' is not cargo's file any more "
		    "(inode %llu -> %llu, mtime changed: %s)",
		    what, b->cargo_path, (unsigned long long)before->ino,
		    (unsigned long long)now.ino,
		    before->mtime_ns != now.mtime_ns ? "yes" : "no");
	if (!same_inode && now.ino == before->ino)
		return sp_err_set(e, "%s: expected a new inode from the copy",
				  what);
	if (digest_ends(b->cargo_path, b->size, head, tail, e) < 0)
		return -1;
	if (memcmp(head, b->head, 32) || memcmp(tail, b->tail, 32))
		return sp_err_set(e, "%s: contents of '%s' changed", what,
				  b->cargo_path);
	return 0;
}

/* One spoke build: begin, stage, give back, end; everything a coordinator
 * does per artifact around the repair, with its journal commits. */
static int run_spoke(struct bench *b, enum stage_mode mode, double *ms,
		     struct sp_err *e)
{
	struct journal_artifact *open = NULL;
	const char *used = NULL;
	char *staged = NULL;
	int64_t build, art;
	size_t nopen = 0;
	double t0;
	int bad = 0, rc = -1;

	t0 = now_ms();
	if (journal_build_begin(b->j, "bench", &build, e) < 0)
		return -1;
	/* Named as the coordinator names them: <build>-<job>-<file>. */
	if (asprintf(&staged, "%s/staged/%lld-0-%s", b->state_dir,
		     (long long)build, path_basename(b->cargo_path)) < 0)
		return sp_err_set(e, "out of memory");
	if (stage_artifact(b->j, &b->sd, build, b->cargo_path, staged,
			   mode, &art, &used, e) < 0 ||
	    stage_give_back(b->j, &b->sd, build, NULL, &bad, e) < 0 ||
	    journal_build_end(b->j, build, 1, NULL, e) < 0)
		goto out;
	*ms = now_ms() - t0;
	/* A fallback (link -> move) would time the wrong thing. */
	if (strcmp(used, mode == STAGE_LINK ? "link" : "move") != 0) {
		sp_err_set(e, "staged by %s, not %s", used,
			   mode == STAGE_LINK ? "link" : "move");
		goto out;
	}
	if (bad) {
		sp_err_set(e, "give-back reported %d bad artifact(s)", bad);
		goto out;
	}
	if (path_exists(staged)) {
		sp_err_set(e, "staged name '%s' left behind", staged);
		goto out;
	}
	if (journal_unsettled_artifacts(b->j, 0, &open, &nopen, e) < 0)
		goto out;
	journal_artifacts_free(open, nopen);
	if (nopen) {
		sp_err_set(e, "%zu artifact(s) left unsettled in the journal",
			   nopen);
		goto out;
	}
	rc = 0;
out:
	free(staged);
	return rc;
}

/* std::fs::copy on Linux: open the source, create the destination
 * (O_TRUNC), copy the permissions, then copy_file_range in chunks of at
 * most 1 GiB until it returns 0.  maturin's reflink_or_copy tries FICLONE
 * first, which ext4 refuses; we do the same so that a filesystem with
 * reflinks is measured fairly too. */
static int peer_copy(const char *from, const struct fsx_at *to_at,
		     int durable, int *cloned, struct sp_err *e)
{
	const char *to = to_at->shown;
	struct stat st;
	int in, out = -1, rc = -1;

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return sp_err_sys(e, "cannot open '%s'", from);
	if (fstat(in, &st) < 0) {
		sp_err_sys(e, "cannot stat '%s'", from);
		goto out;
	}
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		   st.st_mode & 07777);
	if (out < 0) {
		sp_err_sys(e, "cannot create '%s'", to);
		goto out;
	}
	if (fchmod(out, st.st_mode & 07777) < 0) {
		sp_err_sys(e, "cannot chmod '%s'", to);
		goto out;
	}
	*cloned = ioctl(out, FICLONE, in) == 0;
	if (!*cloned) {
		for (;;) {
			ssize_t n =
			    copy_file_range(in, NULL, out, NULL, 0x40000000, 0);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				sp_err_sys(e, "cannot copy '%s' to '%s'", from,
					   to);
				goto out;
			}
			if (n == 0)
				break;
			if (check_interrupt(e) < 0)
				goto out;
		}
	}
	if (durable &&
	    (fsx_fsync_fd(out, to, e) < 0 || fsx_fsync_at(to_at, e) < 0))
		goto out;
	rc = 0;
out:
	close(in);
	if (out >= 0)
		close(out);
	return rc;
}

/* maturin before PR 3155: rename the output into target/maturin/, copy it
 * back to cargo's path, and drop the staged one.  durable adds what spoke
 * pays and maturin did not: fsync of the copy and of every directory that
 * changed. */
static int run_peer(struct bench *b, int durable, double *ms, struct sp_err *e)
{
	double t0 = now_ms();

	if (durable) {
		if (fsx_rename_at(&b->cargo_at, &b->peer_at, 0, 1, e) < 0)
			return -1;
	} else if (rename(b->cargo_path, b->peer_path) < 0) {
		return sp_err_sys(e, "cannot rename '%s'", b->cargo_path);
	}
	if (peer_copy(b->peer_path, &b->cargo_at, durable, &b->cloned, e) < 0)
		goto undo;
	if (durable) {
		if (fsx_unlink_at(&b->peer_at, 0, 1, e) < 0)
			return -1;
	} else if (unlink(b->peer_path) < 0) {
		return sp_err_sys(e, "cannot remove '%s'", b->peer_path);
	}
	*ms = now_ms() - t0;
	return 0;
undo:
	/* Leave the original where verify() and cleanup expect it. */
	unlink(b->cargo_path);
	rename(b->peer_path, b->cargo_path);
	return -1;
}

/* Starts each measurement with nothing left to write back, so that one
 * method's dirty pages or freed blocks are not billed to the next. */
static int settle_disk(struct bench *b, struct sp_err *e)
{
	int fd, rc = 0;

	fd = open(b->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sp_err_sys(e, "cannot open '%s'", b->root);
	if (syncfs(fd) < 0)
		rc = sp_err_sys(e, "cannot sync '%s'", b->root);
	close(fd);
	return rc;
}

static int run_round(struct bench *b, int round, struct sp_err *e)
{
	enum method m;

	for (m = 0; m < M_COUNT; m++) {
		struct fsx_ident before;
		double ms = 0;
		int rc;

		if (check_interrupt(e) < 0 || settle_disk(b, e) < 0 ||
		    fsx_ident_of(b->cargo_path, &before, e) < 0)
			return -1;
		switch (m) {
		case M_LINK:
			rc = run_spoke(b, STAGE_LINK, &ms, e);
			break;
		case M_MOVE:
			rc = run_spoke(b, STAGE_MOVE, &ms, e);
			break;
		case M_COPY:
			rc = run_peer(b, 1, &ms, e);
			break;
		default:
			rc = run_peer(b, 0, &ms, e);
			break;
		}
		if (rc < 0)
			return sp_err_wrap(e, "round %d, %s", round + 1,
					   method_name[m]);
		if (verify(b, &before, m == M_LINK || m == M_MOVE,
			   method_name[m], e) < 0)
			return sp_err_wrap(e, "round %d: BROKEN RESTORE",
					   round + 1);
		b->ms[m][round] = ms;
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* "194x", or "0.4x" where a small size makes the copy cheap. */
static const char *ratio(char buf[32], double r)
{
	snprintf(buf, 32, r < 10 ? "%.1fx" : "%.0fx", r);
	return buf;
}

static void report(struct bench *b)
{
	char r[4][32];
	double med[M_COUNT], min[M_COUNT], link, move, nlink, nmove;
	enum method m;

	printf("\n%-22s %12s %12s   (%d rounds, %lld bytes)\n", "method",
	       "median ms", "min ms", b->rounds, b->size);
	for (m = 0; m < M_COUNT; m++) {
		med[m] = median(b->ms[m], b->rounds);
		min[m] = b->ms[m][0]; /* sorted by median() */
		printf("%-22s %12.3f %12.3f\n", method_name[m], med[m], min[m]);
	}
	link = med[M_COPY] / med[M_LINK];
	move = med[M_COPY] / med[M_MOVE];
	nlink = med[M_COPY_NOSYNC] / med[M_LINK];
	nmove = med[M_COPY_NOSYNC] / med[M_MOVE];
	printf("\nwhat each line pays (per build, one artifact):\n"
	       "  spoke link           journal commits (WAL, synchronous=FULL):"
	       " build begin,\n"
	       "                       intent, staged, restoring, settled,"
	       " build end;\n"
	       "                       link + fsync of staged/; unlink +"
	       " fsync of staged/\n"
	       "  spoke move           the same commits; rename + fsync of"
	       " both dirs;\n"
	       "                       rename back (noreplace) + fsync of both"
	       " dirs\n"
	       "  copy-back + fsync    rename + fsync of both dirs; %s\n"
	       "                       (copy_file_range as std::fs::copy);"
	       " fsync of the\n"
	       "                       copy and its dir; unlink staged + fsync"
	       " of its dir\n"
	       "  copy-back, no fsync  maturin before PR 3155 as it shipped:"
	       " the same, no\n"
	       "                       fsync (its dirty pages are synced"
	       " outside the timing)\n",
	       b->cloned ? "FICLONE worked" : "FICLONE refused: copy");
	printf("\nrestore speedup vs copy-back + fsync: link %s, move %s "
	       "(goal >= %.0fx)\n",
	       ratio(r[0], link), ratio(r[1], move), GOAL_RATIO);
	printf("restore speedup vs copy-back, no fsync: link %s, move %s "
	       "(for reference)\n",
	       ratio(r[2], nlink), ratio(r[3], nmove));
	printf("%s\n", link >= GOAL_RATIO && move >= GOAL_RATIO
			   ? "GOAL MET"
			   : "GOAL MISSED");
}

static int rm_entry(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP ? rmdir(path) : unlink(path))
		fprintf(stderr, "bench_stage: cannot remove '%s': %s\n", path,
			strerror(errno));
	return 0;
}

static void cleanup(struct bench *b)
{
	enum method m;

	if (b->j)
		journal_close(b->j);
	if (b->lock_fd >= 0)
		close(b->lock_fd);
	statedir_release(&b->sd);
	if (b->cargo_dfd >= 0)
		close(b->cargo_dfd);
	if (b->peer_dfd >= 0)
		close(b->peer_dfd);
	/* FTW_PHYS: never follow a symlink out of our own directory. */
	if (b->root)
		nftw(b->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	for (m = 0; m < M_COUNT; m++)
		free(b->ms[m]);
	free(b->root);
	free(b->cargo_dir);
	free(b->cargo_path);
	free(b->state_dir);
	free(b->peer_dir);
	free(b->peer_path);
}

static int setup(struct bench *b, const char *dir, struct sp_err *e)
{
	struct statvfs vfs;
	char *tmpl;
	enum method m;
	int rc;

	if (statvfs(dir, &vfs) < 0)
		return sp_err_sys(e, "cannot stat filesystem of '%s'", dir);
	/* The copy-back holds two copies at once. */
	if ((double)vfs.f_bavail * vfs.f_frsize < 2.0 * b->size + 64 * MIB)
		return sp_err_set(e, "'%s' has %.0f MiB free; need %.0f MiB",
				  dir,
				  (double)vfs.f_bavail * vfs.f_frsize / MIB,
				  (2.0 * b->size + 64 * MIB) / MIB);
	tmpl = path_join(dir, "spoke-bench.XXXXXX");
	if (!tmpl)
		return sp_err_set(e, "out of memory");
	if (!mkdtemp(tmpl)) {
		sp_err_sys(e, "cannot create a directory in '%s'", dir);
		free(tmpl);
		return -1;
	}
	b->root = tmpl;
	b->cargo_dir = path_join(b->root, "target/release");
	b->state_dir = path_join(b->root, "target/spoke");
	b->peer_dir = path_join(b->root, "target/maturin");
	if (!b->cargo_dir || !b->state_dir || !b->peer_dir)
		return sp_err_set(e, "out of memory");
	b->cargo_path = path_join(b->cargo_dir, "libbench.so");
	b->peer_path = path_join(b->peer_dir, "libbench.so");
	if (!b->cargo_path || !b->peer_path)
		return sp_err_set(e, "out of memory");
	for (m = 0; m < M_COUNT; m++) {
		b->ms[m] = calloc((size_t)b->rounds, sizeof(double));
		if (!b->ms[m])
			return sp_err_set(e, "out of memory");
	}
	if (fsx_mkdir_p(b->cargo_dir, 0755, e) < 0 ||
	    fsx_mkdir_p(b->peer_dir, 0755, e) < 0 ||
	    statedir_open(&b->sd, b->state_dir, 1, e) < 0)
		return -1;
	b->cargo_dfd = open(b->cargo_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->cargo_dfd < 0)
		return sp_err_sys(e, "cannot open '%s'", b->cargo_dir);
	b->peer_dfd = open(b->peer_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->peer_dfd < 0)
		return sp_err_sys(e, "cannot open '%s'", b->peer_dir);
	b->cargo_at = (struct fsx_at){b->cargo_dfd, "libbench.so", b->cargo_path};
	b->peer_at = (struct fsx_at){b->peer_dfd, "libbench.so", b->peer_path};
	/* Hold the lock as a coordinator would: the journal's one writer. */
	rc = statedir_lock_held(&b->sd, &b->lock_fd, e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return sp_err_set(e, "state directory '%s' is locked",
				  b->state_dir);
	b->j = journal_open(b->state_dir, e);
	if (!b->j)
		return -1;
	print_fs(b->root);
	if (create_output(b, e) < 0)
		return -1;
	return digest_ends(b->cargo_path, b->size, b->head, b->tail, e);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_stage [--size BYTES[K|M|G]] [--rounds N] "
		   "[--dir DIR]\n"
		   "  --size    size of the fake cargo output (default 1G)\n"
		   "  --rounds  rounds per method (default 5)\n"
		   "  --dir     where to put the data (default .); use the "
		   "filesystem of\n"
		   "            your target dir, not a tmpfs\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"size", required_argument, NULL, 's'},
	    {"rounds", required_argument, NULL, 'r'},
	    {"dir", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct bench b = {.lock_fd = -1, .cargo_dfd = -1, .peer_dfd = -1,
			  .sd = STATEDIR_INIT, .size = 1024LL * MIB, .rounds = 5};
	struct sigaction sa = {.sa_handler = on_signal};
	const char *dir = ".";
	struct sp_err e;
	int c, i, rc = 1;
	char *end;

	while ((c = getopt_long(argc, argv, "s:r:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_size(optarg, &b.size) < 0) {
				fprintf(stderr, "bench_stage: bad size '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'r':
			b.rounds = (int)strtol(optarg, &end, 10);
			if (*end || b.rounds < 1 || b.rounds > 1000) {
				fprintf(stderr, "bench_stage: bad rounds: %s\n",
					optarg);
				return 2;
			}
			break;
		case 'd':
			dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	/* Interrupted runs still reach cleanup(): 2 GiB of leftovers in a
	 * target dir would be a poor way to say thank you. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	sp_err_clear(&e);
	if (setup(&b, dir, &e) < 0)
		goto out;
	for (i = 0; i < b.rounds; i++) {
		if (run_round(&b, i, &e) < 0)
			goto out;
		printf("round %d: link %.3f ms, move %.3f ms, copy-back + "
		       "fsync %.1f ms, no fsync %.1f ms; restore verified\n",
		       i + 1, b.ms[M_LINK][i], b.ms[M_MOVE][i], b.ms[M_COPY][i],
		       b.ms[M_COPY_NOSYNC][i]);
	}
	report(&b);
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "bench_stage: %s\n", e.msg);
	cleanup(&b);
	return rc;
}
