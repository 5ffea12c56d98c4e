#define _GNU_SOURCE
#include "journal/replay.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/dirs.h"
#include "common/fsx.h"
#include "common/path.h"

enum replay_action replay_decide(const struct journal_artifact *a,
				 const struct replay_disk *d)
{
	/* A copy made on EXDEV has its own inode: only size and mtime (which
	 * the copy keeps) identify it. */
	int same_ino = strcmp(a->mode, "copy") != 0;

	if (!d->staged_exists) {
		if (d->quarantined_exists)
			return REPLAY_QUARANTINE;
		if (!d->cargo_exists)
			return REPLAY_LOST;
		return fsx_ident_same(&d->cargo, &a->ident, 1)
			       ? REPLAY_NOTHING
			       : REPLAY_KEEP_CARGO;
	}
	if (!fsx_ident_same(&d->staged, &a->ident, same_ino))
		return REPLAY_QUARANTINE;
	if (d->cargo_exists) {
		if (fsx_ident_same(&d->cargo, &a->ident, 1))
			return REPLAY_DROP;
		return REPLAY_KEEP_CARGO;
	}
	return same_ino ? REPLAY_PUT_BACK : REPLAY_COPY_BACK;
}

const char *replay_outcome(enum replay_action act)
{
	switch (act) {
	case REPLAY_NOTHING:
	case REPLAY_DROP:
		return "restored";
	case REPLAY_KEEP_CARGO:
		return "kept_cargo";
	case REPLAY_PUT_BACK:
	case REPLAY_COPY_BACK:
		return "put_back";
	case REPLAY_QUARANTINE:
		return "quarantined";
	case REPLAY_LOST:
		return "lost";
	}
	return "unknown";
}

int replay_at_open(struct replay_at *at, const struct statedir *sd,
		   const char *cargo_path, const char *staged_path,
		   int missing_ok, struct sp_err *e)
{
	const char *name;

	at->cargo_dfd = -1;
	at->cargo.dfd = -1;
	at->cargo.name = path_basename(cargo_path);
	at->cargo.shown = cargo_path;
	at->staged.dfd = sd->staged_fd;
	at->staged.name = path_basename(staged_path);
	at->staged.shown = staged_path;
	if (sd->staged_fd < 0)
		return sp_err_set(e, "state directory '%s' has no staged/",
				  sd->path);
	at->cargo_dfd = statedir_open_cargo_dir(cargo_path, &name, e);
	if (at->cargo_dfd < 0) {
		if (errno == ENOENT && missing_ok)
			return 0;
		return -1;
	}
	at->cargo.dfd = at->cargo_dfd;
	return 0;
}

void replay_at_close(struct replay_at *at)
{
	if (at->cargo_dfd >= 0)
		close(at->cargo_dfd);
	at->cargo_dfd = -1;
	at->cargo.dfd = -1;
}

/* Looks f up: *exists 0 when it (or, for dfd -1, its folder) is absent. */
static int probe(const struct fsx_at *f, int *exists, struct fsx_ident *id,
		 struct sp_err *e)
{
	*exists = 0;
	if (f->dfd < 0)
		return 0;
	if (fsx_ident_at(f, id, e) == 0) {
		*exists = 1;
		return 0;
	}
	return errno == ENOENT ? 0 : -1;
}

/* f with ".suffix" appended to its name and shown path (malloc'd into
 * *name and *shown, which the caller frees). */
static int suffixed(const struct fsx_at *f, const char *suffix,
		    struct fsx_at *out, char **name, char **shown,
		    struct sp_err *e)
{
	*name = *shown = NULL;
	if (asprintf(name, "%s%s", f->name, suffix) < 0 ||
	    asprintf(shown, "%s%s", f->shown, suffix) < 0) {
		free(*name);
		*name = NULL;
		return sp_err_set(e, "out of memory");
	}
	out->dfd = f->dfd;
	out->name = *name;
	out->shown = *shown;
	return 0;
}

/* Copies the staged file back to a temporary name beside the cargo output
 * (created O_EXCL|O_NOFOLLOW in cargo's held folder), renames it into
 * place without replacing, and drops the staged copy. */
