/*
 * The event stream written to rotating files in a directory, for any log
 * shipper (Fluent Bit, Vector, Filebeat tail them): one JSON object per line
 * (or length-delimited protobuf), a new file when the current one reaches
 * its size limit, the oldest removed beyond the count to keep. Files are
 * named events-<first seq>.jsonl so their order is their name's order.
 */
#ifndef CT_FEED_FILE_H
#define CT_FEED_FILE_H

#include <stdbool.h>
#include <stdint.h>
#include "lib/pb.h"
#include "lib/counters.h"

struct ct_feed_file;

struct ct_feed_file_stats {
	uint64_t events, bytes, files_rotated, files_removed, write_failures;
};

/* dir is created if needed. max_bytes per file, keep files at most. */
struct ct_feed_file *ct_feed_file_open(const char *dir, bool proto, uint64_t max_bytes,
				       unsigned keep, char *err, size_t errlen);
void ct_feed_file_write(struct ct_feed_file *f, const PbEvent *ev);
void ct_feed_file_flush(struct ct_feed_file *f);   /* once per loop iteration */
void ct_feed_file_get_stats(const struct ct_feed_file *f, struct ct_feed_file_stats *st);
void ct_feed_file_close(struct ct_feed_file *f);

/* Its status counters, read from a struct ct_feed_file_stats. */
extern const struct ct_counter_table ct_feed_file_counters;

#endif
