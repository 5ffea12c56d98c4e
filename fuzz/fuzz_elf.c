/*
 * fuzz_elf.c - libFuzzer harness for the ELF room's readers:
 * elf_inspect_fd(), elf_exports_fd(), elf_imports_fd() and
 * symvers_read_fd() on arbitrary bytes, given to them as a file (memfd),
 * the way a worker reads a staged cargo output and `spoke show` a wheel's
 * object.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "worker/elf/imports.h"
#include "worker/elf/inspect.h"
#include "worker/elf/symvers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_info info;
	struct elf_imports im;
	struct symvers sv;
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
	if (elf_imports_fd(fd, "fuzz.so", &im, &e) == 0)
		elf_imports_release(&im);
	if (symvers_read_fd(fd, "fuzz.so", &sv, &e) == 0)
		symvers_release(&sv);
	close(fd);
	return 0;
}
