/*
 * cache.c - the client's cache folder and its entries.
 */
#define _GNU_SOURCE
#include "cli/project/cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/dirs.h"
#include "common/path.h"
#include "common/sha256.h"
#include "common/tmpfile.h"
#include "common/version.h"

/* The first line of every entry: a magic, the format, and the sha256 of
 * the JSON text after it. */
#define MAGIC "spoke-cache 1 "
#define HEADER_LEN (sizeof(MAGIC) - 1 + 64 + 1)
/* No answer spoke caches comes near this (cargo metadata of 300 crates is
 * about 1 MB); a bigger file is not read. */
#define MAX_ENTRY (64u << 20)
/* A temporary older than this was left by a killed spoke. */
#define STALE_TMP_S 3600

static int cache_fd = -2; /* -2: not opened yet; -1: off or refused */
static char *cache_path;

/* The folder the cache goes in: $XDG_CACHE_HOME, else ~/.cache (then
 * *home is the home folder, the caller's to free). */
static char *cache_base(char **home_ret)
{
	const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	struct passwd *pw;

	*home_ret = NULL;
	if (x && x[0] == '/')
		return strdup(x);
	if (!home || home[0] != '/') {
		pw = getpwuid(geteuid());
		home = pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir
							       : NULL;
	}
	if (!home || !(*home_ret = strdup(home)))
		return NULL;
	return path_join(home, ".cache");
}

/*
 * Makes ~/.cache (0700) in the home folder home, when that folder is the
 * user's and no one else may write it: a fresh account, a CI runner or a
 * container often has no ~/.cache, and would never cache.  Not in
 * another user's home (root with that user's HOME would leave a
 * root-owned ~/.cache there), and never a missing XDG_CACHE_HOME, which
 * the user named.  Returns 0 when it exists now.
 */
static int make_home_cache(const char *home)
{
	struct sp_err e;
	struct stat st;
	int hfd, rc = -1;

	hfd = dirs_open(home, DIRS_FOLLOW, 0, &e);
	if (hfd < 0)
		return -1;
	if (fstat(hfd, &st) == 0 && st.st_uid == geteuid() &&
	    !(st.st_mode & (S_IWGRP | S_IWOTH)) &&
	    (mkdirat(hfd, ".cache", 0700) == 0 || errno == EEXIST))
		rc = 0;
	close(hfd);
	return rc;
}

static void refuse(const char *path, const char *why)
{
	fprintf(stderr,
		"spoke: not using the cache '%s': %s (set XDG_CACHE_HOME to "
		"a folder of yours, or SPOKE_NO_CACHE=1)\n",
		path, why);
}

/* Opens (once per process) the cache folder, made 0700 if missing in a
 * base folder that exists, and checks it is the user's and writable by
 * no one else. */
