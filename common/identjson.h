/*
 * identjson.h - a file's identity as JSON, the one form the worker reports
 * it in and the coordinator compares and journals it in.
 */
#ifndef SPOKE_COMMON_IDENTJSON_H
#define SPOKE_COMMON_IDENTJSON_H

#include <jansson.h>
#include <stdint.h>
#include <sys/stat.h>

/* Nanoseconds since the epoch of t. */
int64_t ident_ns(const struct timespec *t);

/* {"dev", "ino", "size", "mtime_ns", "ctime_ns"} of st: what a reused
 * wheel, a bundled library or a searched folder is held to
 * (server/reuse.h).  Both ends build it here, so a field added or
 * renamed cannot make the worker's and the coordinator's forms differ.
 * A new reference; NULL when out of memory. */
json_t *ident_json(const struct stat *st);

#endif
