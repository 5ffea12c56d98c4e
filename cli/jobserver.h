/*
 * jobserver.h - a GNU make jobserver client.
 *
 * Under `make -jN`, a recipe marked `+` inherits make's jobserver: a pipe
 * (make 4.3: "--jobserver-auth=R,W" in MAKEFLAGS) or a named fifo (make
 * 4.4: "--jobserver-auth=fifo:PATH") holding one byte per free job slot.
 * spoke's client, never the coordinator, takes bytes (tokens) for the
 * workers of its build beyond the one slot every make child has, and
 * writes every byte it took back: when the build needs fewer slots, when
 * it ends, and when the client is interrupted.
 */
#ifndef SPOKE_CLI_JOBSERVER_H
#define SPOKE_CLI_JOBSERVER_H

#include <stddef.h>

#include "common/err.h"

struct jobserver {
	int rfd;	/* non-blocking, our own open file description */
	int wfd;
	unsigned char *held; /* the token bytes we took, to give back as they were */
	size_t nheld, cap;
};

/* Looks for a jobserver in MAKEFLAGS.  Returns 1 and fills js when one is
 * usable, 0 when there is none (or make's descriptors are not open to us:
 * a recipe without '+'; a warning says so), -1 on error. */
int jobserver_open(struct jobserver *js, struct sp_err *e);

/* Takes one token if one is free now.  Returns 1 if taken, 0 if not. */
int jobserver_take(struct jobserver *js);

/* Gives n tokens back (all we hold when n exceeds that). */
void jobserver_give(struct jobserver *js, size_t n);

/* Gives everything back and closes our descriptors. */
void jobserver_close(struct jobserver *js);

#endif
