/*
 * verdict.h - the platform verdict on a wheel's objects: which libc and
 * architecture they are for, which policy judges them (policy.h), what
 * becomes of each library they need, the tag they get and why each older
 * tag does not fit.
 *
 * One verdict for everyone who gives one: `spoke show` on any wheel, and
 * the repair (repair.h) on a module and the libraries it bundles.  Both
 * decide the same way here; they differ only in the objects and the
 * libraries they hand over (show: every ELF object of the wheel, and the
 * libraries those need that the wheel does not hold; the repair: the
 * module and what it bundles, and every library found for them).
 *
 * Every ELF object counts, executables too (a
 * "<dist>.data/scripts/tool" that needs GLIBC_2.34 makes the wheel
 * manylinux_2_34, as auditwheel judges it): an object is its symbol
 * versions, with its elf_info when elf_inspect took it, else what its ELF
 * header says (struct elf_ident).
 *
 * A library an object needs is, in this order:
 *  - removed: libpython (elf/pycheck.h), which the interpreter provides:
 *    never bundled, never asked of the system;
 *  - left to the system: on the list of the tag that decides (--compat's,
 *    else the newest of the policy), or the dynamic loader;
 *  - excluded: it matches an --exclude pattern (exclude.h);
 *  - bundled, by a repair (for show: would be).
 *
 * The tag is the policy's rule (policy_choose), or --compat's tag when
 * the objects fit it.  An extension module that CPython's ABI limits to
 * linux_<arch> (PyFPE_jbuf, UCS2: pycheck.h), and objects that fit no
 * tag, give the wheel the plain "linux_<arch>" tag; the policy's opinion
 * (the tag it would give, every older tag's reasons) is kept.
 */
#ifndef SPOKE_WORKER_REPAIR_VERDICT_H
#define SPOKE_WORKER_REPAIR_VERDICT_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"
#include "worker/elf/inspect.h"
#include "worker/elf/pycheck.h"
#include "worker/elf/symvers.h"
#include "worker/repair/policy.h"

/* An object judged.  Everything is borrowed. */
struct verdict_object {
	const char *name; /* for messages: its path in the wheel or on disk */
	/* Its path in the wheel, whose file name may tell its libc
	 * (policy_libc_of); NULL: name. */
	const char *path;
	/* What elf_inspect read, or NULL (an executable, which it does not
	 * take): then ident gives the architecture, and the object's
	 * libraries are not known. */
	const struct elf_info *info;
	const struct elf_ident *ident;
	const struct symvers *sv; /* what it requires */
	/* What CPython's ABI says of it, or NULL when not read. */
	const struct pycheck *py;
};

/* What the verdict is asked to respect (borrowed, as repair_opts). */
struct verdict_opts {
	const char *compat; /* the tag the wheel must get, or NULL */
	const char *const *exclude;
	size_t nexclude;
};

enum verdict_action {
	VERDICT_REMOVED,
	VERDICT_SYSTEM,
	VERDICT_EXCLUDED,
	VERDICT_BUNDLE,
};

/* "removed", "system", "excluded", "graft": as the repair's report
 * spells them. */
const char *verdict_action_name(enum verdict_action a);

/* An older tag and why the objects miss it (an empty list: they fit it
 * too, but the rule gives another: a musl wheel's older musllinux tag). */
struct verdict_older {
	const struct policy_tag *tag;
	struct policy_misses why;
};

/* Owned: verdict_release().  Strings are borrowed from the objects, the
 * library names handed over and the policy (policy_default()'s: valid
 * until it is asked for another libc or architecture). */
struct verdict {
	const struct verdict_opts *opts;
	enum policy_libc libc;
	const char *arch;
	const struct policy *pol;
	const struct policy_tag *limit;	   /* --compat's tag, or NULL */
	const struct policy_tag *libs_tag; /* whose list decides */
	/* The libraries handed over, each once, by what becomes of them. */
	const char **libs[VERDICT_BUNDLE + 1];
	size_t nlibs[VERDICT_BUNDLE + 1];
	/* After verdict_decide(): the tag the objects get (NULL: none
	 * fits), the first object only linux_<arch> fits and why (NULL and
	 * ""), the wheel's platform tag, and each tag from the policy's
	 * oldest to the chosen one (excluded), or to --compat's or the
	 * newest (included) when none is chosen. */
	const struct policy_tag *tag;
	const char *linux_only;
	char linux_only_why[512];
	char *plat;
	struct verdict_older *older;
	size_t nolder;
};

/* Finds the policy of the n objects: their libc (policy_libc_of on each;
 * musl when one says musl; an error when one's headers say glibc and
 * another's musl, or one is for Android), their architecture (the first
 * object's elf_info, else elf_ident; an error, never a guess, when it is
 * not known), the policy of both (policy_default) and --compat's tag
 * (policy_find; what names the objects in its error).  v keeps opts.
 * Returns 0, or -1 with e saying why there is no verdict; v then needs
 * verdict_release() all the same. */
int verdict_policy(struct verdict *v, const struct verdict_object *objs,
		   size_t n, const struct verdict_opts *opts, const char *what,
		   struct sp_err *e);

/* What becomes of the library soname, found at path (NULL: not found or
 * not looked up), under v's policy (the order is in the head comment). */
enum verdict_action verdict_lib_action(const struct verdict *v,
				       const char *soname, const char *path);

/* Hands soname (found at path, or NULL) over: it is listed once under
 * its action.  Returns 0, or -1 when memory runs out. */
int verdict_add_lib(struct verdict *v, const char *soname, const char *path);

/* Judges the n objects with the libraries handed over: the tag, the
 * wheel's platform tag, the older tags' reasons (struct verdict).
 * Returns 0, or -1 when memory runs out (e filled). */
int verdict_decide(struct verdict *v, const struct verdict_object *objs,
		   size_t n, struct sp_err *e);

/* All of it on a wheel's objects: verdict_policy, then every library an
 * object needs that is not one of the nprov the wheel provides (by
 * DT_SONAME or file name) is handed over, then verdict_decide.  Returns
 * 0, or -1 with e saying why there is no verdict (or out of memory). */
int verdict_wheel(struct verdict *v, const struct verdict_object *objs,
		  size_t n, const char *const *prov, size_t nprov,
		  const struct verdict_opts *opts, struct sp_err *e);

/* When no tag was chosen: sets e to "'<name>' does not fit --compat
 * <tag>: <reasons>", or "'<name>' fits no platform tag; for the newest,
 * <tag>: <reasons>", and returns -1.  Returns 0 when a tag was chosen. */
int verdict_misfit(const struct verdict *v, const char *name,
		   struct sp_err *e);

/* The older tags as JSON, [{"tag", "fits", "reasons"}] (reasons as
 * policy_misses_json gives them); a new reference, NULL when memory runs
 * out. */
json_t *verdict_older_json(const struct verdict *v);

/* The highest version per namespace the n symbol-version sets require:
 * {"GLIBC": "2.17", "ZLIB": "1.2.9"}; a new reference, NULL when memory
 * runs out. */
json_t *verdict_symvers_json(const struct symvers *const *svs, size_t n);

/* Frees what v holds and zeroes it; safe on a zeroed verdict and twice. */
void verdict_release(struct verdict *v);

#endif
