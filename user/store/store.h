/*
 * The local event store: segments of length-delimited protobuf
 * Events, zlib-compressed per block, each block checksummed and hash-chained
 * to the previous one, with a per-segment index so queries skip what they
 * don't need. Default directory /var/lib/changetrace.
 *
 * This header is the contract between the store and its users (agent,
 * query CLI, feed replay, OTLP export position, `diff`). Extend it; do not
 * break it.
 */
#ifndef CT_STORE_H
#define CT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/pb.h"
#include "lib/counters.h"

#define CT_DEFAULT_STORE "/var/lib/changetrace"

struct ct_store;          /* the agent's writer (one per store directory) */
struct ct_store_reader;   /* any number of readers, agent running or not */

struct ct_store_stats {
	uint64_t events_written;
	uint64_t events_failed;      /* could not be stored (disk full, I/O error) */
	uint64_t bytes_written;
	uint64_t blocks_written;
	uint64_t segments;
	uint64_t segments_retired;
	uint64_t torn_bytes_truncated; /* recovered at open */
	uint64_t pending_events;     /* in the open block, not yet on disk */
	int last_errno;              /* of the last write; 0 once one succeeds */
	int failed_errno;            /* of the last write that failed */
	/* losses not yet reported as a GAP event */
	uint64_t failed_since_report, first_failed_ns, last_failed_ns;
};

/* When blocks reach the disk: CT_FSYNC_BLOCK fdatasyncs every block (a
 * block is sealed at 64 KiB or by the agent's 1 s flush); CT_FSYNC_INTERVAL
 * leaves it to ct_store_sync (the agent calls it every second);
 * CT_FSYNC_NEVER leaves it to the kernel. */
enum ct_fsync_policy { CT_FSYNC_BLOCK, CT_FSYNC_INTERVAL, CT_FSYNC_NEVER };

/* Writer. Opening recovers a torn tail (truncates it, keeps all before).
 * Every event appended gets its place in seq order (ev->seq is set by the
 * collector; ct_store_last_seq() tells where to continue after restart). */
int ct_store_open(struct ct_store **out, const char *dir, char *err, size_t errlen);
int ct_store_append(struct ct_store *s, const PbEvent *ev);   /* buffered */
int ct_store_flush(struct ct_store *s);                       /* seal the open block */
void ct_store_set_policy(struct ct_store *s, enum ct_fsync_policy p,
			 uint64_t retention_ns, uint64_t retention_bytes);
void ct_store_sync(struct ct_store *s);
void ct_store_retain(struct ct_store *s, uint64_t now_wall_ns);
/* Events lost to the store since the last call (for a GAP event). */
void ct_store_take_failure_report(struct ct_store *s, uint64_t *count,
				  uint64_t *first_ns, uint64_t *last_ns);
/* Put a report back (its GAP event could not be stored either). */
void ct_store_restore_failure_report(struct ct_store *s, uint64_t count,
				     uint64_t first_ns, uint64_t last_ns);
/* After a failed write: is there room again (worth reporting the loss)? */
bool ct_store_can_write(struct ct_store *s);
/* Start a new segment past this many bytes (default CT_SEGMENT_BYTES in
 * store_format.h; tests and benchmarks use smaller ones). */
void ct_store_set_segment_bytes(struct ct_store *s, uint64_t bytes);
uint64_t ct_store_last_seq(const struct ct_store *s);
/* Time of the newest event on disk (wall ns; 0: none). */
uint64_t ct_store_last_time(const struct ct_store *s);
const char *ct_store_id(const struct ct_store *s);            /* random id made at creation */
void ct_store_get_stats(const struct ct_store *s, struct ct_store_stats *st);
void ct_store_close(struct ct_store *s);

/* Readers. */
struct ct_store_filter {
	uint64_t since_ns, until_ns;  /* wall clock; 0 = open */
	uint64_t from_seq;            /* events with seq >= from_seq; 0 = all */
	const char *deploy_id;        /* NULL = any */
	uint32_t kind_mask;           /* bit (1 << EventKind); 0 = all */
	const char *path_glob;        /* file events: path or old_path matches */
	bool ai_only, drift_only;
	bool unobserved_only;         /* changes found at a start, made while no agent watched */
	const char *comm;
	int64_t pid, uid;             /* -1 = any */
	int64_t netns;                /* -1 = any */
	/* --container ID|NAME, --pod UID|NAME (container_match.h); the
	 * aliases are the ids a name was seen with (ct_store_resolve_names) */
	const char *container, *pod;
	char **container_aliases, **pod_aliases;
	size_t n_container_aliases, n_pod_aliases;
};
#define CT_STORE_FILTER_INIT { .pid = -1, .uid = -1, .netns = -1 }

/* Callback returns 0 to continue, non-zero to stop the scan. */
typedef int (*ct_store_cb)(const PbEvent *ev, void *ctx);

int ct_store_reader_open(struct ct_store_reader **out, const char *dir, char *err, size_t errlen);
/* All matching events in seq order. Corrupt blocks are skipped and
 * counted (ct_store_reader_corrupt_blocks), the rest still answers. */
int ct_store_scan(struct ct_store_reader *r, const struct ct_store_filter *f,
		  ct_store_cb cb, void *ctx);
/* One event by id; caller frees with changetrace__v1__event__free_unpacked. */
PbEvent *ct_store_find(struct ct_store_reader *r, const char *event_id);
uint64_t ct_store_reader_corrupt_blocks(const struct ct_store_reader *r);
/* For --container NAME / --pod NAME: the ids the name was seen with in
 * the store, so events recorded before the runtime's name was known match
 * too. Allocates f's alias arrays (ct_store_filter_free). */
int ct_store_resolve_names(struct ct_store_reader *r, struct ct_store_filter *f);
void ct_store_filter_free(struct ct_store_filter *f);
/* Does one event pass the filter? (also used by the live feed) */
bool ct_store_filter_match(const struct ct_store_filter *f, const PbEvent *ev);
/* Walk the whole chain. 0 if intact; -1 with the first bad block named in
 * err ("seg-...cts block 12 at offset 4096: payload checksum mismatch"). */
int ct_store_verify(const char *dir, uint64_t *blocks, uint64_t *events,
		    char *err, size_t errlen);
void ct_store_reader_close(struct ct_store_reader *r);

/* Its status counters, read from a struct ct_store_stats. */
extern const struct ct_counter_table ct_store_counters;

#endif
