/*
 * cmd_develop.c - spoke develop: build, then install into the active
 * virtual environment, as `maturin develop` does.
 *
 * maturin's rules, kept here: the environment is $VIRTUAL_ENV, else
 * $CONDA_PREFIX (both set and different is an error), else a .venv folder
 * in the current folder or one above; the wheel is built for that
 * environment's python (the file its bin/python links to), with cargo's
 * dev profile unless -r/--release (or --profile) says otherwise, without
 * repair (a wheel that never leaves the machine needs no manylinux tag);
 * it is installed with that python's pip, `pip install --no-deps
 * --force-reinstall`, and the package's dependencies (with --extras) are
 * installed by pip when it has any.  The build itself is `spoke build`'s,
 * run in this process.  Unlike maturin, a mixed project's Python files
 * are installed as copies, not linked from the source tree.
 */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/opts.h"
#include "cli/project/proc.h"
#include "cli/project/strutil.h"
#include "common/path.h"

static const char develop_help[] =
    "usage: spoke develop [options]\n"
    "\n"
    "Builds the project's wheels, as 'spoke build' does, and installs them\n"
    "into the active virtual environment with its pip, as 'maturin\n"
    "develop' does.  The environment is $VIRTUAL_ENV, else $CONDA_PREFIX,\n"
    "else a .venv folder in the current folder or one above it; without\n"
    "one, spoke develop refuses.  Wheels are built for the environment's\n"
    "python, with cargo's dev profile (unless -r or --profile), and are not\n"
    "repaired (linux_<arch>).  pip installs them with --no-deps\n"
    "--force-reinstall; a package that declares dependencies then gets\n"
    "them from pip (with --extras, those of the extras too).  The Python\n"
    "files are copied, not linked: run spoke develop again after an edit.\n"
    "\n"
    "options:\n"
    "  -r, --release          build with the release profile\n"
    "  --profile NAME         cargo profile (default: dev)\n"
    "  -m, --manifest-path PATH  the workspace's Cargo.toml\n"
    "  -p, --package NAME     build only this package (repeatable)\n"
    "  -F, --features LIST    cargo features (repeatable)\n"
    "  --all-features         every feature of the selected packages\n"
    "  --no-default-features  not the 'default' feature\n"
    "  --locked, --frozen     as cargo's\n"
    "  --config KEY=VALUE     a cargo configuration value (repeatable)\n"
    "  --target-dir DIR       cargo's target directory\n"
    "  --strip                strip the modules' symbols\n"
    "  -E, --extras LIST      also install these extras' dependencies\n"
    "                         (comma-separated, repeatable)\n"
    "  --pip-path PIP         the pip program to install with (default:\n"
    "                         the environment's python -m pip)\n"
    "  --state-dir DIR        spoke's journal and staged files\n"
    "  -q, --quiet            only errors\n"
    "\n"
    "Exit status: 0 installed, 1 failed, 2 usage error.\n";

/* The environment to install into (malloc'd), found by maturin's rule
 * (see the top of this file), or NULL with e filled. */
static char *find_venv(struct sp_err *e)
{
	const char *venv = getenv("VIRTUAL_ENV"),
		   *conda = getenv("CONDA_PREFIX");
	char *dir, *cand, *python;
	struct stat st;
	size_t len;

	if (venv && !*venv)
		venv = NULL;
	if (conda && !*conda)
		conda = NULL;
	if (venv && conda && strcmp(venv, conda)) {
		sp_err_set(e,
			   "both VIRTUAL_ENV ('%s') and CONDA_PREFIX ('%s') "
			   "are set: unset one of them",
			   venv, conda);
		return NULL;
	}
	if (venv || conda) {
		dir = strdup(venv ? venv : conda);
		if (!dir)
			str_oom(e, "find the virtual environment");
		return dir;
	}
	dir = getcwd(NULL, 0);
	if (!dir) {
		sp_err_sys(e, "cannot get the current directory");
		return NULL;
	}
	for (len = strlen(dir);;) {
		cand = str_printf("%.*s/.venv", (int)len, dir);
		if (!cand) {
			str_oom(e, "find the virtual environment");
			break;
		}
		if (stat(cand, &st) == 0 && S_ISDIR(st.st_mode)) {
			char *cfg = path_join(cand, "pyvenv.cfg");

			python = path_join(cand, "bin/python");
			if (!cfg || !python || !path_exists(cfg) ||
			    !path_exists(python)) {
				sp_err_set(e,
					   "'%s' is not a virtual environment "
					   "(no pyvenv.cfg, or no bin/python)",
					   cand);
				free(cand);
				cand = NULL;
			}
			free(cfg);
			free(python);
			free(dir);
			return cand;
		}
		free(cand);
		if (len <= 1)
			break;
		while (len > 1 && dir[len - 1] != '/')
			len--;
		if (len > 1)
			len--; /* the '/' before the last component */
	}
	free(dir);
	sp_err_set(e, "no virtual environment: activate one (VIRTUAL_ENV), "
		      "or make one called .venv here or in a folder above "
		      "(python3 -m venv .venv); or use 'spoke build' and "
		      "'pip install' the wheel");
	return NULL;
}

