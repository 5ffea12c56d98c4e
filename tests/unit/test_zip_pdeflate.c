/*
 * Unit tests of worker/zip/pdeflate: the chunked stream inflates with zlib (an
 * inflater that shares no code with libdeflate or the walk) to the input,
 * for sizes around the chunk boundaries and data that deflates, that does
 * not, and a mix; its bytes are the same for any thread count; the walk
 * finds the final block of streams zlib wrote; reading a one-block
 * stream's end from its last bits agrees with the walk, or declines; a
 * failing sink stops the run.
 */
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libdeflate.h>
#include <unistd.h>
#include <zlib.h>

#include "worker/zip/pdeflate.h"

#define CH PDEFLATE_CHUNK

static void fill_random(uint8_t *p, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)(x >> 11);
	}
}

/* Text-like data that deflates well but not to nothing. */
static void fill_text(uint8_t *p, size_t n, uint32_t seed)
{
	static const char *const words[] = {"spoke ",	"wheel ", "chunk ",
					    "deflate ", "cargo ", "module\n",
					    "thread ",	"RECORD "};
	uint32_t x = seed + 7;
	size_t i = 0, k;
	const char *w;

	while (i < n) {
		x = x * 1103515245u + 12345u;
		w = words[(x >> 16) & 7];
		for (k = 0; w[k] && i < n; k++)
			p[i++] = (uint8_t)w[k];
	}
}

/* Runs of text and of random bytes, of lengths that do not line up with
 * chunks, so some chunks are stored and some deflated. */
static void fill_mixed(uint8_t *p, size_t n, uint32_t seed)
{
	size_t i = 0, run;
	int k = 0;

	while (i < n) {
		run = (size_t)(CH / 3 + (seed + (uint32_t)k) * 7919u % CH);
		if (run > n - i)
			run = n - i;
		if (k++ % 2)
			fill_random(p + i, run, seed + (uint32_t)k);
		else
			fill_text(p + i, run, seed + (uint32_t)k);
		i += run;
	}
}

struct acc {
	uint8_t *p;
	size_t len, cap;
	size_t pieces, in_total;
	size_t fail_at; /* fail on this piece (1-based); 0: never */
};

static int acc_sink(void *arg, const struct pdeflate_piece *p, struct sp_err *e)
{
	struct acc *a = arg;

	a->pieces++;
	if (a->fail_at && a->pieces == a->fail_at)
		return sp_err_set(e, "sink refused piece %zu", a->pieces);
	a->in_total += p->in_len;
	if (a->len + p->out_len > a->cap) {
		a->cap = (a->len + p->out_len) * 2;
		a->p = realloc(a->p, a->cap);
		assert_non_null(a->p);
	}
	memcpy(a->p + a->len, p->out, p->out_len);
	a->len += p->out_len;
	return 0;
}

/* Inflates a raw deflate stream with zlib and checks that it is exactly
 * want[0..n): the stream ends where it says, with nothing after. */
static void inflate_equals(const uint8_t *s, size_t slen, const uint8_t *want,
			   size_t n)
{
	z_stream zs;
	uint8_t *out = malloc(n + 1);
	int rc;

	assert_non_null(out);
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(inflateInit2(&zs, -15), Z_OK);
	zs.next_in = (uint8_t *)s;
	zs.avail_in = (uInt)slen;
	zs.next_out = out;
	zs.avail_out = (uInt)(n + 1);
	rc = inflate(&zs, Z_FINISH);
	assert_int_equal(rc, Z_STREAM_END);
	assert_int_equal(zs.avail_in, 0);
	assert_int_equal(zs.total_out, n);
	assert_memory_equal(out, want, n);
	inflateEnd(&zs);
	free(out);
}

static void run(const uint8_t *in, size_t n, int level, unsigned threads,
		struct acc *a)
{
	struct sp_err e;

