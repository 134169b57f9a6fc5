/*
 * Any protobuf-c message as one JSON object, driven by its descriptor, so
 * every message in proto/ (events, deploys, status) prints the same way
 * without per-type code. proto3 defaults (0, "", false, empty) are omitted;
 * enums print as their short names ("EXEC", not "EVENT_KIND_EXEC");
 * 64-bit integers print as numbers.
 */
#ifndef CT_PB_JSON_H
#define CT_PB_JSON_H

#include <stdio.h>
#include <protobuf-c/protobuf-c.h>

void ct_pb_json_write(FILE *out, const ProtobufCMessage *msg);
/* JSON string with escaping, quotes included. */
void ct_json_str(FILE *out, const char *s);
/* Short enum name: strips the type's common prefix (EVENT_KIND_EXEC -> EXEC). */
const char *ct_pb_enum_short(const ProtobufCEnumDescriptor *d, int value);

#endif
