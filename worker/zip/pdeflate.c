#define _GNU_SOURCE
#include "worker/zip/pdeflate.h"

#include <endian.h>
#include <errno.h>
#include <libdeflate.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A stored block holds at most this many bytes. */
#define STORED_MAX 65535u

/* ------------------------------------------------------------------ */
/* The walk: block structure of a raw deflate stream (RFC 1951).        */

/* Bits looked up at once in a decode table; longer codes (rare) take the
 * canonical slow path. */
#define TBITS 11
#define TSIZE (1u << TBITS)

/* Table entries: the low 5 bits are how many bits the symbol takes with
 * its extra bits; F_MATCH marks a length symbol (a distance follows);
 * F_SPECIAL the end-of-block code, an invalid symbol, or a code longer
 * than the table (all rare: taken out of the fast loop). */
#define F_MATCH 0x20u
#define F_SPECIAL 0x40u
#define ENT_BITS(e) ((unsigned)(e)&31u)

static const uint8_t len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1,
				      1, 1, 2, 2, 2, 2, 3, 3, 3, 3,
				      4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint8_t dist_extra[30] = {0, 0, 0,	 0,  1,	 1,  2,	 2,  3,	 3,
				       4, 4, 5,	 5,  6,	 6,  7,	 7,  8,	 8,
				       9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
static const uint8_t precode_order[19] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
					  11, 4,  12, 3, 13, 2, 14, 1, 15};

enum { HUFF_LITLEN, HUFF_DIST, HUFF_PRE };

/* A canonical Huffman code: a lookup table for codes of up to TBITS bits,
 * and the counts and sorted symbols for decoding longer ones. */
struct huff {
	uint16_t t[TSIZE];
	uint16_t count[16];
	uint16_t sym[288];
};

/* Bits of the stream, least significant first.  Past the end the reader
 * yields zeros; pos() then exceeds the stream and the walk fails. */
struct bitr {
	const uint8_t *s;
	size_t n, i; /* stream length; next byte to load */
	uint64_t buf;
	unsigned nb; /* valid bits in buf */
};

static uint64_t bitr_pos(const struct bitr *b)
{
	return (uint64_t)b->i * 8 - b->nb;
}

/* Leaves at least 56 bits in the buffer. */
static inline void bitr_refill(struct bitr *b)
{
	uint64_t w;

	if (b->nb >= 56)
		return;
	if (b->i < b->n && b->n - b->i >= 8) {
		/* The bytes past the whole ones accounted for are loaded too;
		 * the next refill loads them again, in the same places. */
		memcpy(&w, b->s + b->i, 8);
		w = le64toh(w);
		b->buf |= w << b->nb;
		b->i += (63 - b->nb) >> 3;
		b->nb |= 56;
		return;
	}
	while (b->nb < 56) {
		b->buf |= (uint64_t)(b->i < b->n ? b->s[b->i] : 0) << b->nb;
		b->i++;
		b->nb += 8;
	}
}

static inline void bitr_drop(struct bitr *b, unsigned k)
{
	b->buf >>= k;
	b->nb -= k;
}

static inline unsigned bitr_take(struct bitr *b, unsigned k)
{
	unsigned v = (unsigned)(b->buf & ((1u << k) - 1));

	bitr_drop(b, k);
	return v;
}

static unsigned reverse_bits(unsigned code, unsigned len)
{
	unsigned r = 0;

	while (len--) {
		r = r << 1 | (code & 1);
		code >>= 1;
	}
	return r;
}

/* Builds the code of lens[0..n).  Over-subscribed lengths are an error;
 * incomplete codes are allowed (a distance code may have one symbol), and
 * their unused bit patterns decode to an error. */
static int huff_build(struct huff *h, const uint8_t *lens, unsigned n, int kind)
{
	uint16_t next[16], offs[16];
	unsigned i, len, code, r, k, e;
	int left = 1;

	memset(h->count, 0, sizeof(h->count));
	for (i = 0; i < n; i++)
		h->count[lens[i]]++;
	h->count[0] = 0;
	for (len = 1; len < 16; len++) {
		left = left * 2 - h->count[len];
		if (left < 0)
			return -1;
	}
	offs[1] = 0;
	for (len = 1; len < 15; len++)
		offs[len + 1] = (uint16_t)(offs[len] + h->count[len]);
	for (i = 0; i < n; i++)
		if (lens[i])
			h->sym[offs[lens[i]]++] = (uint16_t)i;
	code = 0;
	next[0] = 0;
	for (len = 1; len < 16; len++) {
		code = (code + h->count[len - 1]) << 1;
		next[len] = (uint16_t)code;
	}
	for (i = 0; i < TSIZE; i++)
		h->t[i] = kind == HUFF_PRE ? 0 : F_SPECIAL;
	for (i = 0; i < n; i++) {
		len = lens[i];
		if (!len)
			continue;
		code = next[len]++;
		if (len > TBITS)
			continue;
		if (kind == HUFF_LITLEN) {
			if (i < 256)
				e = len;
			else if (i == 256)
				e = F_SPECIAL;
			else if (i < 286)
				e = (len + len_extra[i - 257]) | F_MATCH;
			else
				continue; /* 286, 287: invalid, stay slow */
		} else if (kind == HUFF_DIST) {
			if (i >= 30)
				continue;
			e = len + dist_extra[i];
		} else {
			e = len | i << 4; /* precode: length and symbol */
		}
		r = reverse_bits(code, len);
		for (k = r; k < TSIZE; k += 1u << len)
			h->t[k] = (uint16_t)e;
	}
	return 0;
}

