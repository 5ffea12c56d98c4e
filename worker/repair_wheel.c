#define _GNU_SOURCE
#include "worker/repair_wheel.h"

#include <archive.h>
#include <archive_entry.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/dirs.h"
#include "common/fsx.h"
#include "common/path.h"
#include "common/pyname.h"
#include "common/tmpfile.h"
#include "worker/elf/debugsplit.h"
#include "worker/wheel/launcher.h"
#include "worker/wheel/record.h"
#include "worker/repair/exclude.h"
#include "worker/repair/repair.h"
#include "worker/wheel/wheel_read.h"
#include "worker/zip/zip_write.h"

/* One entry of the input, in central directory order.  Its data is never
 * held in memory: a shared object is extracted to its own file under the
 * private directory (fd), every other entry to the spool (at off). */
struct ent {
	const struct zip_entry *we; /* in the report */
	int read;		      /* its data was extracted */
	int extract;		      /* a shared object: to its own file */
	int fd;			      /* that file, open for reading, or -1 */
	uint64_t off, len;	      /* in the spool, or in fd from 0 */
	int so;			      /* a shared object to repair */
	int exe;		      /* ...which is an executable */
	const struct elf_info *info;  /* of the shared object */
	/* An executable at <dist>.data/scripts/<name>: where it moves
	 * ("<pkg>.scripts/<name>") when it needs libraries bundled, a
	 * launcher taking its place; else NULL. */
	char *moved;
	struct repair_result rep;
	int repaired;
	struct debugsplit dbg;	      /* with split_debug */
	char *debug_rel;	      /* its path under debug_dir */
	char *debug_path;
};

struct ctx {
	const char *path;
	const struct repair_wheel_opts *o;
	struct wheel_report r;
	struct ent *ents;
	size_t nents;
	const struct ent **byname; /* sorted by name, for lookups */
	char *tmpdir;		   /* the shared objects, for $ORIGIN */
	int tmpfd;		   /* tmpdir, open; or -1 */
	int spool;		   /* the other entries' data (tmpfile_anon) */
	uint64_t spool_len;
	const char *plat;	   /* chosen tag (owned by a repair) */
	char *out_path;
};

static int cmp_byname(const void *a, const void *b)
{
	const struct ent *x = *(const struct ent *const *)a;
	const struct ent *y = *(const struct ent *const *)b;

	return strcmp(x->we->name, y->we->name);
}

static struct ent *find_ent(struct ctx *c, const char *name)
{
	struct zip_entry key_we = {.name = (char *)name};
	struct ent key = {.we = &key_we}, *kp = &key;
	const struct ent **hit;

	hit = bsearch(&kp, c->byname, c->nents, sizeof(*c->byname),
		      cmp_byname);
	return hit ? (struct ent *)*hit : NULL;
}

/* "<x>.libs/..." at the top: what a repair bundled, not a module. */
static int in_libs_dir(const char *name)
{
	const char *slash = strchr(name, '/');

	return slash && slash - name > 5 && !strncmp(slash - 5, ".libs", 5);
}

