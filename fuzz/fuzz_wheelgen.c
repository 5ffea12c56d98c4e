/*
 * fuzz_wheelgen.c - structure-aware libFuzzer harness for the wheel reader
 * (worker/wheel/wheel_read, what `spoke show` runs, and the check `spoke repair`
 * runs first) and for the reading side of the repair.
 *
 * fuzz_wheel.c hands the reader raw bytes; almost every mutation of its one
 * seed breaks the zip structure, so the reader stops at the end record and
 * never reaches RECORD, WHEEL or the names.  This harness decodes its input
 * (fuzzin.h) into a wheel instead: which project (distribution, version,
 * file name and tags), then up to MAX_ENTS entries, each with
 *
 *   - a name: one of the names that mean something in a wheel (the
 *     .dist-info's RECORD, WHEEL, METADATA, entry_points.txt, licenses/,
 *     signatures; package files, shared objects, .data/ directories) or a
 *     hostile one (a comma, quotes, a control character, '..', an absolute
 *     path, a backslash, bad UTF-8), or bytes from the input;
 *   - contents from a grammar chosen by the name (RECORD, WHEEL, METADATA,
 *     entry_points.txt text, line by line, each line and value either the
 *     ordinary one or a hostile variant: empty, whitespace, NUL, CRLF, no
 *     final newline, quoting, signs, huge numbers), or raw bytes, or a
 *     long run, or a shared object built by elfgen.h;
 *   - zip quirks: stored or deflated, and (only when a quirk bit says so)
 *     a wrong CRC, a declared size that lies, a local name that differs
 *     from the central one, a data descriptor, a symlink mode.
 *
 * RECORD is generated last, from the finished entries, so that its ordinary
 * lines carry each entry's true sha256 (or sha384 / sha512) and size: a
 * zero-filled input builds a valid wheel, and the fuzzer works from there
 * towards every way of being invalid.  The zip itself is built here (a few
 * dozen lines, so that its faults are ours to choose), with correct CRCs and
 * offsets unless a quirk bit asks otherwise, written to a file in /dev/shm
 * (wheel_read takes a path) and read.
 *
 * Beyond "no crash, no sanitizer report", the harness checks what the
 * reader promises: a wheel it builds with a fault it knows of (a bad CRC or
 * size, a name no wheel may hold, a duplicate, an empty RECORD or WHEEL, a
 * truncated file) must not be reported valid.  A valid wheel is then given
 * to repair_wheel() (its output goes to the same private directory, and is
 * removed), and every WHEEL text to repair_wheel_retag().
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <libdeflate.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/sha256.h"
#include "fuzz/elfgen.h"
#include "fuzz/fuzzin.h"
#include "worker/wheel/wheel_read.h"
#include "worker/repair_wheel.h"
#include "worker/zip/zip_write.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ENTS 12

/* Entry quirks (one byte per entry; 0 is a well-formed entry). */
enum {
	Q_DEFLATE = 1 << 0,   /* deflated rather than stored */
	Q_BAD_CRC = 1 << 1,   /* both headers carry a wrong CRC */
	Q_USIZE_LIE = 1 << 2, /* both headers declare one byte more */
	Q_LOCAL_NAME = 1 << 3, /* the local header's name differs */
	Q_DESCRIPTOR = 1 << 4, /* sizes and CRC in a data descriptor */
	Q_SYMLINK = 1 << 5,    /* external attributes say symlink */
	Q_EXEC = 1 << 6,       /* mode 0755 */
	Q_CSIZE_LIE = 1 << 7,  /* the central compressed size is short */
};

/* Archive quirks (one byte; 0 is a well-formed archive). */
enum {
	G_PREFIX = 1 << 0,    /* junk before the first local header */
	G_COMMENT = 1 << 1,   /* an end-record comment */
	G_CD_OFF = 1 << 2,    /* the central directory offset is off by one */
	G_COUNT = 1 << 3,     /* the entry count is one too many */
	G_TRUNCATE = 1 << 4,  /* the file loses its last bytes */
	G_ZIP64 = 1 << 5,     /* zip64 end records */
	G_DUP_CD = 1 << 6,    /* the central directory lists entry 0 twice */
};

struct project {
	const char *dist, *version, *file;
	const char *tags[3]; /* the file name's tags, expanded */
};

