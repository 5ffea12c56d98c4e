/*
 * fuzz_wheel.c - libFuzzer harness for worker/wheel/wheel_read, the reader
 * behind `spoke show`, and so for the zip room's structure reader and data
 * pass under it (worker/zip/zip_read.h, zip_stream.h): arbitrary bytes as
 * a file with a wheel's name, read with a small decompression cap so a
 * bomb costs little.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "worker/wheel/wheel_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[128];
	struct wheel_report r = {0};
	struct sp_err e;
	size_t done = 0;
	int fd;

	if (!path[0]) {
		snprintf(path, sizeof(path), "/tmp/spoke-fuzz-%ld",
			 (long)getpid());
		mkdir(path, 0700);
		snprintf(path, sizeof(path),
			 "/tmp/spoke-fuzz-%ld/fuzz-1.0-py3-none-any.whl",
			 (long)getpid());
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return 0;
	while (done < size) {
		ssize_t w = write(fd, data + done, size - done);

		if (w <= 0)
			break;
		done += (size_t)w;
	}
	close(fd);
	wheel_read(path, 1u << 24, &r, &e);
	wheel_report_release(&r);
	return 0;
}
