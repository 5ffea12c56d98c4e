/*
 * journal.h - spoke's SQLite journal: builds, staged artifacts and wheels.
 *
 * The journal is the single source of truth about every file spoke moves.
 * Each state change below is one committed transaction (synchronous=FULL,
 * WAL), made before the move it announces and again after it.  Only the
 * process that holds the state directory's lock (journal/statedir.h:
 * statedir_lock_held) opens it for writing.  No SQL lives outside
 * journal/.
 *
 * Artifact states:
 *   staging    intent committed; the link/rename may or may not have happened
 *   staged     the staged name exists and holds cargo's inode
 *   restoring  give-back intent committed
 *   restored | kept_cargo | quarantined | lost      settled (terminal)
 * A lost or quarantined row is also a loss (below) until it is resolved.
 * Wheel states: writing -> done, or abandoned.  The worker writes the
 * temporary, fsyncs it and renames it to its name; the coordinator
 * journals "done" later, in batches.  "renaming" (between the two) is what
 * an older spoke journaled before the coordinator renamed; replay still
 * settles such rows.
 */
#ifndef SPOKE_JOURNAL_JOURNAL_H
#define SPOKE_JOURNAL_JOURNAL_H

#include <jansson.h>
#include <stdint.h>

#include "common/err.h"
#include "common/fsx.h"

#define JOURNAL_SCHEMA_VERSION 6

struct journal;

/* Opens (creating and migrating as needed) <state_dir>/journal.db.  A file
 * that is not an SQLite database, or is corrupt, or was written by a newer
 * spoke, gives an error naming it and saying what to do; nothing is
 * deleted. */
struct journal *journal_open(const char *state_dir, struct sp_err *e);
void journal_close(struct journal *j);

/* Makes every journal this process opens in the state directory path go
 * through dir_fd, the descriptor its opener holds (statedir.h): SQLite's
 * opens of journal.db, -wal, -shm and of the folder itself become
 * openat(dir_fd, name, O_NOFOLLOW), and a journal file SQLite would open
 * elsewhere is refused.  dir_fd must stay open while any journal is; -1
 * ends it.  For the coordinator and `spoke recover`, which hold the state
 * directory for their whole life. */
void journal_hold_dir(int dir_fd, const char *path);

/* Groups the state changes that follow into one transaction, committed
 * durably (one fsync) by journal_commit().  For batches: N intents, then N
 * moves, then one commit of N "done" marks.  A failed commit rolls back. */
int journal_begin(struct journal *j, struct sp_err *e);
int journal_commit(struct journal *j, struct sp_err *e);
void journal_rollback(struct journal *j);

/* Path of the database file (owned by j). */
const char *journal_path(const struct journal *j);

/* Builds. */
int journal_build_begin(struct journal *j, const char *client,
			int64_t *build_id, struct sp_err *e);
int journal_build_end(struct journal *j, int64_t build_id, int ok,
		      const char *error, struct sp_err *e);
/* Marks every build still 'running' as 'interrupted' (after a crash). */
int journal_builds_interrupt(struct journal *j, struct sp_err *e);

/* Artifacts. */
int journal_artifact_intent(struct journal *j, int64_t build_id,
			    const char *cargo_path, const char *staged_path,
			    const char *mode, const struct fsx_ident *id,
			    int64_t *artifact_id, struct sp_err *e);
/* Records a change of staging mode before retrying ("link" -> "move" when
 * hard links fail, "move" -> "copy" on EXDEV). */
int journal_artifact_mode(struct journal *j, int64_t artifact_id,
			  const char *mode, struct sp_err *e);
int journal_artifact_staged(struct journal *j, int64_t artifact_id,
			    struct sp_err *e);
/* patch: "none", "required" or "applied". */
int journal_artifact_patch(struct journal *j, int64_t artifact_id,
			   const char *patch, struct sp_err *e);
int journal_artifact_restoring(struct journal *j, int64_t artifact_id,
			       struct sp_err *e);
