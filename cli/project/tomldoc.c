/*
 * tomldoc.c - whole TOML documents from the interpreter's tomllib.
 */
#define _GNU_SOURCE
#include "cli/project/tomldoc.h"
#include "cli/project/proc.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/*
 * Run as `python -c SCRIPT FILE...`; prints {"docs": {file: doc}} or
 * {"error": "..."} naming the first file that failed.  Values JSON has no
 * spelling for are tagged (tomldoc.h).  Written for any Python 3.6+.
 */
static const char read_script[] =
    "import datetime, json, math, sys\n"
    "try:\n"
    "    import tomllib as toml\n"
    "except ImportError:\n"
    "    try:\n"
    "        import tomli as toml\n"
    "    except ImportError:\n"
    "        sys.stdout.write(json.dumps({'error': 'it has neither tomllib'\n"
    "            ' nor tomli (use Python 3.11 or newer, or install tomli)'}))\n"
    "        sys.exit(0)\n"
    "BARE = '" TOMLDOC_BARE "'\n"
    "def conv(v):\n"
    "    if isinstance(v, dict):\n"
    "        if BARE in v:\n"
    "            raise ValueError('the key %s is reserved' % BARE)\n"
    "        return {k: conv(x) for k, x in v.items()}\n"
    "    if isinstance(v, list):\n"
    "        return [conv(x) for x in v]\n"
    "    if isinstance(v, (datetime.date, datetime.time)):\n"
    "        return {BARE: v.isoformat()}\n"
    "    if isinstance(v, float) and not math.isfinite(v):\n"
    "        return {BARE: 'nan' if v != v else ('inf' if v > 0 else '-inf')}\n"
    "    return v\n"
    "docs = {}\n"
    "for p in sys.argv[1:]:\n"
    "    try:\n"
    "        with open(p, 'rb') as f:\n"
    "            docs[p] = conv(toml.load(f))\n"
    "    except Exception as x:\n"
    "        sys.stdout.write(json.dumps({'error': 'cannot read %r: %s: %s'\n"
    "            % (p, type(x).__name__, x)}))\n"
    "        sys.exit(0)\n"
    "sys.stdout.write(json.dumps({'docs': docs}))\n";

json_t *tomldoc_read(const char *interpreter, const char *const *paths,
		     size_t n, struct sp_err *e)
{
	struct proc p = {.pid = -1, .out_fd = -1, .err_fd = -1};
	const char **argv = NULL;
	char *out = NULL, *err = NULL;
	size_t outlen = 0, errlen = 0, i;
	json_t *root = NULL, *docs = NULL;
	json_error_t jerr;
	int code;

	if (!interpreter)
		interpreter = "python3";
	argv = calloc(n + 4, sizeof(*argv));
	if (!argv) {
		sp_err_sys(e, "cannot read TOML with '%s'", interpreter);
		return NULL;
	}
	argv[0] = interpreter;
	argv[1] = "-c";
	argv[2] = read_script;
	for (i = 0; i < n; i++)
		argv[3 + i] = paths[i];
	if (proc_spawn(&p, argv, NULL, PROC_PIPE_STDOUT | PROC_PIPE_STDERR, e) <
	    0) {
		if (errno == ENOENT)
			sp_err_set(e,
				   "python interpreter '%s' not found (use "
				   "--interpreter)",
				   interpreter);
		goto out;
	}
	if (proc_collect(&p, &out, &outlen, &err, &errlen, e) < 0 ||
	    proc_wait(&p, &code, e) < 0)
		goto out;
	root = code == 0 ? json_loadb(out, outlen, 0, &jerr) : NULL;
	if (!json_is_object(root)) {
		sp_err_set(e,
			   "python interpreter '%s' could not read TOML (exit "
			   "%d): %.300s",
			   interpreter, code, err && *err ? err : "no answer");
		goto out;
	}
	if (json_string_value(json_object_get(root, "error"))) {
		sp_err_set(e, "python interpreter '%s': %s", interpreter,
			   json_string_value(json_object_get(root, "error")));
		goto out;
	}
	docs = json_incref(json_object_get(root, "docs"));
	if (!json_is_object(docs)) {
		json_decref(docs);
		docs = NULL;
		sp_err_set(e, "python interpreter '%s' gave no TOML documents",
			   interpreter);
	}
out:
	proc_release(&p);
	json_decref(root);
	free(out);
	free(err);
	free(argv);
	return docs;
}

/* Whether s is how Python's isoformat() spells a date or time, or a
 * float TOML writes bare (inf, -inf, nan): only such text is written
 * back unquoted, so no document can smuggle TOML through a tag. */
static int bare_ok(const char *s)
{
	if (strcmp(s, "inf") == 0 || strcmp(s, "-inf") == 0 ||
	    strcmp(s, "nan") == 0)
		return 1;
	if (!isdigit((unsigned char)*s))
		return 0;
	return strspn(s, "0123456789-:.+TZ") == strlen(s);
}

const char *tomldoc_bare(const json_t *v)
{
	const char *s;

	if (!json_is_object(v) || json_object_size(v) != 1)
		return NULL;
	s = json_string_value(json_object_get(v, TOMLDOC_BARE));
	return s && bare_ok(s) ? s : NULL;
}
