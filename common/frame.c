#include "common/frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static int write_all(int fd, const uint8_t *p, size_t n, struct sp_err *e)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == ENOTSOCK)
			w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return sp_err_sys(e, "cannot send message");
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int frame_encode(uint32_t type, const json_t *obj, uint8_t **buf, size_t *len,
		 struct sp_err *e)
{
	char *text;
	size_t n;

	text = json_dumps(obj, JSON_COMPACT);
	if (!text)
		return sp_err_set(e, "cannot encode message");
	n = strlen(text);
	if (n > FRAME_MAX) {
		free(text);
		return sp_err_set(e, "message too large (%zu bytes)", n);
	}
	*buf = malloc(FRAME_HDR + n);
	if (!*buf) {
		free(text);
		return sp_err_set(e, "out of memory");
	}
	put32(*buf, type);
	put32(*buf + 4, (uint32_t)n);
	memcpy(*buf + FRAME_HDR, text, n);
	free(text);
	*len = FRAME_HDR + n;
	return 0;
}

int frame_send(int fd, uint32_t type, const json_t *obj, struct sp_err *e)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if (frame_encode(type, obj, &buf, &len, e) < 0)
		return -1;
	/* One write for header and payload, so that a reader killed or a peer
	 * crashing never sees a header without its payload from us. */
	rc = write_all(fd, buf, len, e);
	free(buf);
	return rc;
}

void frame_reader_init(struct frame_reader *r)
{
	memset(r, 0, sizeof(*r));
}

void frame_reader_release(struct frame_reader *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

/* read(2), retried on EINTR.  A connection the peer reset (it closed with
 * bytes of ours unread, or died) has ended as one it closed does: 0, not
 * an error, so that a peer going away reads the same either way. */
static ssize_t read_more(int fd, void *buf, size_t n)
{
	ssize_t r;

	do
		r = read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno == ECONNRESET)
		return 0;
	return r;
}

long frame_reader_fill(struct frame_reader *r, int fd, struct sp_err *e)
{
	ssize_t n;

	if (r->cap - r->len < 65536) {
		size_t ncap = r->cap ? r->cap * 2 : 65536;
		uint8_t *nb;

		if (ncap > FRAME_HDR + FRAME_MAX + 65536)
			return sp_err_set(e, "peer sent too much data");
		nb = realloc(r->buf, ncap);
		if (!nb)
			return sp_err_set(e, "out of memory");
		r->buf = nb;
		r->cap = ncap;
	}
	n = read_more(fd, r->buf + r->len, r->cap - r->len);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -2;
		return sp_err_sys(e, "cannot read message");
	}
	r->len += (size_t)n;
	return (long)n;
}

/* An upper bound of the values in a JSON text, counted before jansson
 * allocates them: each value but the first is opened by '[' or '{' or
 * follows a ','.  Bytes inside strings count too, so this may overcount,
 * which matters only near the limit. */
static size_t values_bound(const uint8_t *p, size_t n)
{
	size_t i, v = 1;

	for (i = 0; i < n; i++)
		v += p[i] == ',' || p[i] == '[' || p[i] == '{';
	return v;
}

int frame_reader_next(struct frame_reader *r, uint32_t *type, json_t **obj,
		      struct sp_err *e)
{
	json_error_t jerr;
	uint32_t t, len;
	json_t *o;

	if (r->len < FRAME_HDR)
		return 0;
	t = get32(r->buf);
	len = get32(r->buf + 4);
	if (t == 0 || t >= MSG_MAX_)
		return sp_err_set(e, "bad message: unknown type %u", t);
	if (len > FRAME_MAX)
		return sp_err_set(e, "bad message: length %u exceeds %u", len,
				  FRAME_MAX);
	if (r->len < FRAME_HDR + len)
		return 0;
	if (values_bound(r->buf + FRAME_HDR, len) > FRAME_MAX_VALUES)
		return sp_err_set(e, "bad message: more than %u JSON values",
				  FRAME_MAX_VALUES);
	o = json_loadb((const char *)r->buf + FRAME_HDR, len, 0, &jerr);
	if (!o)
		return sp_err_set(e, "bad message: %s", jerr.text);
	if (!json_is_object(o)) {
		json_decref(o);
		return sp_err_set(e, "bad message: payload is not an object");
	}
	memmove(r->buf, r->buf + FRAME_HDR + len, r->len - FRAME_HDR - len);
	r->len -= FRAME_HDR + len;
	*type = t;
	*obj = o;
	return 1;
}

int frame_recv(int fd, uint32_t *type, json_t **obj, struct sp_err *e)
{
	struct frame_reader r;
	long n;
	int rc;

	/* Read exactly one frame: first the header, then the payload, so
	 * nothing after the frame is consumed. */
	frame_reader_init(&r);
	r.cap = FRAME_HDR;
	r.buf = malloc(r.cap);
	if (!r.buf)
		return sp_err_set(e, "out of memory");
	while (r.len < FRAME_HDR) {
		n = read_more(fd, r.buf + r.len, FRAME_HDR - r.len);
		if (n < 0) {
			rc = sp_err_sys(e, "cannot read message");
			goto out;
		}
		if (n == 0) {
			rc = r.len == 0 ? 0
					: sp_err_set(e, "bad message: truncated "
							"header");
			goto out;
		}
		r.len += (size_t)n;
	}
	{
		uint32_t len = get32(r.buf + 4);
		uint8_t *nb;

		if (len > FRAME_MAX) {
			rc = sp_err_set(e, "bad message: length %u exceeds %u",
					len, FRAME_MAX);
			goto out;
		}
		nb = realloc(r.buf, FRAME_HDR + len);
		if (!nb) {
			rc = sp_err_set(e, "out of memory");
			goto out;
		}
		r.buf = nb;
		r.cap = FRAME_HDR + len;
		while (r.len < r.cap) {
			n = read_more(fd, r.buf + r.len, r.cap - r.len);
			if (n < 0) {
				rc = sp_err_sys(e, "cannot read message");
				goto out;
			}
			if (n == 0) {
				rc = sp_err_set(e, "bad message: truncated "
						   "payload");
				goto out;
			}
			r.len += (size_t)n;
		}
	}
	rc = frame_reader_next(&r, type, obj, e);
	if (rc == 0)
		rc = sp_err_set(e, "bad message: incomplete");
out:
	frame_reader_release(&r);
	return rc;
}
