#define _GNU_SOURCE
#include "worker/wheel/wheel_read.h"

#include <ctype.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/path.h"
#include "common/sha256.h"
#include "common/pyname.h"
#include "worker/wheel/record.h"
#include "worker/zip/zip_read.h"
#include "worker/zip/zip_stream.h"

/* WHEEL, RECORD, METADATA and entry_points.txt are read into memory, up
 * to this size each. */
#define TEXT_MAX (64u << 20)
/* Beyond this many problems, only their number is kept. */
#define PROBLEMS_MAX 1000

/* The .dist-info files whose text is checked. */
enum { T_WHEEL, T_RECORD, T_METADATA, T_EP, T_N };

static const char *const text_base[T_N] = {"WHEEL", "RECORD", "METADATA",
					   "entry_points.txt"};

struct text {
	char *name;
	char *text;
	size_t len;
	int have;
};

/* The state of one wheel_read() call. */
struct rd {
	struct wheel_report *r;
	int fd;
	uint64_t max_bytes;
	int oom;	   /* memory ran out while recording problems */
	size_t dropped;	   /* problems past PROBLEMS_MAX */
	/* The archive's structure; its entries are r->ents (see
	 * wheel_read()). */
	struct zip_archive za;
	/* The .dist-info's text files, read into memory by the data pass:
	 * their entry names ("<dist_info>/WHEEL"...), text and length, and
	 * whether all of it was read intact. */
	struct text t[T_N];
	/* RECORD hashes in sha384 or sha512, by entry index ("sha512=..."),
	 * checked by a second data pass once RECORD is known; else NULL. */
	char **alt;
	size_t nalt;
	/* The entry the data pass is in: its text file (or NULL), whether
	 * its text is still being kept, whether it may be a shared object,
	 * the copy of one (or -1), its first bytes (the ELF magic tells
	 * whether it is one), and the bytes seen so far. */
	struct text *tx;
	int keep_text;
	int is_so;
	int so_fd;
	unsigned char magic[SELFMAG];
	uint64_t got;
	/* The second pass's digest of the entry it is in, and what RECORD
	 * says it is ("sha512=..."). */
	struct sha256 alt_h;
	const char *alt_want;
};

static void problem(struct rd *d, const char *entry, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records a problem.  Out of memory is remembered and reported once, at
 * the end, so that callers need not check. */
static void problem(struct rd *d, const char *entry, const char *fmt, ...)
{
	struct wheel_report *r = d->r;
	struct wheel_problem *p;
	va_list ap;
	char *reason = NULL, *ent = NULL;
	int n;

	if (r->nproblems >= PROBLEMS_MAX) {
		d->dropped++;
		return;
	}
	va_start(ap, fmt);
	n = vasprintf(&reason, fmt, ap);
	va_end(ap);
	if (n < 0)
		reason = NULL;
	if (entry)
		ent = strdup(entry);
	p = realloc(r->problems, (r->nproblems + 1) * sizeof(*p));
	if (!reason || (entry && !ent) || !p) {
		if (p)
			r->problems = p;
		free(reason);
		free(ent);
		d->oom = 1;
		return;
	}
	r->problems = p;
	p[r->nproblems].entry = ent;
	p[r->nproblems].reason = reason;
	r->nproblems++;
}

/* Index of the entry called name, or -1. */
static long find_entry(struct rd *d, const char *name)
{
	return zip_find(&d->za, name);
}

/* The zip reader's problems join the wheel's, in the order found. */
static void zip_problem_to_report(void *arg, const char *entry,
				  const char *reason)
{
	struct rd *d = arg;

	if (!reason) {
		d->oom = 1;
		return;
	}
	problem(d, entry, "%s", reason);
}

/* Splits the file name into its parts: <name>-<version>[-<build>]-<py>-
 * <abi>-<plat>.whl. */
static int parse_filename(struct rd *d, struct sp_err *e)
{
	struct wheel_report *r = d->r;
	const char *base = path_basename(r->path);
	char *stem, *parts[6], *p;
	size_t len = strlen(base), n = 0;
	int rc = 0;

	if (len < 4 || strcmp(base + len - 4, ".whl") != 0) {
		problem(d, NULL, "the file name does not end in '.whl'");
		return 0;
	}
	stem = strndup(base, len - 4);
	if (!stem)
		return sp_err_set(e, "out of memory");
	for (p = stem; n < 6; n++) {
		parts[n] = p;
		p = strchr(p, '-');
		if (!p) {
			n++;
			break;
		}
		*p++ = '\0';
	}
	if (p || (n != 5 && n != 6) ||
	    (n == 6 && (parts[2][0] < '0' || parts[2][0] > '9'))) {
		problem(d, NULL,
			"the file name is not <name>-<version>[-<build>]-"
			"<python tag>-<abi tag>-<platform tag>.whl");
		goto out;
	}
	for (len = 0; len < n; len++) {
		if (!*parts[len]) {
			problem(d, NULL, "the file name has an empty part");
			goto out;
		}
	}
	r->dist = strdup(parts[0]);
	r->version = strdup(parts[1]);
	r->build = n == 6 ? strdup(parts[2]) : NULL;
	r->py = strdup(parts[n - 3]);
	r->abi = strdup(parts[n - 2]);
	r->plat = strdup(parts[n - 1]);
	if (!r->dist || !r->version || (n == 6 && !r->build) || !r->py ||
	    !r->abi || !r->plat)
		rc = sp_err_set(e, "out of memory");
out:
	free(stem);
	return rc;
}

/* Version spellings compare equal when they differ only in case and in '-'
 * against '_' (the file name's escape). */
static int version_same(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;

		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return 0;
	}
	return *a == *b;
}

