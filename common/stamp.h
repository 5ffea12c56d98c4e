/*
 * stamp.h - whether a file read before is still the same.
 */
#ifndef SPOKE_COMMON_STAMP_H
#define SPOKE_COMMON_STAMP_H

#include <stdint.h>

#include "common/fsx.h"

/*
 * What tells a process that a file it read is still the same, so that what
 * it made of the file may be kept (a worker's parsed ld.so.conf; the
 * platform policy is compiled in): the identity of the file a path leads to (following
 * symlinks, unlike fsx_ident_of) and its ctime, or that there was no file.
 * Timestamps are coarser than writes, so a file changed less than
 * STAMP_RACY_S seconds before its stamp was taken might change again
 * unseen; its stamp is "racy" and equals nothing, as git treats such index
 * entries.
 */
#define STAMP_RACY_S 2
struct stamp {
	struct fsx_ident id;
	int64_t ctime_ns;
	int exists, racy;
};

/* Stamps path (following symlinks) now. */
void stamp_take(const char *path, struct stamp *s);

/* 1 when a and b say the same unchanged file (or both no file), else 0;
 * always 0 when either is racy. */
int stamp_same(const struct stamp *a, const struct stamp *b);

/* The stamp epoch.  While it is not 0, a cache that checked its stamps
 * once in the epoch trusts them until the epoch changes, without a new
 * stat().  A worker sets it to its job's build, so every job of a build
 * sees the same ld.so.conf, and a small wheel does not pay a stat()
 * per job for a file that did not change.  0 (the default, and in
 * every process but a worker) checks on every use. */
void stamp_epoch_set(uint64_t epoch);
uint64_t stamp_epoch(void);

#endif
