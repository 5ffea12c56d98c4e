/*
 * frame.h - framed, length-checked messages between spoke processes.
 *
 * A frame is an 8-byte header (type, payload length; both 32-bit little
 * endian) followed by a JSON payload of exactly that length.  The payload
 * must parse as one JSON object.  A frame longer than FRAME_MAX, one of more
 * than FRAME_MAX_VALUES values, a payload that is not an object, or an
 * unknown type ends that peer: the reader reports an error and the caller
 * drops the connection.
 */
#ifndef SPOKE_COMMON_FRAME_H
#define SPOKE_COMMON_FRAME_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define FRAME_MAX (16u << 20)
/* A bound on the JSON values of one payload, counted as the bytes that
 * open or separate values ('{', '[', ','; an empty object counts about
 * twice).  jansson spends some 200 bytes on a value, so 16 MiB of "{},"
 * alone would take over a gigabyte before anyone looked at it; real
 * messages spend far more than 16 bytes a value (a build request of
 * BUILD_MAX_ARTIFACTS artifacts counts a few hundred thousand). */
#define FRAME_MAX_VALUES (1u << 20)
#define FRAME_HDR 8u

/* The most artifacts one MSG_BUILD may carry; the coordinator refuses a
 * longer "artifacts" array before it stages anything, and the CLI refuses
 * an --artifacts file listing more.  The build's MSG_RESULT must fit in
 * FRAME_MAX too, and it holds about 1.5 KiB per artifact (the wheel with
 * its repair report, and the give-back outcome): 4096 of them take some
 * 6 MiB, which leaves room for long paths and bundled libraries.  That is
 * still several interpreters' worth of a monorepo of hundreds of crates. */
#define BUILD_MAX_ARTIFACTS 4096u

enum msg_type {
	MSG_BUILD = 1,	   /* cli -> server: stage, package, give back */
	MSG_RECOVER = 2,   /* cli -> server: replay the journal */
	MSG_STATUS = 3,	   /* cli -> server: running builds, pending artifacts */
	MSG_STOP = 4,	   /* cli -> server: finish running builds and exit */
	MSG_EVENT = 5,	   /* server -> cli: progress event */
	MSG_RESULT = 6,	   /* server -> cli: the command's result, last */
	MSG_JOB_RESULT = 7, /* worker -> server: result of one job */
	MSG_GRANT = 8,	   /* cli -> server: jobserver slots the client holds */
	MSG_JOB = 9,	   /* server -> worker: one job to run */
	MSG_MAX_ = 10
};

/* Sends one frame, blocking until all of it is written (MSG_NOSIGNAL). */
int frame_send(int fd, uint32_t type, const json_t *obj, struct sp_err *e);

/* Encodes one frame, header and payload, into *buf (malloc'd, *len bytes),
 * for a sender that queues it rather than blocking until it is written. */
int frame_encode(uint32_t type, const json_t *obj, uint8_t **buf, size_t *len,
		 struct sp_err *e);

/* Incremental reader for a non-blocking descriptor. */
struct frame_reader {
	uint8_t *buf;
	size_t len, cap;
};

void frame_reader_init(struct frame_reader *r);
void frame_reader_release(struct frame_reader *r);

/* Reads what is available from fd into r.  Returns the number of bytes read
 * (> 0), 0 on end of file (also when the peer reset the connection), or -1
 * on error (EAGAIN is not an error: returns -2). */
long frame_reader_fill(struct frame_reader *r, int fd, struct sp_err *e);

/* Takes the next complete frame out of r.  Returns 1 with *type and *obj
 * (new reference) set, 0 when no complete frame is buffered yet, -1 on a bad
 * frame (e says why; the peer must be dropped). */
int frame_reader_next(struct frame_reader *r, uint32_t *type, json_t **obj,
		      struct sp_err *e);

/* Blocking read of exactly one frame.  Returns 1 with a frame, 0 on a clean
 * end of file before any byte, -1 on error or a bad frame. */
int frame_recv(int fd, uint32_t *type, json_t **obj, struct sp_err *e);

#endif
