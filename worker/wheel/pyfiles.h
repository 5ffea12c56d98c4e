/*
 * pyfiles.h - the files of a wheel that do not come from cargo.
 *
 * A mixed Rust/Python package ships Python sources beside its extension,
 * and any package may have console scripts and license files.  The job
 * (wheel_job.h) lists them; this module reads them, read-only, into memory in
 * the order the wheel holds them.
 */
#ifndef SPOKE_WORKER_WHEEL_PYFILES_H
#define SPOKE_WORKER_WHEEL_PYFILES_H

#include <stddef.h>

#include "common/err.h"
#include "worker/wheel/pyfile_src.h"

struct pyfile {
	char *dst; /* path in the wheel */
	void *data;
	size_t len;
	unsigned mode; /* 0755 when the source file is executable by
			* anyone (a script, as maturin keeps it), else 0644 */
};

/* Everything is owned by the struct; pyfiles_release() frees it. */
struct pyfiles {
	struct pyfile *py; /* python_files, sorted by dst */
	size_t npy;
	/* license_files, sorted, dst "<dist-info>/licenses/<name>" */
	struct pyfile *lic;
	size_t nlic;
	const char *entry_points; /* borrowed; NULL for none */
	/* data_files, sorted, dst "<dist>-<version>.data/<scheme>/..." */
	struct pyfile *data;
	size_t ndata;
};

/*
 * Reads the job's python files (py[0..npy)) and license files
 * (lic[0..nlic)), and takes its entry_points text (borrowed; NULL or ""
 * for none).  A python file with text and no src is that text.  info_dir is the
 * wheel's .dist-info folder.  Errors: a dst that is absolute, has an empty, "."
 * or ".." component, or (for python files) lies in a .dist-info or .data
 * folder; a file that cannot be read.
 */
int pyfiles_load(const struct pyfile_src *py, size_t npy,
		 const struct pyfile_src *lic, size_t nlic,
		 const char *entry_points, const char *info_dir,
		 struct pyfiles *pf, struct sp_err *e);

/*
 * Reads the job's data files (data[0..ndata)) into pf->data, each dst
 * below data_dir ("<dist>-<version>.data"); pf is one pyfiles_load()
 * filled.  A data file's dst must start with one of the folders an
 * installer knows (data, scripts, headers, purelib, platlib: PEP 427).
 * Errors as pyfiles_load(); on error pf is released.
 */
int pyfiles_load_data(const struct pyfile_src *data, size_t ndata,
		      const char *data_dir, struct pyfiles *pf,
		      struct sp_err *e);

/* Frees everything pf holds and zeroes it. */
void pyfiles_release(struct pyfiles *pf);

#endif
