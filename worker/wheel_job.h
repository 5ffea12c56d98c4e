/*
 * wheel_job.h - a wheel job: what a forked worker does for one artifact,
 * and its wire form.
 *
 * A job is a struct wheel_job.  The coordinator fills it from the
 * client's build request (job_from_request) and from what it stages and
 * plans (paths, names, the job id), serializes it once when it hands it
 * to a worker (job_to_json), and the worker parses it once, at receipt
 * (job_parse), into the same struct: nothing after that reads JSON.
 * Both ends are this one binary, so the wire form needs no version.
 * On the wire (a JSON object) each field below is the member of the same
 * name, except: the staged inode is "staged_ident": {"dev", "ino"}; the
 * level is "compression": "store" | "fast" | "default" | "best";
 * source_date_epoch, threads and build are left out when unset; and the
 * repair's options are "options": {"repair", "compat", "exclude",
 * "lib_path", "ld_library_path", "search", "split_debug"} and
 * "linked_paths".
 *
 * Every event and the one result a worker sends for a job carry the job's
 * id ("job"), and the coordinator holds them to the job it gave that
 * worker (job_reply_check): a frame for another job ends that worker.
 *
 * The result is a JSON object: wheel_write()'s (build_wheel.h) on success,
 * else {"ok": false, "error": "message a user can act on"}, plus "job".
 * The worker's loop that runs jobs is job.h's.
 */
#ifndef SPOKE_WORKER_WHEEL_JOB_H
#define SPOKE_WORKER_WHEEL_JOB_H

#include <jansson.h>
#include <stdint.h>

#include "common/err.h"
#include "worker/repair/repair_opts.h"
#include "worker/wheel/pyfile_src.h"

/* A job.  Every string and array is owned by the struct (wheel_job_release);
 * NULL where the job has none. */
struct wheel_job {
	/* The coordinator's id of this job (its artifact's journal id),
	 * echoed in every event and result; never 0 in a job a
	 * coordinator sends. */
	uint64_t id;
	/* The coordinator's build id: a worker checks its cached
	 * ld.so.conf once per build (stamp_epoch_set); 0: none. */
	int64_t build;

	/* Where the module comes from and goes. */
	char *cargo_path;  /* cargo's output: $ORIGIN and messages */
	char *staged_path; /* the staged hard link (or moved file) to
			    * package; opened read-only, never written */
	/* The inode the coordinator staged, read through staged/'s held
	 * descriptor: the worker refuses anything else at staged_path (a
	 * folder on the path swapped meanwhile).  has_staged_ident 0: not
	 * checked (a job written by hand, the unit tests'). */
	int has_staged_ident;
	uint64_t staged_dev, staged_ino;
	char *out_dir;	       /* the output folder as the user named it */
	/* The output folder with every symlink resolved once by the
	 * coordinator (dirs.h); the worker opens it with none followed and
	 * writes the wheel and its debug files beneath it.  NULL: the
	 * folder of final_path. */
	char *out_dir_resolved;
	/* Where the wheel is written first, in the output folder, under a
	 * name the coordinator drew at random (tmpfile_name) and journaled;
	 * created O_EXCL|O_NOFOLLOW, fsynced, then renamed. */
	char *tmp_path;
	/* The wheel's planned path: <out_dir>/<wheel_name>.  A repair may
	 * change its platform tag, and so its name (build_wheel.h). */
	char *final_path;
	/* The wheel's planned file name, named by the coordinator from the
	 * fields below (common/pyname.h: wheel_filename). */
	char *wheel_name;

	/* The wheel's identity, checked by pyname_check_artifact(). */
	char *distribution; /* as the project spells it */
	char *version;	    /* PEP 440 */
	char *module;	    /* dotted Python module name ("pkg._native") */
	char *python_tag, *abi_tag, *platform_tag; /* "cp311", "cp311",
						    * "linux_x86_64" */
	char *ext_suffix; /* the interpreter's EXT_SUFFIX
			   * (".cpython-311-x86_64-linux-gnu.so") */
	/* The tags came from the artifacts file or the command line, not
	 * from an interpreter of this machine ("tags_declared" on the
	 * wire): the object need not run here, only agree with
	 * ext_suffix's architecture (build_wheel.h). */
	int tags_declared;
	/* A program's job (cli/project/binplan.h): the program's file name,
	 * which the wheel holds at <dist>-<version>.data/scripts/<program>
	 * (build_wheel.h); NULL for a module.  The staged file is then an
	 * executable, module is the project's Python package (its Python
	 * files' home) and ext_suffix goes unused. */
	char *program;

