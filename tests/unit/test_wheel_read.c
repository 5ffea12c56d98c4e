/*
 * Unit tests of worker/wheel/wheel_read: wheels written by zipw and then damaged
 * byte by byte, and archives written by a raw zip writer here, which (unlike
 * zipw) writes any name, size or offset it is told to: traversal names,
 * duplicates, overlapping entries, zip bombs.  Each damage must give a
 * problem naming the entry and the reason, in bounded time and memory.
 */
#define _GNU_SOURCE
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <libdeflate.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsx.h"
#include "common/path.h"
#include "common/sha256.h"
#include "worker/wheel/wheel_read.h"
#include "worker/zip/zip_write.h"

#define SCRATCH_NAME "wheelread"
#include "tests/unit/scratch.h"
#include "tests/tools/mkelf.h"

/* 1 when r has a problem for entry (any entry when NULL) whose reason
 * contains needle. */
static int has_problem(const struct wheel_report *r, const char *entry,
		       const char *needle)
{
	size_t i;

	for (i = 0; i < r->nproblems; i++) {
		const struct wheel_problem *p = &r->problems[i];

		if (entry && (!p->entry || strcmp(p->entry, entry) != 0))
			continue;
		if (strstr(p->reason, needle))
			return 1;
	}
	return 0;
}

static void dump_problems(const struct wheel_report *r)
{
	size_t i;

	for (i = 0; i < r->nproblems; i++)
		fprintf(stderr, "# problem: '%s': %s\n",
			r->problems[i].entry ? r->problems[i].entry : "-",
			r->problems[i].reason);
}

/* Reads path and asserts that it could be examined. */
static void read_ok(const char *path, uint64_t max, struct wheel_report *r)
{
	struct sp_err e;

	sp_err_clear(&e);
	if (wheel_read(path, max, r, &e) < 0)
		fail_msg("wheel_read: %s", e.msg);
}

/* The path of a shared library this process has loaded (libdeflate), so
 * that the tests inspect a real one. */
static int find_lib(struct dl_phdr_info *info, size_t size, void *arg)
{
	char **out = arg;

	(void)size;
	if (info->dlpi_name && strstr(info->dlpi_name, "libdeflate")) {
		*out = strdup(info->dlpi_name);
		return 1;
	}
	return 0;
}

/* What a test wheel holds and how it is spoiled. */
struct spec {
	const char *dist_info;	/* default demo-1.0.dist-info */
	const char *tags;	/* Tag lines' tag, default py3-none-any */
	int with_so;		/* add a real shared library */
	int bad_hash;		/* RECORD: wrong sha256 for the first file */
	int bad_size;		/* RECORD: wrong size for the first file */
	int drop_line;		/* RECORD: no line for the first file */
	int extra_line;		/* RECORD: a line for a file not there */
	int no_self;		/* RECORD: no line for itself */
	int crlf_record;	/* RECORD: lines end in CRLF */
	int force_zip64;
	int level;
	/* When set, these bytes (of the given length, NUL bytes allowed)
	 * are the file instead of the one make_wheel() would write. */
	const char *wheel_raw, *record_raw, *meta_raw, *ep_raw;
	size_t wheel_raw_len, record_raw_len, meta_raw_len, ep_raw_len;
};

static void *read_whole(const char *path, size_t *len)
{
	struct sp_err e;
	void *p = fsx_read_all(path, len, &e);

	if (!p)
		fail_msg("%s", e.msg);
	return p;
}