static int cache_open(void)
{
	const char *off = getenv("SPOKE_NO_CACHE");
	struct sp_err e;
	struct stat st;
	char *base = NULL, *home = NULL;
	int bfd = -1, fd;

	if (cache_fd != -2)
		return cache_fd;
	cache_fd = -1;
	if (off && *off && strcmp(off, "0") != 0)
		return -1;
	base = cache_base(&home);
	if (!base) {
		free(home);
		return -1;
	}
	cache_path = path_join(base, "spoke");
	if (!cache_path)
		goto out;
	/* A missing base folder is made only in the user's own home
	 * (make_home_cache); otherwise there is no cache, silently: a
	 * fresh account or container is no fault. */
	if (stat(base, &st) < 0 && errno == ENOENT &&
	    (!home || make_home_cache(home) < 0))
		goto out;
	/* The user's own folders may hold symlinks (a home on another
	 * disk); the cache folder itself is entered without following. */
	bfd = dirs_open(base, DIRS_FOLLOW, 0, &e);
	if (bfd < 0) {
		refuse(cache_path, e.msg);
		goto out;
	}
	fd = openat(bfd, "spoke", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		if (mkdirat(bfd, "spoke", 0700) < 0 && errno != EEXIST) {
			refuse(cache_path, strerror(errno));
			goto out;
		}
		fd = openat(bfd, "spoke",
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0) {
		refuse(cache_path, errno == ELOOP || errno == ENOTDIR
				       ? "it is a symbolic link or not a "
					 "directory"
				       : strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		refuse(cache_path, "it is not yours, or others may write it "
				   "(it must be a folder of yours, mode "
				   "0700)");
		close(fd);
		goto out;
	}
	cache_fd = fd;
out:
	if (bfd >= 0)
		close(bfd);
	free(base);
	free(home);
	return cache_fd;
}

char *cache_dir_path(void)
{
	return cache_open() >= 0 && cache_path ? strdup(cache_path) : NULL;
}

/* Which spoke wrote an entry: its version and its executable's
 * identity.  Every build of one version says "0.1.0", and the questions
 * (the interpreter's query script, the fields kept) change between
 * builds: a rebuilt or reinstalled spoke starts with misses. */
static const char *writer(void)
{
	static char id[160];
	struct stat st;

	if (!id[0]) {
		if (stat("/proc/self/exe", &st) == 0)
			snprintf(id, sizeof(id), "%s %llu:%llu:%lld:%lld.%09ld",
				 spoke_version(),
				 (unsigned long long)st.st_dev,
				 (unsigned long long)st.st_ino,
				 (long long)st.st_size,
				 (long long)st.st_mtim.tv_sec,
				 st.st_mtim.tv_nsec);
		else
			snprintf(id, sizeof(id), "%s", spoke_version());
	}
	return id;
}

/* "<kind>-<sha256 of slot>.json" into name (at least 128 bytes). */
static void entry_name(char *name, size_t size, const char *kind,
		       const char *slot)
{
	uint8_t d[32];
	char hex[65];

	sha256_buf(slot, strlen(slot), d);
	hex_encode(d, sizeof(d), hex);
	snprintf(name, size, "%s-%s.json", kind, hex);
}

/* Reads an entry whole, through checks that only a file the user's spoke
 * wrote passes; NULL (a miss) otherwise.  *len gets its size. */
static char *read_entry(int dfd, const char *name, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd;

	fd = openat(dfd, name,
		    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)) ||
	    st.st_nlink != 1 || st.st_size < (off_t)HEADER_LEN ||
	    st.st_size > (off_t)MAX_ENTRY)
		goto fail;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		goto fail;
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		got += (size_t)n;
	}
	buf[got] = '\0';
	close(fd);
	*len = got;
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

json_t *cache_get(const char *kind, const char *slot, const json_t *key)
{
	char name[160], hex[65];
	uint8_t d[32];
	json_t *root = NULL, *value = NULL;
	json_error_t jerr;
	size_t len;
	char *buf;
	int dfd = cache_open();

	if (dfd < 0)
		return NULL;
	entry_name(name, sizeof(name), kind, slot);
	buf = read_entry(dfd, name, &len);
	if (!buf)
		return NULL;
	if (memcmp(buf, MAGIC, sizeof(MAGIC) - 1) != 0 ||
	    buf[HEADER_LEN - 1] != '\n')
		goto out;
	sha256_buf(buf + HEADER_LEN, len - HEADER_LEN, d);
	hex_encode(d, sizeof(d), hex);
	if (memcmp(buf + sizeof(MAGIC) - 1, hex, 64) != 0)
		goto out;
	root = json_loadb(buf + HEADER_LEN, len - HEADER_LEN, 0, &jerr);
	if (!json_is_object(root))
		goto out;
	if (!json_string_value(json_object_get(root, "kind")) ||
	    strcmp(json_string_value(json_object_get(root, "kind")), kind) ||
	    !json_string_value(json_object_get(root, "slot")) ||
	    strcmp(json_string_value(json_object_get(root, "slot")), slot) ||
	    !json_string_value(json_object_get(root, "spoke")) ||
	    strcmp(json_string_value(json_object_get(root, "spoke")),
		   writer()) ||
	    !json_equal(json_object_get(root, "key"), key))
		goto out;
	value = json_incref(json_object_get(root, "value"));
out:
	json_decref(root);
	free(buf);
	return value;
}

