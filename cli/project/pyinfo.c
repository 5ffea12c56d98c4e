/*
 * pyinfo.c - one query of the target interpreter.
 */
#define _GNU_SOURCE
#include "cli/project/pyinfo.h"
#include "cli/project/proc.h"
#include "cli/project/pycache.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The most of an interpreter's stderr that an error message quotes. */
#define STDERR_QUOTE 1000

/*
 * Run as `python -c SCRIPT PYPROJECT...`; prints one JSON object.  It must
 * run on any Python 3 that might be a target, so it uses nothing newer than
 * 3.6.  Wheel tags follow the `packaging` library's rules for CPython (the
 * ABI tag from SOABI, so debug and free-threaded builds get "d" and "t").
 * TOML values JSON cannot hold (dates) become strings.  Without tomllib or
 * tomli each file's "error" is "notoml" (fill() words it): only a file a
 * package needs makes that an error.  A Python 2 answers {"fatal":
 * "python2"}.  "deps" names the files the answer came from besides the
 * executable (the _sysconfigdata module, the libpython mapped), whose
 * identities pycache.h checks before it hands the answer out again.
 */
static const char query_script[] =
    "import json, sys, sysconfig\n"
    "if sys.version_info[0] < 3:\n"
    "    sys.stdout.write(json.dumps({'fatal': 'python2', 'version':\n"
    "        '%d.%d' % sys.version_info[:2]}))\n"
    "    sys.exit(0)\n"
    "def tag(s):\n"
    "    return s.replace('-', '_').replace('.', '_')\n"
    "def tags():\n"
    "    impl = sys.implementation.name\n"
    "    v = sys.version_info\n"
    "    py = {'cpython': 'cp', 'pypy': 'pp'}.get(impl, impl)\n"
    "    py += '%d%d' % (v[0], v[1])\n"
    "    parts = (sysconfig.get_config_var('SOABI') or '').split('-')\n"
    "    if len(parts) > 1 and parts[0] == 'cpython':\n"
    "        abi = 'cp' + parts[1]\n"
    "    elif len(parts) > 1:\n"
    "        abi = '_'.join(parts[:2])\n"
    "    else:\n"
    "        abi = py + getattr(sys, 'abiflags', '')\n"
    "    return py, tag(abi), tag(sysconfig.get_platform())\n"
    "def load(paths):\n"
    "    out = {}\n"
    "    if not paths:\n"
    "        return out\n"
    "    try:\n"
    "        import tomllib as toml\n"
    "    except ImportError:\n"
    "        try:\n"
    "            import tomli as toml\n"
    "        except ImportError:\n"
    "            return dict((p, {'project': None, 'doc': None,\n"
    "                             'error': 'notoml'}) for p in paths)\n"
    "    for p in paths:\n"
    "        r = {'project': None, 'doc': None, 'error': None}\n"
    "        try:\n"
    "            with open(p, 'rb') as f:\n"
    "                d = toml.load(f)\n"
    "            t = d.get('project')\n"
    "            r['doc'] = d\n"
    "            if t is not None and not isinstance(t, dict):\n"
    "                r['error'] = '[project] is not a table'\n"
    "            else:\n"
    "                r['project'] = t\n"
    "        except Exception as x:\n"
    "            r['error'] = '%s: %s' % (type(x).__name__, x)\n"
    "        out[p] = r\n"
    "    return out\n"
    "def deps():\n"
    "    out = set()\n"
    "    for n, m in list(sys.modules.items()):\n"
    "        if n.startswith('_sysconfigdata') and getattr(m, '__file__', 0):\n"
    "            out.add(m.__file__)\n"
    "    try:\n"
    "        with open('/proc/self/maps') as f:\n"
    "            for l in f:\n"
    "                p = l.split(None, 5)\n"
    "                if len(p) == 6 and 'libpython' in p[5]:\n"
    "                    out.add(p[5].strip())\n"
    "    except Exception:\n"
    "        pass\n"
    "    return sorted(out)\n"
    "py, abi, plat = tags()\n"
    "pp = load(sys.argv[1:])\n"
    "res = {'python_tag': py, 'abi_tag': abi, 'platform_tag': plat,\n"
    "       'ext_suffix': sysconfig.get_config_var('EXT_SUFFIX'),\n"
    "       'version': '%d.%d.%d' % sys.version_info[:3],\n"
    "       'executable': sys.executable, 'pyprojects': pp,\n"
    "       'deps': deps()}\n"

    "sys.stdout.write(json.dumps(res, default=str))\n";

