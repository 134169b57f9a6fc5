/*
 * OTLP/HTTP log export. A thread of its own reads events from
 * the store (never from the agent loop), maps them to OTLP log records
 * (otlp_map.h), and POSTs them gzip'd to URL/v1/logs with libcurl.
 *
 * Delivery is at-least-once: the position (the last seq the backend
 * acknowledged) is persisted in STORE/otlp.position after every
 * acknowledged batch, so a backend that is down, or an agent restart,
 * only delays export; a batch acknowledged but not yet persisted when the
 * agent dies is sent again. 429/502/503/504 and connection errors are
 * retried (exponential backoff with jitter, Retry-After honoured). A
 * 400, 413 or 422 refuses the data: the batch is split in halves until
 * the record the backend will not take is alone; it alone is dropped,
 * counted (refused) and named by seq on stderr. Any other answer drops
 * the request, counted as failed (the spec says not to retry them).
 */
#ifndef CT_OTLP_H
#define CT_OTLP_H

#include <stddef.h>
#include <stdint.h>
#include "lib/counters.h"

#define CT_OTLP_POSITION_FILE "otlp.position"
#define CT_OTLP_BATCH_MAX 512            /* log records per request */
#define CT_OTLP_BATCH_BYTES (1u << 20)   /* before compression */

struct ct_otlp;

struct ct_otlp_stats {
	uint64_t exported;        /* records the backend accepted */
	uint64_t rejected;        /* partial_success.rejected_log_records */
	uint64_t failed;          /* records in requests refused without retry (401, 403, 404...) */
	uint64_t refused;         /* single records a backend refused as data (400/413/422)
				   * once the batch was split around them */
	uint64_t last_refused_seq;
	uint64_t retries;         /* requests repeated after a retryable failure */
	uint64_t requests;
	uint64_t position;        /* last seq acknowledged */
	uint64_t lag_events;      /* agent's last seq - position */
	uint64_t lag_ms;          /* age of the oldest event not yet acknowledged */
	uint64_t last_http_status;/* 0: no answer (connection error) */
	uint64_t seq_skipped;     /* seqs not in the store (retention, store write failures) */
	uint64_t position_errors; /* position file unreadable or unwritable */
};

/* Validate --otlp-endpoint (http:// or https://); prints why not. */
int ct_otlp_check_endpoint(const char *url);
/* Start the exporter. agent_seq: the store's last seq, where export starts
 * when there is no position file yet. */
int ct_otlp_start(struct ct_otlp **out, const char *endpoint, const char *store_dir,
		  const char *host, uint64_t agent_seq, char *err, size_t errlen);
/* New blocks are on disk (called after each store flush); cheap. */
void ct_otlp_notify(struct ct_otlp *o, uint64_t agent_seq);
void ct_otlp_get_stats(struct ct_otlp *o, struct ct_otlp_stats *st);
/* One last export attempt of what is stored (bounded), then stop. */
void ct_otlp_stop(struct ct_otlp *o, uint64_t agent_seq);

/* Its status counters, read from a struct ct_otlp_stats. */
extern const struct ct_counter_table ct_otlp_counters;

#endif
