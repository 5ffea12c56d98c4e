#include "job.h"

#include <unistd.h>

#include "common/fault.h"
#include "common/frame.h"
#include "wheel.h"

json_t *job_run(const json_t *job)
{
	struct sp_err e;
	json_t *result;

	sp_err_clear(&e);
	if (wheel_write(job, &result, &e) == 0)
		return result;
	return json_pack("{s:b, s:s}", "ok", 0, "error",
			 e.msg[0] ? e.msg : "unknown error");
}

void job_child(const json_t *job, int fd)
{
	struct sp_err e;
	json_t *result;
	int rc;

	fault_set_role("worker");
	result = job_run(job);
	if (!result)
		_exit(1);
	rc = frame_send(fd, MSG_JOB_RESULT, result, &e);
	json_decref(result);
	/* The coordinator learns of a failed send from the exit status and the
	 * missing frame; there is nobody else to tell. */
	_exit(rc < 0 ? 1 : 0);
}
