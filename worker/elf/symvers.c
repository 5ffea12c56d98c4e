#include "worker/elf/symvers.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsx.h"

#define SHT_GNU_VERNEED_ 0x6ffffffeu

/* An ELF image in memory, of either class and byte order. */
struct img {
	const uint8_t *p;
	size_t len;
	int is64, big;
	const char *name;
};

static uint64_t rd(const struct img *m, size_t off, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++) {
		unsigned b = m->p[off + (size_t)(m->big ? i : n - 1 - i)];

		v = v << 8 | b;
	}
	return v;
}

/* 1 when [off, off + n) lies inside the image. */
static int inside(const struct img *m, uint64_t off, uint64_t n)
{
	return off <= m->len && n <= m->len - off;
}

static int corrupt(const struct img *m, const char *why, struct sp_err *e)
{
	return sp_err_set(e, "'%s' is truncated or corrupt: %s", m->name, why);
}

int symver_parse(const char *s, struct symver *v)
{
	unsigned long n;
	char *end;
	int k = 0;

	memset(v, 0, sizeof(*v));
	for (;;) {
		if (*s < '0' || *s > '9' || k == 3)
			return -1;
		n = strtoul(s, &end, 10);
		if (n > 0xffffu)
			return -1;
		v->v[k++] = (unsigned)n;
		if (!*end)
			break;
		if (*end != '.')
			return -1;
		s = end + 1;
	}
	v->parts = k;
	v->present = 1;
	return 0;
}

int symver_cmp(const struct symver *a, const struct symver *b)
{
	int i;

	if (a->present != b->present)
		return a->present - b->present;
	for (i = 0; i < 3; i++)
		if (a->v[i] != b->v[i])
			return a->v[i] < b->v[i] ? -1 : 1;
	return 0;
}

static void keep_max(struct symver *have, const struct symver *v)
{
	if (symver_cmp(v, have) > 0)
		*have = *v;
}

/* Folds one required version name ("GLIBC_2.17") into out. */
static void note(const char *s, struct symvers *out)
{
	static const struct {
		const char *prefix;
		size_t off;
	} ns[] = {
		{"GLIBC_", offsetof(struct symvers, glibc)},
		{"GLIBCXX_", offsetof(struct symvers, glibcxx)},
		{"CXXABI_", offsetof(struct symvers, cxxabi)},
		{"GCC_", offsetof(struct symvers, gcc)},
	};
	struct symver v;
	size_t i, n;

	for (i = 0; i < sizeof(ns) / sizeof(*ns); i++) {
		n = strlen(ns[i].prefix);
		if (strncmp(s, ns[i].prefix, n) == 0 &&
		    symver_parse(s + n, &v) == 0) {
			keep_max((struct symver *)((char *)out + ns[i].off),
				 &v);
			return;
		}
	}
}

/* Reads section header i: type, offset, size, link, info. */
static int section(const struct img *m, uint64_t shoff, unsigned shentsize,
		   uint64_t i, uint64_t f[5], struct sp_err *e)
{
	uint64_t off = shoff + i * shentsize;

	if (!inside(m, off, shentsize))
		return corrupt(m, "section header outside the file", e);
	if (m->is64) {
		f[0] = rd(m, off + 4, 4);
		f[1] = rd(m, off + 24, 8);
		f[2] = rd(m, off + 32, 8);
		f[3] = rd(m, off + 40, 4);
		f[4] = rd(m, off + 44, 4);
	} else {
		f[0] = rd(m, off + 4, 4);
		f[1] = rd(m, off + 16, 4);
		f[2] = rd(m, off + 20, 4);
		f[3] = rd(m, off + 24, 4);
		f[4] = rd(m, off + 28, 4);
	}
	return 0;
}

/* Walks the Verneed chain of one SHT_GNU_verneed section. */
static int walk_verneed(const struct img *m, const uint64_t vn[5],
			const uint64_t str[5], struct symvers *out,
			struct sp_err *e)
{
	uint64_t off = vn[1], end = vn[1] + vn[2], aux, name, steps = 0;
	uint64_t max_steps = vn[2] / 16 + 1;
	unsigned cnt, j;
	uint32_t next, anext;
	const char *s;