static int copy_back(const struct replay_at *at, struct sp_err *e)
{
	struct fsx_at tmp;
	char *name = NULL, *shown = NULL;
	int rc = -1;

	if (at->cargo.dfd < 0) {
		errno = ENOENT;
		return sp_err_sys(e, "cannot put '%s' back: its folder is gone",
				  at->cargo.shown);
	}
	if (suffixed(&at->cargo, ".spoke-tmp", &tmp, &name, &shown, e) < 0)
		return -1;
	if (fsx_unlink_at(&tmp, 1, 1, e) < 0 ||
	    fsx_copy_at(&at->staged, &tmp, e) < 0)
		goto out;
	if (fsx_rename_at(&tmp, &at->cargo, 1, 1, e) < 0) {
		fsx_unlink_at(&tmp, 1, 1, NULL);
		goto out;
	}
	rc = fsx_unlink_at(&at->staged, 0, 1, e);
out:
	free(name);
	free(shown);
	return rc;
}

/* Moves a changed staged file to quarantine/ (unless a killed replay did
 * already).  A cargo output that is the same changed inode (a hard link:
 * link mode) is removed as well: cargo's cache must not keep bytes that
 * neither cargo nor spoke wrote, and cargo rebuilds a missing output. */
static int quarantine(const struct replay_at *at, const struct fsx_at *q,
		      const struct replay_disk *d, int *removed_cargo,
		      struct sp_err *e)
{
	struct fsx_ident qid;

	*removed_cargo = 0;
	if (d->staged_exists && fsx_rename_at(&at->staged, q, 0, 1, e) < 0)
		return -1;
	if (!d->cargo_exists || fsx_ident_at(q, &qid, NULL) < 0)
		return 0;
	if (qid.dev != d->cargo.dev || qid.ino != d->cargo.ino)
		return 0;
	if (fsx_unlink_at(&at->cargo, 1, 1, e) < 0)
		return -1;
	*removed_cargo = 1;
	return 0;
}

int replay_artifact(struct journal *j, const struct statedir *sd,
		    const struct journal_artifact *a, json_t *report, int *bad,
		    struct sp_err *e)
{
	struct replay_disk d;
	struct replay_at at;
	struct fsx_at tmp, q;
	struct fsx_ident qid;
	enum replay_action act;
	char *tmp_name = NULL, *tmp_shown = NULL, *qname = NULL,
	     *qpath = NULL, note[1024] = "";
	const char *state;
	int rc = -1;

