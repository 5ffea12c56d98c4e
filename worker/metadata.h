/*
 * metadata.h - the text files of a wheel's .dist-info and its names.
 *
 * Renders core metadata (METADATA, version 2.1, or 2.4 when it lists
 * License-File) and the WHEEL file from a
 * job (job.h), and holds the naming rules of distributions, versions, tags
 * and module names.  Everything here is pure: no I/O.
 */
#ifndef SPOKE_WORKER_METADATA_H
#define SPOKE_WORKER_METADATA_H

#include <jansson.h>

#include "common/err.h"

/* Returns the METADATA text for job's distribution, version and optional
 * "metadata" object (malloc'd; caller frees), or NULL with e filled when a
 * field is missing, has the wrong type, is unknown, or holds a line break
 * where one line is required.  Summary is the exception: its whitespace runs
 * are collapsed to single spaces.  License may span lines; they are folded
 * with continuation indentation.  The description becomes the body. */
char *metadata_render(const json_t *job, struct sp_err *e);

/* Returns the WHEEL file for job's tags (malloc'd; caller frees): one Tag
 * line per combination of the dot-separated parts of python_tag, abi_tag
 * and platform_tag.  NULL with e filled when a tag is missing or invalid. */
char *wheel_file_render(const json_t *job, struct sp_err *e);

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
