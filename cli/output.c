#include "cli/output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/esc.h"
#include "worker/repair/policy.h"

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

void output_nearest_miss(const json_t *report, const char *indent)
{
	char why[1024];
	const char *tag = policy_nearest_miss(
	    json_object_get(report, "older_tags"), why, sizeof(why));

	if (tag)
		printf("%snot %s: %s\n", indent, esc(tag), esc(why));
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

void output_losses(const json_t *losses, const char *state_dir)
{
	const json_t *l;
	size_t i;

	json_array_foreach(losses, i, l)
	{
		const char *state =
			json_string_value(json_object_get(l, "state"));

		fprintf(stderr, "spoke: %s %s (build %lld): %s\n",
			state && !strcmp(state, "quarantined") ? "missing, "
								 "quarantined:"
							       : "missing, lost:",
			esc(json_string_value(json_object_get(l, "cargo_path"))),
			(long long)json_integer_value(json_object_get(l, "build")),
			esc(json_string_value(json_object_get(l, "detail"))));
		fprintf(stderr, "  %s\n",
			esc(json_string_value(json_object_get(l, "todo"))));
	}
	if (json_array_size(losses))
		fprintf(stderr,
			"spoke: %zu cargo output(s) missing; each stays "
			"reported until it is back at its path, or until you "
			"acknowledge it: spoke recover%s%s%s --forget PATH "
			"(or --forget-lost for all)\n",
			json_array_size(losses),
			state_dir ? " --state-dir '" : "",
			state_dir ? esc(state_dir) : "", state_dir ? "'" : "");
}

void output_wheel(const json_t *w)
{
	printf("%s %s\n",
	       json_is_true(json_object_get(w, "reused")) ? "unchanged"
							   : "wrote",
	       esc(json_string_value(json_object_get(w, "path"))));
}

void output_wheels_summary(const json_t *wheels, const char *out_dir)
{
	const json_t *w;
	size_t i, same = 0;

	json_array_foreach(wheels, i, w)
		same += json_is_true(json_object_get(w, "reused"));
	printf("%zu wheel(s) in %s", json_array_size(wheels),
	       out_dir ? esc(out_dir) : "(none)");
	if (same)
		printf(" (%zu unchanged)", same);
	printf("\n");
}
