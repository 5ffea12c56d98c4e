/*
 * shard.h - dividing a build's packages among N CI jobs (spoke build
 * --shard K/N), and the weights file that balances them.
 *
 * Every job of a CI matrix computes the partition itself, with its own
 * empty journal and nothing shared but the command line (and the weights
 * file, committed or passed between jobs): so the partition depends only
 * on the package names, N and the weights, never on the order cargo lists
 * the packages in, on the machine or on the time.
 *
 * The rule: packages are taken heaviest first (ties by name, in byte
 * order) and each goes to the shard whose total weight is lowest so far
 * (ties to the shard with fewest packages, then the lowest-numbered one:
 * weights of 0 still spread).  Without weights every package
 * weighs 1, which deals the sorted names round-robin: package i (0-based,
 * sorted) is in shard i mod N + 1.  A package the weights do not name
 * weighs the median of the weights the file gives (1 when it gives none),
 * so a package added since the file was written neither sinks nor tops
 * its shard.
 *
 * The weights file, as `spoke plan --shards N --json` writes it:
 *
 *   {"version": 1,
 *    "weights": {"<cargo package name>": <seconds, a number >= 0>, ...},
 *    "shards": [{"packages": [...], "weight": <seconds>}, ...]}
 *
 * "shards" is what that plan printed, for people and CI scripts; a build
 * recomputes the partition for its own N, so it is checked to be an array
 * and otherwise ignored.  Any other member, a version other than 1, a
 * weight that is not a finite number >= 0 (or above a year), or a name
 * given twice is an error naming it.
 *
 * Everything here is pure: no file is read but the weights file by
 * shard_weights_load().
 */
#ifndef SPOKE_CLI_PROJECT_SHARD_H
#define SPOKE_CLI_PROJECT_SHARD_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"

/* One package to place: name and weight in, shard (1..N) out. */
struct shard_pkg {
	const char *name; /* not owned */
	double weight;	  /* >= 0 */
	unsigned shard;	  /* set by shard_assign() */
};

/*
 * Parses the argument of --shard: "K/N", decimal, 1 <= K <= N.  Returns 0,
 * or -1 with e filled ("--shard 'x': ..."): not K/N, N < 1, K out of
 * 1..N, or numbers too large.
 */
int shard_parse(const char *spec, unsigned *k, unsigned *n, struct sp_err *e);

/*
 * Places each of pkgs[0..n) in one of nshards (>= 1) shards by the rule
 * above; the order of pkgs does not matter (it is left as it was).
 * Returns 0, or -1 with e filled (out of memory).
 */
int shard_assign(struct shard_pkg *pkgs, size_t n, unsigned nshards,
		 struct sp_err *e);

/*
 * Checks a weights document (parsed JSON) as the format above says; file
 * names it in messages.  Returns its "weights" object (a new reference),
 * or NULL with e filled.
 */
json_t *shard_weights_check(const json_t *doc, const char *file,
			    struct sp_err *e);

/* Reads the weights file at path (duplicate names refused) and checks
 * it: shard_weights_check().  NULL with e filled. */
json_t *shard_weights_load(const char *path, struct sp_err *e);

/* The weight of a package the weights (name -> number, or NULL) do not
 * name: their median (the mean of the two middle ones for an even
 * count), 1 when there are none. */
double shard_weights_default(const json_t *weights);

/*
 * The partition of names (an array of distinct strings) into n shards
 * with weights (as shard_weights_check() returns them, or NULL):
 *   {"shards": [{"packages": [names, sorted], "weight": total}, ...],
 *    "default_weight": what an unnamed package weighed}
 * a new reference, or NULL with e filled (out of memory, a name that is
 * not a string or given twice).
 */
json_t *shard_partition(const json_t *names, unsigned n, const json_t *weights,
			struct sp_err *e);

#endif
