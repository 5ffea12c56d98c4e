/*
 * fuzz_cargo_msg.c - libFuzzer harness for cli/project/cargo_msg: cargo_parse_message()
 * on every line of arbitrary input, into one state object, as spoke reads
 * `cargo build --message-format=json` output line by line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/project/cargo_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *state = json_object();
	struct sp_err e;
	char *text, *line, *nl;

	text = malloc(size + 1);
	if (!text || !state) {
		free(text);
		json_decref(state);
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	for (line = text; line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		cargo_parse_message(line, state, &e);
	}
	free(text);
	json_decref(state);
	return 0;
}