/* Decodes one symbol bit by bit (puff's canonical decoding): for codes
 * longer than the table.  Needs 15 bits in the buffer.  -1: no such code. */
static int huff_slow(struct bitr *b, const struct huff *h)
{
	int code = 0, first = 0, index = 0, count;
	uint64_t buf = b->buf;
	unsigned len;

	for (len = 1; len < 16; len++) {
		code |= (int)(buf & 1);
		buf >>= 1;
		count = h->count[len];
		if (code - count < first) {
			bitr_drop(b, len);
			return h->sym[index + (code - first)];
		}
		index += count;
		first = (first + count) << 1;
		code <<= 1;
	}
	return -1;
}

/* The walk's tables: one set per walk, so several threads can walk. */
struct walk_tables {
	struct huff lit, dist, pre;
};

/* Reads a dynamic block's header up to the end of its code lengths:
 * lens[0..*hlit) for literals and lengths, then *hdist for distances.
 * pre is scratch for the code-length code. */
static int read_lengths(struct bitr *b, struct huff *pre, uint8_t lens[288 + 32],
			unsigned *hlit_ret, unsigned *hdist_ret)
{
	uint8_t plens[19] = {0};
	unsigned hlit, hdist, hclen, i, e, sym, rep, val;

	bitr_refill(b);
	hlit = bitr_take(b, 5) + 257;
	hdist = bitr_take(b, 5) + 1;
	hclen = bitr_take(b, 4) + 4;
	if (hlit > 286 || hdist > 30)
		return -1;
	for (i = 0; i < hclen; i++) {
		bitr_refill(b);
		plens[precode_order[i]] = (uint8_t)bitr_take(b, 3);
	}
	if (huff_build(pre, plens, 19, HUFF_PRE) < 0)
		return -1;
	for (i = 0; i < hlit + hdist;) {
		bitr_refill(b);
		e = pre->t[b->buf & (TSIZE - 1)];
		if (!e)
			return -1;
		bitr_drop(b, e & 15);
		sym = e >> 4;
		if (sym < 16) {
			lens[i++] = (uint8_t)sym;
			continue;
		}
		if (sym == 16) {
			if (i == 0)
				return -1;
			val = lens[i - 1];
			rep = 3 + bitr_take(b, 2);
		} else if (sym == 17) {
			val = 0;
			rep = 3 + bitr_take(b, 3);
		} else {
			val = 0;
			rep = 11 + bitr_take(b, 7);
		}
		if (i + rep > hlit + hdist)
			return -1;
		while (rep--)
			lens[i++] = (uint8_t)val;
	}
	if (lens[256] == 0)
		return -1; /* no end-of-block code: the block could not end */
	*hlit_ret = hlit;
	*hdist_ret = hdist;
	return 0;
}

/* Reads a dynamic block's header into the litlen and distance codes. */
static int read_dynamic(struct bitr *b, struct walk_tables *w)
{
	uint8_t lens[288 + 32];
	unsigned hlit, hdist;

	if (read_lengths(b, &w->pre, lens, &hlit, &hdist) < 0 ||
	    huff_build(&w->lit, lens, hlit, HUFF_LITLEN) < 0 ||
	    huff_build(&w->dist, lens + hlit, hdist, HUFF_DIST) < 0)
		return -1;
	return 0;
}

static void fixed_codes(struct walk_tables *w)
{
	uint8_t lens[288];
	unsigned i;

	for (i = 0; i < 144; i++)
		lens[i] = 8;
	for (; i < 256; i++)
		lens[i] = 9;
	for (; i < 280; i++)
		lens[i] = 7;
	for (; i < 288; i++)
		lens[i] = 8;
	huff_build(&w->lit, lens, 288, HUFF_LITLEN);
	memset(lens, 5, 30);
	huff_build(&w->dist, lens, 30, HUFF_DIST);
}

/* The symbol after a table entry flagged F_SPECIAL: end of block (0),
 * a literal or a length whose bits are consumed (1), or an error (-1).
 * *match is set for a length. */
static int lit_special(struct bitr *b, const struct huff *lit, int *match)
{
	int sym = huff_slow(b, lit);

	*match = 0;
	if (sym < 0 || sym > 285)
		return -1;
	if (sym == 256)
		return 0;
	if (sym > 256) {
		bitr_drop(b, len_extra[sym - 257]);
		*match = 1;
	}
	return 1;
}