	/* The "metadata" object, or NULL (a new reference): summary,
	 * license, author, author_email, maintainer, maintainer_email,
	 * keywords, home_page, requires_python, description,
	 * description_content_type, requires_dist, classifiers,
	 * project_urls, provides_extra, license_files; its members are
	 * checked as METADATA is rendered (worker/wheel/metadata.h). */
	json_t *metadata;
	/* The Python sources of a mixed package (src: absolute path read
	 * read-only, dst: path in the wheel; cli/project/pysrc.h), and the
	 * license files (dst relative to the dist-info's licenses/).  A
	 * python file may be generated: "text" instead of "src". */
	struct pyfile_src *python_files;
	size_t npython_files;
	struct pyfile_src *license_files;
	size_t nlicense_files;
	char *entry_points; /* the text of entry_points.txt, or NULL */
	/* Files for the wheel's <dist>-<version>.data/ folder (dst below
	 * it: "scripts/x", "headers/y.h"; cli/project/layout.h). */
	struct pyfile_src *data_files;
	size_t ndata_files;
	/* maturin's rule for a module name without a dot in a package of
	 * the same name: the extension goes to "pkg/pkg<ext_suffix>",
	 * inside the package folder, rather than beside it. */
	int module_in_package;

	int64_t source_date_epoch; /* every zip entry's time; -1: now */
	int level;	  /* deflate level: store 0, fast 1, default 6,
			   * best 12 */
	unsigned threads; /* threads for a large entry, or 0: the default
			   * (pdeflate.h) */
	int progress;	  /* 0: send only the events the journal needs
			   * (those without an "event" member) */

	/* The repair (repair.h): "options" and "linked_paths" on the wire.
	 * Its strings and arrays are the job's. */
	struct repair_opts options;
};

/* Releases everything j owns and zeroes it; a zeroed struct is fine. */
void wheel_job_release(struct wheel_job *j);

/* Parses a job as a worker receives it: every field above, typed and
 * checked (the artifact's names with pyname_check_artifact(), the
 * extension suffix, the paths, the options, a wheel_name that is
 * final_path's file name and ends in "-<platform_tag>.whl").  Returns 0
 * with *j filled, or -1 with e naming the field, and *j released.
 * Unknown members are ignored. */
int job_parse(const json_t *msg, struct wheel_job *j, struct sp_err *e);

/* The wire form of j, which job_parse() reads back into an equal struct
 * (new reference); NULL on out-of-memory. */
json_t *job_to_json(const struct wheel_job *j);

/* Fills j from artifact i of a client's build request ({"out_dir",
 * "artifacts": [...], "options", "source_date_epoch", "compression",
 * "quiet"}, as cli/client.c sends it), checking each artifact field
 * (pyname_check_artifact(), an absolute cargo_path) and the options.  The
 * coordinator then adds what it stages and plans.  Returns 0, or -1 with
 * e naming the artifact and the field, and *j released. */
int job_from_request(const json_t *req, size_t i, struct wheel_job *j,
		     struct sp_err *e);

/* The files a worker reads for its jobs beyond each job's own (the
 * artifact and its Python, license and data files): the ld.so.conf
 * files a repair resolves libraries with.  (The platform policy is
 * compiled into spoke, whose identity the digest holds.)  A new JSON array of their paths into *out; *complete is 0 when
 * that list cannot tell whether they changed (an ld.so.conf include with
 * a pattern in a folder's name).  For the coordinator's reuse digest
 * (server/reuse.h).  Returns 0, or -1 with e set. */
int job_ambient_inputs(json_t **out, int *complete, struct sp_err *e);

/* Checks that msg, an event or result a worker sent, is for job id (its
 * "job" member).  Returns 0, or -1 with e saying which job it named. */
int job_reply_check(const json_t *msg, uint64_t id, struct sp_err *e);

#endif
