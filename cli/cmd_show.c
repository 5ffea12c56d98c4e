/*
 * cmd_show.c - spoke show: what is in a wheel, and whether it holds.
 *
 * Runs in-process on any wheel, whoever wrote it: no coordinator, no
 * journal.  worker/wheel/wheel_read.h does the checking; this file prints.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/opts.h"
#include "cli/output.h"
#include "common/esc.h"
#include "worker/wheel/wheel_read.h"

static const char show_help[] =
	"usage: spoke show [options] WHEEL...\n"
	"\n"
	"Reads each wheel and checks it: the zip structure (end records,\n"
	"central directory against local headers, no overlapping entries, no\n"
	"duplicate, absolute, '..' or backslash names, UTF-8 names), every\n"
	"entry's data and CRC, the RECORD (a line per file with its sha256 and\n"
	"size), the .dist-info name and the WHEEL file's tags against the file\n"
	"name.  Prints the tags, the architecture of the wheel's ELF objects\n"
	"(of any Linux architecture; all must have the file name's one), the\n"
	"entries with their sizes, and for every shared object its\n"
	"architecture, DT_NEEDED, RPATH, RUNPATH and the highest GLIBC,\n"
	"GLIBCXX, CXXABI and GCC symbol versions it requires; then 'valid', or\n"
	"every problem found.  Nothing is extracted or written.\n"
	"\n"
	"options:\n"
	"  --max-size SIZE   stop after decompressing SIZE bytes of one wheel\n"
	"                    (K, M, G suffixes; default 8G): a zip bomb costs\n"
	"                    no more than that\n"
	"  --json            one JSON object per wheel, one per line:\n"
	"                    {\"type\": \"result\", \"command\": \"show\",\n"
	"                     \"ok\": valid?, \"path\", \"size\", \"distribution\",\n"
	"                     \"version\", \"build\", \"tags\": {\"python\", \"abi\",\n"
	"                     \"platform\"}, \"arch\",\n"
	"                     \"wheel\": {\"wheel_version\",\n"
	"                     \"root_is_purelib\", \"tags\"}, \"zip64\",\n"
	"                     \"entries\": [{\"name\", \"method\", \"compressed\",\n"
	"                     \"size\"}], \"shared_objects\": [{\"name\",\n"
	"                     \"arch\", \"class\": 32|64,\n"
	"                     \"byte_order\": \"little\"|\"big\",\n"
	"                     \"needed\", \"rpath\", \"runpath\", \"soname\",\n"
	"                     \"symbol_versions\": {\"GLIBC\": \"2.17\", ...},\n"
	"                     \"error\"}], \"problems\": [{\"entry\", \"reason\"}]}\n"
	"                    and, when the file cannot be read, \"error\"\n"
	"  -q, --quiet       print only problems\n"
	"\n"
	"exit status: 0 every wheel is valid; 1 a wheel is invalid or cannot\n"
	"be read; 2 usage error.\n";

/* Parses "123", "64K", "8G" (powers of 1024). */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	default:
		return -1;
	}
	if (*end && end[1])
		return -1;
	if (v == 0 || v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

struct ns {
	const char *prefix;
	const struct symver *v;
};

/* The namespaces of symvers.h in the order they are printed. */
static size_t namespaces(const struct symvers *s, struct ns out[4])
{
	const struct ns all[4] = {
		{"GLIBC", &s->glibc},
		{"GLIBCXX", &s->glibcxx},
		{"CXXABI", &s->cxxabi},
		{"GCC", &s->gcc},
	};
	size_t i, n = 0;

	for (i = 0; i < 4; i++)
		if (all[i].v->present)
			out[n++] = all[i];
	return n;
}

static const char *method_name(uint16_t m)
{
	return m == 0 ? "stored" : m == 8 ? "deflate" : "other";
}

/* The object's architecture, or its machine number when spoke has no
 * name for it. */
static const char *arch_name(const struct wheel_so *so, char *buf, size_t len)
{
	if (so->ident.arch)
		return so->ident.arch;
	snprintf(buf, len, "ELF machine %u", (unsigned)so->ident.machine);
	return buf;
}

static void print_so(const struct wheel_so *so)
{
	struct ns ns[4];
	char ver[64];
	size_t i, n;

	printf("    %s\n", esc(so->entry));
	if (so->ident_ok)
		printf("      arch: %s (%s, %s-endian)\n",
		       arch_name(so, ver, sizeof(ver)),
		       so->ident.elfclass == ELFCLASS64 ? "64-bit" : "32-bit",
		       so->ident.data == ELFDATA2MSB ? "big" : "little");
	if (so->elf_ok) {
		printf("      needed: ");
		if (!so->elf.nneeded)
			printf("(none)");
		for (i = 0; i < so->elf.nneeded; i++)
			printf("%s%s", i ? ", " : "", esc(so->elf.needed[i]));
		printf("\n      rpath: %s\n      runpath: %s\n",
		       so->elf.rpath ? esc(so->elf.rpath) : "(none)",
		       so->elf.runpath ? esc(so->elf.runpath) : "(none)");
	}
	if (so->vers_ok) {
		n = namespaces(&so->vers, ns);
		printf("      requires:");
		if (!n)
			printf(" no versioned symbols");
		for (i = 0; i < n; i++) {
			symver_format(ns[i].v, ver, sizeof(ver));
			printf(" %s_%s", ns[i].prefix, ver);
		}
		printf("\n");
	}
	if (so->error)
		printf("      cannot inspect: %s\n", esc(so->error));
}

static void print_people(const struct wheel_report *r, int quiet)
{
	const struct zip_entry *ent;
	const struct wheel_problem *p;
	size_t i;

	if (quiet) {
		for (i = 0; i < r->nproblems; i++) {
			p = &r->problems[i];
			if (p->entry)
				printf("%s: '%s': %s\n", esc(r->path),
				       esc(p->entry), esc(p->reason));
			else
				printf("%s: %s\n", esc(r->path),
				       esc(p->reason));
		}
		return;
	}
	printf("%s\n", esc(r->path));
	if (r->dist)
		printf("  distribution %s, version %s%s%s\n", esc(r->dist),
		       esc(r->version), r->build ? ", build " : "",
		       r->build ? esc(r->build) : "");
	if (r->py)
		printf("  tags: %s-%s-%s\n", esc(r->py), esc(r->abi),
		       esc(r->plat));
	if (r->arch)
		printf("  architecture: %s\n", r->arch);
	if (r->wheel_version)
		printf("  Wheel-Version %s, Root-Is-Purelib %s\n",
		       esc(r->wheel_version),
		       r->root_is_purelib < 0	 ? "(missing)"
		       : r->root_is_purelib ? "true"
					    : "false");
	printf("  %zu entries, %llu bytes%s\n", r->nents,
	       (unsigned long long)r->size, r->zip64 ? ", zip64" : "");
	if (r->nents)
		printf("  %12s %12s  %s\n", "compressed", "size", "name");
	for (i = 0; i < r->nents; i++) {
		ent = &r->ents[i];
		printf("  %12llu %12llu  %s\n", (unsigned long long)ent->csize,
		       (unsigned long long)ent->usize, esc(ent->name));
	}
	if (r->nsos)
		printf("  shared objects:\n");
	for (i = 0; i < r->nsos; i++)
		print_so(&r->sos[i]);
	if (!r->nproblems) {
		printf("  valid\n");
		return;
	}
	printf("  invalid: %zu problem%s\n", r->nproblems,
	       r->nproblems == 1 ? "" : "s");
	for (i = 0; i < r->nproblems; i++) {
		p = &r->problems[i];
		if (p->entry)
			printf("    '%s': %s\n", esc(p->entry),
			       esc(p->reason));
		else
			printf("    %s\n", esc(p->reason));
	}
}

/* The length of the valid UTF-8 sequence at s (of len bytes), or 0. */
static size_t utf8_seq(const char *s, size_t len)
{
	unsigned char c = (unsigned char)s[0];
	size_t n = c < 0x80			? 1
		   : c >= 0xc2 && c <= 0xdf	? 2
		   : c >= 0xe0 && c <= 0xef	? 3
		   : c >= 0xf0 && c <= 0xf4	? 4
						: 0;
	json_t *one;

	if (n <= 1)
		return n;
	/* jansson knows the finer rules (overlong forms, surrogates). */
	one = n <= len ? json_stringn(s, n) : NULL;
	json_decref(one);
	return one ? n : 0;
}

/* A JSON string of text read from a wheel (a name, a tag, a reason that
 * quotes RECORD), or JSON null for NULL.  That text need not be UTF-8, and
 * jansson refuses what is not: json_string() gives NULL, which dropped the
 * entry or the problem from the report (or the whole report, inside
 * json_pack).  Each byte that starts no valid sequence becomes U+FFFD. */
static json_t *jstr(const char *s)
{
	json_t *j;
	char *buf, *o;
	size_t i, n, len;

	if (!s)
		return json_null();
	j = json_string(s);
	if (j)
		return j;
	len = strlen(s);
	buf = malloc(3 * len + 1);
	if (!buf)
		return NULL;
	for (i = 0, o = buf; i < len; i += n) {
		n = utf8_seq(s + i, len - i);
		if (n) {
			memcpy(o, s + i, n);
			o += n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			n = 1;
		}
	}
	*o = '\0';
	j = json_string(buf);
	free(buf);
	return j;
}

static json_t *so_json(const struct wheel_so *so)
{
	json_t *o, *needed, *vers;
	struct ns ns[4];
	char ver[64];
	size_t i, n;

	needed = json_array();
	vers = json_object();
	for (i = 0; so->elf_ok && i < so->elf.nneeded; i++)
		json_array_append_new(needed, jstr(so->elf.needed[i]));
	if (so->vers_ok) {
		n = namespaces(&so->vers, ns);
		for (i = 0; i < n; i++) {
			symver_format(ns[i].v, ver, sizeof(ver));
			json_object_set_new(vers, ns[i].prefix,
					    json_string(ver));
		}
	}
	o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "name",
		      jstr(so->entry), "needed", needed, "soname",
		      jstr(so->elf_ok ? so->elf.soname : NULL), "rpath",
		      jstr(so->elf_ok ? so->elf.rpath : NULL), "runpath",
		      jstr(so->elf_ok ? so->elf.runpath : NULL),
		      "symbol_versions", vers, "error", jstr(so->error));
	if (o && so->ident_ok) {
		json_object_set_new(o, "arch",
				    jstr(arch_name(so, ver, sizeof(ver))));
		json_object_set_new(
		    o, "class",
		    json_integer(so->ident.elfclass == ELFCLASS64 ? 64 : 32));
		json_object_set_new(o, "byte_order",
				    json_string(so->ident.data == ELFDATA2MSB
						    ? "big"
						    : "little"));
	} else if (o) {
		json_object_set_new(o, "arch", json_null());
	}
	return o;
}