static const struct project projects[] = {
	{"fuzz", "1.0", "fuzz-1.0-py3-none-any.whl", {"py3-none-any"}},
	{"fuzz",
	 "1.0",
	 "fuzz-1.0-cp312-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
	 {"cp312-abi3-manylinux_2_17_x86_64",
	  "cp312-abi3-manylinux2014_x86_64"}},
	{"fuzz_pkg",
	 "2.0rc1",
	 "fuzz_pkg-2.0rc1-7-py2.py3-none-any.whl",
	 {"py2-none-any", "py3-none-any"}},
	{"fuzz", "1.0", "fuzz-1.0.whl", {"py3-none-any"}},
	{"fuzz", "1.0", "Fuzz-1.0-py3-none-any.whl", {"py3-none-any"}},
};
#define NPROJECTS (sizeof(projects) / sizeof(projects[0]))

/* Names: "%D" is the project's .dist-info directory, "%P" its package. */
static const char *const names[] = {
	"%D/RECORD",
	"%D/WHEEL",
	"%D/METADATA",
	"%P/__init__.py",
	"%D/entry_points.txt",
	"%D/licenses/LICENSE",
	"%P/_native.abi3.so",
	"%P/_native.cpython-312-x86_64-linux-gnu.so",
	"%P.libs/libfoo-0123abcd.so.1",
	"%D/RECORD.jws",
	"%D/RECORD.p7s",
	"%D/licenses/sub/NOTICE",
	"%D/top_level.txt",
	"%D/",
	"%P/",
	"%P/a,b.py",
	"%P/\"q\".py",
	"%P/a\"b,c\".py",
	"%P/tab\tname.py",
	"%P/esc\033[31m.py",
	"%P/../../evil.py",
	"../evil.py",
	"/etc/passwd",
	"%P\\win.py",
	"%P/./x.py",
	"%P//x.py",
	"%P/caf\xc3\xa9.py",
	"%P/bad\xff\xfe.py",
	"%D/../%P/x.py",
	"%P-1.0.data/scripts/run",
	"%P-1.0.data/purelib/p.py",
	"other-9.dist-info/RECORD",
	"FUZZ-1.0.dist-info/WHEEL",
	"%D",
	"%D/sub/RECORD",
};
#define NNAMES (sizeof(names) / sizeof(names[0]))

enum kind { K_NATURAL, K_RAW, K_EMPTY, K_RUN, K_ELF, K_PY, K_RECORD,
	    K_WHEEL, K_METADATA, K_EP, NKINDS };

struct gent {
	struct fbuf name;
	enum kind kind;
	unsigned quirk;
	struct fin recipe; /* the bytes its contents are decoded from */
	struct fbuf data;
	uint8_t sha256[32];
};

struct gen {
	const struct project *pj;
	char dist_info[64];
	struct gent ents[MAX_ENTS];
	size_t n;
	const char *invalid; /* why the wheel must not be valid, or NULL */
};

static int has(const struct fbuf *b, const char *suffix)
{
	size_t n = strlen(suffix);

	return b->len >= n && memcmp(b->p + b->len - n, suffix, n) == 0;
}

static void expand(struct gen *g, const char *tmpl, struct fbuf *out)
{
	for (; *tmpl; tmpl++) {
		if (tmpl[0] == '%' && tmpl[1] == 'D') {
			fbuf_str(out, g->dist_info);
			tmpl++;
		} else if (tmpl[0] == '%' && tmpl[1] == 'P') {
			fbuf_str(out, g->pj->dist);
			tmpl++;
		} else {
			fbuf_add(out, tmpl, 1);
		}
	}
}

/* What an installer may not accept as an entry name: the wheel rules of
 * wheel_read.h, said again here independently (UTF-8 aside). */
static int name_bad(const struct fbuf *b)
{
	size_t i, start = 0;

	if (!b->len || b->p[0] == '/')
		return 1;
	for (i = 0; i <= b->len; i++) {
		if (i < b->len && (b->p[i] < 0x20 || b->p[i] == 0x7f ||
				   b->p[i] == '\\'))
			return 1;
		if (i == b->len || b->p[i] == '/') {
			size_t len = i - start;

			if ((len == 1 && b->p[start] == '.') ||
			    (len == 2 && b->p[start] == '.' &&
			     b->p[start + 1] == '.'))
				return 1;
			/* An empty component, except a directory's
			 * trailing '/'. */
			if (len == 0 && i != b->len)
				return 1;
			start = i + 1;
		}
	}
	return 0;
}

/* ---- text grammars ---- */

/* A line's end: mostly "\n", else CRLF, none, a lone CR, a blank line,
 * or trailing whitespace. */
static void line_end(struct fin *r, struct fbuf *b)
{
	static const char *const ends[] = {"\n", "\r\n", "", "\r", "\n\n",
					   " \t\n"};

	fbuf_str(b, ends[fin_pick(r, 6)]);
}

/* A value: as given, or empty, or from the input, or with a NUL in it,
 * or padded with whitespace, or doubled. */
