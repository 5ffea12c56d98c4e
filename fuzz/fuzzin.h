/*
 * fuzzin.h - decoding a fuzzer's bytes into choices, for the
 * structure-aware harnesses (fuzz_wheelgen.c, fuzz_elfgen.c).
 *
 * A harness reads its input front to back as a list of decisions: a byte
 * picks one of a few shapes, a length-prefixed run of bytes is a name or a
 * value.  Once the input is used up every decision reads 0, which each
 * harness makes mean "the ordinary, well-formed choice", so a short input
 * still builds a sensible file and the fuzzer's mutations of one byte
 * change one decision rather than shifting everything after it.
 *
 * Also a small growable byte buffer, since both harnesses build files in
 * memory.  Out of memory aborts: a harness has no one to report to.
 */
#ifndef SPOKE_FUZZ_FUZZIN_H
#define SPOKE_FUZZ_FUZZIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct fin {
	const uint8_t *p;
	size_t n;
};

static inline unsigned fin_u8(struct fin *in)
{
	unsigned v;

	if (!in->n)
		return 0;
	v = *in->p++;
	in->n--;
	return v;
}

static inline unsigned fin_u16(struct fin *in)
{
	unsigned lo = fin_u8(in);

	return lo | fin_u8(in) << 8;
}

static inline uint32_t fin_u32(struct fin *in)
{
	uint32_t lo = fin_u16(in);

	return lo | (uint32_t)fin_u16(in) << 16;
}

/* One of n choices (n > 0). */
static inline unsigned fin_pick(struct fin *in, unsigned n)
{
	return fin_u8(in) % n;
}

/* A run of at most max bytes (its length is one byte, or two when max
 * exceeds 255), pointing into the input; fewer when the input ends. */
static inline size_t fin_bytes(struct fin *in, size_t max, const uint8_t **out)
{
	size_t len = max > 255 ? fin_u16(in) : fin_u8(in);

	len %= max + 1;
	if (len > in->n)
		len = in->n;
	*out = in->p;
	in->p += len;
	in->n -= len;
	return len;
}

struct fbuf {
	uint8_t *p;
	size_t len, cap;
};

static inline void fbuf_add(struct fbuf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			abort();
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = 0;
}

static inline void fbuf_str(struct fbuf *b, const char *s)
{
	fbuf_add(b, s, strlen(s));
}

static inline void fbuf_le(struct fbuf *b, uint64_t v, unsigned bytes)
{
	uint8_t t[8];
	unsigned i;

	for (i = 0; i < bytes; i++)
		t[i] = (uint8_t)(v >> (8 * i));
	fbuf_add(b, t, bytes);
}

/* n bytes of c. */
static inline void fbuf_fill(struct fbuf *b, int c, size_t n)
{
	size_t at = b->len;

	fbuf_add(b, NULL, 0); /* allocates */
	if (at + n + 1 > b->cap) {
		b->cap = at + n + 1;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memset(b->p + at, c, n);
	b->len = at + n;
	b->p[b->len] = 0;
}

#endif
