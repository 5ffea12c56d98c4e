#include "output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/esc.h"

void output_json_line(const char *type, json_t *obj)
{
	char *s;

	json_object_set_new(obj, "type", json_string(type));
	s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s) {
		puts(s);
		fflush(stdout);
		free(s);
	}
}

void output_artifacts(const json_t *arts, int verbose)
{
	size_t i;
	json_t *a;

	json_array_foreach(arts, i, a)
	{
		const char *o = json_string_value(json_object_get(a, "outcome"));
		const char *p =
			json_string_value(json_object_get(a, "cargo_path"));
		const char *d = json_string_value(json_object_get(a, "detail"));

		if (!o || !p)
			continue;
		if (!strcmp(o, "put_back"))
			printf("put back %s\n", esc(p));
		else if (!strcmp(o, "restored") && verbose)
			printf("restored %s\n", esc(p));
		else if (strcmp(o, "restored") != 0)
			fprintf(stderr, "spoke: %s: %s\n", esc(o), esc(d ? d : p));
	}
}
