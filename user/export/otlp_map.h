/*
 * changetrace.v1.Event -> OTLP LogRecord, and the framing of an OTLP
 * ExportLogsServiceRequest (proto/otlp_logs.proto). Attributes follow the
 * OpenTelemetry semantic conventions where one exists (process.*, file.*,
 * deployment.*, vcs.*, cicd.*, gen_ai.*, network.*); changetrace.* names
 * the rest. The body is the event as one readable line; event_name is
 * "changetrace.<kind>".
 */
#ifndef CT_OTLP_MAP_H
#define CT_OTLP_MAP_H

#include <stddef.h>
#include <stdint.h>
#include "otlp_logs.pb-c.h"
#include "lib/pb.h"

typedef Changetrace__Otlp__LogRecord OtlpLogRecord;
typedef Changetrace__Otlp__KeyValue  OtlpKeyValue;
typedef Changetrace__Otlp__AnyValue  OtlpAnyValue;
typedef Changetrace__Otlp__ArrayValue OtlpArrayValue;

#define CT_OTLP_MAX_ATTRS 96
#define CT_OTLP_MAX_ARRAYS 8     /* array attributes of one record */
#define CT_OTLP_MAX_ARRAY 64     /* elements of an array attribute */
#define CT_OTLP_BODY_MAX 8192
#define CT_OTLP_FIX_MAX  32768

/* Scratch for one record: no heap; strings point into the event or here. */
struct ct_otlp_rec {
	OtlpLogRecord lr;
	OtlpAnyValue body;
	OtlpKeyValue kv[CT_OTLP_MAX_ATTRS];
	OtlpAnyValue val[CT_OTLP_MAX_ATTRS];
	OtlpKeyValue *kvp[CT_OTLP_MAX_ATTRS];
	OtlpArrayValue arr[CT_OTLP_MAX_ARRAYS];
	OtlpAnyValue arr_val[CT_OTLP_MAX_ARRAYS][CT_OTLP_MAX_ARRAY];
	OtlpAnyValue *arr_ptr[CT_OTLP_MAX_ARRAYS][CT_OTLP_MAX_ARRAY];
	int n_arr;
	char small[24][48];      /* lower-cased enum names */
	int n_small;
	char cmdline[4096];
	char inode[24];          /* file.inode is a string */
	char body_text[CT_OTLP_BODY_MAX];
	char event_name[40];
	/* repaired copies of strings that were not valid UTF-8 (OTLP strings
	 * must be: strict backends refuse the request), and raw.* keys */
	char fix[CT_OTLP_FIX_MAX];
	size_t fix_len;
};

/* Fill r->lr from ev (valid until ev or r change). Every string in it is
 * valid UTF-8 whatever ev holds; the body has controls escaped (it is the
 * text line); Event.raw_strings go out as bytes attributes
 * "changetrace.raw.<field>". */
void ct_otlp_map(const PbEvent *ev, struct ct_otlp_rec *r, uint64_t observed_ns);
/* The attribute named key in a record, or NULL (tests, receivers). */
const OtlpAnyValue *ct_otlp_attr(const OtlpLogRecord *lr, const char *key);

/* A request is built from packed LogRecords appended one by one (each is
 * field 2 of ScopeLogs, so concatenating them is valid protobuf) and then
 * framed with the resource (host.name, service.name) and scope. */
struct ct_otlp_batch {
	uint8_t *recs;           /* ScopeLogs.log_records, already framed */
	size_t len, cap;
	size_t count;
	uint64_t first_seq, last_seq;
	/* where each record starts in recs, and its seq, so a refused batch
	 * can be split to find the one record a backend will not take */
	size_t *offs;
	uint64_t *seqs;
	size_t rec_cap;
};
int ct_otlp_batch_add(struct ct_otlp_batch *b, const OtlpLogRecord *lr, uint64_t seq);
void ct_otlp_batch_reset(struct ct_otlp_batch *b);
void ct_otlp_batch_free(struct ct_otlp_batch *b);
/* Serialized ExportLogsServiceRequest (malloc'd; caller frees), or NULL.
 * instance_id (service.instance.id) may be NULL. */
uint8_t *ct_otlp_request(const struct ct_otlp_batch *b, const char *host,
			 const char *service_version, const char *instance_id, size_t *len);
/* The same for records [lo, hi) of the batch only. */
uint8_t *ct_otlp_request_range(const struct ct_otlp_batch *b, size_t lo, size_t hi,
			       const char *host, const char *service_version,
			       const char *instance_id, size_t *len);
/* service.instance.id: a UUID (version 5, in the namespace the semantic
 * conventions give) of a stable id of the agent, e.g. its store's id. */
void ct_otlp_instance_id(const char *stable_id, char out[37]);
/* gen_ai.provider.name's well-known value for an AI tool and model, or
 * NULL when they do not say which provider served the model. */
const char *ct_ai_provider(const char *tool, const char *model);

#endif
