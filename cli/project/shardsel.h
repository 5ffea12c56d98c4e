/*
 * shardsel.h - which packages of a workspace a sharded build divides, and
 * narrowing the build to one shard (spoke build --shard K/N).
 *
 * The packages divided are those of the selection (projconf.h: the
 * packages cargo builds as roots: -p, else the package of the manifest,
 * else the default members) that can give a wheel, as cargo metadata
 * tells before anything is built: those with a cdylib target, and those
 * shipped as programs (binplan.h) with a bin target.  Whether a cdylib is
 * a Python module is known only once it is built (the PyInit_ rule of
 * plan.h, when no package declares its module), so a cdylib that turns
 * out not to be one counts in its shard and gives no wheel there.
 *
 * A shard's build passes its packages to cargo as -p, so no other crate
 * of the workspace is compiled but their dependencies; only their wheels
 * are written.  A cdylib that cargo builds only as another package's
 * dependency (not in the selection) gets no wheel in a sharded build:
 * select it (-p, default-members) to have one.  Whether modules are
 * declared (plan.h's selection rule) is decided over the whole selection,
 * so every shard applies the rule the unsharded build applies.  So are
 * the pyprojects' cargo options (projconf.h: pc->roots), and the
 * features are rewritten for the shard (shardsel_features()).
 */
#ifndef SPOKE_CLI_PROJECT_SHARDSEL_H
#define SPOKE_CLI_PROJECT_SHARDSEL_H

#include <jansson.h>

#include "cli/project/projconf.h"
#include "common/err.h"

/*
 * The packages pc's selection divides, for meta (cargo metadata):
 *   {"packages": [names, sorted],
 *    "files": {the file name each one's cdylib or program gets: its
 *              package, as the journal's cargo paths end}}
 * a new reference, or NULL with e filled (binplan.h's refusal, out of
 * memory).
 */
json_t *shardsel_packages(const struct projconf *pc, const json_t *meta,
			  struct sp_err *e);

/*
 * Narrows pc's selection to names (the packages of one shard, a subset
 * of shardsel_packages()'s): pc->selected holds them alone and
 * pc->sharded the whole division (shardsel_packages()'s), for plan.c's
 * rule.  Returns 0, or -1 with e filled (out of memory).
 */
int shardsel_narrow(struct projconf *pc, const json_t *meta, const json_t *all,
		    const json_t *names, struct sp_err *e);

/*
 * The whole step for plan.c: divides pc's selection into n shards with
 * weights (shard.h; NULL: none), fills *division (a new reference:
 * shardsel_packages()'s members, "n", "k", and shard_partition()'s
 * "shards" and "default_weight") and, when k >= 1, narrows pc to shard k
 * and sets *names to its packages (a malloc'd array of *count strings
 * that point into *division).  Returns 0, or -1 with e filled (nothing
 * is left to free then): no package to divide at all, out of memory.
 */
int shardsel_apply(struct projconf *pc, const json_t *meta, unsigned k,
		   unsigned n, const json_t *weights, json_t **division,
		   const char ***names, size_t *count, struct sp_err *e);

/*
 * Rewrites pc->features (the unsharded build's --features, with the
 * pyprojects') for the shard pc was narrowed to, so that cargo applies
 * what it would unsharded: a plain feature becomes "<pkg>/<feature>" for
 * each of the shard's packages that has it and is dropped for the others;
 * "pkg/feature" stays when pkg is one of the shard's packages or a direct
 * dependency of one, and is dropped otherwise.  A feature no root of the
 * unsharded build has stays as given, so cargo fails as it would
 * unsharded.  Nothing happens outside a shard.  Returns 0, or -1 with e
 * filled (out of memory).
 */
int shardsel_features(struct projconf *pc, const json_t *meta,
		      struct sp_err *e);

#endif
