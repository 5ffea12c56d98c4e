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
#include "worker/repair/policy.h"
#include "worker/repair/verdict.h"
#include "worker/elf/pycheck.h"
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
	"GLIBCXX, CXXABI, GCC, ZLIB and LIBATOMIC symbol versions it\n"
	"requires, and, for an extension module that uses PyFPE_jbuf or\n"
	"Python 2's UCS2 functions, why it can only be tagged linux_<arch>\n"
	"('linux only: ...').  Then the platform of every ELF object\n"
	"(executables too): their libc and architecture, the platform tag\n"
	"they qualify for (glibc: the oldest manylinux tag they fit; musl:\n"
	"musllinux_1_2; linux_<arch> when no tag fits or an extension module\n"
	"is linux only), the libraries a repair would bundle (not on the list\n"
	"of the newest tag; libpython never: it is left to the interpreter),\n"
	"and for each older tag why it does not fit: symbol\n"
	"versions it lacks (with the symbols using them), libraries not on its\n"
	"list, symbols it black-lists.  A wheel without shared objects is not\n"
	"a platform wheel (said, not a problem).  Last 'valid', or every\n"
	"problem found.  Nothing is extracted or written.\n"
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
	"                     \"linux_only\": why only linux_<arch> fits,\n"
	"                     or null, \"error\"}], \"problems\": [{\"entry\", \"reason\"}],\n"
	"                     \"platform\": {\"platform_wheel\": false} or\n"
	"                     {\"platform_wheel\": true, \"libc\": \"glibc\" or\n"
	"                     \"musl\", \"architecture\", \"tag\": \"manylinux_2_5_\n"
	"                     x86_64.manylinux1_x86_64\" or \"linux_x86_64\",\n"
	"                     \"policy\": \"manylinux_2_5\" or null (linux_<arch>),\n"
	"                     \"policy_fit\": the tag the policy's rule gives\n"
	"                     the objects, even when the wheel's is\n"
	"                     linux_<arch>, or null, \"would_bundle\":\n"
	"                     [soname], \"removed\": [libpython sonames],\n"
	"                     \"older_tags\": [{\"tag\", \"fits\",\n"
	"                     \"reasons\": {\"symbol_versions\": [{\"object\",\n"
	"                     \"version\", \"library\", \"symbols\"}],\n"
	"                     \"libraries\": [{\"soname\", \"needed_by\"}],\n"
	"                     \"blacklisted\": [{\"object\", \"library\",\n"
	"                     \"symbols\"}]}}], \"linux_only\": {\"object\",\n"
	"                     \"reason\"} when an extension module fits\n"
	"                     linux_<arch> only} (every tag when none fits), or\n"
	"                     {\"platform_wheel\": true, \"error\"} when no\n"
	"                     policy covers the objects}\n"
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

/* The platform verdict: judged, printed and given as JSON below. */
struct platform;
static void print_platform(const struct platform *pf);
static json_t *platform_json(const struct platform *pf);

static const char *method_name(uint16_t m)
{
	return m == 0 ? "stored" : m == 8 ? "deflate" : "other";
}

/* Why the object can only be tagged linux_<arch> by CPython's ABI
 * (pycheck.h), or NULL; into buf. */
static const char *linux_only(const struct wheel_so *so, char *buf,
			      size_t size)
{
	return so->py_ok && pycheck_reason(&so->py, buf, size) ? buf : NULL;
}

/* The object's architecture, or its machine number when spoke has no
 * name for it. */
static const char *arch_name(const struct wheel_so *so, char *buf, size_t len)
{
	return elf_ident_label(&so->elf.id, buf, len);
}

static void print_so(const struct wheel_so *so)
{
	char vers[256], why[512], ver[64];
	size_t i;

	printf("    %s\n", esc(so->entry));
	if (so->ident_ok)
		printf("      arch: %s (%s, %s-endian)\n",
		       arch_name(so, ver, sizeof(ver)),
		       so->elf.id.elfclass == ELFCLASS64 ? "64-bit" : "32-bit",
		       so->elf.id.data == ELFDATA2MSB ? "big" : "little");
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
		symvers_format_highest(&so->vers, vers, sizeof(vers));
		printf("      requires: %s\n",
		       vers[0] ? esc(vers) : "no versioned symbols");
	}
	if (linux_only(so, why, sizeof(why)))
		printf("      linux only: %s\n", esc(why));
	if (so->error)
		printf("      cannot inspect: %s\n", esc(so->error));
}

