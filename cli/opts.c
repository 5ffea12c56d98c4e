/*
 * opts.c - getopt_long() without abbreviations.
 */
#define _GNU_SOURCE
#include "cli/opts.h"

#include <stdio.h>
#include <string.h>

/* The long option named exactly by name[0..len), or NULL. */
static const struct option *exact(const struct option *lo, const char *name,
				  size_t len)
{
	for (; lo->name; lo++)
		if (strlen(lo->name) == len && !strncmp(lo->name, name, len))
			return lo;
	return NULL;
}

/* The first long option that name[0..len) is a proper prefix of, or
 * NULL. */
static const struct option *prefix_of(const struct option *lo, const char *name,
				      size_t len)
{
	for (; lo->name; lo++)
		if (strlen(lo->name) > len && !strncmp(lo->name, name, len))
			return lo;
	return NULL;
}

/* 1 when short option c takes an argument ("c:"), 0 when not or unknown;
 * an optional argument ("c::") is only ever attached. */
static int short_takes_arg(const char *shortopts, char c)
{
	const char *p = c != ':' ? strchr(shortopts, c) : NULL;

	return p && p[1] == ':' && p[2] != ':';
}

/* Scans argv the way getopt_long() walks it.  Returns 0, or -1 with the
 * message printed when an element abbreviates a long option. */
static int scan(int argc, char **argv, const char *shortopts,
		const struct option *longopts)
{
	const struct option *lo;
	const char *a, *eq;
	size_t len;
	int i, k;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (!strcmp(a, "--"))
			return 0;
		if (a[0] != '-' || !a[1])
			continue; /* an operand (getopt permutes past it) */
		if (a[1] == '-') {
			eq = strchr(a + 2, '=');
			len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
			lo = exact(longopts, a + 2, len);
			if (lo) {
				if (lo->has_arg == required_argument && !eq)
					i++; /* its argument is the next one */
				continue;
			}
			lo = prefix_of(longopts, a + 2, len);
			if (lo) {
				fprintf(
				    stderr,
				    "spoke: option '--%.*s' must be spelled "
				    "out in full (did you mean '--%s'?)\n",
				    (int)len, a + 2, lo->name);
				return -1;
			}
			continue; /* unknown: getopt_long() says so */
		}
		for (k = 1; a[k]; k++) {
			if (short_takes_arg(shortopts, a[k])) {
				if (!a[k + 1])
					i++;
				break;
			}
		}
	}
	return 0;
}

int opts_next(int argc, char **argv, const char *shortopts,
	      const struct option *longopts)
{
	if (optind <= 1 && scan(argc, argv, shortopts, longopts) < 0)
		return OPTS_ABBREV;
	return getopt_long(argc, argv, shortopts, longopts, NULL);
}