	if (sd->quarantine_fd < 0)
		return sp_err_set(e, "state directory '%s' has no quarantine/",
				  sd->path);
	if (replay_at_open(&at, sd, a->cargo_path, a->staged_path, 1, e) < 0)
		return -1;
	/* A copy interrupted before its rename leaves "<staged>.tmp". */
	if (suffixed(&at.staged, ".tmp", &tmp, &tmp_name, &tmp_shown, e) < 0)
		goto out;
	/* asprintf leaves its pointer undefined when it fails. */
	if (asprintf(&qname, "%lld-%s", (long long)a->id, at.staged.name) < 0)
		qname = NULL;
	if (qname &&
	    asprintf(&qpath, "%s/quarantine/%s", sd->path, qname) < 0)
		qpath = NULL;
	if (!qname || !qpath) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	q.dfd = sd->quarantine_fd;
	q.name = qname;
	q.shown = qpath;
	if (fsx_unlink_at(&tmp, 1, 1, e) < 0)
		goto out;
	memset(&d, 0, sizeof(d));
	if (probe(&at.cargo, &d.cargo_exists, &d.cargo, e) < 0 ||
	    probe(&at.staged, &d.staged_exists, &d.staged, e) < 0)
		goto out;
	d.quarantined_exists = fsx_ident_at(&q, &qid, NULL) == 0;
	act = replay_decide(a, &d);
	if (strcmp(a->state, "restoring") != 0 &&
	    journal_artifact_restoring(j, a->id, e) < 0)
		goto out;
	state = "restored";
	switch (act) {
	case REPLAY_NOTHING:
		break;
	case REPLAY_DROP:
		if (fsx_unlink_at(&at.staged, 1, 1, e) < 0)
			goto out;
		break;
	case REPLAY_KEEP_CARGO:
		if (fsx_unlink_at(&at.staged, 1, 1, e) < 0)
			goto out;
		state = "kept_cargo";
		snprintf(note, sizeof(note),
			 "cargo wrote a newer '%s' meanwhile; kept it",
			 a->cargo_path);
		break;
	case REPLAY_PUT_BACK:
		if (at.cargo.dfd < 0) {
			errno = ENOENT;
			sp_err_sys(e, "cannot put '%s' back: its folder is gone",
				   a->cargo_path);
			goto out;
		}
		if (fsx_rename_at(&at.staged, &at.cargo, 1, 1, e) < 0)
			goto out;
		break;
	case REPLAY_COPY_BACK:
		if (copy_back(&at, e) < 0)
			goto out;
		break;
	case REPLAY_QUARANTINE: {
		int removed;

		if (quarantine(&at, &q, &d, &removed, e) < 0)
			goto out;
		state = "quarantined";
		snprintf(note, sizeof(note),
			 "staged copy of '%s' was changed by another process; "
			 "moved to '%s', not put back%s",
			 a->cargo_path, qpath,
			 removed ? "; the cargo output shared the changed "
				   "file and was removed, so cargo rebuilds it"
				 : "");
		break;
	}
	case REPLAY_LOST:
		state = "lost";
		snprintf(note, sizeof(note),
			 "neither '%s' nor its staged copy '%s' exists",
			 a->cargo_path, a->staged_path);
		break;
	}
	if (journal_artifact_settle(j, a->id, state, note[0] ? note : NULL,
				    e) < 0)
		goto out;
	if (act == REPLAY_QUARANTINE || act == REPLAY_LOST)
		(*bad)++;
	if (json_is_array(report)) {
		json_t *o = json_pack("{s:s,s:s,s:I}", "cargo_path",
				      a->cargo_path, "outcome",
				      replay_outcome(act), "build",
				      (json_int_t)a->build_id);

		if (o && note[0])
			json_object_set_new(o, "detail", json_string(note));
		json_array_append_new(report, o);
	}
	rc = 0;
out:
	replay_at_close(&at);
	free(tmp_name);
	free(tmp_shown);
	free(qname);
	free(qpath);
	return rc;
}

/*
 * A wheel's temporary or final name, in its output folder opened by
 * descriptor; *dfd is -1 when the folder is missing.  how is dirs_open's
 * walk: the temporary's folder is the output folder as the coordinator
 * resolved it (free of symlinks), entered without following any; the
 * final name keeps the folder as the user gave it (-o may go through a
 * symlink of theirs), and is only looked at, never changed.
 */
static int wheel_at(const char *path, int how, int *dfd, struct fsx_at *f,
		    struct sp_err *e)
{
	char *dir = path_dirname(path);

	*dfd = -1;
	f->dfd = -1;
	if (!dir)
		return sp_err_set(e, "out of memory");
	errno = 0;
	*dfd = dirs_open(dir, how, 0, e);
	free(dir);
	f->dfd = *dfd;
	f->name = path_basename(path);
	f->shown = path;
	if (*dfd < 0 && errno != ENOENT)
		return -1;
	return 0;
}

static int replay_wheel(struct journal *j, const struct journal_wheel *w,
			struct sp_err *e)
{
	struct fsx_at tmp, fin;
	struct fsx_ident id;
	int tmp_dfd = -1, fin_dfd = -1, rc = -1, tmp_exists, fin_exists;

	if (wheel_at(w->tmp_path, 0, &tmp_dfd, &tmp, e) < 0 ||
	    wheel_at(w->final_path, DIRS_FOLLOW, &fin_dfd, &fin, e) < 0)
		goto out;
	if (probe(&tmp, &tmp_exists, &id, e) < 0 ||
	    probe(&fin, &fin_exists, &id, e) < 0)
		goto out;
	/* The rename to the final name happens only after the temporary file
	 * was fsynced, so a wheel found at its final name with no temporary
	 * left is complete. */
	if (strcmp(w->state, "renaming") == 0 && !tmp_exists && fin_exists) {
		rc = journal_wheel_done(j, w->id, -1, NULL, 0, e);
		goto out;
	}
	if (tmp.dfd >= 0 && fsx_unlink_at(&tmp, 1, 1, e) < 0)
		goto out;
	rc = journal_wheel_abandon(j, w->id, "interrupted", e);
out:
	if (tmp_dfd >= 0)
		close(tmp_dfd);
	if (fin_dfd >= 0)
		close(fin_dfd);
	return rc;
}

