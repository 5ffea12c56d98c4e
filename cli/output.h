/*
 * output.h - how commands print: for people, or one JSON object per line
 * with --json (events first, the result last; README "Machine output").
 */
#ifndef SPOKE_CLI_OUTPUT_H
#define SPOKE_CLI_OUTPUT_H

#include <jansson.h>

/* Prints obj as one line on stdout with "type" set to type ("event" or
 * "result"). */
void output_json_line(const char *type, json_t *obj);

/* Prints the give-back outcomes of a result's "artifacts" array for
 * people: only what is worth a line (put back, kept, quarantined, lost). */
void output_artifacts(const json_t *arts, int verbose);

/* Prints, on stderr, every cargo output of a result's "losses" array
 * (replay.h, replay_losses) with what to do about it, then how to
 * acknowledge them (naming state_dir, when not NULL, in the command). */
void output_losses(const json_t *losses, const char *state_dir);

/* Prints, after indent, why a module's tag is not one older: of its
 * repair report's "older_tags", the newest tag that does not fit and its
 * reasons (policy_nearest_miss; every older tag's reasons are in --json
 * and in spoke show).  Prints nothing when every older tag fits. */
void output_nearest_miss(const json_t *report, const char *indent);

/* The line of one wheel a build answers with (a "wheel" event or an
 * element of the result's "wheels"): "wrote PATH", or "unchanged PATH"
 * when the coordinator reused the wheel an earlier build wrote
 * (docs/incremental.md). */
void output_wheel(const json_t *w);

/* The result's last line: how many wheels are in out_dir, and how many
 * of them were left unchanged. */
void output_wheels_summary(const json_t *wheels, const char *out_dir);

#endif