/* Copies a required string member of the interpreter's answer. */
static int take_str(const json_t *o, const char *key, char **dst,
		    const char *interp, struct sp_err *e)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (!s)
		return sp_err_set(e,
				  "python interpreter '%s' reports no %s "
				  "(is it CPython 3?)",
				  interp, key);
	*dst = strdup(s);
	if (!*dst)
		return sp_err_sys(e, "cannot store the interpreter's %s", key);
	return 0;
}

/* Points at the last STDERR_QUOTE bytes of s, without trailing space: a
 * traceback ends with the line that matters. */
static const char *quote_tail(char *s, size_t len, const char **ellipsis)
{
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' ' ||
			   s[len - 1] == '\r' || s[len - 1] == '\t'))
		s[--len] = '\0';
	*ellipsis = "";
	if (len > STDERR_QUOTE) {
		*ellipsis = "...";
		return s + len - STDERR_QUOTE;
	}
	return s;
}

/* The answers to queries without pyprojects, by interpreter as given:
 * `spoke build` checks every -i before it builds anything, then plans each
 * build with the same question, and a Python start is about 25 ms. */
static json_t *memo;

/* Fills out from the interpreter's answer root (a JSON object). */
static int fill(const json_t *root, const char *interpreter,
		struct pyinfo *out, struct sp_err *e)
{
	const char *k;
	json_t *v;

	if (take_str(root, "python_tag", &out->python_tag, interpreter, e) ||
	    take_str(root, "abi_tag", &out->abi_tag, interpreter, e) ||
	    take_str(root, "platform_tag", &out->platform_tag, interpreter,
		     e) ||
	    take_str(root, "ext_suffix", &out->ext_suffix, interpreter, e) ||
	    take_str(root, "version", &out->version, interpreter, e) ||
	    take_str(root, "executable", &out->executable, interpreter, e))
		return -1;
	out->pyprojects = json_deep_copy(json_object_get(root, "pyprojects"));
	if (!json_is_object(out->pyprojects))
		return sp_err_set(e,
				  "python interpreter '%s' reports no "
				  "pyprojects",
				  interpreter);
	/* An interpreter without a TOML reader says "notoml" for each file:
	 * the message is worded here, where the interpreter is known. */
	json_object_foreach(out->pyprojects, k, v)
	{
		const char *err = json_string_value(json_object_get(v, "error"));

		if (err && strcmp(err, "notoml") == 0 &&
		    json_object_set_new(
			v, "error",
			json_sprintf("interpreter '%s' has neither tomllib "
				     "nor tomli; use Python 3.11 or newer, "
				     "or install tomli into it, to read "
				     "pyproject.toml",
				     interpreter)) < 0)
			return sp_err_set(e, "out of memory");
	}
	return 0;
}

/* Runs the interpreter's query for the n files paths[] and returns its
 * answer (a JSON object, new reference), or NULL with e filled. */
