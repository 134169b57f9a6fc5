/*
 * libFuzzer: the encoders on arbitrary bytes. The input's NUL-separated
 * pieces become the strings of an event (argv, comm, exe, file paths, net
 * names and ruleset, deploy and guard text), which then goes through what
 * the agent does before any sink (event_utf8.c) and every encoder: the
 * JSON writer, the text formatter and the OTLP mapping. Each output is
 * checked with a strict decoder from another library (jansson: JSON and
 * UTF-8, per RFC 8259 / 3629), the protobuf output is unpacked again and
 * every string in it checked the same way, and every byte the repair
 * replaced must be in raw_strings, unchanged.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/event_utf8.h"
#include "export/format.h"
#include "export/otlp_map.h"
#include "export/pb_json.h"

#define PIECES 24

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_encoders: %s: %.200s\n", what, detail ? detail : "");
	abort();
}

/* strict UTF-8, by jansson's own validation */
static int strict_utf8(const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);

	if (!j)
		return 0;
	json_decref(j);
	return 1;
}

static void check_strings(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d;

	if (!m)
		return;
	d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *p = (const char *)m + f->offset;

		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF &&
		    *(const uint32_t *)((const char *)m + f->quantifier_offset) != f->id)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
			void *const *arr = *(void *const *const *)p;

			for (size_t k = 0; k < n; k++) {
				if (f->type == PROTOBUF_C_TYPE_STRING && !strict_utf8(arr[k], strlen(arr[k])))
					die("invalid UTF-8 in a repeated string", f->name);
				if (f->type == PROTOBUF_C_TYPE_MESSAGE)
					check_strings(arr[k]);
			}
		} else if (f->type == PROTOBUF_C_TYPE_STRING) {
			const char *s = *(char *const *)p;

			if (s && !strict_utf8(s, strlen(s)))
				die("invalid UTF-8 in a string", f->name);
		} else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			check_strings(*(ProtobufCMessage *const *)p);
		}
	}
}

/* What a terminal could act on: C0 but newline, DEL, C1 (as UTF-8). */
static void check_text(const char *buf, size_t n, const char *what)
{
	if (!strict_utf8(buf, n))
		die("text is not UTF-8", what);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = buf[i];

		if ((c < 0x20 && c != '\n') || c == 0x7f ||
		    (c == 0xc2 && i + 1 < n && (unsigned char)buf[i + 1] >= 0x80 &&
		     (unsigned char)buf[i + 1] <= 0x9f))
			die("raw control in text", what);
	}
}

static void check_json(const PbEvent *ev)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&buf, &n);
	json_error_t err;
	json_t *j;

	ct_pb_json_write(m, &ev->base);
	fclose(m);
	j = json_loadb(buf, n, 0, &err);
	if (!j)
		die("JSON does not parse", err.text);
	json_decref(j);
	check_text(buf, n, "json");
	free(buf);
}

static void check_text_line(const PbEvent *ev)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&buf, &n);

	ct_format_text(m, ev);
	fclose(m);
	check_text(buf, n, "text line");
	free(buf);
}

static void check_otlp(const PbEvent *ev)
{
	static struct ct_otlp_rec r;
	Changetrace__Otlp__LogRecord *back;
	size_t n;
	uint8_t *buf;

	ct_otlp_map(ev, &r, 1);
	n = changetrace__otlp__log_record__get_packed_size(&r.lr);
	buf = malloc(n ? n : 1);
	changetrace__otlp__log_record__pack(&r.lr, buf);
	back = changetrace__otlp__log_record__unpack(NULL, n, buf);
	if (!back)
		die("OTLP record does not unpack", NULL);
	check_strings(&back->base);
	if (back->body && back->body->string_value)
		check_text(back->body->string_value, strlen(back->body->string_value), "otlp body");
	changetrace__otlp__log_record__free_unpacked(back, NULL);
	free(buf);
}

