/*
 * abi3.c - the stable ABI: which modules are tagged cpXY-abi3.
 */
#include "cli/project/abi3.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/project/strutil.h"

/* Where a floor came from, for messages that name it. */
struct floor {
	long minor; /* 3.<minor>; -1: no abi3 from this source */
	char what[64];
};

/* The minor version in s when s is prefix followed by digits only
 * ("cp38" with "cp3": 8); else -1. */
static long minor_after(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);
	const char *p;

	if (!s || strncmp(s, prefix, n) != 0 || !s[n])
		return -1;
	for (p = s + n; *p; p++)
		if (!isdigit((unsigned char)*p) || p - (s + n) > 6)
			return -1;
	return strtol(s + n, NULL, 10);
}

/* Whether pkg depends on pyo3 or pyo3-ffi itself (not for its build
 * script or its tests only): then pyo3's features are its own. */
static int uses_pyo3(const json_t *pkg)
{
	const json_t *d;
	size_t i;

	json_array_foreach(json_object_get(pkg, "dependencies"), i, d)
	{
		const char *name = str_member(d, "name");
		const char *kind = str_member(d, "kind");

		if (name && !kind &&
		    (strcmp(name, "pyo3") == 0 ||
		     strcmp(name, "pyo3-ffi") == 0))
			return 1;
	}
	return 0;
}

/*
 * The floor pyo3's features give: the lowest abi3-py3Y, else the
 * interpreter's minor (have) when the plain abi3 feature is on, else -1.
 */
static void feature_floor(const json_t *features, long have, struct floor *f)
{
	const json_t *x;
	int plain = 0;
	size_t i;

	f->minor = -1;
	json_array_foreach(features, i, x)
	{
		const char *s = json_string_value(x);
		long m = minor_after(s, "abi3-py3");

		if (s && strcmp(s, "abi3") == 0)
			plain = 1;
		if (m >= 0 && (f->minor < 0 || m < f->minor)) {
			f->minor = m;
			snprintf(f->what, sizeof(f->what),
				 "pyo3's feature abi3-py3%ld", m);
		}
	}
	if (f->minor < 0 && plain) {
		f->minor = have;
		snprintf(f->what, sizeof(f->what),
			 "pyo3's feature abi3 (the interpreter's 3.%ld)", have);
	}
}

/* A free-threaded CPython's abi tag carries "t" after its version
 * ("cp313t", "cp313td"): such a build has no stable ABI. */
static int free_threaded(const char *abi_tag)
{
	const char *p = abi_tag;

	if (strncmp(p, "cp", 2) != 0)
		return 0;
	for (p += 2; isdigit((unsigned char)*p); p++)
		;
	return strchr(p, 't') != NULL;
}

int abi3_tags(const json_t *pkg, const json_t *pyo3_features,
	      const struct pyinfo *py, struct abi3_tags *t, struct sp_err *e)
{
	const json_t *v = json_object_get(
	    json_object_get(json_object_get(pkg, "metadata"), "spoke"), "abi3");
	const char *s = json_string_value(v);
	long have = minor_after(py->python_tag, "cp3");
	struct floor spoke = {.minor = -1}, feat = {.minor = -1};
	const struct floor *f;

	memset(t, 0, sizeof(*t));
	t->py = py->python_tag;
	t->abi = py->abi_tag;
	t->ext = py->ext_suffix;
	if (v) {
		if (!s || strncmp(s, "cp3", 3) != 0)
			return sp_err_set(e, "[package.metadata.spoke] abi3 "
					     "must be a CPython tag like "
					     "\"cp38\"");
		spoke.minor = minor_after(s, "cp3");
		if (spoke.minor < 0)
			return sp_err_set(e,
					  "[package.metadata.spoke] abi3 "
					  "'%s' is not a tag like \"cp38\"",
					  s);
		snprintf(spoke.what, sizeof(spoke.what),
			 "[package.metadata.spoke] abi3 = \"%.16s\"", s);
		if (have < 0)
			return sp_err_set(e,
					  "abi3 wheels need a CPython "
					  "interpreter, not '%s'",
					  py->python_tag);
	}
	/* pyo3 builds a version-specific module for PyPy and other
	 * interpreters whatever its features say. */
	if (have >= 0 && pyo3_features && uses_pyo3(pkg))
		feature_floor(pyo3_features, have, &feat);

	/* Both sources describe the same compiled module: a tag the code
	 * was not compiled for would install where it cannot import. */
	if (spoke.minor >= 0 && pyo3_features && uses_pyo3(pkg) &&
	    feat.minor < 0)
		return sp_err_set(e,
				  "%s, but pyo3 is built without its abi3 "
				  "features: enable pyo3's feature "
				  "abi3-py3%ld, or remove the setting",
				  spoke.what, spoke.minor);
	if (spoke.minor >= 0 && feat.minor >= 0 && spoke.minor != feat.minor)
		return sp_err_set(e,
				  "%s disagrees with %s (cp3%ld): state one "
				  "floor, or remove the setting",
				  spoke.what, feat.what, feat.minor);
	f = spoke.minor >= 0 ? &spoke : feat.minor >= 0 ? &feat : NULL;
	if (!f)
		return 0;

	if (free_threaded(py->abi_tag))
		return sp_err_set(e,
				  "abi3 (%s) cannot be built for the "
				  "free-threaded interpreter %s: "
				  "free-threaded CPython has no stable ABI; "
				  "build with a GIL-enabled interpreter, or "
				  "without abi3",
				  f->what, py->abi_tag);
	/* An interpreter older than the floor cannot vouch for the
	 * wheel's tag. */
	if (have < f->minor)
		return sp_err_set(e,
				  "%s needs Python 3.%ld or newer to build "
				  "with; the interpreter is %s",
				  f->what, f->minor, py->python_tag);
	snprintf(t->floor, sizeof(t->floor), "cp3%ld", f->minor);
	t->py = t->floor;
	t->abi = "abi3";
	t->ext = ".abi3.so";
	return 0;
}