static void value(struct fin *r, struct fbuf *b, const char *s)
{
	const uint8_t *p;
	size_t n;

	switch (fin_pick(r, 7)) {
	case 0:
		fbuf_str(b, s);
		break;
	case 1:
		break;
	case 2:
		n = fin_bytes(r, 40, &p);
		fbuf_add(b, p, n);
		break;
	case 3:
		n = strlen(s) / 2;
		fbuf_add(b, s, n);
		fbuf_add(b, "", 1);
		fbuf_str(b, s + n);
		break;
	case 4:
		fbuf_str(b, "  ");
		fbuf_str(b, s);
		fbuf_str(b, " \t");
		break;
	case 5:
		fbuf_str(b, s);
		fbuf_str(b, s);
		break;
	default:
		fbuf_str(b, "\xc3(");
		fbuf_str(b, s);
		break;
	}
}

/* "Key: value" with the key's spacing and case varied. */
static void field(struct fin *r, struct fbuf *b, const char *key,
		  const char *val)
{
	static const char *const seps[] = {": ", ":", " : ", ":\t", "  :  "};
	unsigned how = fin_pick(r, 8);

	if (how == 5)
		fbuf_str(b, " ");
	if (how == 6) {
		for (; *key; key++) {
			char c = (char)(*key >= 'a' && *key <= 'z'
					    ? *key - 32
					    : *key);

			fbuf_add(b, &c, 1);
		}
	} else {
		fbuf_str(b, key);
	}
	fbuf_str(b, how == 7 ? "" : seps[how % 5]);
	value(r, b, val);
	line_end(r, b);
}

/* Shapes of a whole text file: 0 the ordinary lines (each perhaps varied)
 * then a few extra ones, 1 only extra lines, 2 empty, 3 whitespace only,
 * 4 raw bytes, 5 a single byte. */
static unsigned text_mode(struct fin *r, struct fbuf *b)
{
	static const char *const blanks[] = {" ", "\n", "\r\n", "\t \n\n",
					     "\n \n"};
	const uint8_t *p;
	size_t n;
	unsigned mode = fin_pick(r, 6);

	if (mode == 3)
		fbuf_str(b, blanks[fin_pick(r, 5)]);
	if (mode == 4) {
		n = fin_bytes(r, 2048, &p);
		fbuf_add(b, p, n);
	}
	if (mode == 5) {
		uint8_t c = (uint8_t)fin_u8(r);

		fbuf_add(b, &c, 1);
	}
	return mode;
}

static void extra_line(struct fin *r, struct fbuf *b)
{
	const uint8_t *p;
	size_t n = fin_bytes(r, 80, &p);

	fbuf_add(b, p, n);
	line_end(r, b);
}

static void gen_wheel(struct gen *g, struct fin *r, struct fbuf *b)
{
	static const char *const versions[] = {"1.0", "2.0", "1.", "1",
					       "1.0.0", "01.9", "x.y",
					       "4294967297.0"};
	static const char *const purelib[] = {"false", "true", "TRUE",
					      "maybe", ""};
	static const char *const tags[] = {"py3-none-any", "cp312-abi3-any",
					   "py3-none-linux_x86_64",
					   "py3.py2-none-any", "-", "a-b-c-d"};
	unsigned mode = text_mode(r, b), i, extra;

	if (mode == 0) {
		field(r, b, "Wheel-Version", versions[fin_pick(r, 8)]);
		field(r, b, "Generator", "spoke 1.0");
		field(r, b, "Root-Is-Purelib", purelib[fin_pick(r, 5)]);
		if (g->pj->tags[0] && fin_u8(r) == 0)
			for (i = 0; i < 3 && g->pj->tags[i]; i++)
				field(r, b, "Tag", g->pj->tags[i]);
	}
	if (mode > 1)
		return;
	extra = fin_pick(r, mode == 1 ? 12 : 5);
	for (i = 0; i < extra; i++) {
		switch (fin_pick(r, 6)) {
		case 0:
			field(r, b, "Tag", tags[fin_pick(r, 6)]);
			break;
		case 1:
			field(r, b, "Build", "7");
			break;
		case 2:
			field(r, b, "Wheel-Version", versions[fin_pick(r, 8)]);
			break;
		case 3:
			field(r, b, "Root-Is-Purelib", purelib[fin_pick(r, 5)]);
			break;
		default:
			extra_line(r, b);
			break;
		}
	}
}

