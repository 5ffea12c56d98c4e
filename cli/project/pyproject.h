/*
 * pyproject.h - a package's pyproject.toml, typed: which file configures
 * which cargo package, its [project] table, and its [tool.maturin]
 * settings with maturin's meaning.
 *
 * The TOML itself is read by the target interpreter (pyinfo.h: tomllib);
 * this module takes the parsed document, checks every key once and fills
 * struct pyproject, so nothing after it reads [tool.maturin] as JSON.
 *
 * Which file configures a package K (Cargo.toml at M, in folder D):
 *   (a) D/pyproject.toml;
 *   (b) else the nearest pyproject.toml in a folder above D, no higher
 *       than the parent of the workspace root, whose [tool.maturin]
 *       manifest-path names M;
 *   (c) else, as (b), one without manifest-path whose folder holds
 *       rust/Cargo.toml = M (maturin's "src layout": pyproject.toml at the
 *       top, the crate in rust/, the Python package in src/).
 *
 * maturin's rules (layout, metadata, bindings) apply to a package whose
 * pyproject has a [tool.maturin] table or build-backend = "maturin"
 * (pyproject->maturin); a package configured by [package.metadata.spoke]
 * keeps spoke's own rules.  One setting given differently in both is an
 * error naming both.
 */
#ifndef SPOKE_CLI_PROJECT_PYPROJECT_H
#define SPOKE_CLI_PROJECT_PYPROJECT_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"

/* [tool.maturin] bindings. */
enum pp_bindings {
	PP_BINDINGS_AUTO = 0, /* not set: a cdylib module, else a bin */
	PP_BINDINGS_PYO3,     /* "pyo3" or "pyo3-ffi": an extension module */
	PP_BINDINGS_BIN,      /* "bin": programs in <dist>.data/scripts/ */
};

/* Which archive an include/exclude pattern is for ([tool.maturin]
 * include = [{path, format}]); a bare string is for both. */
enum pp_format {
	PP_FORMAT_BOTH = 0,
	PP_FORMAT_SDIST,
	PP_FORMAT_WHEEL,
};

/* One include or exclude pattern: a glob relative to the pyproject's
 * folder (include) or to the wheel's / sdist's root (exclude), as
 * maturin matches them.  An include with to set takes files from a
 * crate's OUT_DIR (from = "out-dir"; crate_name, or NULL for the
 * package's own) to the wheel folder to; its format is the wheel's. */
struct pp_glob {
	char *path;
	enum pp_format format;
	char *to;	  /* NULL: an ordinary pattern */
	char *crate_name; /* NULL: the package's own */
};

/* A tri-state for booleans that may be unset. */
enum pp_bool { PP_UNSET = -1, PP_FALSE = 0, PP_TRUE = 1 };

/* [tool.maturin], typed.  NULL / 0 / PP_UNSET where not given. */
struct pp_maturin {
	char *module_name;     /* "pkg._native" */
	char *python_source;   /* absolute; default: the pyproject's folder,
				* or its src/ in the src layout */
	int python_source_set; /* python-source was given */
	char **python_packages; /* extra top-level packages to ship */
	size_t npython_packages;
	char *manifest_path; /* absolute */
	char **features;
	size_t nfeatures;
	enum pp_bool all_features, no_default_features, locked, frozen;
	char *profile;
	struct pp_glob *include, *exclude;
	size_t ninclude, nexclude;
	char *data; /* absolute: <module>.data/ source folder */
	enum pp_bindings bindings;
	enum pp_bool strip;
	char *compatibility;   /* "manylinux_2_17", "off", "linux", ... */
	char *auditwheel;      /* "repair" | "check" | "skip" | "warn" */
	char *sdist_generator; /* "cargo" (default) | "git" */
	char **config;	       /* cargo --config values */
	size_t nconfig;
	char *editable_profile;
};

/* A pyproject.toml as it configures one package. */
struct pyproject {
	char *path;	  /* absolute path of the file */
	char *dir;	  /* its folder: the project root */
	json_t *project;  /* the [project] table (new ref), or NULL */
	char *backend;	  /* [build-system] build-backend, or NULL */
	int has_maturin;  /* a [tool.maturin] table is present */
	int maturin;	  /* maturin's rules apply (see above) */
	struct pp_maturin m;
};

/*
 * Fills pp from the parsed document doc (the whole pyproject.toml as a
 * JSON object, as the interpreter read it) found at path.  Checks every
 * [tool.maturin] key: a key spoke does not support for Linux wheels
 * (bindings "cffi"/"uniffi", per-target tables for other systems, ...) or
 * one of the wrong type is an error naming the key and the file; paths
 * are resolved against the file's folder.  Returns 0, or -1 with e
 * filled and pp released.
 */
int pyproject_parse(const json_t *doc, const char *path, struct pyproject *pp,
		    struct sp_err *e);

/*
 * The pyproject.toml files that may configure a package whose Cargo.toml
 * lies in pkgdir: pkgdir's own, then each folder above it, up to and
 * including the parent of workspace_root (maturin looks no higher).  A
 * malloc'd NULL-terminated array of malloc'd absolute paths of files that
 * exist, nearest first (pyproject_paths_free); NULL when out of memory,
 * with e filled.
 */
char **pyproject_candidates(const char *pkgdir, const char *workspace_root,
			    struct sp_err *e);

/* Frees what pyproject_candidates() returned; NULL is fine. */
void pyproject_paths_free(char **paths);

/*
 * 1 when pp configures the package whose Cargo.toml is manifest (both
 * absolute): by rule (a), (b) or (c) at the top of this file; 0 if not.
 */
int pyproject_configures(const struct pyproject *pp, const char *manifest);

/*
 * The Cargo.toml a pyproject.toml in the folder where spoke runs points
 * at, as maturin finds it there: [tool.maturin] manifest-path, else the
 * src layout's rust/Cargo.toml (when python-source is set, or
 * src/<project name with '_'>/__init__.py or src/<python-package>/
 * __init__.py exists).  A malloc'd absolute path, or NULL with *nomem
 * set when out of memory and clear when pp names none (cargo's own
 * search then finds the manifest).
 */
char *pyproject_manifest(const struct pyproject *pp, int *nomem);

/* Frees everything pp owns and zeroes it; safe on a zeroed struct. */
void pyproject_release(struct pyproject *pp);

#endif