/* Writes demo-1.0-py3-none-any.whl (or the name given) per spec. */
static void make_wheel(const char *path, const struct spec *s)
{
	static const char init[] = "from .core import *\n";
	static const char core[] = "def f():\n    return 42\n";
	static const char meta[] = "Metadata-Version: 2.1\nName: demo\n"
				   "Version: 1.0\n";
	const char *di = s->dist_info ? s->dist_info : "demo-1.0.dist-info";
	const char *wrong = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	char wheel[256], rec[8192], name[256], sha[ZIPW_B64_SHA256];
	char *lib = NULL;
	void *so = NULL;
	size_t so_len = 0, rl = 0, wl;
	struct zipw z;
	struct sp_err e;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(zipw_open(&z, fd, path, 1700000000, s->level, &e), 0);
	z.force_zip64 = s->force_zip64;

	assert_int_equal(zipw_add(&z, "demo/__init__.py", init,
				  sizeof(init) - 1, 0644, sha, &e),
			 0);
	if (!s->drop_line)
		rl += (size_t)snprintf(rec + rl, sizeof(rec) - rl,
				       "demo/__init__.py,sha256=%s,%zu\n",
				       s->bad_hash ? wrong : sha,
				       sizeof(init) - 1 + (s->bad_size ? 1 : 0));
	assert_int_equal(zipw_add(&z, "demo/core.py", core, sizeof(core) - 1,
				  0644, sha, &e),
			 0);
	rl += (size_t)snprintf(rec + rl, sizeof(rec) - rl,
			       "demo/core.py,sha256=%s,%zu\n", sha,
			       sizeof(core) - 1);
	if (s->with_so) {
		dl_iterate_phdr(find_lib, &lib);
		assert_non_null(lib);
		so = read_whole(lib, &so_len);
		assert_int_equal(zipw_add(&z, "demo/_native.so", so, so_len,
					  0755, sha, &e),
				 0);
		rl += (size_t)snprintf(rec + rl, sizeof(rec) - rl,
				       "demo/_native.so,sha256=%s,%zu\n", sha,
				       so_len);
	}
	snprintf(name, sizeof(name), "%s/METADATA", di);
	wl = s->meta_raw ? s->meta_raw_len : sizeof(meta) - 1;
	assert_int_equal(zipw_add(&z, name, s->meta_raw ? s->meta_raw : meta,
				  wl, 0644, sha, &e),
			 0);
	rl += (size_t)snprintf(rec + rl, sizeof(rec) - rl, "%s,sha256=%s,%zu\n",
			       name, sha, wl);
	snprintf(wheel, sizeof(wheel),
		 "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: "
		 "true\nTag: %s\n",
		 s->tags ? s->tags : "py3-none-any");
	snprintf(name, sizeof(name), "%s/WHEEL", di);
	wl = s->wheel_raw ? s->wheel_raw_len : strlen(wheel);
	assert_int_equal(zipw_add(&z, name, s->wheel_raw ? s->wheel_raw : wheel,
				  wl, 0644, sha, &e),
			 0);
	rl += (size_t)snprintf(rec + rl, sizeof(rec) - rl, "%s,sha256=%s,%zu\n",
			       name, sha, wl);
	if (s->ep_raw) {
		snprintf(name, sizeof(name), "%s/entry_points.txt", di);
		assert_int_equal(zipw_add(&z, name, s->ep_raw, s->ep_raw_len,
					  0644, sha, &e),
				 0);
		rl += (size_t)snprintf(rec + rl, sizeof(rec) - rl,
				       "%s,sha256=%s,%zu\n", name, sha,
				       s->ep_raw_len);
	}
	if (s->extra_line)
		rl += (size_t)snprintf(rec + rl, sizeof(rec) - rl,
				       "demo/gone.py,sha256=%s,1\n", sha);
	snprintf(name, sizeof(name), "%s/RECORD", di);
	if (!s->no_self)
		rl += (size_t)snprintf(rec + rl, sizeof(rec) - rl, "%s,,\n",
				       name);
	if (s->crlf_record) {
		char crlf[sizeof(rec) * 2];
		size_t i, n = 0;

		for (i = 0; i < rl; i++) {
			if (rec[i] == '\n')
				crlf[n++] = '\r';
			crlf[n++] = rec[i];
		}
		assert_int_equal(zipw_add(&z, name, crlf, n, 0644, NULL, &e),
				 0);
	} else if (s->record_raw)
		assert_int_equal(zipw_add(&z, name, s->record_raw,
					  s->record_raw_len, 0644, NULL, &e),
				 0);
	else
		assert_int_equal(zipw_add(&z, name, rec, rl, 0644, NULL, &e),
				 0);
	assert_int_equal(zipw_finish(&z, NULL, NULL, &e), 0);
	zipw_release(&z);
	close(fd);
	free(so);
	free(lib);
}

static void test_valid(void **state)
{
	struct spec s = {.with_so = 1, .level = 6};
	struct wheel_report r;
	char *p = tpath("demo-1.0-py3-none-any.whl");
	const struct wheel_so *so;
	size_t i;
	int libc = 0;

	(void)state;
	make_wheel(p, &s);
	read_ok(p, 0, &r);
	dump_problems(&r);
	assert_int_equal(r.nproblems, 0);
	assert_int_equal(r.nents, 6);
	assert_string_equal(r.dist, "demo");
	assert_string_equal(r.version, "1.0");
	assert_string_equal(r.py, "py3");
	assert_string_equal(r.dist_info, "demo-1.0.dist-info");
	assert_string_equal(r.wheel_version, "1.0");
	assert_int_equal(r.root_is_purelib, 1);
	assert_int_equal(r.ntags, 1);
	assert_int_equal(r.zip64, 0);
	for (i = 0; i < r.nents; i++)
		assert_true(r.ents[i].hashed);
	assert_int_equal(r.nsos, 1);
	so = &r.sos[0];
	assert_string_equal(so->entry, "demo/_native.so");
	if (so->error)
		fail_msg("%s", so->error);
	assert_true(so->elf_ok);
	for (i = 0; i < so->elf.nneeded; i++)
		libc |= strcmp(so->elf.needed[i], "libc.so.6") == 0;
	assert_true(libc);
	assert_true(so->vers_ok);
	assert_true(so->vers.n > 0);
	assert_int_equal(so->vers.needs[0].ns, SYMVERS_GLIBC);
	assert_string_equal(so->vers.needs[0].file, "libc.so.6");
	wheel_report_release(&r);

	/* Forced zip64 records and stored entries read the same. */
	s.force_zip64 = 1;
	s.level = 0;
	make_wheel(p, &s);
	read_ok(p, 0, &r);
	dump_problems(&r);
	assert_int_equal(r.nproblems, 0);
	assert_int_equal(r.zip64, 1);
	wheel_report_release(&r);
	free(p);
}

