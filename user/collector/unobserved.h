/*
 * What changed while no agent watched. At every start the agent compares
 * what it finds with the last known state (store/last_state.h) before it trusts
 * its live view alone: each watched file that differs is one FILE event
 * marked unobserved (content, created, deleted, mode or owner, a regular
 * file replaced by a symlink; a /proc/sys value), each followed namespace
 * whose ruleset differs gives NET events marked unobserved, all carrying
 * the window from the previous run's last stored event to this start,
 * attributed to no deploy and not counted as drift. A GAP event
 * (AGENT_DOWN) says the window and how many changes were found in it.
 *
 * The files are compared by the baseline thread (file_content.c) while
 * the probes already follow live changes: a path the collector sees a
 * record for before the comparison is over is left to its live event. The
 * differences are emitted together once the walk is done and the rings
 * are drained. First start, a path newly watched and a namespace not
 * followed before: baseline only, no events.
 */
#ifndef CT_UNOBSERVED_H
#define CT_UNOBSERVED_H

#include <stdbool.h>
#include <stdint.h>
#include "event.h"
#include "file_content.h"
#include "lib/counters.h"
#include "store/last_state.h"

/* What a start compares against. */
enum ct_last_state_mode {
	CT_LAST_STATE_OFF,         /* --no-store */
	CT_LAST_STATE_FIRST,       /* a new store: baseline */
	CT_LAST_STATE_COMPARED,    /* the previous run's state */
	CT_LAST_STATE_WIPED,       /* the store this directory held is gone */
	CT_LAST_STATE_LOST,        /* the store is there, its state file is not */
	CT_LAST_STATE_UNREADABLE,  /* moved aside */
};

struct ct_unobserved_cfg {
	const char *store_dir;     /* NULL: off */
	const char *blob_dir;      /* versions, for content_kept and sysctl values */
	const char *store_id;
	uint64_t store_last_seq;
	uint64_t hash_max;         /* files larger are compared by size, mtime, inode */
	struct ct_collector *col;  /* envelopes; its emit is the agent's */
	char *const *roots;        /* watched paths (copied) */
	int n_roots;
	/* every event emitted so far on disk (before a snapshot names its seq) */
	void (*store_sync)(void *ctx);
	/* Which store the agent last followed, kept where wiping the store does
	 * not reach (besides the crumb file next to the store directory, which
	 * a hardened service cannot write): found at start (id "" if none),
	 * and remembered after each snapshot (called from the writer thread). */
	char remembered_id[17];
	uint64_t remembered_seq, remembered_time;
	void (*remember)(void *ctx, const char *store_id, uint64_t seq, uint64_t time_ns);
	void *ctx;
};

struct ct_unobserved_stats {
	uint64_t changes;          /* unobserved events emitted */
	uint64_t files_compared;   /* files the comparison read and compared */
	uint64_t superseded;       /* differences left to a live event (changed during the comparison) */
	uint64_t dropped;          /* differences or readings not kept: out of memory */
	uint64_t compare_ms;       /* walk and comparison */
	uint64_t compare_done;     /* 1 once the differences are emitted and the state saved */
	uint64_t replayed;         /* store events applied to the loaded snapshot */
	uint64_t snapshots, snapshot_failures, snapshot_ms;
	uint64_t state_files, state_rulesets;
	uint64_t window_from_ns, window_to_ns;
};

/* Before the probes: load the snapshot and the store's events after it,
 * decide the mode and say it (stderr). May move col->seq forward. */
void ct_unobserved_open(const struct ct_unobserved_cfg *cfg);
/* The baseline walk's hook (NULL when off). */
const struct ct_baseline_hook *ct_unobserved_baseline_hook(void);
/* After the probes are attached: the rulesets of the host and of every
 * named namespace, against the state (the ruleset worker must run). */
void ct_unobserved_compare_net(void);
/* The collector saw a record for this path (live). */
void ct_unobserved_touched(const char *path);
/* Every event the agent emits: keeps the state current. */
void ct_unobserved_on_emit(const PbEvent *ev);
/* From the agent's loop: emits the differences once the comparison is
 * done; timer: also saves the state when it changed (every minute at most,
 * sooner after many changes). */
void ct_unobserved_tick(bool timer);
/* Differences are being emitted: the loop should not sleep. */
bool ct_unobserved_busy(void);
/* Agent stopping (after its last event): save, unless the comparison never
 * finished (then the old snapshot and the store's events stay the truth). */
void ct_unobserved_close(void);

enum ct_last_state_mode ct_unobserved_mode(void);
const char *ct_unobserved_mode_name(enum ct_last_state_mode m);
const char *ct_unobserved_detail(void);
void ct_unobserved_get_stats(struct ct_unobserved_stats *st);
/* Its status counters, read from a struct ct_unobserved_stats. */
extern const struct ct_counter_table ct_unobserved_counters;

/* Pure, for tests: the FileOp of the difference between what was known
 * and what is there now (either may be NULL: created / deleted), or 0 when
 * they are the same. Sysctl paths compare their value only. */
int ct_unobserved_file_op(const struct ct_known_file *before, const struct ct_known_file *now,
			  uint64_t hash_max);
/* A sysctl whose value changes by itself (a counter, a kernel-tuned rate):
 * not compared. */
bool ct_unobserved_sysctl_volatile(const char *path);

#endif
