#define _GNU_SOURCE

#include "common/pyname.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

static int is_sep(int c)
{
	return c == '-' || c == '_' || c == '.';
}

int dist_name_valid(const char *name)
{
	size_t n = strlen(name), i;

	if (!n || !is_alnum(name[0]) || !is_alnum(name[n - 1]))
		return 0;
	for (i = 0; i < n; i++)
		if (!is_alnum(name[i]) && !is_sep(name[i]))
			return 0;
	return 1;
}

static int digits(const char **p)
{
	const char *s = *p;

	while (**p >= '0' && **p <= '9')
		(*p)++;
	return *p > s;
}

/* Case-insensitive prefix match; advances *p past it. */
static int word(const char **p, const char *w)
{
	size_t n = strlen(w);

	if (strncasecmp(*p, w, n) != 0)
		return 0;
	*p += n;
	return 1;
}

/* An optional '.', '-' or '_' separator, as PEP 440 allows between
 * segments. */
static void sep(const char **p)
{
	if (**p == '.' || **p == '-' || **p == '_')
		(*p)++;
}

/* PEP 440 (its permissive spellings too, which normalize to the canonical
 * form): [v][N!]N(.N)*[{a|b|rc|alpha|beta|c|pre|preview}[N]][.postN|-N]
 * [.devN][+local]. */
int version_valid(const char *v)
{
	static const char *const pre[] = {"alpha", "beta", "preview", "pre",
					  "rc", "a", "b", "c"};
	const char *p = v, *q;
	size_t i;

	if (*p == 'v' || *p == 'V')
		p++;
	q = p;
	if (digits(&q) && *q == '!')
		p = q + 1;
	if (!digits(&p))
		return 0;
	while (*p == '.' && p[1] >= '0' && p[1] <= '9') {
		p++;
		digits(&p);
	}
	q = p;
	sep(&q);
	for (i = 0; i < sizeof(pre) / sizeof(pre[0]); i++) {
		if (word(&q, pre[i])) {
			sep(&q);
			digits(&q);
			p = q;
			break;
		}
	}
	q = p;
	if (*q == '-' && q[1] >= '0' && q[1] <= '9') {
		q++;
		digits(&q);
		p = q;
	} else {
		sep(&q);
		if (word(&q, "post") || word(&q, "rev") || word(&q, "r")) {
			sep(&q);
			digits(&q);
			p = q;
		}
	}
	q = p;
	sep(&q);
	if (word(&q, "dev")) {
		sep(&q);
		digits(&q);
		p = q;
	}
	if (*p == '+') {
		p++;
		if (!is_alnum(*p))
			return 0;
		for (; *p; p++) {
			if (is_alnum(*p))
				continue;
			if (!strchr("._-", *p) || !is_alnum(p[1]))
				return 0;
		}
	}
	return *p == '\0';
}

int tag_valid(const char *tag)
{
	const char *p;
	int start = 1;

	for (p = tag; *p; p++) {
		if (*p == '.') {
			if (start)
				return 0;
			start = 1;
		} else if (is_alnum(*p) || *p == '_') {
			start = 0;
		} else {
			return 0;
		}
	}
	return !start;
}

int module_name_valid(const char *m)
{
	const char *p;
	int start = 1;

	for (p = m; *p; p++) {
		if (*p == '.') {
			if (start)
				return 0;
			start = 1;
		} else if (start) {
			if (!((*p >= 'a' && *p <= 'z') ||
			      (*p >= 'A' && *p <= 'Z') || *p == '_'))
				return 0;
			start = 0;
		} else if (!is_alnum(*p) && *p != '_') {
			return 0;
		}
	}
	return !start;
}

char *dist_normalize(const char *name)
{
	char *out = malloc(strlen(name) + 1), *q = out;
	const char *p;

	if (!out)
		return NULL;
	for (p = name; *p; p++) {
		if (is_sep(*p)) {
			if (p == name || !is_sep(p[-1]))
				*q++ = '_';
		} else if (*p >= 'A' && *p <= 'Z') {
			*q++ = (char)(*p - 'A' + 'a');
		} else {
			*q++ = *p;
		}
	}
	*q = '\0';
	return out;
}

/* Returns version with each '-' written '_', the wheel file name form
 * (malloc'd), or NULL on out-of-memory. */
static char *escape_version(const char *version)
{
	char *v = strdup(version), *p;

	for (p = v; p && *p; p++)
		if (*p == '-')
			*p = '_';
	return v;
}

char *wheel_linux_tag(const char *arch)
{
	char *tag;

	return asprintf(&tag, "linux_%s", arch) < 0 ? NULL : tag;
}

char *wheel_filename(const char *dist, const char *version, const char *py,
		     const char *abi, const char *plat)
{
	char *norm = dist_normalize(dist), *v = escape_version(version);
	char *out = NULL;

	if (norm && v &&
	    asprintf(&out, "%s-%s-%s-%s-%s.whl", norm, v, py, abi, plat) < 0)
		out = NULL;
	free(norm);
	free(v);
	return out;
}

char *dist_info_dir(const char *dist, const char *version)
{
	char *norm = dist_normalize(dist), *v = escape_version(version);
	char *out = NULL;

	if (norm && v && asprintf(&out, "%s-%s.dist-info", norm, v) < 0)
		out = NULL;
	free(norm);
	free(v);
	return out;
}

int ext_suffix_valid(const char *s)
{
	if (s[0] != '.' || !s[1])
		return 0;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
			    *s))
			return 0;
	return 1;
}

int pyname_check_artifact(const struct pyname_artifact *a, struct sp_err *e)
{
	const char *const tags[3] = {a->python_tag, a->abi_tag,
				     a->platform_tag};
	static const char *const tag_names[3] = {"python_tag", "abi_tag",
						 "platform_tag"};
	size_t i;

	if (!a->distribution || !*a->distribution)
		return sp_err_set(e, "missing 'distribution'");
	if (!dist_name_valid(a->distribution))
		return sp_err_set(e,
				  "invalid distribution name '%s': it is not "
				  "a valid distribution name (ASCII letters "
				  "and digits, with '.', '_' and '-' inside)",
				  a->distribution);
	if (!a->version || !*a->version)
		return sp_err_set(e, "missing 'version'");
	if (!version_valid(a->version))
		return sp_err_set(e,
				  "invalid version '%s': it is not a PEP 440 "
				  "version",
				  a->version);
	if (!a->module || !*a->module)
		return sp_err_set(e, "missing 'module'");
	if (!module_name_valid(a->module))
		return sp_err_set(e,
				  "invalid module name '%s': it is not a "
				  "Python module name (dotted identifiers)",
				  a->module);
	/* The tags become the wheel's file name and WHEEL's Tag lines. */
	for (i = 0; i < 3; i++)
		if (tags[i] && !tag_valid(tags[i]))
			return sp_err_set(e, "invalid %s '%s'", tag_names[i],
					  tags[i]);
	if (a->ext_suffix && !ext_suffix_valid(a->ext_suffix))
		return sp_err_set(e,
				  "invalid ext_suffix '%s': an extension "
				  "suffix is '.' then letters, digits, '.', "
				  "'_' and '-' (\".cpython-312-x86_64-linux-"
				  "gnu.so\")",
				  a->ext_suffix);
	return 0;
}