static void test_record(void **state)
{
	static const struct {
		struct spec s;
		const char *entry, *needle;
	} cases[] = {
	    {{.bad_hash = 1}, "demo/__init__.py", "RECORD says"},
	    {{.bad_size = 1}, "demo/__init__.py", "RECORD says 21"},
	    {{.drop_line = 1}, "demo/__init__.py", "has no line in RECORD"},
	    {{.extra_line = 1},
	     "demo-1.0.dist-info/RECORD",
	     "lists 'demo/gone.py', which is not in the wheel"},
	    {{.no_self = 1}, "demo-1.0.dist-info/RECORD", "does not list itself"},
	    {{.dist_info = "other-1.0.dist-info"},
	     "other-1.0.dist-info",
	     "does not match the file name"},
	    {{.dist_info = "demo-2.0.dist-info"},
	     "demo-2.0.dist-info",
	     "does not match the file name"},
	    {{.tags = "py2-none-any"},
	     "demo-1.0.dist-info/WHEEL",
	     "has no Tag line for the file name's tag 'py3-none-any'"},
	    {{.tags = "py2-none-any"},
	     "demo-1.0.dist-info/WHEEL",
	     "has Tag 'py2-none-any', which the file name does not have"},
	};
	struct wheel_report r;
	char *p = tpath("demo-1.0-py3-none-any.whl");
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		make_wheel(p, &cases[i].s);
		read_ok(p, 0, &r);
		if (!has_problem(&r, cases[i].entry, cases[i].needle)) {
			dump_problems(&r);
			fail_msg("case %zu: no problem '%s' for '%s'", i,
				 cases[i].needle, cases[i].entry);
		}
		wheel_report_release(&r);
	}
	free(p);
}

/* RECORD is CSV: CRLF line ends (RFC 4180, Python's csv writer, and the
 * RECORD of wheels that older bdist_wheel wrote, such as auditwheel's
 * cffi and python_snappy test wheels) are valid; pip takes them. */
static void test_record_crlf(void **state)
{
	struct spec s = {.crlf_record = 1};
	struct wheel_report r;
	char *p = tpath("demo-1.0-py3-none-any.whl");

	(void)state;
	make_wheel(p, &s);
	read_ok(p, 0, &r);
	if (r.nproblems) {
		dump_problems(&r);
		fail_msg("a RECORD with CRLF line ends is valid CSV");
	}
	wheel_report_release(&r);
	free(p);
}

/* An empty WHEEL or RECORD once made the line loops hand strtok_r() a NULL
 * string with an uninitialised save pointer: a crash on a 637-byte wheel. */
static void test_empty_files(void **state)
{
	struct wheel_report r;
	char *p = tpath("demo-1.0-py3-none-any.whl");
	struct spec s = {0};

	(void)state;
	s.wheel_raw = "";
	make_wheel(p, &s);
	read_ok(p, 0, &r);
	if (!has_problem(&r, "demo-1.0.dist-info/WHEEL", "is empty")) {
		dump_problems(&r);
		fail_msg("an empty WHEEL is not reported");
	}
	wheel_report_release(&r);

	memset(&s, 0, sizeof(s));
	s.record_raw = "";
	make_wheel(p, &s);
	read_ok(p, 0, &r);
	if (!has_problem(&r, "demo-1.0.dist-info/RECORD", "is empty")) {
		dump_problems(&r);
		fail_msg("an empty RECORD is not reported");
	}
	wheel_report_release(&r);
	free(p);
}

/* Every hostile text variant of each dist-info text file: a problem
 * naming the file and saying what is wrong, never a crash. */
static void test_hostile_texts(void **state)
{
	static const struct {
		const char *text;
		size_t len;
		const char *why;
	} variants[] = {
	    {"", 0, "is empty"},
	    {" \n\t\n", 4, "holds only white space"},
	    {"\n", 1, "holds only white space"},
	    {"\0", 1, "holds a NUL byte"},
	    {"A: b\0\n", 6, "holds a NUL byte"},
	    {"A: b\r\nC: d\r\n", 12, "has a carriage return"},
	    {"\xff\xfe", 2, "is not valid UTF-8"},
	};
	static const char *const files[] = {"WHEEL", "RECORD", "METADATA",
					    "entry_points.txt"};
	static const struct {
		const char *file, *why;
	} one_byte[] = {
	    {"WHEEL", "line 1 is not 'Key: value'"},
	    {"RECORD", "line 1 is not path,hash,size"},
	    {"METADATA", "line 1 is not 'Key: value'"},
	    {"entry_points.txt", "line 1 is neither a [group] header"},
	};
	struct wheel_report r;
	char *p = tpath("demo-1.0-py3-none-any.whl"), entry[64];
	struct spec s;
	size_t f, v;

	(void)state;
	for (f = 0; f < 4; f++) {
		snprintf(entry, sizeof(entry), "demo-1.0.dist-info/%s",
			 files[f]);
		for (v = 0; v <= sizeof(variants) / sizeof(*variants); v++) {
			const char *text = v < 7 ? variants[v].text : "x";
			size_t len = v < 7 ? variants[v].len : 1;
			const char *why = v < 7 ? variants[v].why
						: one_byte[f].why;

			/* RECORD is CSV, whose line end may be CRLF (RFC
			 * 4180, and Python's csv module writes it): there
			 * the variant's first line is not a row. */
			if (f == 1 && v == 5)
				why = one_byte[f].why;

			memset(&s, 0, sizeof(s));
			if (f == 0) {
				s.wheel_raw = text;
				s.wheel_raw_len = len;
			} else if (f == 1) {
				s.record_raw = text;
				s.record_raw_len = len;
			} else if (f == 2) {
				s.meta_raw = text;
				s.meta_raw_len = len;
			} else {
				s.ep_raw = text;
				s.ep_raw_len = len;
			}
			make_wheel(p, &s);
			read_ok(p, 0, &r);
			if (!has_problem(&r, entry, why)) {
				dump_problems(&r);
				fail_msg("%s variant %zu: no problem '%s'",
					 files[f], v, why);
			}
			wheel_report_release(&r);
		}
	}
	/* A valid entry_points.txt and METADATA with a CRLF description are
	 * no problem. */
	memset(&s, 0, sizeof(s));
	s.ep_raw = "[console_scripts]\nx = demo:main\n";
	s.ep_raw_len = strlen(s.ep_raw);
	s.meta_raw = "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n\n"
		     "text\r\nmore\r\n";
	s.meta_raw_len = strlen(s.meta_raw);
	make_wheel(p, &s);
	read_ok(p, 0, &r);
	dump_problems(&r);
	assert_int_equal(r.nproblems, 0);
	wheel_report_release(&r);
	free(p);
}

