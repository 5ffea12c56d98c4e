/*
 * mapfile.h - a read-only mapping of a file that another process might
 * truncate while it is read.
 *
 * The worker maps the staged module once and hands the same bytes to the
 * ELF analysis, the repair and the zip writer's threads: no copy, and no
 * fresh memory to fault in (reading 150 MB into a new buffer cost more in
 * page faults than the copy itself).  The staged file is spoke's own hard
 * link (or the moved file) in its 0700 state directory, and cargo and the
 * linkers replace outputs by writing a new file and renaming it, never by
 * truncating the old inode, so the file should not shrink under us.  But
 * something else could (a `cp` over cargo's output truncates the same
 * inode), and a read past the new end of a mapped file raises SIGBUS.  So
 * that this ends in an error and not in a dead worker, a SIGBUS handler is
 * installed while the mapping lives: for an address inside it, the handler
 * maps a page of zeros over the faulting page, notes the damage and
 * returns; the read goes on with zeros, and mapfile_check() reports the
 * file as changed, so the wheel is thrown away.  Any other SIGBUS gets the
 * action from before the mapping (mapfile_close() puts it back).  mmap() is not
 * on POSIX's list of async-signal-safe functions, but it is a plain system call
 * that takes no lock in user space (systemd's sigbus.c relies on the same).
 *
 * A small file (up to MAPFILE_READ_MAX) is read instead, into a buffer
 * the process keeps for the next one.  For the thousand small modules of
 * a monorepo build the mapping cost more than the bytes: on a virtual
 * machine the munmap() alone (a TLB shoot-down on every CPU the process
 * ran on) was a tenth of a worker's time per wheel, and the SIGBUS
 * handler took two more system calls.  A read copy cannot fault, so it
 * needs no handler; a file that shrinks while it is read gives a short
 * read and the same error as a truncated mapping.
 *
 * One file may be open at a time in a process (the worker has one
 * module); mapfile_open() refuses a second.
 */
#ifndef SPOKE_COMMON_MAPFILE_H
#define SPOKE_COMMON_MAPFILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

/* Files of up to this size are read, not mapped. */
#define MAPFILE_READ_MAX (1024 * 1024)

struct mapfile {
	const uint8_t *p; /* the bytes, or NULL for an empty file */
	size_t len;
	int fd;		  /* not owned */
	const char *name; /* for messages; not owned */
	int read;	  /* p is the kept read buffer, not a mapping */
};

/* Maps (or, when small, reads) the whole regular file open on fd.
 * Returns 0, or -1 with e naming the file (not a regular file, too large,
 * mmap or read failed, the file shrank while read, another file open). */
int mapfile_open(struct mapfile *m, int fd, const char *name, struct sp_err *e);

/* 0 when every byte read so far was the file's: no read hit a truncated
 * page and the file still has its size; else -1 with e saying the file
 * changed while it was read. */
int mapfile_check(const struct mapfile *m, struct sp_err *e);

/* Unmaps (a read file's buffer is kept for the next one); safe on a
 * zeroed or closed mapfile. */
void mapfile_close(struct mapfile *m);

#endif
