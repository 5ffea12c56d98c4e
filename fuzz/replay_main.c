/*
 * replay_main.c - runs a fuzz harness over saved inputs without libFuzzer,
 * so that the normal (gcc) and sanitizer builds replay every corpus file
 * and every crash found so far as a regression test.
 *
 * usage: replay_<name> FILE|DIR...   (a directory: every regular file in
 * it).  Exits 0 when every input ran; a bug shows as a crash or a
 * sanitizer report.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fsx.h"
#include "common/path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	struct sp_err e;
	size_t len = 0;
	char *buf = fsx_read_all(path, &len, &e);

	if (!buf) {
		fprintf(stderr, "replay: %s\n", e.msg);
		return -1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int i, n = 0, rc = 0;

	for (i = 1; i < argc; i++) {
		struct stat st;
		struct dirent *d;
		DIR *dir;

		if (stat(argv[i], &st) < 0 || !S_ISDIR(st.st_mode)) {
			rc |= run_file(argv[i]);
			n++;
			continue;
		}
		dir = opendir(argv[i]);
		if (!dir) {
			perror(argv[i]);
			return 1;
		}
		while ((d = readdir(dir))) {
			char *p;

			if (d->d_name[0] == '.')
				continue;
			p = path_join(argv[i], d->d_name);
			if (!p)
				return 1;
			if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
				rc |= run_file(p);
				n++;
			}
			free(p);
		}
		closedir(dir);
	}
	printf("replayed %d input(s)\n", n);
	return rc ? 1 : 0;
}
