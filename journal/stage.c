#define _GNU_SOURCE
#include "journal/stage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsx.h"
#include "common/path.h"
#include "journal/replay.h"

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

/* The folders of a batch's cargo outputs, each opened once (a build's
 * outputs live in a handful of folders: <target>/<profile> and its deps/). */
struct cargo_dirs {
	size_t n;
	char **path;
	int *fd;
};

static void cargo_dirs_free(struct cargo_dirs *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->path[i]);
		close(d->fd[i]);
	}
	free(d->path);
	free(d->fd);
	memset(d, 0, sizeof(*d));
}

/* Fills at for cargo_path and staged_path, with cargo's folder from d
 * (opened on first use). */
static int cargo_dirs_at(struct cargo_dirs *d, const struct statedir *sd,
			 const char *cargo_path, const char *staged_path,
			 struct replay_at *at, struct sp_err *e)
{
	char *dir = path_dirname(cargo_path), **np;
	const char *name;
	int *nf, fd;
	size_t i;

	if (!dir)
		return sp_err_set(e, "out of memory");
	for (i = 0; i < d->n && strcmp(d->path[i], dir) != 0; i++)
		;
	if (i == d->n) {
		fd = statedir_open_cargo_dir(cargo_path, &name, e);
		if (fd < 0) {
			free(dir);
			return -1;
		}
		np = realloc(d->path, (d->n + 1) * sizeof(*np));
		if (np)
			d->path = np;
		nf = realloc(d->fd, (d->n + 1) * sizeof(*nf));
		if (nf)
			d->fd = nf;
		if (!np || !nf) {
			close(fd);
			free(dir);
			return sp_err_set(e, "out of memory");
		}
		d->path[d->n] = dir;
		d->fd[d->n++] = fd;
	} else {
		free(dir);
	}
	at->cargo_dfd = -1; /* d owns the descriptor */
	at->cargo.dfd = d->fd[i];
	at->cargo.name = path_basename(cargo_path);
	at->cargo.shown = cargo_path;
	at->staged.dfd = sd->staged_fd;
	at->staged.name = path_basename(staged_path);
	at->staged.shown = staged_path;
	return 0;
}

static int stage_copy(struct journal *j, int64_t id,
		      const struct replay_at *at, struct sp_err *e)
{
	struct fsx_at tmp = at->staged;
	char *name = NULL, *shown = NULL;
	int rc = -1;

	if (journal_artifact_mode(j, id, "copy", e) < 0)
		return -1;
	/* asprintf leaves its pointer undefined when it fails. */
	if (asprintf(&name, "%s.tmp", at->staged.name) < 0)
		name = NULL;
	if (asprintf(&shown, "%s.tmp", at->staged.shown) < 0)
		shown = NULL;
	if (!name || !shown) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	tmp.name = name;
	tmp.shown = shown;
	if (fsx_copy_at(&at->cargo, &tmp, e) < 0)
		goto out;
	rc = fsx_rename_at(&tmp, &at->staged, 0, 1, e);
out:
	free(name);
	free(shown);
	return rc;
}

/* After a failed stage: if the staged name holds a file that is not the
 * one we tried to stage (the link or rename failed with EEXIST), nothing
 * was staged and that file is left alone; otherwise the artifact is
 * settled from disk by the same code replay runs, so nothing stays
 * staged.  Errors here leave the row unsettled for the next replay. */
static void settle_failed(struct journal *j, const struct statedir *sd,
			  int64_t build_id, int64_t aid,
			  const char *staged_path, const struct fsx_ident *id)
{
	struct journal_artifact *a = NULL;
	struct fsx_at staged = {sd->staged_fd, path_basename(staged_path),
				staged_path};
	struct fsx_ident st;
	struct sp_err ignored;
	size_t n = 0, i;
	int bad = 0;

	if (fsx_ident_at(&staged, &st, &ignored) == 0 &&
	    (st.dev != id->dev || st.ino != id->ino) &&
	    !fsx_ident_same(&st, id, 0)) {
		journal_artifact_settle(j, aid, "restored",
					"the staged name was taken; nothing "
					"was staged",
					&ignored);
		return;
	}
	if (journal_unsettled_artifacts(j, build_id, &a, &n, &ignored) < 0)
		return;
	for (i = 0; i < n; i++)
		if (a[i].id == aid)
			replay_artifact(j, sd, &a[i], NULL, &bad, &ignored);
	journal_artifacts_free(a, n);
}

/* Stages by rename, or by copy when the rename crosses filesystems; each
 * with its own fsyncs.  from_link: a link was tried first, so the journal
 * must learn of the change of mode before the rename. */
