/*
 * cmd_bundle.c - spoke bundle: what a bug report needs, in one file.
 *
 * A tar (pax) archive compressed with zstd, holding:
 *   summary.json      spoke's version, cargo's and python3's, uname, the
 *                     target directory's filesystem type, and a few
 *                     environment variables from an allow list (never the
 *                     whole environment: it may hold secrets)
 *   journal.db        a consistent copy of the journal (journal_backup)
 *   builds.json       the timelines (journal_log) of the newest builds
 *   coordinator.log   the coordinator's log, its last 4 MiB at most
 * `spoke bundle --read FILE` lists the members and prints the summary,
 * reading every byte so that a truncated bundle is reported.
 */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/opts.h"
#include "cli/project/proc.h"
#include "cli/where.h"
#include "common/esc.h"
#include "common/dirs.h"
#include "common/fsx.h"
#include "common/path.h"
#include "common/tmpfile.h"
#include "journal/journal.h"

#define BUNDLE_BUILDS 5
#define BUNDLE_LOG_MAX (4u << 20)

static const char bundle_help[] =
	"usage: spoke bundle -o FILE.tar.zst [options]\n"
	"       spoke bundle --read FILE.tar.zst\n"
	"\n"
	"Collects what a bug report about spoke needs into one zstd-compressed\n"
	"tar file: a consistent copy of the journal (taken while builds may\n"
	"run), the coordinator's log, the timelines of the newest builds, and\n"
	"a summary of the environment: spoke, cargo and python3 versions,\n"
	"uname, the target directory's filesystem, and only these variables:\n"
	"CARGO_TARGET_DIR, CARGO_BUILD_TARGET, RUSTUP_TOOLCHAIN,\n"
	"SOURCE_DATE_EPOCH.  Nothing else of the environment is included.\n"
	"\n"
	"options:\n"
	"  -o, --output FILE       the bundle to write (must not exist)\n"
	"  --read FILE             list a bundle's members and print its\n"
	"                          summary\n"
	"  --state-dir DIR         the state directory (default\n"
	"                          <target>/spoke)\n"
	"  --target-dir DIR        cargo's target directory\n"
	"  --manifest-path PATH    the workspace's Cargo.toml\n"
	"\n"
	"exit status: 0 written (or read); 1 failed (a truncated or corrupt\n"
	"bundle, no state directory); 2 usage error.\n";

static const char *const env_allow[] = {
	"CARGO_TARGET_DIR",
	"CARGO_BUILD_TARGET",
	"RUSTUP_TOOLCHAIN",
	"SOURCE_DATE_EPOCH",
};

/* The first line a tool prints for --version, or null when it cannot
 * be run: a summary is still useful without it. */
static json_t *tool_version(const char *tool)
{
	const char *argv[] = {tool, "--version", NULL};
	struct proc p;
	struct sp_err e;
	char *out = NULL;
	size_t len = 0;
	int code = -1;
	json_t *v = json_null();

	if (proc_spawn(&p, argv, NULL, PROC_PIPE_STDOUT, &e) < 0)
		return v;
	if (proc_collect(&p, &out, &len, NULL, NULL, &e) == 0 &&
	    proc_wait(&p, &code, &e) == 0 && code == 0 && out) {
		out[strcspn(out, "\n")] = '\0';
		json_decref(v);
		v = json_string(out);
	}
	proc_release(&p);
	free(out);
	return v;
}

/* The filesystem names that matter for spoke's renames and links. */
static const char *fs_name(long type)
{
	static const struct {
		long magic;
		const char *name;
	} fs[] = {
		{0xEF53, "ext4"},	{0x58465342, "xfs"},
		{0x9123683E, "btrfs"},	{0x01021994, "tmpfs"},
		{0x794c7630, "overlayfs"}, {0x6969, "nfs"},
		{0x2fc12fc1, "zfs"},	{0x65735546, "fuse"},
		{0xFF534D42, "cifs"},	{0x4d44, "vfat"},
	};
	size_t i;

	for (i = 0; i < sizeof(fs) / sizeof(*fs); i++)
		if (fs[i].magic == type)
			return fs[i].name;
	return NULL;
}