/* A License-File is a place in the dist-info's licenses/ folder. */
static void test_license_file(void **state)
{
	static const struct {
		const char *meta, *why;
	} cases[] = {
	    {"Metadata-Version: 2.4\nName: demo\nVersion: 1.0\n"
	     "License-File: ../../etc/passwd\n",
	     "License-File '../../etc/passwd' is not a file's place"},
	    {"Metadata-Version: 2.4\nName: demo\nVersion: 1.0\n"
	     "License-File: /etc/passwd\n",
	     "the name is an absolute path"},
	    {"Metadata-Version: 2.4\nName: demo\nVersion: 1.0\n"
	     "License-File: LICENSE\n",
	     "License-File 'LICENSE' is not in the wheel"},
	    {"Metadata-Version: 2.1\nName: other\nVersion: 1.0\n",
	     "its Name 'other' is not the file name's distribution"},
	    {"Metadata-Version: 2.1\nName: demo\nVersion: 2.0\n",
	     "its Version '2.0' is not the file name's version"},
	};
	struct wheel_report r;
	char *p = tpath("demo-1.0-py3-none-any.whl");
	struct spec s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		memset(&s, 0, sizeof(s));
		s.meta_raw = cases[i].meta;
		s.meta_raw_len = strlen(cases[i].meta);
		make_wheel(p, &s);
		read_ok(p, 0, &r);
		if (!has_problem(&r, "demo-1.0.dist-info/METADATA",
				 cases[i].why)) {
			dump_problems(&r);
			fail_msg("case %zu: no problem '%s'", i, cases[i].why);
		}
		wheel_report_release(&r);
	}
	free(p);
}

/* Every byte of a wheel flipped in turn, and every length it can be cut
 * to: always a clean verdict, never a crash, and never "valid" when the
 * change is in what the checks cover. */
static void test_damage(void **state)
{
	struct spec s = {.level = 6};
	struct wheel_report r;
	char *p = tpath("demo-1.0-py3-none-any.whl");
	char *q = tpath("cut/demo-1.0-py3-none-any.whl"), *dir;
	uint8_t *orig;
	size_t len, i;
	struct sp_err e;
	int fd;

	(void)state;
	make_wheel(p, &s);
	orig = read_whole(p, &len);
	dir = path_dirname(q);
	assert_int_equal(fsx_mkdir_p(dir, 0755, &e), 0);
	free(dir);
	for (i = 0; i < len; i++) {
		fd = open(q, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, orig, i), (ssize_t)i);
		close(fd);
		read_ok(q, 0, &r);
		if (!r.nproblems)
			fail_msg("cut at %zu of %zu: valid", i, len);
		wheel_report_release(&r);
	}
	for (i = 0; i < len; i++) {
		orig[i] ^= 0x5a;
		fd = open(q, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, orig, len), (ssize_t)len);
		close(fd);
		read_ok(q, 0, &r);
		wheel_report_release(&r);
		orig[i] ^= 0x5a;
	}
	/* The truncation most likely in practice: a copy cut short. */
	fd = open(q, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_int_equal(write(fd, orig, len - 1), (ssize_t)(len - 1));
	close(fd);
	read_ok(q, 0, &r);
	assert_true(has_problem(&r, NULL, "no end of central directory"));
	wheel_report_release(&r);
	free(orig);
	free(p);
	free(q);
}

/*
 * A raw zip writer for archives zipw refuses to write.  Each entry's
 * declared sizes and CRC may lie; zip64 extra fields carry sizes that do
 * not fit 32 bits.
 */
struct rawent {
	const char *name;
	const void *data;
	size_t dlen;
	uint16_t method;
	uint64_t usize;	  /* declared; default dlen (stored) */
	int usize_set;
	int lie_offset;	  /* central offset points at the previous entry */
};

/* Write the central directory in reverse order of the local headers. */
static int raw_reverse_cd;

static void put(FILE *f, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		fputc((int)(v >> (8 * i)) & 0xff, f);
}