static int dist_slow(struct bitr *b, const struct huff *dist)
{
	int sym = huff_slow(b, dist);

	if (sym < 0 || sym > 29)
		return -1;
	bitr_drop(b, dist_extra[sym]);
	return 0;
}

/* One stream being walked: a small state machine, so that two streams can
 * be walked in step (see walk_streams). */
enum { W_HEAD, W_SYMS, W_DONE, W_FAIL };

struct walker {
	struct bitr b;
	struct walk_tables w;
	uint64_t hdr; /* bit offset of the current block's header */
	int final;    /* the current block is the last */
	int state;
	uint64_t end; /* W_DONE: bit offset just past the final block */
};

static void walker_init(struct walker *k, const uint8_t *s, size_t n)
{
	memset(&k->b, 0, sizeof(k->b));
	k->b.s = s;
	k->b.n = n;
	k->state = W_HEAD;
}

/* The end-of-block code of the current block was consumed. */
static void walker_block_end(struct walker *k)
{
	if (bitr_pos(&k->b) > (uint64_t)k->b.n * 8) {
		k->state = W_FAIL;
	} else if (k->final) {
		k->end = bitr_pos(&k->b);
		k->state = W_DONE;
	} else {
		k->state = W_HEAD;
	}
}

/* Reads block headers (skipping stored blocks) until the symbols of a
 * Huffman block begin, the stream ends or it turns out malformed. */
static void walker_head(struct walker *k)
{
	struct bitr *b = &k->b;
	unsigned type, len, nlen;
	uint64_t next;

	while (k->state == W_HEAD) {
		bitr_refill(b);
		k->hdr = bitr_pos(b);
		if (k->hdr >= (uint64_t)b->n * 8) {
			k->state = W_FAIL; /* no final block */
			return;
		}
		k->final = (int)bitr_take(b, 1);
		type = bitr_take(b, 2);
		if (type == 0) {
			bitr_drop(b, b->nb & 7); /* to the byte boundary */
			len = bitr_take(b, 16);
			nlen = bitr_take(b, 16);
			next = bitr_pos(b) / 8 + len;
			if (len != (~nlen & 0xffffu) || next > b->n) {
				k->state = W_FAIL;
				return;
			}
			/* Go on from the bytes after the block's data. */
			b->i = (size_t)next;
			b->buf = 0;
			b->nb = 0;
			walker_block_end(k);
		} else if (type == 1) {
			fixed_codes(&k->w);
			k->state = W_SYMS;
		} else if (type == 2 && read_dynamic(b, &k->w) == 0) {
			k->state = W_SYMS;
		} else {
			k->state = W_FAIL;
		}
	}
}

/* One symbol (a literal, or a length and its distance) the careful way:
 * codes longer than the table, the end-of-block code, the last bytes of
 * the stream. */
static void walker_symbol(struct walker *k)
{
	struct bitr *b = &k->b;
	unsigned e;
	int match, r;

	bitr_refill(b);
	/* Zeros past the end could decode as literals forever. */
	if (b->i > b->n + 16) {
		k->state = W_FAIL;
		return;
	}
	e = k->w.lit.t[b->buf & (TSIZE - 1)];
	if (e & F_SPECIAL) {
		r = lit_special(b, &k->w.lit, &match);
		if (r <= 0) {
			if (r < 0)
				k->state = W_FAIL;
			else
				walker_block_end(k);
			return;
		}
	} else {
		bitr_drop(b, ENT_BITS(e));
		match = (e & F_MATCH) != 0;
	}
	if (!match)
		return;
	e = k->w.dist.t[b->buf & (TSIZE - 1)];
	if (!(e & F_SPECIAL))
		bitr_drop(b, ENT_BITS(e));
	else if (dist_slow(b, &k->w.dist) < 0)
		k->state = W_FAIL;
}

/* The registers of a stream in the fast loop. */
struct fast {
	uint64_t buf;
	unsigned nb;
	size_t i;
};

/*
 * One symbol the fast way, needing 8 bytes of stream at f->i.  This is
 * most of the walk's time, so the common case has no unpredictable branch:
 * the buffer is refilled every symbol, and the distance after a literal is
 * looked up anyway and dropped by a mask.  Returns 0, 1 when the litlen
 * entry is special (nothing consumed: walker_symbol takes it), or 2 when
 * the distance entry is (the length is consumed).  At most 48 bits go: a
 * 15-bit length code with 5 extra bits, a 15-bit distance with 13.
 */
static inline __attribute__((always_inline)) int
fast_symbol(struct fast *f, const uint8_t *s, const struct walk_tables *w)
{
	uint64_t word, m;
	unsigned e, d, k;

	memcpy(&word, s + f->i, 8);
	f->buf |= le64toh(word) << f->nb;
	f->i += (63 - f->nb) >> 3;
	f->nb |= 56;
	e = w->lit.t[f->buf & (TSIZE - 1)];
	if (e & F_SPECIAL)
		return 1;
	k = ENT_BITS(e);
	f->buf >>= k;
	f->nb -= k;
	d = w->dist.t[f->buf & (TSIZE - 1)];
	m = 0 - (uint64_t)((e & F_MATCH) >> 5);
	if (d & F_SPECIAL & m)
		return 2;
	k = ENT_BITS(d) & (unsigned)m;
	f->buf >>= k;
	f->nb -= k;
	return 0;
}

