/*
 * esc.c - names from hostile input, made safe to print.
 */
#define _GNU_SOURCE
#include "common/esc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The length of the valid UTF-8 sequence at s (1 to 4), or 0 when the
 * bytes there are not one (overlong forms, surrogates and code points
 * above U+10FFFF included). */
static size_t utf8_seq(const unsigned char *s)
{
	uint32_t cp;
	size_t n, k;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	for (k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0; /* the NUL at the end stops here too */
		cp = cp << 6 | (s[k] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Appends the escaped form of s to out (when out is not NULL) and returns
 * its length. */
static size_t escape(const char *s, char *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = 0, n;
	char tmp[8];

	while (*p) {
		n = utf8_seq(p);
		if (n == 1 && (*p < 0x20 || *p == 0x7f)) {
			snprintf(tmp, sizeof(tmp), "\\x%02x", *p);
		} else if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0) {
			snprintf(tmp, sizeof(tmp), "\\u%04x", p[1]);
		} else if (n == 0) {
			snprintf(tmp, sizeof(tmp), "\\x%02x", *p);
			n = 1;
		} else {
			if (out)
				memcpy(out + len, p, n);
			len += n;
			p += n;
			continue;
		}
		if (out)
			memcpy(out + len, tmp, strlen(tmp));
		len += strlen(tmp);
		p += n;
	}
	if (out)
		out[len] = '\0';
	return len;
}

/* Every escape is longer than what it replaces, so an unchanged length
 * means an unchanged string. */
int esc_needed(const char *s)
{
	return escape(s, NULL) != strlen(s);
}

char *esc_dup(const char *s)
{
	char *out = malloc(escape(s, NULL) + 1);

	if (out)
		escape(s, out);
	return out;
}

const char *esc(const char *s)
{
	static char *ring[8];
	static unsigned next;
	char *copy;

	if (!s)
		return "(null)";
	if (!esc_needed(s))
		return s;
	copy = esc_dup(s);
	if (!copy)
		return "(unprintable name)";
	free(ring[next]);
	ring[next] = copy;
	next = (next + 1) % 8;
	return copy;
}

void esc_fputs(const char *s, FILE *f)
{
	const char *nl;
	char *line;

	if (!s) {
		fputs("(null)", f);
		return;
	}
	for (;;) {
		nl = strchr(s, '\n');
		if (!nl) {
			fputs(esc(s), f);
			return;
		}
		line = strndup(s, (size_t)(nl - s));
		fputs(line ? esc(line) : "(unprintable line)", f);
		free(line);
		fputc('\n', f);
		s = nl + 1;
	}
}
