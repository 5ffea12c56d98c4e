#include "worker/job.h"

#include <unistd.h>

#include "common/fault.h"
#include "common/frame.h"
#include "common/fsx.h"
#include "worker/build_wheel.h"

/* The coordinator's channel while this process is a worker, else -1. */
static int event_fd = -1;
/* The current job's client shows no progress ("progress": false). */
static int no_progress;

/* The repair's event callback (repair.h): in a forked worker, sends ev as
 * a MSG_EVENT frame to the coordinator (which journals a "patch" member:
 * "required" as soon as analysis knows); in-process, drops it.  Takes the
 * reference to ev; arg is unused, the channel is this process's. */
static void job_emit(json_t *ev, void *arg)
{
	struct sp_err e;

	(void)arg;
	/* Progress events carry "event"; the others ({"patch": ...}) are
	 * for the journal and always go. */
	if (event_fd >= 0 && ev &&
	    !(no_progress && json_object_get(ev, "event")))
		frame_send(event_fd, MSG_EVENT, ev, &e);
	json_decref(ev);
}

json_t *job_run(const json_t *job)
{
	struct sp_err e;
	json_t *result;

	sp_err_clear(&e);
	if (wheel_write(job, job_emit, NULL, &result, &e) == 0)
		return result;
	return json_pack("{s:b, s:s}", "ok", 0, "error",
			 e.msg[0] ? e.msg : "unknown error");
}

void job_serve(int fd)
{
	struct sp_err e;
	json_t *job, *result;
	uint32_t type;
	int rc;

	event_fd = fd;
	for (;;) {
		job = NULL;
		rc = frame_recv(fd, &type, &job, &e);
		if (rc == 0)
			_exit(0);
		if (rc < 0 || type != MSG_JOB) {
			json_decref(job);
			_exit(1);
		}
		/* Crash points count per job, as they did when a worker ran
		 * one job and exited: "worker:3" is the third point of every
		 * job. */
		fault_set_role("worker");
		no_progress = json_is_false(json_object_get(job, "progress"));
		fsx_stamp_epoch_set((uint64_t)json_integer_value(
		    json_object_get(job, "build")));
		result = job_run(job);
		json_decref(job);
		if (!result)
			_exit(1);
		rc = frame_send(fd, MSG_JOB_RESULT, result, &e);
		json_decref(result);
		/* The coordinator learns of a failed send from the missing
		 * frame and the exit; there is nobody else to tell. */
		if (rc < 0)
			_exit(1);
	}
}
