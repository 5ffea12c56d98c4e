/*
 * cargo.c - running cargo: finding the manifest, `cargo metadata` and
 * `cargo build`.
 *
 * Everything spoke knows about the workspace comes from cargo itself
 * (`cargo metadata`, the JSON messages of `cargo build`) and from the
 * interpreter (pyinfo.h): the path of each cdylib is the one cargo reports,
 * never one guessed from names, and no TOML is parsed here.
 */
#define _GNU_SOURCE
#include "cli/project/cargo.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/project/cache.h"
#include "cli/project/cargo_msg.h"
#include "cli/project/metakey.h"
#include "cli/project/proc.h"
#include "cli/project/strutil.h"
#include "common/path.h"

static const char *cargo_program(void)
{
	const char *c = getenv("CARGO");

	return c && *c ? c : "cargo";
}

/* ---- running cargo ---- */

/*
 * Checks that there is a Cargo.toml for cargo to find, so the user gets
 * spoke's hint rather than cargo's.  *manifest gets what to pass as
 * --manifest-path (malloc'd), or NULL to let cargo search from the cwd.
 */
int cargo_find_manifest(const char *given, char **manifest, struct sp_err *e)
{
	char *dir = NULL, *path = NULL;
	struct stat st;
	size_t len;
	int ret = -1;

	*manifest = NULL;
	if (given) {
		if (stat(given, &st) < 0) {
			sp_err_sys(e, "cannot use manifest path '%s'", given);
			goto out;
		}
		/* A directory is taken to mean its Cargo.toml. */
		path = S_ISDIR(st.st_mode) ? path_join(given, "Cargo.toml")
					   : strdup(given);
		if (!path) {
			str_oom(e, "plan the build");
			goto out;
		}
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			sp_err_set(e, "could not find Cargo.toml at '%s'",
				   path);
			goto out;
		}
		*manifest = path;
		path = NULL;
		ret = 0;
		goto out;
	}

	dir = getcwd(NULL, 0);
	if (!dir) {
		sp_err_sys(e, "cannot get the current directory");
		goto out;
	}
	/* Cargo searches from the cwd upward; its path is absolute. */
	for (len = strlen(dir);;) {
		free(path);
		path = path_join(len ? dir : "/", "Cargo.toml");
		if (!path) {
			str_oom(e, "plan the build");
			goto out;
		}
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			*manifest = path;
			path = NULL;
			ret = 0;
			goto out;
		}
		if (len == 0)
			break;
		while (len > 0 && dir[len - 1] != '/')
			len--;
		while (len > 0 && dir[len - 1] == '/')
			len--;
		dir[len] = '\0';
	}
	free(dir);
	dir = getcwd(NULL, 0);
	sp_err_set(e,
		   "could not find Cargo.toml in '%s' or any parent "
		   "directory (use --manifest-path)",
		   dir ? dir : ".");
out:
	free(dir);
	free(path);
	return ret;
}

static int spawn_cargo(struct proc *p, const char *const *argv,
		       const char *const *env, unsigned flags, struct sp_err *e)
{
	if (proc_spawn(p, argv, env, flags, e) == 0)
		return 0;
	if (errno == ENOENT)
		return sp_err_set(e, "cargo not found (install Rust, or set "
				     "CARGO to the cargo program)");
	return -1;
}

/* Runs `cargo metadata` and returns its parsed output (new reference). */
static json_t *run_metadata(const char *manifest, struct sp_err *e)
{
	const char *argv[] = {cargo_program(),
			      "metadata",
			      "--format-version",
			      "1",
			      "--no-deps",
			      NULL,
			      NULL,
			      NULL};
	struct proc p = {.pid = -1, .out_fd = -1, .err_fd = -1};
	json_t *meta = NULL;
	json_error_t jerr;
	char *out = NULL;
	size_t len = 0;
	int code;

	if (manifest) {
		argv[5] = "--manifest-path";
		argv[6] = manifest;
	}
	if (spawn_cargo(&p, argv, NULL, PROC_PIPE_STDOUT, e) < 0)
		goto out;
	if (proc_collect(&p, &out, &len, NULL, NULL, e) < 0 ||
	    proc_wait(&p, &code, e) < 0)
		goto out;
	if (code != 0) {
		sp_err_set(e, "cargo metadata failed (exit %d)", code);
		goto out;
	}
	meta = json_loadb(out, len, 0, &jerr);
	if (!json_is_object(meta) ||
	    !json_is_array(json_object_get(meta, "packages")) ||
	    !str_member(meta, "target_directory") ||
	    !str_member(meta, "workspace_root")) {
		sp_err_set(e,
			   "cannot understand the output of cargo metadata%s%s",
			   meta ? "" : ": ", meta ? "" : jerr.text);
		json_decref(meta);
		meta = NULL;
	}
out:
	proc_release(&p);
	free(out);
	return meta;
}