	memset(a, 0, sizeof(*a));
	if (pdeflate_run(in, n, level, threads, acc_sink, a, &e) != 0)
		fail_msg("pdeflate_run: %s", e.msg);
	assert_int_equal(a->in_total, n);
	assert_int_equal(a->pieces, n ? (n - 1) / pdeflate_chunk(n) + 1 : 1);
	assert_true(a->len <= pdeflate_bound(n));
}

/* One size and kind of data: inflates back, same bytes on 1, 2 and 3
 * threads. */
static void check_one(size_t n, void (*fill)(uint8_t *, size_t, uint32_t),
		      int level)
{
	uint8_t *in = malloc(n ? n : 1);
	struct acc a1, a2, a3;

	assert_non_null(in);
	fill(in, n, (uint32_t)n);
	run(in, n, level, 1, &a1);
	inflate_equals(a1.p, a1.len, in, n);
	run(in, n, level, 2, &a2);
	assert_int_equal(a2.len, a1.len);
	assert_memory_equal(a2.p, a1.p, a1.len);
	if (n > 2 * CH) {
		run(in, n, level, 3, &a3);
		assert_int_equal(a3.len, a1.len);
		assert_memory_equal(a3.p, a1.p, a1.len);
		free(a3.p);
	}
	free(a1.p);
	free(a2.p);
	free(in);
}

static const size_t sizes[] = {0, 1, CH - 1, CH, CH + 1, 3 * CH + 7};

static void test_text(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(*sizes); i++)
		check_one(sizes[i], fill_text, 6);
	check_one(3 * CH + 7, fill_text, 1);
}

static void test_random(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(*sizes); i++)
		check_one(sizes[i], fill_random, 6);
}

static void test_mixed(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(*sizes); i++)
		check_one(sizes[i], fill_mixed, 6);
	check_one(3 * CH + 7, fill_mixed, 1);
	/* Enough chunks for threads to take them two at a time. */
	check_one(9 * CH + 5, fill_mixed, 1);
}

/* Random data goes out stored, at the bound's cost; text deflates. */
static void test_sizes(void **state)
{
	size_t n = 2 * CH + 100;
	uint8_t *in = malloc(n);
	struct acc a;

	(void)state;
	assert_non_null(in);
	fill_random(in, n, 3);
	run(in, n, 6, 2, &a);
	assert_int_equal(a.len, pdeflate_bound(n));
	free(a.p);
	fill_text(in, n, 3);
	run(in, n, 6, 2, &a);
	assert_true(a.len < n / 3);
	free(a.p);
	free(in);
}

static void test_sink_error(void **state)
{
	size_t n = 5 * CH;
	uint8_t *in = malloc(n);
	struct sp_err e;
	struct acc a;
	unsigned t;

	(void)state;
	assert_non_null(in);
	fill_text(in, n, 9);
	for (t = 1; t <= 3; t++) {
		memset(&a, 0, sizeof(a));
		a.fail_at = 2;
		assert_int_equal(pdeflate_run(in, n, 6, t, acc_sink, &a, &e),
				 -1);
		assert_string_equal(e.msg, "sink refused piece 2");
		assert_int_equal(a.pieces, 2);
		free(a.p);
	}
	assert_int_equal(pdeflate_run(in, n, 0, 1, acc_sink, &a, &e), -1);
	assert_int_equal(pdeflate_run(in, n, 13, 1, acc_sink, &a, &e), -1);
	free(in);
}

/* From a descriptor: the stream of the same bytes in memory, on 1 and 3
 * threads; a file shorter than promised or unreadable is an error naming
 * it. */
