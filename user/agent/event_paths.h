/*
 * The two event paths: a bulk ring buffer for process events and
 * a change ring buffer reserved for config and network-policy changes.
 * This file watches both: occupancy high-water marks (sampled from the
 * ring's producer/consumer positions, mapped read-only), and drops turned
 * into GAP events so a loss is recorded in the stream, never silent.
 */
#ifndef CT_EVENT_PATHS_H
#define CT_EVENT_PATHS_H

#include <stdint.h>
#include "changetrace.h"

struct ct_agent;

struct ct_ring_watch {
	const char *name;
	void *map;               /* 2 read-only pages: consumer, producer */
	volatile unsigned long *cons, *prod;
	uint64_t capacity;
	uint64_t high_water;
};

struct ct_paths {
	struct ct_ring_watch ring[CT_PATH_MAX];
	uint64_t drops_seen[CT_CNT_MAX];   /* counter values already reported */
	uint64_t last_check_ns;
	uint64_t gap_events;
};

int ct_paths_init(struct ct_paths *p, int bulk_fd, uint64_t bulk_bytes,
		  int change_fd, uint64_t change_bytes);
/* Sample occupancy; call before draining the rings. */
void ct_paths_sample(struct ct_paths *p);
/* Compare drop counters with what was reported; emit one GAP event per
 * kind that lost events since the last check. */
void ct_paths_check_drops(struct ct_paths *p, struct ct_agent *a);
void ct_paths_close(struct ct_paths *p);

#endif