/*
 * cargo metadata through the cache (metakey.h).  An entry is "confirmed"
 * when the inputs its answer names were the same before cargo ran as
 * after: only then may it answer, since a file changed while cargo read
 * it could otherwise be keyed by its new content beside the old answer.
 * So a new entry answers from the run after the one that wrote it.
 */
json_t *cargo_metadata(const char *manifest, struct sp_err *e)
{
	json_t *pre, *entry = NULL, *snap = NULL, *meta, *after, *v;
	char *slot = NULL;

	pre = metakey_before(cargo_program(), manifest, &slot);
	if (pre)
		entry = cache_get("metadata", slot, pre);
	if (entry) {
		snap = metakey_after(json_object_get(entry, "meta"));
		if (snap && json_equal(snap, json_object_get(entry, "after")) &&
		    json_is_true(json_object_get(entry, "confirmed"))) {
			meta = json_incref(json_object_get(entry, "meta"));
			goto out;
		}
	}
	meta = run_metadata(manifest, e);
	if (meta && pre) {
		after = metakey_after(meta);
		v = after ? json_pack("{s:O,s:O,s:b}", "meta", meta, "after",
				      after, "confirmed",
				      snap && json_equal(snap, after))
			  : NULL;
		if (v)
			cache_put("metadata", slot, pre, v);
		json_decref(v);
		json_decref(after);
	}
out:
	json_decref(snap);
	json_decref(entry);
	json_decref(pre);
	free(slot);
	return meta;
}

/* Feeds one line of cargo build's stdout to the parser; keeps the first
 * error in e and carries on, so cargo is never left blocked on a pipe. */
static void build_line(const char *line, json_t *state, int *failed,
		       struct sp_err *e)
{
	struct sp_err perr;
	int r = cargo_parse_message(line, state, &perr);

	if (r == 1)
		fprintf(stderr, "%s\n", line);
	else if (r < 0 && !*failed) {
		*e = perr;
		*failed = 1;
	}
}

/* Appends to argv[n...] what selects the units cargo compiles, as `cargo
 * build` and `cargo tree` both take it (packages, features, lock file,
 * target): the shard check must ask about exactly the build's selection.
 * Returns the new count; argv has room for 12 + 2 * npackages more. */
static size_t selection_args(const struct cargo_opts *o, const char **argv,
			     size_t n)
{
	size_t i;

	for (i = 0; i < o->npackages; i++) {
		argv[n++] = "-p";
		argv[n++] = o->packages[i];
	}
	if (o->features) {
		argv[n++] = "--features";
		argv[n++] = o->features;
	}
	if (o->all_features)
		argv[n++] = "--all-features";
	if (o->no_default_features)
		argv[n++] = "--no-default-features";
	if (o->locked)
		argv[n++] = "--locked";
	if (o->frozen)
		argv[n++] = "--frozen";
	if (o->target) {
		argv[n++] = "--target";
		argv[n++] = o->target;
	}
	return n;
}

json_t *cargo_features(const struct cargo_opts *o, const char *manifest,
		       struct sp_err *e)
{
	struct proc p = {.pid = -1, .out_fd = -1, .err_fd = -1};
	const char **argv;
	json_t *set = NULL;
	char *out = NULL, *line, *save = NULL;
	size_t n = 0, i, len = 0;
	int code;

