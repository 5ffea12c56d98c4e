/*
 * policy.h - the platform policies: which libraries a wheel may need
 * without bundling them, which symbol versions each manylinux or
 * musllinux tag provides, which symbols it forbids, and the rule that
 * gives a wheel its tag.
 *
 * The table is data, not code: data/policy.json in the source tree,
 * generated from the public policy files (scripts/gen-policy.py; the file
 * records its source), compiled into the binary (policy_table.h), so no
 * command looks for it at run time.  Per
 * libc (glibc, musl) and architecture, the tags run from the most
 * compatible (manylinux_2_5, musllinux_1_1) to the newest.  Each lists the
 * sonames every system of the tag provides, per architecture the symbol
 * version names of each namespace it provides (symvers.h), and per
 * library the symbols a wheel must not use even though the library
 * exports them (the blacklist: internals that later builds dropped).
 *
 * An object fits a tag when, as auditwheel decides:
 *  - every version it requires in a namespace the tag lists for the
 *    architecture is on that list (membership, not a ceiling: a list
 *    may skip a version, and "GLIBC_PRIVATE" is on none);
 *  - every library left to the system is on the tag's list (the dynamic
 *    loader always is);
 *  - none of its undefined symbols that is not weak is on the tag's
 *    blacklist for a library the object needs (a weak reference is
 *    optional: the object runs without it, auditwheel issue 663).
 *
 * The tag rule: a glibc wheel gets the oldest tag all its objects fit; a
 * musl wheel the newest musllinux tag (the objects cannot tell musl 1.1
 * from 1.2, and musl carries no symbol versions), unless --compat names
 * an older one; with --compat, exactly that tag, or an error naming what
 * does not fit.
 */
#ifndef SPOKE_WORKER_REPAIR_POLICY_H
#define SPOKE_WORKER_REPAIR_POLICY_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"
#include "worker/elf/inspect.h"
#include "worker/elf/symvers.h"

enum policy_libc { POLICY_GLIBC, POLICY_MUSL };

/* "glibc" or "musl", as the table and reports spell them. */
const char *policy_libc_name(enum policy_libc libc);

/* The libc of the object info describes, name being its path (in the
 * wheel, or on disk): what its headers say (elf_info_libc, inspect.h:
 * PT_INTERP, or a DT_NEEDED libc.musl-<arch>.so.1 or libc.so.6); when they
 * say nothing, what its file name's extension suffix says, as CPython
 * names it ("...-linux-musl.so", "...-linux-musleabihf.so": musl), as
 * auditwheel does last; else glibc: a wheel is glibc's unless it says
 * otherwise.  An Android module ("...-linux-android.so", the suffix of
 * CPython's Android builds) has no policy here: -1 with e saying so.
 * Returns 0 with *out set. */
int policy_libc_of(const struct elf_info *info, const char *name,
		   enum policy_libc *out, struct sp_err *e);

/* The libc a tag name is for ("musllinux_1_2" is musl, "manylinux2014"
 * glibc), or -1 when the name is neither. */
int policy_libc_of_tag(const char *name);

struct policy_blacklist {
	char *lib;   /* "libz.so.1" */
	char **syms; /* sorted */
	size_t nsyms;
};

struct policy_tag {
	char *name;	/* "manylinux_2_17" */
	char **aliases; /* "manylinux2014" */
	size_t naliases;
	char **libs;	/* sonames every such system provides (for musl
			 * tags, "libc.so" is the architecture's musl) */
	size_t nlibs;
	/* Per namespace (symvers.h), for the policy's architecture: whether
	 * the tag judges it, and the version names it provides. */
	int judged[SYMVERS_NNS];
	char **vers[SYMVERS_NNS];
	size_t nvers[SYMVERS_NNS];
	struct policy_blacklist *blacklist;
	size_t nblacklist;
};

/* Everything is owned by the policy: policy_release(). */
struct policy {
	enum policy_libc libc;
	char *arch;		 /* "x86_64" */
	struct policy_tag *tags; /* most compatible first */
	size_t ntags;
};

/* Loads the tags of the table at path for libc and arch.  Tags without
 * symbol versions for arch are left out.  Fails, naming the file, when it
 * cannot be read or parsed, when a field is missing or malformed, or when
 * it has no tag for libc and arch (then saying which architectures it
 * has tags of that libc for).  On failure p holds nothing. */
int policy_load(struct policy *p, const char *path, enum policy_libc libc,
		const char *arch, struct sp_err *e);

/* The compiled-in table's tags for libc and arch (policy_table.h), parsed
 * once per process and kept while the same libc and arch are asked for:
 * a worker runs many jobs, and parsing the table was a fifth of a small
 * wheel's cost.  Owned by this module; valid until the next call. */
const struct policy *policy_default(enum policy_libc libc, const char *arch,
				    struct sp_err *e);

/* Frees everything in p and zeroes it; safe on a zeroed policy. */
void policy_release(struct policy *p);

