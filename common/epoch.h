/*
 * epoch.h - SOURCE_DATE_EPOCH, read the one way every command reads it.
 */
#ifndef SPOKE_COMMON_EPOCH_H
#define SPOKE_COMMON_EPOCH_H

#include "common/err.h"

/*
 * The time reproducible builds ask for (reproducible-builds.org's
 * SOURCE_DATE_EPOCH): value, normally getenv's, in decimal seconds since
 * 1970.  Returns 1 with *out set when value is set, 0 when it is NULL or
 * empty (the caller's default: now, or a fixed time), -1 with e naming
 * it when it is not a non-negative decimal number that fits a long long
 * ("abc", "-1", "12x", "99999999999999999999").
 */
int epoch_parse(const char *value, long long *out, struct sp_err *e);

#endif