	argv = calloc(24 + 2 * o->npackages + 2 * o->nconfig, sizeof(*argv));
	if (!argv) {
		str_oom(e, "compare the shard's features");
		return NULL;
	}
	argv[n++] = cargo_program();
	argv[n++] = "tree";
	/* What cargo build compiles: no dev-dependencies; one line per
	 * package and feature set (host and target units apart). */
	argv[n++] = "-e";
	argv[n++] = "normal,build";
	argv[n++] = "--prefix";
	argv[n++] = "none";
	argv[n++] = "-f";
	argv[n++] = "{p} [{f}]";
	n = selection_args(o, argv, n);
	for (i = 0; i < o->nconfig; i++) {
		argv[n++] = "--config";
		argv[n++] = o->config[i];
	}
	if (manifest) {
		argv[n++] = "--manifest-path";
		argv[n++] = manifest;
	}
	if (spawn_cargo(&p, argv, NULL, PROC_PIPE_STDOUT, e) < 0)
		goto out;
	if (proc_collect(&p, &out, &len, NULL, NULL, e) < 0 ||
	    proc_wait(&p, &code, e) < 0)
		goto out;
	if (code != 0) {
		sp_err_set(e, "cargo tree failed (exit %d)", code);
		goto out;
	}
	set = json_object();
	if (!set || !(out = realloc(out, len + 1))) {
		str_oom(e, "compare the shard's features");
		json_decref(set);
		set = NULL;
		goto out;
	}
	out[len] = 0;
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t l = strlen(line);

		/* A package seen before ends " (*)": the same unit. */
		if (l > 4 && strcmp(line + l - 4, " (*)") == 0)
			line[l - 4] = 0;
		if (json_object_set_new(set, line, json_true()) < 0) {
			str_oom(e, "compare the shard's features");
			json_decref(set);
			set = NULL;
			goto out;
		}
	}
out:
	proc_release(&p);
	free(out);
	free(argv);
	return set;
}

/*
 * Runs `cargo build` and parses its messages into state as they arrive.
 * Builds with PYO3_PYTHON pointing at the target interpreter (a value in
 * the environment has already chosen that interpreter when no -i was
 * given, see cmd_build.c), so crates that configure themselves for a
 * Python get the one the wheel is tagged for.
 */
json_t *cargo_build_command(const struct cargo_opts *o, const char *manifest,
			    const char *pyexe, struct sp_err *e)
{
	const char **argv = NULL;
	char *strip = NULL;
	json_t *cmd = NULL, *av, *ev;
	size_t n = 0, i;

	argv = calloc(24 + 2 * o->npackages + 2 * o->nconfig, sizeof(*argv));
	if (!argv)
		goto oom;
	argv[n++] = cargo_program();
	argv[n++] = "build";
	argv[n++] = "--message-format=json-render-diagnostics";
	if (o->profile) {
		argv[n++] = "--profile";
		argv[n++] = o->profile;
	} else {
		argv[n++] = "--release";
	}
	n = selection_args(o, argv, n);
	if (o->strip) {
		/* maturin's strip: rustc drops the symbol tables, for the
		 * profile being built. */
		strip = str_printf("profile.%s.strip=\"symbols\"",
				   o->profile ? o->profile : "release");
		if (!strip)
			goto oom;
		argv[n++] = "--config";
		argv[n++] = strip;
	}
	for (i = 0; i < o->nconfig; i++) {
		argv[n++] = "--config";
		argv[n++] = o->config[i];
	}
	if (o->target_dir) {
		argv[n++] = "--target-dir";
		argv[n++] = o->target_dir;
	}
	if (manifest) {
		argv[n++] = "--manifest-path";
		argv[n++] = manifest;
	}
	if (o->quiet)
		argv[n++] = "-q";

	cmd = json_pack("{s:[],s:[]}", "argv", "env");
	av = json_object_get(cmd, "argv");
	ev = json_object_get(cmd, "env");
	if (!cmd)
		goto oom;
	for (i = 0; i < n; i++)
		if (json_array_append_new(av, json_string(argv[i])) < 0)
			goto oom;
	/* pyo3 0.26 and later read PYO3_BUILD_EXTENSION_MODULE, not the
	 * extension-module feature, to leave libpython unlinked: a module
	 * that links it would make the wheel carry a copy. */
	if (json_array_append_new(ev, json_sprintf("PYO3_PYTHON=%s", pyexe)) <
		0 ||
	    (!o->embeds_python &&
	     json_array_append_new(
		 ev, json_string("PYO3_BUILD_EXTENSION_MODULE=1")) < 0))
		goto oom;
	free(strip);
	free(argv);
	return cmd;
oom:
	str_oom(e, "plan the build");
	json_decref(cmd);
	free(strip);
	free(argv);
	return NULL;
}

/* cmd's strings (the "argv" or "env" array) as a NULL-terminated array
 * that borrows them. */
