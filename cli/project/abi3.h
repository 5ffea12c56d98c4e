/*
 * abi3.h - the stable ABI: which modules are tagged cpXY-abi3.
 *
 * A module built against CPython's limited API imports into every CPython
 * from 3.Y on, so its wheel is tagged cpXY-abi3 and the module is named
 * <module>.abi3.so.  spoke learns that a package is such a module from one
 * of two sources, and never from a guess:
 *
 *   - its [package.metadata.spoke] abi3 = "cpXY", an explicit floor;
 *   - pyo3's own features, for a package that depends on pyo3 or pyo3-ffi
 *     directly: cargo reports the resolved features of every crate it
 *     builds (cargo_msg.h keeps pyo3's and pyo3-ffi's), and pyo3's
 *     abi3-pyXY features each enable the next newer one, so the lowest
 *     abi3-pyXY present is the floor pyo3 compiled for.  The feature
 *     abi3 alone means the interpreter's own version, as pyo3 reads it.
 *
 * A raw-FFI module in the same workspace does not depend on pyo3, so
 * pyo3's features say nothing about it and it keeps the interpreter's
 * tags.
 */
#ifndef SPOKE_CLI_PROJECT_ABI3_H
#define SPOKE_CLI_PROJECT_ABI3_H

#include <jansson.h>

#include "cli/project/pyinfo.h"
#include "common/err.h"

/*
 * A job's tags and extension suffix.  py, abi and ext point into the
 * pyinfo, into static strings, or (py) into floor: the struct must be
 * used where it was filled, not copied, and not outlive the pyinfo.
 */
struct abi3_tags {
	const char *py;	 /* "cp311", or the abi3 floor "cp37" */
	const char *abi; /* "cp311", or "abi3" */
	const char *ext; /* the interpreter's suffix, or ".abi3.so" */
	char floor[16];	 /* "cp37" when py is a floor spoke spelled */
};

/*
 * Fills t for a module of pkg (a package object of `cargo metadata`):
 * the interpreter's tags, or the stable ABI's when the package asks for
 * it (see above).  pyo3_features is the JSON array of the features cargo
 * built pyo3 and pyo3-ffi with (cargo_msg.h "pyo3_features"), or NULL
 * when it built neither.  For a non-CPython interpreter pyo3 builds a
 * version-specific module whatever its features say, so the features
 * then give the interpreter's tags.
 *
 * Errors (e says which, naming the settings involved): [package.metadata
 * .spoke] abi3 that is not a "cp3Y" tag; a floor newer than the
 * interpreter; an abi3 setting and pyo3's abi3 features that disagree
 * (another floor, or pyo3 built without abi3); an explicit abi3 with a
 * non-CPython interpreter; abi3 with a free-threaded interpreter (an abi
 * tag like "cp313t"), which does not implement the stable ABI.
 */
int abi3_tags(const json_t *pkg, const json_t *pyo3_features,
	      const struct pyinfo *py, struct abi3_tags *t, struct sp_err *e);

#endif
