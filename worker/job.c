#include "worker/job.h"

#include <unistd.h>

#include "common/fault.h"
#include "common/frame.h"
#include "common/stamp.h"
#include "worker/build_wheel.h"

/* The coordinator's channel while this process is a worker, else -1. */
static int event_fd = -1;

/* The job the repair's events belong to, for job_emit. */
struct emit_ctx {
	const struct wheel_job *job;
};

/* The repair's event callback (repair.h): in a forked worker, sends ev as
 * a MSG_EVENT frame to the coordinator (which journals a "patch" member:
 * "required" as soon as analysis knows), with the job's id; in-process,
 * drops it.  Takes the reference to ev. */
static void job_emit(json_t *ev, void *arg)
{
	const struct emit_ctx *c = arg;
	json_int_t id = (json_int_t)fault_job_id(c->job->id);
	struct sp_err e;

	/* Progress events carry "event"; the others ({"patch": ...}) are
	 * for the journal and always go. */
	if (event_fd >= 0 && ev &&
	    (c->job->progress || !json_object_get(ev, "event")) &&
	    json_object_set_new(ev, "job", json_integer(id)) == 0)
		frame_send(event_fd, MSG_EVENT, ev, &e);
	json_decref(ev);
}

json_t *job_run(const struct wheel_job *j)
{
	struct emit_ctx c = {j};
	struct sp_err e;
	json_t *result;
	json_int_t id;

	sp_err_clear(&e);
	if (wheel_write(j, job_emit, &c, &result, &e) < 0)
		result = json_pack("{s:b, s:s}", "ok", 0, "error",
				   e.msg[0] ? e.msg : "unknown error");
	id = (json_int_t)fault_job_id(j->id);
	if (result &&
	    json_object_set_new(result, "job", json_integer(id)) < 0) {
		json_decref(result);
		result = NULL;
	}
	return result;
}

void job_serve(int fd)
{
	struct wheel_job j;
	struct sp_err e;
	json_t *msg, *result;
	uint32_t type;
	int rc;

	event_fd = fd;
	for (;;) {
		msg = NULL;
		rc = frame_recv(fd, &type, &msg, &e);
		if (rc == 0)
			_exit(0);
		if (rc < 0 || type != MSG_JOB) {
			json_decref(msg);
			_exit(1);
		}
		/* Crash points count per job, as they did when a worker ran
		 * one job and exited: "worker:3" is the third point of every
		 * job. */
		fault_set_role("worker");
		/* Parsed once, here: nothing after this reads the JSON.  A
		 * job that does not parse is answered like one that fails,
		 * under the id it named, if any. */
		if (job_parse(msg, &j, &e) < 0) {
			result = json_pack(
				"{s:b,s:s,s:I}", "ok", 0, "error", e.msg, "job",
				json_integer_value(json_object_get(msg, "id")));
		} else {
			stamp_epoch_set((uint64_t)j.build);
			result = job_run(&j);
			wheel_job_release(&j);
		}
		json_decref(msg);
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
