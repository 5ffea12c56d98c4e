#include "common/version.h"

#include <stdlib.h>

const char *spoke_version(void)
{
	const char *v = getenv("SPOKE_TEST_VERSION");

	return v && *v ? v : SPOKE_VERSION;
}