static void test_from_fd(void **state)
{
	size_t n = 5 * CH + 11, off = 13;
	char path[] = "/tmp/spoke-pdeflate-XXXXXX";
	uint8_t *in = malloc(n + off);
	struct acc a, b;
	struct sp_err e;
	unsigned t;
	int fd;

	(void)state;
	assert_non_null(in);
	fill_mixed(in, n + off, 5);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(pwrite(fd, in, n + off, 0), (ssize_t)(n + off));
	run(in + off, n, 6, 1, &a);
	for (t = 1; t <= 3; t += 2) {
		memset(&b, 0, sizeof(b));
		if (pdeflate_run_fd(fd, off, n, "in.bin", 6, t, acc_sink, &b,
				    &e) != 0)
			fail_msg("pdeflate_run_fd: %s", e.msg);
		assert_int_equal(b.len, a.len);
		assert_memory_equal(b.p, a.p, a.len);
		free(b.p);
		memset(&b, 0, sizeof(b));
		assert_int_equal(pdeflate_run_fd(fd, off + 1, n, "in.bin", 6,
						 t, acc_sink, &b, &e),
				 -1);
		assert_string_equal(e.msg,
				    "'in.bin' changed while it was read");
		free(b.p);
	}
	close(fd);
	fd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	memset(&b, 0, sizeof(b));
	assert_int_equal(
	    pdeflate_run_fd(fd, 0, n, "dir", 6, 2, acc_sink, &b, &e), -1);
	assert_non_null(strstr(e.msg, "cannot read 'dir'"));
	free(b.p);
	close(fd);
	free(a.p);
	free(in);
}

/* Compresses with zlib, then checks the walk against it: the stream ends
 * where the walk says, and the bit it names is the final block's (with
 * it cleared, zlib no longer finds the end). */
static void check_zlib_walk(const uint8_t *in, size_t n, int level,
			    int strategy, int flush_every)
{
	uint8_t *out = malloc(n + n / 8 + 1024);
	z_stream zs;
	size_t off = 0, step;
	uint64_t hdr, end;
	int rc;

	assert_non_null(out);
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, level, Z_DEFLATED, -15, 8, strategy),
			 Z_OK);
	zs.next_out = out;
	zs.avail_out = (uInt)(n + n / 8 + 1024);
	do {
		step = flush_every && n - off > (size_t)flush_every
			   ? (size_t)flush_every
			   : n - off;
		zs.next_in = (uint8_t *)in + off;
		zs.avail_in = (uInt)step;
		off += step;
		rc = deflate(&zs, off == n ? Z_FINISH : Z_FULL_FLUSH);
		assert_true(rc == Z_OK || rc == Z_STREAM_END);
	} while (off < n);
	assert_int_equal(rc, Z_STREAM_END);
	deflateEnd(&zs);

	assert_int_equal(pdeflate_walk(out, zs.total_out, &hdr, &end), 0);
	assert_int_equal((end + 7) / 8, zs.total_out);
	assert_true(hdr < end);
	out[hdr / 8] &= (uint8_t) ~(1u << (hdr % 8));
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(inflateInit2(&zs, -15), Z_OK);
	{
		uint8_t *back = malloc(n + 1);

		zs.next_in = out;
		zs.avail_in = (uInt)(end + 7) / 8;
		zs.next_out = back;
		zs.avail_out = (uInt)(n + 1);
		assert_int_not_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
		free(back);
	}
	inflateEnd(&zs);
	/* Cut short, the stream has no final block. */
	if (hdr / 8 > 0)
		assert_int_equal(pdeflate_walk(out, hdr / 8, &hdr, &end), -1);
	free(out);
}

static void test_walk_zlib(void **state)
{
	size_t n = 300000;
	uint8_t *in = malloc(n);

	(void)state;
	assert_non_null(in);
	fill_mixed(in, n, 5);
	fill_text(in, n / 2, 5);
	check_zlib_walk(in, n, 6, Z_DEFAULT_STRATEGY, 0);
	check_zlib_walk(in, n, 9, Z_DEFAULT_STRATEGY, 70001);
	check_zlib_walk(in, n, 6, Z_FIXED, 0);
	check_zlib_walk(in, n, 1, Z_HUFFMAN_ONLY, 0);
	check_zlib_walk(in, n, 6, Z_RLE, 100000);
	check_zlib_walk(in, n, 0, Z_DEFAULT_STRATEGY, 0); /* stored */
	check_zlib_walk(in, 1, 6, Z_DEFAULT_STRATEGY, 0);
	check_zlib_walk(in, 0, 6, Z_DEFAULT_STRATEGY, 0);
	free(in);
}

