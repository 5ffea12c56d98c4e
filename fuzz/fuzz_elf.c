/*
 * fuzz_elf.c - libFuzzer harness for worker/elf/inspect: elf_inspect_fd() and
 * elf_exports_fd() on arbitrary bytes, given to them as a file (memfd),
 * the way a worker reads a staged cargo output.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "worker/elf/inspect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_info info;
	struct sp_err e;
	size_t done = 0;
	int fd;

	fd = memfd_create("fuzz-elf", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	while (done < size) {
		ssize_t w = write(fd, data + done, size - done);

		if (w <= 0) {
			close(fd);
			return 0;
		}
		done += (size_t)w;
	}
	if (elf_inspect_fd(fd, "fuzz.so", &info, &e) == 0)
		elf_info_release(&info);
	elf_exports_fd(fd, "fuzz.so", "PyInit_hello", &e);
	close(fd);
	return 0;
}