static void print_people(const struct wheel_report *r,
			 const struct platform *pf, int quiet)
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
	print_platform(pf);
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
	const struct symvers *sv = &so->vers;
	char why[512];
	json_t *o, *needed, *vers;
	char ver[64];
	size_t i;

	needed = json_array();
	vers = so->vers_ok ? verdict_symvers_json(&sv, 1) : json_object();
	for (i = 0; so->elf_ok && i < so->elf.nneeded; i++)
		json_array_append_new(needed, jstr(so->elf.needed[i]));
	o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "name",
		      jstr(so->entry), "needed", needed, "soname",
		      jstr(so->elf_ok ? so->elf.soname : NULL), "rpath",
		      jstr(so->elf_ok ? so->elf.rpath : NULL), "runpath",
		      jstr(so->elf_ok ? so->elf.runpath : NULL),
		      "symbol_versions", vers, "error", jstr(so->error));
	if (o && json_object_set_new(o, "linux_only",
				     jstr(linux_only(so, why, sizeof(why)))) <
		     0) {
		json_decref(o);
		o = NULL;
	}
	if (o && so->ident_ok) {
		json_object_set_new(o, "arch",
				    jstr(arch_name(so, ver, sizeof(ver))));
		json_object_set_new(
		    o, "class",
		    json_integer(so->elf.id.elfclass == ELFCLASS64 ? 64 : 32));
		json_object_set_new(o, "byte_order",
				    json_string(so->elf.id.data == ELFDATA2MSB
						    ? "big"
						    : "little"));
	} else if (o) {
		json_object_set_new(o, "arch", json_null());
	}
	return o;
}

static json_t *report_json(const struct wheel_report *r,
			   const struct platform *pf)
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
	if (o && json_object_set_new(o, "platform", platform_json(pf)) < 0) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

/* The platform verdict on a wheel's objects (worker/repair/verdict.h):
 * every ELF object whose symbol versions were read counts, executables
 * too.  Libraries the objects need that no object of the wheel provides
 * are handed over, to be left to the system, removed or bundled as the
 * repair would decide. */
struct platform {
	int is_platform; /* the wheel holds an ELF object */
	char *error;	 /* why there is no verdict, or NULL */
	struct verdict v;
};

static void platform_release(struct platform *pf)
{
	free(pf->error);
	verdict_release(&pf->v);
	memset(pf, 0, sizeof(*pf));
}

/* Judges the objects of r; pf->error says why when no verdict can be
 * given.  Returns -1 only when memory runs out. */
static int platform_judge(const struct wheel_report *r, struct platform *pf)
{
	static const struct verdict_opts none;
	struct verdict_object *objs;
	const char **prov;
	const struct wheel_so *so;
	const char *base;
	size_t i, n = 0, nprov = 0;
	struct sp_err e;
	int rc = -1;

	memset(pf, 0, sizeof(*pf));
	pf->is_platform = r->nsos > 0;
	if (!pf->is_platform)
		return 0;
	objs = calloc(r->nsos, sizeof(*objs));
	prov = calloc(2 * r->nsos, sizeof(*prov));
	if (!objs || !prov)
		goto out;
	for (i = 0; i < r->nsos; i++) {
		so = &r->sos[i];
		/* What the wheel provides: each object's file name and
		 * DT_SONAME. */
		base = strrchr(so->entry, '/');
		prov[nprov++] = base ? base + 1 : so->entry;
		if (so->elf_ok && so->elf.soname)
			prov[nprov++] = so->elf.soname;
		/* An object file has no elf_info, but its symbol versions
		 * and its header count. */
		if (!so->vers_ok)
			continue;
		objs[n].name = so->entry;
		objs[n].info = so->elf_ok ? &so->elf : NULL;
		objs[n].ident = so->ident_ok ? &so->elf.id : NULL;
		objs[n].sv = &so->vers;
		objs[n].py = so->py_ok ? &so->py : NULL;
		n++;
	}
	sp_err_clear(&e);
	if (verdict_wheel(&pf->v, objs, n, prov, nprov, &none, &e) < 0 &&
	    !(pf->error = strdup(e.msg)))
		goto out;
	rc = 0;
out:
	free(objs);
	free(prov);
	return rc;
}

/* The policy's tag, when the wheel gets it (not linux_<arch>). */
static const struct policy_tag *platform_policy(const struct verdict *v)
{
	return v->linux_only ? NULL : v->tag;
}