/* Real machine code: this test's own executable, repeated to n bytes. */
static void fill_exe(uint8_t *p, size_t n, uint32_t seed)
{
	size_t i = 0;
	ssize_t r;
	int fd;

	(void)seed;
	while (i < n) {
		fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		while (i < n && (r = read(fd, p + i, n - i)) > 0)
			i += (size_t)r;
		close(fd);
	}
}

/* One stream of one block, from libdeflate at level 1 as pdeflate's
 * calls make them, or from zlib: where pdeflate_tail_end answers, its end
 * is the walk's.  Returns 1 when it answered, 0 when it declined, -1
 * when the stream was not one block. */
static int tail_vs_walk(const uint8_t *s, size_t n)
{
	uint64_t hdr, end, tail;

	if (!(s[0] & 1)) {
		assert_int_equal(pdeflate_tail_end(s, n, &tail), -1);
		return -1;
	}
	assert_int_equal(pdeflate_walk(s, n, &hdr, &end), 0);
	assert_int_equal(hdr, 0);
	if (pdeflate_tail_end(s, n, &tail) < 0)
		return 0;
	assert_int_equal(tail, end);
	return 1;
}

static void test_tail_end(void **state)
{
	static void (*const fills[])(uint8_t *, size_t, uint32_t) = {
	    fill_text, fill_exe, fill_mixed, fill_random};
	size_t n = 4 * CH, pos, len, clen, answered, one, cap;
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(1);
	uint8_t *in = malloc(n), *out;
	uint64_t end;
	unsigned f;
	int r, lvl;

	(void)state;
	assert_non_null(c);
	assert_non_null(in);
	cap = libdeflate_deflate_compress_bound(c, PDEFLATE_CALL);
	out = malloc(cap);
	assert_non_null(out);
	for (f = 0; f < sizeof(fills) / sizeof(*fills); f++) {
		fills[f](in, n, 11);
		answered = one = 0;
		for (pos = 0; pos < n; pos += len) {
			/* Calls of PDEFLATE_CALL bytes, and shorter ones. */
			len = pos % 3 ? PDEFLATE_CALL : PDEFLATE_CALL / 7 + pos % 97;
			if (len > n - pos)
				len = n - pos;
			clen = libdeflate_deflate_compress(c, in + pos, len, out,
							   cap);
			assert_true(clen > 0);
			r = tail_vs_walk(out, clen);
			one += r >= 0;
			answered += r == 1;
		}
		/* The fast path is taken: on text and machine code nearly
		 * every call is one block read from its end. */
		if (fills[f] == fill_text || fills[f] == fill_exe) {
			assert_true(one * 100 >= (n / PDEFLATE_CALL) * 90);
			assert_true(answered * 100 >= one * 95);
		}
	}
	/* zlib's one-block streams, dynamic, fixed and stored. */
	fill_text(in, 20000, 3);
	for (lvl = 0; lvl <= 9; lvl++) {
		z_stream zs;

		memset(&zs, 0, sizeof(zs));
		assert_int_equal(deflateInit2(&zs, lvl, Z_DEFLATED, -15, 8,
					      lvl == 5 ? Z_FIXED
						       : Z_DEFAULT_STRATEGY),
				 Z_OK);
		zs.next_in = in;
		zs.avail_in = 20000;
		zs.next_out = out;
		zs.avail_out = (uInt)cap;
		assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
		r = tail_vs_walk(out, zs.total_out);
		/* Fixed codes end in seven zero bits: always walked. */
		if (lvl == 5)
			assert_int_equal(r, 0);
		else if (lvl > 0)
			assert_int_equal(r, 1);
		deflateEnd(&zs);
	}
	/* A stored block ends with its data; a short one is declined. */
	fill_random(in, 1000, 4);
	clen = libdeflate_deflate_compress(c, in, 1000, out, cap);
	assert_int_equal(clen, 1005);
	assert_int_equal(pdeflate_tail_end(out, clen, &end), 0);
	assert_int_equal(end, 1005 * 8);
	assert_int_equal(pdeflate_tail_end(out, 7, &end), -1);
	/* Padding that is not zero leaves no end to find. */
	fill_text(in, 5000, 5);
	clen = libdeflate_deflate_compress(c, in, 5000, out, cap);
	assert_int_equal(pdeflate_walk(out, clen, &end, &end), 0);
	if (end % 8) {
		out[clen - 1] |= 0x80;
		assert_int_equal(pdeflate_tail_end(out, clen, &end), -1);
	}
	libdeflate_free_compressor(c);
	free(out);
	free(in);
}

