/*
 * output.h - how commands print: for people, or one JSON object per line
 * with --json (events first, the result last; README "Machine output").
 */
#ifndef SPOKE_OUTPUT_H
#define SPOKE_OUTPUT_H

#include <jansson.h>

/* Prints obj as one line on stdout with "type" set to type ("event" or
 * "result"). */
void output_json_line(const char *type, json_t *obj);

/* Prints the give-back outcomes of a result's "artifacts" array for
 * people: only what is worth a line (put back, kept, quarantined, lost). */
void output_artifacts(const json_t *arts, int verbose);

#endif
