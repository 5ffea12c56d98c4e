/*
 * pdeflate.h - one raw deflate stream of a large buffer, compressed on
 * several threads, with bytes that depend on the input and the level only.
 *
 * The input is cut into chunks (the last one shorter) of a size that
 * depends on the input's length alone (pdeflate_chunk), never on the
 * number of CPUs or threads, so the stream is the same for any thread
 * count: 4 MiB for 16 MiB and more, and for a smaller input the power of
 * two at or above a quarter of it, at least 256 KiB, so that a module of a
 * few MiB, the usual size, is deflated on up to four threads too.  Each
 * chunk is deflated on its own by libdeflate (no dictionary carried over:
 * the first 32 KiB of a chunk cannot refer back to the chunk before, which
 * costs about 0.05% of size at 4 MiB on machine code, 0.2-0.3% at 256 and
 * 512 KiB), or, when deflate saves less than 2% of it, written as stored
 * blocks.  libdeflate always ends its output with a final block
 * (BFINAL set), so every chunk but the last is fixed up the way zlib's
 * Z_SYNC_FLUSH ends a piece of a stream: the chunk's blocks are walked to
 * find the header of its last block, whose BFINAL bit is cleared, and an
 * empty stored block (three zero bits, padding to the byte, 00 00 ff ff)
 * follows.  The next chunk then starts on a byte boundary, and the pieces
 * concatenate into one valid stream whose only final block is the last
 * chunk's.  The walk decodes each Huffman symbol's length without producing
 * output, about as costly as inflating it; a thread walks two chunks in step
 * when it can, which hides most of the latency of one.  The walk must end
 * exactly where libdeflate's output ends, and a chunk where it does not
 * (which would be a bug) is stored instead, so the stream is valid
 * whatever happens.
 *
 * At level 1 (--compression fast) the walk would cost a fifth of the
 * deflate itself, so a chunk is deflated in PDEFLATE_CALL-byte calls
 * instead, each ended the same way: libdeflate's fastest compressor makes
 * a call that size one block nearly always (99.8% on machine code), and
 * the end of a one-block stream can be read from its last bits
 * (pdeflate_tail_end) where that is unambiguous, which it was for every
 * call measured; any other call is walked.  The window restarts every
 * call, which makes the stream about 2.6% larger than 4 MiB calls would;
 * the 2% rule still holds per chunk.
 *
 * Threads: pdeflate_run() compresses on up to `threads` threads of its own
 * while the calling thread hands the finished pieces, in order, to a sink
 * (which writes them out).  At most three chunks per thread are in flight,
 * in buffers that are reused, so memory stays a few chunks whatever the
 * input size.  threads 1 runs everything on the calling thread.
 */
#ifndef SPOKE_WORKER_ZIP_PDEFLATE_H
#define SPOKE_WORKER_ZIP_PDEFLATE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* The chunk sizes: part of the output format (changing them changes the
 * bytes of every large entry), so they are constants and not tunables.
 * PDEFLATE_CHUNK is the largest, PDEFLATE_MIN the smallest: an entry of
 * at most PDEFLATE_MIN bytes is one libdeflate call (worker/zip/zip_write.c)
 * and no business of this file's. */
#define PDEFLATE_CHUNK ((size_t)4 << 20)
#define PDEFLATE_MIN ((size_t)256 << 10)

/* The chunk size for an input of len bytes: the power of two at or above
 * len / 4, from PDEFLATE_MIN to PDEFLATE_CHUNK. */
size_t pdeflate_chunk(uint64_t len);

/* The call size at level 1: part of that level's output format too. */
#define PDEFLATE_CALL ((size_t)64 << 10)

/* Upper bound on the threads pdeflate_run uses. */
#define PDEFLATE_MAX_THREADS 64

/* One chunk's worth of the stream: its input and the deflate bytes it
 * became.  Both are valid only during the sink's call. */
struct pdeflate_piece {
	const uint8_t *in;
	size_t in_len;
	const uint8_t *out;
	size_t out_len;
};

/* Called on pdeflate_run's calling thread, once per chunk, in order.
 * Returns 0, or -1 with e filled to stop the run. */
typedef int (*pdeflate_sink)(void *arg, const struct pdeflate_piece *p,
			     struct sp_err *e);

/*
 * Compresses in[0..len) at libdeflate level (1..12) into one raw deflate
 * stream, feeding it to sink piece by piece.  len 0 gives one empty stored
 * block.  threads is clamped to 1..PDEFLATE_MAX_THREADS and to the number
 * of chunks.  Returns 0, or -1 with e filled: out of memory, or the sink's
 * error.  in is read concurrently by the threads and must not change.
 */
int pdeflate_run(const void *in, size_t len, int level, unsigned threads,
		 pdeflate_sink sink, void *arg, struct sp_err *e);

/*
 * The same for the len bytes at offset off of the file open on fd (name
 * for messages), read with pread in chunks, each into the slot that
 * compresses it: memory stays a few chunks whatever the file's size.
 * The pieces' in points at those copies.  Same output as pdeflate_run on
 * the same bytes.  Errors also: a read failed ("cannot read 'name': ..."),
 * or the file ended before off + len ("'name' changed while it was
 * read").
 */
int pdeflate_run_fd(int fd, uint64_t off, size_t len, const char *name,
		    int level, unsigned threads, pdeflate_sink sink, void *arg,
		    struct sp_err *e);

/* Largest stream pdeflate_run can produce for len bytes of input. */
uint64_t pdeflate_bound(uint64_t len);

/*
 * How many threads a worker compresses with: SPOKE_ZIP_THREADS when it
 * holds a number from 1 to PDEFLATE_MAX_THREADS (a knob for tests and
 * benchmarks; the bytes do not depend on it), else want when it is not 0
 * (the coordinator's budget for the job: the build's free job slots, so
 * that -j and make's jobserver bound the CPUs used), else the number of
 * CPUs this process may run on (sched_getaffinity); at most
 * PDEFLATE_MAX_THREADS.
 */
unsigned pdeflate_threads(unsigned want);

/*
 * For tests: walks the raw deflate stream s[0..n) to its final block.
 * Returns 0 with *hdr the bit offset of the final block's header and *end
 * the bit offset just past its end-of-block code, or -1 when the stream is
 * malformed or runs past n.
 */
int pdeflate_walk(const uint8_t *s, size_t n, uint64_t *hdr, uint64_t *end);

/*
 * For tests: the end of the one-block raw deflate stream s[0..n) read
 * from its last bits, as level 1 does.  Returns 0 with *end the bit
 * offset just past its end-of-block code, or -1 where that is not
 * unambiguous (a walk is needed) or the stream is not one block.
 */
int pdeflate_tail_end(const uint8_t *s, size_t n, uint64_t *end);

#endif
