#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_utf8.h"
#include "lib/utf8.h"

/* Walks are driven by the descriptors, like pb_json.c, so a string field
 * added to the schema later is covered without code here. */

static bool is_raw_strings(const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f)
{
	return d == &changetrace__v1__event__descriptor && f->id == 30;
}

static bool field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)((const char *)m + f->quantifier_offset) == f->id;
	return true;
}

static bool str_ok(const char *s)
{
	return !s || ct_utf8_valid(s, strlen(s));
}

bool ct_pb_strings_valid(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d;

	if (!m)
		return true;
	d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *p = (const char *)m + f->offset;

		if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (!field_present(m, f))
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
			void *const *arr = *(void *const *const *)p;

			for (size_t k = 0; k < n; k++)
				if (f->type == PROTOBUF_C_TYPE_STRING ? !str_ok(arr[k])
								       : !ct_pb_strings_valid(arr[k]))
					return false;
		} else if (f->type == PROTOBUF_C_TYPE_STRING) {
			if (!str_ok(*(char *const *)p))
				return false;
		} else if (!ct_pb_strings_valid(*(ProtobufCMessage *const *)p)) {
			return false;
		}
	}
	return true;
}

struct repair {
	PbEvent *ev;
	bool oom;
};

static void add_raw(struct repair *r, const char *field, const char *orig)
{
	Changetrace__V1__RawString *raw = malloc(sizeof(*raw));
	Changetrace__V1__RawString **arr;
	size_t n = strlen(orig);

	if (!raw) {
		r->oom = true;
		return;
	}
	changetrace__v1__raw_string__init(raw);
	raw->field = strdup(field);
	raw->value.data = malloc(n ? n : 1);
	arr = realloc(r->ev->raw_strings, (r->ev->n_raw_strings + 1) * sizeof(*arr));
	if (!raw->field || !raw->value.data || !arr) {
		free(raw->field);
		free(raw->value.data);
		free(raw);
		if (arr)
			r->ev->raw_strings = arr;
		r->oom = true;
		return;
	}
	memcpy(raw->value.data, orig, n);
	raw->value.len = n;
	arr[r->ev->n_raw_strings++] = raw;
	r->ev->raw_strings = arr;
}

/* *s is heap memory of the unpacked copy: replaced by its repair. */
static void repair_str(struct repair *r, char **s, const char *field)
{
	size_t n, len;
	char *fixed;

	if (!*s || ct_utf8_valid(*s, n = strlen(*s)))
		return;
	len = ct_utf8_repaired_len(*s, n);
	fixed = malloc(len + 1);
	if (!fixed) {
		r->oom = true;
		return;
	}
	ct_utf8_repair(*s, n, fixed, len + 1);
	add_raw(r, field, *s);
	free(*s);
	*s = fixed;
}

static void repair_msg(struct repair *r, ProtobufCMessage *m, char *path, size_t plen, size_t cap)
{
	const ProtobufCMessageDescriptor *d;

	if (!m)
		return;
	d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		char *p = (char *)m + f->offset;
		int w;

		if ((f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE) ||
		    !field_present(m, f) || is_raw_strings(d, f))
			continue;
		w = snprintf(path + plen, cap - plen, "%s%s", plen ? "." : "", f->name);
		if (w < 0 || (size_t)w >= cap - plen)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(size_t *)((char *)m + f->quantifier_offset);
			void **arr = *(void ***)p;

			for (size_t k = 0; k < n; k++) {
				int w2 = snprintf(path + plen + w, cap - plen - w, "[%zu]", k);

				if (w2 < 0 || (size_t)w2 >= cap - plen - w)
					continue;
				if (f->type == PROTOBUF_C_TYPE_STRING)
					repair_str(r, (char **)&arr[k], path);
				else
					repair_msg(r, arr[k], path, plen + w + w2, cap);
			}
		} else if (f->type == PROTOBUF_C_TYPE_STRING) {
			repair_str(r, (char **)p, path);
		} else {
			repair_msg(r, *(ProtobufCMessage **)p, path, plen + w, cap);
		}
		path[plen] = '\0';
	}
}

PbEvent *ct_event_utf8(const PbEvent *ev)
{
	struct repair r = { 0 };
	char path[512] = "";
	size_t len;
	uint8_t *buf;

	if (ct_pb_strings_valid(&ev->base))
		return (PbEvent *)ev;
	/* a deep copy this module owns: the event's strings live in the
	 * collector's buffers, the deploy registry and the process cache */
	len = changetrace__v1__event__get_packed_size(ev);
	buf = malloc(len ? len : 1);
	if (!buf)
		return NULL;
	changetrace__v1__event__pack(ev, buf);
	r.ev = changetrace__v1__event__unpack(NULL, len, buf);
	free(buf);
	if (!r.ev)
		return NULL;
	repair_msg(&r, &r.ev->base, path, 0, sizeof(path));
	if (r.oom || !ct_pb_strings_valid(&r.ev->base)) {
		changetrace__v1__event__free_unpacked(r.ev, NULL);
		return NULL;
	}
	return r.ev;
}

void ct_event_utf8_release(const PbEvent *ev, PbEvent *used)
{
	if (used && used != ev)
		changetrace__v1__event__free_unpacked(used, NULL);
}

const char *ct_event_raw_string(const PbEvent *ev, const char *field, const char *shown,
				char *buf, size_t len)
{
	for (size_t i = 0; i < ev->n_raw_strings; i++) {
		const Changetrace__V1__RawString *r = ev->raw_strings[i];

		if (r->field && !strcmp(r->field, field) && r->value.len < len &&
		    !memchr(r->value.data, '\0', r->value.len)) {
			memcpy(buf, r->value.data, r->value.len);
			buf[r->value.len] = '\0';
			return buf;
		}
	}
	return shown ? shown : "";
}