static int skipped(int64_t build, const int64_t *skip, size_t nskip)
{
	size_t i;

	for (i = 0; i < nskip; i++)
		if (skip[i] == build)
			return 1;
	return 0;
}

/*
 * Gives back in one batch every link-mode artifact whose staged name and
 * cargo output are still cargo's original inode (the common case, a
 * REPLAY_DROP): one commit of the intents, the unlinks, one fsync per
 * staged directory, one commit of the settled marks, whatever their
 * number.  Marks done[i] for each artifact it settled; the others are left
 * to replay_artifact().  Killed anywhere, the next replay decides each
 * artifact from disk again, as always.
 */
static int drop_batch(struct journal *j, const struct statedir *sd,
		      const struct journal_artifact *a, size_t n, const int64_t *skip, size_t nskip,
		      json_t *report, char *done, struct sp_err *e)
{
	char *batch = calloc(n ? n : 1, 1);
	struct replay_at at;
	size_t i, k = 0, last = 0;
	int rc = -1, found;

	if (!batch)
		return sp_err_set(e, "out of memory");
	for (i = 0; i < n; i++) {
		struct replay_disk d;

		if (skipped(a[i].build_id, skip, nskip) ||
		    strcmp(a[i].mode, "link") != 0)
			continue;
		memset(&d, 0, sizeof(d));
		if (replay_at_open(&at, sd, a[i].cargo_path, a[i].staged_path,
				   1, e) < 0)
			goto out;
		found = probe(&at.cargo, &d.cargo_exists, &d.cargo, e);
		if (found == 0)
			found = probe(&at.staged, &d.staged_exists, &d.staged,
				      e);
		replay_at_close(&at);
		if (found < 0)
			goto out;
		if (d.staged_exists && replay_decide(&a[i], &d) == REPLAY_DROP) {
			batch[i] = 1;
			k++;
			last = i;
		}
	}
	if (k < 2) {
		rc = 0; /* not worth a batch: one by one */
		goto out;
	}
	if (journal_begin(j, e) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (batch[i] && strcmp(a[i].state, "restoring") != 0 &&
		    journal_artifact_restoring(j, a[i].id, e) < 0) {
			journal_rollback(j);
			goto out;
		}
	}
	if (journal_commit(j, e) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		struct fsx_at staged = {sd->staged_fd,
					path_basename(a[i].staged_path),
					a[i].staged_path};

		if (batch[i] && fsx_unlink_at(&staged, 1, 0, e) < 0)
			goto out;
	}
	/* Every staged name is in the one held staged/: one fsync. */
	{
		struct fsx_at dir = {sd->staged_fd, ".",
				     a[last].staged_path};

		if (fsx_fsync_at(&dir, e) < 0)
			goto out;
	}
	if (journal_begin(j, e) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (batch[i] &&
		    journal_artifact_settle(j, a[i].id, "restored", NULL, e) < 0) {
			journal_rollback(j);
			goto out;
		}
	}
	if (journal_commit(j, e) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (!batch[i])
			continue;
		done[i] = 1;
		if (json_is_array(report))
			json_array_append_new(
				report, json_pack("{s:s,s:s,s:I}", "cargo_path",
						  a[i].cargo_path, "outcome",
						  "restored", "build",
						  (json_int_t)a[i].build_id));
	}
	rc = 0;
out:
	free(batch);
	return rc;
}

/* Keeps the first failure's message for the caller.  Its sys_errno says
 * whether running the replay again is safe, which holds only when every
 * failure was of one kind: one failed fsync among ENOSPC renames must
 * stop a retry. */
static void note_failure(struct sp_err *first, const struct sp_err *cur,
			 int *failed)
{
	if (!*failed)
		*first = *cur;
	else if (first->sys_errno != cur->sys_errno)
		first->sys_errno = 0;
	*failed = 1;
}

