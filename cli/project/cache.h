/*
 * cache.h - answers kept across runs of spoke, under keys that name every
 * input they were made from.
 *
 * What the client asks of the interpreter (pyinfo.h) and of `cargo
 * metadata` (cargo.h) takes a Python or a cargo start each time, for an
 * answer that changes only when some file or variable it depends on
 * changes.  The callers build a key (a JSON value) that holds each such
 * input (identities and content hashes: filekey.h); an answer is handed
 * back only when the stored key equals the one computed now, so a stale
 * entry is a miss, never a wrong answer.
 *
 * Where: $XDG_CACHE_HOME/spoke when XDG_CACHE_HOME is absolute, else
 * $HOME/.cache/spoke (the state directory cannot hold it: where it is
 * comes from cargo metadata, the first thing cached).  The folder is
 * made 0700 when the folder above exists (that one is never made: root
 * with another user's HOME would own it; without it there is no cache,
 * silently), and must be the user's and writable by no one else, or it
 * is not used (one warning on stderr).  SPOKE_NO_CACHE=1 turns the cache
 * off: nothing is read or written.
 *
 * One file per kind and slot (the stable part of a question, e.g. which
 * interpreter): "<kind>-<sha256 of slot>.json", so a changed input
 * replaces its entry rather than adding one; past CACHE_MAX_ENTRIES
 * files, the oldest are removed.  A file is written by the one
 * temporary-file recipe (tmpfile.h) and renamed into place; it is read
 * with O_NOFOLLOW and used only when it is a regular file of the user's,
 * with one link, writable by no one else, whose first line carries the
 * sha256 of the rest: a truncated, corrupt or planted file is a miss.
 */
#ifndef SPOKE_CLI_PROJECT_CACHE_H
#define SPOKE_CLI_PROJECT_CACHE_H

#include <jansson.h>

/* How many entries the folder holds at most before the oldest go. */
#define CACHE_MAX_ENTRIES 512

/* The answer stored for kind and slot under key (a new reference), or
 * NULL: no entry, another key, an entry refused, or no cache. */
json_t *cache_get(const char *kind, const char *slot, const json_t *key);

/* Stores value for kind and slot under key, replacing the slot's entry.
 * A cache that cannot be written is no error: returns -1 and the next
 * run asks again. */
int cache_put(const char *kind, const char *slot, const json_t *key,
	      const json_t *value);

/* The cache folder's path (malloc'd), or NULL when the cache is off or
 * cannot be used: for messages and tests. */
char *cache_dir_path(void);

#endif