static void fast_load(struct fast *f, const struct walker *k)
{
	f->buf = k->b.buf;
	f->nb = k->b.nb;
	f->i = k->b.i;
}

static void fast_store(const struct fast *f, struct walker *k)
{
	k->b.buf = f->buf;
	k->b.nb = f->nb;
	k->b.i = f->i;
}

/* After fast_symbol returned r (1 or 2) for k. */
static void walker_special(struct walker *k, int r)
{
	if (r == 1)
		walker_symbol(k);
	else if (dist_slow(&k->b, &k->w.dist) < 0)
		k->state = W_FAIL;
}

static int fast_ok(const struct walker *k)
{
	return k->state == W_SYMS && k->b.i + 8 <= k->b.n;
}

/* Symbols of one stream until its block ends or it nears its end. */
static void run1(struct walker *k)
{
	struct fast f;
	int r;

	while (fast_ok(k)) {
		fast_load(&f, k);
		do
			r = fast_symbol(&f, k->b.s, &k->w);
		while (!r && f.i + 8 <= k->b.n);
		fast_store(&f, k);
		if (r)
			walker_special(k, r);
	}
	if (k->state == W_SYMS)
		walker_symbol(k);
}

/* Symbols of two streams in step, until either needs the careful path.
 * Each symbol depends on the one before, and the loads and shifts of one
 * stream leave the CPU idle most of the time: two independent streams
 * fill it, and walk in little more time than one. */
static void run2(struct walker *a, struct walker *b)
{
	struct fast fa, fb;
	int ra = 0, rb = 0;

	fast_load(&fa, a);
	fast_load(&fb, b);
	while (fa.i + 8 <= a->b.n && fb.i + 8 <= b->b.n) {
		ra = fast_symbol(&fa, a->b.s, &a->w);
		rb = fast_symbol(&fb, b->b.s, &b->w);
		if (ra | rb)
			break;
	}
	fast_store(&fa, a);
	fast_store(&fb, b);
	if (ra)
		walker_special(a, ra);
	if (rb)
		walker_special(b, rb);
}

/* Walks one or two streams to their final blocks. */
static void walk_streams(struct walker *k, int nk)
{
	int s0, s1;

	for (;;) {
		walker_head(&k[0]);
		if (nk > 1)
			walker_head(&k[1]);
		s0 = k[0].state == W_SYMS;
		s1 = nk > 1 && k[1].state == W_SYMS;
		if (s0 && s1 && fast_ok(&k[0]) && fast_ok(&k[1]))
			run2(&k[0], &k[1]);
		else if (s0 && (!s1 || !fast_ok(&k[0])))
			run1(&k[0]);
		else if (s1)
			run1(&k[1]);
		else
			return;
	}
}

int pdeflate_walk(const uint8_t *s, size_t n, uint64_t *hdr, uint64_t *end)
{
	struct walker *k = malloc(sizeof(*k));
	int rc = -1;

	if (!k)
		return -1;
	walker_init(k, s, n);
	walk_streams(k, 1);
	if (k->state == W_DONE) {
		*hdr = k->hdr;
		*end = k->end;
		rc = 0;
	}
	free(k);
	return rc;
}

/*
 * The end of a stream of one block (BFINAL set at bit 0, so its first
 * block is its only one) without walking it, from its last bits: a block
 * ends with its end-of-block code, and libdeflate pads the last byte with
 * zeros, so the end is bit 8n - k for a k (0..7) whose last k bits are
 * zero and whose L bits before are that code, which the block's header
 * gives (L of them, the code canonical: RFC 1951 3.2.2).  The true end is
 * always such a k; when it is the only one, it is the end.  A second k
 * can match only a code of all zeros (it would have to end in as many
 * zeros as the two k differ by, and repeat with that period), such as a
 * fixed-code block's seven zero bits: several matches, or none (not
 * zero-padded), are left to the walk.  A stored block ends with its
 * data.  Returns 0 with *end, or -1: walk it.
 */