static void raw_zip(const char *path, const struct rawent *ents, size_t n)
{
	FILE *f = fopen(path, "wb");
	uint64_t *off = calloc(n, sizeof(*off)), cd, cd_end, usize;
	uint32_t crc;
	size_t i, nlen;
	int z64;

	assert_non_null(f);
	assert_non_null(off);
	for (i = 0; i < n; i++) {
		const struct rawent *r = &ents[i];

		nlen = strlen(r->name);
		usize = r->usize_set ? r->usize : r->dlen;
		z64 = usize >= 0xffffffffu;
		crc = (uint32_t)libdeflate_crc32(0, r->data, r->dlen);
		off[i] = (uint64_t)ftell(f);
		put(f, 0x04034b50, 4);
		put(f, z64 ? 45 : 20, 2);
		put(f, 0x0800, 2);
		put(f, r->method, 2);
		put(f, 0, 4); /* time, date */
		put(f, crc, 4);
		put(f, z64 ? 0xffffffffu : r->dlen, 4);
		put(f, z64 ? 0xffffffffu : usize, 4);
		put(f, nlen, 2);
		put(f, z64 ? 20 : 0, 2);
		fwrite(r->name, 1, nlen, f);
		if (z64) {
			put(f, 1, 2);
			put(f, 16, 2);
			put(f, usize, 8);
			put(f, r->dlen, 8);
		}
		fwrite(r->data, 1, r->dlen, f);
	}
	cd = (uint64_t)ftell(f);
	for (size_t k = 0; k < n; k++) {
		const struct rawent *r;

		i = raw_reverse_cd ? n - 1 - k : k;
		r = &ents[i];

		nlen = strlen(r->name);
		usize = r->usize_set ? r->usize : r->dlen;
		z64 = usize >= 0xffffffffu;
		crc = (uint32_t)libdeflate_crc32(0, r->data, r->dlen);
		put(f, 0x02014b50, 4);
		put(f, 3 << 8 | 45, 2);
		put(f, z64 ? 45 : 20, 2);
		put(f, 0x0800, 2);
		put(f, r->method, 2);
		put(f, 0, 4);
		put(f, crc, 4);
		put(f, z64 ? 0xffffffffu : r->dlen, 4);
		put(f, z64 ? 0xffffffffu : usize, 4);
		put(f, nlen, 2);
		put(f, z64 ? 20 : 0, 2);
		put(f, 0, 2); /* comment */
		put(f, 0, 2); /* disk */
		put(f, 0, 2); /* internal attributes */
		put(f, (uint64_t)0100644 << 16, 4);
		put(f, r->lie_offset && i ? off[i - 1] : off[i], 4);
		fwrite(r->name, 1, nlen, f);
		if (z64) {
			put(f, 1, 2);
			put(f, 16, 2);
			put(f, usize, 8);
			put(f, r->dlen, 8);
		}
	}
	cd_end = (uint64_t)ftell(f);
	put(f, 0x06054b50, 4);
	put(f, 0, 4);
	put(f, n, 2);
	put(f, n, 2);
	put(f, cd_end - cd, 4);
	put(f, cd, 4);
	put(f, 0, 2);
	assert_int_equal(fclose(f), 0);
	free(off);
}

static void test_names(void **state)
{
	static const struct {
		const char *name, *needle;
	} cases[] = {
	    {"../x", "'..' component"},
	    {"demo/../../x", "'..' component"},
	    {"/abs", "absolute path"},
	    {"demo\\x.py", "backslash"},
	    {"demo/\xff\xfe.py", "not valid UTF-8"},
	    {"demo/\xc0\xaf.py", "not valid UTF-8"},
	    {"demo//x.py", "empty component"},
	    {"demo/\x01.py", "control character"},
	};
	struct rawent ents[2] = {
	    {.name = "demo/ok.py", .data = "x", .dlen = 1},
	    {.data = "y", .dlen = 1},
	};
	struct wheel_report r;
	char *p = tpath("demo-1.0-py3-none-any.whl");
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		ents[1].name = cases[i].name;
		raw_zip(p, ents, 2);
		read_ok(p, 0, &r);
		if (!has_problem(&r, cases[i].name, cases[i].needle)) {
			dump_problems(&r);
			fail_msg("'%s': no problem '%s'", cases[i].name,
				 cases[i].needle);
		}
		wheel_report_release(&r);
	}
	/* A directory entry is not a bad name. */
	ents[1].name = "demo/";
	ents[1].dlen = 0;
	raw_zip(p, ents, 2);
	read_ok(p, 0, &r);
	assert_false(has_problem(&r, "demo/", "name"));
	wheel_report_release(&r);
	free(p);
}

/* Each entry's data is matched to its own central record, whatever the
 * order of the central directory. */
static void test_cd_order(void **state)
{
	struct rawent ents[3] = {
	    {.name = "demo/a.py", .data = "aaaa", .dlen = 4},
	    {.name = "demo/b.py", .data = "bb", .dlen = 2},
	    {.name = "demo/c.py", .data = "c", .dlen = 1},
	};
	struct wheel_report r;
	char *p = tpath("demo-1.0-py3-none-any.whl");
	char want[ZIPW_B64_SHA256];
	uint8_t digest[32];
	size_t i, k;

	(void)state;
	raw_reverse_cd = 1;
	raw_zip(p, ents, 3);
	raw_reverse_cd = 0;
	read_ok(p, 0, &r);
	assert_int_equal(r.nents, 3);
	assert_string_equal(r.ents[0].name, "demo/c.py");
	for (i = 0; i < r.nents; i++) {
		for (k = 0; strcmp(ents[k].name, r.ents[i].name); k++)
			;
		sha256_buf(ents[k].data, ents[k].dlen, digest);
		b64url_nopad(digest, sizeof(digest), want);
		assert_true(r.ents[i].hashed);
		assert_string_equal(r.ents[i].sha256, want);
	}
	wheel_report_release(&r);
	free(p);
}

static void test_duplicate_overlap(void **state)
{
	struct rawent dup[3] = {
	    {.name = "demo/a.py", .data = "first", .dlen = 5},
	    {.name = "demo/b.py", .data = "b", .dlen = 1},
	    {.name = "demo/a.py", .data = "second", .dlen = 6},
	};
	struct rawent ovl[2] = {
	    {.name = "demo/a.py", .data = "aaaa", .dlen = 4},
	    {.name = "demo/a.py", .data = "bbbb", .dlen = 4, .lie_offset = 1},
	};
	struct wheel_report r;
	char *p = tpath("demo-1.0-py3-none-any.whl");

	(void)state;
	raw_zip(p, dup, 3);
	read_ok(p, 0, &r);
	assert_true(has_problem(&r, "demo/a.py", "more than once"));
	wheel_report_release(&r);

	/* Two central records, one local header: the second must not pass
	 * as a second file. */
	ovl[1].name = "demo/a.py";
	raw_zip(p, ovl, 2);
	read_ok(p, 0, &r);
	assert_true(r.nproblems > 0);
	wheel_report_release(&r);
	ovl[1].name = "demo/b.py";
	raw_zip(p, ovl, 2);
	read_ok(p, 0, &r);
	if (!has_problem(&r, "demo/b.py", "another name")) {
		dump_problems(&r);
		fail();
	}
	wheel_report_release(&r);
	free(p);
}