/* Runs argv with VIRTUAL_ENV=venv added, its output going to ours;
 * returns its exit status, or -1 with e filled when it cannot start. */
static int run(const char *const *argv, const char *venv, int quiet_out,
	       struct sp_err *e)
{
	struct proc p = {.pid = -1, .out_fd = -1, .err_fd = -1};
	char *env_venv = str_printf("VIRTUAL_ENV=%s", venv);
	const char *env[] = {env_venv, NULL};
	int code = -1;

	if (!env_venv)
		return str_oom(e, "run pip");
	if (proc_spawn(&p, argv, env,
		       quiet_out ? PROC_PIPE_STDOUT | PROC_PIPE_STDERR : 0,
		       e) < 0) {
		sp_err_wrap(e, "cannot run '%s'", argv[0]);
		goto out;
	}
	if (quiet_out && proc_collect(&p, NULL, NULL, NULL, NULL, e) < 0)
		goto out;
	if (proc_wait(&p, &code, e) < 0)
		code = -1;
out:
	proc_release(&p);
	free(env_venv);
	return code;
}

/* 1 when the wheel's METADATA names a Requires-Dist, 0 when not or when it
 * cannot be read (pip then reports the wheel itself). */
static int has_requirements(const char *wheel)
{
	struct archive *a = archive_read_new();
	struct archive_entry *en;
	int found = 0;

	if (!a)
		return 0;
	archive_read_support_format_zip(a);
	if (archive_read_open_filename(a, wheel, 65536) != ARCHIVE_OK)
		goto out;
	while (archive_read_next_header(a, &en) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(en);
		const char *slash = name ? strchr(name, '/') : NULL;
		char buf[65536];
		la_ssize_t n;
		size_t len = 0;

		if (!slash || strcmp(slash, "/METADATA") || slash - name < 10 ||
		    strncmp(slash - 10, ".dist-info", 10))
			continue;
		/* The headers come first and are short; a body (the
		 * readme) after them is not looked at. */
		while (len < sizeof(buf) - 1 &&
		       (n = archive_read_data(a, buf + len,
					      sizeof(buf) - 1 - len)) > 0)
			len += (size_t)n;
		buf[len] = '\0';
		found = strstr(buf, "\nRequires-Dist:") != NULL;
		break;
	}
out:
	archive_read_free(a);
	return found;
}

/* The wheels in dir, sorted, as a NULL-terminated malloc'd array of
 * malloc'd paths; NULL when out of memory or dir cannot be read. */
static char **wheels_in(const char *dir, size_t *n)
{
	struct dirent **names = NULL;
	char **out;
	int i, k;

	*n = 0;
	k = scandir(dir, &names, NULL, alphasort);
	if (k < 0)
		return NULL;
	out = calloc((size_t)k + 1, sizeof(*out));
	for (i = 0; i < k; i++) {
		size_t len = strlen(names[i]->d_name);

		if (out && len > 4 && names[i]->d_name[0] != '.' &&
		    !strcmp(names[i]->d_name + len - 4, ".whl"))
			out[(*n)++] = path_join(dir, names[i]->d_name);
		free(names[i]);
	}
	free(names);
	return out;
}

/* Removes the wheels spoke wrote to the temporary folder, then it. */
static void remove_tmp(const char *dir)
{
	struct dirent *d;
	DIR *dh = opendir(dir);
	int fd = dh ? dirfd(dh) : -1;

	while (dh && (d = readdir(dh)))
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
			unlinkat(fd, d->d_name, 0);
	if (dh)
		closedir(dh);
	rmdir(dir);
}

