/* Human-readable one-line rendering of an Event (the agent's live output
 * and the query CLI's table). JSON output is pb_json.h. */
#ifndef CT_FORMAT_H
#define CT_FORMAT_H

#include <stdio.h>
#include "lib/pb.h"

void ct_format_text(FILE *out, const PbEvent *ev);
/* argv joined by spaces, arguments with spaces or quotes quoted */
void ct_format_argv(FILE *out, char **argv, size_t n);
/* Strings for a terminal: quoted, with \" \\ \n \r \t, \xNN for a control
 * byte or a byte that starts no UTF-8 character, \uXXXX for the other
 * controls (C1, bidirectional overrides; utf8.h). Nothing a terminal acts
 * on is ever printed raw. */
void ct_text_quoted(FILE *out, const char *s);
/* As is when it is printable with no space, quote or backslash; else quoted. */
void ct_text_word(FILE *out, const char *s);
/* Escaped as ct_text_quoted, without the quotes (a table cell). */
void ct_text_escaped(FILE *out, const char *s);
/* ct_text_escaped padded with spaces to width bytes. */
void ct_text_word_pad(FILE *out, const char *s, int width);
const char *ct_attr_method_name(Changetrace__V1__AttributionMethod m);
/* " KEY=ID[runtime name ...] pod=NAME[uid,qos]" of a container, if any */
void ct_format_container(FILE *out, const char *key, const PbContainer *c);

#endif