/* A bit writer for a hand-made deflate stream (RFC 1951): bits go in
 * least significant first, Huffman codes most significant bit first. */
struct bits {
	uint8_t *p;
	size_t len;
	uint32_t acc;
	int n;
};

static void bits_put(struct bits *b, uint32_t v, int n)
{
	while (n--) {
		b->acc |= (v & 1) << b->n;
		v >>= 1;
		if (++b->n == 8) {
			b->p[b->len++] = (uint8_t)b->acc;
			b->acc = 0;
			b->n = 0;
		}
	}
}

static void bits_code(struct bits *b, uint32_t code, int n)
{
	while (n--)
		bits_put(b, code >> n, 1);
}

/* A fixed-Huffman deflate stream of 1 + 258 * runs zero bytes: one literal,
 * then matches of length 258 at distance 1, 13 bits each. */
static uint8_t *zero_bomb(uint64_t runs, size_t *len)
{
	struct bits b = {0};
	uint64_t i;

	b.p = malloc((size_t)(runs * 13 / 8 + 16));
	assert_non_null(b.p);
	bits_put(&b, 1, 1); /* BFINAL */
	bits_put(&b, 1, 2); /* BTYPE 01: fixed codes */
	bits_code(&b, 0x30, 8); /* literal 0 */
	for (i = 0; i < runs; i++) {
		bits_code(&b, 0xc5, 8); /* length code 285: 258 */
		bits_code(&b, 0, 5);	 /* distance code 0: 1 */
	}
	bits_code(&b, 0, 7); /* end of block */
	if (b.n)
		bits_put(&b, 0, 8 - b.n);
	*len = b.len;
	return b.p;
}

static long maxrss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void test_bombs(void **state)
{
	struct rawent ents[1] = {{.name = "demo/bomb.bin", .method = 8}};
	struct wheel_report r;
	char *p = tpath("demo-1.0-py3-none-any.whl");
	uint8_t *bomb;
	size_t blen;
	long rss;

	(void)state;
	/* 2 GiB of zeros that declare 1000 bytes: reading stops after at
	 * most one buffer past the declared size. */
	bomb = zero_bomb((2ull << 30) / 258, &blen);
	ents[0].data = bomb;
	ents[0].dlen = blen;
	ents[0].usize = 1000;
	ents[0].usize_set = 1;
	raw_zip(p, ents, 1);
	free(bomb);
	rss = maxrss_kib();
	read_ok(p, 0, &r);
	if (!has_problem(&r, "demo/bomb.bin", "expands past its declared "
					       "size of 1000 bytes")) {
		dump_problems(&r);
		fail();
	}
	assert_true(r.bytes_read <= 1000 + (1u << 20));
	wheel_report_release(&r);
	/* Far less than the bomb's 2 GiB, with room for the sanitizers. */
	assert_true(maxrss_kib() - rss < 64 * 1024);

	/* The same stream declaring its true size, under a smaller cap: the
	 * global limit stops it. */
	bomb = zero_bomb((64ull << 20) / 258, &blen);
	ents[0].data = bomb;
	ents[0].dlen = blen;
	ents[0].usize = 1 + (64ull << 20) / 258 * 258;
	raw_zip(p, ents, 1);
	read_ok(p, 0, &r);
	assert_false(has_problem(&r, "demo/bomb.bin", "expands"));
	assert_false(has_problem(&r, NULL, "bytes decompressed"));
	wheel_report_release(&r);
	read_ok(p, 16 << 20, &r);
	if (!has_problem(&r, NULL, "declare")) {
		dump_problems(&r);
		fail();
	}
	assert_int_equal(r.bytes_read, 0);
	wheel_report_release(&r);

	/* 10 GiB declared (zip64): refused before anything is read. */
	ents[0].usize = 10ull << 30;
	raw_zip(p, ents, 1);
	free(bomb);
	read_ok(p, 0, &r);
	if (!has_problem(&r, NULL, "declare 10737418240 bytes")) {
		dump_problems(&r);
		fail();
	}
	assert_int_equal(r.bytes_read, 0);
	wheel_report_release(&r);
	free(p);
}

static void test_not_a_wheel(void **state)
{
	struct wheel_report r;
	struct sp_err e;
	char *p = tpath("notes.txt");
	int fd;

	(void)state;
	assert_int_equal(wheel_read("/nonexistent/x.whl", 0, &r, &e), -1);
	assert_non_null(strstr(e.msg, "No such file"));
	wheel_report_release(&r);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_int_equal(write(fd, "hello\n", 6), 6);
	close(fd);
	read_ok(p, 0, &r);
	assert_true(has_problem(&r, NULL, "does not end in '.whl'"));
	assert_true(has_problem(&r, NULL, "too short"));
	wheel_report_release(&r);
	assert_int_equal(wheel_verify(p, 0, &e), -1);
	free(p);
}