int replay_all(struct journal *j, const struct statedir *sd, int64_t build_id,
	       const int64_t *skip, size_t nskip, json_t *report, int *bad,
	       struct sp_err *e)
{
	char *done = NULL;
	struct journal_artifact *a = NULL;
	struct journal_wheel *w = NULL;
	size_t na = 0, nw = 0, i;
	struct sp_err first, cur;
	int failed = 0;

	sp_err_clear(&first);
	if (journal_unsettled_wheels(j, build_id, &w, &nw, e) < 0)
		return -1;
	for (i = 0; i < nw; i++) {
		if (skipped(w[i].build_id, skip, nskip))
			continue;
		if (replay_wheel(j, &w[i], &cur) < 0)
			note_failure(&first, &cur, &failed);
	}
	journal_wheels_free(w, nw);
	if (journal_unsettled_artifacts(j, build_id, &a, &na, e) < 0)
		return -1;
	done = calloc(na ? na : 1, 1);
	if (!done) {
		journal_artifacts_free(a, na);
		return sp_err_set(e, "out of memory");
	}
	/* A failed batch leaves its artifacts to the one-by-one path. */
	if (drop_batch(j, sd, a, na, skip, nskip, report, done, &cur) < 0)
		note_failure(&first, &cur, &failed);
	for (i = 0; i < na; i++) {
		if (done[i] || skipped(a[i].build_id, skip, nskip))
			continue;
		if (replay_artifact(j, sd, &a[i], report, bad, &cur) < 0)
			note_failure(&first, &cur, &failed);
	}
	journal_artifacts_free(a, na);
	free(done);
	if (!failed && build_id == 0 && nskip == 0 &&
	    journal_builds_interrupt(j, &cur) < 0)
		note_failure(&first, &cur, &failed);
	if (failed) {
		if (e)
			*e = first;
		return -1;
	}
	return 0;
}

/* Whether dir holds the tag file cargo writes at the top of every target
 * directory. */
static int is_target_dir(const char *dir)
{
	char *tag = path_join(dir, "CACHEDIR.TAG");
	int yes = tag && path_exists(tag);

	free(tag);
	return yes;
}

/* The cargo command that rebuilds a missing output, derived from its path
 * (<target>/[<triple>/]<profile>/<file>, the only thing the journal knows
 * of it), or NULL when the path is not in a cargo target directory (an
 * --artifacts build).  With a workspace beside the target directory
 * (<ws>/target) the command names its manifest; else it names the target
 * directory, to be run in the workspace.  malloc'd. */
static char *rebuild_command(const char *cargo_path, int *in_workspace)
{
	char *pdir = path_dirname(cargo_path), *target = NULL, *ws = NULL;
	char *manifest = NULL, *cmd = NULL, profile_flag[300] = "";
	char triple_flag[300] = "";
	const char *profile;

	*in_workspace = 0;
	if (!pdir)
		return NULL;
	profile = path_basename(pdir);
	target = path_dirname(pdir);
	if (!target)
		goto out;
	if (!is_target_dir(target)) {
		char *up = path_dirname(target);

		/* <target>/<triple>/<profile>/ of a cross build. */
		if (!up || !is_target_dir(up)) {
			free(up);
			goto out;
		}
		snprintf(triple_flag, sizeof(triple_flag), " --target %s",
			 path_basename(target));
		free(target);
		target = up;
	}
	if (!strcmp(profile, "release"))
		snprintf(profile_flag, sizeof(profile_flag), " --release");
	else if (strcmp(profile, "debug") != 0)
		snprintf(profile_flag, sizeof(profile_flag), " --profile %s",
			 profile);
	ws = path_dirname(target);
	manifest = ws ? path_join(ws, "Cargo.toml") : NULL;
	if (manifest && !strcmp(path_basename(target), "target") &&
	    path_exists(manifest)) {
		if (asprintf(&cmd, "cargo build%s%s --manifest-path '%s'",
			     profile_flag, triple_flag, manifest) < 0)
			cmd = NULL;
	} else {
		*in_workspace = 1;
		if (asprintf(&cmd, "cargo build%s%s --target-dir '%s'",
			     profile_flag, triple_flag, target) < 0)
			cmd = NULL;
	}
out:
	free(pdir);
	free(target);
	free(ws);
	free(manifest);
	return cmd;
}

