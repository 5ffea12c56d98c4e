/*
 * Unit tests of common/frame: framed JSON messages over a real socketpair,
 * both the blocking frame_recv and the incremental frame_reader, and every
 * way a peer can send a bad frame.
 */
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/frame.h"

struct pair {
	int fd[2];
};

static int setup_pair(void **state)
{
	struct pair *p = malloc(sizeof(*p));

	if (!p || socketpair(AF_UNIX, SOCK_STREAM, 0, p->fd) < 0) {
		free(p);
		return -1;
	}
	*state = p;
	return 0;
}

static int teardown_pair(void **state)
{
	struct pair *p = *state;

	if (p->fd[0] >= 0)
		close(p->fd[0]);
	if (p->fd[1] >= 0)
		close(p->fd[1]);
	free(p);
	return 0;
}

static void put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

/* Writes a hand-made frame: header with the given type and length, then
 * payload bytes (which may be fewer than len, for truncation tests). */
static void send_raw(int fd, uint32_t type, uint32_t len, const char *payload)
{
	uint8_t hdr[FRAME_HDR];
	size_t n = payload ? strlen(payload) : 0;

	put32(hdr, type);
	put32(hdr + 4, len);
	assert_int_equal(write(fd, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	if (n)
		assert_int_equal(write(fd, payload, n), (ssize_t)n);
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	assert_true(fl >= 0);
	assert_int_equal(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
}

/* --- frame_send / frame_recv --- */

static void test_send_recv_round_trip(void **state)
{
	struct pair *p = *state;
	json_t *msg = json_pack("{s:s,s:i,s:[s,s]}", "cmd", "build", "n", 42,
				"paths", "/t/a.so", "/t/ünï.so");
	json_t *empty = json_object(), *got = NULL, *second = NULL;
	struct sp_err e;
	uint32_t type = 0;

	assert_non_null(msg);
	assert_int_equal(frame_send(p->fd[0], MSG_BUILD, msg, &e), 0);
	/* A second frame right behind: frame_recv must take exactly one. */
	assert_int_equal(frame_send(p->fd[0], MSG_STOP, empty, &e), 0);
	json_decref(empty);
	assert_int_equal(frame_recv(p->fd[1], &type, &got, &e), 1);
	assert_int_equal(type, MSG_BUILD);
	assert_true(json_equal(msg, got));
	assert_int_equal(frame_recv(p->fd[1], &type, &second, &e), 1);
	assert_int_equal(type, MSG_STOP);
	assert_int_equal(json_object_size(second), 0);
	json_decref(msg);
	json_decref(got);
	json_decref(second);
}

static void test_send_header_is_little_endian(void **state)
{
	struct pair *p = *state;
	json_t *msg = json_pack("{s:b}", "x", 1);
	uint8_t buf[64];
	struct sp_err e;
	ssize_t n;

	assert_int_equal(frame_send(p->fd[0], MSG_JOB_RESULT, msg, &e), 0);
	n = read(p->fd[1], buf, sizeof(buf));
	assert_int_equal(n, FRAME_HDR + strlen("{\"x\":true}"));
	assert_memory_equal(buf, "\x07\0\0\0\x0a\0\0\0", FRAME_HDR);
	assert_memory_equal(buf + FRAME_HDR, "{\"x\":true}", 10);
	json_decref(msg);
}

static void test_recv_clean_eof(void **state)
{
	struct pair *p = *state;
	json_t *got = NULL;
	struct sp_err e;
	uint32_t type;

	assert_int_equal(shutdown(p->fd[0], SHUT_WR), 0);
	assert_int_equal(frame_recv(p->fd[1], &type, &got, &e), 0);
	assert_null(got);
}

/* A peer that closes with bytes of ours unread resets the connection
 * (ECONNRESET): it has gone, as with a clean close, and the reader says
 * so the same way, for the blocking and the incremental reader. */
static void test_recv_reset_is_eof(void **state)
{
	struct pair *p = *state;
	struct frame_reader r;
	json_t *got = NULL;
	struct sp_err e;
	uint32_t type;
	int fd[2];

	assert_int_equal(write(p->fd[1], "x", 1), 1);
	assert_int_equal(close(p->fd[0]), 0);
	p->fd[0] = -1;
	assert_int_equal(frame_recv(p->fd[1], &type, &got, &e), 0);
	assert_null(got);

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fd), 0);
	assert_int_equal(write(fd[1], "x", 1), 1);
	assert_int_equal(close(fd[0]), 0);
	frame_reader_init(&r);
	assert_int_equal(frame_reader_fill(&r, fd[1], &e), 0);
	frame_reader_release(&r);
	close(fd[1]);
}

static void test_recv_truncated_header(void **state)
{
	struct pair *p = *state;
	json_t *got = NULL;
	struct sp_err e;
	uint32_t type;

	assert_int_equal(write(p->fd[0], "\x01\0\0", 3), 3);
	assert_int_equal(shutdown(p->fd[0], SHUT_WR), 0);
	assert_int_equal(frame_recv(p->fd[1], &type, &got, &e), -1);
	assert_non_null(strstr(e.msg, "truncated"));
	assert_null(got);
}

static void test_recv_truncated_payload(void **state)
{
	struct pair *p = *state;
	json_t *got = NULL;
	struct sp_err e;
	uint32_t type;

	send_raw(p->fd[0], MSG_EVENT, 20, "{\"a\":");
	assert_int_equal(shutdown(p->fd[0], SHUT_WR), 0);
	assert_int_equal(frame_recv(p->fd[1], &type, &got, &e), -1);
	assert_non_null(strstr(e.msg, "truncated"));
	assert_null(got);
}

static void test_recv_oversized_length(void **state)
{
	struct pair *p = *state;
	json_t *got = NULL;
	struct sp_err e;
	uint32_t type;

	send_raw(p->fd[0], MSG_EVENT, FRAME_MAX + 1, NULL);
	assert_int_equal(frame_recv(p->fd[1], &type, &got, &e), -1);
	assert_non_null(strstr(e.msg, "exceeds"));
	assert_null(got);
}

static void test_recv_rejects_unknown_type(void **state)
{
	struct pair *p = *state;
	json_t *got = NULL;
	struct sp_err e;
	uint32_t type;

	send_raw(p->fd[0], MSG_MAX_, 2, "{}");
	assert_int_equal(frame_recv(p->fd[1], &type, &got, &e), -1);
	assert_non_null(strstr(e.msg, "unknown type"));
	assert_null(got);
}

/* --- frame_reader --- */

/* A frame arriving a few bytes at a time: no frame until the last byte,
 * then exactly one, and the reader is empty again. */
static void test_reader_frame_split_across_fills(void **state)
{
	struct pair *p = *state;
	json_t *msg = json_pack("{s:s}", "event", "staged"), *got = NULL;
	char *text = json_dumps(msg, JSON_COMPACT);
	uint8_t frame[128];
	size_t len = strlen(text), off = 0, total = FRAME_HDR + len;
	static const size_t cuts[] = {3, 5, 4, 1};
	struct frame_reader r;
	struct sp_err e;
	uint32_t type = 0;
	size_t i = 0;

	assert_true(total <= sizeof(frame));
	put32(frame, MSG_EVENT);
	put32(frame + 4, (uint32_t)len);
	memcpy(frame + FRAME_HDR, text, len);
	set_nonblock(p->fd[1]);
	frame_reader_init(&r);
	/* Nothing written yet: EAGAIN is -2, not an error. */
	assert_int_equal(frame_reader_fill(&r, p->fd[1], &e), -2);
	while (off < total) {
		size_t n = i < 4 ? cuts[i++] : total - off;

		if (n > total - off)
			n = total - off;
		assert_int_equal(frame_reader_next(&r, &type, &got, &e), 0);
		assert_int_equal(write(p->fd[0], frame + off, n), (ssize_t)n);
		off += n;
		assert_int_equal(frame_reader_fill(&r, p->fd[1], &e), (long)n);
	}
	assert_int_equal(frame_reader_next(&r, &type, &got, &e), 1);
	assert_int_equal(type, MSG_EVENT);
	assert_true(json_equal(msg, got));
	assert_int_equal(r.len, 0);
	assert_int_equal(frame_reader_next(&r, &type, &got, &e), 0);
	/* The peer closes: fill reports end of file. */
	close(p->fd[0]);
	p->fd[0] = -1;
	assert_int_equal(frame_reader_fill(&r, p->fd[1], &e), 0);
	frame_reader_release(&r);
	json_decref(got);
	json_decref(msg);
	free(text);
}

static void test_reader_two_frames_in_one_fill(void **state)
{
	struct pair *p = *state;
	json_t *a = json_pack("{s:i}", "a", 1), *b = json_pack("{s:i}", "b", 2);
	json_t *got = NULL;
	struct frame_reader r;
	struct sp_err e;
	uint32_t type = 0;

	assert_int_equal(frame_send(p->fd[0], MSG_STATUS, a, &e), 0);
	assert_int_equal(frame_send(p->fd[0], MSG_RESULT, b, &e), 0);
	frame_reader_init(&r);
	assert_true(frame_reader_fill(&r, p->fd[1], &e) > 0);
	assert_int_equal(frame_reader_next(&r, &type, &got, &e), 1);
	assert_int_equal(type, MSG_STATUS);
	assert_true(json_equal(a, got));
	json_decref(got);
	assert_int_equal(frame_reader_next(&r, &type, &got, &e), 1);
	assert_int_equal(type, MSG_RESULT);
	assert_true(json_equal(b, got));
	json_decref(got);
	assert_int_equal(frame_reader_next(&r, &type, &got, &e), 0);
	frame_reader_release(&r);
	json_decref(a);
	json_decref(b);
}

/* Feeds one raw frame to a fresh reader and expects it to be refused with
 * a message containing want. */
static void expect_reader_rejects(struct pair *p, uint32_t type, uint32_t len,
				  const char *payload, const char *want)
{
	struct frame_reader r;
	json_t *got = NULL;
	struct sp_err e;
	uint32_t t = 0;

	send_raw(p->fd[0], type, len, payload);
	frame_reader_init(&r);
	assert_true(frame_reader_fill(&r, p->fd[1], &e) > 0);
	sp_err_clear(&e);
	assert_int_equal(frame_reader_next(&r, &t, &got, &e), -1);
	assert_null(got);
	if (!strstr(e.msg, want))
		fail_msg("error '%s' does not mention '%s'", e.msg, want);
	frame_reader_release(&r);
}

static void test_reader_oversized_length(void **state)
{
	/* Refused from the header alone, before any payload arrives. */
	expect_reader_rejects(*state, MSG_EVENT, FRAME_MAX + 1, NULL,
			      "exceeds");
}

static void test_reader_type_zero(void **state)
{
	expect_reader_rejects(*state, 0, 2, "{}", "unknown type");
}

static void test_reader_type_max(void **state)
{
	expect_reader_rejects(*state, MSG_MAX_, 2, "{}", "unknown type");
}

static void test_reader_type_huge(void **state)
{
	expect_reader_rejects(*state, 0xffffffffu, 2, "{}", "unknown type");
}

static void test_reader_payload_not_json(void **state)
{
	expect_reader_rejects(*state, MSG_EVENT, 9, "not json!", "bad message");
}

static void test_reader_payload_array(void **state)
{
	expect_reader_rejects(*state, MSG_EVENT, 7, "[1,2,3]", "not an object");
}

static void test_reader_payload_scalar(void **state)
{
	expect_reader_rejects(*state, MSG_EVENT, 6, "\"text\"", "bad message");
}

/* A payload {"a":[{},{},...]} of n empty objects, read by frame_recv()
 * from a file (it is larger than a socket buffer).  Returns its result. */
static int recv_many_values(size_t n, struct sp_err *e)
{
	size_t len = 6 + 3 * n + 1, i;
	uint8_t *buf = malloc(FRAME_HDR + len), *p;
	json_t *got = NULL;
	uint32_t t;
	int rc;
	FILE *f = tmpfile();

	assert_non_null(buf);
	assert_non_null(f);
	put32(buf, MSG_EVENT);
	put32(buf + 4, (uint32_t)len);
	p = buf + FRAME_HDR;
	memcpy(p, "{\"a\":[", 6);
	p += 6;
	for (i = 0; i < n; i++, p += 3)
		memcpy(p, "{},", 3);
	memcpy(p - 1, "]}", 2);
	assert_int_equal(fwrite(buf, 1, FRAME_HDR + len, f), FRAME_HDR + len);
	assert_int_equal(fflush(f), 0);
	assert_int_equal(lseek(fileno(f), 0, SEEK_SET), 0);
	rc = frame_recv(fileno(f), &t, &got, e);
	if (rc == 1)
		assert_int_equal(json_array_size(json_object_get(got, "a")), n);
	json_decref(got);
	fclose(f);
	free(buf);
	return rc;
}

/* A frame of millions of tiny values is refused before jansson builds it
 * (it would take gigabytes); a large ordinary one is read. */
static void test_recv_too_many_values(void **state)
{
	struct sp_err e;

	(void)state;
	sp_err_clear(&e);
	assert_int_equal(recv_many_values(FRAME_MAX_VALUES, &e), -1);
	if (!strstr(e.msg, "JSON values"))
		fail_msg("error '%s' does not mention the values", e.msg);
	assert_int_equal(recv_many_values(100000, &e), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup_pair, teardown_pair)
		T(test_send_recv_round_trip),
		T(test_send_header_is_little_endian),
		T(test_recv_clean_eof),
		T(test_recv_reset_is_eof),
		T(test_recv_too_many_values),
		T(test_recv_truncated_header),
		T(test_recv_truncated_payload),
		T(test_recv_oversized_length),
		T(test_recv_rejects_unknown_type),
		T(test_reader_frame_split_across_fills),
		T(test_reader_two_frames_in_one_fill),
		T(test_reader_oversized_length),
		T(test_reader_type_zero),
		T(test_reader_type_max),
		T(test_reader_type_huge),
		T(test_reader_payload_not_json),
		T(test_reader_payload_array),
		T(test_reader_payload_scalar),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
