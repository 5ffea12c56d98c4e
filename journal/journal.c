#include "journal/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fault.h"
#include "common/path.h"
#include "journal/jdb.h"

/* The statements run() prepared, kept for the journal's life: the
 * coordinator runs the same few updates for every wheel, and parsing and
 * planning them again each time was a fifth of its CPU per wheel.  Keyed by
 * the SQL text's address, since every caller passes a literal. */
#define STMT_CACHE 48

struct journal {
	sqlite3 *db;
	char *path;
	int io_failed; /* an error was the disk's, not the file's content */
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} stmts[STMT_CACHE];
};

/* Schema migrations, applied in order; migrations[i] takes user_version i
 * to i + 1.  Never edit a shipped migration: add the next one. */
static const char *const migrations[] = {
	"CREATE TABLE builds ("
	"  id INTEGER PRIMARY KEY,"
	"  client TEXT,"
	"  started_ns INTEGER NOT NULL,"
	"  ended_ns INTEGER,"
	"  state TEXT NOT NULL CHECK (state IN"
	"    ('running', 'succeeded', 'failed', 'interrupted')),"
	"  error TEXT);"
	"CREATE TABLE artifacts ("
	"  id INTEGER PRIMARY KEY,"
	"  build_id INTEGER NOT NULL REFERENCES builds(id),"
	"  cargo_path TEXT NOT NULL,"
	"  staged_path TEXT NOT NULL UNIQUE,"
	"  mode TEXT NOT NULL CHECK (mode IN ('link', 'move', 'copy')),"
	"  dev INTEGER NOT NULL, ino INTEGER NOT NULL,"
	"  size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,"
	"  patch TEXT NOT NULL DEFAULT 'none' CHECK (patch IN"
	"    ('none', 'required', 'applied')),"
	"  state TEXT NOT NULL CHECK (state IN ('staging', 'staged',"
	"    'restoring', 'restored', 'kept_cargo', 'quarantined', 'lost')),"
	"  note TEXT,"
	"  updated_ns INTEGER NOT NULL);"
	"CREATE INDEX artifacts_unsettled ON artifacts(build_id)"
	"  WHERE state IN ('staging', 'staged', 'restoring');"
	"CREATE TABLE wheels ("
	"  id INTEGER PRIMARY KEY,"
	"  build_id INTEGER NOT NULL REFERENCES builds(id),"
	"  artifact_id INTEGER REFERENCES artifacts(id),"
	"  tmp_path TEXT NOT NULL,"
	"  final_path TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN"
	"    ('writing', 'renaming', 'done', 'abandoned')),"
	"  size INTEGER, sha256 TEXT, error TEXT,"
	"  updated_ns INTEGER NOT NULL);",

	/* 1 -> 2: a timeline of every state change, for `spoke log`.  The
	 * triggers write it in the transaction of the change itself, so it
	 * costs no commit (no fsync) of its own. */
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  build_id INTEGER NOT NULL,"
	"  artifact_id INTEGER,"
	"  wheel_id INTEGER,"
	"  t_ns INTEGER NOT NULL,"
	"  kind TEXT NOT NULL);"
	"CREATE INDEX events_build ON events(build_id, id);"
	"CREATE TRIGGER ev_build_begin AFTER INSERT ON builds BEGIN"
	"  INSERT INTO events (build_id, t_ns, kind)"
	"  VALUES (NEW.id, NEW.started_ns, 'build ' || NEW.state); END;"
	"CREATE TRIGGER ev_build_state AFTER UPDATE OF state ON builds BEGIN"
	"  INSERT INTO events (build_id, t_ns, kind)"
	"  VALUES (NEW.id, coalesce(NEW.ended_ns, NEW.started_ns),"
	"          'build ' || NEW.state); END;"
	"CREATE TRIGGER ev_art_new AFTER INSERT ON artifacts BEGIN"
	"  INSERT INTO events (build_id, artifact_id, t_ns, kind)"
	"  VALUES (NEW.build_id, NEW.id, NEW.updated_ns, NEW.state); END;"
	"CREATE TRIGGER ev_art_state AFTER UPDATE OF state ON artifacts BEGIN"
	"  INSERT INTO events (build_id, artifact_id, t_ns, kind)"
	"  VALUES (NEW.build_id, NEW.id, NEW.updated_ns, NEW.state); END;"
	"CREATE TRIGGER ev_art_patch AFTER UPDATE OF patch ON artifacts BEGIN"
	"  INSERT INTO events (build_id, artifact_id, t_ns, kind)"
	"  VALUES (NEW.build_id, NEW.id, NEW.updated_ns,"
	"          'patch ' || NEW.patch); END;"
	"CREATE TRIGGER ev_wheel_new AFTER INSERT ON wheels BEGIN"
	"  INSERT INTO events (build_id, artifact_id, wheel_id, t_ns, kind)"
	"  VALUES (NEW.build_id, NEW.artifact_id, NEW.id, NEW.updated_ns,"
	"          'wheel ' || NEW.state); END;"
	"CREATE TRIGGER ev_wheel_state AFTER UPDATE OF state ON wheels BEGIN"
	"  INSERT INTO events (build_id, artifact_id, wheel_id, t_ns, kind)"
	"  VALUES (NEW.build_id, NEW.artifact_id, NEW.id, NEW.updated_ns,"
	"          'wheel ' || NEW.state); END;",

	/* 2 -> 3: a loss is reported until it is resolved: the user
	 * acknowledged it (`spoke recover --forget`), or the cargo output
	 * reappeared at its path (cargo rebuilt it).  Two columns, not a new
	 * state, so that the settled state keeps saying what happened and the
	 * CHECK on state need not be rebuilt.  The first index serves the
	 * query of every `spoke status`; the second finds the newest row of a
	 * cargo output. */
	"ALTER TABLE artifacts ADD COLUMN resolution TEXT CHECK (resolution IN"
	"  ('forgotten', 'reappeared'));"
	"ALTER TABLE artifacts ADD COLUMN resolved_ns INTEGER;"
	"CREATE INDEX artifacts_losses ON artifacts(cargo_path)"
	"  WHERE state IN ('lost', 'quarantined') AND resolution IS NULL;"
	"CREATE INDEX artifacts_cargo ON artifacts(cargo_path, id);"
	"CREATE TRIGGER ev_art_resolved AFTER UPDATE OF resolution ON artifacts"
	"  WHEN NEW.resolution IS NOT NULL BEGIN"
	"  INSERT INTO events (build_id, artifact_id, t_ns, kind)"
	"  VALUES (NEW.build_id, NEW.id, NEW.resolved_ns,"
	"          'loss ' || NEW.resolution); END;",

	/* 3 -> 4: pruning (prune.c) deletes rows by build and asks whether a
	 * wheel still points at an artifact; so do the foreign-key checks of
	 * each delete.  Without these, every deleted row scanned a whole
	 * table. */
	"CREATE INDEX artifacts_build ON artifacts(build_id);"
	"CREATE INDEX wheels_build ON wheels(build_id);"
	"CREATE INDEX wheels_artifact ON wheels(artifact_id);",

	/* 4 -> 5 (shardfix): cargo's compile time of the wheel's package,
	 * as the client estimated it from cargo's messages (cargo_msg.h),
	 * for `spoke plan`'s shard weights; NULL when cargo compiled nothing
	 * of it (fresh) or an older client sent none.  One element of its
	 * own: the lead orders the migrations at merge. */
	"ALTER TABLE wheels ADD COLUMN compile_ns INTEGER;",

	/* 5 -> 6: incremental packaging (server/reuse.h).  One row per
	 * wheel a worker wrote, keyed by the digest of its job's inputs: the
	 * wheel's identity when written, its sha256, the inputs the worker
	 * found (bundled libraries, with their identities) and the result
	 * to answer with, its repair report apart (read only for a client
	 * that shows it: it is most of the result's size).  build_id is the
	 * last build that wrote or reused it, which pruning keeps to.
	 * art_* is cargo's file as spoke left it once given back (staging
	 * changes its ctime), set after the give-backs and carried forward
	 * by later builds that stage the same unchanged file; NULL until
	 * then, and such a row is never reused.  A reused wheel gets a
	 * wheels row of its own build marked "reused", so `spoke log` shows
	 * it; the trigger names such a row's event "wheel reused". */
	"CREATE TABLE reuse ("
	"  digest TEXT PRIMARY KEY,"
	"  final_path TEXT NOT NULL,"
	"  dev INTEGER NOT NULL, ino INTEGER NOT NULL,"
	"  size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,"
	"  ctime_ns INTEGER NOT NULL,"
	"  art_dev INTEGER, art_ino INTEGER, art_size INTEGER,"
	"  art_mtime_ns INTEGER, art_ctime_ns INTEGER,"
	"  sha256 TEXT NOT NULL,"
	"  found TEXT NOT NULL,"
	"  result TEXT NOT NULL,"
	"  repair TEXT,"
	"  build_id INTEGER NOT NULL,"
	"  updated_ns INTEGER NOT NULL);"
	"CREATE INDEX reuse_build ON reuse(build_id);"
	"CREATE INDEX reuse_final ON reuse(final_path);"
	"CREATE INDEX reuse_art ON reuse(art_ino);"
	"ALTER TABLE wheels ADD COLUMN reused INTEGER NOT NULL DEFAULT 0;"
	"DROP TRIGGER ev_wheel_new;"
	"CREATE TRIGGER ev_wheel_new AFTER INSERT ON wheels BEGIN"
	"  INSERT INTO events (build_id, artifact_id, wheel_id, t_ns, kind)"
	"  VALUES (NEW.build_id, NEW.artifact_id, NEW.id, NEW.updated_ns,"
	"          'wheel ' || CASE WHEN NEW.reused THEN 'reused'"
	"                      ELSE NEW.state END); END;",
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* SQLite's unix VFS opens files through a system call table that may be
 * swapped (xSetSystemCall).  When it cannot create a file it retries the
 * open read-only, and that retry's ENOENT is the errno SQLite keeps: a
 * full disk would read "No such file or directory".  So the journal's
 * "open" remembers why the last create failed.  One coordinator thread
 * uses the journal, so a plain static will do. */
static int (*real_open)(const char *, int, int);
static int create_errno;

/*
 * The state directory its opener holds (journal_hold_dir).  SQLite names
 * the journal, its -wal, -shm and -journal files and their folder by
 * path; every open of one of them goes relative to the held descriptor
 * instead, never through a symlink, so a folder above swapped after the
 * state directory was checked cannot give SQLite another file.  A
 * journal's file that SQLite would open anywhere else (its path resolved
 * through a symlink planted meanwhile) is refused.
 */
static int held_fd = -1;
static char held_path[PATH_MAX];

void journal_hold_dir(int dir_fd, const char *path)
{
	held_fd = dir_fd;
	snprintf(held_path, sizeof(held_path), "%s", dir_fd >= 0 ? path : "");
}

static int held_open(const char *path, int flags, int mode, int *fd)
{
	size_t n = strlen(held_path);
	const char *base = strrchr(path, '/');

	if (held_fd < 0 || !n)
		return 0;
	if (strncmp(path, held_path, n) == 0 && path[n] == '\0') {
		/* The folder itself, which SQLite opens to fsync it. */
		*fd = fcntl(held_fd, F_DUPFD_CLOEXEC, 0);
		return 1;
	}
	if (strncmp(path, held_path, n) == 0 && path[n] == '/' &&
	    !strchr(path + n + 1, '/')) {
		*fd = openat(held_fd, path + n + 1,
			     flags | O_NOFOLLOW | O_CLOEXEC, mode);
		return 1;
	}
	if (base && strncmp(base + 1, "journal.db", 10) == 0) {
		errno = EACCES;
		*fd = -1;
		return 1;
	}
	return 0;
}

static int journal_sys_open(const char *path, int flags, int mode)
{
	int fd;

	if (!held_open(path, flags, mode, &fd))
		fd = real_open(path, flags, mode);

	if (fd >= 0)
		create_errno = 0;
	else if (flags & O_CREAT)
		create_errno = errno;
	return fd;
}

static void hook_open(void)
{
	static int done;
	sqlite3_vfs *vfs;

	if (done)
		return;
	done = 1;
	vfs = sqlite3_vfs_find("unix");
	if (!vfs || vfs->iVersion < 3 || !vfs->xGetSystemCall)
		return;
	real_open =
	    (int (*)(const char *, int, int))vfs->xGetSystemCall(vfs, "open");
	if (real_open)
		vfs->xSetSystemCall(vfs, "open",
				    (sqlite3_syscall_ptr)journal_sys_open);
}

/* The errno behind SQLite's last error when the disk caused it (full,
 * failing, a file it could not create), else 0.  SQLite says "database
 * or disk is full" or "disk I/O error"; ENOSPC, EIO, EDQUOT ... is what a
 * user acts on. */
static int db_errno(struct journal *j)
{
	int code = sqlite3_extended_errcode(j->db) & 0xff;
	int err = sqlite3_system_errno(j->db);

	if (code != SQLITE_IOERR && code != SQLITE_FULL &&
	    code != SQLITE_CANTOPEN)
		return 0;
	j->io_failed = 1;
	if (code == SQLITE_CANTOPEN && create_errno && (!err || err == ENOENT))
		err = create_errno;
	return err;
}

/* Sets e->sys_errno to ENOSPC when SQLite failed because a write found
 * the disk full (SQLITE_FULL): the transaction was rolled back, and
 * running it again once there is room is safe.  Every other failure,
 * an fsync's (SQLITE_IOERR_FSYNC) above all, gets 0: not to be
 * retried. */
static void db_retryable(struct journal *j, struct sp_err *e)
{
	if (e)
		e->sys_errno = (sqlite3_extended_errcode(j->db) & 0xff) ==
					       SQLITE_FULL
				       ? ENOSPC
				       : 0;
}

/* SQLite says "attempt to write a readonly database" whichever of the
 * journal's three files it could not write, and names none.  Appends to e
 * the one that is read-only for us, with the fix. */
static void readonly_hint(struct journal *j, struct sp_err *e)
{
	static const char *const sfx[] = {"", "-wal", "-shm"};
	char path[4096];
	struct stat st;
	size_t i, n;

	if (!e || (sqlite3_extended_errcode(j->db) & 0xff) != SQLITE_READONLY)
		return;
	for (i = 0; i < sizeof(sfx) / sizeof(*sfx); i++) {
		snprintf(path, sizeof(path), "%s%s", j->path, sfx[i]);
		if (lstat(path, &st) < 0 || faccessat(AT_FDCWD, path, W_OK,
						       AT_EACCESS) == 0)
			continue;
		n = strlen(e->msg);
		if (st.st_uid == geteuid())
			snprintf(e->msg + n, sizeof(e->msg) - n,
				 "\n  '%s' is not writable (mode %04o): "
				 "chmod u+w '%s'",
				 path, (unsigned)(st.st_mode & 07777), path);
		else
			snprintf(e->msg + n, sizeof(e->msg) - n,
				 "\n  '%s' belongs to uid %u, not to you: "
				 "chown %u '%s'",
				 path, (unsigned)st.st_uid,
				 (unsigned)geteuid(), path);
		/* The shared-memory index holds nothing the WAL does not:
		 * SQLite rebuilds it. */
		n = strlen(e->msg);
		if (i == 2)
			snprintf(e->msg + n, sizeof(e->msg) - n,
				 ", or remove it while no spoke runs");
		return;
	}
}

static int db_fail(struct journal *j, struct sp_err *e, const char *what)
{
	int err = db_errno(j);

	if (err)
		sp_err_set(e, "journal '%s': %s: %s (%s)", j->path, what,
			   sqlite3_errmsg(j->db), strerror(err));
	else
		sp_err_set(e, "journal '%s': %s: %s", j->path, what,
			   sqlite3_errmsg(j->db));
	readonly_hint(j, e);
	db_retryable(j, e);
	return -1;
}

static int exec_sql(struct journal *j, const char *sql, struct sp_err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(j->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int err = db_errno(j);
		const char *what = msg ? msg : sqlite3_errmsg(j->db);

		if (err)
			sp_err_set(e, "journal '%s': %s (%s)", j->path, what,
				   strerror(err));
		else
			sp_err_set(e, "journal '%s': %s", j->path, what);
		readonly_hint(j, e);
		db_retryable(j, e);
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

sqlite3 *jdb_handle(struct journal *j)
{
	return j->db;
}

int jdb_fail(struct journal *j, struct sp_err *e, const char *what)
{
	return db_fail(j, e, what);
}

int jdb_exec(struct journal *j, const char *sql, struct sp_err *e)
{
	return exec_sql(j, sql, e);
}

/* The prepared statement of sql, a string literal (its address is the
 * key), from the journal's cache: statements run once per artifact are
 * parsed once per process.  *slot says where it is, for stmt_put();
 * NULL with e set when it cannot be prepared. */
static sqlite3_stmt *stmt_get(struct journal *j, const char *sql, int *slot,
			      struct sp_err *e)
{
	sqlite3_stmt *st = NULL;
	int i;

	for (i = 0; i < STMT_CACHE && j->stmts[i].sql; i++)
		if (j->stmts[i].sql == sql) {
			*slot = i;
			return j->stmts[i].st;
		}
	if (sqlite3_prepare_v3(j->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
			       NULL) != SQLITE_OK) {
		db_fail(j, e, "cannot prepare statement");
		return NULL;
	}
	if (i < STMT_CACHE) {
		j->stmts[i].sql = sql;
		j->stmts[i].st = st;
	}
	*slot = i;
	return st;
}

/* Gives back a statement of stmt_get(): reset for its next use, or
 * finalized when the cache was full. */
static void stmt_put(sqlite3_stmt *st, int slot)
{
	if (slot < STMT_CACHE) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	} else {
		sqlite3_finalize(st);
	}
}

sqlite3_stmt *jdb_stmt_get(struct journal *j, const char *sql, int *slot,
			   struct sp_err *e)
{
	return stmt_get(j, sql, slot, e);
}

void jdb_stmt_put(sqlite3_stmt *st, int slot)
{
	stmt_put(st, slot);
}

/* Runs one statement with bound arguments as its own durable transaction.
 * fmt letters: 'i' int64, 's' text (NULL allowed). */
static int run(struct journal *j, struct sp_err *e, const char *sql,
	       const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int i, rc, slot;

	st = stmt_get(j, sql, &slot, e);
	if (!st)
		return -1;
	va_start(ap, fmt);
	for (i = 0; fmt[i]; i++) {
		if (fmt[i] == 'i') {
			sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
		} else {
			const char *s = va_arg(ap, const char *);

			if (s)
				sqlite3_bind_text(st, i + 1, s, -1,
						  SQLITE_TRANSIENT);
			else
				sqlite3_bind_null(st, i + 1);
		}
	}
	va_end(ap);
	/* Outside journal_begin(), each statement is an autocommit
	 * transaction: the commit, with its fsync, happens inside this
	 * step. */
	if (sqlite3_get_autocommit(j->db))
		fault_point("commit");
	rc = sqlite3_step(st);
	/* The error is the step's; reset repeats it, so it is read first. */
	if (rc != SQLITE_DONE)
		db_fail(j, e, "cannot write");
	stmt_put(st, slot);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int schema_version(struct journal *j, int *version, struct sp_err *e)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(j->db, "PRAGMA user_version", -1, &st, NULL) !=
		    SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return db_fail(j, e, "cannot read schema version");
	}
	*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

/* Switches a new journal to WAL.  Only the first switch needs the
 * exclusive lock, and SQLite returns SQLITE_BUSY at once, without its busy
 * handler, when another process opens the new file at the same moment:
 * retry for as long as the busy timeout would have waited. */
static int set_wal(struct journal *j, struct sp_err *e)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	int i;

	for (i = 0;; i++) {
		if (exec_sql(j, "PRAGMA journal_mode = WAL", e) == 0)
			return 0;
		if ((sqlite3_errcode(j->db) & 0xff) != SQLITE_BUSY || i >= 500)
			return -1;
		nanosleep(&ts, NULL);
	}
}

/* PRAGMA auto_vacuum on a journal that exists opens a write transaction,
 * which a reader (`spoke status`, `spoke log`, a read-only journal) must
 * not: only a journal with no page yet gets it. */
static int set_auto_vacuum(struct journal *j, struct sp_err *e)
{
	sqlite3_stmt *st = NULL;
	int pages;

	if (sqlite3_prepare_v2(j->db, "PRAGMA page_count", -1, &st, NULL) !=
		    SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return db_fail(j, e, "cannot read the page count");
	}
	pages = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return pages ? 0 : exec_sql(j, "PRAGMA auto_vacuum = INCREMENTAL", e);
}

static int migrate(struct journal *j, int *too_new, struct sp_err *e)
{
	int version = 0, n = (int)(sizeof(migrations) / sizeof(migrations[0]));
	char sql[64];

	if (schema_version(j, &version, e) < 0)
		return -1;
	if (version > n) {
		*too_new = 1;
		return sp_err_set(e,
				  "journal '%s' has schema version %d, newer "
				  "than this spoke understands (%d): use a "
				  "newer spoke",
				  j->path, version, n);
	}
	for (; version < n; version++) {
		if (exec_sql(j, "BEGIN IMMEDIATE", e) < 0)
			return -1;
		/* Another process (`spoke status` reads without the state
		 * directory's lock) may have migrated since we looked: read
		 * the version again under the write lock. */
		if (schema_version(j, &version, e) < 0) {
			exec_sql(j, "ROLLBACK", NULL);
			return -1;
		}
		if (version >= n) {
			exec_sql(j, "ROLLBACK", NULL);
			break;
		}
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
			 version + 1);
		if (exec_sql(j, migrations[version], e) < 0 ||
		    exec_sql(j, sql, e) < 0) {
			exec_sql(j, "ROLLBACK", NULL);
			return -1;
		}
		if (exec_sql(j, "COMMIT", e) < 0) {
			/* A commit that failed on I/O may leave the
			 * transaction open; SQLite asks for a rollback. */
			exec_sql(j, "ROLLBACK", NULL);
			return -1;
		}
	}
	return 0;
}