static json_t *summary(const char *state)
{
	struct utsname u;
	struct statfs sf;
	json_t *s, *env = json_object();
	char *target = path_dirname(state), hex[32];
	const char *fs = NULL;
	size_t i;

	for (i = 0; env && i < sizeof(env_allow) / sizeof(*env_allow); i++)
		if (getenv(env_allow[i]))
			json_object_set_new(env, env_allow[i],
					    json_string(getenv(env_allow[i])));
	hex[0] = '\0';
	if (target && statfs(target, &sf) == 0) {
		fs = fs_name((long)sf.f_type);
		snprintf(hex, sizeof(hex), "0x%lx", (unsigned long)sf.f_type);
	}
	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	s = json_pack("{s:s,s:o,s:o,s:s,s:{s:s,s:s,s:s},s:{s:s?,s:s?,s:s?},"
		      "s:o,s:I}",
		      "spoke_version", SPOKE_VERSION, "cargo_version",
		      tool_version("cargo"), "python3_version",
		      tool_version("python3"), "state_dir", state, "uname",
		      "sysname", u.sysname, "release", u.release, "machine",
		      u.machine, "target_dir", "path", target, "filesystem",
		      fs ? fs : (hex[0] ? hex : NULL), "statfs_type",
		      hex[0] ? hex : NULL, "environment", env, "created",
		      (json_int_t)time(NULL));
	free(target);
	return s;
}

static int add_member(struct archive *a, const char *name, const void *data,
		      size_t len, const char *out, struct sp_err *e)
{
	struct archive_entry *ae = archive_entry_new();
	int rc = -1;

	if (!ae)
		return sp_err_set(e, "out of memory");
	archive_entry_set_pathname(ae, name);
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_perm(ae, 0644);
	archive_entry_set_size(ae, (la_int64_t)len);
	archive_entry_set_mtime(ae, time(NULL), 0);
	if (archive_write_header(a, ae) != ARCHIVE_OK ||
	    (len && archive_write_data(a, data, len) != (la_ssize_t)len))
		sp_err_set(e, "cannot write '%s': %s", out,
			   archive_error_string(a));
	else
		rc = 0;
	archive_entry_free(ae);
	return rc;
}

static int add_json(struct archive *a, const char *name, const json_t *v,
		    const char *out, struct sp_err *e)
{
	char *text = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS);
	int rc;

	if (!text)
		return sp_err_set(e, "out of memory");
	rc = add_member(a, name, text, strlen(text), out, e);
	free(text);
	return rc;
}

/* The timelines of the newest builds: journal_status lists the builds
 * with artifacts, journal_log(0) the newest finished one. */
static json_t *recent_builds(struct journal *j)
{
	json_t *st, *out = json_array(), *row, *log;
	json_int_t ids[BUNDLE_BUILDS];
	struct sp_err e;
	size_t i, k, n = 0;

	st = journal_status(j, &e);
	json_array_foreach(st, i, row) {
		json_int_t id = json_integer_value(json_object_get(row,
								   "build"));

		for (k = 0; k < n && ids[k] != id; k++)
			;
		if (k < n || id <= 0)
			continue;
		if (n < BUNDLE_BUILDS) {
			ids[n++] = id;
			continue;
		}
		for (k = 0; k < n; k++)
			if (ids[k] < id) {
				ids[k] = id;
				break;
			}
	}
	json_decref(st);
	log = journal_log(j, 0, &e);
	if (log) {
		json_int_t id = json_integer_value(json_object_get(log,
								   "build"));

		for (k = 0; k < n && ids[k] != id; k++)
			;
		if (k == n)
			json_array_append_new(out, log);
		else
			json_decref(log);
	}
	for (k = 0; k < n; k++) {
		log = journal_log(j, ids[k], &e);
		if (log)
			json_array_append_new(out, log);
	}
	return out;
}

