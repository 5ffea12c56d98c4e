/*
 * pep440.c - cargo (semver) versions as PEP 440 versions.
 */
#define _GNU_SOURCE
#include "cli/project/pep440.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PEP440_HINT "; set [project] version in pyproject.toml"

/* Pre-release labels semver users write, and the PEP 440 spelling of each.
 * The PEP 440 spelling includes the separator, so ".dev" sits here too. */
static const struct {
	const char *label;
	const char *pep440;
} pre_labels[] = {
    {"a", "a"},	   {"alpha", "a"},    {"b", "b"},
    {"beta", "b"}, {"c", "rc"},	      {"rc", "rc"},
    {"pre", "rc"}, {"preview", "rc"}, {"dev", ".dev"},
};

static int fail(struct sp_err *e, const char *semver, const char *why)
{
	return sp_err_set(
	    e, "cannot express cargo version '%s' in PEP 440: %s" PEP440_HINT,
	    semver, why);
}

static int all_digits(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Appends the n digits at s without leading zeros (PEP 440 normalizes
 * "01" to "1"), keeping one digit for zero.  Returns the new end. */
static char *put_number(char *o, const char *s, size_t n)
{
	while (n > 1 && *s == '0') {
		s++;
		n--;
	}
	memcpy(o, s, n);
	return o + n;
}

/* Writes the release numbers ("1.0.0") of s[0..n) to *o.  Returns 0 or -1. */
static int put_core(char **o, const char *semver, const char *s, size_t n,
		    struct sp_err *e)
{
	const char *end = s + n;

	if (n == 0)
		return fail(e, semver, "no release number");
	while (s <= end) {
		const char *dot = memchr(s, '.', (size_t)(end - s));
		size_t len = dot ? (size_t)(dot - s) : (size_t)(end - s);

		if (!all_digits(s, len))
			return fail(e, semver,
				    "the release numbers must be digits "
				    "separated by dots");
		*o = put_number(*o, s, len);
		if (!dot)
			break;
		*(*o)++ = '.';
		s = dot + 1;
	}
	return 0;
}

/*
 * Writes the pre-release s[0..n) in PEP 440 form: one label, with its number
 * attached ("rc3") or as the next identifier ("rc.3"), or none (0).
 */
static int put_pre(char **o, const char *semver, const char *s, size_t n,
		   struct sp_err *e)
{
	const char *end = s + n, *num = NULL;
	size_t lablen, numlen = 0, i;
	const char *dot;

	if (n == 0)
		return fail(e, semver, "empty pre-release");
	dot = memchr(s, '.', n);
	for (lablen = 0; s + lablen < (dot ? dot : end); lablen++)
		if (!isalpha((unsigned char)s[lablen]))
			break;
	if (lablen == 0)
		return fail(e, semver,
			    "a pre-release must start with alpha, beta, rc "
			    "or dev");
	if (s + lablen < (dot ? dot : end)) {
		/* "rc3": the number is attached to the label. */
		num = s + lablen;
		numlen = (size_t)((dot ? dot : end) - num);
		if (!all_digits(num, numlen))
			return fail(e, semver,
				    "a pre-release is a label and a number, "
				    "like alpha.1 or rc2");
		if (dot)
			return fail(e, semver,
				    "a pre-release has one label and at most "
				    "one number");
	} else if (dot) {
		/* "rc.3": the number is the next identifier, and the last. */
		num = dot + 1;
		numlen = (size_t)(end - num);
		if (memchr(num, '.', numlen))
			return fail(e, semver,
				    "a pre-release has one label and at most "
				    "one number");
		if (!all_digits(num, numlen))
			return fail(e, semver,
				    "a pre-release is a label and a number, "
				    "like alpha.1 or rc2");
	}

	for (i = 0; i < sizeof(pre_labels) / sizeof(pre_labels[0]); i++) {
		const char *l = pre_labels[i].label;

		if (strlen(l) == lablen && strncasecmp(l, s, lablen) == 0)
			break;
	}
	if (i == sizeof(pre_labels) / sizeof(pre_labels[0]))
		return fail(e, semver,
			    "unknown pre-release label (PEP 440 knows alpha, "
			    "beta, rc and dev)");
	*o = stpcpy(*o, pre_labels[i].pep440);
	if (num)
		*o = put_number(*o, num, numlen);
	else
		*(*o)++ = '0';
	return 0;
}

/*
 * Writes build metadata s[0..n) as a PEP 440 local version: segments of
 * lowercase letters and digits separated by single dots.
 */
static int put_local(char **o, const char *semver, const char *s, size_t n,
		     struct sp_err *e)
{
	char *start = *o + 1, *p = start;
	size_t i;

	**o = '+';
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isalnum(c))
			*p++ = (char)tolower(c);
		else if (p > start && p[-1] != '.')
			*p++ = '.';
	}
	if (p > start && p[-1] == '.')
		p--;
	if (p == start)
		return fail(e, semver,
			    "the build metadata has no letter or digit");
	*o = p;
	return 0;
}

char *pep440_from_semver(const char *semver, struct sp_err *e)
{
	size_t len = strlen(semver);
	const char *plus, *minus, *core_end;
	char *out, *o;

	/* The output grows by at most one byte ("-dev" -> ".dev0"). */
	out = malloc(len + 8);
	if (!out) {
		sp_err_sys(e, "cannot convert version '%s'", semver);
		return NULL;
	}
	o = out;

	plus = strchr(semver, '+');
	minus = memchr(semver, '-', plus ? (size_t)(plus - semver) : len);
	core_end = minus ? minus : plus ? plus : semver + len;

	if (put_core(&o, semver, semver, (size_t)(core_end - semver), e) < 0)
		goto fail;
	if (minus) {
		const char *pre_end = plus ? plus : semver + len;

		if (put_pre(&o, semver, minus + 1,
			    (size_t)(pre_end - minus - 1), e) < 0)
			goto fail;
	}
	if (plus && put_local(&o, semver, plus + 1, strlen(plus + 1), e) < 0)
		goto fail;
	*o = '\0';
	return out;
fail:
	free(out);
	return NULL;
}
