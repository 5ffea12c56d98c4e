/*
 * strutil.h - the small string helpers the cargo project code shares:
 * malloc'd strings built by printf or by appending, the string members
 * and string arrays of cargo's JSON, and the error for a failed
 * allocation.
 *
 * They lived as private copies in cargo.c, cargo_msg.c, pkgmeta.c,
 * plan.c, pysrc.c and cli/cmd_sdist.c; one copy here keeps them behaving
 * alike.  None of them keeps state.
 */
#ifndef SPOKE_CLI_PROJECT_STRUTIL_H
#define SPOKE_CLI_PROJECT_STRUTIL_H

#include <jansson.h>

#include "common/err.h"

/*
 * A new string formatted as by printf.  The caller owns it (free()).
 * Returns NULL when out of memory (errno ENOMEM); it sets no error, so
 * that the caller can say what it was doing (str_oom()).
 */
char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Appends add to the malloc'd string *s, with sep between the two when *s
 * is not NULL; a NULL *s is the empty list and gets add alone (an empty
 * *s, "", is a one-item list and gets sep).  *s stays the caller's and may
 * move.  Returns 0, or -1 when out of memory, with *s unchanged and still
 * to be freed by the caller.
 */
int str_append(char **s, const char *sep, const char *add);

/*
 * The string member key of the object o when it is a non-empty string,
 * else NULL (missing, not a string, "", or o not an object or NULL).
 * The string belongs to o: valid while o holds that member.
 */
const char *str_member(const json_t *o, const char *key);

/*
 * 1 when the JSON array a holds a string equal to v, else 0 (also when a
 * is not an array or is NULL).  Members that are not strings are skipped.
 */
int str_array_has(const json_t *a, const char *v);

/*
 * Appends the string v to the JSON array a unless a holds an equal string
 * already; members of a that are not strings are skipped.  Returns 0 when
 * v is in a afterwards, or -1 when out of memory or v is not valid UTF-8
 * (a unchanged).  It sets no error.
 */
int str_array_add_unique(json_t *a, const char *v);

/*
 * Fills e for an allocation that failed while doing `doing` ("plan the
 * build"): "cannot <doing>: <strerror(ENOMEM)>", with e's errno and the
 * global errno set to ENOMEM.  Returns -1, so that a caller can
 * `return str_oom(e, ...)`.
 */
int str_oom(struct sp_err *e, const char *doing);

#endif