static int tail_end(const uint8_t *s, size_t n, uint64_t *end)
{
	struct bitr b = {0};
	struct huff pre;
	uint8_t lens[288 + 32];
	uint16_t count[16] = {0}, next;
	unsigned hlit, hdist, i, len, code, want, k, found = 0;
	uint64_t w, bits, at = 0;

	if (n < 8 || !(s[0] & 1))
		return -1;
	if ((s[0] >> 1 & 3) == 0) {
		len = (unsigned)s[1] | (unsigned)s[2] << 8;
		if (n != 5 + (size_t)len ||
		    len != (~((unsigned)s[3] | (unsigned)s[4] << 8) & 0xffffu))
			return -1;
		*end = (uint64_t)n * 8;
		return 0;
	}
	if ((s[0] >> 1 & 3) != 2)
		return -1;
	b.s = s;
	b.n = n;
	bitr_refill(&b);
	bitr_drop(&b, 3);
	if (read_lengths(&b, &pre, lens, &hlit, &hdist) < 0)
		return -1;
	/* Symbol 256's canonical code: the first code of its length, plus
	 * the symbols before it of that length. */
	for (i = 0; i < hlit; i++)
		count[lens[i]]++;
	count[0] = 0;
	len = lens[256];
	for (next = 0, i = 1; i <= len; i++)
		next = (uint16_t)((next + count[i - 1]) << 1);
	code = next;
	for (i = 0; i < 256; i++)
		code += lens[i] == len;
	/* Sent most significant bit first: in stream order, reversed. */
	want = reverse_bits(code, len);
	memcpy(&w, s + n - 8, 8);
	w = le64toh(w);
	for (k = 0; k < 8; k++) {
		if (k && s[n - 1] >> (8 - k))
			continue;
		bits = w >> (64 - k - len) & ((1u << len) - 1);
		if (bits == want && (uint64_t)n * 8 - k - len >= bitr_pos(&b)) {
			found++;
			at = (uint64_t)n * 8 - k;
		}
	}
	if (found != 1)
		return -1;
	*end = at;
	return 0;
}

int pdeflate_tail_end(const uint8_t *s, size_t n, uint64_t *end)
{
	return tail_end(s, n, end);
}

/* ------------------------------------------------------------------ */
/* Chunks.                                                              */

/* Bytes that len bytes take as stored blocks: five of header per block,
 * and one block even for no data. */
static size_t stored_size(size_t len)
{
	size_t blocks = len ? (len + STORED_MAX - 1) / STORED_MAX : 1;

	return len + 5 * blocks;
}

static size_t put_stored(uint8_t *out, const uint8_t *in, size_t len, int last)
{
	size_t o = 0, n;

	do {
		n = len < STORED_MAX ? len : STORED_MAX;
		out[o++] = last && n == len ? 1 : 0; /* BFINAL, BTYPE 00 */
		out[o++] = (uint8_t)n;
		out[o++] = (uint8_t)(n >> 8);
		out[o++] = (uint8_t)~n;
		out[o++] = (uint8_t)(~n >> 8);
		memcpy(out + o, in, n);
		o += n;
		in += n;
		len -= n;
	} while (len);
	return o;
}

/* A chunk to compress: its input, whether it ends the stream, and the
 * buffer it goes to, with room for stored_size(len) bytes. */
struct chunk {
	const uint8_t *in;
	size_t len;
	int last;
	uint8_t *out;
	size_t clen; /* the result's length */
};

/* Ends a deflated stream s[0..*len) that is not the last: clears its
 * final block's BFINAL bit (at bit hdr) and appends an empty stored block
 * after the end-of-block code (at bit end), so what follows starts on a
 * byte boundary and the stream goes on.  Adds at most UNFINAL_MAX bytes. */
#define UNFINAL_MAX 5
static void unfinal(uint8_t *s, size_t *len, uint64_t hdr, uint64_t end)
{
	uint64_t pad = (uint64_t)*len * 8 - end;
	size_t n = *len;

	s[hdr / 8] &= (uint8_t) ~(1u << (hdr % 8));
	if (pad)
		s[n - 1] &= (uint8_t)((1u << (8 - pad)) - 1);
	/* The stored block's three header bits go in the padding when they
	 * fit, else in one more byte. */
	if (pad < 3)
		s[n++] = 0;
	s[n++] = 0;
	s[n++] = 0;
	s[n++] = 0xff;
	s[n++] = 0xff;
	*len = n;
}

/* The levels at which a chunk is deflated in PDEFLATE_CALL-byte calls
 * (see pdeflate.h): libdeflate's fastest compressor, level 1, ends a
 * block every 64 KiB or so, so a call of that size is nearly always one
 * block, whose end tail_end finds in a few bits.  At other levels a call
 * that size is one block only about half the time, and its smaller
 * window costs more than the walk saves. */
#define CALL_LEVEL_MAX 1

/* A chunk deflated in calls, each ended as unfinal does but the stream's
 * last: its end from tail_end, else from a walk.  Deflate must save 2%
 * over the whole chunk, as in compress_chunks.  Returns 0 with c->clen
 * (0: store the chunk), or -1 when out of memory. */