struct bitw {
	uint8_t b[64];
	size_t n; /* bits written */
};

static void put_bits(struct bitw *w, unsigned v, unsigned k)
{
	while (k--) {
		if (v & 1)
			w->b[w->n / 8] |= (uint8_t)(1u << (w->n % 8));
		v >>= 1;
		w->n++;
	}
}

/* A block whose end-of-block code is all zeros (here one 0 bit: symbol
 * 256 has the shortest code and no symbol before it one) ends at any of
 * the zero bits: pdeflate_tail_end must decline it, not guess. */
static void test_tail_end_ambiguous(void **state)
{
	static const uint8_t order[18] = {16, 17, 18, 0, 8,  7, 9,  6, 10,
					  5,  11, 4,  12, 3, 13, 2, 14, 1};
	struct bitw w = {0};
	uint64_t hdr, end, tail;
	size_t n;
	unsigned i;

	(void)state;
	put_bits(&w, 1, 1); /* BFINAL */
	put_bits(&w, 2, 2); /* dynamic */
	put_bits(&w, 258 - 257, 5);
	put_bits(&w, 1 - 1, 5);
	put_bits(&w, 18 - 4, 4);
	/* The code-length code: symbols 1 and 18, one bit each (1 is 0, 18
	 * is 1). */
	for (i = 0; i < 18; i++)
		put_bits(&w, order[i] == 18 || order[i] == 1, 3);
	put_bits(&w, 1, 1); /* 18: 138 zeros */
	put_bits(&w, 138 - 11, 7);
	put_bits(&w, 1, 1); /* 18: 118 zeros */
	put_bits(&w, 118 - 11, 7);
	put_bits(&w, 0, 1); /* symbol 256: length 1 */
	put_bits(&w, 0, 1); /* symbol 257: length 1 */
	put_bits(&w, 0, 1); /* distance 0: length 1 */
	put_bits(&w, 0, 1); /* end of block */
	n = (w.n + 7) / 8 + 2; /* and two bytes of zeros */
	assert_int_equal(pdeflate_walk(w.b, n, &hdr, &end), 0);
	assert_int_equal(end, w.n);
	assert_int_equal(pdeflate_tail_end(w.b, n, &tail), -1);
}

/* The chunk size follows the input's length alone: at least
 * PDEFLATE_MIN, a power of two at or above a quarter of it, at most
 * PDEFLATE_CHUNK; and a module of a few hundred KiB or MiB is chunked,
 * joined and the same on any thread count. */
static void test_chunk_size(void **state)
{
	(void)state;
	assert_int_equal(pdeflate_chunk(PDEFLATE_MIN + 1), PDEFLATE_MIN);
	assert_int_equal(pdeflate_chunk(403352), 256 << 10);
	assert_int_equal(pdeflate_chunk(4 * PDEFLATE_MIN), PDEFLATE_MIN);
	assert_int_equal(pdeflate_chunk(4 * PDEFLATE_MIN + 4), 512 << 10);
	assert_int_equal(pdeflate_chunk(1437848), 512 << 10);
	assert_int_equal(pdeflate_chunk(7732544), 2 << 20);
	assert_int_equal(pdeflate_chunk(16 << 20), PDEFLATE_CHUNK);
	assert_int_equal(pdeflate_chunk((uint64_t)100 << 20), PDEFLATE_CHUNK);
	/* Every size is a whole number of level 1's calls. */
	assert_int_equal(pdeflate_chunk(403352) % PDEFLATE_CALL, 0);
	check_one(PDEFLATE_MIN + 1, fill_exe, 6);
	check_one(403352, fill_exe, 6);
	check_one(403352, fill_exe, 1);
	check_one(1437848, fill_mixed, 6);
	check_one(1437848, fill_random, 6);
}

