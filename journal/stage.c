#define _GNU_SOURCE
#include "stage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsx.h"
#include "replay.h"

int stage_mode_parse(const char *s, enum stage_mode *m)
{
	if (strcmp(s, "link") == 0)
		*m = STAGE_LINK;
	else if (strcmp(s, "move") == 0)
		*m = STAGE_MOVE;
	else
		return -1;
	return 0;
}

/* Errors of link(2) that mean "this filesystem will not hard-link this
 * file here", after which moving is the way to stage it. */
static int link_unsupported(int err)
{
	return err == EPERM || err == EMLINK || err == EXDEV ||
	       err == EOPNOTSUPP || err == ENOTSUP || err == ENOSYS;
}

static int stage_copy(struct journal *j, int64_t id, const char *cargo_path,
		      const char *staged_path, struct sp_err *e)
{
	char *tmp = NULL;
	int rc = -1;

	if (journal_artifact_mode(j, id, "copy", e) < 0)
		return -1;
	if (asprintf(&tmp, "%s.tmp", staged_path) < 0)
		return sp_err_set(e, "out of memory");
	if (fsx_copy(cargo_path, tmp, e) < 0)
		goto out;
	rc = fsx_rename(tmp, staged_path, e);
out:
	free(tmp);
	return rc;
}

/* After a failed stage: if the staged name holds a file that is not the
 * one we tried to stage (the link or rename failed with EEXIST), nothing
 * was staged and that file is left alone; otherwise the artifact is
 * settled from disk by the same code replay runs, so nothing stays
 * staged.  Errors here leave the row unsettled for the next replay. */
static void settle_failed(struct journal *j, const char *state_dir,
			  int64_t build_id, int64_t aid,
			  const char *staged_path, const struct fsx_ident *id)
{
	struct journal_artifact *a = NULL;
	struct fsx_ident st;
	struct sp_err ignored;
	size_t n = 0, i;
	int bad = 0;

	if (fsx_ident_of(staged_path, &st, &ignored) == 0 &&
	    (st.dev != id->dev || st.ino != id->ino) &&
	    !fsx_ident_same(&st, id, 0)) {
		journal_artifact_settle(j, aid, "restored",
					"the staged name was taken; nothing "
					"was staged",
					&ignored);
		return;
	}
	if (journal_open_artifacts(j, build_id, &a, &n, &ignored) < 0)
		return;
	for (i = 0; i < n; i++)
		if (a[i].id == aid)
			replay_artifact(j, state_dir, &a[i], NULL, &bad,
					&ignored);
	journal_artifacts_free(a, n);
}

/* Stages by rename, or by copy when the rename crosses filesystems; each
 * with its own fsyncs.  from_link: a link was tried first, so the journal
 * must learn of the change of mode before the rename. */
static int stage_move(struct journal *j, int64_t aid, const char *cargo_path,
		      const char *staged_path, int from_link,
		      const char **mode_used, struct sp_err *e)
{
	if (from_link && journal_artifact_mode(j, aid, "move", e) < 0)
		return -1;
	/* Never replace a file already at the staged name: it is not ours,
	 * and may be what someone recovering by hand needs. */
	if (fsx_rename_noreplace(cargo_path, staged_path, e) == 0) {
		*mode_used = "move";
		return 0;
	}
	if (errno != EXDEV || stage_copy(j, aid, cargo_path, staged_path, e) < 0)
		return -1;
	*mode_used = "copy";
	return 0;
}