json_t *replay_losses(struct journal *j, int record, struct sp_err *e)
{
	struct journal_loss *l = NULL;
	json_t *arr = json_array();
	size_t n = 0, i;

	if (!arr) {
		sp_err_set(e, "out of memory");
		return NULL;
	}
	if (journal_losses(j, &l, &n, e) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		json_t *o;
		char *cmd, todo[4096];
		int in_ws;

		/* Back at its path: cargo rebuilt it, nothing is missing. */
		if (path_exists(l[i].cargo_path)) {
			if (record && journal_loss_resolve(j, l[i].cargo_path,
							   "reappeared",
							   e) < 0)
				goto fail;
			continue;
		}
		cmd = rebuild_command(l[i].cargo_path, &in_ws);
		if (cmd)
			snprintf(todo, sizeof(todo),
				 "cargo rebuilds it: run spoke build again, "
				 "or%s: %s",
				 in_ws ? ", in its workspace" : "", cmd);
		else
			snprintf(todo, sizeof(todo),
				 "rebuild it with the command that built it, "
				 "then run spoke build again");
		o = json_pack("{s:s,s:I,s:s,s:s,s:s,s:s}", "cargo_path",
			      l[i].cargo_path, "build",
			      (json_int_t)l[i].build_id, "state", l[i].state,
			      "staged_path", l[i].staged_path, "detail",
			      l[i].note, "todo", todo);
		if (o && cmd)
			json_object_set_new(o, "rebuild", json_string(cmd));
		free(cmd);
		if (!o || json_array_append_new(arr, o) < 0) {
			sp_err_set(e, "out of memory");
			goto fail;
		}
	}
	journal_losses_free(l, n);
	return arr;
fail:
	journal_losses_free(l, n);
	json_decref(arr);
	return NULL;
}

/* path with its folder resolved (symlinks, "..") when the folder exists:
 * the output itself is missing, so realpath() of the whole cannot work.
 * malloc'd. */
static char *canon_path(const char *path)
{
	char *dir = path_dirname(path), *real = dir ? realpath(dir, NULL) : NULL;
	char *res = real ? path_join(real, path_basename(path)) : strdup(path);

	free(dir);
	free(real);
	return res;
}

int replay_forget(struct journal *j, const json_t *paths, int all,
		  struct sp_err *e)
{
	struct journal_loss *l = NULL;
	char **canon = NULL, *want = NULL;
	const json_t *p;
	size_t n = 0, i, k;
	int rc = -1;

	if (journal_losses(j, &l, &n, e) < 0)
		return -1;
	canon = calloc(n ? n : 1, sizeof(*canon));
	if (!canon) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		if (!(canon[i] = canon_path(l[i].cargo_path))) {
			sp_err_set(e, "out of memory");
			goto out;
		}
	/* Every path is checked before anything is resolved: a typo
	 * acknowledges nothing. */
	json_array_foreach(paths, k, p)
	{
		const char *s = json_string_value(p);

		free(want);
		want = s ? canon_path(s) : NULL;
		if (!want) {
			sp_err_set(e, "bad path to forget");
			goto out;
		}
		for (i = 0; i < n; i++)
			if (!strcmp(l[i].cargo_path, s) ||
			    !strcmp(canon[i], want))
				break;
		if (i == n) {
			sp_err_set(e,
				   "'%s' is no lost cargo output: 'spoke "
				   "recover' lists those it can forget",
				   s);
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		int hit = all;

		json_array_foreach(paths, k, p)
		{
			const char *s = json_string_value(p);
			char *c = canon_path(s);

			if (!strcmp(l[i].cargo_path, s) ||
			    (c && !strcmp(canon[i], c)))
				hit = 1;
			free(c);
		}
		if (hit && journal_loss_resolve(j, l[i].cargo_path,
						"forgotten", e) < 0)
			goto out;
	}
	rc = 0;
out:
	for (i = 0; canon && i < n; i++)
		free(canon[i]);
	free(canon);
	free(want);
	journal_losses_free(l, n);
	return rc;
}
