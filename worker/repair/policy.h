/*
 * policy.h - the manylinux policy: which libraries a wheel may need without
 * bundling them, and which symbol versions each manylinux tag allows.
 *
 * The table is data, not code: data/manylinux-policy.json in the source
 * tree, installed as <prefix>/share/spoke/manylinux-policy.json.  Each tag
 * lists the sonames every system of that tag provides and, per
 * architecture, the newest GLIBC, CXXABI, GLIBCXX and GCC symbol version
 * such a system has (a ceiling).  A wheel is manylinux_2_X when every
 * object in it needs at most tag 2_X's ceilings and every library it does
 * not bundle is on 2_X's list.
 */
#ifndef SPOKE_WORKER_REPAIR_POLICY_H
#define SPOKE_WORKER_REPAIR_POLICY_H

#include <stddef.h>

#include "common/err.h"
#include "worker/elf/symvers.h"

struct policy_tag {
	char *name;	       /* "manylinux_2_17" */
	char *alias;	       /* "manylinux2014", or NULL */
	unsigned glibc_minor;  /* 17: the tag is for glibc 2.<glibc_minor> */
	struct symvers ceiling; /* for the policy's architecture */
	char **libs;	       /* sonames every such system provides */
	size_t nlibs;
};

/* Everything is owned by the policy: policy_release(). */
struct policy {
	char *arch;		 /* "x86_64", "aarch64" */
	struct policy_tag *tags; /* oldest glibc first */
	size_t ntags;
};

/* Loads the table at path for arch ("x86_64" or "aarch64").  Tags without
 * ceilings for arch are left out.  Fails, naming the file, when it cannot
 * be read or parsed, when a field is missing or malformed, or when it has
 * no tag for arch.  On failure p holds nothing. */
int policy_load(struct policy *p, const char *path, const char *arch,
		struct sp_err *e);

/* Loads the installed table: <dir of the executable>/../share/spoke/, else
 * the source tree's data/ (SPOKE_DATA_DIR, set at build time).  The error
 * names every place looked at. */
int policy_load_default(struct policy *p, const char *arch,
			struct sp_err *e);

/* The installed table as policy_load_default() finds it, kept for the
 * rest of the process and loaded again only when its file changes
 * (common/stamp.h) or another arch is asked for: a worker runs many jobs, and
 * parsing the table was a fifth of a small wheel's cost.  Owned by this
 * module; valid until the next call. */
const struct policy *policy_default(const char *arch, struct sp_err *e);

/* Frees everything in p and zeroes it; safe on a zeroed policy. */
void policy_release(struct policy *p);

/* "x86_64" for EM_X86_64, "aarch64" for EM_AARCH64, else NULL. */
const char *policy_arch_of_machine(unsigned machine);

/* Finds a tag by the name a user gives: "manylinux_2_28", its legacy alias
 * ("manylinux2014"), either with the "_<arch>" suffix.  NULL with e saying
 * which tags exist when there is no such tag or the suffix names another
 * architecture. */
const struct policy_tag *policy_find(const struct policy *p, const char *name,
				     struct sp_err *e);

/* 1 when a wheel of tag t may need soname without bundling it: it is on
 * t's list, or it is the dynamic loader (ld-linux*.so.*, ld64.so.*), which
 * every system has by definition. */
int policy_allows_lib(const struct policy_tag *t, const char *soname);

/* 0 when need fits t's ceilings; else -1 with e saying, for the first
 * namespace that does not fit:
 *   "'<object>' needs GLIBC_2.34, newer than manylinux_2_28 allows
 *    (GLIBC_2.28)". */
int policy_check(const struct policy_tag *t, const struct symvers *need,
		 const char *object, struct sp_err *e);

/* The most compatible tag (the oldest glibc) whose ceilings hold need and
 * which allows every one of the n sonames, among the tags not newer than
 * limit (all tags when limit is NULL).  NULL when none does. */
const struct policy_tag *policy_choose(const struct policy *p,
				       const struct symvers *need,
				       const char *const *sonames, size_t n,
				       const struct policy_tag *limit);

/* The wheel platform tag of t: "manylinux_2_17_x86_64.manylinux2014_x86_64"
 * (the alias added where one exists), malloc'd; NULL on out-of-memory. */
char *policy_platform_tag(const struct policy *p, const struct policy_tag *t);

#endif