/* A repaired string: either unchanged, or its bytes are in raw_strings. */
static void check_kept(const PbEvent *fixed, const char *field, const char *orig, const char *now)
{
	if (!strcmp(orig, now ? now : ""))	/* protobuf-c: NULL is "" */
		return;
	for (size_t i = 0; i < fixed->n_raw_strings; i++) {
		const Changetrace__V1__RawString *r = fixed->raw_strings[i];

		if (!strcmp(r->field, field)) {
			if (r->value.len != strlen(orig) || memcmp(r->value.data, orig, r->value.len))
				die("raw bytes differ", field);
			return;
		}
	}
	die("a repaired string has no raw bytes", field);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *piece[PIECES];
	PbEvent ev = CHANGETRACE__V1__EVENT__INIT, *fixed, *back;
	PbProcess proc = CHANGETRACE__V1__PROCESS__INIT;
	PbAncestor anc = CHANGETRACE__V1__ANCESTOR__INIT, *ancp = &anc;
	PbAttribution attr = CHANGETRACE__V1__ATTRIBUTION__INIT;
	PbFileChange file = CHANGETRACE__V1__FILE_CHANGE__INIT;
	PbNetPolicyChange net = CHANGETRACE__V1__NET_POLICY_CHANGE__INIT;
	Changetrace__V1__GuardVerdict guard = CHANGETRACE__V1__GUARD_VERDICT__INIT;
	Changetrace__V1__DeployRecord rec = CHANGETRACE__V1__DEPLOY_RECORD__INIT;
	PbDeploy dep = CHANGETRACE__V1__DEPLOY__INIT;
	PbExecDetail exec = CHANGETRACE__V1__EXEC_DETAIL__INIT;
	size_t np = 0, len;
	uint8_t *packed;
	char field[32];

	if (!copy || !size)
		goto out;
	memcpy(copy, data, size);
	copy[size] = '\0';
	/* NUL-separated pieces; the missing ones are empty */
	for (size_t i = 1; np < PIECES; ) {
		piece[np++] = copy + i;
		i += strlen(copy + i) + 1;
		if (i > size)
			break;
	}
	while (np < PIECES)
		piece[np++] = "";
	ev.event_id = piece[0];
	ev.host = piece[1];
	ev.process = &proc;
	ev.attribution = &attr;
	proc.comm = piece[2];
	proc.exe = piece[3];
	proc.cwd = piece[4];
	proc.cgroup_path = piece[5];
	proc.argv = &piece[6];
	proc.n_argv = 4;
	anc.comm = piece[10];
	anc.exe = piece[11];
	proc.lineage = &ancp;
	proc.n_lineage = 1;
	attr.deploy_id = piece[12];
	switch (copy[0] % 5) {
	case 0:
		ev.kind = CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_FILE;
		ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_FILE;
		ev.file = &file;
		file.path = piece[13];
		file.old_path = piece[14];
		file.ns_path = piece[15];
		file.xattr_name = piece[16];
		break;
	case 1:
		ev.kind = CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_NET;
		ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_NET;
		ev.net = &net;
		net.summary = piece[13];
		net.table = piece[14];
		net.chain = piece[15];
		net.device = piece[16];
		net.netns_name = piece[17];
		net.ruleset_after = piece[18];
		net.acceptance = piece[19];
		break;
	case 2:
		ev.kind = CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_GUARD;
		ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_GUARD;
		ev.guard = &guard;
		guard.rule = piece[13];
		guard.reason = piece[14];
		guard.deploy_id = piece[15];
		break;
	case 3:
		ev.kind = CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_DEPLOY;
		ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_DEPLOY;
		ev.deploy = &rec;
		rec.deploy = &dep;
		dep.id = piece[13];
		dep.author = piece[14];
		dep.ticket = piece[15];
		dep.approved_by = &piece[16];
		dep.n_approved_by = 2;
		break;
	default:
		ev.kind = CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_EXEC;
		ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_EXEC;
		ev.exec = &exec;
		exec.filename = piece[13];
		break;
	}

	/* as the agent emits it */
	fixed = ct_event_utf8(&ev);
	if (!fixed)
		die("no repaired copy", NULL);
	len = changetrace__v1__event__get_packed_size(fixed);
	packed = malloc(len ? len : 1);
	changetrace__v1__event__pack(fixed, packed);
	back = changetrace__v1__event__unpack(NULL, len, packed);
	if (!back)
		die("repaired event does not unpack", NULL);
	check_strings(&back->base);
	changetrace__v1__event__free_unpacked(back, NULL);
	free(packed);
	check_kept(fixed, "process.comm", proc.comm, fixed->process->comm);
	check_kept(fixed, "process.exe", proc.exe, fixed->process->exe);
	for (size_t i = 0; i < proc.n_argv; i++) {
		snprintf(field, sizeof(field), "process.argv[%zu]", i);
		check_kept(fixed, field, proc.argv[i], fixed->process->argv[i]);
	}
	check_kept(fixed, "process.lineage[0].exe", anc.exe, fixed->process->lineage[0]->exe);
	if (ev.detail_case == CHANGETRACE__V1__EVENT__DETAIL_FILE)	/* a union */
		check_kept(fixed, "file.path", file.path, fixed->file->path);
	check_json(fixed);
	check_text_line(fixed);
	check_otlp(fixed);
	/* and an event as an older store may hold it, never repaired */
	check_json(&ev);
	check_text_line(&ev);
	check_otlp(&ev);
	ct_event_utf8_release(&ev, fixed);
out:
	free(copy);
	return 0;
}
