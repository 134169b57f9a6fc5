/*
 * What an agent records at start about the run before it (agent_state.h
 * keeps the facts): where its seqs start (past every seq the previous run
 * may have used), when nothing was traced, and, after an unclean stop
 * (SIGKILL, crash), a GAP event with path AGENT_DOWN for the window and
 * the seqs that never reached the store, and the deploy starts and ends
 * the registry has but the store lost, emitted again (recovered).
 */
#ifndef CT_AGENT_RESTART_H
#define CT_AGENT_RESTART_H

#include "agent.h"

/* After the store is open: seqs, reservation, the unclean stop to report.
 * 0, or -1 when this run's state cannot be written. */
int ct_agent_restart_begin(struct ct_agent *a);
/* The "started" event's account of the previous stop. */
void ct_agent_restart_fill_started(struct ct_agent *a, PbAgentDetail *d);
/* Once a second: the next seq reservation when half of this one is used
 * (so the event path rarely waits for one), else a sign of life. */
void ct_agent_restart_tick(struct ct_agent *a);
/* After the "started" event: the GAP event and recovered deploy events,
 * on disk before the unclean stop is forgotten. */
void ct_agent_restart_report(struct ct_agent *a);

#endif
