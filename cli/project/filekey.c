/*
 * filekey.c - files and folders as parts of cache keys.
 */
#define _GNU_SOURCE
#include "cli/project/filekey.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/sha256.h"
#include "common/stamp.h"

extern char **environ;

/* Text files keyed by content are small; a bigger one is not cached. */
#define MAX_HASHED (16u << 20)

static int64_t ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static json_t *ident_of(const struct stat *st)
{
	return json_pack("[I,I,I,I,I]", (json_int_t)st->st_dev,
			 (json_int_t)st->st_ino, (json_int_t)st->st_size,
			 (json_int_t)ns(&st->st_mtim),
			 (json_int_t)ns(&st->st_ctim));
}

json_t *filekey_file(const char *path)
{
	struct sha256 h;
	struct sp_err e;
	struct stat st;
	uint8_t d[32], buf[65536];
	char hex[65];
	json_t *id = NULL;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? json_null()
							   : NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > (off_t)MAX_HASHED || sha256_init(&h, &e) < 0) {
		close(fd);
		return NULL;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sha256_release(&h);
			close(fd);
			return NULL;
		}
		sha256_update(&h, buf, (size_t)n);
	}
	sha256_final(&h, d);
	sha256_release(&h);
	close(fd);
	hex_encode(d, sizeof(d), hex);
	id = ident_of(&st);
	if (id && json_array_append_new(id, json_string(hex)) < 0) {
		json_decref(id);
		id = NULL;
	}
	return id;
}

json_t *filekey_ident(const char *path)
{
	struct timespec now;
	struct stat st;
	int64_t newest;

	if (stat(path, &st) < 0)
		return errno == ENOENT || errno == ENOTDIR ? json_null()
							   : NULL;
	newest = ns(&st.st_mtim) > ns(&st.st_ctim) ? ns(&st.st_mtim)
						   : ns(&st.st_ctim);
	clock_gettime(CLOCK_REALTIME, &now);
	if (ns(&now) - newest < (int64_t)STAMP_RACY_S * 1000000000LL)
		return NULL;
	return ident_of(&st);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

json_t *filekey_dir(const char *path, const char *inner)
{
	char **names = NULL, **grown, hex[65];
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	struct sha256 h;
	struct sp_err e;
	struct stat st;
	uint8_t d[32];
	json_t *out = NULL;
	int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir;

	if (dfd < 0)
		return errno == ENOENT || errno == ENOTDIR ? json_null()
							   : NULL;
	dir = fdopendir(dfd);
	if (!dir) {
		close(dfd);
		return NULL;
	}
	while ((de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			grown = realloc(names, cap * sizeof(*names));
			if (!grown)
				goto out;
			names = grown;
		}
		if (!(names[n] = strdup(de->d_name)))
			goto out;
		n++;
	}
	qsort(names, n, sizeof(*names), by_name);
	if (sha256_init(&h, &e) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		int isdir = fstatat(dirfd(dir), names[i], &st, 0) == 0 &&
			    S_ISDIR(st.st_mode);

		sha256_update(&h, names[i], strlen(names[i]));
		if (isdir)
			sha256_update(&h, "/", 1);
		if (isdir && inner) {
			char sub[4096];
			struct stat ist;

			snprintf(sub, sizeof(sub), "%s/%s", names[i], inner);
			if (fstatat(dirfd(dir), sub, &ist, 0) == 0)
				sha256_update(&h, "+", 1);
		}
		sha256_update(&h, "", 1);
	}
	sha256_final(&h, d);
	sha256_release(&h);
	hex_encode(d, sizeof(d), hex);
	out = json_string(hex);
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(dir);
	return out;
}

int filekey_set(json_t *key, const char *label, json_t *v)
{
	if (!v)
		return -1;
	return json_object_set_new(key, label, v);
}

int filekey_env(json_t *env, const char *const *prefixes)
{
	char **ep;
	size_t k;

	for (ep = environ; *ep; ep++) {
		const char *eq = strchr(*ep, '=');
		char *name;
		int rc;

		if (!eq)
			continue;
		for (k = 0; prefixes[k]; k++)
			if (!strncmp(*ep, prefixes[k], strlen(prefixes[k])))
				break;
		if (!prefixes[k])
			continue;
		name = strndup(*ep, (size_t)(eq - *ep));
		if (!name)
			return -1;
		rc = json_object_set_new(env, name, json_string(eq + 1));
		free(name);
		if (rc < 0)
			return -1;
	}
	return 0;
}
