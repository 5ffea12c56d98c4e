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

int stage_artifact(struct journal *j, const char *state_dir, int64_t build_id,
		   const char *cargo_path, const char *staged_path,
		   enum stage_mode mode, int64_t *artifact_id,
		   const char **mode_used, struct sp_err *e)
{
	struct fsx_ident id;
	struct sp_err ignored;
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
		if (journal_artifact_mode(j, aid, "move", e) < 0)
			goto fail;
	}
	if (fsx_rename(cargo_path, staged_path, e) == 0) {
		*mode_used = "move";
		goto staged;
	}
	if (errno != EXDEV || stage_copy(j, aid, cargo_path, staged_path, e) < 0)
		goto fail;
	*mode_used = "copy";
staged:
	if (journal_artifact_staged(j, aid, e) < 0)
		goto fail;
	return 0;
fail:
	/* Settle what was started, from disk, so that nothing stays staged:
	 * the same code replay runs. */
	{
		struct journal_artifact *a = NULL;
		size_t n = 0, i;
		int bad = 0;

		if (journal_open_artifacts(j, build_id, &a, &n, &ignored) == 0) {
			for (i = 0; i < n; i++)
				if (a[i].id == aid)
					replay_artifact(j, state_dir, &a[i],
							NULL, &bad, &ignored);
			journal_artifacts_free(a, n);
		}
	}
	return -1;
}

int stage_give_back(struct journal *j, const char *state_dir,
		    int64_t build_id, json_t *report, int *bad,
		    struct sp_err *e)
{
	return replay_all(j, state_dir, build_id, NULL, 0, report, bad, e);
}
