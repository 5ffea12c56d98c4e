/*
 * pyo3dep.c - whether a cargo package uses PyO3.
 */
#include "cli/project/pyo3dep.h"

#include <string.h>

#include "cli/project/strutil.h"

int pkg_uses_pyo3(const json_t *pkg)
{
	const json_t *d;
	size_t i;

	json_array_foreach(json_object_get(pkg, "dependencies"), i, d)
	{
		const char *name = str_member(d, "name");

		if (name && !json_is_string(json_object_get(d, "kind")) &&
		    (strcmp(name, "pyo3") == 0 || strcmp(name, "pyo3-ffi") == 0))
			return 1;
	}
	return 0;
}