int stage_artifact(struct journal *j, const char *state_dir, int64_t build_id,
		   const char *cargo_path, const char *staged_path,
		   enum stage_mode mode, int64_t *artifact_id,
		   const char **mode_used, struct sp_err *e)
{
	struct fsx_ident id;
	int64_t aid;

	if (fsx_ident_of(cargo_path, &id, e) < 0)
		return sp_err_wrap(e, "cargo output missing");
	if (journal_artifact_intent(j, build_id, cargo_path, staged_path,
				    mode == STAGE_LINK ? "link" : "move", &id,
				    &aid, e) < 0)
		return -1;
	*artifact_id = aid;
	if (mode == STAGE_LINK) {
		if (fsx_link(cargo_path, staged_path, e) == 0) {
			*mode_used = "link";
			goto staged;
		}
		if (!link_unsupported(errno))
			goto fail;
	}
	if (stage_move(j, aid, cargo_path, staged_path, mode == STAGE_LINK,
		       mode_used, e) < 0)
		goto fail;
staged:
	if (journal_artifact_staged(j, aid, e) < 0)
		goto fail;
	return 0;
fail:
	settle_failed(j, state_dir, build_id, aid, staged_path, &id);
	return -1;
}

int stage_batch(struct journal *j, const char *state_dir, int64_t build_id,
		struct stage_item *items, size_t n, enum stage_mode mode,
		struct sp_err *e)
{
	struct fsx_ident *ids = NULL;
	size_t i, journaled = 0;
	int rc = -1;

	if (n == 0)
		return 0;
	if (mode != STAGE_LINK) {
		/* Move mode renames out of cargo's directories: each item
		 * fsyncs its own pair of directories anyway. */
		for (i = 0; i < n; i++) {
			if (stage_artifact(j, state_dir, build_id,
					   items[i].cargo_path,
					   items[i].staged_path, mode,
					   &items[i].artifact_id,
					   &items[i].mode_used, e) < 0) {
				journaled = i;
				goto fail;
			}
		}
		return 0;
	}
	ids = calloc(n, sizeof(*ids));
	if (!ids)
		return sp_err_set(e, "out of memory");
	for (i = 0; i < n; i++) {
		if (fsx_ident_of(items[i].cargo_path, &ids[i], e) < 0) {
			sp_err_wrap(e, "cargo output missing");
			goto out;
		}
	}
	/* Every intent, durable before the first link. */
	if (journal_begin(j, e) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (journal_artifact_intent(j, build_id, items[i].cargo_path,
					    items[i].staged_path, "link",
					    &ids[i], &items[i].artifact_id,
					    e) < 0) {
			journal_rollback(j);
			goto out;
		}
	}
	if (journal_commit(j, e) < 0)
		goto out;
	journaled = n;
	for (i = 0; i < n; i++) {
		if (fsx_link_nosync(items[i].cargo_path, items[i].staged_path,
				    e) == 0) {
			items[i].mode_used = "link";
			continue;
		}
		if (!link_unsupported(errno) ||
		    stage_move(j, items[i].artifact_id, items[i].cargo_path,
			       items[i].staged_path, 1, &items[i].mode_used,
			       e) < 0)
			goto fail;
	}
	/* The links, durable before they are marked staged. */
	if (fsx_fsync_parent(items[0].staged_path, e) < 0)
		goto fail;
	if (journal_begin(j, e) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		if (journal_artifact_staged(j, items[i].artifact_id, e) < 0) {
			journal_rollback(j);
			goto fail;
		}
	}
	if (journal_commit(j, e) < 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	/* Settle every journaled item from disk, the ones linked and the
	 * ones not reached alike. */
	for (i = 0; i < journaled; i++) {
		struct fsx_ident id;

		if (ids)
			id = ids[i];
		else if (fsx_ident_of(items[i].staged_path, &id, NULL) < 0)
			memset(&id, 0, sizeof(id));
		settle_failed(j, state_dir, build_id, items[i].artifact_id,
			      items[i].staged_path, &id);
	}
out:
	free(ids);
	return rc;
}

int stage_give_back(struct journal *j, const char *state_dir,
		    int64_t build_id, json_t *report, int *bad,
		    struct sp_err *e)
{
	return replay_all(j, state_dir, build_id, NULL, 0, report, bad, e);
}