int cmd_develop(int argc, char **argv)
{
	enum {
		OPT_PROFILE = 256,
		OPT_FEATURES,
		OPT_ALL_FEATURES,
		OPT_NO_DEFAULT,
		OPT_LOCKED,
		OPT_FROZEN,
		OPT_CONFIG,
		OPT_TARGET_DIR,
		OPT_STRIP,
		OPT_PIP,
		OPT_STATE,
		OPT_UV
	};
	static const struct option longopts[] = {
	    {"release", no_argument, NULL, 'r'},
	    {"profile", required_argument, NULL, OPT_PROFILE},
	    {"manifest-path", required_argument, NULL, 'm'},
	    {"package", required_argument, NULL, 'p'},
	    {"features", required_argument, NULL, OPT_FEATURES},
	    {"all-features", no_argument, NULL, OPT_ALL_FEATURES},
	    {"no-default-features", no_argument, NULL, OPT_NO_DEFAULT},
	    {"locked", no_argument, NULL, OPT_LOCKED},
	    {"frozen", no_argument, NULL, OPT_FROZEN},
	    {"config", required_argument, NULL, OPT_CONFIG},
	    {"target-dir", required_argument, NULL, OPT_TARGET_DIR},
	    {"strip", no_argument, NULL, OPT_STRIP},
	    {"extras", required_argument, NULL, 'E'},
	    {"pip-path", required_argument, NULL, OPT_PIP},
	    {"state-dir", required_argument, NULL, OPT_STATE},
	    {"uv", no_argument, NULL, OPT_UV},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char **bargv = NULL, **pargv = NULL;
	const char *pip = NULL, *profile = NULL;
	char *venv = NULL, *python = NULL, *extras = NULL, *tmp = NULL;
	char *real = NULL;
	char **wheels = NULL;
	size_t nb = 0, nwheels = 0, i;
	int c, quiet = 0, release = 0, rc = 1, code;
	struct sp_err e;

	/* Every develop option becomes at most two of build's, plus the
	 * handful added below. */
	bargv = calloc(2 * (size_t)argc + 16, sizeof(*bargv));
	pargv = calloc(8 + (size_t)argc, sizeof(*pargv));
	if (!bargv || !pargv)
		goto out;
	bargv[nb++] = "build";
	optind = 1;
	while ((c = opts_next(argc, argv, "rm:p:F:E:qh", longopts)) != -1) {
		switch (c) {
		case 'r':
			release = 1;
			break;
		case OPT_PROFILE:
			profile = optarg;
			break;
		case 'm':
			bargv[nb++] = "--manifest-path";
			bargv[nb++] = optarg;
			break;
		case 'p':
			bargv[nb++] = "-p";
			bargv[nb++] = optarg;
			break;
		case 'F':
		case OPT_FEATURES:
			bargv[nb++] = "--features";
			bargv[nb++] = optarg;
			break;
		case OPT_ALL_FEATURES:
			bargv[nb++] = "--all-features";
			break;
		case OPT_NO_DEFAULT:
			bargv[nb++] = "--no-default-features";
			break;
		case OPT_LOCKED:
			bargv[nb++] = "--locked";
			break;
		case OPT_FROZEN:
			bargv[nb++] = "--frozen";
			break;
		case OPT_CONFIG:
			bargv[nb++] = "--config";
			bargv[nb++] = optarg;
			break;
		case OPT_TARGET_DIR:
			bargv[nb++] = "--target-dir";
			bargv[nb++] = optarg;
			break;
		case OPT_STRIP:
			bargv[nb++] = "--strip";
			break;
		case OPT_STATE:
			bargv[nb++] = "--state-dir";
			bargv[nb++] = optarg;
			break;
		case 'E':
			if (str_append(&extras, ",", optarg) < 0) {
				fprintf(stderr, "spoke: out of memory\n");
				goto out;
			}
			break;
		case OPT_PIP:
			pip = optarg;
			break;
		case OPT_UV:
			fprintf(stderr,
				"spoke: --uv is not supported: spoke "
				"develop installs with the environment's "
				"pip (or --pip-path)\n");
			rc = EXIT_USAGE;
			goto out;
		case 'q':
			quiet = 1;
			bargv[nb++] = "-q";
			break;
		case 'h':
			fputs(develop_help, stdout);
			rc = 0;
			goto out;
		default:
			fputs(develop_help, stderr);
			rc = EXIT_USAGE;
			goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "spoke: unexpected argument '%s'\n\n%s",
			argv[optind], develop_help);
		rc = EXIT_USAGE;
		goto out;
	}
	if (release && profile && strcmp(profile, "release")) {
		fprintf(stderr,
			"spoke: --release conflicts with --profile %s\n",
			profile);
		rc = EXIT_USAGE;
		goto out;
	}
	venv = find_venv(&e);
	if (!venv)
		goto fail;
	python = path_join(venv, "bin/python");
	if (!python) {
		str_oom(&e, "find the virtual environment's python");
		goto fail;
	}
	if (!path_exists(python)) {
		sp_err_set(&e, "the virtual environment '%s' has no bin/python",
			   venv);
		goto fail;
	}
	/* pip is checked before the build, so a missing pip costs no
	 * compile. */
	pargv[0] = pip ? pip : python;
	pargv[1] = pip ? "--version" : "-m";
	pargv[2] = pip ? NULL : "pip";
	pargv[3] = "--version";
	code = run(pargv, venv, 1, &e);
	if (code != 0) {
		if (code > 0 && pip)
			sp_err_set(&e, "'%s --version' fails (exit %d)", pip,
				   code);
		else if (code > 0)
			sp_err_set(&e,
				   "no pip in the virtual environment '%s' "
				   "('%s -m pip' fails): install it (%s -m "
				   "ensurepip), or give --pip-path",
				   venv, python, python);
		goto fail;
	}
	tmp = str_printf(
	    "%s/spoke-develop.XXXXXX",
	    getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!tmp || !mkdtemp(tmp)) {
		sp_err_sys(&e, "cannot make a temporary folder for the wheels");
		free(tmp);
		tmp = NULL;
		goto fail;
	}
	/* The interpreter the environment's python links to (a venv's
	 * bin/python is a link to its base): the same tags, and a
	 * PYO3_PYTHON that does not change from one environment to the
	 * next, so cargo does not compile pyo3 again for each. */
	real = realpath(python, NULL);
	bargv[nb++] = "-i";
	bargv[nb++] = real ? real : python;
	bargv[nb++] = "--repair=skip";
	bargv[nb++] = "--out";
	bargv[nb++] = tmp;
	/* maturin develop's profile: --profile or -r (release), else
	 * [tool.maturin] editable-profile or profile, else dev. */
	if (profile || release) {
		bargv[nb++] = "--profile";
		bargv[nb++] = profile ? profile : "release";
	} else {
		bargv[nb++] = "--editable=dev";
	}
	bargv[nb] = NULL;
	rc = cmd_build((int)nb, (char **)bargv);
	if (rc != 0)
		goto out;
	rc = 1;
	wheels = wheels_in(tmp, &nwheels);
	if (!wheels || nwheels == 0) {
		sp_err_set(&e, "spoke build wrote no wheel to install");
		goto fail;
	}
	i = 0;
	if (pip) {
		pargv[i++] = pip;
	} else {
		pargv[i++] = python;
		pargv[i++] = "-m";
		pargv[i++] = "pip";
	}
	pargv[i++] = "install";
	if (quiet)
		pargv[i++] = "-q";
	pargv[i++] = "--no-deps";
	pargv[i++] = "--force-reinstall";
	for (size_t w = 0; w < nwheels; w++) {
		size_t k = i;
		char *req = NULL;

		pargv[k++] = wheels[w];
		pargv[k] = NULL;
		code = run(pargv, venv, 0, &e);
		if (code != 0) {
			if (code > 0)
				sp_err_set(&e,
					   "pip install of '%s' into '%s' "
					   "failed (exit %d)",
					   path_basename(wheels[w]), venv,
					   code);
			goto fail;
		}
		if (!has_requirements(wheels[w]))
			continue;
		/* The dependencies, and those of the extras: pip installs
		 * what is missing and leaves the package, just installed,
		 * as it is. */
		k = i - 2;
		req = extras ? str_printf("%s[%s]", wheels[w], extras)
			     : strdup(wheels[w]);
		if (!req) {
			str_oom(&e, "run pip");
			goto fail;
		}
		pargv[k++] = req;
		pargv[k] = NULL;
		code = run(pargv, venv, 0, &e);
		free(req);
		if (code != 0) {
			if (code > 0)
				sp_err_set(&e,
					   "pip could not install the "
					   "dependencies of '%s' (exit %d)",
					   path_basename(wheels[w]), code);
			goto fail;
		}
		/* Back to installing the next wheel alone, forced. */
		pargv[i - 2] = "--no-deps";
		pargv[i - 1] = "--force-reinstall";
	}
	if (!quiet)
		for (size_t w = 0; w < nwheels; w++)
			printf("installed %s into %s\n",
			       path_basename(wheels[w]), venv);
	rc = 0;
	goto out;
fail:
	sp_err_print(&e);
	rc = 1;
out:
	if (tmp)
		remove_tmp(tmp);
	for (i = 0; wheels && i < nwheels; i++)
		free(wheels[i]);
	free(wheels);
	free(tmp);
	free(extras);
	free(real);
	free(python);
	free(venv);
	free(pargv);
	free(bargv);
	return rc;
}
