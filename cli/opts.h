/*
 * opts.h - getopt_long() for every spoke command, without abbreviations.
 *
 * getopt_long() takes any unique prefix of a long option: `--target` was
 * read as `--target-dir`, so `spoke build --target <triple>` quietly wrote
 * cargo's output into a folder named after the triple.  spoke's options
 * must be spelled out in full; one that is not is a usage error naming the
 * option, before anything runs.
 */
#ifndef SPOKE_CLI_OPTS_H
#define SPOKE_CLI_OPTS_H

#include <getopt.h>

/* Returned by opts_next() for an abbreviated long option, after the
 * message is printed; a command treats it as any usage error. */
#define OPTS_ABBREV '?'

/*
 * getopt_long(argc, argv, shortopts, longopts, NULL), except that on the
 * first call of a parse (optind <= 1) it scans argv as getopt_long() will
 * (option arguments skipped, "--" ends the options) and, when an element
 * names a long option only by a prefix, prints "spoke: option '--x' must
 * be spelled out (did you mean '--x-y'?)" to stderr and returns
 * OPTS_ABBREV.
 */
int opts_next(int argc, char **argv, const char *shortopts,
	      const struct option *longopts);

#endif
