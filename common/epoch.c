#include "common/epoch.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

int epoch_parse(const char *value, long long *out, struct sp_err *e)
{
	char *end;
	long long v;

	if (!value || !*value)
		return 0;
	/* strtoll skips blanks and takes a sign: a digit first, only. */
	if (!isdigit((unsigned char)value[0]))
		goto bad;
	errno = 0;
	v = strtoll(value, &end, 10);
	if (errno || *end)
		goto bad;
	*out = v;
	return 1;
bad:
	return sp_err_set(e,
			  "SOURCE_DATE_EPOCH '%s' is not a non-negative "
			  "number of seconds",
			  value);
}