/* Finds the one top-level .dist-info directory and checks its name against
 * the file name. */
static int find_dist_info(struct rd *d, struct sp_err *e)
{
	struct wheel_report *r = d->r;
	const char *slash, *n;
	char *di_name = NULL, *dash, *n1 = NULL, *n2 = NULL;
	size_t i, len;
	int others = 0, rc = 0;

	for (i = 0; i < r->nents; i++) {
		n = r->ents[i].name;
		slash = strchr(n, '/');
		if (!slash)
			continue;
		len = (size_t)(slash - n);
		if (len < 10 || memcmp(slash - 10, ".dist-info", 10) != 0)
			continue;
		if (!r->dist_info) {
			r->dist_info = strndup(n, len);
			if (!r->dist_info)
				return sp_err_set(e, "out of memory");
		} else if (strlen(r->dist_info) != len ||
			   memcmp(r->dist_info, n, len) != 0) {
			if (!others++)
				problem(d, NULL,
					"more than one .dist-info directory "
					"('%s', '%.*s')",
					r->dist_info, (int)len, n);
		}
	}
	if (!r->dist_info) {
		problem(d, NULL, "no .dist-info directory");
		return 0;
	}
	for (i = 0; i < T_N; i++) {
		if (asprintf(&d->t[i].name, "%s/%s", r->dist_info,
			     text_base[i]) < 0) {
			d->t[i].name = NULL;
			return sp_err_set(e, "out of memory");
		}
	}
	if (!r->dist)
		return 0;
	di_name = strndup(r->dist_info, strlen(r->dist_info) - 10);
	if (!di_name)
		return sp_err_set(e, "out of memory");
	dash = strchr(di_name, '-');
	if (!dash) {
		problem(d, r->dist_info,
			"is not named <name>-<version>.dist-info");
		goto out;
	}
	*dash = '\0';
	n1 = dist_normalize(di_name);
	n2 = dist_normalize(r->dist);
	if (!n1 || !n2) {
		rc = sp_err_set(e, "out of memory");
		goto out;
	}
	if (strcmp(n1, n2) != 0 || !version_same(dash + 1, r->version))
		problem(d, r->dist_info,
			"does not match the file name's distribution '%s' and "
			"version '%s'",
			r->dist, r->version);
out:
	free(di_name);
	free(n1);
	free(n2);
	return rc;
}

/* A growable buffer for a dist-info text file, capped at TEXT_MAX. */
static int text_append(char **buf, size_t *len, const void *p, size_t n)
{
	char *nb;

	if (*len + n > TEXT_MAX)
		return -1;
	nb = realloc(*buf, *len + n + 1);
	if (!nb)
		return -1;
	memcpy(nb + *len, p, n);
	*len += n;
	nb[*len] = '\0';
	*buf = nb;
	return 0;
}

/* An unlinked temporary file for a shared object's bytes. */
static int tmpfile_open(struct sp_err *e)
{
	const char *dir = getenv("TMPDIR");
	char *tmpl = NULL;
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	if (asprintf(&tmpl, "%s/spoke-show.XXXXXX", dir) < 0)
		return sp_err_set(e, "out of memory");
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0)
		sp_err_sys(e, "cannot create a temporary file in '%s'", dir);
	else
		unlink(tmpl);
	free(tmpl);
	return fd;
}

