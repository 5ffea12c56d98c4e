/*
 * reuse.h - incremental packaging: whether the wheel an earlier build
 * wrote for the same inputs can be given again without writing it.
 *
 * A job's inputs are summed up in one digest (sha256, hex): its wire form
 * (worker/wheel_job.h) without what changes from build to build (ids,
 * staged and temporary paths, threads, progress), the artifact's identity
 * (device, inode, size, mtime and ctime in ns: cargo's freshness rests on
 * the same), the identity and content hash of every Python, license and
 * data file it names, and what the worker reads besides (the policy table
 * and ld.so.conf files, as identities; spoke's version and executable).
 * Time is not an input: without SOURCE_DATE_EPOCH a reused wheel keeps
 * the time it was written with.
 *
 * The journal keeps, per digest, the wheel's identity when it was
 * written and what the worker found on its own (the libraries a repair
 * bundled, with their identities).  A wheel is reused only while the
 * file at its path has that identity and every library found is
 * unchanged.  Why an unchanged artifact needs no staging is argued in
 * docs/incremental.md.
 */
#ifndef SPOKE_SERVER_REUSE_H
#define SPOKE_SERVER_REUSE_H

#include <jansson.h>
#include <stdint.h>
#include <sys/stat.h>

#include "common/err.h"
#include "journal/journal.h"
#include "worker/wheel_job.h"

/* The digest's canonical text starts with this line, so that a change of
 * the form never matches a digest of the old one. */
#define REUSE_FORM_VERSION "spoke-reuse-2"

/* The form the digest is taken of: j's wire form without its per-build
 * members, with inputs (borrowed: what reuse_inputs() read from the
 * disk) as "inputs".  A new reference, NULL on out-of-memory.  Pure. */
json_t *reuse_form(const struct wheel_job *j, const json_t *inputs);

/* The digest of form: sha256 of REUSE_FORM_VERSION, a newline and form
 * serialized with sorted keys and no spaces, as hex into hex.  Pure.
 * Returns 0, or -1 with e set. */
int reuse_form_digest(const json_t *form, char hex[65], struct sp_err *e);

/* What every job of a build reads besides its own files, read once per
 * build: spoke's version and executable, the policy table and the
 * ld.so.conf files, each with its identity (null: no such file), as the
 * digest (reuse_form_digest) of that object: a JSON string of 64 hex
 * digits, which each job's form holds.  A new reference; NULL with e set
 * when it cannot be known (then nothing of the build is reused or
 * recorded). */
json_t *reuse_ambient(struct sp_err *e);

/* The digest of j's inputs into hex, reading the artifact's identity and
 * the identity and content of its files now; ambient is reuse_ambient()'s.
 * *art gets the artifact's stat (its ctime is not in the digest: staging
 * changes it; reuse_lookup and reuse_art_ctime compare it on its own).
 * Returns 0, or -1 with e set when an input cannot be read or the job may
 * not be reused (a --split-debug job writes files beside the wheel that
 * nobody checks): the job is then written, and not recorded. */
int reuse_digest(const struct wheel_job *j, const json_t *ambient, char hex[65],
		 struct stat *art, struct sp_err *e);

/* Whether the wheel recorded for digest may be given again: cargo's file
 * (art: reuse_digest's) has the ctime recorded once it was given back,
 * the file at the wheel's path still has the identity it was written
 * with (lstat: a regular file, same device, inode, size, mtime and
 * ctime), and every library the worker found, and every folder searched
 * before one, is unchanged.  Returns 1 with *result (a new reference: the
 * worker's result, "wheel" its path, with its "repair" report only when
 * want_repair: parsing it is most of a lookup's cost), 0 when not (*why
 * says why, static text, or is NULL when no wheel was recorded for
 * digest), -1 on a journal error with e set. */
int reuse_lookup(struct journal *jn, const char *digest,
		 const struct stat *art, int want_repair, json_t **result,
		 const char **why, struct sp_err *e);

/* Records that the wheel of result (a worker's successful result) at
 * path was written for digest by build: its identity now and the
 * identities the worker reported for what it found.  Part of the caller's
 * transaction.  Returns 1; 0 when it cannot be recorded (the file at
 * path is not the wheel written, the result lacks an identity), with e
 * saying why, and the wheel is simply not reused next time; -1 on a
 * journal error, with e set. */
int reuse_record(struct journal *jn, const char *digest, int64_t build,
		 const char *path, const json_t *result, struct sp_err *e);

/* cargo's file at cargo_path was given back by build, which took its
 * digest (art: reuse_digest's stat then) before staging it: records its
 * ctime now on the row build wrote for digest, and on every row made from
 * the file as it was then (staging changed the ctime, nothing else did).
 * When it is no longer the file of art, nothing is recorded: those rows
 * are not reused.  Called once every give-back of build is journaled; a
 * crash before leaves them unrecorded too.  A change in place while the
 * build holds the file staged is taken for the staging's.  Returns 0, -1
 * on a journal error with e set. */
int reuse_art_ctime(struct journal *jn, const char *digest, int64_t build,
		    const char *cargo_path, const struct stat *art,
		    struct sp_err *e);

#endif
