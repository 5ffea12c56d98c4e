#define _GNU_SOURCE
#include "worker/zip/zip_read.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A central directory larger than this is not a wheel's. */
#define CD_MAX (1ull << 30)

void zip_problem(const struct zip_archive *za, const char *entry,
		 const char *fmt, ...)
{
	char *reason = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&reason, fmt, ap);
	va_end(ap);
	za->problem(za->arg, entry, n < 0 ? NULL : reason);
	if (n >= 0)
		free(reason);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* Reads exactly n bytes at off.  Returns 0, 1 when the file ends first, or
 * -1 with e filled on an I/O error. */
static int pread_full(int fd, void *buf, size_t n, uint64_t off,
		      const char *name, struct sp_err *e)
{
	uint8_t *p = buf;
	ssize_t got;

	while (n) {
		got = pread(fd, p, n, (off_t)off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return sp_err_sys(e, "cannot read '%s'", name);
		if (got == 0)
			return 1;
		p += got;
		n -= (size_t)got;
		off += (uint64_t)got;
	}
	return 0;
}

/*
 * The end records.  The EOCD is the last 22 bytes whose signature is
 * followed by a comment reaching exactly to the end of the file; a zip64
 * locator right before it points at the zip64 record, whose fields then
 * replace the classic ones.
 */
struct zend {
	uint64_t nents, cd_size, cd_off;
	uint64_t end_start; /* where the central directory must end */
};

static int find_end(struct zip_archive *za, struct zend *z,
		    struct sp_err *e)
{
		uint8_t *tail = NULL, loc[ZIP_LOC64_LEN], rec[ZIP_EOCD64_LEN];
	size_t tlen, i;
	uint64_t tstart, eocd = 0, off64;
	int found = 0, rc = -1, got;

	if (za->size < ZIP_EOCD_LEN) {
		zip_problem(za, NULL, "too short to be a zip archive (%llu bytes)",
			(unsigned long long)za->size);
		za->broken = 1;
		return 0;
	}
	tlen = za->size < ZIP_EOCD_LEN + 65535 ? (size_t)za->size
					   : ZIP_EOCD_LEN + 65535;
	tstart = za->size - tlen;
	tail = malloc(tlen);
	if (!tail)
		return sp_err_set(e, "out of memory");
	got = pread_full(za->fd, tail, tlen, tstart, za->path, e);
	if (got < 0)
		goto out;
	if (got > 0) {
		sp_err_set(e, "'%s' shrank while being read", za->path);
		goto out;
	}
	for (i = tlen - ZIP_EOCD_LEN + 1; i-- > 0;) {
		if (get32(tail + i) == ZIP_SIG_EOCD &&
		    get16(tail + i + 20) == tlen - i - ZIP_EOCD_LEN) {
			found = 1;
			break;
		}
	}
	if (!found) {
		zip_problem(za, NULL,
			"no end of central directory record: the file is "
			"truncated or not a zip archive");
		za->broken = 1;
		rc = 0;
		goto out;
	}
	eocd = tstart + i;
	if (get16(tail + i + 4) != 0 || get16(tail + i + 6) != 0) {
		zip_problem(za, NULL, "multi-disk archives are not supported");
		za->broken = 1;
	}
	z->nents = get16(tail + i + 10);
	if (get16(tail + i + 8) != z->nents)
		zip_problem(za, NULL, "the end record's entry counts disagree");
	z->cd_size = get32(tail + i + 12);
	z->cd_off = get32(tail + i + 16);
	z->end_start = eocd;

	/* The zip64 locator, when there is one, sits right before. */
	if (eocd >= ZIP_LOC64_LEN) {
		got = pread_full(za->fd, loc, sizeof(loc), eocd - ZIP_LOC64_LEN,
				 za->path, e);
		if (got < 0)
			goto out;
		if (got == 0 && get32(loc) == ZIP_SIG_LOC64) {
			za->zip64 = 1;
			off64 = get64(loc + 8);
			if (get32(loc + 4) != 0 || get32(loc + 16) > 1) {
				zip_problem(za, NULL, "multi-disk archives are not "
						 "supported");
				za->broken = 1;
			}
			if (off64 > eocd - ZIP_LOC64_LEN ||
			    eocd - ZIP_LOC64_LEN - off64 < ZIP_EOCD64_LEN) {
				zip_problem(za, NULL,
					"the zip64 end record lies outside "
					"the file");
				za->broken = 1;
				rc = 0;
				goto out;
			}
			got = pread_full(za->fd, rec, sizeof(rec), off64,
					 za->path, e);
			if (got < 0)
				goto out;
			if (got || get32(rec) != ZIP_SIG_EOCD64) {
				zip_problem(za, NULL,
					"no zip64 end record where the "
					"locator points");
				za->broken = 1;
				rc = 0;
				goto out;
			}
			if (get32(rec + 16) != 0 || get32(rec + 20) != 0) {
				zip_problem(za, NULL, "multi-disk archives are not "
						 "supported");
				za->broken = 1;
			}
			/* Anything between the zip64 record and its locator
			 * would be an extensible data sector, which no wheel
			 * writer produces. */
			if (12 + get64(rec + 4) != eocd - ZIP_LOC64_LEN - off64)
				zip_problem(za, NULL,
					"the zip64 end record has a wrong "
					"size");
			if (get64(rec + 24) != get64(rec + 32))
				zip_problem(za, NULL,
					"the zip64 end record's entry counts "
					"disagree");
			z->nents = get64(rec + 32);
			z->cd_size = get64(rec + 40);
			z->cd_off = get64(rec + 48);
			z->end_start = off64;
		}
	}
	rc = 0;
out:
	free(tail);
	return rc;
}

/* Looks for the zip64 extended information field (0x0001) in an extra
 * block and takes from it, in the order the specification fixes, each of
 * usize, csize and offset whose 32-bit field was 0xffffffff.  Returns 0, or
 * -1 when the field is missing or short. */
static int zip64_extra(const uint8_t *x, size_t xlen, uint64_t *usize,
		       uint64_t *csize, uint64_t *offset)
{
	size_t p = 0, need, flen;
	uint64_t *want[3] = {usize, csize, offset};
	int k;

	need = 0;
	for (k = 0; k < 3; k++)
		if (want[k] && *want[k] == ZIP_U32_MAX)
			need += 8;
	if (!need)
		return 0;
	while (p + 4 <= xlen) {
		flen = get16(x + p + 2);
		if (p + 4 + flen > xlen)
			return -1;
		if (get16(x + p) == ZIP_EXTRA_ZIP64) {
			const uint8_t *f = x + p + 4;
			size_t used = 0;

			for (k = 0; k < 3; k++) {
				if (!want[k] || *want[k] != ZIP_U32_MAX)
					continue;
				if (used + 8 > flen)
					return -1;
				*want[k] = get64(f + used);
				used += 8;
			}
			return 0;
		}
		p += 4 + flen;
	}
	return -1;
}

static int add_entry(struct zip_archive *za, size_t *cap,
		     struct zip_entry **out)
{
	struct zip_entry *p;
	size_t ncap;

	if (za->nents == *cap) {
		ncap = *cap ? *cap * 2 : 64;
		p = realloc(za->ents, ncap * sizeof(*p));
		if (!p)
			return -1;
		za->ents = p;
		*cap = ncap;
	}
	*out = &za->ents[za->nents++];
	memset(*out, 0, sizeof(**out));
	return 0;
}

/* Walks the central directory into za->ents. */
static int walk_central(struct zip_archive *za, const struct zend *z,
			struct sp_err *e)
{
		struct zip_entry *ent;
	struct sp_err why;
	uint8_t *cd = NULL;
	size_t p = 0, cap = 0, nlen, xlen, clen;
	uint64_t n = 0;
	int got, rc = -1;

	if (z->cd_off > z->end_start || z->end_start - z->cd_off < z->cd_size) {
		zip_problem(za, NULL,
			"the central directory lies outside the file: "
			"truncated?");
		za->broken = 1;
		return 0;
	}
	if (z->cd_off + z->cd_size != z->end_start)
		zip_problem(za, NULL,
			"%llu bytes of unknown data between the central "
			"directory and the end record",
			(unsigned long long)(z->end_start - z->cd_off -
					     z->cd_size));
	if (z->cd_size > CD_MAX) {
		zip_problem(za, NULL, "the central directory is too large");
		za->broken = 1;
		return 0;
	}
	za->cd_off = z->cd_off;
	cd = malloc(z->cd_size ? (size_t)z->cd_size : 1);
	if (!cd)
		return sp_err_set(e, "out of memory");
	got = pread_full(za->fd, cd, (size_t)z->cd_size, z->cd_off, za->path, e);
	if (got < 0)
		goto out;
	if (got) {
		sp_err_set(e, "'%s' shrank while being read", za->path);
		goto out;
	}
	while (p < z->cd_size) {
		if (z->cd_size - p < ZIP_CENTRAL_LEN ||
		    get32(cd + p) != ZIP_SIG_CENTRAL) {
			zip_problem(za, NULL,
				"central directory entry %llu is corrupt",
				(unsigned long long)n + 1);
			za->broken = 1;
			break;
		}
		nlen = get16(cd + p + 28);
		xlen = get16(cd + p + 30);
		clen = get16(cd + p + 32);
		if (z->cd_size - p - ZIP_CENTRAL_LEN < nlen + xlen + clen) {
			zip_problem(za, NULL,
				"central directory entry %llu runs past its "
				"end",
				(unsigned long long)n + 1);
			za->broken = 1;
			break;
		}
		if (add_entry(za, &cap, &ent) < 0) {
			sp_err_set(e, "out of memory");
			goto out;
		}
		ent->name = malloc(nlen + 1);
		if (!ent->name) {
			sp_err_set(e, "out of memory");
			goto out;
		}
		memcpy(ent->name, cd + p + ZIP_CENTRAL_LEN, nlen);
		ent->name[nlen] = '\0';
		ent->flags = get16(cd + p + 8);
		ent->method = get16(cd + p + 10);
		ent->crc = get32(cd + p + 16);
		ent->csize = get32(cd + p + 20);
		ent->usize = get32(cd + p + 24);
		ent->offset = get32(cd + p + 42);
		if (cd[p + 5] == 3) /* made by Unix: mode in the high half */
			ent->mode = get32(cd + p + 38) >> 16;
		ent->is_dir = nlen && ent->name[nlen - 1] == '/';
		if (get16(cd + p + 34) != 0 &&
		    get16(cd + p + 34) != ZIP_U16_MAX)
			zip_problem(za, ent->name, "is on another disk");
		if (zip64_extra(cd + p + ZIP_CENTRAL_LEN + nlen, xlen, &ent->usize,
				&ent->csize, &ent->offset) < 0) {
			zip_problem(za, ent->name,
				"its zip64 sizes or offset are missing");
			za->broken = 1;
		}
		if (zip_name_check(ent->name, nlen, ZIP_NAME_DIR, &why) < 0)
			zip_problem(za, ent->name, "%s", why.msg);
		if (ent->flags & ZIP_FLAG_ENCRYPTED)
			zip_problem(za, ent->name, "is encrypted");
		if (S_ISLNK(ent->mode))
			zip_problem(za, ent->name,
				"is a symbolic link, which installers do not "
				"create");
		if (ent->method != 0 && ent->method != 8)
			zip_problem(za, ent->name,
				"uses compression method %u; wheels use "
				"stored (0) or deflate (8)",
				ent->method);
		if (ent->method == 0 && ent->csize != ent->usize)
			zip_problem(za, ent->name,
				"is stored, yet its sizes differ (%llu, %llu)",
				(unsigned long long)ent->csize,
				(unsigned long long)ent->usize);
		p += ZIP_CENTRAL_LEN + nlen + xlen + clen;
		n++;
	}
	if (!za->broken && n != z->nents) {
		zip_problem(za, NULL,
			"the end record declares %llu entries, the central "
			"directory holds %llu",
			(unsigned long long)z->nents, (unsigned long long)n);
		za->broken = 1;
	}
	rc = 0;
out:
	free(cd);
	return rc;
}

/* Builds the name set and reports duplicates. */
static int index_names(struct zip_archive *za, struct sp_err *e)
{
		size_t i;
	int got;

	if (zip_names_reserve(&za->names, za->nents, e) < 0)
		return -1;
	for (i = 0; i < za->nents; i++) {
		got = zip_names_add(&za->names, za->ents[i].name, i, NULL, e);
		if (got < 0)
			return -1;
		if (got > 0) {
			/* Which copy an installer extracts depends on the
			 * installer: a duplicate is ambiguous. */
			zip_problem(za, za->ents[i].name,
				"appears more than once in the archive");
			za->broken = 1;
		}
	}
	return 0;
}

/* Compares an entry's local header with its central record, and finds
 * where its data (and data descriptor) ends. */
static int check_local(struct zip_archive *za, struct zip_entry *ent,
		       struct sp_err *e)
{
		uint8_t h[ZIP_LOCAL_LEN], desc[24], *var = NULL;
	size_t nlen = strlen(ent->name), lnlen, lxlen;
	uint64_t lcsize, lusize, data, dlen;
	uint32_t lcrc;
	int got, z64, rc = -1;

	if (ent->offset > za->cd_off || za->cd_off - ent->offset < ZIP_LOCAL_LEN) {
		zip_problem(za, ent->name,
			"its local header lies outside the archive");
		za->broken = 1;
		return 0;
	}
	got = pread_full(za->fd, h, sizeof(h), ent->offset, za->path, e);
	if (got < 0)
		return -1;
	if (got || get32(h) != ZIP_SIG_LOCAL) {
		zip_problem(za, ent->name, "has no local header at offset %llu",
			(unsigned long long)ent->offset);
		za->broken = 1;
		return 0;
	}
	lnlen = get16(h + 26);
	lxlen = get16(h + 28);
	data = ent->offset + ZIP_LOCAL_LEN + lnlen + lxlen;
	if (data > za->cd_off) {
		zip_problem(za, ent->name,
			"its local header runs into the central directory");
		za->broken = 1;
		return 0;
	}
	var = malloc(lnlen + lxlen + 1);
	if (!var)
		return sp_err_set(e, "out of memory");
	got = pread_full(za->fd, var, lnlen + lxlen, ent->offset + ZIP_LOCAL_LEN,
			 za->path, e);
	if (got < 0)
		goto out;
	if (lnlen != nlen || memcmp(var, ent->name, nlen) != 0) {
		zip_problem(za, ent->name,
			"its local header has another name than its central "
			"record");
		za->broken = 1;
	}
	if (get16(h + 6) != ent->flags)
		zip_problem(za, ent->name,
			"its local header has other flags than its central "
			"record");
	if (get16(h + 8) != ent->method) {
		zip_problem(za, ent->name,
			"its local header has another compression method "
			"than its central record");
		za->broken = 1;
	}
	lcrc = get32(h + 14);
	lcsize = get32(h + 18);
	lusize = get32(h + 22);
	z64 = lcsize == ZIP_U32_MAX || lusize == ZIP_U32_MAX;
	if (z64) {
		/* The local zip64 field carries both sizes, always. */
		lusize = ZIP_U32_MAX;
		lcsize = ZIP_U32_MAX;
		if (zip64_extra(var + lnlen, lxlen, &lusize, &lcsize, NULL) <
		    0) {
			zip_problem(za, ent->name,
				"its local header lacks its zip64 sizes");
			za->broken = 1;
		}
	}
	if (!(ent->flags & ZIP_FLAG_DESCRIPTOR) &&
	    (lcrc != ent->crc || lcsize != ent->csize ||
	     lusize != ent->usize)) {
		zip_problem(za, ent->name,
			"its local header has another CRC or other sizes than "
			"its central record");
		za->broken = 1;
	}
	if (za->cd_off - data < ent->csize) {
		zip_problem(za, ent->name,
			"its data runs past the start of the central "
			"directory: truncated?");
		za->broken = 1;
		goto done;
	}
	ent->end = data + ent->csize;
	if (ent->flags & ZIP_FLAG_DESCRIPTOR) {
		/* crc, csize, usize, optionally after a signature; 64-bit
		 * sizes when the entry is zip64. */
		dlen = ent->usize >= ZIP_U32_MAX ||
			       ent->csize >= ZIP_U32_MAX || z64
			   ? 20
			   : 12;
		memset(desc, 0, sizeof(desc));
		got = pread_full(za->fd, desc,
				 za->cd_off - ent->end < sizeof(desc)
				     ? (size_t)(za->cd_off - ent->end)
				     : sizeof(desc),
				 ent->end, za->path, e);
		if (got < 0)
			goto out;
		if (get32(desc) == ZIP_SIG_DESCRIPTOR)
			dlen += 4;
		if (za->cd_off - ent->end < dlen) {
			zip_problem(za, ent->name,
				"its data descriptor runs past the start of "
				"the central directory");
			za->broken = 1;
			goto done;
		}
		if (get32(desc + dlen - (dlen >= 20 ? 20 : 12)) != ent->crc) {
			zip_problem(za, ent->name,
				"its data descriptor has another CRC than its "
				"central record");
			za->broken = 1;
		}
		ent->end += dlen;
	}
done:
	rc = 0;
out:
	free(var);
	return rc;
}

static int by_offset(const void *a, const void *b, void *arg)
{
	const struct zip_entry *ents = arg;
	const struct zip_entry *x = &ents[*(const size_t *)a];
	const struct zip_entry *y = &ents[*(const size_t *)b];

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Every byte before the central directory must belong to exactly one
 * entry: an overlap is the classic zip bomb and a gap is hidden data. */
static void check_layout(struct zip_archive *za, const size_t *order)
{
		const struct zip_entry *a, *b;
	size_t i;

	if (!za->nents) {
		if (za->cd_off)
			zip_problem(za, NULL, "%llu bytes of unknown data before "
					 "the central directory",
				(unsigned long long)za->cd_off);
		return;
	}
	a = &za->ents[order[0]];
	if (a->offset)
		zip_problem(za, a->name,
			"%llu bytes of unknown data before its local header",
			(unsigned long long)a->offset);
	for (i = 1; i < za->nents; i++) {
		a = &za->ents[order[i - 1]];
		b = &za->ents[order[i]];
		if (a->end > b->offset) {
			zip_problem(za, b->name, "overlaps entry '%s'", a->name);
			za->broken = 1;
		} else if (a->end < b->offset) {
			zip_problem(za, b->name,
				"%llu bytes of unknown data before its local "
				"header",
				(unsigned long long)(b->offset - a->end));
		}
	}
	a = &za->ents[order[za->nents - 1]];
	if (a->end < za->cd_off)
		zip_problem(za, NULL,
			"%llu bytes of unknown data before the central "
			"directory",
			(unsigned long long)(za->cd_off - a->end));
}


long zip_find(const struct zip_archive *za, const char *name)
{
	return zip_names_find(&za->names, name);
}

int zip_read(struct zip_archive *za, int fd, const char *path, uint64_t size,
	     zip_problem_fn *problem, void *arg, struct sp_err *e)
{
	struct zend z = {0};
	size_t i;

	memset(za, 0, sizeof(*za));
	za->fd = fd;
	za->path = path;
	za->size = size;
	za->problem = problem;
	za->arg = arg;
	if (find_end(za, &z, e) < 0)
		return -1;
	if (za->broken)
		return 0;
	za->have_cd = 1;
	if (walk_central(za, &z, e) < 0 || index_names(za, e) < 0)
		return -1;
	for (i = 0; i < za->nents && !za->broken; i++)
		if (check_local(za, &za->ents[i], e) < 0)
			return -1;
	if (za->broken)
		return 0;
	za->order = malloc((za->nents + 1) * sizeof(*za->order));
	if (!za->order)
		return sp_err_set(e, "out of memory");
	for (i = 0; i < za->nents; i++)
		za->order[i] = i;
	qsort_r(za->order, za->nents, sizeof(*za->order), by_offset, za->ents);
	check_layout(za, za->order);
	return 0;
}

void zip_archive_release(struct zip_archive *za)
{
	size_t i;

	for (i = 0; i < za->nents; i++)
		free(za->ents[i].name);
	free(za->ents);
	free(za->order);
	zip_names_release(&za->names);
	memset(za, 0, sizeof(*za));
	za->fd = -1;
}
