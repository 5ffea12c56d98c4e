/*
 * metadata.h - the text files of a wheel's .dist-info and its names.
 *
 * Renders core metadata (METADATA, version 2.1, or 2.4 when it has a
 * License-Expression or lists License-File: the two fields of PEP 639) and
 * the WHEEL file from a job (wheel_job.h).  The naming rules of distributions, versions, tags and
 * module names are common/pyname.h's.  Everything here is pure: no I/O.
 */
#ifndef SPOKE_WORKER_WHEEL_METADATA_H
#define SPOKE_WORKER_WHEEL_METADATA_H

#include <jansson.h>

#include "common/err.h"
#include "common/pyname.h"

/* Returns the METADATA text for job's distribution, version and optional
 * "metadata" object (malloc'd; caller frees), or NULL with e filled when a
 * field is missing, has the wrong type, is unknown, or holds a line break
 * where one line is required, or when both "license" and
 * "license_expression" are set (PEP 639 lets a tool write one of License
 * and License-Expression, never both).  Summary is the exception: its
 * whitespace runs are collapsed to single spaces.  License may span lines;
 * they are folded with continuation indentation.  The description becomes
 * the body. */
char *metadata_render(const json_t *job, struct sp_err *e);

/* The same from the fields themselves: metadata may be NULL (no
 * optional field).  What a worker renders from its typed job
 * (worker/wheel_job.h). */
char *metadata_render_fields(const char *name, const char *version,
			     const json_t *metadata, struct sp_err *e);

/* Returns the WHEEL file for the wheel's tags (malloc'd; caller frees):
 * one Tag line per combination of the dot-separated parts of python_tag,
 * abi_tag and platform_tag.  NULL with e filled when a tag is missing
 * (NULL) or invalid. */
char *wheel_file_render(const char *python_tag, const char *abi_tag,
			const char *platform_tag, struct sp_err *e);

#endif