static int compress_calls(struct libdeflate_compressor *comp, struct chunk *c)
{
	size_t limit = c->len - c->len / 50, off = 0, pos, n, got, room;
	struct walker *k = NULL;
	uint64_t hdr, end;
	int last;

	c->clen = 0;
	for (pos = 0; pos < c->len; pos += n) {
		n = c->len - pos < PDEFLATE_CALL ? c->len - pos : PDEFLATE_CALL;
		last = c->last && pos + n == c->len;
		room = last ? 0 : UNFINAL_MAX;
		if (off + room >= limit)
			goto store;
		got = libdeflate_deflate_compress(comp, c->in + pos, n,
						  c->out + off,
						  limit - off - room);
		if (!got)
			goto store;
		if (!last) {
			hdr = 0;
			if (tail_end(c->out + off, got, &end) < 0) {
				if (!k && !(k = malloc(sizeof(*k))))
					return -1;
				walker_init(k, c->out + off, got);
				walk_streams(k, 1);
				/* As in compress_chunks: a walk that does not
				 * end where the output does stores the chunk. */
				if (k->state != W_DONE ||
				    (k->end + 7) / 8 != got)
					goto store;
				hdr = k->hdr;
				end = k->end;
			}
			unfinal(c->out + off, &got, hdr, end);
		}
		off += got;
	}
	c->clen = off;
store:
	free(k);
	return 0;
}

/* Compresses one or two chunks; the walks of two go in step (run2).  The
 * bytes of a chunk do not depend on which other chunk, if any, it went
 * with.  Returns 0, or -1 when out of memory. */
static int compress_chunks(struct libdeflate_compressor *comp, int level,
			   struct chunk *c, int nc)
{
	struct walker *k;
	int idx[2], nk = 0, i;

	for (i = 0; i < nc; i++) {
		/* Deflate must save 2%: below that, storing costs less to
		 * write, hash and inflate, for a few bytes. */
		size_t limit = c[i].len - c[i].len / 50;

		if (level <= CALL_LEVEL_MAX) {
			if (compress_calls(comp, &c[i]) < 0)
				return -1;
			continue;
		}
		c[i].clen =
		    limit ? libdeflate_deflate_compress(comp, c[i].in, c[i].len,
							c[i].out, limit)
			  : 0;
		if (c[i].clen && !c[i].last)
			idx[nk++] = i;
	}
	if (nk) {
		k = malloc((size_t)nk * sizeof(*k));
		if (!k)
			return -1;
		for (i = 0; i < nk; i++)
			walker_init(&k[i], c[idx[i]].out, c[idx[i]].clen);
		walk_streams(k, nk);
		for (i = 0; i < nk; i++) {
			struct chunk *ch = &c[idx[i]];

			/* The walk must end where libdeflate's output ends;
			 * if ever it does not, the chunk is stored. */
			if (k[i].state == W_DONE &&
			    (k[i].end + 7) / 8 == ch->clen)
				unfinal(ch->out, &ch->clen, k[i].hdr,
					k[i].end);
			else
				ch->clen = 0;
		}
		free(k);
	}
	for (i = 0; i < nc; i++)
		if (!c[i].clen)
			c[i].clen =
			    put_stored(c[i].out, c[i].in, c[i].len, c[i].last);
	return 0;
}

size_t pdeflate_chunk(uint64_t len)
{
	size_t c = PDEFLATE_MIN;

	while (c < PDEFLATE_CHUNK && c < len / 4)
		c *= 2;
	return c;
}

uint64_t pdeflate_bound(uint64_t len)
{
	size_t chunk = pdeflate_chunk(len);
	uint64_t full = len / chunk, rem = len % chunk;

	return full * stored_size(chunk) +
	       (rem || !full ? stored_size((size_t)rem) : 0);
}

unsigned pdeflate_threads(unsigned want)
{
	const char *s = getenv("SPOKE_ZIP_THREADS");
	cpu_set_t set;
	char *end;
	long n;

	if (s && *s) {
		n = strtol(s, &end, 10);
		if (!*end && n >= 1 && n <= PDEFLATE_MAX_THREADS)
			return (unsigned)n;
	}
	if (want)
		return want > PDEFLATE_MAX_THREADS ? PDEFLATE_MAX_THREADS
						   : want;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		n = CPU_COUNT(&set);
	else
		n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	return n > PDEFLATE_MAX_THREADS ? PDEFLATE_MAX_THREADS : (unsigned)n;
}

/* ------------------------------------------------------------------ */
/* The run: threads compress chunks into slots, the caller drains them
 * in order.                                                            */

struct slot {
	uint8_t *buf;
	size_t cap, len;
	uint8_t *in; /* reading from a descriptor: the chunk's input */
	int done;    /* compressed, not yet given to the sink */
};

struct run {
	const uint8_t *in; /* the input in memory, or NULL: read from fd */
	int fd;
	uint64_t off;	  /* of the input in fd */
	const char *name; /* of fd, for messages */
	size_t len, nchunks;
	size_t chunk; /* pdeflate_chunk(len) */
	int level;
	unsigned threads;
	struct slot *slots;
	size_t nslots;
	pthread_mutex_t mu;
	pthread_cond_t work; /* a slot came free, or stop */
	pthread_cond_t done; /* a chunk is compressed, or oom */
	size_t next;	     /* next chunk to compress */
	size_t consumed;     /* chunks given to the sink */
	int stop, oom;
	/* Why the run failed: ENOMEM, an errno of pread, or EAGAIN for a
	 * file that ended before len (it changed while read).  The first
	 * failure is kept. */
	int err;
};