static json_t *report_json(const struct wheel_report *r)
{
	json_t *o, *ents, *sos, *probs, *tags, *wtags;
	const struct zip_entry *ent;
	size_t i;

	ents = json_array();
	sos = json_array();
	probs = json_array();
	wtags = json_array();
	for (i = 0; i < r->nents; i++) {
		ent = &r->ents[i];
		json_array_append_new(
		    ents, json_pack("{s:o, s:s, s:I, s:I}", "name", jstr(ent->name),
				    "method", method_name(ent->method),
				    "compressed", (json_int_t)ent->csize,
				    "size", (json_int_t)ent->usize));
	}
	for (i = 0; i < r->nsos; i++)
		json_array_append_new(sos, so_json(&r->sos[i]));
	for (i = 0; i < r->nproblems; i++)
		json_array_append_new(
		    probs, json_pack("{s:o, s:o}", "entry",
				     jstr(r->problems[i].entry), "reason",
				     jstr(r->problems[i].reason)));
	for (i = 0; i < r->ntags; i++)
		json_array_append_new(wtags, jstr(r->tags[i]));
	tags = r->py ? json_pack("{s:o, s:o, s:o}", "python", jstr(r->py),
				 "abi", jstr(r->abi), "platform", jstr(r->plat))
		     : json_null();
	o = json_pack(
	    "{s:s, s:b, s:o, s:I, s:o, s:o, s:o, s:o, s:{s:o, s:o, s:o}, "
	    "s:b, s:o, s:o, s:o}",
	    "command", "show", "ok", r->nproblems == 0, "path", jstr(r->path),
	    "size", (json_int_t)r->size, "distribution", jstr(r->dist),
	    "version", jstr(r->version), "build", jstr(r->build), "tags", tags,
	    "wheel", "wheel_version", jstr(r->wheel_version),
	    "root_is_purelib",
	    r->root_is_purelib < 0 ? json_null()
				   : json_boolean(r->root_is_purelib),
	    "tags", wtags, "zip64", r->zip64, "entries", ents,
	    "shared_objects", sos, "problems", probs);
	if (o)
		json_object_set_new(o, "arch", jstr(r->arch));
	return o;
}