static void gen_metadata(struct gen *g, struct fin *r, struct fbuf *b)
{
	static const char *const licenses[] = {
	    "LICENSE", "../../etc/passwd", "/etc/passwd", "licenses/LICENSE",
	    "sub/NOTICE", "", "LICEN\033SE", "a,b"};
	unsigned mode = text_mode(r, b), i, extra;

	if (mode == 0) {
		field(r, b, "Metadata-Version", "2.4");
		field(r, b, "Name", g->pj->dist);
		field(r, b, "Version", g->pj->version);
		field(r, b, "License-File", licenses[fin_pick(r, 8)]);
		field(r, b, "Requires-Python", ">=3.8");
	}
	if (mode > 1)
		return;
	extra = fin_pick(r, mode == 1 ? 12 : 5);
	for (i = 0; i < extra; i++) {
		switch (fin_pick(r, 6)) {
		case 0:
			field(r, b, "License-File", licenses[fin_pick(r, 8)]);
			break;
		case 1:
			field(r, b, "Requires-Dist", "cffi>=1; extra == 'x'");
			break;
		case 2:
			fbuf_str(b, "        continued\n");
			break;
		case 3:
			fbuf_str(b, "\nA body after the headers.\n");
			break;
		default:
			extra_line(r, b);
			break;
		}
	}
}

static void gen_entry_points(struct fin *r, struct fbuf *b)
{
	static const char *const lines[] = {
	    "[console_scripts]", "fuzz = fuzz:main", "[gui_scripts]",
	    "x = a.b:c [extra]", "[", "=", "name=", " = value", "[a]]"};
	unsigned mode = text_mode(r, b), i, extra;

	if (mode == 0) {
		value(r, b, "[console_scripts]");
		line_end(r, b);
		value(r, b, "fuzz = fuzz:main");
		line_end(r, b);
	}
	if (mode > 1)
		return;
	extra = fin_pick(r, mode == 1 ? 12 : 5);
	for (i = 0; i < extra; i++) {
		if (fin_u8(r) & 1) {
			extra_line(r, b);
		} else {
			value(r, b, lines[fin_pick(r, 9)]);
			line_end(r, b);
		}
	}
}

/* A RECORD path field: CSV-quoted when it must be (or, by choice, always,
 * never, or with an unbalanced quote). */
static void record_path(struct fin *r, struct fbuf *b, const uint8_t *p,
			size_t n)
{
	unsigned how = fin_pick(r, 4);
	int needs = memchr(p, ',', n) || memchr(p, '"', n);
	size_t i;

	if (how == 2 || (how == 0 && !needs)) {
		fbuf_add(b, p, n);
		return;
	}
	fbuf_str(b, "\"");
	for (i = 0; i < n; i++) {
		fbuf_add(b, p + i, 1);
		if (p[i] == '"')
			fbuf_str(b, "\"");
	}
	if (how != 3)
		fbuf_str(b, "\"");
}