/* Finds a tag by the name a user gives: "manylinux_2_28", an alias
 * ("manylinux2014", "manylinux1"), "musllinux_1_1", each with or without
 * the "_<arch>" suffix.  NULL with e saying why: a tag of the other libc
 * ("'<what>' is built for musl: --compat manylinux_2_17 is a glibc tag"),
 * another architecture's suffix, or an unknown name (listing the tags
 * there are).  what names the objects judged, for the first message. */
const struct policy_tag *policy_find(const struct policy *p, const char *name,
				     const char *what, struct sp_err *e);

/* Checks that name is a tag some policy of the compiled-in table has,
 * for any libc, with or without an "_<arch>" suffix of an architecture it
 * covers: what --compat accepts before anything is built.  Returns 0, -1
 * with e listing the tags there are (a usage error), or -2 with e saying
 * why the table cannot be read (not the user's doing). */
int policy_name_valid(const char *name, struct sp_err *e);

/* 1 when a wheel of tag t may need soname without bundling it: it is on
 * t's list, or it is the dynamic loader (ld-linux*, ld64.so.1, ld64.so.2,
 * ld-musl-*), which every system has by definition. */
int policy_allows_lib(const struct policy_tag *t, const char *soname);

/* An object judged: in a wheel, or to be bundled into one. */
struct policy_object {
	const char *name;	     /* for messages */
	const struct symvers *sv;    /* what it requires */
	const char *const *needed;   /* its DT_NEEDED */
	size_t nneeded;
};

/* One reason a tag does not fit.  Strings are borrowed from the objects
 * and the policy; syms is owned by the list. */
struct policy_miss {
	enum {
		POLICY_MISS_VERSION,   /* what: "GLIBC_2.34", lib: its
					* library, syms: the symbols using it */
		POLICY_MISS_LIB,       /* what: a soname not on the tag's
					* list; object: who needs it, or NULL */
		POLICY_MISS_BLACKLIST, /* lib: the library, syms: the
					* black-listed symbols used */
	} kind;
	const char *object;
	const char *what;
	const char *lib;
	const char **syms;
	size_t nsyms;
};

/* Owned: policy_misses_release(). */
struct policy_misses {
	struct policy_miss *v;
	size_t n;
};

void policy_misses_release(struct policy_misses *m);

/* Judges the n objects against t, with the nsys libraries in sys left to
 * the system.  Returns 1 when they fit, 0 when they do not, -1 when
 * memory runs out (e filled).  When why is not NULL, every reason is
 * appended to it. */
int policy_judge(const struct policy_tag *t, const struct policy_object *objs,
		 size_t n, const char *const *sys, size_t nsys,
		 struct policy_misses *why, struct sp_err *e);

/* The tag rule without --compat: for glibc, the most compatible tag the
 * objects fit; for musl, the newest tag, when they fit it.  NULL when
 * they fit none (or memory ran out: e filled).  *first is set to the
 * first tag the rule considers (for musl, the newest). */
const struct policy_tag *policy_choose(const struct policy *p,
				       const struct policy_object *objs,
				       size_t n, const char *const *sys,
				       size_t nsys, size_t *first,
				       struct sp_err *e);

/* The reasons as JSON (a new reference, NULL on out-of-memory):
 *   {"symbol_versions": [{"object", "version", "library", "symbols"}],
 *    "libraries": [{"soname", "needed_by"}],
 *    "blacklisted": [{"object", "library", "symbols"}]} */
json_t *policy_misses_json(const struct policy_misses *m);

/* Writes reasons as policy_misses_json() gives them as one line for a
 * message, libraries first, then symbol versions, then black-listed
 * symbols:
 *   "libfoo.so.1 is not on the tag's list of system libraries;
 *    'x.so' needs GLIBC_2.28 (statx), GLIBC_2.34 (pthread_create, dlopen);
 *    'x.so' depends on black-listed symbols: libz.so.1: _tr_init"
 * (at most 8 symbols named per version).  The one wording of reasons: a
 * report that crossed a process boundary as JSON is said with it, and
 * policy_misses_format() goes through it.  Unknown members are
 * ignored. */
void policy_reasons_format(const json_t *reasons, char *buf, size_t n);

/* The same of m: policy_reasons_format(policy_misses_json(m)). */
void policy_misses_format(const struct policy_misses *m, char *buf, size_t n);

/* Of a report's "older_tags" ([{"tag", "fits", "reasons"}], oldest
 * first: verdict_older_json, verdict.h), the
 * newest tag that does not fit, its reasons written into buf as
 * policy_reasons_format() does: what keeps the wheel from one tag older.
 * NULL (buf untouched) when every older tag fits or there is none. */
const char *policy_nearest_miss(const json_t *older, char *buf, size_t n);

/* The wheel platform tag of t: "manylinux_2_17_x86_64.manylinux2014_x86_64"
 * (each alias added after the name), malloc'd; NULL on out-of-memory. */
char *policy_platform_tag(const struct policy *p, const struct policy_tag *t);

#endif