/* The last BUNDLE_LOG_MAX bytes of the log; NULL when there is none. */
static char *log_tail(const char *state, size_t *len)
{
	char *path = path_join(state, "log/coordinator.log"), *buf = NULL;
	struct stat st;
	off_t off = 0;
	ssize_t n;
	int fd;

	*len = 0;
	fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	free(path);
	if (fd < 0 || fstat(fd, &st) < 0)
		goto out;
	if (st.st_size > (off_t)BUNDLE_LOG_MAX)
		off = st.st_size - (off_t)BUNDLE_LOG_MAX;
	buf = malloc((size_t)(st.st_size - off) + 1);
	while (buf && *len < (size_t)(st.st_size - off)) {
		n = pread(fd, buf + *len, (size_t)(st.st_size - off) - *len,
			  off + (off_t)*len);
		if (n <= 0)
			break;
		*len += (size_t)n;
	}
out:
	if (fd >= 0)
		close(fd);
	return buf;
}

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	remove(p);
	return 0;
}

static int write_bundle(const char *state, const char *out, struct sp_err *e)
{
	struct archive *a = NULL;
	struct journal *j = NULL;
	char tmpdir[] = "/tmp/spoke-bundle.XXXXXX", *db = NULL;
	char *dir = NULL, *logbuf = NULL, *dbdata = NULL;
	size_t loglen = 0, dblen = 0;
	json_t *sum = NULL, *builds = NULL;
	struct tmpfile t = TMPFILE_INIT;
	int dirfd = -1, rc = -1, made = 0;

	if (path_exists(out))
		return sp_err_set(e, "'%s' exists; spoke bundle writes a new "
				     "file",
				  out);
	if (!mkdtemp(tmpdir))
		return sp_err_sys(e, "cannot create '%s'", tmpdir);
	made = 1;
	db = path_join(tmpdir, "journal.db");
	dir = path_dirname(out);
	if (!db || !dir) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	if (!(j = journal_open(state, e)) || journal_backup(j, db, e) < 0 ||
	    !(dbdata = fsx_read_all(db, &dblen, e)))
		goto out;
	builds = recent_builds(j);
	sum = summary(state);
	logbuf = log_tail(state, &loglen);
	if (!builds || !sum) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	/* The folder the user named, opened once (symlinks in it
	 * followed); the bundle is written through the temporary-file
	 * recipe (tmpfile.h). */
	dirfd = dirs_open(dir, DIRS_FOLLOW, 0, e);
	if (dirfd < 0 ||
	    tmpfile_create(&t, dirfd, dir, path_basename(out), 0644, e) < 0)
		goto out;
	a = archive_write_new();
	if (!a || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_add_filter_zstd(a) != ARCHIVE_OK ||
	    archive_write_open_fd(a, t.fd) != ARCHIVE_OK) {
		sp_err_set(e, "cannot write '%s': %s", out,
			   a ? archive_error_string(a) : "out of memory");
		goto out;
	}
	if (add_json(a, "summary.json", sum, out, e) < 0 ||
	    add_member(a, "journal.db", dbdata, dblen, out, e) < 0 ||
	    add_json(a, "builds.json", builds, out, e) < 0 ||
	    (logbuf && add_member(a, "coordinator.log", logbuf, loglen, out,
				  e) < 0))
		goto out;
	if (archive_write_close(a) != ARCHIVE_OK) {
		sp_err_set(e, "cannot write '%s': %s", out,
			   archive_error_string(a));
		goto out;
	}
	if (fchmod(t.fd, 0644) < 0) {
		sp_err_sys(e, "cannot set the mode of '%s/%s'", dir, t.name);
		goto out;
	}
	/* A rename that never replaces: the check above may have raced. */
	rc = tmpfile_commit(&t, path_basename(out), TMPFILE_NOREPLACE, e);
out:
	if (a)
		archive_write_free(a);
	tmpfile_discard(&t);
	if (dirfd >= 0)
		close(dirfd);
	if (made)
		nftw(tmpdir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	journal_close(j);
	json_decref(sum);
	json_decref(builds);
	free(db);
	free(dir);
	free(logbuf);
	free(dbdata);
	return rc;
}

/* Lists the members, reading all of them: a truncated zstd stream or tar
 * shows only when its end is read. */
static int read_bundle(const char *path, struct sp_err *e)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	char *sum = NULL, *line, *nl, buf[65536];
	size_t sumlen = 0, total;
	la_ssize_t n;
	int st, rc = -1, members = 0;

	if (!a)
		return sp_err_set(e, "out of memory");
	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, path, sizeof(buf)) != ARCHIVE_OK) {
		sp_err_set(e, "cannot read '%s': %s (truncated or not a "
			      "bundle?)",
			   path, archive_error_string(a));
		goto out;
	}
	while ((st = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(ae);
		int is_sum = name && !strcmp(name, "summary.json");

		total = 0;
		while ((n = archive_read_data(a, buf, sizeof(buf))) > 0) {
			if (is_sum && !sum && total + (size_t)n < (1u << 20)) {
				char *ns = realloc(sum ? sum : NULL,
						   sumlen + (size_t)n + 1);

				if (ns) {
					memcpy(ns + sumlen, buf, (size_t)n);
					sumlen += (size_t)n;
					ns[sumlen] = '\0';
					sum = ns;
				}
			}
			total += (size_t)n;
		}
		if (n < 0) {
			sp_err_set(e, "'%s' is truncated or corrupt: member "
				      "'%s': %s",
				   path, name ? name : "?",
				   archive_error_string(a));
			goto out;
		}
		if ((la_int64_t)total != archive_entry_size(ae)) {
			sp_err_set(e, "'%s' is truncated: member '%s' has "
				      "%zu of %lld bytes",
				   path, name ? name : "?", total,
				   (long long)archive_entry_size(ae));
			goto out;
		}
		/* A member's name comes from the file: never raw to the
		 * terminal. */
		printf("%10zu  %s\n", total, name ? esc(name) : "?");
		members++;
	}
	if (st != ARCHIVE_EOF) {
		sp_err_set(e, "'%s' is truncated or corrupt: %s", path,
			   archive_error_string(a));
		goto out;
	}
	if (!sum) {
		sp_err_set(e, "'%s' is not a spoke bundle: no summary.json",
			   path);
		goto out;
	}
	/* Line by line, so that its line breaks stay and every other
	 * control character is escaped. */
	printf("\nsummary.json:\n");
	for (line = sum; line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (*line || nl)
			printf("%s\n", esc(line));
	}
	rc = 0;
out:
	archive_read_free(a);
	free(sum);
	return rc;
}

