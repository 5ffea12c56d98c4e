/*
 * fuzz_spdx.c - libFuzzer harness for cli/project/license:
 * license_expression_normalize() on every line of arbitrary input.  What
 * it accepts must come back unchanged when normalized again (the
 * normalized form is an SPDX expression in its own right), and what it
 * refuses must come with a message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/project/license.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *line, *nl, *once, *twice;
	struct sp_err e;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (line = text; line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		e.msg[0] = '\0';
		once = license_expression_normalize(line, &e);
		if (!once) {
			if (!e.msg[0])
				abort();
			continue;
		}
		twice = license_expression_normalize(once, &e);
		if (!twice || strcmp(once, twice) != 0)
			abort();
		free(once);
		free(twice);
	}
	free(text);
	return 0;
}
