/*
 * fuzz_elfpatch.c - libFuzzer harness for worker/elf/patch: every edit
 * repair makes (set RUNPATH, rename a DT_NEEDED, set the SONAME), at once,
 * on arbitrary bytes in memory, as repair patches a grafted library.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "worker/elf/patch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const old[] = {"libc.so.6"};
	static const char *const new[] = {"libc-0123abcd.so.6"};
	struct elf_edit ed = {
		.set_rpath = "$ORIGIN/../fuzz.libs",
		.set_soname = "libfuzz-89abcdef.so.1",
		.replace_old = old,
		.replace_new = new,
		.nreplace = 1,
	};
	struct sp_err e;
	void *out = NULL;
	size_t outlen = 0;

	if (elf_patch_mem(data, size, "fuzz.so", &ed, &out, &outlen, &e) == 0)
		free(out);
	return 0;
}