static int check_integrity(struct journal *j, struct sp_err *e)
{
	sqlite3_stmt *st = NULL;
	const char *res;
	int rc = -1;

	if (sqlite3_prepare_v2(j->db, "PRAGMA quick_check", -1, &st, NULL) !=
	    SQLITE_OK)
		return db_fail(j, e, "cannot check");
	if (sqlite3_step(st) != SQLITE_ROW) {
		db_fail(j, e, "cannot check");
		goto out;
	}
	res = (const char *)sqlite3_column_text(st, 0);
	if (!res || strcmp(res, "ok") != 0) {
		sp_err_set(e, "journal '%s': %s", j->path,
			   res ? res : "corrupt");
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

/*
 * SQLite creates journal.db-wal and journal.db-shm with the mode of
 * journal.db.  Opened while the journal was read-only (chmod a-w), it
 * leaves them read-only too, and once the journal's mode is fixed every
 * write still fails with "attempt to write a readonly database", naming
 * journal.db.  They are files spoke's SQLite made, so they get the
 * journal's mode back: only when the journal is writable by its owner,
 * for a regular file of the same owner, never through a symlink.  The
 * files stay otherwise untouched (the WAL may hold committed data).  A
 * mode change does not disturb another process that has them open.
 */
static void side_files_mode(int dirfd)
{
	static const char *const side[] = {"journal.db-wal", "journal.db-shm"};
	struct stat db, st;
	size_t i;
	int fd;

	if (fstatat(dirfd, "journal.db", &db, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(db.st_mode) || !(db.st_mode & S_IWUSR) ||
	    db.st_uid != geteuid())
		return;
	for (i = 0; i < sizeof(side) / sizeof(*side); i++) {
		fd = openat(dirfd, side[i],
			    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_uid == db.st_uid && !(st.st_mode & S_IWUSR))
			(void)fchmod(fd, db.st_mode & 0777);
		close(fd);
	}
}

struct journal *journal_open(const char *state_dir, struct sp_err *e)
{
	struct journal *j = calloc(1, sizeof(*j));
	int too_new = 0;

	if (!j) {
		sp_err_set(e, "out of memory");
		return NULL;
	}
	j->path = path_join(state_dir, "journal.db");
	if (!j->path) {
		sp_err_set(e, "out of memory");
		goto fail;
	}
	hook_open();
	{
		int dirfd = held_fd >= 0 && strcmp(state_dir, held_path) == 0
				    ? fcntl(held_fd, F_DUPFD_CLOEXEC, 0)
				    : open(state_dir, O_RDONLY | O_DIRECTORY |
							      O_NOFOLLOW |
							      O_CLOEXEC);

		if (dirfd >= 0) {
			side_files_mode(dirfd);
			close(dirfd);
		}
	}
	create_errno = 0;
	if (sqlite3_open_v2(j->path, &j->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_NOFOLLOW,
			    NULL) != SQLITE_OK) {
		db_fail(j, e, "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(j->db, 5000);
	/* A new journal is made able to give pages back (prune.c) from its
	 * first page on: switching to WAL writes that page, so this comes
	 * first.  On an existing journal it changes nothing; an older one is
	 * converted once by journal_vacuum_convert(). */
	if (set_auto_vacuum(j, e) < 0)
		goto unusable;
	/* WAL with synchronous=FULL: a commit returns only after the WAL is
	 * fsynced, so an intent is on disk before the move it announces. */
	if (set_wal(j, e) < 0 ||
	    exec_sql(j, "PRAGMA synchronous = FULL", e) < 0 ||
	    exec_sql(j, "PRAGMA foreign_keys = ON", e) < 0 ||
	    check_integrity(j, e) < 0)
		goto unusable;
	if (migrate(j, &too_new, e) < 0) {
		/* A newer spoke's journal is fine: it needs that spoke. */
		if (too_new)
			goto fail;
		goto unusable;
	}
	return j;
unusable:
	{
		char cause[sizeof(e->msg)];
		int dir_len = (int)(strlen(j->path) - strlen("/journal.db"));

		memcpy(cause, e->msg, sizeof(cause));
		/* The disk failed, not the journal: moving it aside would
		 * throw away a record that is fine. */
		if (j->io_failed) {
			sp_err_set(e,
				   "%s\n  spoke changed nothing: staged cargo "
				   "outputs stay under '%.*s/staged'.\n  Free "
				   "space or fix the disk, then run 'spoke "
				   "recover' again.",
				   cause, dir_len, j->path);
			goto fail;
		}
		sp_err_set(e,
			   "%s\n  spoke changed nothing: staged cargo outputs "
			   "stay under '%.*s/staged'.\n  Move the journal "
			   "aside (mv '%s' '%s.broken') and run 'spoke "
			   "recover' again; README, 'Recovering without the "
			   "journal', says how to put back what it held.",
			   cause, dir_len, j->path, j->path, j->path);
	}
fail:
	journal_close(j);
	return NULL;
}

void journal_close(struct journal *j)
{
	size_t i;

	if (!j)
		return;
	for (i = 0; i < STMT_CACHE && j->stmts[i].sql; i++)
		sqlite3_finalize(j->stmts[i].st);
	sqlite3_close(j->db);
	free(j->path);
	free(j);
}

int journal_begin(struct journal *j, struct sp_err *e)
{
	return exec_sql(j, "BEGIN IMMEDIATE", e);
}

int journal_commit(struct journal *j, struct sp_err *e)
{
	fault_point("commit");
	if (exec_sql(j, "COMMIT", e) < 0) {
		exec_sql(j, "ROLLBACK", NULL);
		return -1;
	}
	return 0;
}

void journal_rollback(struct journal *j)
{
	if (!sqlite3_get_autocommit(j->db))
		exec_sql(j, "ROLLBACK", NULL);
}

const char *journal_path(const struct journal *j)
{
	return j->path;
}

int journal_build_begin(struct journal *j, const char *client,
			int64_t *build_id, struct sp_err *e)
{
	if (run(j, e,
		"INSERT INTO builds (client, started_ns, state) "
		"VALUES (?, ?, 'running')",
		"si", client, now_ns()) < 0)
		return -1;
	*build_id = sqlite3_last_insert_rowid(j->db);
	return 0;
}

int journal_build_end(struct journal *j, int64_t build_id, int ok,
		      const char *error, struct sp_err *e)
{
	return run(j, e,
		   "UPDATE builds SET state = ?, ended_ns = ?, error = ? "
		   "WHERE id = ?",
		   "sisi", ok ? "succeeded" : "failed", now_ns(), error,
		   build_id);
}

int journal_builds_interrupt(struct journal *j, struct sp_err *e)
{
	return run(j, e,
		   "UPDATE builds SET state = 'interrupted', ended_ns = ? "
		   "WHERE state = 'running'",
		   "i", now_ns());
}

int journal_artifact_intent(struct journal *j, int64_t build_id,
			    const char *cargo_path, const char *staged_path,
			    const char *mode, const struct fsx_ident *id,
			    int64_t *artifact_id, struct sp_err *e)
{
	if (run(j, e,
		"INSERT INTO artifacts (build_id, cargo_path, staged_path, "
		"mode, dev, ino, size, mtime_ns, state, updated_ns) "
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'staging', ?)",
		"isssiiiii", build_id, cargo_path, staged_path, mode,
		(int64_t)id->dev, (int64_t)id->ino, id->size, id->mtime_ns,
		now_ns()) < 0)
		return -1;
	*artifact_id = sqlite3_last_insert_rowid(j->db);
	return 0;
}

int journal_artifact_mode(struct journal *j, int64_t artifact_id,
			  const char *mode, struct sp_err *e)
{
	return run(j, e,
		   "UPDATE artifacts SET mode = ?, updated_ns = ? WHERE id = ?",
		   "sii", mode, now_ns(), artifact_id);
}

static int set_state(struct journal *j, int64_t id, const char *state,
		     const char *note, struct sp_err *e)
{
	return run(j, e,
		   "UPDATE artifacts SET state = ?, note = coalesce(?, note), "
		   "updated_ns = ? WHERE id = ?",
		   "ssii", state, note, now_ns(), id);
}

int journal_artifact_staged(struct journal *j, int64_t artifact_id,
			    struct sp_err *e)
{
	return set_state(j, artifact_id, "staged", NULL, e);
}

int journal_artifact_patch(struct journal *j, int64_t artifact_id,
			   const char *patch, struct sp_err *e)
{
	return run(j, e,
		   "UPDATE artifacts SET patch = ?, updated_ns = ? WHERE id = ?",
		   "sii", patch, now_ns(), artifact_id);
}

int journal_artifact_restoring(struct journal *j, int64_t artifact_id,
			       struct sp_err *e)
{
	return set_state(j, artifact_id, "restoring", NULL, e);
}

int journal_artifact_settle(struct journal *j, int64_t artifact_id,
			    const char *state, const char *note,
			    struct sp_err *e)
{
	if (strcmp(state, "restored") && strcmp(state, "kept_cargo") &&
	    strcmp(state, "quarantined") && strcmp(state, "lost"))
		SP_BUG("bad settled state '%s'", state);
	return set_state(j, artifact_id, state, note, e);
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return strdup(s ? (const char *)s : "");
}

static void col_copy(sqlite3_stmt *st, int i, char *dst, size_t n)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	snprintf(dst, n, "%s", s ? (const char *)s : "");
}

/*
 * The one row reader: steps the prepared statement st to its end, growing
 * an array of elements of size bytes and filling each (zeroed first) with
 * fill(st, element), then finalizes st.  fill returns -1 when memory runs
 * out; the element is then released with the others.  On success *out (the
 * caller's) and *n are set; on failure the rows read so far are released
 * with drop, *out is NULL, and -1 is returned with e saying so (failed:
 * "cannot read artifacts") or that memory ran out.
 */
static int read_rows(struct journal *j, sqlite3_stmt *st, size_t size,
		     int (*fill)(sqlite3_stmt *st, void *row),
		     void (*drop)(void *rows, size_t n), const char *failed,
		     void **out, size_t *n, struct sp_err *e)
{
	char *rows = NULL;
	size_t cnt = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		void *row;

		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			char *nr = realloc(rows, ncap * size);

			if (!nr) {
				sp_err_set(e, "out of memory");
				goto fail;
			}
			rows = nr;
			cap = ncap;
		}
		row = rows + cnt++ * size;
		memset(row, 0, size);
		if (fill(st, row) < 0) {
			sp_err_set(e, "out of memory");
			goto fail;
		}
	}
	if (rc != SQLITE_DONE) {
		db_fail(j, e, failed);
		goto fail;
	}
	sqlite3_finalize(st);
	*out = rows;
	*n = cnt;
	return 0;
fail:
	sqlite3_finalize(st);
	drop(rows, cnt);
	return -1;
}

#define ARTIFACT_COLUMNS                                                      \
	"SELECT id, build_id, cargo_path, staged_path, mode, patch, state, "  \
	"dev, ino, size, mtime_ns FROM artifacts "

/* One row of an ARTIFACT_COLUMNS query. */
static int fill_artifact(sqlite3_stmt *st, void *row)
{
	struct journal_artifact *x = row;

	x->id = sqlite3_column_int64(st, 0);
	x->build_id = sqlite3_column_int64(st, 1);
	x->cargo_path = col_dup(st, 2);
	x->staged_path = col_dup(st, 3);
	col_copy(st, 4, x->mode, sizeof(x->mode));
	col_copy(st, 5, x->patch, sizeof(x->patch));
	col_copy(st, 6, x->state, sizeof(x->state));
	x->ident.dev = (uint64_t)sqlite3_column_int64(st, 7);
	x->ident.ino = (uint64_t)sqlite3_column_int64(st, 8);
	x->ident.size = sqlite3_column_int64(st, 9);
	x->ident.mtime_ns = sqlite3_column_int64(st, 10);
	return x->cargo_path && x->staged_path ? 0 : -1;
}

static void drop_artifacts(void *rows, size_t n)
{
	journal_artifacts_free(rows, n);
}

/* Reads every row of a prepared ARTIFACT_COLUMNS query, finalizing it. */
static int read_artifacts(struct journal *j, sqlite3_stmt *st,
			  struct journal_artifact **out, size_t *n,
			  struct sp_err *e)
{
	void *rows;
	int rc = read_rows(j, st, sizeof(**out), fill_artifact,
			   drop_artifacts, "cannot read artifacts", &rows, n, e);

	*out = rows;
	return rc;
}

int journal_unsettled_artifacts(struct journal *j, int64_t build_id,
				struct journal_artifact **out, size_t *n,
				struct sp_err *e)
{
	sqlite3_stmt *st = NULL;

	*out = NULL;
	*n = 0;
	/* Not one statement with "?1 = 0 OR build_id = ?1": the OR hides
	 * build_id from SQLite's planner, which then reads every row the
	 * journal keeps, at each build's end. */
	if (sqlite3_prepare_v2(
		    j->db,
		    build_id
			? ARTIFACT_COLUMNS
			  "WHERE build_id = ?1 AND state IN ('staging', "
			  "'staged', 'restoring') ORDER BY id"
			: ARTIFACT_COLUMNS
			  "WHERE state IN ('staging', 'staged', 'restoring') "
			  "ORDER BY id",
		    -1, &st, NULL) != SQLITE_OK)
		return db_fail(j, e, "cannot prepare query");
	if (build_id)
		sqlite3_bind_int64(st, 1, build_id);
	return read_artifacts(j, st, out, n, e);
}

int journal_get_artifact(struct journal *j, int64_t artifact_id,
			 struct journal_artifact **out, struct sp_err *e)
{
	sqlite3_stmt *st = NULL;
	size_t n = 0;

	*out = NULL;
	if (sqlite3_prepare_v2(j->db, ARTIFACT_COLUMNS "WHERE id = ?", -1, &st,
			       NULL) != SQLITE_OK)
		return db_fail(j, e, "cannot prepare query");
	sqlite3_bind_int64(st, 1, artifact_id);
	if (read_artifacts(j, st, out, &n, e) < 0)
		return -1;
	if (n != 1) {
		journal_artifacts_free(*out, n);
		*out = NULL;
		return sp_err_set(e, "journal '%s': no artifact %lld", j->path,
				  (long long)artifact_id);
	}
	return 0;
}

void journal_artifacts_free(struct journal_artifact *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(a[i].cargo_path);
		free(a[i].staged_path);
	}
	free(a);
}