static int stage_move(struct journal *j, int64_t aid,
		      const struct replay_at *at, int from_link,
		      const char **mode_used, struct sp_err *e)
{
	if (from_link && journal_artifact_mode(j, aid, "move", e) < 0)
		return -1;
	/* Never replace a file already at the staged name: it is not ours,
	 * and may be what someone recovering by hand needs. */
	if (fsx_rename_at(&at->cargo, &at->staged, 1, 1, e) == 0) {
		*mode_used = "move";
		return 0;
	}
	if (errno != EXDEV || stage_copy(j, aid, at, e) < 0)
		return -1;
	*mode_used = "copy";
	return 0;
}

int stage_artifact(struct journal *j, const struct statedir *sd,
		   int64_t build_id, const char *cargo_path,
		   const char *staged_path, enum stage_mode mode,
		   int64_t *artifact_id, const char **mode_used,
		   struct sp_err *e)
{
	struct replay_at at;
	struct fsx_ident id;
	int64_t aid;
	int rc = -1;

	if (replay_at_open(&at, sd, cargo_path, staged_path, 0, e) < 0)
		return errno == ENOENT ? sp_err_wrap(e, "cargo output missing")
				       : -1;
	if (fsx_ident_at(&at.cargo, &id, e) < 0) {
		sp_err_wrap(e, "cargo output missing");
		goto out;
	}
	if (journal_artifact_intent(j, build_id, cargo_path, staged_path,
				    mode == STAGE_LINK ? "link" : "move", &id,
				    &aid, e) < 0)
		goto out;
	*artifact_id = aid;
	if (mode == STAGE_LINK) {
		if (fsx_link_at(&at.cargo, &at.staged, 1, e) == 0) {
			*mode_used = "link";
			goto staged;
		}
		if (!link_unsupported(errno))
			goto fail;
	}
	if (stage_move(j, aid, &at, mode == STAGE_LINK, mode_used, e) < 0)
		goto fail;
staged:
	if (journal_artifact_staged(j, aid, e) < 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	settle_failed(j, sd, build_id, aid, staged_path, &id);
out:
	replay_at_close(&at);
	return rc;
}

int stage_batch(struct journal *j, const struct statedir *sd,
		int64_t build_id, struct stage_item *items, size_t n,
		enum stage_mode mode, struct sp_err *e)
{
	struct cargo_dirs dirs = {0, NULL, NULL};
	struct fsx_ident *ids = NULL;
	struct replay_at at;
	size_t i, journaled = 0;
	int rc = -1;

	if (n == 0)
		return 0;
	if (mode != STAGE_LINK) {
		/* Move mode renames out of cargo's directories: each item
		 * fsyncs its own pair of directories anyway. */
		for (i = 0; i < n; i++) {
			if (stage_artifact(j, sd, build_id,
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
		if (cargo_dirs_at(&dirs, sd, items[i].cargo_path,
				  items[i].staged_path, &at, e) < 0) {
			/* A folder refused (EACCES) is no missing output. */
			if (errno == ENOENT)
				sp_err_wrap(e, "cargo output missing");
			goto out;
		}
		if (fsx_ident_at(&at.cargo, &ids[i], e) < 0) {
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
		if (cargo_dirs_at(&dirs, sd, items[i].cargo_path,
				  items[i].staged_path, &at, e) < 0)
			goto fail;
		if (fsx_link_at(&at.cargo, &at.staged, 0, e) == 0) {
			items[i].mode_used = "link";
			continue;
		}
		if (!link_unsupported(errno) ||
		    stage_move(j, items[i].artifact_id, &at, 1,
			       &items[i].mode_used, e) < 0)
			goto fail;
	}
	/* The links, durable before they are marked staged: one fsync of
	 * the held staged/, whatever n. */
	if (fsx_fsync_at(&at.staged, e) < 0)
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
		struct fsx_at staged = {sd->staged_fd,
					path_basename(items[i].staged_path),
					items[i].staged_path};
		struct fsx_ident id;

		if (ids)
			id = ids[i];
		else if (fsx_ident_at(&staged, &id, NULL) < 0)
			memset(&id, 0, sizeof(id));
		settle_failed(j, sd, build_id, items[i].artifact_id,
			      items[i].staged_path, &id);
	}
out:
	cargo_dirs_free(&dirs);
	free(ids);
	return rc;
}

int stage_give_back(struct journal *j, const struct statedir *sd,
		    int64_t build_id, json_t *report, int *bad,
		    struct sp_err *e)
{
	return replay_all(j, sd, build_id, NULL, 0, report, bad, e);
}
