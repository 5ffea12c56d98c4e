/*
 * replay.h - settling staged artifacts from what is on disk.
 *
 * Giving an artifact back at the end of a build and replaying the journal
 * after a crash are the same operation: look at the cargo output path and
 * the staged path, decide (replay_decide, pure), journal the intent, act,
 * mark it settled.  It is idempotent: killed at any step, it can run again.
 *
 * The rules (DESIGN.md, "Replay"):
 *   staged absent, already in quarantine/ -> quarantined (a replay killed
 *        after moving it there)
 *   staged absent, cargo output present  -> nothing to do: "restored" if it
 *        is cargo's original file, "kept_cargo" if cargo wrote anew
 *   staged absent, cargo output absent   -> lost (reported)
 *   staged changed (size, mtime; inode unless a copy) -> quarantine/; a
 *        cargo output sharing that changed inode (link mode) is removed
 *        too, so cargo rebuilds it instead of trusting it
 *   cargo output present                 -> drop the staged name; "restored"
 *        if it is cargo's original inode, "kept_cargo" if cargo wrote anew
 *   cargo output absent                  -> put the staged file back
 *        (rename without replacing; copy back when it was copied on EXDEV)
 */
#ifndef SPOKE_JOURNAL_REPLAY_H
#define SPOKE_JOURNAL_REPLAY_H

#include <jansson.h>

#include "journal/journal.h"
#include "journal/statedir.h"

enum replay_action {
	REPLAY_NOTHING,	   /* cargo's original output at its path, no
			    * staged name */
	REPLAY_DROP,	   /* unlink the staged name, cargo's is the original */
	REPLAY_KEEP_CARGO, /* unlink the staged name (if any), cargo wrote a
			    * newer output */
	REPLAY_PUT_BACK,   /* rename the staged file back */
	REPLAY_COPY_BACK,  /* copy it back (it was copied across devices) */
	REPLAY_QUARANTINE, /* someone changed the staged file */
	REPLAY_LOST,	   /* neither exists */
};

struct replay_disk {
	int cargo_exists;
	struct fsx_ident cargo;
	int staged_exists;
	struct fsx_ident staged;
	int quarantined_exists; /* <state>/quarantine/<id>-<staged name> */
};

/*
 * Where an artifact's two names are, each relative to a folder held by
 * descriptor: cargo's folder, opened once from the cargo path (which the
 * client resolved), and the state directory's staged/.  Only the last
 * component of the journaled staged path is used: the file is always in
 * the held staged/.
 */
struct replay_at {
	int cargo_dfd; /* -1 when cargo's folder is missing */
	struct fsx_at cargo;
	struct fsx_at staged;
};

/* Opens cargo's folder.  With missing_ok, a missing folder is no error
 * (cargo_dfd -1: the output is absent).  Returns 0, or -1 with e. */
int replay_at_open(struct replay_at *at, const struct statedir *sd,
		   const char *cargo_path, const char *staged_path,
		   int missing_ok, struct sp_err *e);

/* Closes what replay_at_open() opened. */
void replay_at_close(struct replay_at *at);

enum replay_action replay_decide(const struct journal_artifact *a,
				 const struct replay_disk *d);

/* The outcome word reported for an action ("put_back", "restored", ...). */
const char *replay_outcome(enum replay_action act);

/* Settles one artifact.  When report is an array, appends
 * {"cargo_path", "outcome", "detail"?}.  *bad is incremented when the
 * artifact ended quarantined or lost.  Returns -1 on an error that stopped
 * it (it stays unsettled in the journal, to be replayed again). */
int replay_artifact(struct journal *j, const struct statedir *sd,
		    const struct journal_artifact *a, json_t *report, int *bad,
		    struct sp_err *e);

/* Settles every unsettled artifact and unfinished wheel of a build (or of
 * all builds when build_id is 0, except the nskip builds in skip: those a
 * running coordinator is still working on).  With build_id 0 and nothing
 * skipped, builds left running are marked interrupted.  Goes on after a
 * per-artifact error and returns -1 at the end if there was one. */
int replay_all(struct journal *j, const struct statedir *sd, int64_t build_id,
	       const int64_t *skip, size_t nskip, json_t *report, int *bad,
	       struct sp_err *e);

/* The cargo outputs spoke lost and nobody has acknowledged (journal.h,
 * "Losses") that are still missing from their paths, as a JSON array (new
 * reference) of {"cargo_path", "build", "state" ("lost" or
 * "quarantined"), "staged_path", "detail", "todo" (what to do, for
 * people), "rebuild"? (the cargo command that rebuilds it, when the path
 * is in a cargo target directory)}.  A loss whose output is back at its
 * path is left out, and with record (the caller holds the state
 * directory's lock) resolved as "reappeared" in the journal.  NULL on
 * error. */
json_t *replay_losses(struct journal *j, int record, struct sp_err *e);

/* Acknowledges losses: those of the cargo outputs named in paths (a JSON
 * array of strings; a path's folder may be given through symlinks), or
 * every one when all.  A path that is no current loss is an error, and
 * then nothing is acknowledged. */
int replay_forget(struct journal *j, const json_t *paths, int all,
		  struct sp_err *e);

#endif
