/*
 * mkwheel - writes large test wheels with zipw, for the integration tests
 * of zip64: many small entries, or one huge stored entry of zeros.
 *
 *   mkwheel OUT.whl [--entries N] [--big BYTES] [--level L]
 *
 * OUT's name should be "demo-1.0-py3-none-any.whl" (the .dist-info is
 * demo-1.0.dist-info).  The huge entry's zeros come from an anonymous
 * mapping that is only read, so they cost no memory: every page is the
 * kernel's zero page.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "worker/zip/zip_write.h"

static int add(struct zipw *z, FILE *rec, const char *name, const void *data,
	       size_t len, struct sp_err *e)
{
	char sha[ZIPW_B64_SHA256];

	if (zipw_add(z, name, data, len, 0644, sha, e) < 0)
		return -1;
	fprintf(rec, "%s,sha256=%s,%zu\n", name, sha, len);
	return 0;
}

int main(int argc, char **argv)
{
	static const char meta[] = "Metadata-Version: 2.1\nName: demo\n"
				   "Version: 1.0\n";
	static const char wheel[] = "Wheel-Version: 1.0\nGenerator: mkwheel\n"
				    "Root-Is-Purelib: true\nTag: py3-none-any\n";
	unsigned long long nents = 0, big = 0, i;
	int level = 1, fd, a;
	char name[64], data[64], *rtext = NULL;
	size_t rlen = 0;
	void *zeros = NULL;
	struct zipw z;
	struct sp_err e;
	FILE *rec;

	sp_err_clear(&e);
	if (argc < 2) {
		fprintf(stderr, "usage: mkwheel OUT [--entries N] [--big "
				"BYTES] [--level L]\n");
		return 2;
	}
	for (a = 2; a + 1 < argc; a += 2) {
		if (!strcmp(argv[a], "--entries"))
			nents = strtoull(argv[a + 1], NULL, 10);
		else if (!strcmp(argv[a], "--big"))
			big = strtoull(argv[a + 1], NULL, 10);
		else if (!strcmp(argv[a], "--level"))
			level = atoi(argv[a + 1]);
		else
			return 2;
	}
	fd = open(argv[1], O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	rec = open_memstream(&rtext, &rlen);
	if (!rec || zipw_open(&z, fd, argv[1], 1700000000, level, &e) < 0)
		goto fail;
	for (i = 0; i < nents; i++) {
		snprintf(name, sizeof(name), "demo/m%llu/f%llu.py", i / 1000,
			 i);
		snprintf(data, sizeof(data), "N = %llu\n", i);
		if (add(&z, rec, name, data, strlen(data), &e) < 0)
			goto fail;
	}
	if (big) {
		zeros = mmap(NULL, big, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
						       MAP_NORESERVE,
			     -1, 0);
		if (zeros == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		/* Read faults then map the huge zero page, 2 MiB at a time,
		 * instead of a fault per 4 KiB page. */
		madvise(zeros, big, MADV_HUGEPAGE);
		if (add(&z, rec, "demo/big.bin", zeros, big, &e) < 0)
			goto fail;
	}
	if (add(&z, rec, "demo-1.0.dist-info/METADATA", meta, strlen(meta),
		&e) < 0 ||
	    add(&z, rec, "demo-1.0.dist-info/WHEEL", wheel, strlen(wheel),
		&e) < 0)
		goto fail;
	fprintf(rec, "demo-1.0.dist-info/RECORD,,\n");
	if (fclose(rec) != 0)
		return 1;
	if (zipw_add(&z, "demo-1.0.dist-info/RECORD", rtext, rlen, 0644, NULL,
		     &e) < 0 ||
	    zipw_finish(&z, NULL, NULL, &e) < 0)
		goto fail;
	zipw_release(&z);
	free(rtext);
	if (zeros)
		munmap(zeros, big);
	return close(fd) < 0 ? 1 : 0;
fail:
	fprintf(stderr, "mkwheel: %s\n", e.msg);
	return 1;
}