/* state: "restored", "kept_cargo", "quarantined" or "lost". */
int journal_artifact_settle(struct journal *j, int64_t artifact_id,
			    const char *state, const char *note,
			    struct sp_err *e);

struct journal_artifact {
	int64_t id, build_id;
	char *cargo_path, *staged_path;
	char mode[8], patch[12], state[16];
	struct fsx_ident ident; /* of the cargo output when staged */
};

/* Artifacts not settled yet, of one build (build_id > 0) or of all.  The
 * array and its strings are the caller's: journal_artifacts_free(). */
int journal_unsettled_artifacts(struct journal *j, int64_t build_id,
				struct journal_artifact **out, size_t *n,
				struct sp_err *e);
void journal_artifacts_free(struct journal_artifact *a, size_t n);

/* One artifact by id, settled or not, into *out (an array of one; free
 * with journal_artifacts_free(*out, 1)).  -1 when there is none. */
int journal_get_artifact(struct journal *j, int64_t artifact_id,
			 struct journal_artifact **out, struct sp_err *e);

/* Cargo outputs that an unsettled artifact of another build holds (1) or
 * not (0); -1 on error. */
int journal_cargo_path_busy(struct journal *j, const char *cargo_path,
			    struct sp_err *e);

/* Losses: cargo outputs that replay settled 'lost' (no staged copy left)
 * or 'quarantined' (someone changed the staged copy), which stay reported
 * until resolved.  Resolved means acknowledged by the user ("forgotten")
 * or found back at the path ("reappeared"); an output that spoke staged
 * again since is no loss either (it was at its path then).  Whether the
 * output is at its path now is the caller's to check: the journal does
 * not look at the disk. */
struct journal_loss {
	int64_t id, build_id;
	char *cargo_path, *staged_path, *note;
	char state[16]; /* "lost" or "quarantined" */
};

/* The newest unresolved loss of each cargo output, oldest first.  The
 * array is the caller's: journal_losses_free(). */
int journal_losses(struct journal *j, struct journal_loss **out, size_t *n,
		   struct sp_err *e);
void journal_losses_free(struct journal_loss *l, size_t n);

/* Resolves every unresolved loss of cargo_path; how: "forgotten" or
 * "reappeared".  Resolving nothing is no error. */
int journal_loss_resolve(struct journal *j, const char *cargo_path,
			 const char *how, struct sp_err *e);

/* Wheels. */
int journal_wheel_intent(struct journal *j, int64_t build_id,
			 int64_t artifact_id, const char *tmp_path,
			 const char *final_path, int64_t *wheel_id,
			 struct sp_err *e);
/* Records the wheel's real final path: a worker may name the wheel
 * differently (a manylinux platform tag) than planned. */
int journal_wheel_final(struct journal *j, int64_t wheel_id,
			const char *final_path, struct sp_err *e);
/* The state an older coordinator journaled before it renamed a wheel.
 * Nothing in spoke sets it now; the replay tests use it to write what
 * such a journal holds. */
int journal_wheel_renaming(struct journal *j, int64_t wheel_id,
			   struct sp_err *e);
/* The wheel is in place (size and sha256 as written; -1 and NULL when
 * replay found it so).  t_ns is when it got there (its "wheel done" event
 * in the log), or 0 for now: the coordinator journals "done" in batches,
 * after the directory fsync, well after the rename itself. */
int journal_wheel_done(struct journal *j, int64_t wheel_id, int64_t size,
		       const char *sha256, int64_t t_ns, struct sp_err *e);
int journal_wheel_abandon(struct journal *j, int64_t wheel_id,
			  const char *error, struct sp_err *e);

/* A wheel reused from an earlier build (server/reuse.h): a "done" row of
 * build_id, marked reused, with no temporary; its event in the timeline
 * is "wheel reused". */
int journal_wheel_reused(struct journal *j, int64_t build_id,
			 const char *final_path, int64_t size,
			 const char *sha256, struct sp_err *e);

