/*
 * policy_table.h - data/policy.json, compiled into the binary.
 *
 * The build writes the C file that defines these from data/policy.json
 * (scripts/embed-policy.cmake), checking that it parses: every command
 * judges with the table it was built with, and none looks for a file at
 * run time (an input a build system's action would not declare).
 */
#ifndef SPOKE_WORKER_REPAIR_POLICY_TABLE_H
#define SPOKE_WORKER_REPAIR_POLICY_TABLE_H

#include <stddef.h>

/* The file's bytes, then a NUL (not counted in policy_table_len). */
extern const unsigned char policy_table[];
extern const size_t policy_table_len;

#endif