struct aged {
	struct timespec mtime;
	char name[NAME_MAX + 1];
};

static int older_first(const void *a, const void *b)
{
	const struct timespec *x = &((const struct aged *)a)->mtime,
			      *y = &((const struct aged *)b)->mtime;

	if (x->tv_sec != y->tv_sec)
		return x->tv_sec < y->tv_sec ? -1 : 1;
	return x->tv_nsec < y->tv_nsec ? -1 : x->tv_nsec > y->tv_nsec;
}

/* Keeps the folder bounded: past CACHE_MAX_ENTRIES entries the oldest
 * go, down to three quarters; temporaries a killed spoke left go too. */
static void evict(int dfd)
{
	struct aged *all = NULL, *grown;
	size_t n = 0, cap = 0, i, keep = CACHE_MAX_ENTRIES * 3 / 4;
	struct dirent *de;
	struct stat st;
	time_t now = time(NULL);
	/* A description of its own: a dup() would share the offset the last
	 * scan left at the end. */
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (de->d_name[0] == '.' && l > 10 &&
		    strcmp(de->d_name + l - 10, ".spoke-tmp") == 0) {
			if (now - st.st_mtim.tv_sec > STALE_TMP_S)
				unlinkat(dfd, de->d_name, 0);
			continue;
		}
		if (de->d_name[0] == '.' || l < 5 ||
		    strcmp(de->d_name + l - 5, ".json") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			grown = realloc(all, cap * sizeof(*all));
			if (!grown)
				goto out;
			all = grown;
		}
		all[n].mtime = st.st_mtim;
		snprintf(all[n].name, sizeof(all[n].name), "%s", de->d_name);
		n++;
	}
	if (n > CACHE_MAX_ENTRIES) {
		qsort(all, n, sizeof(*all), older_first);
		for (i = 0; i < n - keep; i++)
			unlinkat(dfd, all[i].name, 0);
	}
out:
	free(all);
	closedir(d);
}

int cache_put(const char *kind, const char *slot, const json_t *key,
	      const json_t *value)
{
	struct tmpfile t = TMPFILE_INIT;
	char name[160], hex[65], header[HEADER_LEN + 1];
	struct sp_err e;
	struct stat st;
	uint8_t d[32];
	json_t *root;
	char *body = NULL;
	int dfd = cache_open(), fresh, ret = -1;

	if (dfd < 0)
		return -1;
	root = json_pack("{s:s,s:s,s:s,s:O,s:O}", "kind", kind, "slot", slot,
			 "spoke", writer(), "key", key, "value", value);
	body = root ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	if (!body)
		return -1;
	sha256_buf(body, strlen(body), d);
	hex_encode(d, sizeof(d), hex);
	snprintf(header, sizeof(header), "%s%s\n", MAGIC, hex);
	entry_name(name, sizeof(name), kind, slot);
	fresh = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0;
	/* A cache need not survive a power cut: the folder is not fsynced,
	 * and a lost or torn entry is a miss. */
	if (tmpfile_create(&t, dfd, cache_path, name, 0600, &e) < 0 ||
	    tmpfile_write(&t, header, HEADER_LEN, &e) < 0 ||
	    tmpfile_write(&t, body, strlen(body), &e) < 0 ||
	    tmpfile_commit(&t, name, TMPFILE_NO_DIRSYNC, &e) < 0) {
		tmpfile_discard(&t);
		goto out;
	}
	if (fresh)
		evict(dfd);
	ret = 0;
out:
	free(body);
	return ret;
}