/* Writes demo-1.0-cp311-cp311-<plat>.whl holding the n files names[i]
 * (data[i], lens[i] bytes) and a valid .dist-info; returns its path. */
static char *objs_wheel(const char *plat, const char *const *names,
			unsigned char *const *data, const size_t *lens,
			size_t n)
{
	static const char meta[] = "Metadata-Version: 2.1\nName: demo\n"
				   "Version: 1.0\n";
	char fname[256], wheel[256], rec[4096], sha[ZIPW_B64_SHA256];
	struct zipw z;
	struct sp_err e;
	size_t rl = 0, i;
	char *p;
	int fd;

	snprintf(fname, sizeof(fname), "demo-1.0-cp311-cp311-%s.whl", plat);
	p = tpath(fname);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(zipw_open(&z, fd, p, 1700000000, 6, &e), 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(
		    zipw_add(&z, names[i], data[i], lens[i], 0755, sha, &e), 0);
		rl += (size_t)snprintf(rec + rl, sizeof(rec) - rl,
				       "%s,sha256=%s,%zu\n", names[i], sha,
				       lens[i]);
	}
	assert_int_equal(zipw_add(&z, "demo-1.0.dist-info/METADATA", meta,
				  sizeof(meta) - 1, 0644, sha, &e),
			 0);
	rl += (size_t)snprintf(rec + rl, sizeof(rec) - rl,
			       "demo-1.0.dist-info/METADATA,sha256=%s,%zu\n",
			       sha, sizeof(meta) - 1);
	{
		/* One Tag line per platform tag of the file name. */
		char *copy = strdup(plat), *t, *save = NULL;
		size_t wl;

		assert_non_null(copy);
		wl = (size_t)snprintf(wheel, sizeof(wheel),
				      "Wheel-Version: 1.0\nGenerator: test\n"
				      "Root-Is-Purelib: false\n");
		for (t = strtok_r(copy, ".", &save); t;
		     t = strtok_r(NULL, ".", &save))
			wl += (size_t)snprintf(wheel + wl, sizeof(wheel) - wl,
					       "Tag: cp311-cp311-%s\n", t);
		free(copy);
	}
	assert_int_equal(zipw_add(&z, "demo-1.0.dist-info/WHEEL", wheel,
				  strlen(wheel), 0644, sha, &e),
			 0);
	rl += (size_t)snprintf(rec + rl, sizeof(rec) - rl,
			       "demo-1.0.dist-info/WHEEL,sha256=%s,%zu\n", sha,
			       strlen(wheel));
	rl += (size_t)snprintf(rec + rl, sizeof(rec) - rl,
			       "demo-1.0.dist-info/RECORD,,\n");
	assert_int_equal(
	    zipw_add(&z, "demo-1.0.dist-info/RECORD", rec, rl, 0644, NULL, &e),
	    0);
	assert_int_equal(zipw_finish(&z, NULL, NULL, &e), 0);
	zipw_release(&z);
	close(fd);
	return p;
}

static unsigned char *obj_flags(unsigned em, int cls, int data,
				uint32_t flags, size_t *len)
{
	static const char *const needed[] = {"libfoo.so.1", "libc.so.6"};
	struct mkelf_spec sp = {0};
	unsigned char *img;

	sp.machine = em;
	sp.elfclass = cls;
	sp.data = data;
	sp.flags = flags;
	sp.needed = needed;
	sp.nneeded = 2;
	img = mkelf_build(&sp, len);
	assert_non_null(img);
	return img;
}

static unsigned char *obj(unsigned em, int cls, int data, size_t *len)
{
	return obj_flags(em, cls, data, 0, len);
}

/* ARM by auditwheel's rule: a hard-float EABI 5 object is armv7l, and an
 * armv6l file name names it too (its headers cannot tell the two apart:
 * auditwheel's musllinux armv6l test wheel gets an armv7l tag); a
 * soft-float object is armv5l, not armv7l (auditwheel's armv5l test
 * wheel is no platform wheel for it). */
static void test_arch_arm(void **state)
{
	static const char *const one[] = {"demo/a.so"};
	unsigned char *img[1];
	size_t len[1];
	struct wheel_report r;
	char *p;

	(void)state;
	img[0] = obj_flags(EM_ARM, ELFCLASS32, ELFDATA2LSB, 0x5000400, &len[0]);
	p = objs_wheel("linux_armv6l", one, img, len, 1);
	read_ok(p, 0, &r);
	dump_problems(&r);
	assert_int_equal(r.nproblems, 0);
	assert_string_equal(r.arch, "armv7l");
	wheel_report_release(&r);
	free(p);
	free(img[0]);

	img[0] = obj_flags(EM_ARM, ELFCLASS32, ELFDATA2LSB, 0x5000200, &len[0]);
	p = objs_wheel("linux_armv7l", one, img, len, 1);
	read_ok(p, 0, &r);
	assert_string_equal(r.arch, "armv5l");
	assert_true(has_problem(&r, NULL, "'linux_armv7l' is for armv7l"));
	wheel_report_release(&r);
	free(p);
	p = objs_wheel("linux_armv5l", one, img, len, 1);
	read_ok(p, 0, &r);
	dump_problems(&r);
	assert_int_equal(r.nproblems, 0);
	wheel_report_release(&r);
	free(p);
	free(img[0]);
}

/* A wheel's architecture is its objects': every object of every
 * architecture is read (its DT_NEEDED filled), objects of two
 * architectures, a platform tag of another and an object spoke cannot
 * read are problems. */
