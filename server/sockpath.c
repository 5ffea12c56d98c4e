#define _GNU_SOURCE
#include "sockpath.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/sha256.h"

static int check_dir(const char *dir, int create, struct sp_err *e)
{
	struct stat st;

	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST)
		return sp_err_sys(e, "cannot create '%s'", dir);
	if (lstat(dir, &st) < 0) {
		if (errno == ENOENT && !create)
			return 0;
		return sp_err_sys(e, "cannot stat '%s'", dir);
	}
	/* Someone else's directory, or one others can write, could hold a
	 * socket that impersonates the coordinator. */
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 0077))
		return sp_err_set(e,
				  "'%s' must be a directory of mode 0700 owned "
				  "by uid %u",
				  dir, (unsigned)geteuid());
	return 0;
}

char *sockpath_for(const char *state_dir, int create, struct sp_err *e)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char base[256], hex[65], *path = NULL;
	uint8_t md[32];
	struct sockaddr_un sun;

	if (xdg && xdg[0] == '/' && strlen(xdg) < 200)
		snprintf(base, sizeof(base), "%s/spoke", xdg);
	else
		snprintf(base, sizeof(base), "/tmp/spoke-%u",
			 (unsigned)geteuid());
	if (check_dir(base, create, e) < 0)
		return NULL;
	sha256_buf(state_dir, strlen(state_dir), md);
	hex_encode(md, 12, hex);
	if (asprintf(&path, "%s/%s.sock", base, hex) < 0) {
		sp_err_set(e, "out of memory");
		return NULL;
	}
	if (strlen(path) >= sizeof(sun.sun_path)) {
		sp_err_set(e, "socket path '%s' is too long", path);
		free(path);
		return NULL;
	}
	return path;
}