static void record_hash(struct fin *r, struct fbuf *b, struct gent *ent)
{
	static const char *const algos[] = {"sha256", "sha512", "sha384"};
	char b64[ZIPW_B64_SHA512 + 4];
	uint8_t digest[64];
	struct sha256 h;
	struct sp_err e;
	size_t dlen;
	unsigned how = fin_pick(r, 9);

	if (how < 3) {
		if (how == 0) {
			memcpy(digest, ent->sha256, 32);
			dlen = 32;
		} else {
			if (hash_init_named(&h, algos[how], &e) < 0)
				abort();
			sha256_update(&h, ent->data.p, ent->data.len);
			dlen = hash_final(&h, digest);
		}
		b64url_nopad(digest, dlen, b64);
		fbuf_str(b, algos[how]);
		fbuf_str(b, "=");
		fbuf_str(b, b64);
		return;
	}
	switch (how) {
	case 3:
		break;
	case 4:
		fbuf_str(b, "sha256=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
		break;
	case 5:
		fbuf_str(b, "md5=1B2M2Y8AsgTpgAmY7PhCfg");
		break;
	case 6:
		b64url_nopad(ent->sha256, 32, b64);
		fbuf_str(b, "sha256=");
		fbuf_str(b, b64);
		fbuf_str(b, "=");
		break;
	case 7:
		b64url_nopad(ent->sha256, 32, b64);
		fbuf_str(b, "SHA256=");
		fbuf_str(b, b64);
		break;
	default:
		fbuf_str(b, "sha512=");
		break;
	}
}

static void record_size(struct fin *r, struct fbuf *b, size_t size)
{
	static const char *const odd[] = {"", "-1", "+5", " 5", "5 ",
					  "18446744073709551616", "0x10",
					  "1e3"};
	char num[32];
	unsigned how = fin_pick(r, 4);

	if (how == 0 || how == 1) {
		snprintf(num, sizeof(num), "%zu", size + how);
		fbuf_str(b, num);
	} else if (how == 2) {
		value(r, b, odd[fin_pick(r, 8)]);
	} else {
		snprintf(num, sizeof(num), "%zu", size);
		value(r, b, num);
	}
}

/* One RECORD line for entry i, or for RECORD itself (no hash, no size). */
static void record_line(struct gen *g, struct fin *r, struct fbuf *b,
			size_t i, size_t self)
{
	struct gent *ent = &g->ents[i];

	record_path(r, b, ent->name.p, ent->name.len);
	fbuf_str(b, ",");
	if (i == self && fin_u8(r) == 0) {
		fbuf_str(b, ",");
	} else {
		record_hash(r, b, ent);
		fbuf_str(b, ",");
		record_size(r, b, ent->data.len);
	}
	if (fin_pick(r, 8) == 7)
		fbuf_str(b, ",extra");
	line_end(r, b);
}

static void gen_record(struct gen *g, struct fin *r, struct fbuf *b,
		       size_t self)
{
	unsigned mode = text_mode(r, b), extra;
	const uint8_t *p;
	size_t i, n;

	if (mode == 0)
		for (i = 0; i < g->n; i++)
			if (i != self && !has(&g->ents[i].name, "/"))
				record_line(g, r, b, i, self);
	if (mode > 1)
		return;
	extra = fin_pick(r, mode == 1 ? 12 : 4);
	for (i = 0; i < extra; i++) {
		switch (fin_pick(r, 4)) {
		case 0:
			if (g->n)
				record_line(g, r, b, fin_pick(r, (unsigned)g->n),
					    self);
			break;
		case 1:
			n = fin_bytes(r, 60, &p);
			record_path(r, b, p, n);
			fbuf_str(b, ",sha256=x,1");
			line_end(r, b);
			break;
		default:
			extra_line(r, b);
			break;
		}
	}
	if (mode == 0)
		record_line(g, r, b, self, self);
}

/* ---- other contents ---- */

static void gen_bytes(struct gen *g, struct gent *ent)
{
	struct fin *r = &ent->recipe;
	const uint8_t *p;
	size_t n;
	enum kind k = ent->kind;

	(void)g;
	if (k == K_NATURAL)
		k = has(&ent->name, ".so") || has(&ent->name, ".so.1")
			? K_ELF
			: K_PY;
	switch (k) {
	case K_RAW:
		n = fin_bytes(r, 4096, &p);
		fbuf_add(&ent->data, p, n);
		break;
	case K_RUN:
		/* A long, very compressible run: deflate's far end, and
		 * the reader's buffer boundaries. */
		fbuf_fill(&ent->data, 'a', (size_t)fin_u16(r) * 2);
		break;
	case K_ELF: {
		/* A shared object elfgen.h builds: inspected by the data
		 * pass, and repaired when the wheel is valid. */
		struct img im = {0};
		unsigned quirk;

		elfgen_build(r, &im, &quirk);
		fbuf_add(&ent->data, im.b.p, im.b.len);
		free(im.b.p);
		break;
	}
	case K_PY:
		fbuf_str(&ent->data, "def main():\n    return 0\n");
		break;
	default:
		break;
	}
}

static void generate(struct gen *g, struct gent *ent)
{
	enum kind k = ent->kind;

	if (k == K_NATURAL) {
		if (has(&ent->name, "/WHEEL"))
			k = K_WHEEL;
		else if (has(&ent->name, "/METADATA"))
			k = K_METADATA;
		else if (has(&ent->name, "/entry_points.txt"))
			k = K_EP;
		else if (has(&ent->name, "/RECORD"))
			k = K_RECORD;
		ent->kind = k;
	}
	switch (k) {
	case K_WHEEL:
		gen_wheel(g, &ent->recipe, &ent->data);
		break;
	case K_METADATA:
		gen_metadata(g, &ent->recipe, &ent->data);
		break;
	case K_EP:
		gen_entry_points(&ent->recipe, &ent->data);
		break;
	case K_RECORD:
		break; /* after every other entry */
	default:
		gen_bytes(g, ent);
		break;
	}
}

/* ---- the zip ---- */

struct zent {
	uint64_t off;
	uint32_t crc;
	size_t csize;
	uint16_t method, flags;
};

static void local_entry(struct fbuf *z, struct gent *ent, struct zent *ze,
			struct libdeflate_compressor *c)
{
	struct fbuf comp = {0};
	const uint8_t *data = ent->data.p;
	unsigned q = ent->quirk;
	size_t usize = ent->data.len;

	ze->off = z->len;
	ze->crc = libdeflate_crc32(0, ent->data.p, ent->data.len);
	ze->method = 0;
	ze->csize = usize;
	if (q & Q_DEFLATE) {
		size_t bound = libdeflate_deflate_compress_bound(c, usize);

		fbuf_fill(&comp, 0, bound);
		ze->csize = libdeflate_deflate_compress(c, ent->data.p, usize,
							comp.p, bound);
		if (ze->csize) {
			data = comp.p;
			ze->method = 8;
		} else {
			ze->csize = usize;
		}
	}
	if (q & Q_BAD_CRC)
		ze->crc ^= 0x5a5a5a5a;
	ze->flags = 0x800 | (q & Q_DESCRIPTOR ? 8 : 0);
	fbuf_le(z, 0x04034b50, 4);
	fbuf_le(z, 20, 2);
	fbuf_le(z, ze->flags, 2);
	fbuf_le(z, ze->method, 2);
	fbuf_le(z, 0, 2);
	fbuf_le(z, 0x21, 2); /* 1980-01-01 */
	fbuf_le(z, q & Q_DESCRIPTOR ? 0 : ze->crc, 4);
	fbuf_le(z, q & Q_DESCRIPTOR ? 0 : ze->csize, 4);
	fbuf_le(z, q & Q_DESCRIPTOR ? 0 : usize + !!(q & Q_USIZE_LIE), 4);
	fbuf_le(z, ent->name.len, 2);
	fbuf_le(z, 0, 2);
	fbuf_add(z, ent->name.p, ent->name.len);
	if ((q & Q_LOCAL_NAME) && ent->name.len)
		z->p[z->len - 1] ^= 1;
	fbuf_add(z, data, ze->csize);
	if (q & Q_DESCRIPTOR) {
		fbuf_le(z, 0x08074b50, 4);
		fbuf_le(z, ze->crc, 4);
		fbuf_le(z, ze->csize, 4);
		fbuf_le(z, usize + !!(q & Q_USIZE_LIE), 4);
	}
	free(comp.p);
}

static void central_entry(struct fbuf *z, const struct gent *ent,
			  const struct zent *ze)
{
	unsigned q = ent->quirk;
	uint32_t mode = q & Q_SYMLINK ? 0120777
			: q & Q_EXEC  ? 0100755
				      : 0100644;

	if (has(&ent->name, "/"))
		mode = 040755;
	fbuf_le(z, 0x02014b50, 4);
	fbuf_le(z, 3 << 8 | 20, 2);
	fbuf_le(z, 20, 2);
	fbuf_le(z, ze->flags, 2);
	fbuf_le(z, ze->method, 2);
	fbuf_le(z, 0, 2);
	fbuf_le(z, 0x21, 2);
	fbuf_le(z, ze->crc, 4);
	fbuf_le(z, ze->csize - (q & Q_CSIZE_LIE && ze->csize ? 1 : 0), 4);
	fbuf_le(z, ent->data.len + !!(q & Q_USIZE_LIE), 4);
	fbuf_le(z, ent->name.len, 2);
	fbuf_le(z, 0, 6); /* extra, comment, disk */
	fbuf_le(z, 0, 2); /* internal attributes */
	fbuf_le(z, (uint64_t)mode << 16, 4);
	fbuf_le(z, ze->off, 4);
	fbuf_add(z, ent->name.p, ent->name.len);
}

static void build_zip(struct gen *g, struct fin *in, struct fbuf *z)
{
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(1);
	struct zent ze[MAX_ENTS];
	unsigned gq = fin_u8(in);
	uint64_t cd, cdsize, count = g->n, z64;
	const uint8_t *p = NULL;
	size_t i, n;

	if (!c)
		abort();
	if (gq & G_PREFIX) {
		n = fin_bytes(in, 64, &p);
		fbuf_add(z, p, n);
	}
	for (i = 0; i < g->n; i++)
		local_entry(z, &g->ents[i], &ze[i], c);
	libdeflate_free_compressor(c);
	cd = z->len;
	for (i = 0; i < g->n; i++)
		central_entry(z, &g->ents[i], &ze[i]);
	if ((gq & G_DUP_CD) && g->n) {
		central_entry(z, &g->ents[0], &ze[0]);
		count++;
		g->invalid = "an entry listed twice";
	}
	cdsize = z->len - cd;
	if (gq & G_CD_OFF) {
		cd++;
		g->invalid = "a central directory offset off by one";
	}
	if (gq & G_COUNT) {
		count++;
		g->invalid = "a wrong entry count";
	}
	if (gq & G_ZIP64) {
		z64 = z->len;
		fbuf_le(z, 0x06064b50, 4);
		fbuf_le(z, 44, 8);
		fbuf_le(z, 45, 2);
		fbuf_le(z, 45, 2);
		fbuf_le(z, 0, 8); /* this disk, the directory's disk */
		fbuf_le(z, count, 8);
		fbuf_le(z, count, 8);
		fbuf_le(z, cdsize, 8);
		fbuf_le(z, cd, 8);
		fbuf_le(z, 0x07064b50, 4);
		fbuf_le(z, 0, 4);
		fbuf_le(z, z64, 8);
		fbuf_le(z, 1, 4);
	}
	fbuf_le(z, 0x06054b50, 4);
	fbuf_le(z, 0, 4);
	fbuf_le(z, gq & G_ZIP64 ? 0xffff : count, 2);
	fbuf_le(z, gq & G_ZIP64 ? 0xffff : count, 2);
	fbuf_le(z, gq & G_ZIP64 ? 0xffffffff : cdsize, 4);
	fbuf_le(z, gq & G_ZIP64 ? 0xffffffff : cd, 4);
	n = gq & G_COMMENT ? fin_bytes(in, 64, &p) : 0;
	fbuf_le(z, n, 2);
	fbuf_add(z, p, n);
	if (gq & G_TRUNCATE) {
		n = 1 + fin_u8(in);
		z->len = n < z->len ? z->len - n : 0;
		g->invalid = "a truncated file";
	}
}

/* ---- driving the reader ---- */

/* Only whitespace (or nothing): no RECORD or WHEEL can be that. */
static int blank(const struct fbuf *b)
{
	size_t i;

	for (i = 0; i < b->len; i++)
		if (!strchr(" \t\r\n", b->p[i]) || !b->p[i])
			return 0;
	return 1;
}

/* The .dist-info's RECORD and WHEEL (the first entry of each name, which
 * any duplicate makes invalid anyway) must be there and not blank. */
static void text_faults(struct gen *g)
{
	static const char *const files[] = {"RECORD", "WHEEL"};
	char want[96];
	size_t i, f;

	for (f = 0; f < 2; f++) {
		snprintf(want, sizeof(want), "%s/%s", g->dist_info, files[f]);
		for (i = 0; i < g->n; i++)
			if (g->ents[i].name.len == strlen(want) &&
			    memcmp(g->ents[i].name.p, want, strlen(want)) == 0)
				break;
		if (i == g->n)
			g->invalid = f ? "no WHEEL" : "no RECORD";
		else if (blank(&g->ents[i].data))
			g->invalid = f ? "a blank WHEEL" : "a blank RECORD";
	}
}

static void decode(struct gen *g, struct fin *in)
{
	const uint8_t *p;
	size_t i, j, n, record = MAX_ENTS;

	g->pj = &projects[fin_pick(in, NPROJECTS)];
	snprintf(g->dist_info, sizeof(g->dist_info), "%s-%s.dist-info",
		 g->pj->dist, g->pj->version);
	/* Zero bytes give the three files a wheel needs: RECORD, WHEEL
	 * and METADATA, then a package file. */
	g->n = 4 + fin_pick(in, MAX_ENTS - 3);
	if (g->n > MAX_ENTS)
		g->n = MAX_ENTS;
	for (i = 0; i < g->n; i++) {
		struct gent *ent = &g->ents[i];
		unsigned sel = fin_u8(in);

		/* Byte 0 means "entry i's ordinary name"; 1..NNAMES one of
		 * the dictionary; beyond that, bytes from the input. */
		if (sel == 0 && i < 4) {
			expand(g, names[i], &ent->name);
		} else if (sel == 0) {
			char mod[16];

			expand(g, "%P/", &ent->name);
			snprintf(mod, sizeof(mod), "m%zu.py", i);
			fbuf_str(&ent->name, mod);
		} else if (sel <= NNAMES) {
			expand(g, names[sel - 1], &ent->name);
		} else {
			n = fin_bytes(in, 80, &p);
			fbuf_add(&ent->name, p, n);
		}
		ent->kind = (enum kind)fin_pick(in, NKINDS);
		ent->quirk = fin_u8(in);
		n = fin_bytes(in, 4096, &p);
		ent->recipe.p = p;
		ent->recipe.n = n;
	}
	for (i = 0; i < g->n; i++) {
		generate(g, &g->ents[i]);
		sha256_buf(g->ents[i].data.p, g->ents[i].data.len,
			   g->ents[i].sha256);
	}
	/* RECORDs last, from the others' final bytes: the first one the
	 * reader will take as the RECORD is made after every other. */
	for (i = 0; i < g->n; i++)
		if (g->ents[i].kind == K_RECORD && record == MAX_ENTS)
			record = i;
	for (i = 0; i < g->n; i++) {
		if (g->ents[i].kind != K_RECORD || i == record)
			continue;
		gen_record(g, &g->ents[i].recipe, &g->ents[i].data, i);
		sha256_buf(g->ents[i].data.p, g->ents[i].data.len,
			   g->ents[i].sha256);
	}
	if (record < MAX_ENTS) {
		gen_record(g, &g->ents[record].recipe, &g->ents[record].data,
			   record);
		sha256_buf(g->ents[record].data.p, g->ents[record].data.len,
			   g->ents[record].sha256);
	}
	/* The faults the harness knows of. */
	for (i = 0; i < g->n; i++) {
		struct gent *ent = &g->ents[i];

		if (ent->quirk & (Q_BAD_CRC | Q_USIZE_LIE))
			g->invalid = "a wrong CRC or declared size";
		if ((ent->quirk & Q_LOCAL_NAME) && ent->name.len)
			g->invalid = "a local name unlike the central one";
		if (ent->quirk & Q_CSIZE_LIE && ent->data.len)
			g->invalid = "a wrong compressed size";
		if (name_bad(&ent->name))
			g->invalid = "an entry name no wheel may hold";
		for (j = 0; j < i; j++)
			if (ent->name.len == g->ents[j].name.len &&
			    memcmp(ent->name.p, g->ents[j].name.p,
				   ent->name.len) == 0)
				g->invalid = "a duplicate entry name";
	}
	text_faults(g);
}

static char dir[64];

static void clean_dir(const char *sub)
{
	char path[128];
	struct dirent *d;
	DIR *dd;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	dd = opendir(path);
	if (!dd)
		return;
	while ((d = readdir(dd)))
		if (d->d_name[0] != '.')
			unlinkat(dirfd(dd), d->d_name, 0);
	closedir(dd);
}

/* At exit: the private directory goes, with what the repair left. */
static void remove_dir(void)
{
	char out[96];

	clean_dir("out");
	snprintf(out, sizeof(out), "%s/out", dir);
	rmdir(out);
	clean_dir("");
	rmdir(dir);
}

/* A valid wheel goes on to the repair, as `spoke repair` would take it;
 * one without a shared object stops at "nothing to repair". */
static void repair(const char *path)
{
	char out[96];
	struct repair_wheel_opts o = {0};
	struct sp_err e;
	json_t *res = NULL;

	snprintf(out, sizeof(out), "%s/out", dir);
	o.out_dir = out;
	o.epoch = 315532800;
	if (repair_wheel(path, &o, &res, &e) == 0)
		json_decref(res);
	clean_dir("out");
}

/* SPOKE_FUZZ_KEEP=DIR keeps a copy of each wheel built there, under its
 * file name, to be looked at with `spoke show` (see docs/security.md). */
static void keep(const struct fbuf *z, const char *file)
{
	static unsigned count;
	const char *to = getenv("SPOKE_FUZZ_KEEP");
	char dst[512];
	FILE *f;

	if (!to)
		return;
	snprintf(dst, sizeof(dst), "%s/%u", to, ++count);
	mkdir(dst, 0700);
	snprintf(dst, sizeof(dst), "%s/%u/%s", to, count, file);
	f = fopen(dst, "wbx");
	if (!f)
		return;
	fwrite(z->p, 1, z->len, f);
	fclose(f);
	fprintf(stderr, "wheelgen: kept %s\n", dst);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = {data, size};
	struct gen g = {0};
	struct fbuf z = {0};
	struct wheel_report r;
	struct sp_err e;
	char path[192];
	size_t i, done = 0;
	int fd;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/dev/shm/spoke-fuzz-XXXXXX");
		if (!mkdtemp(dir)) {
			snprintf(dir, sizeof(dir), "/tmp/spoke-fuzz-XXXXXX");
			if (!mkdtemp(dir))
				abort();
		}
		atexit(remove_dir);
	}
	decode(&g, &in);
	build_zip(&g, &in, &z);
	snprintf(path, sizeof(path), "%s/%s", dir, g.pj->file);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		abort();
	while (done < z.len) {
		ssize_t w = write(fd, z.p + done, z.len - done);

		if (w <= 0)
			abort();
		done += (size_t)w;
	}
	close(fd);
	keep(&z, g.pj->file);
	if (wheel_read(path, 1u << 24, &r, &e) == 0 && r.nproblems == 0) {
		if (g.invalid) {
			fprintf(stderr, "wheelgen: a wheel with %s was "
					"found valid\n",
				g.invalid);
			abort();
		}
		repair(path);
	}
	wheel_report_release(&r);
	for (i = 0; i < g.n; i++) {
		if (g.ents[i].kind == K_WHEEL) {
			/* The repair hands it a buffer even for an empty
			 * WHEEL (never NULL). */
			const char *w = g.ents[i].data.p
					    ? (const char *)g.ents[i].data.p
					    : "";
			char *t = repair_wheel_retag(
			    w, g.ents[i].data.len,
			    "manylinux_2_17_x86_64.manylinux2014_x86_64");

			free(t);
		}
		free(g.ents[i].name.p);
		free(g.ents[i].data.p);
	}
	free(z.p);
	unlink(path);
	return 0;
}