static const char **strings_of(const json_t *arr)
{
	const char **v = calloc(json_array_size(arr) + 1, sizeof(*v));
	size_t i;

	if (!v)
		return NULL;
	for (i = 0; i < json_array_size(arr); i++)
		if (!(v[i] = json_string_value(json_array_get(arr, i)))) {
			free(v);
			return NULL;
		}
	return v;
}

/* ---- an early run's signals ----
 *
 * An early run leads its own process group, which signals sent to
 * spoke's group (^C, a CI runner stopping the job) do not reach: while it
 * runs, spoke passes them on, then ends as it would have.  A signal
 * spoke ignores (nohup's SIGHUP) stays ignored, and is not passed on.
 * Only one run at a time is early. */
static const int fwd_sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
static struct sigaction fwd_old[sizeof(fwd_sigs) / sizeof(*fwd_sigs)];
static unsigned char fwd_set[sizeof(fwd_sigs) / sizeof(*fwd_sigs)];
static volatile sig_atomic_t fwd_group;

static void fwd_signal(int sig)
{
	int saved = errno;
	size_t i;

	if (fwd_group > 0)
		kill(-(pid_t)fwd_group, sig);
	for (i = 0; i < sizeof(fwd_sigs) / sizeof(*fwd_sigs); i++)
		if (fwd_sigs[i] == sig)
			sigaction(sig, &fwd_old[i], NULL);
	raise(sig); /* delivered with the old action once this returns */
	errno = saved;
}

static void fwd_start(pid_t group)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fwd_signal;
	sigemptyset(&sa.sa_mask);
	fwd_group = group;
	for (i = 0; i < sizeof(fwd_sigs) / sizeof(*fwd_sigs); i++) {
		fwd_set[i] = 0;
		if (sigaction(fwd_sigs[i], NULL, &fwd_old[i]) < 0 ||
		    fwd_old[i].sa_handler == SIG_IGN)
			continue;
		fwd_set[i] = sigaction(fwd_sigs[i], &sa, NULL) == 0;
	}
}

static void fwd_stop(void)
{
	size_t i;

	for (i = 0; i < sizeof(fwd_sigs) / sizeof(*fwd_sigs); i++)
		if (fwd_set[i])
			sigaction(fwd_sigs[i], &fwd_old[i], NULL);
	memset(fwd_set, 0, sizeof(fwd_set));
	fwd_group = 0;
}

int cargo_run_start(struct cargo_run *r, const json_t *cmd, int early,
		    struct sp_err *e)
{
	const char **argv = strings_of(json_object_get(cmd, "argv"));
	const char **env = strings_of(json_object_get(cmd, "env"));
	struct timespec now;
	int ret = -1;

	r->p.pid = -1;
	r->p.out_fd = r->p.err_fd = -1;
	r->early = early;
	if (!argv || !env || !argv[0]) {
		sp_err_set(e, "cargo's command line is malformed");
		goto out;
	}
	/* An early run's command comes from the cache, before spoke has
	 * checked it: it runs only the cargo spoke would run now, and
	 * only "cargo build". */
	if (early && (strcmp(argv[0], cargo_program()) != 0 || !argv[1] ||
		      strcmp(argv[1], "build") != 0)) {
		sp_err_set(e, "the remembered command is not this cargo's "
			      "build");
		goto out;
	}
	/* cargo_msg.h times each package's units from here. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	r->started_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	ret = spawn_cargo(&r->p, argv, env,
			  PROC_PIPE_STDOUT |
			      (early ? PROC_PIPE_STDERR | PROC_OWN_GROUP : 0),
			  e);
	if (ret == 0 && early) {
		/* Until the run is confirmed nothing reads its messages, and
		 * cargo reports every fresh crate before it starts rustc on
		 * a changed one: a full 64 KiB pipe (about 100 crates' worth)
		 * would hold the compile up for that time.  1 MiB, the most
		 * a user may ask for, holds 1,500 or so; less is no error. */
		(void)fcntl(r->p.out_fd, F_SETPIPE_SZ, 1 << 20);
		fwd_start(r->p.pid);
	}
out:
	free(argv);
	free(env);
	return ret;
}

/* Passes what cargo wrote on its stderr pipe on to spoke's stderr.
 * Returns 0, or -1 at end of file or on an error reading (the pipe is
 * then closed, and cargo's messages are still read to their end). */
