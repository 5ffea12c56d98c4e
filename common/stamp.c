/*
 * stamp.c - whether a file read before is still the same.
 */
#define _GNU_SOURCE
#include "common/stamp.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

void stamp_take(const char *path, struct stamp *s)
{
	struct timespec now;
	struct stat st;
	int64_t newest;

	memset(s, 0, sizeof(*s));
	if (stat(path, &st) < 0) {
		/* Unreadable for another reason than absence: never the
		 * same, so whatever was made of it is made again. */
		s->racy = errno != ENOENT;
		return;
	}
	s->exists = 1;
	s->id.dev = (uint64_t)st.st_dev;
	s->id.ino = (uint64_t)st.st_ino;
	s->id.size = (int64_t)st.st_size;
	s->id.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL +
			 (int64_t)st.st_mtim.tv_nsec;
	s->ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000LL +
		      (int64_t)st.st_ctim.tv_nsec;
	newest = s->id.mtime_ns > s->ctime_ns ? s->id.mtime_ns : s->ctime_ns;
	clock_gettime(CLOCK_REALTIME, &now);
	s->racy = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec - newest <
		  (int64_t)STAMP_RACY_S * 1000000000LL;
}

static uint64_t epoch_now;

void stamp_epoch_set(uint64_t epoch)
{
	epoch_now = epoch;
}

uint64_t stamp_epoch(void)
{
	return epoch_now;
}

int stamp_same(const struct stamp *a, const struct stamp *b)
{
	if (a->racy || b->racy || a->exists != b->exists)
		return 0;
	return !a->exists || (fsx_ident_same(&a->id, &b->id, 1) &&
			      a->ctime_ns == b->ctime_ns);
}
