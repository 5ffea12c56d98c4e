/*
 * pyname.h - the one naming rule of Python packaging that spoke applies:
 * distribution names, versions, wheel tags, module names, and the wheel
 * and .dist-info names made of them.  One check of an artifact's names
 * (pyname_check_artifact) serves `spoke build --artifacts`, the
 * coordinator and the worker; the coordinator names the wheel
 * (wheel_filename) before anything reaches the file system, and the job
 * carries that name to the worker (worker/wheel_job.h), so the two cannot
 * disagree.
 * Everything here is pure: no I/O.
 */
#ifndef SPOKE_COMMON_PYNAME_H
#define SPOKE_COMMON_PYNAME_H

#include "common/err.h"

/* Returns the distribution name as wheel file names spell it (malloc'd):
 * each run of '-', '_' and '.' becomes one '_', letters are lowercased.
 * NULL on out-of-memory. */
char *dist_normalize(const char *name);

/* 1 when name is a valid distribution name (PEP 508): ASCII letters and
 * digits, with '.', '_' and '-' allowed inside but not at either end. */
int dist_name_valid(const char *name);

/* 1 when v is a PEP 440 version (canonical or one of the spellings PEP
 * 440 normalizes: "v1.0", "1.0-alpha1", "1.0-1", ...). */
int version_valid(const char *v);

/* 1 when tag can be a wheel tag: one or more dot-separated non-empty parts
 * of ASCII letters, digits and '_'. */
int tag_valid(const char *tag);

/* 1 when m is a dotted Python module name of ASCII identifiers. */
int module_name_valid(const char *m);

/* 1 when s can be an interpreter's EXT_SUFFIX (".cpython-312-x86_64-
 * linux-gnu.so", ".abi3.so"): a '.' then letters, digits, '.', '_' and
 * '-'.  It becomes part of a zip entry name and a RECORD line, so it is
 * held to the characters interpreters use. */
int ext_suffix_valid(const char *s);

/* The platform tag of a wheel nothing was repaired for, "linux_<arch>"
 * (arch as wheel tags spell it: "x86_64"), malloc'd; NULL on
 * out-of-memory.  The one spelling of build --artifacts' declared tags
 * and of repair's linux-only verdict. */
char *wheel_linux_tag(const char *arch);

/* Returns "<normalized dist>-<version>-<py>-<abi>-<plat>.whl" with each '-'
 * of version written '_' (malloc'd).  NULL on out-of-memory.  The caller
 * validates the parts first. */
char *wheel_filename(const char *dist, const char *version, const char *py,
		     const char *abi, const char *plat);

/* Returns "<normalized dist>-<version>.dist-info", version escaped as in
 * wheel_filename (malloc'd).  NULL on out-of-memory. */
char *dist_info_dir(const char *dist, const char *version);

/* The names of one artifact of a build request: what its wheel's name
 * and .dist-info are made of.  A NULL tag is not known yet (spoke build
 * --artifacts learns the interpreter's tags after reading the file) and
 * is not checked. */
struct pyname_artifact {
	const char *distribution;
	const char *version;
	const char *module;
	const char *python_tag, *abi_tag, *platform_tag;
	const char *ext_suffix; /* NULL: not known yet, not checked */
};

/* The one check of an artifact's names, shared by `spoke build
 * --artifacts` (cli/project/artifacts.c), the coordinator (a build
 * request) and the worker (a job): each must be present and valid by the
 * functions above.  Returns 0, or -1 with e naming the field and the
 * value ("invalid version '1 2': it is not a PEP 440 version"). */
int pyname_check_artifact(const struct pyname_artifact *a, struct sp_err *e);

#endif