int journal_cargo_path_busy(struct journal *j, const char *cargo_path,
			    struct sp_err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(j->db,
			       "SELECT 1 FROM artifacts WHERE cargo_path = ? "
			       "AND state IN ('staging', 'staged', "
			       "'restoring') LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(j, e, "cannot prepare query");
	sqlite3_bind_text(st, 1, cargo_path, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return db_fail(j, e, "cannot read artifacts");
}

/* One row of the losses query. */
static int fill_loss(sqlite3_stmt *st, void *row)
{
	struct journal_loss *x = row;

	x->id = sqlite3_column_int64(st, 0);
	x->build_id = sqlite3_column_int64(st, 1);
	x->cargo_path = col_dup(st, 2);
	x->staged_path = col_dup(st, 3);
	col_copy(st, 4, x->state, sizeof(x->state));
	x->note = col_dup(st, 5);
	return x->cargo_path && x->staged_path && x->note ? 0 : -1;
}

static void drop_losses(void *rows, size_t n)
{
	journal_losses_free(rows, n);
}

int journal_losses(struct journal *j, struct journal_loss **out, size_t *n,
		   struct sp_err *e)
{
	sqlite3_stmt *st = NULL;
	void *rows;
	int rc;

	*out = NULL;
	*n = 0;
	/* A later row of the same cargo output means spoke staged it again:
	 * it was back at its path then, whatever happened since. */
	if (sqlite3_prepare_v2(
		    j->db,
		    "SELECT a.id, a.build_id, a.cargo_path, a.staged_path, "
		    "a.state, a.note FROM artifacts a "
		    "WHERE a.state IN ('lost', 'quarantined') "
		    "AND a.resolution IS NULL AND NOT EXISTS (SELECT 1 FROM "
		    "artifacts b WHERE b.cargo_path = a.cargo_path "
		    "AND b.id > a.id) ORDER BY a.id",
		    -1, &st, NULL) != SQLITE_OK)
		return db_fail(j, e, "cannot prepare query");
	rc = read_rows(j, st, sizeof(**out), fill_loss, drop_losses,
		       "cannot read artifacts", &rows, n, e);
	*out = rows;
	return rc;
}

void journal_losses_free(struct journal_loss *l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(l[i].cargo_path);
		free(l[i].staged_path);
		free(l[i].note);
	}
	free(l);
}

int journal_loss_resolve(struct journal *j, const char *cargo_path,
			 const char *how, struct sp_err *e)
{
	if (strcmp(how, "forgotten") && strcmp(how, "reappeared"))
		SP_BUG("bad resolution '%s'", how);
	return run(j, e,
		   "UPDATE artifacts SET resolution = ?, resolved_ns = ? "
		   "WHERE cargo_path = ? AND state IN ('lost', 'quarantined') "
		   "AND resolution IS NULL",
		   "sis", how, now_ns(), cargo_path);
}

int journal_wheel_intent(struct journal *j, int64_t build_id,
			 int64_t artifact_id, const char *tmp_path,
			 const char *final_path, int64_t *wheel_id,
			 struct sp_err *e)
{
	if (run(j, e,
		"INSERT INTO wheels (build_id, artifact_id, tmp_path, "
		"final_path, state, updated_ns) "
		"VALUES (?, ?, ?, ?, 'writing', ?)",
		"iissi", build_id, artifact_id, tmp_path, final_path,
		now_ns()) < 0)
		return -1;
	*wheel_id = sqlite3_last_insert_rowid(j->db);
	return 0;
}

int journal_wheel_compile(struct journal *j, int64_t wheel_id,
			  int64_t compile_ns, struct sp_err *e)
{
	return run(j, e, "UPDATE wheels SET compile_ns = ? WHERE id = ?", "ii",
		   compile_ns, wheel_id);
}

int journal_wheel_final(struct journal *j, int64_t wheel_id,
			const char *final_path, struct sp_err *e)
{
	return run(j, e,
		   "UPDATE wheels SET final_path = ?, updated_ns = ? "
		   "WHERE id = ?",
		   "sii", final_path, now_ns(), wheel_id);
}

int journal_wheel_renaming(struct journal *j, int64_t wheel_id,
			   struct sp_err *e)
{
	return run(j, e,
		   "UPDATE wheels SET state = 'renaming', updated_ns = ? "
		   "WHERE id = ?",
		   "ii", now_ns(), wheel_id);
}

int journal_wheel_done(struct journal *j, int64_t wheel_id, int64_t size,
		       const char *sha256, int64_t t_ns, struct sp_err *e)
{
	return run(j, e,
		   "UPDATE wheels SET state = 'done', size = ?, sha256 = ?, "
		   "updated_ns = ? WHERE id = ?",
		   "isii", size, sha256, t_ns ? t_ns : now_ns(), wheel_id);
}

int journal_wheel_abandon(struct journal *j, int64_t wheel_id,
			  const char *error, struct sp_err *e)
{
	return run(j, e,
		   "UPDATE wheels SET state = 'abandoned', error = ?, "
		   "updated_ns = ? WHERE id = ?",
		   "sii", error, now_ns(), wheel_id);
}

int journal_wheel_reused(struct journal *j, int64_t build_id,
			 const char *final_path, int64_t size,
			 const char *sha256, struct sp_err *e)
{
	/* No temporary: nothing is written, so replay has nothing to
	 * settle ("done" from the start). */
	return run(j, e,
		   "INSERT INTO wheels (build_id, tmp_path, final_path, state, "
		   "size, sha256, reused, updated_ns) "
		   "VALUES (?, '', ?, 'done', ?, ?, 1, ?)",
		   "isisi", build_id, final_path, size, sha256, now_ns());
}

int journal_reuse_put(struct journal *j, const struct journal_reuse *r,
		      struct sp_err *e)
{
	/* A wheel path holds one wheel: a row of another digest for the
	 * same path describes a file that is gone. */
	if (run(j, e, "DELETE FROM reuse WHERE final_path = ? AND digest != ?",
		"ss", r->final_path, r->digest) < 0)
		return -1;
	return run(j, e,
		   "INSERT OR REPLACE INTO reuse (digest, final_path, dev, "
		   "ino, size, mtime_ns, ctime_ns, sha256, found, result, "
		   "repair, build_id, updated_ns) "
		   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		   "ssiiiiissssii", r->digest, r->final_path,
		   (int64_t)r->ident.dev, (int64_t)r->ident.ino, r->ident.size,
		   r->ident.mtime_ns, r->ctime_ns, r->sha256, r->found,
		   r->result, r->repair, r->build_id, now_ns());
}

int journal_reuse_get(struct journal *j, const char *digest,
		      struct journal_reuse *out, struct sp_err *e)
{
	sqlite3_stmt *st;
	int rc, slot, has_repair;

	memset(out, 0, sizeof(*out));
	/* Asked once per artifact of every build: cached. */
	st = stmt_get(j,
		      "SELECT final_path, dev, ino, size, mtime_ns, "
		      "ctime_ns, sha256, found, result, repair, build_id, "
		      "art_ctime_ns FROM reuse WHERE digest = ?",
		      &slot, e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, digest, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		stmt_put(st, slot);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		db_fail(j, e, "cannot read the reuse table");
		stmt_put(st, slot);
		return -1;
	}
	snprintf(out->digest, sizeof(out->digest), "%s", digest);
	out->final_path = col_dup(st, 0);
	out->ident.dev = (uint64_t)sqlite3_column_int64(st, 1);
	out->ident.ino = (uint64_t)sqlite3_column_int64(st, 2);
	out->ident.size = sqlite3_column_int64(st, 3);
	out->ident.mtime_ns = sqlite3_column_int64(st, 4);
	out->ctime_ns = sqlite3_column_int64(st, 5);
	col_copy(st, 6, out->sha256, sizeof(out->sha256));
	out->found = col_dup(st, 7);
	out->result = col_dup(st, 8);
	has_repair = sqlite3_column_type(st, 9) != SQLITE_NULL;
	out->repair = has_repair ? col_dup(st, 9) : NULL;
	out->build_id = sqlite3_column_int64(st, 10);
	out->has_art_ctime = sqlite3_column_type(st, 11) != SQLITE_NULL;
	out->art_ctime_ns = sqlite3_column_int64(st, 11);
	stmt_put(st, slot);
	if (!out->final_path || !out->found || !out->result ||
	    (has_repair && !out->repair)) {
		journal_reuse_release(out);
		return sp_err_set(e, "out of memory");
	}
	return 1;
}

int journal_reuse_touch(struct journal *j, const char *digest,
			int64_t build_id, struct sp_err *e)
{
	return run(j, e,
		   "UPDATE reuse SET build_id = ?, updated_ns = ? "
		   "WHERE digest = ?",
		   "iis", build_id, now_ns(), digest);
}

int journal_reuse_art_ctime(struct journal *j, const char *digest,
			    int64_t build_id, const struct fsx_ident *art,
			    int64_t before_ns, int64_t after_ns,
			    struct sp_err *e)
{
	/* The rows of other digests made from the same file as it was
	 * before this build staged it: only the staging changed it. */
	if (run(j, e,
		"UPDATE reuse SET art_ctime_ns = ? WHERE art_ino = ? AND "
		"art_dev = ? AND art_size = ? AND art_mtime_ns = ? AND "
		"art_ctime_ns = ?",
		"iiiiii", after_ns, (int64_t)art->ino, (int64_t)art->dev,
		art->size, art->mtime_ns, before_ns) < 0)
		return -1;
	return run(j, e,
		   "UPDATE reuse SET art_dev = ?, art_ino = ?, art_size = ?, "
		   "art_mtime_ns = ?, art_ctime_ns = ? "
		   "WHERE digest = ? AND build_id = ? AND art_ctime_ns IS NULL",
		   "iiiiisi", (int64_t)art->dev, (int64_t)art->ino, art->size,
		   art->mtime_ns, after_ns, digest, build_id);
}

void journal_reuse_release(struct journal_reuse *r)
{
	free(r->final_path);
	free(r->found);
	free(r->result);
	free(r->repair);
	memset(r, 0, sizeof(*r));
}

/* One row of the wheels query. */
static int fill_wheel(sqlite3_stmt *st, void *row)
{
	struct journal_wheel *x = row;

	x->id = sqlite3_column_int64(st, 0);
	x->build_id = sqlite3_column_int64(st, 1);
	x->tmp_path = col_dup(st, 2);
	x->final_path = col_dup(st, 3);
	col_copy(st, 4, x->state, sizeof(x->state));
	return x->tmp_path && x->final_path ? 0 : -1;
}

static void drop_wheels(void *rows, size_t n)
{
	journal_wheels_free(rows, n);
}

int journal_unsettled_wheels(struct journal *j, int64_t build_id,
			     struct journal_wheel **out, size_t *n,
			     struct sp_err *e)
{
	sqlite3_stmt *st = NULL;
	void *rows;
	int rc;

	*out = NULL;
	*n = 0;
	/* One build's by its index, as journal_unsettled_artifacts(). */
	if (sqlite3_prepare_v2(j->db,
			       build_id
				   ? "SELECT id, build_id, tmp_path, "
				     "final_path, state FROM wheels WHERE "
				     "build_id = ?1 AND state IN ('writing', "
				     "'renaming') ORDER BY id"
				   : "SELECT id, build_id, tmp_path, "
				     "final_path, state FROM wheels WHERE "
				     "state IN ('writing', 'renaming') "
				     "ORDER BY id",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(j, e, "cannot prepare query");
	if (build_id)
		sqlite3_bind_int64(st, 1, build_id);
	rc = read_rows(j, st, sizeof(**out), fill_wheel, drop_wheels,
		       "cannot read wheels", &rows, n, e);
	*out = rows;
	return rc;
}

void journal_wheels_free(struct journal_wheel *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(w[i].tmp_path);
		free(w[i].final_path);
	}
	free(w);
}

json_t *journal_status(struct journal *j, struct sp_err *e)
{
	sqlite3_stmt *st = NULL;
	json_t *arr = json_array();
	int rc;

	if (!arr) {
		sp_err_set(e, "out of memory");
		return NULL;
	}
	if (sqlite3_prepare_v2(
		    j->db,
		    "SELECT a.id, a.build_id, a.cargo_path, a.staged_path, "
		    "a.mode, a.state, a.patch, b.state FROM artifacts a "
		    "JOIN builds b ON b.id = a.build_id "
		    "WHERE a.state IN ('staging', 'staged', 'restoring') "
		    "ORDER BY a.id",
		    -1, &st, NULL) != SQLITE_OK) {
		json_decref(arr);
		db_fail(j, e, "cannot prepare query");
		return NULL;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_array_append_new(
			arr,
			json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:s}",
				  "artifact", (json_int_t)sqlite3_column_int64(st, 0),
				  "build", (json_int_t)sqlite3_column_int64(st, 1),
				  "cargo_path", sqlite3_column_text(st, 2),
				  "staged_path", sqlite3_column_text(st, 3),
				  "mode", sqlite3_column_text(st, 4),
				  "state", sqlite3_column_text(st, 5),
				  "patch", sqlite3_column_text(st, 6),
				  "build_state", sqlite3_column_text(st, 7)));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		db_fail(j, e, "cannot read artifacts");
		return NULL;
	}
	return arr;
}

