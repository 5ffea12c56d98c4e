/*
 * main.c - the spoke command: argument parsing and dispatch.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"

static const char usage_text[] =
	"usage: spoke <command> [options]\n"
	"\n"
	"Turns the Python extension modules that cargo builds into wheels,\n"
	"without ever leaving cargo's target directory damaged.\n"
	"\n"
	"commands:\n"
	"  build     build the workspace with cargo and write a wheel per\n"
	"            Python extension module (to <target>/wheels)\n"
	"  develop   build, then install into the active virtual\n"
	"            environment with its pip (as maturin develop)\n"
	"  sdist     write a source distribution (.tar.gz) of a package\n"
	"  recover   put back every cargo output a failed or killed build\n"
	"            left staged\n"
	"  status    show running builds and artifacts not yet given back\n"
	"  log       show a finished build from the journal, step by step\n"
	"  serve     run the coordinator in the foreground\n"
	"  stop      stop the coordinator once its builds have given back\n"
	"            their artifacts\n"
	"  patch-elf write a patched copy of a shared library (rpath,\n"
	"            needed libraries, soname); never modifies its input\n"
	"  show      check wheels and list their tags, entries and shared\n"
	"            objects (in-process; needs no coordinator)\n"
	"  repair    make finished wheels manylinux: bundle the libraries\n"
	"            they need, retag them (in-process)\n"
	"  wheel     the hermetic action for build systems (Bazel): the\n"
	"            wheel of a prebuilt shared object, every input declared\n"
	"            (in-process; no coordinator, no interpreter)\n"
	"  bundle    collect the journal, the log and an environment\n"
	"            summary into one .tar.zst for a bug report\n"
	"  plan      show how 'build --shard K/N' divides the workspace\n"
	"            among CI jobs; --json writes the weights file\n"
	"\n"
	"Run 'spoke <command> --help' for a command's options.\n"
	"\n"
	"exit status: 0 success; 1 the command failed, or something could\n"
	"not be settled (see its message); 2 usage error.\n";

int main(int argc, char **argv)
{
	static char help_flag[] = "--help";
	char *help_argv[3];
	const char *cmd;

	if (argc < 2) {
		fputs(usage_text, stderr);
		return 2;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") ||
	    !strcmp(cmd, "help")) {
		if (argc > 2 && strcmp(cmd, "help") == 0) {
			help_argv[0] = argv[2];
			help_argv[1] = help_flag;
			help_argv[2] = NULL;
			argv = help_argv;
			argc = 2;
			cmd = argv[0];
			goto dispatch;
		}
		fputs(usage_text, stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
		printf("spoke %s\n", SPOKE_VERSION);
		return 0;
	}
	argv++;
	argc--;
dispatch:
	if (!strcmp(cmd, "build"))
		return cmd_build(argc, argv);
	if (!strcmp(cmd, "develop"))
		return cmd_develop(argc, argv);
	if (!strcmp(cmd, "recover"))
		return cmd_recover(argc, argv);
	if (!strcmp(cmd, "status"))
		return cmd_status(argc, argv);
	if (!strcmp(cmd, "serve"))
		return cmd_serve(argc, argv);
	if (!strcmp(cmd, "stop"))
		return cmd_stop(argc, argv);
	if (!strcmp(cmd, "patch-elf"))
		return cmd_patchelf(argc, argv);
	if (!strcmp(cmd, "show"))
		return cmd_show(argc, argv);
	if (!strcmp(cmd, "sdist"))
		return cmd_sdist(argc, argv);
	if (!strcmp(cmd, "log"))
		return cmd_log(argc, argv);
	if (!strcmp(cmd, "repair"))
		return cmd_repair(argc, argv);
	if (!strcmp(cmd, "wheel"))
		return cmd_wheel(argc, argv);
	if (!strcmp(cmd, "bundle"))
		return cmd_bundle(argc, argv);
	if (!strcmp(cmd, "plan"))
		return cmd_plan(argc, argv);
	fprintf(stderr, "spoke: unknown command '%s'\n\n%s", cmd, usage_text);
	return 2;
}