int cmd_bundle(int argc, char **argv)
{
	enum { OPT_READ = 256, OPT_STATE, OPT_TARGET, OPT_MANIFEST };
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"read", required_argument, NULL, OPT_READ},
		{"state-dir", required_argument, NULL, OPT_STATE},
		{"target-dir", required_argument, NULL, OPT_TARGET},
		{"manifest-path", required_argument, NULL, OPT_MANIFEST},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct where_opts w = {0};
	const char *out = NULL, *rd = NULL;
	char *state = NULL, *real = NULL;
	struct sp_err e;
	int c, exists = 0, rc = 1;

	sp_err_clear(&e);
	optind = 1;
	while ((c = opts_next(argc, argv, "o:h", longopts)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case OPT_READ:
			rd = optarg;
			break;
		case OPT_STATE:
			w.state_dir = optarg;
			break;
		case OPT_TARGET:
			w.target_dir = optarg;
			break;
		case OPT_MANIFEST:
			w.manifest_path = optarg;
			break;
		case 'h':
			fputs(bundle_help, stdout);
			return 0;
		default:
			fputs(bundle_help, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || !out == !rd) {
		fprintf(stderr, "spoke: bundle needs one of -o FILE or --read "
				"FILE\n\n%s",
			bundle_help);
		return EXIT_USAGE;
	}
	if (rd) {
		rc = read_bundle(rd, &e) < 0 ? 1 : 0;
		goto out;
	}
	state = where_state_dir(&w, 0, &exists, &e);
	if (!state)
		goto out;
	if (!exists) {
		sp_err_set(&e, "no state directory '%s': nothing was built "
			       "there",
			   state);
		goto out;
	}
	real = realpath(state, NULL);
	if (!real) {
		sp_err_sys(&e, "cannot resolve '%s'", state);
		goto out;
	}
	tmpfile_remove_on_signals();
	if (write_bundle(real, out, &e) == 0) {
		printf("wrote %s\n", out);
		rc = 0;
	}
out:
	if (rc)
		sp_err_print(&e);
	free(state);
	free(real);
	return rc;
}