/* Chunk i's input: in memory, or read into its slot. */
static const uint8_t *chunk_in(const struct run *r, size_t i)
{
	if (r->fd < 0)
		return r->in + i * r->chunk;
	return r->slots[i % r->nslots].in;
}

/* Reads chunk i (n bytes) from r->fd into s->in.  Returns 0, or an
 * errno. */
static int read_chunk(const struct run *r, struct slot *s, size_t i, size_t n)
{
	size_t done = 0;
	ssize_t got;

	if (!s->in && !(s->in = malloc(r->chunk)))
		return ENOMEM;
	while (done < n) {
		got = pread(r->fd, s->in + done, n - done,
			    (off_t)(r->off + i * r->chunk + done));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return errno ? errno : EIO;
		if (got == 0)
			return EAGAIN;
		done += (size_t)got;
	}
	return 0;
}

static size_t chunk_len(const struct run *r, size_t i)
{
	size_t off = i * r->chunk;

	return r->len - off < r->chunk ? r->len - off : r->chunk;
}

/* Compresses chunks first..first+n-1 (n is 1 or 2) into their slots,
 * reading them first when the input is a descriptor.  Only the slots'
 * owner touches them.  Returns 0, or an errno (ENOMEM, a read's). */
static int fill_slots(struct run *r, struct libdeflate_compressor *comp,
		      size_t first, int n)
{
	struct chunk c[2];
	struct slot *s;
	size_t need, i;
	int j, err;

	for (j = 0; j < n; j++) {
		i = first + (size_t)j;
		s = &r->slots[i % r->nslots];
		need = stored_size(chunk_len(r, i));
		if (s->cap < need) {
			free(s->buf);
			s->buf = malloc(need);
			s->cap = s->buf ? need : 0;
			if (!s->buf)
				return ENOMEM;
		}
		if (r->fd >= 0 &&
		    (err = read_chunk(r, s, i, chunk_len(r, i))) != 0)
			return err;
		c[j].in = chunk_in(r, i);
		c[j].len = chunk_len(r, i);
		c[j].last = i == r->nchunks - 1;
		c[j].out = s->buf;
	}
	if (compress_chunks(comp, r->level, c, n) < 0)
		return ENOMEM;
	for (j = 0; j < n; j++)
		r->slots[(first + (size_t)j) % r->nslots].len = c[j].clen;
	return 0;
}

/* Whether a thread that took a chunk may take the next one too, to walk
 * the two in step: while plenty are left for the other threads, and the
 * next one's slot is free. */
static int take_two(const struct run *r)
{
	return r->nchunks - r->next >= 2 * (size_t)r->threads &&
	       r->next < r->consumed + r->nslots;
}

static void *worker_main(void *arg)
{
	struct run *r = arg;
	struct libdeflate_compressor *c;
	size_t i, j;
	int n, err;

	c = libdeflate_alloc_compressor(r->level);
	pthread_mutex_lock(&r->mu);
	if (!c) {
		r->oom = 1;
		r->err = ENOMEM;
		pthread_cond_broadcast(&r->done);
	}
	while (c && !r->stop && !r->oom && r->next < r->nchunks) {
		/* Chunk next goes into the slot of chunk next - nslots,
		 * which must have been drained first. */
		if (r->next >= r->consumed + r->nslots) {
			pthread_cond_wait(&r->work, &r->mu);
			continue;
		}
		i = r->next++;
		n = 1;
		if (take_two(r)) {
			r->next++;
			n = 2;
		}
		pthread_mutex_unlock(&r->mu);
		err = fill_slots(r, c, i, n);
		pthread_mutex_lock(&r->mu);
		for (j = 0; !err && j < (size_t)n; j++)
			r->slots[(i + j) % r->nslots].done = 1;
		if (err && !r->oom) {
			r->oom = 1;
			r->err = err;
		}
		pthread_cond_broadcast(&r->done);
	}
	pthread_mutex_unlock(&r->mu);
	libdeflate_free_compressor(c);
	return NULL;
}

/* The error of a run that failed with r->err. */
static int run_error(const struct run *r, struct sp_err *e)
{
	if (r->err == ENOMEM || !r->err)
		return sp_err_set(e, "out of memory");
	if (r->err == EAGAIN)
		return sp_err_set(e, "'%s' changed while it was read", r->name);
	errno = r->err;
	return sp_err_sys(e, "cannot read '%s'", r->name);
}

/* Everything on the calling thread, two chunks at a time in two slots. */
static int run_inline(struct run *r, pdeflate_sink sink, void *arg,
		      struct sp_err *e)
{
	struct libdeflate_compressor *c;
	struct pdeflate_piece p;
	size_t i, j;
	int n, rc = 0;