/* Level 1 on machine code: calls of PDEFLATE_CALL bytes joined into one
 * stream that zlib inflates, the same bytes on any thread count. */
static void test_level1_calls(void **state)
{
	(void)state;
	check_one(3 * CH + 7, fill_exe, 1);
	check_one(CH - 1, fill_exe, 1);
	check_one(PDEFLATE_CALL + 1, fill_text, 1);
	check_one(9 * CH + 5, fill_mixed, 1);
	check_one(2 * CH + 3, fill_random, 1);
}

/* Garbage neither crashes nor loops: the walk either fails or stops
 * within the buffer. */
static void test_walk_garbage(void **state)
{
	uint8_t buf[4096] = {0};
	uint64_t hdr, end;
	int i;

	(void)state;
	assert_int_equal(pdeflate_walk(buf, 0, &hdr, &end), -1);
	for (i = 0; i < 2000; i++) {
		fill_random(buf, sizeof(buf), (uint32_t)i);
		if (pdeflate_walk(buf, (size_t)(i % (int)sizeof(buf)) + 1, &hdr,
				  &end) == 0)
			assert_true(end <=
				    (uint64_t)((i % (int)sizeof(buf)) + 1) * 8);
		buf[0] |= (uint8_t)(i & 1);
		if (pdeflate_tail_end(buf, (size_t)(i % (int)sizeof(buf)) + 1,
				      &end) == 0)
			assert_true(end <=
				    (uint64_t)((i % (int)sizeof(buf)) + 1) * 8);
	}
}

static void test_threads_env(void **state)
{
	unsigned def;

	(void)state;
	unsetenv("SPOKE_ZIP_THREADS");
	def = pdeflate_threads(0);
	assert_true(def >= 1 && def <= PDEFLATE_MAX_THREADS);
	/* The coordinator's budget wins over the CPU count... */
	assert_int_equal(pdeflate_threads(1), 1);
	assert_int_equal(pdeflate_threads(5), 5);
	assert_int_equal(pdeflate_threads(100000), PDEFLATE_MAX_THREADS);
	/* ...and the knob over both. */
	setenv("SPOKE_ZIP_THREADS", "3", 1);
	assert_int_equal(pdeflate_threads(0), 3);
	assert_int_equal(pdeflate_threads(1), 3);
	setenv("SPOKE_ZIP_THREADS", "0", 1);
	assert_int_equal(pdeflate_threads(0), def);
	setenv("SPOKE_ZIP_THREADS", "2x", 1);
	assert_int_equal(pdeflate_threads(0), def);
	setenv("SPOKE_ZIP_THREADS", "1000", 1);
	assert_int_equal(pdeflate_threads(0), def);
	assert_int_equal(pdeflate_threads(2), 2);
	unsetenv("SPOKE_ZIP_THREADS");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_text),
	    cmocka_unit_test(test_random),
	    cmocka_unit_test(test_mixed),
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_sink_error),
	    cmocka_unit_test(test_from_fd),
	    cmocka_unit_test(test_walk_zlib),
	    cmocka_unit_test(test_walk_garbage),
	    cmocka_unit_test(test_tail_end),
	    cmocka_unit_test(test_tail_end_ambiguous),
	    cmocka_unit_test(test_level1_calls),
	    cmocka_unit_test(test_chunk_size),
	    cmocka_unit_test(test_threads_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