	if (!inside(m, vn[1], vn[2]) || !inside(m, str[1], str[2]))
		return corrupt(m, ".gnu.version_r outside the file", e);
	for (;;) {
		if (end - off < 16 || off > end)
			return corrupt(m, "bad .gnu.version_r entry", e);
		cnt = (unsigned)rd(m, off + 2, 2);
		aux = off + rd(m, off + 8, 4);
		next = (uint32_t)rd(m, off + 12, 4);
		for (j = 0; j < cnt; j++) {
			if (++steps > max_steps || aux > end || end - aux < 16)
				return corrupt(m, "bad .gnu.version_r entry",
					       e);
			name = rd(m, aux + 8, 4);
			anext = (uint32_t)rd(m, aux + 12, 4);
			if (name >= str[2])
				return corrupt(m, "bad version name", e);
			s = (const char *)m->p + str[1] + name;
			if (!memchr(s, '\0', (size_t)(str[2] - name)))
				return corrupt(m, "unterminated version name",
					       e);
			note(s, out);
			if (!anext)
				break;
			aux += anext;
		}
		if (!next)
			return 0;
		if (++steps > max_steps)
			return corrupt(m, "bad .gnu.version_r chain", e);
		off += next;
	}
}

int symvers_read_mem(const void *in, size_t len, const char *name,
		     struct symvers *out, struct sp_err *e)
{
	struct img m = {in, len, 0, 0, name};
	uint64_t shoff, shnum, i, f[5], str[5];
	unsigned shentsize;

	memset(out, 0, sizeof(*out));
	if (len < 52 || memcmp(in, "\177ELF", 4) != 0)
		return sp_err_set(e, "'%s' is not an ELF file", name);
	if (m.p[4] != 1 && m.p[4] != 2)
		return corrupt(&m, "unknown ELF class", e);
	if (m.p[5] != 1 && m.p[5] != 2)
		return corrupt(&m, "unknown byte order", e);
	m.is64 = m.p[4] == 2;
	m.big = m.p[5] == 2;
	if (m.is64 && len < 64)
		return corrupt(&m, "short ELF header", e);
	shoff = m.is64 ? rd(&m, 0x28, 8) : rd(&m, 0x20, 4);
	shentsize = (unsigned)(m.is64 ? rd(&m, 0x3a, 2) : rd(&m, 0x2e, 2));
	shnum = m.is64 ? rd(&m, 0x3c, 2) : rd(&m, 0x30, 2);
	if (!shoff)
		return 0; /* no section headers: nothing to read */
	if (shentsize < (m.is64 ? 64u : 40u))
		return corrupt(&m, "bad section header size", e);
	if (!shnum) {
		/* Extended numbering: the count is in section 0's size. */
		if (section(&m, shoff, shentsize, 0, f, e) < 0)
			return -1;
		shnum = f[2];
	}
	if (shnum > len / shentsize)
		return corrupt(&m, "too many sections", e);
	for (i = 0; i < shnum; i++) {
		if (section(&m, shoff, shentsize, i, f, e) < 0)
			return -1;
		if (f[0] != SHT_GNU_VERNEED_)
			continue;
		if (f[3] >= shnum ||
		    section(&m, shoff, shentsize, f[3], str, e) < 0)
			return corrupt(&m, "bad .gnu.version_r link", e);
		if (walk_verneed(&m, f, str, out, e) < 0)
			return -1;
	}
	return 0;
}

int symvers_read_file(const char *path, struct symvers *out,
		      struct sp_err *e)
{
	size_t len;
	char *buf = fsx_read_all(path, &len, e);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!buf)
		return -1;
	rc = symvers_read_mem(buf, len, path, out, e);
	free(buf);
	return rc;
}

void symvers_merge(struct symvers *a, const struct symvers *b)
{
	keep_max(&a->glibc, &b->glibc);
	keep_max(&a->glibcxx, &b->glibcxx);
	keep_max(&a->cxxabi, &b->cxxabi);
	keep_max(&a->gcc, &b->gcc);
}

void symver_format(const struct symver *v, char *buf, size_t n)
{
	if (v->parts == 1)
		snprintf(buf, n, "%u", v->v[0]);
	else if (v->parts == 3 || v->v[2])
		snprintf(buf, n, "%u.%u.%u", v->v[0], v->v[1], v->v[2]);
	else
		snprintf(buf, n, "%u.%u", v->v[0], v->v[1]);
}
