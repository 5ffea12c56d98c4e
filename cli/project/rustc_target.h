/*
 * rustc_target.h - whether rustc can build for a target triple.
 *
 * `spoke build --target TRIPLE` hands the triple to cargo, which puts its
 * outputs under <target>/<TRIPLE>/<profile>/.  A triple whose standard
 * library is not installed makes cargo fail deep inside the first crate
 * ("can't find crate for `core`"), after the dependencies have started
 * compiling; this check says so before cargo runs, with the command that
 * installs it.
 */
#ifndef SPOKE_CLI_PROJECT_RUSTC_TARGET_H
#define SPOKE_CLI_PROJECT_RUSTC_TARGET_H

#include "common/err.h"

/*
 * Asks rustc ($RUSTC, else "rustc" on PATH) for the library folder of
 * triple (`rustc --print target-libdir --target TRIPLE`) and checks that
 * it holds the standard library (a libstd-*.rlib).  Returns 0, or -1 with
 * e filled: rustc not found, a triple rustc does not know (its own
 * message), or "the Rust standard library for target 'T' is not
 * installed (...rustup target add T)".
 */
int rustc_target_check(const char *triple, struct sp_err *e);

/*
 * Checks that a module built for triple can be imported by an interpreter
 * whose platform tag is platform_tag ("linux_x86_64"): the triple's
 * architecture, in Python's spelling (i686 for i586-, armv7l for armv7-,
 * ppc64le for powerpc64le-, riscv64 for riscv64gc-), must be the tag's.
 * spoke tags wheels for the interpreter, so a cross build would give a
 * wheel whose name promises what its module cannot do.  An architecture
 * this table does not know is let through (rustc and the repair's ELF
 * check still see it).  Returns 0, or -1 with e filled.
 */
int rustc_target_fits(const char *triple, const char *platform_tag,
		      struct sp_err *e);

#endif
