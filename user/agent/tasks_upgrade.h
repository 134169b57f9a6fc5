/*
 * ct_tasks pinned by a version whose entries carried no start time
 * (struct ct_task_attr without start_ticks). Such an entry cannot say
 * which process its pid meant, but one can be kept when its pid's process
 * started before that version's agent stopped: had the entry's process
 * died while that agent ran, its exit probe would have removed the entry,
 * and a process that got the pid after the agent stopped started after.
 * The store's newest event is the agent's last word (its "stopped"
 * event, or its last block if it was killed), so that is the cutoff.
 */
#ifndef CT_TASKS_UPGRADE_H
#define CT_TASKS_UPGRADE_H

#include "agent.h"

/* Before the BPF object is loaded: take the entries of an old-format
 * ct_tasks pinned at path and remove the pin (the new map is made). */
void ct_tasks_upgrade_take(struct ct_agent *a, const char *path);
/* After the load, before the probes attach: put back, with their start
 * time, the entries whose process started before the cutoff; the others
 * are dropped (task_entries_unverifiable). Logged. */
void ct_tasks_upgrade_restore(struct ct_agent *a);

#endif
