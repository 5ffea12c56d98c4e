/*
 * esc.h - names from hostile input, made safe to print for people.
 *
 * A wheel's member names, a bundle's members, file names in a crate and
 * the messages that quote them come from files spoke does not trust.
 * Printed raw, an ESC byte in a name is a terminal escape sequence: it can
 * rewrite what is on the screen, hide a problem line or retitle the
 * window.  Everything spoke prints for people goes through esc(); --json
 * output does not, since JSON escapes control characters itself.
 *
 * esc() writes a control character (below 0x20, and DEL) as \xNN, a C1
 * control (U+0080 to U+009F, which some terminals obey as well) as
 * \u00NN, and every byte that is not part of valid UTF-8 as \xNN.  All
 * other text, backslashes included, is left as it is.
 */
#ifndef SPOKE_COMMON_ESC_H
#define SPOKE_COMMON_ESC_H

#include <stddef.h>
#include <stdio.h>

/* 1 when s holds something esc() would change. */
int esc_needed(const char *s);

/*
 * s made safe to print.  Returns s itself when nothing needs escaping;
 * else an escaped copy that esc() owns and keeps until eight more escaped
 * copies have been made, so that a printf() may take several esc() results
 * at once.  Out of memory, returns "(unprintable name)".  s may be NULL:
 * returns "(null)".
 */
const char *esc(const char *s);

/* s escaped into a new string the caller frees, or NULL when memory runs
 * out. */
char *esc_dup(const char *s);

/* Writes s to f escaped as esc() does, but keeping its line breaks: for
 * spoke's own messages of several lines, which quote untrusted names. */
void esc_fputs(const char *s, FILE *f);

#endif