static void test_arch(void **state)
{
	static const char *const two[] = {"demo/a.so", "demo/b.so"};
	unsigned char *img[2];
	size_t len[2];
	struct wheel_report r;
	char *p;

	(void)state;
	/* Big-endian ppc64, tagged as such: valid, needs read. */
	img[0] = obj(EM_PPC64, ELFCLASS64, ELFDATA2MSB, &len[0]);
	img[1] = obj(EM_PPC64, ELFCLASS64, ELFDATA2MSB, &len[1]);
	p = objs_wheel("manylinux2014_ppc64", two, img, len, 2);
	read_ok(p, 0, &r);
	dump_problems(&r);
	assert_int_equal(r.nproblems, 0);
	assert_string_equal(r.arch, "ppc64");
	assert_int_equal(r.nsos, 2);
	assert_true(r.sos[0].elf_ok);
	assert_int_equal(r.sos[0].elf.nneeded, 2);
	assert_string_equal(r.sos[0].elf.needed[0], "libfoo.so.1");
	assert_string_equal(r.sos[0].elf.id.arch, "ppc64");
	wheel_report_release(&r);
	free(p);

	/* The same objects under an x86_64 tag (two tags, two problems). */
	p = objs_wheel("manylinux_2_17_x86_64.manylinux2014_x86_64", two, img,
		       len, 2);
	read_ok(p, 0, &r);
	assert_int_equal(r.nproblems, 2);
	assert_true(has_problem(&r, NULL,
				"platform tag "
				"'manylinux_2_17_x86_64' is for "
				"x86_64, but its shared objects are "
				"built for ppc64"));
	assert_true(has_problem(&r, NULL, "'manylinux2014_x86_64'"));
	wheel_report_release(&r);
	free(p);
	free(img[1]);

	/* 32-bit little-endian i686 beside it: two architectures. */
	img[1] = obj(EM_386, ELFCLASS32, ELFDATA2LSB, &len[1]);
	p = objs_wheel("linux_ppc64", two, img, len, 2);
	read_ok(p, 0, &r);
	assert_int_equal(r.nproblems, 1);
	assert_true(has_problem(&r, "demo/b.so",
				"is built for i686, but 'demo/a.so' is built "
				"for ppc64"));
	assert_null(r.arch);
	wheel_report_release(&r);
	free(p);

	/* An object cut short is never read as needing nothing. */
	len[1] = 80;
	p = objs_wheel("linux_ppc64", two, img, len, 2);
	read_ok(p, 0, &r);
	assert_true(r.nproblems >= 1);
	assert_true(has_problem(&r, "demo/b.so", "cannot be read as"));
	wheel_report_release(&r);
	free(p);
	free(img[0]);
	free(img[1]);

	/* A machine spoke has no name for is named by its number. */
	img[0] = obj(0x1234, ELFCLASS64, ELFDATA2LSB, &len[0]);
	p = objs_wheel("linux_x86_64", two, img, len, 1);
	read_ok(p, 0, &r);
	assert_int_equal(r.nproblems, 1);
	assert_true(has_problem(&r, NULL, "ELF machine 4660"));
	assert_null(r.arch);
	wheel_report_release(&r);
	free(p);
	free(img[0]);
}

/* Only a file that starts with the ELF magic is read as ELF, whatever its
 * name: a text file called help.so.txt, or even x.so, is not a shared
 * object (auditwheel skips what is not ELF), while a file with the magic
 * that cannot be read is a problem. */
static void test_not_elf_by_name(void **state)
{
	static const char *const names[] = {"demo/a.so", "lp/help.so.txt",
					    "demo/notes.so", "demo/bad.so.1"};
	static char text[] = "this is help, not a library\n";
	static char bad[] = "\177ELF and then nothing an ELF header holds";
	unsigned char *img[4];
	size_t len[4];
	struct wheel_report r;
	char *p;

	(void)state;
	img[0] = obj(EM_X86_64, ELFCLASS64, ELFDATA2LSB, &len[0]);
	img[1] = (unsigned char *)text;
	len[1] = sizeof(text) - 1;
	img[2] = (unsigned char *)text;
	len[2] = sizeof(text) - 1;
	p = objs_wheel("linux_x86_64", names, img, len, 3);
	read_ok(p, 0, &r);
	dump_problems(&r);
	assert_int_equal(r.nproblems, 0);
	assert_int_equal(r.nsos, 1);
	assert_string_equal(r.sos[0].entry, "demo/a.so");
	assert_string_equal(r.arch, "x86_64");
	wheel_report_release(&r);
	free(p);

	img[3] = (unsigned char *)bad;
	len[3] = sizeof(bad) - 1;
	p = objs_wheel("linux_x86_64", names, img, len, 4);
	read_ok(p, 0, &r);
	assert_int_equal(r.nproblems, 1);
	assert_true(
	    has_problem(&r, "demo/bad.so.1", "cannot be read as ELF"));
	wheel_report_release(&r);
	free(p);
	free(img[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_record),
	    cmocka_unit_test(test_record_crlf),
	    cmocka_unit_test(test_empty_files),
	    cmocka_unit_test(test_hostile_texts),
	    cmocka_unit_test(test_license_file),
	    cmocka_unit_test(test_damage),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_cd_order),
	    cmocka_unit_test(test_duplicate_overlap),
	    cmocka_unit_test(test_bombs),
	    cmocka_unit_test(test_not_a_wheel),
	    cmocka_unit_test(test_arch),
	    cmocka_unit_test(test_arch_arm),
	    cmocka_unit_test(test_not_elf_by_name),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
