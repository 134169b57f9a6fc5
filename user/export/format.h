/* Human-readable one-line rendering of an Event (the agent's live output
 * and the query CLI's table). JSON output is pb_json.h. */
#ifndef CT_FORMAT_H
#define CT_FORMAT_H

#include <stdio.h>
#include "lib/pb.h"

void ct_format_text(FILE *out, const PbEvent *ev);
/* argv joined by spaces, arguments with spaces or quotes quoted */
void ct_format_argv(FILE *out, char **argv, size_t n);
const char *ct_attr_method_name(Changetrace__V1__AttributionMethod m);

#endif
