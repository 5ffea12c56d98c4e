/*
 * commands.h - the subcommands of spoke.  Each takes argv with the command
 * name at argv[0] and returns the process exit status: 0 success, 1
 * failure, 2 usage error.
 */
#ifndef SPOKE_CLI_COMMANDS_H
#define SPOKE_CLI_COMMANDS_H

#define EXIT_USAGE 2

int cmd_build(int argc, char **argv);
int cmd_recover(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_patchelf(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_sdist(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_repair(int argc, char **argv);
int cmd_bundle(int argc, char **argv);
int cmd_develop(int argc, char **argv);
int cmd_wheel(int argc, char **argv);
int cmd_plan(int argc, char **argv);

struct sp_err;

/*
 * What `spoke sdist` does, for `spoke build --sdist`: writes the source
 * distribution of the package at manifest (NULL: Cargo.toml in the
 * current folder) into out_dir, reading pyproject.toml with interp (NULL:
 * python3).  *path gets the archive's path (malloc'd, the caller frees
 * it).  Returns 0, or -1 with e filled.  Defined in cmd_sdist.c.
 */
int sdist_write(const char *manifest, const char *out_dir, const char *interp,
		char **path, struct sp_err *e);

#endif