	c = libdeflate_alloc_compressor(r->level);
	if (!c)
		return sp_err_set(e, "out of memory");
	for (i = 0; i < r->nchunks && rc == 0; i += (size_t)n) {
		n = r->nchunks - i >= 2 ? 2 : 1;
		if ((r->err = fill_slots(r, c, i, n)) != 0) {
			rc = run_error(r, e);
			break;
		}
		for (j = i; j < i + (size_t)n && rc == 0; j++) {
			p.in = chunk_in(r, j);
			p.in_len = chunk_len(r, j);
			p.out = r->slots[j % r->nslots].buf;
			p.out_len = r->slots[j % r->nslots].len;
			rc = sink(arg, &p, e);
		}
	}
	libdeflate_free_compressor(c);
	return rc;
}

/* Waits for each chunk in order and gives it to the sink. */
static int drain(struct run *r, pdeflate_sink sink, void *arg, struct sp_err *e)
{
	struct pdeflate_piece p;
	struct slot *s;
	size_t k;
	int oom;

	for (k = 0; k < r->nchunks; k++) {
		s = &r->slots[k % r->nslots];
		pthread_mutex_lock(&r->mu);
		while (!s->done && !r->oom)
			pthread_cond_wait(&r->done, &r->mu);
		oom = !s->done;
		pthread_mutex_unlock(&r->mu);
		if (oom)
			return run_error(r, e);
		p.in = chunk_in(r, k);
		p.in_len = chunk_len(r, k);
		p.out = s->buf;
		p.out_len = s->len;
		if (sink(arg, &p, e) < 0)
			return -1;
		pthread_mutex_lock(&r->mu);
		s->done = 0;
		r->consumed++;
		pthread_cond_broadcast(&r->work);
		pthread_mutex_unlock(&r->mu);
	}
	return 0;
}

static int run_all(struct run *rp, int level, unsigned threads,
		   pdeflate_sink sink, void *arg, struct sp_err *e);

int pdeflate_run(const void *in, size_t len, int level, unsigned threads,
		 pdeflate_sink sink, void *arg, struct sp_err *e)
{
	struct run r = {0};

	r.in = in;
	r.fd = -1;
	r.len = len;
	return run_all(&r, level, threads, sink, arg, e);
}

int pdeflate_run_fd(int fd, uint64_t off, size_t len, const char *name,
		    int level, unsigned threads, pdeflate_sink sink, void *arg,
		    struct sp_err *e)
{
	struct run r = {0};

	r.fd = fd;
	r.off = off;
	r.name = name;
	r.len = len;
	return run_all(&r, level, threads, sink, arg, e);
}

/* The run of r (its input set), on up to threads threads. */
static int run_all(struct run *rp, int level, unsigned threads,
		   pdeflate_sink sink, void *arg, struct sp_err *e)
{
	struct run r = *rp;
	pthread_t tid[PDEFLATE_MAX_THREADS];
	unsigned started = 0, i;
	int rc;

	if (level < 1 || level > 12)
		return sp_err_set(e, "invalid compression level %d", level);
	r.level = level;
	r.chunk = pdeflate_chunk(r.len);
	r.nchunks = r.len ? (r.len - 1) / r.chunk + 1 : 1;
	if (threads < 1)
		threads = 1;
	if (threads > PDEFLATE_MAX_THREADS)
		threads = PDEFLATE_MAX_THREADS;
	if (threads > r.nchunks)
		threads = (unsigned)r.nchunks;
	/* Two slots a thread (three with the pair a thread takes at a
	 * time): one being compressed, one finished and waiting while the
	 * caller writes an earlier chunk. */
	r.threads = threads;
	r.nslots = threads == 1 ? 2 : 3 * (size_t)threads;
	r.slots = calloc(r.nslots, sizeof(*r.slots));
	if (!r.slots)
		return sp_err_set(e, "out of memory");
	if (threads == 1) {
		rc = run_inline(&r, sink, arg, e);
		goto out;
	}
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.work, NULL);
	pthread_cond_init(&r.done, NULL);
	for (i = 0; i < threads; i++) {
		if (pthread_create(&tid[i], NULL, worker_main, &r) != 0)
			break;
		started++;
	}
	if (started == 0) {
		/* No thread to be had: the same bytes, on this one. */
		rc = run_inline(&r, sink, arg, e);
	} else {
		rc = drain(&r, sink, arg, e);
		pthread_mutex_lock(&r.mu);
		r.stop = 1;
		pthread_cond_broadcast(&r.work);
		pthread_mutex_unlock(&r.mu);
		for (i = 0; i < started; i++)
			pthread_join(tid[i], NULL);
	}
	pthread_cond_destroy(&r.done);
	pthread_cond_destroy(&r.work);
	pthread_mutex_destroy(&r.mu);
out:
	for (i = 0; i < r.nslots; i++) {
		free(r.slots[i].buf);
		free(r.slots[i].in);
	}
	free(r.slots);
	return rc;
}