static void print_libs(const char *what, const struct verdict *v,
		       enum verdict_action a, const char *why)
{
	size_t i;

	if (!v->nlibs[a])
		return;
	printf("  %s:", what);
	for (i = 0; i < v->nlibs[a]; i++)
		printf("%s %s", i ? "," : "", esc(v->libs[a][i]));
	printf(" (%s)\n", why);
}

static void print_platform(const struct platform *pf)
{
	const struct verdict *v = &pf->v;
	char why[2048];
	size_t i;

	if (!pf->is_platform) {
		printf("  not a platform wheel: it holds no shared object\n");
		return;
	}
	if (pf->error) {
		printf("  platform: %s\n", esc(pf->error));
		return;
	}
	printf("  platform: %s, %s\n", policy_libc_name(v->libc), v->arch);
	if (v->linux_only)
		printf("  platform tag: %s: '%s' %s; without that: %s\n",
		       v->plat, esc(v->linux_only), esc(v->linux_only_why),
		       v->tag ? v->tag->name : "none");
	else if (!v->tag)
		printf("  platform tag: %s: no %s tag fits\n", v->plat,
		       v->libc == POLICY_MUSL ? "musllinux" : "manylinux");
	else
		printf("  platform tag: %s\n", v->plat);
	print_libs("left to the interpreter", v, VERDICT_REMOVED,
		   "libpython: a repair removes it");
	/* Their own symbol versions are not known here: the tag is the
	 * objects', before anything is bundled. */
	snprintf(why, sizeof(why), "not on %s's list", v->libs_tag->name);
	print_libs("would bundle", v, VERDICT_BUNDLE, why);
	for (i = 0; i < v->nolder; i++) {
		const struct verdict_older *o = &v->older[i];

		if (i == 0)
			printf("  %s:\n", v->tag ? "older tags" : "no tag fits");
		if (!o->why.n) {
			printf("    %s: fits too; chosen only with --compat "
			       "(the objects cannot tell it apart)\n",
			       o->tag->name);
			continue;
		}
		policy_misses_format(&o->why, why, sizeof(why));
		printf("    %s: %s\n", o->tag->name, esc(why));
	}
}

static json_t *libs_json(const struct verdict *v, enum verdict_action a)
{
	json_t *l = json_array();
	size_t i;

	for (i = 0; l && i < v->nlibs[a]; i++)
		if (json_array_append_new(l, jstr(v->libs[a][i])) < 0) {
			json_decref(l);
			return NULL;
		}
	return l;
}

/* The verdict as JSON (documented in show_help). */
static json_t *platform_json(const struct platform *pf)
{
	const struct verdict *v = &pf->v;
	const struct policy_tag *pol = platform_policy(v);
	json_t *o;

	if (!pf->is_platform)
		return json_pack("{s:b}", "platform_wheel", 0);
	if (pf->error)
		return json_pack("{s:b,s:o}", "platform_wheel", 1, "error",
				 jstr(pf->error));
	o = json_pack("{s:b,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o}",
		      "platform_wheel", 1, "libc", policy_libc_name(v->libc),
		      "architecture", v->arch, "tag", v->plat, "policy",
		      pol ? json_string(pol->name) : json_null(),
		      "policy_fit",
		      v->tag ? json_string(v->tag->name) : json_null(),
		      "would_bundle", libs_json(v, VERDICT_BUNDLE), "removed",
		      libs_json(v, VERDICT_REMOVED), "older_tags",
		      verdict_older_json(v));
	if (o && v->linux_only &&
	    json_object_set_new(o, "linux_only",
				json_pack("{s:o,s:s}", "object",
					  jstr(v->linux_only), "reason",
					  v->linux_only_why)) < 0) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

/* Shows one wheel.  Returns 0 when it is valid, else 1. */
static int show_one(const char *path, uint64_t max_bytes, int json, int quiet)
{
	struct platform pf;
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
	if (platform_judge(&r, &pf) < 0) {
		fprintf(stderr, "spoke: out of memory\n");
		platform_release(&pf);
		wheel_report_release(&r);
		return 1;
	}
	if (json) {
		o = report_json(&r, &pf);
		if (o) {
			output_json_line("result", o);
		} else {
			fprintf(stderr, "spoke: out of memory\n");
			rc = 1;
		}
		json_decref(o);
	} else {
		print_people(&r, &pf, quiet);
		fflush(stdout);
	}
	platform_release(&pf);
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