static json_t *run_query(const char *interpreter, const char *const *paths,
			 size_t n, struct sp_err *e)
{
	const char **argv = NULL;
	struct proc p = {.pid = -1, .out_fd = -1, .err_fd = -1};
	char *sout = NULL, *serr = NULL;
	size_t soutlen = 0, serrlen = 0, i;
	json_t *root = NULL;
	json_error_t jerr;
	unsigned flags;
	int code, ok = 0;

	argv = calloc(n + 4, sizeof(*argv));
	if (!argv) {
		sp_err_sys(e, "cannot query python interpreter '%s'",
			   interpreter);
		goto out;
	}
	argv[0] = interpreter;
	argv[1] = "-c";
	argv[2] = query_script;
	for (i = 0; i < n; i++)
		argv[3 + i] = paths[i];

	flags = PROC_PIPE_STDOUT | PROC_PIPE_STDERR;
	if (proc_spawn(&p, argv, NULL, flags, e) < 0) {
		if (errno == ENOENT)
			sp_err_set(e,
				   "python interpreter '%s' not found (use "
				   "--interpreter)",
				   interpreter);
		else
			sp_err_sys(e, "cannot run python interpreter '%s'",
				   interpreter);
		goto out;
	}
	if (proc_collect(&p, &sout, &soutlen, &serr, &serrlen, e) < 0)
		goto out;
	if (proc_wait(&p, &code, e) < 0)
		goto out;
	/* A Python that fails prints a traceback, worth quoting whole; any
	 * other program run as `X -c SCRIPT` says something else, and its
	 * first line is enough to tell the user what -i pointed at. */
	if (code != 0 && strstr(serr, "Traceback (most recent call last)")) {
		const char *dots, *tail = quote_tail(serr, serrlen, &dots);

		sp_err_set(e, "python interpreter '%s' failed (exit %d): %s%s",
			   interpreter, code, dots, tail);
		goto out;
	}
	root = code == 0 ? json_loadb(sout, soutlen, 0, &jerr) : NULL;
	if (!json_is_object(root)) {
		const char *what = code != 0 ? serr : sout;
		int first = (int)strcspn(what, "\n");

		sp_err_set(e,
			   "'%s' does not look like a Python interpreter: "
			   "spoke's query %s (exit %d)%s%.*s%s",
			   interpreter,
			   code != 0 ? "failed" : "got no JSON object back",
			   code, first ? ": '" : "", first < 120 ? first : 120,
			   what, first ? "'" : "");
		goto out;
	}
	if (json_is_string(json_object_get(root, "fatal")) &&
	    strcmp(json_string_value(json_object_get(root, "fatal")),
		   "python2") == 0) {
		sp_err_set(e,
			   "'%s' is Python %s: spoke builds wheels for "
			   "Python 3",
			   interpreter,
			   json_string_value(json_object_get(root, "version")));
		goto out;
	}
	if (json_object_get(root, "fatal")) {
		sp_err_set(e, "'%s' answered spoke's query with \"%s\"",
			   interpreter,
			   json_string_value(json_object_get(root, "fatal")));
		goto out;
	}
	ok = 1;
out:
	if (!ok) {
		json_decref(root);
		root = NULL;
	}
	proc_release(&p);
	free(sout);
	free(serr);
	free(argv);
	return root;
}

int pyinfo_query(const char *interpreter, const char *const *pyprojects,
		 size_t n, struct pyinfo *out, struct sp_err *e)
{
	struct pycache pc;
	const char **missing = NULL;
	json_t *root = NULL, *docs = NULL, *got, *v;
	size_t nmissing = 0;
	const char *k;
	int have_tags, ret = -1;

	memset(out, 0, sizeof(*out));
	if (!interpreter)
		interpreter = "python3";
	if (n == 0 && memo && json_object_get(memo, interpreter)) {
		if (fill(json_object_get(memo, interpreter), interpreter, out,
			 e) == 0)
			return 0;
		pyinfo_release(out);
		return -1;
	}

	/* The cache answers when it holds the tags and every document; else
	 * one run reads what it lacks (and says the tags again). */
	pycache_init(&pc, interpreter);
	missing = calloc(n + 1, sizeof(*missing));
	docs = json_object();
	if (!missing || !docs ||
	    pycache_docs(&pc, pyprojects, n, docs, missing, &nmissing) < 0) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	root = pycache_tags(&pc);
	have_tags = root != NULL;
	if (!root || nmissing) {
		json_decref(root);
		root = run_query(interpreter, missing, nmissing, e);
		if (!root)
			goto out;
	}
	got = json_object_get(root, "pyprojects");
	if (!json_is_object(got)) {
		got = json_object();
		if (!got || json_object_set_new(root, "pyprojects", got) < 0) {
			sp_err_set(e, "out of memory");
			goto out;
		}
	}
	json_object_foreach(docs, k, v)
	{
		if (json_object_set(got, k, v) < 0) {
			sp_err_set(e, "out of memory");
			goto out;
		}
	}
	if (nmissing || !have_tags)
		pycache_store(&pc, root, have_tags, pyprojects, n, got);
	if (fill(root, interpreter, out, e) < 0)
		goto out;
	/* Kept only when whole; without memory the next query asks again. */
	if (n == 0 && (memo || (memo = json_object())))
		json_object_set(memo, interpreter, root);
	ret = 0;
out:
	if (ret < 0)
		pyinfo_release(out);
	pycache_release(&pc);
	json_decref(root);
	json_decref(docs);
	free(missing);
	return ret;
}

void pyinfo_release(struct pyinfo *p)
{
	free(p->python_tag);
	free(p->abi_tag);
	free(p->platform_tag);
	free(p->ext_suffix);
	free(p->version);
	free(p->executable);
	json_decref(p->pyprojects);
	memset(p, 0, sizeof(*p));
}
