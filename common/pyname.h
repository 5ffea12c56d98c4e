/*
 * pyname.h - the one naming rule of Python packaging that spoke applies:
 * distribution names, versions, wheel tags, module names, and the wheel
 * and .dist-info names made of them.  The coordinator checks a build's
 * names with these before anything reaches the file system, and the
 * worker names the wheel with the same code, so the two cannot disagree.
 * Everything here is pure: no I/O.
 */
#ifndef SPOKE_COMMON_PYNAME_H
#define SPOKE_COMMON_PYNAME_H

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

/* Returns "<normalized dist>-<version>-<py>-<abi>-<plat>.whl" with each '-'
 * of version written '_' (malloc'd).  NULL on out-of-memory.  The caller
 * validates the parts first. */
char *wheel_filename(const char *dist, const char *version, const char *py,
		     const char *abi, const char *plat);

/* Returns "<normalized dist>-<version>.dist-info", version escaped as in
 * wheel_filename (malloc'd).  NULL on out-of-memory. */
char *dist_info_dir(const char *dist, const char *version);

#endif