/* The error for a build id the journal has no row of.  Ids only grow
 * and pruning never deletes the newest build, so an id below the newest
 * was a build, deleted since (prune.h). */
static json_t *no_build(struct journal *j, int64_t build_id, struct sp_err *e)
{
	sqlite3_stmt *st = NULL;
	int64_t newest = 0;

	if (sqlite3_prepare_v2(j->db, "SELECT coalesce(max(id), 0) FROM builds",
			       -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		newest = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (build_id < newest)
		sp_err_set(e,
			   "build %lld was pruned from journal '%s': it keeps "
			   "the last builds (spoke serve --keep-builds N, "
			   "default 100), and the newest is %lld",
			   (long long)build_id, j->path, (long long)newest);
	else
		sp_err_set(e, "no build %lld in journal '%s'",
			   (long long)build_id, j->path);
	return NULL;
}

json_t *journal_log(struct journal *j, int64_t build_id, struct sp_err *e)
{
	sqlite3_stmt *st = NULL;
	json_t *res = NULL, *events;
	int rc;

	if (build_id <= 0) {
		/* The newest build that has ended. */
		if (sqlite3_prepare_v2(j->db,
				       "SELECT coalesce(max(id), 0) FROM builds "
				       "WHERE state != 'running'",
				       -1, &st, NULL) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_ROW) {
			sqlite3_finalize(st);
			db_fail(j, e, "cannot read builds");
			return NULL;
		}
		build_id = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		if (build_id == 0) {
			sp_err_set(e, "journal '%s' has no finished build",
				   j->path);
			return NULL;
		}
	}
	if (sqlite3_prepare_v2(j->db,
			       "SELECT state, started_ns, ended_ns, error, "
			       "client FROM builds WHERE id = ?",
			       -1, &st, NULL) != SQLITE_OK)
		goto dbfail;
	sqlite3_bind_int64(st, 1, build_id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			goto dbfail;
		return no_build(j, build_id, e);
	}
	res = json_pack("{s:I,s:s,s:I}", "build", (json_int_t)build_id,
			"state", (const char *)sqlite3_column_text(st, 0),
			"started_ns", (json_int_t)sqlite3_column_int64(st, 1));
	if (sqlite3_column_type(st, 2) != SQLITE_NULL)
		json_object_set_new(res, "ended_ns",
				    json_integer(sqlite3_column_int64(st, 2)));
	if (sqlite3_column_type(st, 3) != SQLITE_NULL)
		json_object_set_new(
			res, "error",
			json_string((const char *)sqlite3_column_text(st, 3)));
	sqlite3_finalize(st);
	events = json_array();
	json_object_set_new(res, "events", events);
	if (sqlite3_prepare_v2(
		    j->db,
		    "SELECT e.t_ns, e.kind, e.artifact_id, a.cargo_path, "
		    "w.final_path FROM events e "
		    "LEFT JOIN artifacts a ON a.id = e.artifact_id "
		    "AND a.build_id = e.build_id "
		    "LEFT JOIN wheels w ON w.id = e.wheel_id "
		    "AND w.build_id = e.build_id "
		    "WHERE e.build_id = ? ORDER BY e.id",
		    -1, &st, NULL) != SQLITE_OK)
		goto dbfail;
	sqlite3_bind_int64(st, 1, build_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *ev = json_pack(
			"{s:I,s:s}", "t_ns",
			(json_int_t)sqlite3_column_int64(st, 0), "kind",
			(const char *)sqlite3_column_text(st, 1));

		if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
			json_object_set_new(
				ev, "artifact",
				json_integer(sqlite3_column_int64(st, 2)));
			json_object_set_new(ev, "cargo_path",
					    json_string((const char *)
							sqlite3_column_text(st,
									    3)));
		}
		if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			json_object_set_new(ev, "wheel",
					    json_string((const char *)
							sqlite3_column_text(st,
									    4)));
		json_array_append_new(events, ev);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto dbfail_res;
	/* Every build has at least its "build running" event: none left
	 * means its timeline was pruned, and the row stays only for what
	 * recovery or `spoke status` still needs of it. */
	if (json_array_size(events) == 0)
		json_object_set_new(res, "pruned", json_true());
	return res;
dbfail:
	sqlite3_finalize(st);
dbfail_res:
	json_decref(res);
	db_fail(j, e, "cannot read the build's events");
	return NULL;
}

json_t *journal_wheel_times(struct journal *j, struct sp_err *e)
{
	sqlite3_stmt *st = NULL;
	json_t *compile = NULL, *v;
	const char *key;
	json_t *res = json_object();
	int rc;

	if (!res) {
		sp_err_set(e, "out of memory");
		return NULL;
	}
	/* Oldest first, so that each cargo output's newest wheel is the
	 * one left.  The build_id terms let events_build serve the joins. */
	if (sqlite3_prepare_v2(
		    j->db,
		    "SELECT a.cargo_path, d.t_ns - s.t_ns FROM wheels w "
		    "JOIN artifacts a ON a.id = w.artifact_id "
		    "JOIN events s ON s.build_id = w.build_id AND "
		    "  s.wheel_id = w.id AND s.kind = 'wheel writing' "
		    "JOIN events d ON d.build_id = w.build_id AND "
		    "  d.wheel_id = w.id AND d.kind = 'wheel done' "
		    "WHERE w.state = 'done' ORDER BY w.id",
		    -1, &st, NULL) != SQLITE_OK)
		goto dbfail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(st, 0);
		int64_t ns = sqlite3_column_int64(st, 1);

		if (path &&
		    json_object_set_new(res, path,
					json_real(ns > 0 ? (double)ns / 1e9
							 : 0)) < 0) {
			sqlite3_finalize(st);
			json_decref(res);
			sp_err_set(e, "out of memory");
			return NULL;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE)
		goto dbfail;
	/* Plus the newest compile time cargo spent on it: a build where
	 * cargo had nothing to compile leaves the last one standing. */
	if (sqlite3_prepare_v2(
		j->db,
		"SELECT a.cargo_path, w.compile_ns FROM wheels w "
		"JOIN artifacts a ON a.id = w.artifact_id "
		"WHERE w.state = 'done' AND w.compile_ns > 0 "
		"ORDER BY w.id",
		-1, &st, NULL) != SQLITE_OK)
		goto dbfail;
	compile = json_object();
	if (!compile)
		goto oom;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(st, 0);

		if (path && json_object_set_new(
				compile, path,
				json_real((double)sqlite3_column_int64(st, 1) /
					  1e9)) < 0)
			goto oom;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE)
		goto dbfail;
	json_object_foreach(res, key, v)
	{
		json_t *c = json_object_get(compile, key);

		if (c && json_real_set(v, json_real_value(v) +
					      json_real_value(c)) < 0)
			goto oom;
	}
	json_decref(compile);
	return res;
oom:
	sqlite3_finalize(st);
	json_decref(compile);
	json_decref(res);
	sp_err_set(e, "out of memory");
	return NULL;
dbfail:
	sqlite3_finalize(st);
	json_decref(compile);
	json_decref(res);
	db_fail(j, e, "cannot read the wheels' times");
	return NULL;
}

int journal_backup(struct journal *j, const char *dest_path,
		   struct sp_err *e)
{
	sqlite3 *dest = NULL;
	sqlite3_backup *b;
	int rc, tries = 0;

	rc = sqlite3_open_v2(dest_path, &dest,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		sp_err_set(e, "cannot create '%s': %s", dest_path,
			   dest ? sqlite3_errmsg(dest) : sqlite3_errstr(rc));
		sqlite3_close(dest);
		return -1;
	}
	b = sqlite3_backup_init(dest, "main", j->db, "main");
	if (!b) {
		sp_err_set(e, "cannot copy the journal '%s' to '%s': %s",
			   j->path, dest_path, sqlite3_errmsg(dest));
		sqlite3_close(dest);
		return -1;
	}
	/* A writer holding the journal makes a step busy: wait, as the
	 * coordinator's own transactions are short. */
	do {
		rc = sqlite3_backup_step(b, 256);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
			sqlite3_sleep(20);
			tries++;
		}
	} while ((rc == SQLITE_OK || rc == SQLITE_BUSY ||
		  rc == SQLITE_LOCKED) && tries < 500);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		sp_err_set(e, "cannot copy the journal '%s' to '%s': %s",
			   j->path, dest_path, sqlite3_errstr(rc));
		sqlite3_close(dest);
		return -1;
	}
	if (sqlite3_close(dest) != SQLITE_OK)
		return sp_err_set(e, "cannot close '%s'", dest_path);
	return 0;
}