/* Incremental packaging: what a written wheel was made from.  digest is
 * the hex sha256 of its job's inputs (server/reuse.h), ident and ctime_ns
 * the wheel file's identity when it was written, found a JSON array of
 * the inputs the worker discovered (bundled libraries and their
 * identities), result the worker's result (JSON) to answer with, build_id
 * the last build that wrote or reused the wheel, art_ctime_ns the ctime
 * of cargo's file once given back (has_art_ctime 0: not known, as after
 * a crash before the give-backs: never reused). */
struct journal_reuse {
	char digest[65];
	char *final_path;
	struct fsx_ident ident;
	int64_t ctime_ns;
	char sha256[65];
	char *found, *result;
	char *repair; /* the result's "repair" member, kept apart; NULL: none */
	int64_t build_id;
	int64_t art_ctime_ns;
	int has_art_ctime;
};

/* Records r (replacing a row of the same digest, and any row of another
 * digest for the same final_path: the file it described is gone). */
int journal_reuse_put(struct journal *j, const struct journal_reuse *r,
		      struct sp_err *e);
/* The row of digest into *out (the caller's: journal_reuse_release()):
 * 1, 0 when there is none, -1 on error. */
int journal_reuse_get(struct journal *j, const char *digest,
		      struct journal_reuse *out, struct sp_err *e);
/* Says that build_id reused the wheel of digest. */
int journal_reuse_touch(struct journal *j, const char *digest,
			int64_t build_id, struct sp_err *e);
/* cargo's file art, whose ctime was before_ns when build_id took its
 * digests, is given back with ctime after_ns: the rows made from it as
 * it was (other digests: another output folder, options) get after_ns,
 * and so does the row of digest that build_id wrote, with art's identity.
 */
int journal_reuse_art_ctime(struct journal *j, const char *digest,
			    int64_t build_id, const struct fsx_ident *art,
			    int64_t before_ns, int64_t after_ns,
			    struct sp_err *e);
void journal_reuse_release(struct journal_reuse *r);

struct journal_wheel {
	int64_t id, build_id;
	char *tmp_path, *final_path;
	char state[12];
};

/* Wheels in 'writing' or 'renaming' (of one build, or all when 0). */
int journal_unsettled_wheels(struct journal *j, int64_t build_id,
			     struct journal_wheel **out, size_t *n,
			     struct sp_err *e);
void journal_wheels_free(struct journal_wheel *w, size_t n);

/* Recent builds and their state, as a JSON array (new reference) for
 * `spoke status`; NULL on error. */
json_t *journal_status(struct journal *j, struct sp_err *e);

/* One build's timeline (the newest finished build when build_id <= 0):
 * {"build", "state", "started_ns", "ended_ns"?, "error"?, "events": [{"t_ns",
 * "kind" ("staging", "staged", "wheel writing", "patch required", ...),
 * "artifact"?, "cargo_path"?, "wheel"?}], "pruned"?: true when its
 * timeline was pruned (prune.h)}, a new reference; NULL on error or when
 * there is no such build (the error says when it was pruned). */
json_t *journal_log(struct journal *j, int64_t build_id, struct sp_err *e);

/* Records cargo's compile time of a wheel's package (compile_ns > 0), as
 * the client estimated it (cli/project/cargo_msg.h). */
int journal_wheel_compile(struct journal *j, int64_t wheel_id,
			  int64_t compile_ns, struct sp_err *e);

/* What each cargo output costs a build: its newest finished wheel's
 * writing time, from its "wheel writing" to its "wheel done" event (the
 * "package" step of `spoke log`: a wheel that waited for a free worker
 * counts the wait), plus the newest compile time journaled for it
 * (journal_wheel_compile), if any: {cargo_path: seconds}, a new
 * reference, for `spoke plan`'s weights; NULL on error. */
json_t *journal_wheel_times(struct journal *j, struct sp_err *e);

/* Copies the journal, consistently, to dest_path (a new file: an
 * existing database there would be overwritten) with SQLite's online backup, so that a running coordinator is
 * not stopped: a busy journal is retried.  For `spoke bundle`.  On
 * failure dest_path may hold a partial copy: the caller removes it. */
int journal_backup(struct journal *j, const char *dest_path,
		   struct sp_err *e);

#endif
