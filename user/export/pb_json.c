#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "pb_json.h"
#include "lib/utf8.h"

/* Valid UTF-8 out, whatever came in: a byte that starts no well-formed
 * character becomes U+FFFD (the event's raw_strings keep the original
 * bytes); controls, including C1 and the bidirectional overrides, are
 * \u escapes, so a terminal showing the JSON never acts on them. */
void ct_json_str(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p);

	fputc('"', out);
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k = ct_utf8_char(p + i, n - i, &cp);

		if (!k) {
			fputs("\\ufffd", out);
			i++;
			continue;
		}
		switch (cp) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (ct_cp_is_control(cp))
				fprintf(out, "\\u%04x", (unsigned)cp);
			else
				fwrite(p + i, 1, k, out);
		}
		i += k;
	}
	fputc('"', out);
}

/* Longest common prefix of the enum's value names, cut at an underscore. */
const char *ct_pb_enum_short(const ProtobufCEnumDescriptor *d, int value)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(d, value);
	size_t cut = SIZE_MAX;

	if (!v)
		return "UNKNOWN";
	for (unsigned i = 0; i < d->n_values; i++) {
		const char *a = d->values[0].name, *b = d->values[i].name;
		size_t k = 0;

		while (a[k] && a[k] == b[k])
			k++;
		if (k < cut)
			cut = k;
	}
	if (d->n_values < 2)
		return v->name;
	while (cut > 0 && v->name[cut - 1] != '_')
		cut--;
	return v->name + cut;
}

static void write_scalar(FILE *out, const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		fprintf(out, "%" PRId32, *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		fprintf(out, "%" PRIu32, *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		fprintf(out, "%" PRId64, *(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		fprintf(out, "%" PRIu64, *(const uint64_t *)p);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		fprintf(out, "%g", *(const float *)p);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		fprintf(out, "%g", *(const double *)p);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		fputs(*(const protobuf_c_boolean *)p ? "true" : "false", out);
		break;
	case PROTOBUF_C_TYPE_ENUM:
		ct_json_str(out, ct_pb_enum_short(f->descriptor, *(const int *)p));
		break;
	case PROTOBUF_C_TYPE_STRING:
		ct_json_str(out, *(char *const *)p);
		break;
	case PROTOBUF_C_TYPE_BYTES: {
		/* base64, as the proto3 JSON mapping has it */
		const ProtobufCBinaryData *b = p;
		char *enc = malloc(ct_base64_len(b->len) + 1);

		if (!enc) {
			fputs("\"\"", out);
			break;
		}
		ct_base64_encode(b->data, b->len, enc);
		fprintf(out, "\"%s\"", enc);
		free(enc);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		ct_pb_json_write(out, *(ProtobufCMessage *const *)p);
		break;
	}
}

static size_t scalar_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64: case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return 4;
	}
}

/* proto3 semantics: a singular field at its default is not printed. */
static int is_default(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;

		return !s || !*s;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(void *const *)p == NULL;
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)p)->len == 0;
	default: {
		static const char zero[8];

		return memcmp(p, zero, scalar_size(f)) == 0;
	}
	}
}

void ct_pb_json_write(FILE *out, const ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *d;
	int first = 1;

	if (!msg) {
		fputs("null", out);
		return;
	}
	d = msg->descriptor;
	fputc('{', out);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *base = (const char *)msg;
		const void *p = base + f->offset;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			const char *arr = *(char *const *)p;

			if (!n)
				continue;
			fputs(first ? "" : ",", out);
			first = 0;
			ct_json_str(out, f->name);
			fputs(":[", out);
			for (size_t k = 0; k < n; k++) {
				if (k)
					fputc(',', out);
				write_scalar(out, f, arr + k * scalar_size(f));
			}
			fputc(']', out);
			continue;
		}
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			uint32_t which = *(const uint32_t *)(base + f->quantifier_offset);

			if (which != f->id)
				continue;
		} else if (is_default(f, p)) {
			continue;
		}
		fputs(first ? "" : ",", out);
		first = 0;
		ct_json_str(out, f->name);
		fputc(':', out);
		write_scalar(out, f, p);
	}
	fputc('}', out);
}
