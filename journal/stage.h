/*
 * stage.h - staging a cargo output: a stable, journaled name for its inode.
 *
 * Link mode (the default) hard-links the cargo output into
 * <state>/staged/, so the output never leaves its path.  Where hard links
 * fail (EPERM, EMLINK, EXDEV, no support) or move mode is asked for, it is
 * renamed there instead, as maturin does; giving it back renames it home.
 * When that rename fails with EXDEV (the state directory is on another
 * filesystem), the output is copied (FICLONE, else copy_file_range) to the
 * staged name and left in place: the copy is as stable a name as a move,
 * and cargo's file never leaves.
 *
 * Each step is journaled before it happens.  A staged file is never written
 * to: repair reads it and writes new files.
 *
 * Every link, rename and unlink is made relative to descriptors: the
 * state directory's staged/ held in sd, and each cargo output's folder,
 * opened once per step (replay.h, struct replay_at).  staged_path must be
 * <sd->path>/staged/<name>; only <name> is used.
 */
#ifndef SPOKE_JOURNAL_STAGE_H
#define SPOKE_JOURNAL_STAGE_H

#include <stdint.h>

#include "journal/journal.h"
#include "journal/statedir.h"

enum stage_mode { STAGE_LINK, STAGE_MOVE };

/* Parses "link" / "move"; -1 on anything else. */
int stage_mode_parse(const char *s, enum stage_mode *m);

/* Stages cargo_path as staged_path for build_id.  On success sets
 * *artifact_id and *mode_used ("link", "move" or "copy").  On failure
 * nothing stays staged: the artifact, if journaled, is settled again before
 * returning. */
int stage_artifact(struct journal *j, const struct statedir *sd, int64_t build_id,
		   const char *cargo_path, const char *staged_path,
		   enum stage_mode mode, int64_t *artifact_id,
		   const char **mode_used, struct sp_err *e);

/* One artifact of a batch: the caller fills cargo_path and staged_path;
 * stage_batch() fills the rest. */
struct stage_item {
	const char *cargo_path;
	const char *staged_path;
	int64_t artifact_id;
	const char *mode_used;
};

/* Stages n artifacts of a build with three fsyncs in all, whatever n, in
 * link mode: one commit of every intent, the links, one fsync of the
 * staged directory, one commit of every "staged" mark.  An item whose
 * link fails for want of hard links goes the way of stage_artifact()
 * alone (rename, or copy on EXDEV).  On failure, every item of the batch
 * is settled again before returning, so nothing stays staged, and e names
 * the item that failed. */
int stage_batch(struct journal *j, const struct statedir *sd, int64_t build_id,
		struct stage_item *items, size_t n, enum stage_mode mode,
		struct sp_err *e);

/* Gives a staged artifact back (see replay.h): the cargo output is at its
 * path with cargo's bytes afterwards, unless the staged file was changed by
 * someone else (quarantined, *bad incremented). */
int stage_give_back(struct journal *j, const struct statedir *sd,
		    int64_t build_id, json_t *report, int *bad,
		    struct sp_err *e);

#endif
