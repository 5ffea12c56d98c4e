/*
 * strutil.c - the small string helpers the cargo project code shares.
 */
#define _GNU_SOURCE
#include "cli/project/strutil.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *str_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

int str_append(char **s, const char *sep, const char *add)
{
	size_t a = *s ? strlen(*s) : 0, b = strlen(add);
	size_t c = *s ? strlen(sep) : 0;
	char *n = realloc(*s, a + c + b + 1);

	if (!n)
		return -1;
	memcpy(n + a, sep, c);
	memcpy(n + a + c, add, b + 1);
	*s = n;
	return 0;
}

const char *str_member(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? s : NULL;
}

int str_array_has(const json_t *a, const char *v)
{
	size_t i;
	json_t *x;

	/* A member that is not a string is skipped: strcmp() on its NULL
	 * value would crash on an array that came from outside. */
	json_array_foreach(a, i, x)
	{
		if (json_is_string(x) && strcmp(json_string_value(x), v) == 0)
			return 1;
	}
	return 0;
}

int str_array_add_unique(json_t *a, const char *v)
{
	if (str_array_has(a, v))
		return 0;
	return json_array_append_new(a, json_string(v));
}

int str_oom(struct sp_err *e, const char *doing)
{
	errno = ENOMEM;
	return sp_err_sys(e, "cannot %s", doing);
}