/* Shows one wheel.  Returns 0 when it is valid, else 1. */
static int show_one(const char *path, uint64_t max_bytes, int json, int quiet)
{
	struct wheel_report r;
	struct sp_err e;
	json_t *o;
	int rc;

	sp_err_clear(&e);
	if (wheel_read(path, max_bytes, &r, &e) < 0) {
		if (json) {
			o = json_pack("{s:s, s:b, s:s, s:s}", "command", "show",
				      "ok", 0, "path", path, "error", e.msg);
			if (o)
				output_json_line("result", o);
			json_decref(o);
		}
		sp_err_print(&e);
		wheel_report_release(&r);
		return 1;
	}
	rc = r.nproblems ? 1 : 0;
	if (json) {
		o = report_json(&r);
		if (o) {
			output_json_line("result", o);
		} else {
			fprintf(stderr, "spoke: out of memory\n");
			rc = 1;
		}
		json_decref(o);
	} else {
		print_people(&r, quiet);
		fflush(stdout);
	}
	wheel_report_release(&r);
	return rc;
}

int cmd_show(int argc, char **argv)
{
	enum { OPT_JSON = 256, OPT_MAX };
	static const struct option longopts[] = {
		{"json", no_argument, NULL, OPT_JSON},
		{"max-size", required_argument, NULL, OPT_MAX},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint64_t max_bytes = WHEEL_READ_MAX_DEFAULT;
	int c, json = 0, quiet = 0, rc = 0;

	optind = 1;
	while ((c = opts_next(argc, argv, "qh", longopts)) != -1) {
		switch (c) {
		case OPT_JSON:
			json = 1;
			break;
		case OPT_MAX:
			if (parse_size(optarg, &max_bytes) < 0) {
				fprintf(stderr, "spoke: --max-size '%s' is not "
						"a size (like 512M or 8G)\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fputs(show_help, stdout);
			return 0;
		default:
			fputs(show_help, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "spoke: show needs at least one wheel\n\n%s",
			show_help);
		return EXIT_USAGE;
	}
	for (; optind < argc; optind++)
		if (show_one(argv[optind], max_bytes, json, quiet))
			rc = 1;
	return rc;
}
