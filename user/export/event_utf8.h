/*
 * Every event that leaves the agent holds valid UTF-8 in all its string
 * fields: the store, the protobuf feed, feed files and the control
 * socket carry proto3 messages, and strict decoders (Go, Python, the
 * OTLP collectors) refuse a message with invalid UTF-8 in a string. The
 * bytes of a file name or an argv element are anyone's, so an event
 * whose strings are not valid gets a repaired copy: each bad byte becomes
 * U+FFFD, and the original bytes go into Event.raw_strings with the
 * field's name, so nothing recorded is altered without a trace.
 */
#ifndef CT_EVENT_UTF8_H
#define CT_EVENT_UTF8_H

#include <stdbool.h>
#include "lib/pb.h"

/* Every string field of msg and of the messages it holds is valid UTF-8. */
bool ct_pb_strings_valid(const ProtobufCMessage *msg);

/*
 * ev itself when its strings are valid (the common case: one pass over
 * them), else a repaired deep copy with raw_strings filled in, or NULL
 * when memory runs out. Give the result to ct_event_utf8_release.
 */
PbEvent *ct_event_utf8(const PbEvent *ev);
void ct_event_utf8_release(const PbEvent *ev, PbEvent *used);

/* A string field as recorded, before its repair: the bytes raw_strings
 * keeps for `field` ("file.path", "process.argv[1]") copied into buf as
 * a string, else `shown` (the field as the event has it, "" for NULL).
 * What counts distinct names (a budget, a footprint) counts these. */
const char *ct_event_raw_string(const PbEvent *ev, const char *field, const char *shown,
				char *buf, size_t len);

#endif
