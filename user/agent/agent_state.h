/*
 * The agent's run state in its store directory, which is what makes a
 * restart say what happened before it:
 *
 *  STORE/agent.lock   flock'd by the agent writing the store (one at a
 *                     time); it holds that agent's pid, so a new agent
 *                     waits for a killed one that is still exiting and
 *                     refuses to share the store with a live one.
 *  STORE/agent.state  this run: pid, boot, start, last sign of life
 *                     (every second), clean stop time and last seq, and
 *                     the seqs reserved for it. A state with no clean stop
 *                     is an agent that was killed or crashed.
 *
 * Seqs are handed out only up to a reservation persisted (fsync) before
 * any of them is used (CT_SEQ_RESERVE at a time, renewed by the 1 s tick
 * once half is used, by the event path only when a burst outruns it), so
 * an agent that dies
 * with events not yet in the store never sees its successor reuse their
 * seqs, nor their event ids: the successor starts past the reservation.
 */
#ifndef CT_AGENT_STATE_H
#define CT_AGENT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CT_SEQ_RESERVE 4096

struct ct_run_state {
	uint32_t pid;
	char boot_id[40];
	uint64_t started_ns;      /* wall clock */
	uint64_t alive_ns;        /* last sign of life */
	uint64_t stopped_ns;      /* clean stop; 0: running, or killed */
	uint64_t seq_reserved;    /* seqs up to here may have been handed out */
	uint64_t last_seq;        /* at a clean stop: the last seq used */
	/* an unclean stop not yet recorded in the store (its GAP event), kept
	 * until a run records it, so a second crash first does not lose it */
	uint64_t down_since_ns;   /* 0: none pending */
	uint32_t down_pid;
	uint64_t down_first_seq, down_last_seq;
};

struct ct_agent_state {
	char dir[4096];
	int lock_fd;
	bool prev_found;          /* a state file was there */
	bool prev_unclean;        /* ...and its agent did not stop cleanly */
	struct ct_run_state prev; /* as the previous run left it */
	struct ct_run_state cur;  /* this run */
	uint64_t write_failures;
};

/* Take the store's lock (waiting up to 30 s for a holder that is
 * exiting), read the previous run's state. 0, or -1 with a message. */
int ct_agent_state_open(struct ct_agent_state *s, const char *dir, char *err, size_t errlen);
/* Where this run's seqs start: past everything the previous runs may
 * have handed out, stored or not. */
uint64_t ct_agent_state_first_seq(const struct ct_agent_state *s, uint64_t store_last_seq);
/* Record this run as started, with seqs reserved up to `reserved` and
 * the unclean stop to report (down_*) if any. Durable. */
int ct_agent_state_start(struct ct_agent_state *s, uint64_t reserved);
/* Persist (fsync) a reservation of seqs up to `upto`. */
int ct_agent_state_reserve(struct ct_agent_state *s, uint64_t upto);
/* The unclean stop is recorded in the store now: forget it. Durable. */
int ct_agent_state_down_reported(struct ct_agent_state *s);
/* Once a second: the last sign of life (not synced). */
void ct_agent_state_heartbeat(struct ct_agent_state *s);
/* Shutting down: a successor waits for the lock instead of refusing. */
void ct_agent_state_stopping(struct ct_agent_state *s);
/* Clean stop: last seq used, stop time. Releases the lock. */
void ct_agent_state_close(struct ct_agent_state *s, uint64_t last_seq);

#endif
