/*
 * proc.h - running a child program (python, cargo) from cli/: fork/execvp
 * with close-on-exec pipes, no shell.
 */
#ifndef SPOKE_CLI_PROJECT_PROC_H
#define SPOKE_CLI_PROJECT_PROC_H

#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"

#define PROC_PIPE_STDOUT 0x1 /* read the child's stdout through out_fd */
#define PROC_PIPE_STDERR 0x2 /* read the child's stderr through err_fd */
/* The child leads a process group of its own (its pid), so that all it
 * starts can be stopped together (kill(-pid, sig)), and is sent SIGKILL
 * if spoke dies first: a signal sent to spoke's group no longer reaches
 * it, so spoke must pass such signals on (earlycargo.h does). */
#define PROC_OWN_GROUP 0x4

/* A running child.  Streams not piped are inherited from spoke; stdin is
 * always /dev/null. */
struct proc {
	pid_t pid; /* -1 once reaped */
	int out_fd;
	int err_fd;
};

/*
 * Starts argv[0] (searched on PATH when it has no '/') with argv, in spoke's
 * environment plus env ("NAME=VALUE" strings, NULL-terminated, replacing
 * variables of the same name; env may be NULL).  Returns 0,
 * or -1 with e filled and errno set to the reason; ENOENT means the program
 * was not found, which exec failures in the child report back to here
 * through a close-on-exec pipe.  Every descriptor spoke holds stays closed
 * in the child, whatever its flags, except the three standard ones.
 */
int proc_spawn(struct proc *p, const char *const *argv, const char *const *env,
	       unsigned flags, struct sp_err *e);

/*
 * Reads the child's piped streams to end of file, into NUL-terminated
 * malloc'd buffers (*out / *err, each may be NULL when that stream is not
 * wanted or not piped; an unwanted piped stream is drained and dropped).
 * Reading both at once (poll) keeps a chatty stderr from blocking stdout.
 * Closes the descriptors it read.  Returns 0 or -1.
 */
int proc_collect(struct proc *p, char **out, size_t *outlen, char **err,
		 size_t *errlen, struct sp_err *e);

/*
 * Waits for the child (retrying on EINTR) and closes what is left of its
 * pipes.  *code gets its exit status, or 128 + the signal that killed it.
 * Returns 0, or -1 if waitpid fails.
 */
int proc_wait(struct proc *p, int *code, struct sp_err *e);

/* Error-path cleanup: closes the pipes, and if the child was not yet
 * reaped, sends it SIGTERM and reaps it.  Safe to call twice. */
void proc_release(struct proc *p);

#endif
