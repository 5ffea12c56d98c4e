/*
 * fuzz_frame.c - libFuzzer harness for common/frame: frame_reader_next()
 * on arbitrary bytes, as the coordinator reads them from a client or a
 * worker, buffered whole or split at a point the input chooses.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Takes frames out of r until it needs more bytes or finds a bad one. */
static int drain(struct frame_reader *r)
{
	struct sp_err e;
	uint32_t type;
	json_t *obj;
	int rc;

	while ((rc = frame_reader_next(r, &type, &obj, &e)) > 0) {
		if (type == 0 || type >= MSG_MAX_ || !json_is_object(obj))
			abort();
		json_decref(obj);
	}
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_reader r;
	size_t split;

	if (size < 1)
		return 0;
	/* The first byte says where the bytes arrive in two reads. */
	split = size > 1 ? data[0] % size : 0;
	data++;
	size--;
	if (split > size)
		split = size;
	frame_reader_init(&r);
	r.cap = size + 1;
	r.buf = malloc(r.cap);
	if (!r.buf)
		return 0;
	memcpy(r.buf, data, split);
	r.len = split;
	if (drain(&r) == 0) {
		memcpy(r.buf + r.len, data + split, size - split);
		r.len += size - split;
		drain(&r);
	}
	frame_reader_release(&r);
	return 0;
}