/* Writes n bytes of buf to fd at off (name for messages). */
static int put_at(int fd, const void *buf, size_t n, uint64_t off,
		  const char *name, struct sp_err *e)
{
	const char *p = buf;
	ssize_t w;

	while (n) {
		w = pwrite(fd, p, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = ENOSPC;
			return sp_err_sys(e, "cannot write '%s'", name);
		}
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

/* Creates the file of a shared object at its path in the wheel under
 * tmpdir, for ldresolve's $ORIGIN; it stays open for the repair and the
 * wheel writer. */
static int so_file(struct ctx *c, struct ent *en, struct sp_err *e)
{
	char *file = path_join(c->tmpdir, en->we->name);
	char *dir = file ? path_dirname(file) : NULL;
	int rc = -1;

	if (!dir) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	if (fsx_mkdir_p(dir, 0700, e) < 0)
		goto out;
	en->fd = open(file, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		      0755);
	if (en->fd < 0) {
		sp_err_sys(e, "cannot create '%s'", file);
		goto out;
	}
	rc = 0;
out:
	free(file);
	free(dir);
	return rc;
}

/* The piece an entry's data is read and written in. */
#define PIECE ((size_t)256 << 10)

/* Extracts every entry's data through libarchive, a piece at a time: each
 * shared object to its file under tmpdir (for $ORIGIN, the repair and the
 * new wheel), everything else to the spool, an unlinked scratch file.
 * The wheel was verified just before, so sizes are known and bounded; the
 * check against the declared size stays in case the file changed in
 * between.
 *
 * This is the wheel's second decompression: wheel_read() streams every
 * entry to hash it and keeps none of it.  Reading once would need the
 * verifying pass to hand its bytes over; a raw copy of the compressed
 * data is no substitute, since bytes read again are not the bytes
 * verified.  Measured on a wheel of a 165 MB module and an 80 MB data
 * file: this pass is about 5% of the repair's CPU time (deflating the new
 * wheel is half, hashing an eighth).  Memory: one piece, whatever the
 * entries' sizes. */
static int read_entries(struct ctx *c, struct sp_err *e)
{
	struct archive *a;
	struct archive_entry *ae;
	struct ent *en;
	uint8_t *buf = malloc(PIECE);
	uint64_t got, at;
	la_ssize_t n;
	int fd, st, rc = -1;

	a = archive_read_new();
	if (!a || !buf) {
		archive_read_free(a);
		free(buf);
		return sp_err_set(e, "out of memory");
	}
	if (archive_read_support_format_zip_seekable(a) != ARCHIVE_OK ||
	    archive_read_open_filename(a, c->path, 65536) != ARCHIVE_OK) {
		sp_err_set(e, "cannot read '%s': %s", c->path,
			   archive_error_string(a));
		goto out;
	}
	while ((st = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(ae);

		en = name ? find_ent(c, name) : NULL;
		if (!en || en->read || en->we->is_dir)
			continue;
		en->read = 1;
		en->len = en->we->usize;
		if (en->extract) {
			if (so_file(c, en, e) < 0)
				goto out;
			fd = en->fd;
			at = 0;
		} else {
			fd = c->spool;
			at = en->off = c->spool_len;
		}
		for (got = 0;; got += (uint64_t)n) {
			n = archive_read_data(a, buf, PIECE);
			if (n <= 0 || got + (uint64_t)n > en->len)
				break;
			if (put_at(fd, buf, (size_t)n, at + got, c->tmpdir,
				   e) < 0)
				goto out;
		}
		if (n < 0 || got != en->len) {
			sp_err_set(e, "'%s': '%s': cannot read its data%s%s",
				   c->path, name, n < 0 ? ": " : "",
				   n < 0 ? archive_error_string(a)
					 : " (the file changed while read)");
			goto out;
		}
		if (!en->extract)
			c->spool_len += en->len;
	}
	if (st != ARCHIVE_EOF) {
		sp_err_set(e, "cannot read '%s': %s", c->path,
			   archive_error_string(a));
		goto out;
	}
	rc = 0;
out:
	archive_read_free(a);
	free(buf);
	return rc;
}

/* Makes the private directory the shared objects are extracted to, as
 * they will be installed, so that ldresolve finds the wheel's own
 * libraries through $ORIGIN; and the spool in it.  Nothing there is
 * durable: it is removed at the end, and the spool has no name. */
static int make_tmpdir(struct ctx *c, struct sp_err *e)
{
	const char *tmp = getenv("TMPDIR");

	if (asprintf(&c->tmpdir, "%s/spoke-repair.XXXXXX",
		     tmp && *tmp ? tmp : "/tmp") < 0) {
		c->tmpdir = NULL;
		return sp_err_set(e, "out of memory");
	}
	if (!mkdtemp(c->tmpdir)) {
		sp_err_sys(e, "cannot create a directory '%s'", c->tmpdir);
		free(c->tmpdir);
		c->tmpdir = NULL;
		return -1;
	}
	c->tmpfd = open(c->tmpdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					   O_CLOEXEC);
	if (c->tmpfd < 0)
		return sp_err_sys(e, "cannot open '%s'", c->tmpdir);
	c->spool = tmpfile_anon(c->tmpfd, c->tmpdir, "spool", e);
	return c->spool < 0 ? -1 : 0;
}

/* Reads an entry's data (a small one: WHEEL) into memory.  malloc'd. */
static char *ent_text(const struct ctx *c, const struct ent *en,
		      struct sp_err *e)
{
	int fd = en->fd >= 0 ? en->fd : c->spool;
	uint64_t at = en->fd >= 0 ? 0 : en->off;
	size_t done = 0;
	char *buf;
	ssize_t n;

	if (en->len > SIZE_MAX - 1 || !(buf = malloc((size_t)en->len + 1))) {
		sp_err_set(e, "out of memory");
		return NULL;
	}
	while (done < en->len) {
		n = pread(fd, buf + done, (size_t)en->len - done,
			  (off_t)(at + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			sp_err_sys(e, "cannot read back '%s' from '%s'",
				   en->we->name, c->tmpdir);
			free(buf);
			return NULL;
		}
		done += (size_t)n;
	}
	buf[done] = '\0';
	return buf;
}

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	remove(p);
	return 0;
}

const char *repair_wheel_newer_tag(const char *a, const char *b)
{
	static const char pre[] = "manylinux_2_";
	unsigned long x, y;

	if (strncmp(a, pre, sizeof(pre) - 1) != 0)
		return a;
	if (strncmp(b, pre, sizeof(pre) - 1) != 0)
		return b;
	x = strtoul(a + sizeof(pre) - 1, NULL, 10);
	y = strtoul(b + sizeof(pre) - 1, NULL, 10);
	return y > x ? b : a;
}

/* The input's file name without ".whl": debug files of objects without a
 * build ID go under it.  malloc'd. */
static char *wheel_stem(const struct ctx *c)
{
	const char *base = path_basename(c->path);

	return strndup(base, strlen(base) > 4 ? strlen(base) - 4 : 0);
}

/* Runs repair.h on one module, with the command's options.  With
 * split_debug, the libraries it bundles are split too, their debug files
 * named as the modules' are. */
static int repair_one(struct ctx *c, struct ent *en, struct sp_err *e)
{
	const struct repair_wheel_opts *o = c->o;
	struct repair_opts ro = {0};
	struct repair_in in = {0};
	const char **exclude;
	char **own = NULL;
	char *file = NULL, *origin = NULL, *stem = NULL;
	size_t i, n = 0, nown = 0;
	int rc = -1;

	exclude = calloc(o->nexclude + 2 * c->r.nsos + 1, sizeof(*exclude));
	own = calloc(2 * c->r.nsos + 1, sizeof(*own));
	if (!exclude || !own)
		goto oom;
	for (i = 0; i < o->nexclude; i++)
		exclude[n++] = o->exclude[i];
	/* What the wheel already holds is found through $ORIGIN after
	 * installation as now: bundling it again would duplicate it.  Its
	 * names are names, not the user's globs: quoted, a '[' in one
	 * matches only itself. */
	for (i = 0; i < c->r.nsos; i++) {
		const struct wheel_so *so = &c->r.sos[i];

		if (!strcmp(so->entry, en->we->name))
			continue;
		if (!(own[nown] = exclude_literal(path_basename(so->entry))))
			goto oom;
		exclude[n++] = own[nown++];
		if (so->elf_ok && so->elf.soname) {
			if (!(own[nown] = exclude_literal(so->elf.soname)))
				goto oom;
			exclude[n++] = own[nown++];
		}
	}
	ro.mode = REPAIR_MODE_REPAIR;
	ro.compat = o->compat;
	ro.exclude = exclude;
	ro.nexclude = n;
	ro.lib_path = o->lib_path;
	ro.nlib = o->nlib;
	ro.ld_library_path = o->ld_library_path;
	if (o->split_debug) {
		ro.split_debug = 1;
		if (!(stem = wheel_stem(c)))
			goto oom;
		in.debug_dir = o->debug_dir;
		in.wheel_stem = stem;
	}

	file = path_join(c->tmpdir, en->we->name);
	origin = file ? path_dirname(file) : NULL;
	if (!origin)
		goto oom;
	in.opts = &ro;
	in.dist = c->r.dist;
	/* A script's RPATH leads from where it moves to. */
	in.module_path = en->moved ? en->moved : en->we->name;
	in.name = en->we->name;
	in.origin = origin;
	in.plat = c->r.plat;
	in.info = en->info;
	in.mod_fd = en->fd;
	in.tmp_dirfd = c->tmpfd;
	in.tmp_label = c->tmpdir;
	if (repair_run(&in, &en->rep, e) < 0) {
		sp_err_wrap(e, "'%s'", c->path);
		goto out;
	}
	en->repaired = 1;
	/* A script that needs nothing bundled has no RPATH to set: it
	 * stays where it is, as it is (or patched in place, when only a
	 * libpython entry was removed). */
	if (en->moved && !en->rep.nfiles) {
		free(en->moved);
		en->moved = NULL;
	}
	if (en->moved && find_ent(c, en->moved)) {
		sp_err_set(e,
			   "'%s': cannot move the executable '%s' to '%s': the "
			   "wheel already has an entry there",
			   c->path, en->we->name, en->moved);
		goto out;
	}
	c->plat = c->plat ? repair_wheel_newer_tag(c->plat, en->rep.plat)
			  : en->rep.plat;
	rc = 0;
	goto out;
oom:
	sp_err_set(e, "out of memory");
out:
	free(exclude);
	for (i = 0; i < nown; i++)
		free(own[i]);
	free(own);
	free(file);
	free(origin);
	free(stem);
	return rc;
}

char *repair_wheel_retag(const char *wheel, size_t len, const char *plat)
{
	char *out = NULL, *line, *copy, *save = NULL, **pairs = NULL;
	size_t outlen = 0, npairs = 0, i, k;
	int placed = 0;
	FILE *f;

	copy = strndup(wheel, len);
	f = open_memstream(&out, &outlen);
	pairs = calloc(len / 4 + 1, sizeof(*pairs));
	if (!copy || !f || !pairs)
		goto fail;
	/* First the python-abi pairs of every Tag line, in order. */
	for (line = copy; line && *line;) {
		char *nl = strchr(line, '\n'), *dash;

		if (!strncmp(line, "Tag: ", 5)) {
			size_t l = nl ? (size_t)(nl - line) : strlen(line);

			while (l > 5 && (line[l - 1] == '\r' || line[l - 1] == ' '))
				l--;
			dash = memrchr(line, '-', l);
			if (dash && dash > line + 5) {
				char *pair = strndup(line + 5,
						     (size_t)(dash - line - 5));

				if (!pair)
					goto fail;
				for (k = 0; k < npairs; k++)
					if (!strcmp(pairs[k], pair))
						break;
				if (k < npairs)
					free(pair);
				else
					pairs[npairs++] = pair;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "Tag: ", 5) != 0) {
			fprintf(f, "%s\n", line);
			continue;
		}
		if (placed++)
			continue;
		for (i = 0; i < npairs; i++) {
			const char *p = plat;

			while (*p) {
				size_t pl = strcspn(p, ".");

				fprintf(f, "Tag: %s-%.*s\n", pairs[i], (int)pl,
					p);
				p += pl;
				if (*p == '.')
					p++;
			}
		}
	}
	if (fclose(f) != 0) {
		f = NULL;
		goto fail;
	}
	f = NULL;
	goto done;
fail:
	if (f)
		fclose(f);
	free(out);
	out = NULL;
done:
	for (i = 0; i < npairs; i++)
		free(pairs[i]);
	free(pairs);
	free(copy);
	return out;
}

static int is_dist_info(const struct ctx *c, const char *name)
{
	size_t l = strlen(c->r.dist_info);

	return !strncmp(name, c->r.dist_info, l) && name[l] == '/';
}

/* 1 when file k of entry i's repair was bundled by an earlier module. */
static int graft_seen(const struct ctx *c, size_t i, size_t k)
{
	const char *p = c->ents[i].rep.files[k].path;
	size_t j, m;

	for (j = 0; j <= i; j++)
		for (m = 0; m < c->ents[j].rep.nfiles && (j < i || m < k); m++)
			if (!strcmp(c->ents[j].rep.files[m].path, p))
				return 1;
	return 0;
}

/* Adds the len bytes at off of fd as the entry name (zipw_add_fd), with
 * its RECORD row. */
static int add_fd(struct record *rec, struct zipw *z, const char *name,
		  int fd, uint64_t off, uint64_t len, mode_t mode,
		  const char *label, struct sp_err *e)
{
	char b64[ZIPW_B64_SHA256];

	if (zipw_add_fd(z, name, fd, off, len, label, mode, b64, e) < 0)
		return -1;
	return record_add(rec, name, b64, (size_t)len, e);
}

/* Adds entry en of the input: the patched module, the extracted shared
 * object or the spool's bytes. */
static int add_ent(struct ctx *c, struct record *rec, struct zipw *z,
		   const struct ent *en, struct sp_err *e)
{
	const char *name = en->moved ? en->moved : en->we->name;
	/* Installers make every script executable, whatever its mode in
	 * the wheel; a file in platlib keeps the wheel's mode, and the
	 * launcher executes the moved script. */
	mode_t mode = en->moved ? 0755 : en->we->mode;

	if (en->repaired && en->rep.mod_fd >= 0)
		return add_fd(rec, z, name, en->rep.mod_fd, 0, en->rep.mod_len,
			      mode, c->tmpdir, e);
	if (en->fd >= 0)
		return add_fd(rec, z, name, en->fd, 0, en->len, mode, c->tmpdir,
			      e);
	return add_fd(rec, z, name, c->spool, en->off, en->len, en->we->mode,
		      c->tmpdir, e);
}

/* Adds the launcher (launcher.h) that takes a moved script's place
 * (en->moved). */
static int add_launcher(struct record *rec, struct zipw *z,
			const struct ent *en, struct sp_err *e)
{
	char *text = launcher_text(en->moved);
	int rc;

	if (!text)
		return sp_err_set(e, "out of memory");
	rc = record_zip_add(rec, z, en->we->name, text, strlen(text), 0755, e);
	free(text);
	return rc;
}

/* Writes the new wheel to fd; see the header for the order. */
static int write_wheel(struct ctx *c, int fd, struct sp_err *e)
{
	char *rec_name = NULL, *wheel_name = NULL;
	char *retagged = NULL;
	struct record rec = {0};
	size_t i, k;
	struct zipw z;
	int pass, rc = -1;

	if (zipw_open(&z, fd, c->out_path, c->o->epoch, 6, e) < 0)
		return -1;
	if (record_init(&rec, e) < 0)
		goto out;
	/* asprintf leaves its pointer undefined when it fails, and out:
	 * frees both. */
	if (asprintf(&rec_name, "%s/RECORD", c->r.dist_info) < 0)
		rec_name = NULL;
	if (asprintf(&wheel_name, "%s/WHEEL", c->r.dist_info) < 0)
		wheel_name = NULL;
	if (!rec_name || !wheel_name) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	/* Pass 0: everything outside the .dist-info, then what the repairs
	 * bundled; pass 1: the .dist-info. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < c->nents; i++) {
			struct ent *en = &c->ents[i];
			const char *name = en->we->name;

			if (en->we->is_dir || is_dist_info(c, name) != pass)
				continue;
			/* RECORD is written last, anew; its signatures
			 * would no longer hold. */
			if (pass && (!strcmp(name + strlen(c->r.dist_info),
					     "/RECORD") ||
				     !strcmp(name + strlen(c->r.dist_info),
					     "/RECORD.jws") ||
				     !strcmp(name + strlen(c->r.dist_info),
					     "/RECORD.p7s")))
				continue;
			if (pass && !strcmp(name, wheel_name)) {
				char *text = ent_text(c, en, e);

				if (!text)
					goto out;
				retagged = repair_wheel_retag(
				    text, (size_t)en->len, c->plat);
				free(text);
				if (!retagged) {
					sp_err_set(e, "out of memory");
					goto out;
				}
				if (record_zip_add(&rec, &z, name, retagged,
						   strlen(retagged),
						   en->we->mode, e) < 0)
					goto out;
				continue;
			}
			if (add_ent(c, &rec, &z, en, e) < 0)
				goto out;
			if (en->moved && add_launcher(&rec, &z, en, e) < 0)
				goto out;
		}
		if (pass)
			break;
		for (i = 0; i < c->nents; i++) {
			struct repair_result *rp = &c->ents[i].rep;

			for (k = 0; c->ents[i].repaired && k < rp->nfiles;
			     k++) {
				struct repair_file *rf = &rp->files[k];

				/* Two modules needing one library bundle it
				 * once: same bytes, same hashed name.  A
				 * name the input already has (a wheel
				 * repaired twice) keeps the input's entry. */
				if (find_ent(c, rf->path) ||
				    graft_seen(c, i, k))
					continue;
				if (add_fd(&rec, &z, rf->path, rf->fd, 0,
					   rf->len, 0755, c->tmpdir, e) < 0)
					goto out;
			}
		}
	}
	if (record_zip_finish(&rec, &z, rec_name, e) < 0 ||
	    zipw_finish(&z, NULL, NULL, e) < 0)
		goto out;
	rc = 0;
out:
	record_release(&rec);
	free(rec_name);
	free(wheel_name);
	free(retagged);
	zipw_release(&z);
	return rc;
}

/* Strips the module's DWARF before the repair patches it: the patch may
 * append a segment at the end of the file, after the debug sections,
 * while stripping needs them last.  The build ID, the code and every
 * address stay the same through the patch, so the debug file matches the
 * patched module.  An object without a build ID gets
 * <wheel name>/<entry>.debug instead. */
static int split_one(struct ctx *c, struct ent *en, struct sp_err *e)
{
	char *stem = wheel_stem(c), *data = NULL;
	int rc = -1;

	/* Stripping works in memory: the object is read whole, and its
	 * extracted file replaced by the stripped one. */
	if (!stem) {
		sp_err_set(e, "out of memory");
		goto out;
	}
	if (!(data = ent_text(c, en, e)))
		goto out;
	if (debugsplit_for_wheel(data, (size_t)en->len, en->we->name,
				 en->we->name, stem, &en->dbg, &en->debug_rel,
				 e) < 0) {
		sp_err_wrap(e, "'%s'", c->path);
		goto out;
	}
	if (en->dbg.debug) {
		if (ftruncate(en->fd, 0) < 0) {
			sp_err_sys(e, "cannot write '%s' in '%s'",
				   en->we->name, c->tmpdir);
			goto out;
		}
		if (put_at(en->fd, en->dbg.stripped, en->dbg.stripped_len, 0,
			   c->tmpdir, e) < 0)
			goto out;
		en->len = en->dbg.stripped_len;
		free(en->dbg.stripped);
		en->dbg.stripped = NULL;
	}
	rc = 0;
out:
	free(stem);
	free(data);
	return rc;
}

/* The module's debug file, then those of the libraries its repair
 * bundled.  A library two modules need is bundled once but split by both
 * repairs: its debug file is written twice, the same bytes at the same
 * path. */
static int write_debug(struct ctx *c, struct ent *en, struct sp_err *e)
{
	if (en->debug_rel) {
		en->debug_path = path_join(c->o->debug_dir, en->debug_rel);
		if (!en->debug_path)
			return sp_err_set(e, "out of memory");
		if (debugsplit_write(&en->dbg, c->o->debug_dir, en->debug_rel,
				     e) < 0)
			return -1;
	}
	return en->repaired ? repair_write_debug(&en->rep, e) : 0;
}

/* "<input name without its platform tag>-<plat>.whl" in out_dir. */
static int plan_output(struct ctx *c, struct sp_err *e)
{
	const char *base = path_basename(c->path);
	const char *dash = strrchr(base, '-');
	struct stat a, b;

	if (!dash)
		return sp_err_set(e, "'%s' is not named as a wheel", c->path);
	if (asprintf(&c->out_path, "%s/%.*s-%s.whl", c->o->out_dir,
		     (int)(dash - base), base, c->plat) < 0) {
		c->out_path = NULL;
		return sp_err_set(e, "out of memory");
	}
	if (stat(c->path, &a) == 0 && stat(c->out_path, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return sp_err_set(e, "the repaired wheel '%s' would replace "
				     "its input; choose another --out-dir",
				  c->out_path);
	return 0;
}

/* The temporary-file recipe (tmpfile.h): a reader of out_dir sees no
 * wheel or a whole one, and nobody else who may write out_dir can
 * redirect the write.  out_dir was resolved by the caller: opened here
 * with no symlink followed. */
static int write_output(struct ctx *c, struct sp_err *e)
{
	struct tmpfile t = TMPFILE_INIT;
	int dirfd, rc = -1;

	dirfd = dirs_open(c->o->out_dir, 0, 0, e);
	if (dirfd < 0)
		return -1;
	if (tmpfile_create(&t, dirfd, c->o->out_dir, path_basename(c->out_path),
			   0644, e) < 0)
		goto out;
	/* The wheel's mode does not depend on the umask. */
	if (fchmod(t.fd, 0644) < 0) {
		sp_err_sys(e, "cannot set the mode of '%s/%s'", c->o->out_dir,
			   t.name);
		goto out;
	}
	if (write_wheel(c, t.fd, e) < 0)
		goto out;
	rc = tmpfile_commit(&t, path_basename(c->out_path), 0, e);
out:
	tmpfile_discard(&t);
	close(dirfd);
	return rc;
}

static json_t *modules_json(const struct ctx *c)
{
	json_t *a = json_array(), *m;
	size_t i;

	for (i = 0; a && i < c->nents; i++) {
		const struct ent *en = &c->ents[i];

		if (!en->repaired)
			continue;
		m = json_pack("{s:s}", "entry", en->we->name);
		if (!m || json_object_update(m, en->rep.result) < 0) {
			json_decref(m);
			json_decref(a);
			return NULL;
		}
		if (en->debug_path)
			json_object_set_new(m, "debug",
					    json_string(en->debug_path));
		if (en->exe)
			json_object_set_new(m, "executable", json_true());
		if (en->moved)
			json_object_set_new(m, "moved_to",
					    json_string(en->moved));
		json_array_append_new(a, m);
	}
	return a;
}

/* The first problem of an invalid wheel, and how many more. */
static int invalid(const struct ctx *c, struct sp_err *e)
{
	const struct wheel_problem *p = &c->r.problems[0];
	char more[64] = "";

	if (c->r.nproblems > 1)
		snprintf(more, sizeof(more), " (and %zu more problem%s)",
			 c->r.nproblems - 1, c->r.nproblems > 2 ? "s" : "");
	if (p->entry)
		return sp_err_set(e, "'%s' is not a valid wheel: '%s': %s%s; "
				     "nothing was written",
				  c->path, p->entry, p->reason, more);
	return sp_err_set(e, "'%s' is not a valid wheel: %s%s; nothing was "
			     "written",
			  c->path, p->reason, more);
}

/* The <name> of an entry "<x>.data/scripts/<name>", else NULL: a script,
 * which installers copy to the environment's bin/, a folder with no fixed
 * path to platlib and its <dist>.libs. */
static const char *script_name(const char *entry)
{
	const char *s1 = strchr(entry, '/'), *s2;

	if (!s1 || s1 - entry <= 5 || strncmp(s1 - 5, ".data", 5) != 0 ||
	    strncmp(s1 + 1, "scripts/", 8) != 0)
		return NULL;
	s2 = s1 + 9;
	return *s2 && !strchr(s2, '/') ? s2 : NULL;
}

/* Plans where each script that is an executable moves when it needs
 * libraries bundled: "<pkg>.scripts/<name>" in platlib, pkg the
 * distribution's normalized name as in "<pkg>.libs", so that an RPATH of
 * $ORIGIN/../<pkg>.libs holds wherever the environment is. */
static int plan_scripts(struct ctx *c, struct sp_err *e)
{
	const char *script;
	char *norm;
	size_t i;

	for (i = 0; i < c->nents; i++) {
		struct ent *en = &c->ents[i];

		if (!en->exe || !(script = script_name(en->we->name)))
			continue;
		norm = dist_normalize(c->r.dist);
		if (!norm ||
		    asprintf(&en->moved, "%s.scripts/%s", norm, script) < 0) {
			en->moved = NULL;
			free(norm);
			return sp_err_set(e, "out of memory");
		}
		free(norm);
	}
	return 0;
}

static int prepare(struct ctx *c, size_t *nmod, struct sp_err *e)
{
	size_t i;

	if (wheel_read(c->path, 0, &c->r, e) < 0)
		return -1;
	if (c->r.nproblems)
		return invalid(c, e);
	c->ents = calloc(c->r.nents + 1, sizeof(*c->ents));
	c->byname = calloc(c->r.nents + 1, sizeof(*c->byname));
	if (!c->ents || !c->byname)
		return sp_err_set(e, "out of memory");
	c->nents = c->r.nents;
	for (i = 0; i < c->nents; i++) {
		c->ents[i].we = &c->r.ents[i];
		c->ents[i].fd = -1;
		repair_result_init(&c->ents[i].rep);
		c->byname[i] = &c->ents[i];
	}
	qsort(c->byname, c->nents, sizeof(*c->byname), cmp_byname);
	*nmod = 0;
	for (i = 0; i < c->r.nsos; i++) {
		const struct wheel_so *so = &c->r.sos[i];
		struct ent *en = find_ent(c, so->entry);

		if (en)
			en->extract = 1;
		if (!en || in_libs_dir(so->entry))
			continue;
		if (!so->elf_ok)
			return sp_err_set(e, "'%s': '%s': cannot inspect the "
					     "shared object: %s",
					  c->path, so->entry,
					  so->error ? so->error : "not ELF");
		/* An executable is repaired as a module is (wheel_read
		 * inspected it with elf_inspect_object_fd). */
		en->so = 1;
		en->exe = so->elf.id.type == ET_EXEC || so->elf.id.pie;
		en->info = &so->elf;
		(*nmod)++;
	}
	return 0;
}

static void ctx_release(struct ctx *c)
{
	size_t i;

	for (i = 0; i < c->nents; i++) {
		if (c->ents[i].fd >= 0)
			close(c->ents[i].fd);
		repair_result_release(&c->ents[i].rep);
		free(c->ents[i].moved);
		free(c->ents[i].debug_path);
		free(c->ents[i].debug_rel);
		debugsplit_release(&c->ents[i].dbg);
	}
	free(c->ents);
	free(c->byname);
	if (c->spool >= 0)
		close(c->spool);
	if (c->tmpfd >= 0)
		close(c->tmpfd);
	if (c->tmpdir) {
		nftw(c->tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		free(c->tmpdir);
	}
	wheel_report_release(&c->r);
	free(c->out_path);
}

int repair_wheel(const char *path, const struct repair_wheel_opts *o,
		 json_t **result, struct sp_err *e)
{
	struct ctx c;
	size_t i, nmod = 0;
	int rc = -1;

	*result = NULL;
	memset(&c, 0, sizeof(c));
	c.tmpfd = -1;
	c.spool = -1;
	c.path = path;
	c.o = o;
	if (prepare(&c, &nmod, e) < 0)
		goto out;
	if (!nmod) {
		*result = json_pack("{s:s,s:b,s:s,s:n,s:b,s:n,s:[]}", "command",
				    "repair", "ok", 1, "input", path, "wheel",
				    "nothing_to_repair", 1, "platform_tag",
				    "modules");
		rc = *result ? 0 : sp_err_set(e, "out of memory");
		goto out;
	}
	if (make_tmpdir(&c, e) < 0 || read_entries(&c, e) < 0)
		goto out;
	if (plan_scripts(&c, e) < 0)
		goto out;
	for (i = 0; o->split_debug && i < c.nents; i++)
		if (c.ents[i].so && !c.ents[i].exe &&
		    split_one(&c, &c.ents[i], e) < 0)
			goto out;
	for (i = 0; i < c.nents; i++)
		if (c.ents[i].so && repair_one(&c, &c.ents[i], e) < 0)
			goto out;
	if (plan_output(&c, e) < 0)
		goto out;
	for (i = 0; o->split_debug && i < c.nents; i++)
		if (c.ents[i].so && write_debug(&c, &c.ents[i], e) < 0)
			goto out;
	if (write_output(&c, e) < 0)
		goto out;
	*result = json_pack("{s:s,s:b,s:s,s:s,s:b,s:s,s:o}", "command",
			    "repair", "ok", 1, "input", path, "wheel",
			    c.out_path, "nothing_to_repair", 0, "platform_tag",
			    c.plat, "modules", modules_json(&c));
	rc = *result ? 0 : sp_err_set(e, "out of memory");
out:
	ctx_release(&c);
	return rc;
}