static int write_full(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	ssize_t w;

	while (n) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A name a shared object is given ("x.so", "libx.so.1"): such an entry
 * is copied from its first byte, in case it starts with the ELF magic.
 * The name alone never makes it one: "help.so.txt" is text. */
static int so_name(const char *name)
{
	size_t len = strlen(name);

	return (len > 3 && strcmp(name + len - 3, ".so") == 0) ||
	       strstr(name, ".so.") != NULL;
}

/* Reads what CPython's ABI says of the object (pycheck.h), from the
 * imports symvers read.  A file whose symbols cannot be read has its
 * error from the readers above already; only running out of memory
 * fails. */
static int inspect_python(struct wheel_so *so, int fd)
{
	char *mod;
	struct sp_err why;

	if (!so->vers_ok)
		return 0;
	mod = pycheck_modname(so->entry);
	if (!mod)
		return -1;
	if (pycheck_imports_fd(&so->vers.imports, fd, so->entry, mod, &so->py,
			       &why) == 0)
		so->py_ok = 1;
	free(mod);
	return so->py_ok ? 0 : -1;
}

/* Inspects the shared object copied to fd (len bytes). */
static int inspect_so(struct rd *d, const struct zip_entry *ent, int fd,
		      uint64_t len, struct sp_err *e)
{
	struct wheel_report *r = d->r;
	struct wheel_so *so, *p;
	struct sp_err why;

	p = realloc(r->sos, (r->nsos + 1) * sizeof(*p));
	if (!p)
		return sp_err_set(e, "out of memory");
	r->sos = p;
	so = &r->sos[r->nsos];
	memset(so, 0, sizeof(*so));
	so->entry = strdup(ent->name);
	if (!so->entry)
		return sp_err_set(e, "out of memory");
	r->nsos++;
	sp_err_clear(&why);
	/* Executables too: spoke repair bundles the libraries they need, and
	 * the verdict counts them as auditwheel does. */
	if (elf_inspect_object_fd(fd, ent->name, &so->elf, &why) == 0)
		so->elf_ok = so->ident_ok = 1;
	else
		so->error = strdup(why.msg);
	sp_err_clear(&why);
	if (!so->ident_ok &&
	    elf_ident_fd(fd, ent->name, &so->elf.id, &why) == 0)
		so->ident_ok = 1;
	/* An executable (ET_EXEC, or a PIE), an object file or a separate
	 * debug file is not a shared object, and a wheel may ship them;
	 * anything else that cannot be read would be shown as if it needed
	 * nothing. */
	if (!so->ident_ok)
		problem(d, ent->name, "cannot be read as ELF: %s", why.msg);
	else if (!so->elf_ok && so->elf.id.type == ET_DYN && !so->elf.id.pie &&
		 !so->elf.id.debug_only)
		problem(d, ent->name, "cannot be read as a shared object: %s",
			so->error ? so->error : "out of memory");
	if (len == 0)
		return 0;
	/* Read through the descriptor: only the tables, never the whole
	 * object. */
	sp_err_clear(&why);
	if (symvers_read_fd(fd, ent->name, &so->vers, &why) == 0)
		so->vers_ok = 1;
	else if (!so->error)
		so->error = strdup(why.msg);
	if (inspect_python(so, fd) < 0)
		return sp_err_set(e, "out of memory");
	return 0;
}

/* The data pass meets an entry: whether it is one of the dist-info's
 * text files, or may be a shared object by its name. */
static int entry_begin(void *arg, struct zip_entry *ent, struct sp_err *e)
{
	struct rd *d = arg;
	size_t k;

	(void)e;
	d->tx = NULL;
	for (k = 0; k < T_N; k++) {
		if (d->t[k].name && strcmp(ent->name, d->t[k].name) == 0) {
			d->tx = &d->t[k];
			break;
		}
	}
	d->keep_text = d->tx != NULL;
	d->is_so = so_name(ent->name);
	d->so_fd = -1;
	d->got = 0;
	return 0;
}

/* A piece of the entry's data: a possible shared object (by name, or by
 * the ELF magic at its start) is copied to an unlinked temporary file, a text
 * file kept in memory up to TEXT_MAX. */
static int entry_data(void *arg, struct zip_entry *ent, const uint8_t *buf,
		      size_t n, struct sp_err *e)
{
	struct rd *d = arg;
	int first = d->got == 0;

	if (d->got < SELFMAG)
		memcpy(d->magic + d->got, buf,
		       n < SELFMAG - d->got ? n : SELFMAG - (size_t)d->got);
	d->got += n;
	if (first && !d->is_so && n >= SELFMAG &&
	    memcmp(buf, ELFMAG, SELFMAG) == 0)
		d->is_so = 1;
	if (d->is_so && !ent->is_dir && d->so_fd < 0 && first) {
		d->so_fd = tmpfile_open(e);
		if (d->so_fd < 0)
			return -1;
	}
	if (d->so_fd >= 0 && write_full(d->so_fd, buf, n) < 0)
		return sp_err_sys(e, "cannot write a copy of '%s'", ent->name);
	if (d->keep_text &&
	    text_append(&d->tx->text, &d->tx->len, buf, n) < 0) {
		problem(d, ent->name, "is too large (more than %u bytes)",
			TEXT_MAX);
		d->keep_text = 0;
	}
	return 0;
}

/* The entry's data is all read: when it was intact, its text is whole
 * and its shared object can be inspected. */
static int entry_end(void *arg, struct zip_entry *ent, int intact,
		     struct sp_err *e)
{
	struct rd *d = arg;
	int rc = 0;

	if (intact) {
		if (d->keep_text)
			d->tx->have = 1;
		/* Only a file with the ELF magic is a shared object, as
		 * auditwheel sees one: any other is data, whatever its
		 * name. */
		if (d->so_fd >= 0 && d->got >= SELFMAG &&
		    memcmp(d->magic, ELFMAG, SELFMAG) == 0)
			rc = inspect_so(d, ent, d->so_fd, d->got, e);
	}
	if (d->so_fd >= 0)
		close(d->so_fd);
	d->so_fd = -1;
	return rc;
}

/* The second pass reads only the entries RECORD hashes with sha384 or
 * sha512: the first found their data intact, so this only digests and
 * compares. */
static int alt_begin(void *arg, struct zip_entry *ent, struct sp_err *e)
{
	struct rd *d = arg;
	char algo[8];

	d->alt_want = d->alt[ent - d->r->ents];
	if (!d->alt_want)
		return 1;
	memcpy(algo, d->alt_want, 6);
	algo[6] = '\0';
	return hash_init_named(&d->alt_h, algo, e) < 0 ? -1 : 0;
}

static int alt_data(void *arg, struct zip_entry *ent, const uint8_t *buf,
		    size_t n, struct sp_err *e)
{
	struct rd *d = arg;

	(void)ent;
	(void)e;
	sha256_update(&d->alt_h, buf, n);
	return 0;
}

static int alt_end(void *arg, struct zip_entry *ent, int intact,
		   struct sp_err *e)
{
	struct rd *d = arg;
	char got[ZIPW_B64_SHA512];
	uint8_t digest[64];

	(void)e;
	b64url_nopad(digest, hash_final(&d->alt_h, digest), got);
	if (intact && strcmp(got, d->alt_want + 7) != 0)
		problem(d, ent->name, "its %.6s is %s, RECORD says %s",
			d->alt_want, got, d->alt_want + 7);
	return 0;
}

/* The data pass (zip_stream.h) with the wheel's consumer; the second
 * pass when alt is set. */
static int read_data(struct rd *d, int alt, struct sp_err *e)
{
	const struct zip_consumer first = {entry_begin, entry_data, entry_end,
					   d};
	const struct zip_consumer again = {alt_begin, alt_data, alt_end, d};

	return zip_stream_read(&d->za, alt ? ZIP_PASS_AGAIN : ZIP_PASS_CHECK,
			       d->max_bytes, &d->r->bytes_read,
			       alt ? &again : &first, e);
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
			   end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static int tags_add(struct wheel_report *r, const char *tag)
{
	char **p = realloc(r->tags, (r->ntags + 1) * sizeof(*p));

	if (!p)
		return -1;
	r->tags = p;
	p[r->ntags] = strdup(tag);
	if (!p[r->ntags])
		return -1;
	r->ntags++;
	return 0;
}

static int has_tag(const struct wheel_report *r, const char *tag)
{
	size_t i;

	for (i = 0; i < r->ntags; i++)
		if (strcmp(r->tags[i], tag) == 0)
			return 1;
	return 0;
}

/* Takes the next dot-separated member of a compressed tag set: *p moves
 * past it.  Returns 0 at the end of the set. */
static int next_member(const char **p, const char **m, size_t *len)
{
	const char *dot;

	if (!*p)
		return 0;
	dot = strchr(*p, '.');
	*m = *p;
	*len = dot ? (size_t)(dot - *p) : strlen(*p);
	*p = dot ? dot + 1 : NULL;
	return 1;
}

static int in_set(const char *set, const char *part, size_t plen)
{
	const char *m;
	size_t len;

	while (next_member(&set, &m, &len))
		if (len == plen && memcmp(m, part, len) == 0)
			return 1;
	return 0;
}

/* The Tag lines must be exactly what the file name's compressed tag sets
 * expand to: an installer picks the wheel by its name, and tools that
 * rewrite tags work from WHEEL. */
static int check_tags(struct rd *d, struct sp_err *e)
{
	struct wheel_report *r = d->r;
	const char *pa, *pb, *pc, *a, *b, *c, *t, *d1, *d2;
	size_t la, lb, lc, i;
	char *tag;

	for (pa = r->py; next_member(&pa, &a, &la);) {
		for (pb = r->abi; next_member(&pb, &b, &lb);) {
			for (pc = r->plat; next_member(&pc, &c, &lc);) {
				if (asprintf(&tag, "%.*s-%.*s-%.*s", (int)la,
					     a, (int)lb, b, (int)lc, c) < 0)
					return sp_err_set(e, "out of memory");
				if (!has_tag(r, tag))
					problem(d, d->t[T_WHEEL].name,
						"has no Tag line for the file "
						"name's tag '%s'",
						tag);
				free(tag);
			}
		}
	}
	for (i = 0; i < r->ntags; i++) {
		t = r->tags[i];
		d1 = strchr(t, '-');
		d2 = d1 ? strchr(d1 + 1, '-') : NULL;
		if (!d2 || strchr(d2 + 1, '-') ||
		    !in_set(r->py, t, (size_t)(d1 - t)) ||
		    !in_set(r->abi, d1 + 1, (size_t)(d2 - d1 - 1)) ||
		    !in_set(r->plat, d2 + 1, strlen(d2 + 1)))
			problem(d, d->t[T_WHEEL].name,
				"has Tag '%s', which the file name does not "
				"have",
				t);
	}
	return 0;
}

/* Takes the next line of a NUL-terminated text in place: its end (LF) is
 * cut off and *p moves past it.  Returns NULL at the end of the text.
 * Unlike strtok_r(), it keeps empty lines, which METADATA needs (a blank
 * line ends its headers), and it has no state to leave uninitialised. */
static char *next_line(char **p)
{
	char *line = *p, *nl;

	if (!line || !*line)
		return NULL;
	nl = strchr(line, '\n');
	if (nl) {
		*nl = '\0';
		*p = nl + 1;
	} else {
		*p = line + strlen(line);
	}
	return line;
}

/* The 1-based line of text that p points into. */
static size_t line_of(const char *text, const char *p)
{
	size_t n = 1;

	for (; text < p; text++)
		n += *text == '\n';
	return n;
}

/* The checks every text file of the .dist-info gets before it is parsed:
 * it holds text at all, in UTF-8, with LF line ends.  For METADATA the CR
 * check covers only the headers, whose body is a free-form
 * description; RECORD, being CSV, may end its rows in CRLF.  Returns 1 when the text can be parsed, else 0 with the
 * problem recorded. */
static int check_text(struct rd *d, int k)
{
	struct text *t = &d->t[k];
	const char *nul, *cr, *head_end;
	size_t i;

	if (!t->have)
		return 0; /* the data pass has said why */
	if (!t->text || !t->len) {
		problem(d, t->name, "is empty");
		return 0;
	}
	nul = memchr(t->text, '\0', t->len);
	if (nul) {
		problem(d, t->name, "holds a NUL byte (at offset %zu): it is "
				    "not text",
			(size_t)(nul - t->text));
		return 0;
	}
	for (i = 0; i < t->len && strchr(" \t\r\n\f\v", t->text[i]); i++)
		;
	if (i == t->len) {
		problem(d, t->name, "holds only white space");
		return 0;
	}
	if (!zip_utf8_valid((const unsigned char *)t->text, t->len)) {
		problem(d, t->name, "is not valid UTF-8");
		return 0;
	}
	/* RECORD is CSV, whose rows may end in CRLF (RFC 4180; Python's
	 * csv module writes it, and so did older bdist_wheel): record.c
	 * parses either. */
	if (k == T_RECORD)
		return 1;
	head_end = k == T_METADATA ? strstr(t->text, "\n\n") : NULL;
	cr = memchr(t->text, '\r',
		    head_end ? (size_t)(head_end - t->text) : t->len);
	if (cr) {
		problem(d, t->name,
			"has a carriage return (CRLF line ends?) on line %zu: "
			"its lines must end in LF alone",
			line_of(t->text, cr));
		return 0;
	}
	return 1;
}

/* The WHEEL file: RFC 822 style "Key: value" lines. */
static int check_wheel_file(struct rd *d, struct sp_err *e)
{
	struct wheel_report *r = d->r;
	char *line, *rest, *colon, *key, *val, *build = NULL;
	unsigned major;
	size_t lineno;
	int nbuild = 0;

	if (!d->t[T_WHEEL].name)
		return 0;
	if (find_entry(d, d->t[T_WHEEL].name) < 0) {
		problem(d, NULL, "no WHEEL file in '%s'", r->dist_info);
		return 0;
	}
	/* An empty entry leaves no text at all (NULL): check_text() says so
	 * before anything parses it. */
	if (!check_text(d, T_WHEEL))
		return 0;
	for (rest = d->t[T_WHEEL].text, lineno = 1;
	     (line = next_line(&rest)) != NULL; lineno++) {
		colon = strchr(line, ':');
		if (!colon) {
			if (*trim(line))
				problem(d, d->t[T_WHEEL].name,
					"line %zu is not 'Key: value'", lineno);
			continue;
		}
		*colon = '\0';
		key = trim(line);
		val = trim(colon + 1);
		if (strcasecmp(key, "Wheel-Version") == 0) {
			free(r->wheel_version);
			r->wheel_version = strdup(val);
			if (!r->wheel_version)
				return sp_err_set(e, "out of memory");
		} else if (strcasecmp(key, "Root-Is-Purelib") == 0) {
			if (strcasecmp(val, "true") == 0)
				r->root_is_purelib = 1;
			else if (strcasecmp(val, "false") == 0)
				r->root_is_purelib = 0;
			else
				problem(d, d->t[T_WHEEL].name,
					"Root-Is-Purelib is '%s', not true or "
					"false",
					val);
		} else if (strcasecmp(key, "Tag") == 0) {
			if (!has_tag(r, val) && tags_add(r, val) < 0)
				return sp_err_set(e, "out of memory");
		} else if (strcasecmp(key, "Build") == 0) {
			build = val;
			nbuild++;
		}
	}
	if (!r->wheel_version)
		problem(d, d->t[T_WHEEL].name, "has no Wheel-Version");
	else if (sscanf(r->wheel_version, "%u.", &major) != 1 || major != 1)
		problem(d, d->t[T_WHEEL].name,
			"Wheel-Version '%s' is not supported (1.x is)",
			r->wheel_version);
	if (r->root_is_purelib < 0)
		problem(d, d->t[T_WHEEL].name, "has no Root-Is-Purelib");
	if (!r->ntags)
		problem(d, d->t[T_WHEEL].name, "has no Tag line");
	if (r->build && (!build || strcmp(build, r->build) != 0))
		problem(d, d->t[T_WHEEL].name,
			"its Build does not match the file name's build tag "
			"'%s'",
			r->build);
	else if (!r->build && nbuild)
		problem(d, d->t[T_WHEEL].name,
			"has a Build line, the file name no build tag");
	if (r->py && r->ntags)
		return check_tags(d, e);
	return 0;
}

static int is_signature(struct rd *d, const char *name)
{
	size_t n = strlen(d->t[T_RECORD].name);

	return strncmp(name, d->t[T_RECORD].name, n) == 0 &&
	       (strcmp(name + n, ".jws") == 0 || strcmp(name + n, ".p7s") == 0);
}

/* Every file has exactly one RECORD line with its true sha256 and size;
 * RECORD's own line has neither. */
static int check_record(struct rd *d, struct sp_err *e)
{
	struct wheel_report *r = d->r;
	struct zip_entry *ent;
	uint8_t *listed = NULL;
	struct record_row *rows = NULL;
	struct sp_err why;
	char **f, *end;
	unsigned long long size;
	size_t i, k, nrows = 0;
	long idx;

	if (!d->t[T_RECORD].name)
		return 0;
	if (find_entry(d, d->t[T_RECORD].name) < 0) {
		problem(d, NULL, "no RECORD file in '%s'", r->dist_info);
		return 0;
	}
	if (!check_text(d, T_RECORD))
		return 0;
	if (record_parse(d->t[T_RECORD].text, d->t[T_RECORD].len, &rows,
			 &nrows, &why) < 0) {
		if (strcmp(why.msg, "out of memory") == 0)
			return sp_err_set(e, "out of memory");
		problem(d, d->t[T_RECORD].name, "is not valid CSV: %s",
			why.msg);
		return 0;
	}
	listed = calloc(r->nents + 1, 1);
	d->alt = calloc(r->nents + 1, sizeof(*d->alt));
	if (!listed || !d->alt) {
		free(listed);
		free(rows);
		return sp_err_set(e, "out of memory");
	}
	for (k = 0; k < nrows; k++) {
		f = rows[k].f;
		if (rows[k].nf != 3) {
			problem(d, d->t[T_RECORD].name,
				"line %zu is not path,hash,size (it has %d "
				"field%s)",
				rows[k].line, rows[k].nf,
				rows[k].nf == 1 ? "" : "s");
			continue;
		}
		idx = find_entry(d, f[0]);
		if (idx < 0) {
			problem(d, d->t[T_RECORD].name,
				"lists '%s', which is not in the wheel", f[0]);
			continue;
		}
		ent = &r->ents[idx];
		if (listed[idx]++) {
			problem(d, d->t[T_RECORD].name, "lists '%s' twice", f[0]);
			continue;
		}
		if (strcmp(f[0], d->t[T_RECORD].name) == 0) {
			if (*f[1] || *f[2])
				problem(d, d->t[T_RECORD].name,
					"its own line must have no hash and "
					"no size");
			continue;
		}
		if (ent->is_dir)
			continue;
		if (!*f[1]) {
			problem(d, f[0], "has no hash in RECORD");
		} else if (strncmp(f[1], "sha384=", 7) == 0 ||
			   strncmp(f[1], "sha512=", 7) == 0) {
			/* Allowed ("sha256 or better"), and checked by a
			 * second pass: only now is RECORD known. */
			if (ent->hashed && !d->alt[idx]) {
				d->alt[idx] = strdup(f[1]);
				if (!d->alt[idx]) {
					free(listed);
					free(rows);
					return sp_err_set(e, "out of memory");
				}
				d->nalt++;
			}
		} else if (strncmp(f[1], "sha256=", 7) != 0) {
			problem(d, f[0],
				"its RECORD hash '%s' is not sha256, sha384 or "
				"sha512 (the spec forbids weaker ones)",
				f[1]);
		} else if (ent->hashed && strcmp(f[1] + 7, ent->sha256) != 0) {
			problem(d, f[0],
				"its sha256 is %s, RECORD says %s",
				ent->sha256, f[1] + 7);
		}
		errno = 0;
		size = strtoull(f[2], &end, 10);
		if (!*f[2] || *end || errno || f[2][0] == '-' ||
		    f[2][0] == '+')
			problem(d, f[0], "its RECORD size '%s' is not a number",
				f[2]);
		else if (size != ent->usize)
			problem(d, f[0], "its size is %llu, RECORD says %llu",
				(unsigned long long)ent->usize, size);
	}
	free(rows);
	for (i = 0; i < r->nents; i++) {
		ent = &r->ents[i];
		if (listed[i] || ent->is_dir || is_signature(d, ent->name))
			continue;
		if (strcmp(ent->name, d->t[T_RECORD].name) == 0)
			problem(d, d->t[T_RECORD].name, "does not list itself");
		else
			problem(d, ent->name, "has no line in RECORD");
	}
	free(listed);
	return 0;
}

/* One License-File value: the file's path below the dist-info's licenses/
 * folder (PEP 639), held to the entry-name rules so that it can never
 * name a file outside the wheel, and present in the wheel.  Before
 * Metadata-Version 2.4, tools put the file beside METADATA instead. */
static int check_license_file(struct rd *d, const char *val, int v24,
			      struct sp_err *e)
{
	struct wheel_report *r = d->r;
	struct sp_err why;
	char *in_licenses = NULL, *beside = NULL;
	size_t n = strlen(val);
	/* An empty value has no last byte to look at. */
	int folder = n > 0 && val[n - 1] == '/';
	int rc = 0;

	sp_err_clear(&why);
	if (zip_name_check(val, n, ZIP_NAME_DIR, &why) < 0 || folder) {
		problem(d, d->t[T_METADATA].name,
			"License-File '%s' is not a file's place in the "
			"wheel's licenses/ folder: %s",
			val, folder ? "it names a folder" : why.msg);
		return 0;
	}
	/* asprintf leaves its pointer undefined when it fails. */
	if (asprintf(&in_licenses, "%s/licenses/%s", r->dist_info, val) < 0)
		in_licenses = NULL;
	if (asprintf(&beside, "%s/%s", r->dist_info, val) < 0)
		beside = NULL;
	if (!in_licenses || !beside) {
		rc = sp_err_set(e, "out of memory");
	} else if (find_entry(d, in_licenses) < 0 &&
		   (v24 || find_entry(d, beside) < 0)) {
		problem(d, d->t[T_METADATA].name,
			"License-File '%s' is not in the wheel (no '%s')", val,
			in_licenses);
	}
	free(in_licenses);
	free(beside);
	return rc;
}

/* METADATA: RFC 822 style headers up to the first blank line, then the
 * description.  The headers must parse, name the file name's
 * distribution and version, and every License-File must hold. */
static int check_metadata(struct rd *d, struct sp_err *e)
{
	struct wheel_report *r = d->r;
	const char *name = d->t[T_METADATA].name;
	char *line, *rest, *colon, *key, *val, *n1 = NULL, *n2 = NULL;
	char **lic = NULL, **nl;
	const char *mv = NULL, *nm = NULL, *ver = NULL;
	unsigned major = 0, minor = 0;
	size_t lineno, nlic = 0, i;
	int rc = 0;

	if (!name)
		return 0;
	if (find_entry(d, name) < 0) {
		problem(d, NULL, "no METADATA file in '%s'", r->dist_info);
		return 0;
	}
	if (!check_text(d, T_METADATA))
		return 0;
	for (rest = d->t[T_METADATA].text, lineno = 1;
	     (line = next_line(&rest)) != NULL && *line; lineno++) {
		if (*line == ' ' || *line == '\t') {
			if (lineno == 1)
				problem(d, name,
					"line 1 continues a header that is "
					"not there");
			continue;
		}
		colon = strchr(line, ':');
		if (!colon) {
			problem(d, name, "line %zu is not 'Key: value'",
				lineno);
			continue;
		}
		*colon = '\0';
		key = trim(line);
		val = trim(colon + 1);
		if (strcasecmp(key, "Metadata-Version") == 0) {
			mv = val;
		} else if (strcasecmp(key, "Name") == 0) {
			nm = val;
		} else if (strcasecmp(key, "Version") == 0) {
			ver = val;
		} else if (strcasecmp(key, "License-File") == 0) {
			nl = realloc(lic, (nlic + 1) * sizeof(*lic));
			if (!nl) {
				rc = sp_err_set(e, "out of memory");
				goto out;
			}
			lic = nl;
			lic[nlic++] = val;
		}
	}
	if (!mv)
		problem(d, name, "has no Metadata-Version");
	else if (sscanf(mv, "%u.%u", &major, &minor) < 1)
		problem(d, name, "its Metadata-Version '%s' is not a version",
			mv);
	if (!nm || !*nm) {
		problem(d, name, "has no Name");
	} else if (r->dist) {
		n1 = dist_normalize(nm);
		n2 = dist_normalize(r->dist);
		if (!n1 || !n2) {
			rc = sp_err_set(e, "out of memory");
			goto out;
		}
		if (strcmp(n1, n2) != 0)
			problem(d, name,
				"its Name '%s' is not the file name's "
				"distribution '%s'",
				nm, r->dist);
	}
	if (!ver || !*ver)
		problem(d, name, "has no Version");
	else if (r->version && !version_same(ver, r->version))
		problem(d, name,
			"its Version '%s' is not the file name's version "
			"'%s'",
			ver, r->version);
	for (i = 0; i < nlic && rc == 0; i++)
		rc = check_license_file(
		    d, lic[i], major > 2 || (major == 2 && minor >= 4), e);
out:
	free(lic);
	free(n1);
	free(n2);
	return rc;
}

/* entry_points.txt: an INI file of [group] sections holding
 * "name = object reference" lines. */
static void check_entry_points(struct rd *d)
{
	const char *name = d->t[T_EP].name;
	char *line, *rest, *t, *eq;
	size_t lineno;
	int in_group = 0;

	if (!name || find_entry(d, name) < 0 || !check_text(d, T_EP))
		return;
	for (rest = d->t[T_EP].text, lineno = 1;
	     (line = next_line(&rest)) != NULL; lineno++) {
		t = trim(line);
		if (!*t || *t == '#' || *t == ';')
			continue;
		if (*t == '[') {
			if (t[strlen(t) - 1] != ']' || strlen(t) < 3 ||
			    strchr(t + 1, '[') ||
			    strchr(t + 1, ']') != t + strlen(t) - 1)
				problem(d, name,
					"line %zu is not a [group] header",
					lineno);
			in_group = 1;
			continue;
		}
		eq = strchr(t, '=');
		if (!eq || eq == t || !*trim(eq + 1))
			problem(d, name,
				"line %zu is neither a [group] header nor "
				"'name = object'",
				lineno);
		else if (!in_group)
			problem(d, name,
				"line %zu names an entry point before any "
				"[group]",
				lineno);
	}
}

/* The architecture a platform tag names: "aarch64" of "linux_aarch64",
 * "manylinux_2_17_aarch64", "manylinux2014_aarch64" or
 * "musllinux_1_2_aarch64"; NULL for any other platform ("any",
 * "macosx_..."), which says nothing of Linux objects here. */
static const char *tag_arch(const char *tag)
{
	static const char *const legacy[] = {"manylinux1_", "manylinux2010_",
					     "manylinux2014_", "linux_"};
	const char *p;
	size_t i;
	int k;

	for (i = 0; i < sizeof(legacy) / sizeof(*legacy); i++)
		if (strncmp(tag, legacy[i], strlen(legacy[i])) == 0)
			return tag + strlen(legacy[i]);
	if (strncmp(tag, "manylinux_", 10) == 0 ||
	    strncmp(tag, "musllinux_", 10) == 0)
		p = tag + 10;
	else
		return NULL;
	/* Two numbers: the libc's major and minor version. */
	for (k = 0; k < 2; k++) {
		if (!isdigit((unsigned char)*p))
			return NULL;
		while (isdigit((unsigned char)*p))
			p++;
		if (*p++ != '_')
			return NULL;
	}
	return p;
}

/* 1 when a platform tag's architecture name tag names objects of
 * architecture obj.  Besides the same name: a hard-float armv6l object
 * cannot be told from an armv7l one by its headers (so auditwheel tags
 * both armv7l), Python on a 64-bit ARM kernel in 32-bit mode says armv8l,
 * and i386 and i586 are older spellings of 32-bit x86. */
static int tag_arch_names(const char *tag, const char *obj)
{
	static const struct {
		const char *tag, *obj;
	} same[] = {{"armv6l", "armv7l"},
		    {"armv8l", "armv7l"},
		    {"i386", "i686"},
		    {"i586", "i686"}};
	size_t i;

	if (!obj)
		return 0;
	if (strcmp(tag, obj) == 0)
		return 1;
	for (i = 0; i < sizeof(same) / sizeof(*same); i++)
		if (!strcmp(tag, same[i].tag) && !strcmp(obj, same[i].obj))
			return 1;
	return 0;
}

/* The wheel's architecture is that of its objects: all must have one,
 * and the file name's platform tags must name it. */
static void check_arch(struct rd *d)
{
	struct wheel_report *r = d->r;
	const struct wheel_so *first = NULL;
	char b1[64], b2[64], *plat, *tag, *save = NULL;
	const char *a, *f;
	size_t i;
	int mixed = 0;

	for (i = 0; i < r->nsos; i++) {
		const struct wheel_so *so = &r->sos[i];

		if (!so->ident_ok)
			continue;
		if (!first) {
			first = so;
			continue;
		}
		/* The architecture entry too: it tells a soft-float ARM
		 * object (armv5l) from a hard-float one (armv7l). */
		if (so->elf.id.machine == first->elf.id.machine &&
		    so->elf.id.elfclass == first->elf.id.elfclass &&
		    so->elf.id.data == first->elf.id.data &&
		    so->elf.id.arch == first->elf.id.arch)
			continue;
		a = elf_ident_label(&so->elf.id, b1, sizeof(b1));
		f = elf_ident_label(&first->elf.id, b2, sizeof(b2));
		problem(d, so->entry,
			"is built for %s, but '%s' is built for %s: the "
			"objects of one wheel must share one architecture",
			a, first->entry, f);
		mixed = 1;
	}
	if (!first || mixed)
		return;
	r->arch = first->elf.id.arch;
	if (!r->plat)
		return;
	f = elf_ident_label(&first->elf.id, b2, sizeof(b2));
	plat = strdup(r->plat);
	if (!plat) {
		d->oom = 1;
		return;
	}
	for (tag = strtok_r(plat, ".", &save); tag;
	     tag = strtok_r(NULL, ".", &save)) {
		a = tag_arch(tag);
		if (a && !tag_arch_names(a, r->arch))
			problem(d, NULL,
				"the file name's platform tag '%s' is for %s, "
				"but its shared objects are built for %s "
				"('%s')",
				tag, a, f, first->entry);
	}
	free(plat);
}

int wheel_read(const char *path, uint64_t max_bytes, struct wheel_report *r,
	       struct sp_err *e)
{
	struct rd d = {0};
	struct stat st;
	size_t i, pass1;
	int rc = -1, zrc;

	memset(r, 0, sizeof(*r));
	r->root_is_purelib = -1;
	d.r = r;
	d.fd = -1;
	d.so_fd = -1;
	d.max_bytes = max_bytes ? max_bytes : WHEEL_READ_MAX_DEFAULT;
	r->path = strdup(path);
	if (!r->path)
		return sp_err_set(e, "out of memory");
	d.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (d.fd < 0)
		return sp_err_sys(e, "cannot open '%s'", path);
	if (fstat(d.fd, &st) < 0) {
		sp_err_sys(e, "cannot stat '%s'", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		sp_err_set(e, "'%s' is not a regular file", path);
		goto out;
	}
	r->size = (uint64_t)st.st_size;
	if (parse_filename(&d, e) < 0)
		goto out;
	zrc = zip_read(&d.za, d.fd, r->path, r->size, zip_problem_to_report, &d,
		       e);
	/* The report shows the archive's entries: they are the zip
	 * reader's array, which the report takes over at the end (out). */
	r->ents = d.za.ents;
	r->nents = d.za.nents;
	r->zip64 = d.za.zip64;
	if (zrc < 0)
		goto out;
	if (!d.za.have_cd)
		goto done;
	if (find_dist_info(&d, e) < 0)
		goto out;
	/* libarchive on a damaged structure would read garbage or loop; the
	 * problems found so far already make the wheel invalid. */
	pass1 = r->nproblems;
	if (!d.za.broken && read_data(&d, 0, e) < 0)
		goto out;
	pass1 = r->nproblems - pass1;
	if (!d.za.broken &&
	    (check_wheel_file(&d, e) < 0 || check_record(&d, e) < 0 ||
	     check_metadata(&d, e) < 0))
		goto out;
	if (!d.za.broken) {
		check_entry_points(&d);
		check_arch(&d);
	}
	/* Not after a first pass that found a problem: it would find it
	 * again, and the wheel is invalid already. */
	if (d.nalt && !pass1 && read_data(&d, 1, e) < 0)
		goto out;
done:
	if (d.dropped) {
		r->nproblems--;
		free(r->problems[r->nproblems].entry);
		free(r->problems[r->nproblems].reason);
		d.dropped++;
		problem(&d, NULL, "and %zu more problems", d.dropped);
	}
	if (d.oom) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	rc = 0;
out:
	if (d.so_fd >= 0)
		close(d.so_fd);
	if (d.fd >= 0)
		close(d.fd);
	r->ents = d.za.ents;
	r->nents = d.za.nents;
	d.za.ents = NULL;
	d.za.nents = 0;
	zip_archive_release(&d.za);
	for (i = 0; i < T_N; i++) {
		free(d.t[i].name);
		free(d.t[i].text);
	}
	if (d.alt) {
		for (i = 0; i < r->nents; i++)
			free(d.alt[i]);
		free(d.alt);
	}
	return rc;
}

void wheel_report_release(struct wheel_report *r)
{
	size_t i;

	for (i = 0; i < r->nents; i++)
		free(r->ents[i].name);
	free(r->ents);
	for (i = 0; i < r->nsos; i++) {
		free(r->sos[i].entry);
		free(r->sos[i].error);
		elf_info_release(&r->sos[i].elf);
		symvers_release(&r->sos[i].vers);
		pycheck_release(&r->sos[i].py);
	}
	free(r->sos);
	for (i = 0; i < r->nproblems; i++) {
		free(r->problems[i].entry);
		free(r->problems[i].reason);
	}
	free(r->problems);
	for (i = 0; i < r->ntags; i++)
		free(r->tags[i]);
	free(r->tags);
	free(r->path);
	free(r->dist);
	free(r->version);
	free(r->build);
	free(r->py);
	free(r->abi);
	free(r->plat);
	free(r->wheel_version);
	free(r->dist_info);
	memset(r, 0, sizeof(*r));
}

int wheel_verify(const char *path, uint64_t max_bytes, struct sp_err *e)
{
	struct wheel_report r;
	const struct wheel_problem *p;
	int rc;

	if (wheel_read(path, max_bytes, &r, e) < 0) {
		wheel_report_release(&r);
		return -1;
	}
	rc = 0;
	if (r.nproblems) {
		p = &r.problems[0];
		if (p->entry)
			sp_err_set(e, "'%s': '%s' %s%s", path, p->entry,
				   p->reason,
				   r.nproblems > 1 ? " (and more problems)"
						   : "");
		else
			sp_err_set(e, "'%s': %s%s", path, p->reason,
				   r.nproblems > 1 ? " (and more problems)"
						   : "");
		rc = -1;
	}
	wheel_report_release(&r);
	return rc;
}
