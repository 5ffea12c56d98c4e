/*
 * pyo3dep.h - whether a cargo package uses PyO3.
 *
 * abi3 (its features are the package's), binplan (a program that embeds
 * Python keeps the interpreter's tags) and plan (PYO3_BUILD_EXTENSION_MODULE
 * must stay unset for such a program) ask the same question.
 */
#ifndef SPOKE_CLI_PROJECT_PYO3DEP_H
#define SPOKE_CLI_PROJECT_PYO3DEP_H

#include <jansson.h>

/*
 * 1 when pkg (a package of `cargo metadata --no-deps`) depends on pyo3 or
 * pyo3-ffi itself, to build or run: not only for its tests or its build
 * script (a dependency with a "kind").  --no-deps lists direct
 * dependencies alone, which is where an extension module or a program
 * that embeds Python names them; one that reaches pyo3 only through
 * another crate is not seen.  0 otherwise.
 */
int pkg_uses_pyo3(const json_t *pkg);

#endif
