/*
 * mkelf - writes a minimal valid ELF shared object for any machine, class
 * and byte order (tests/tools/mkelf.h), for the integration tests of
 * architectures without a Debian cross toolchain (loongarch64).
 *
 *   mkelf OUT --machine N [--class 32|64] [--data lsb|msb]
 *         [--soname S] [--runpath R] [--interp PATH] [--needed LIB]...
 *         [--align BYTES] [--spare N]
 *
 * N is an e_machine number (258 for loongarch).  Defaults: 64-bit,
 * little-endian, p_align 0x1000, no spare dynamic slots.  OUT must not
 * exist.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/tools/mkelf.h"

static int usage(void)
{
	fprintf(stderr,
		"usage: mkelf OUT --machine N [--class 32|64] [--data lsb|msb] "
		"[--soname S] [--runpath R] [--interp PATH] [--needed LIB]... "
		"[--align BYTES] [--spare N]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct mkelf_spec sp = {0};
	const char *needed[64];
	unsigned char *img;
	size_t len, done = 0;
	ssize_t n;
	int i, fd, have_machine = 0;

	if (argc < 2)
		return usage();
	sp.elfclass = ELFCLASS64;
	sp.data = ELFDATA2LSB;
	sp.needed = needed;
	for (i = 2; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			return usage();
		i++;
		if (strcmp(o, "--machine") == 0) {
			sp.machine = (unsigned)strtoul(v, NULL, 0);
			have_machine = 1;
		} else if (strcmp(o, "--class") == 0) {
			sp.elfclass =
			    strcmp(v, "32") == 0 ? ELFCLASS32 : ELFCLASS64;
		} else if (strcmp(o, "--data") == 0) {
			sp.data =
			    strcmp(v, "msb") == 0 ? ELFDATA2MSB : ELFDATA2LSB;
		} else if (strcmp(o, "--soname") == 0) {
			sp.soname = v;
		} else if (strcmp(o, "--runpath") == 0) {
			sp.runpath = v;
		} else if (strcmp(o, "--interp") == 0) {
			sp.interp = v;
		} else if (strcmp(o, "--needed") == 0) {
			if (sp.nneeded == sizeof(needed) / sizeof(*needed))
				return usage();
			needed[sp.nneeded++] = v;
		} else if (strcmp(o, "--align") == 0) {
			sp.align = strtoull(v, NULL, 0);
		} else if (strcmp(o, "--spare") == 0) {
			sp.spare = (unsigned)strtoul(v, NULL, 0);
		} else {
			return usage();
		}
	}
	if (!have_machine)
		return usage();
	img = mkelf_build(&sp, &len);
	if (!img) {
		fprintf(stderr, "mkelf: out of memory\n");
		return 1;
	}
	fd = open(argv[1], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	if (fd < 0) {
		fprintf(stderr, "mkelf: cannot create '%s': %s\n", argv[1],
			strerror(errno));
		free(img);
		return 1;
	}
	while (done < len) {
		n = write(fd, img + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "mkelf: cannot write '%s': %s\n",
				argv[1], strerror(errno));
			close(fd);
			free(img);
			return 1;
		}
		done += (size_t)n;
	}
	free(img);
	if (close(fd) < 0) {
		fprintf(stderr, "mkelf: cannot write '%s': %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	return 0;
}