static int relay_stderr(int fd)
{
	char buf[16384];
	ssize_t n = read(fd, buf, sizeof(buf)), w;
	size_t off = 0;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return -1;
	while (off < (size_t)n) {
		w = write(STDERR_FILENO, buf + off, (size_t)n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break; /* a closed stderr loses cargo's words only */
		off += (size_t)w;
	}
	return 0;
}

/* Hands watch the cdylibs state gained since *seen of them were seen. */
static void watch_new(const struct cargo_watch *watch, json_t *state,
		      size_t *seen)
{
	json_t *all = json_object_get(state, "cdylibs");

	while (watch && *seen < json_array_size(all))
		watch->cdylib(json_array_get(all, (*seen)++), watch->arg);
}

int cargo_run_finish(struct cargo_run *r, json_t *state,
		     const struct cargo_watch *watch, struct sp_err *e)
{
	char *buf = NULL;
	size_t len = 0, cap = 0, scanned = 0, seen = 0;
	int failed = 0, code, ret = -1;

	if (json_object_set_new(state, "clock_ns",
				json_integer((json_int_t)r->started_ns)) < 0) {
		str_oom(e, "plan the build");
		goto out;
	}
	/* One JSON message per line; a line may span many reads. */
	for (;;) {
		struct pollfd pfd[2] = {{.fd = r->p.out_fd, .events = POLLIN},
					{.fd = r->p.err_fd, .events = POLLIN}};
		size_t start = 0;
		char *nl;
		ssize_t n;

		if (r->p.err_fd >= 0) {
			if (poll(pfd, 2, -1) < 0 && errno != EINTR) {
				sp_err_sys(e, "cannot wait for cargo build");
				goto out;
			}
			if ((pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    relay_stderr(r->p.err_fd) < 0) {
				close(r->p.err_fd);
				r->p.err_fd = -1;
			}
			if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
		}
		if (cap - len < 65536) {
			char *nb = realloc(buf, cap ? cap * 2 : 131072);

			if (!nb) {
				str_oom(e, "plan the build");
				goto out;
			}
			buf = nb;
			cap = cap ? cap * 2 : 131072;
		}
		n = read(r->p.out_fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sp_err_sys(e, "cannot read the output of cargo build");
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		while ((nl = memchr(buf + scanned, '\n', len - scanned))) {
			*nl = '\0';
			build_line(buf + start, state, &failed, e);
			start = scanned = (size_t)(nl - buf) + 1;
		}
		watch_new(watch, state, &seen);
		memmove(buf, buf + start, len - start);
		len -= start;
		scanned = len;
	}
	if (len > 0) {
		buf[len] = '\0';
		build_line(buf, state, &failed, e);
		watch_new(watch, state, &seen);
	}
	/* cargo's last words after its stdout closed. */
	while (r->p.err_fd >= 0 && relay_stderr(r->p.err_fd) == 0)
		;
	if (proc_wait(&r->p, &code, e) < 0)
		goto out;
	if (code != 0) {
		sp_err_set(e, "cargo build failed (exit %d)", code);
		goto out;
	}
	if (!failed)
		ret = 0;
out:
	cargo_run_cancel(r);
	free(buf);
	return ret;
}

void cargo_run_cancel(struct cargo_run *r)
{
	/* An early run stops as at ^C: its group gets SIGINT, so the
	 * rustc and build scripts it started stop with it. */
	if (r->early && r->p.pid > 0)
		kill(-r->p.pid, SIGINT);
	proc_release(&r->p);
	if (r->early)
		fwd_stop();
	r->early = 0;
}

char *cargo_target_dir(const char *manifest_path, struct sp_err *e)
{
	char *manifest = NULL, *dir = NULL;
	json_t *meta;

	if (cargo_find_manifest(manifest_path, &manifest, e) < 0)
		return NULL;
	meta = cargo_metadata(manifest, e);
	if (meta) {
		dir = strdup(str_member(meta, "target_directory"));
		if (!dir)
			str_oom(e, "plan the build");
	}
	json_decref(meta);
	free(manifest);
	return dir;
}

json_t *cargo_metadata_json(const char *manifest_path, struct sp_err *e)
{
	char *manifest = NULL;
	json_t *meta;

	if (cargo_find_manifest(manifest_path, &manifest, e) < 0)
		return NULL;
	meta = cargo_metadata(manifest, e);
	free(manifest);
	return meta;
}
