/*
 * tomlemit.c - TOML text from a JSON document.
 */
#define _GNU_SOURCE
#include "cli/project/tomlemit.h"
#include "cli/project/strutil.h"
#include "cli/project/tomldoc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct emit {
	FILE *f;
	const char *bad; /* the first key whose value TOML cannot hold */
};

/* A key is written bare when TOML allows it, else as a quoted string. */
static void put_string(struct emit *m, const char *s)
{
	const unsigned char *p;

	fputc('"', m->f);
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", m->f);
			break;
		case '\\':
			fputs("\\\\", m->f);
			break;
		case '\n':
			fputs("\\n", m->f);
			break;
		case '\t':
			fputs("\\t", m->f);
			break;
		case '\r':
			fputs("\\r", m->f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(m->f, "\\u%04x", *p);
			else
				fputc(*p, m->f);
		}
	}
	fputc('"', m->f);
}

static void put_key(struct emit *m, const char *k)
{
	const char *p;

	for (p = k; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			break;
	if (*k && !*p)
		fputs(k, m->f);
	else
		put_string(m, k);
}

/* A table as TOML sees it: an object that is not a tagged value. */
static int is_table(const json_t *v)
{
	return json_is_object(v) && !tomldoc_bare(v);
}

/* An array every element of which is a table: [[x]] sections. */
static int is_table_array(const json_t *v)
{
	const json_t *x;
	size_t i;

	if (!json_is_array(v) || json_array_size(v) == 0)
		return 0;
	json_array_foreach(v, i, x) if (!is_table(x)) return 0;
	return 1;
}

static void put_value(struct emit *m, const char *key, const json_t *v);

static void put_inline(struct emit *m, const json_t *t)
{
	const char *k;
	json_t *x;
	int first = 1;

	fputc('{', m->f);
	json_object_foreach((json_t *)t, k, x)
	{
		fputs(first ? " " : ", ", m->f);
		first = 0;
		put_key(m, k);
		fputs(" = ", m->f);
		put_value(m, k, x);
	}
	fputs(first ? "}" : " }", m->f);
}

static void put_value(struct emit *m, const char *key, const json_t *v)
{
	const json_t *x;
	size_t i;

	if (tomldoc_bare(v)) {
		fputs(tomldoc_bare(v), m->f);
	} else if (json_is_string(v)) {
		put_string(m, json_string_value(v));
	} else if (json_is_integer(v)) {
		fprintf(m->f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_real(v)) {
		char buf[64];

		snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
		/* TOML tells a float from an integer by its '.' or 'e'. */
		if (!strpbrk(buf, ".e"))
			strcat(buf, ".0");
		fputs(buf, m->f);
	} else if (json_is_boolean(v)) {
		fputs(json_is_true(v) ? "true" : "false", m->f);
	} else if (json_is_array(v)) {
		fputc('[', m->f);
		json_array_foreach(v, i, x)
		{
			if (i)
				fputs(", ", m->f);
			put_value(m, key, x);
		}
		fputc(']', m->f);
	} else if (json_is_object(v)) {
		put_inline(m, v);
	} else if (!m->bad) {
		m->bad = key;
	}
}

/* A dependency table, whose entries read best inline. */
static int is_dep_table(const char *name)
{
	size_t n = strlen(name);

	return n >= 12 && strcmp(name + n - 12, "dependencies") == 0;
}

/* Only plain values (no table, no array of tables) below t. */
static int is_flat(const json_t *t)
{
	const char *k;
	json_t *x;

	json_object_foreach((json_t *)t, k,
			    x) if (is_table(x) || is_table_array(x)) return 0;
	return 1;
}

/* Whether the member x of a table named parent is written as a section
 * of its own ([parent.k] or [[parent.k]]) rather than as `k = ...`. */
static int is_section(const char *parent, const json_t *x)
{
	if (is_table_array(x))
		return 1;
	if (!is_table(x))
		return 0;
	return !(parent && is_dep_table(parent) && is_flat(x));
}

/* Whether the table t, named name, has a member written as `k = ...`
 * (or is empty, and so needs its header to exist at all). */
static int has_plain(const char *name, const json_t *t)
{
	const char *k;
	json_t *x;

	if (json_object_size(t) == 0)
		return 1;
	json_object_foreach((json_t *)t, k,
			    x) if (!is_section(name, x)) return 1;
	return 0;
}

static void put_path(struct emit *m, const char *const *path, size_t depth)
{
	size_t i;

	for (i = 0; i < depth; i++) {
		if (i)
			fputc('.', m->f);
		put_key(m, path[i]);
	}
}

/* Writes the table t at path[0..depth): its plain members, then its
 * sections.  An array-of-tables element (aot) is a section of its own
 * already and keeps its sub-tables inline. */
static void put_table(struct emit *m, const json_t *t, const char **path,
		      size_t depth, int aot)
{
	const char *parent = depth ? path[depth - 1] : NULL;
	const char *k;
	json_t *x;
	size_t i;

	json_object_foreach((json_t *)t, k, x)
	{
		if (!aot && is_section(parent, x))
			continue;
		put_key(m, k);
		fputs(" = ", m->f);
		put_value(m, k, x);
		fputc('\n', m->f);
	}
	if (aot)
		return;
	json_object_foreach((json_t *)t, k, x)
	{
		if (!is_section(parent, x))
			continue;
		/* A section deeper than the path holds is refused, never
		 * left out: the document would mean something else. */
		if (depth >= 63) {
			if (!m->bad)
				m->bad = k;
			continue;
		}
		path[depth] = k;
		if (is_table_array(x)) {
			json_t *el;

			json_array_foreach(x, i, el)
			{
				fputs("\n[[", m->f);
				put_path(m, path, depth + 1);
				fputs("]]\n", m->f);
				put_table(m, el, path, depth + 1, 1);
			}
			continue;
		}
		/* A table holding only sections needs no header of its own
		 * ([target] above [target.'cfg(unix)'.dependencies]). */
		if (has_plain(k, x)) {
			fputs("\n[", m->f);
			put_path(m, path, depth + 1);
			fputs("]\n", m->f);
		}
		put_table(m, x, path, depth + 1, 0);
	}
}

char *tomlemit(const json_t *doc, const char *header, struct sp_err *e)
{
	const char *path[64];
	struct emit m = {0};
	char *text = NULL;
	size_t len = 0;

	if (!json_is_object(doc)) {
		sp_err_set(e, "cannot write TOML: the document is not a table");
		return NULL;
	}
	m.f = open_memstream(&text, &len);
	if (!m.f) {
		str_oom(e, "write TOML");
		return NULL;
	}
	if (header)
		fputs(header, m.f);
	put_table(&m, doc, path, 0, 0);
	if (fclose(m.f) != 0) {
		free(text);
		str_oom(e, "write TOML");
		return NULL;
	}
	if (m.bad) {
		sp_err_set(e,
			   "cannot write TOML: '%s' has no value TOML can hold",
			   m.bad);
		free(text);
		return NULL;
	}
	return text;
}
