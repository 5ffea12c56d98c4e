/*
 * repair_opts.h - what a repair is asked to do (repair.h runs it).
 *
 * A leaf header: it includes nothing of spoke's, so the typed job
 * (worker/wheel_job.h), which the coordinator includes, carries a repair's
 * options without bringing the ELF and repair rooms' types along.
 * repair_mode_name() and repair_mode_parse() are defined in repair.c.
 */
#ifndef SPOKE_WORKER_REPAIR_REPAIR_OPTS_H
#define SPOKE_WORKER_REPAIR_REPAIR_OPTS_H

#include <stddef.h>

enum repair_mode {
	REPAIR_MODE_REPAIR, /* bundle, patch and tag (the default) */
	REPAIR_MODE_CHECK,  /* analyse and tag; fail if anything needs
			     * bundling */
	REPAIR_MODE_SKIP,   /* nothing: a plain linux_<arch> wheel */
	REPAIR_MODE_WARN,   /* analyse and report as check does, never
			     * fail: a wheel that needs bundling is written
			     * unrepaired as linux_<arch> (maturin's
			     * --auditwheel=warn) */
};

/* Where a repair looks for the libraries a module needs (ldresolve.h). */
enum repair_search {
	/* As the loader on this machine would: RPATH, LD_LIBRARY_PATH,
	 * RUNPATH, linked_paths, lib_path, ld.so.conf, the default
	 * directories (the default). */
	REPAIR_SEARCH_SYSTEM,
	/* Only where the caller declared: lib_path, linked_paths, and the
	 * RPATH/RUNPATH elements that start at $ORIGIN; never
	 * LD_LIBRARY_PATH, ld.so.conf, the default directories or another
	 * absolute RPATH (spoke wheel, a build system's action whose inputs
	 * are declared).  The policy's system libraries need not be found
	 * there: the target system has them. */
	REPAIR_SEARCH_DECLARED,
};

/* The options of a repair.  Every pointer is borrowed: the caller owns
 * the strings and the arrays, and keeps them alive through repair_run().
 * A zeroed struct is the default: repair mode, no limit, nothing
 * excluded, no extra search path. */
struct repair_opts {
	enum repair_mode mode;
	/* The platform tag the wheel must get ("manylinux_2_28",
	 * "manylinux2014", "musllinux_1_1", with or without "_<arch>"):
	 * exactly that tag, or an error; NULL: the policy's rule
	 * (repair/policy.h). */
	const char *compat;
	/* Patterns of libraries never bundled (the user promises the target
	 * system has them): shell-style globs on sonames, or on the path a
	 * library is found at when they hold a '/' (exclude.h). */
	const char *const *exclude;
	size_t nexclude;
	/* Extra directories to search (--lib-path), before ld.so.conf. */
	const char *const *lib_path;
	size_t nlib;
	/* cargo's build-script search paths (cargo:rustc-link-search). */
	const char *const *linked_paths;
	size_t nlinked;
	/* The client's LD_LIBRARY_PATH (':'-separated), or NULL. */
	const char *ld_library_path;
	enum repair_search search;
	/* Nonzero: every bundled library is stripped of its DWARF as the
	 * module is (debugsplit.h), before it is patched, so that its build
	 * ID and addresses match the debug file; the debug files are
	 * written by repair_write_debug() under in->debug_dir. */
	int split_debug;
};

/* "system" or "declared", as options spell a search; and back: 0, or -1
 * when name is neither.  Defined in repair.c. */
const char *repair_search_name(enum repair_search s);
int repair_search_parse(const char *name, enum repair_search *s);

/* The name of a mode ("repair", "check", "skip", "warn"), as options and
 * reports spell it. */
const char *repair_mode_name(enum repair_mode m);

/* Sets *m from its name; returns 0, or -1 when name is none of the
 * four. */
int repair_mode_parse(const char *name, enum repair_mode *m);

#endif
