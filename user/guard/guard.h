/*
 * Guardrails: every change event (file, net) is checked against
 * the policy as it is collected; violations become GUARD events, and the
 * rule's action is carried out on the offending deploy's process tree:
 *   alert  the GUARD event only
 *   halt   SIGSTOP every process of the deploy (cgroup.freeze for the
 *          deploy's cgroups), deploy status HALTED until `deploy resume`
 *          or `deploy abort`
 *   kill   SIGKILL every process of the deploy (status ABORTED)
 * With tracepoints the violating operation has completed before any of
 * this: the guardrail limits the blast radius to that one operation.
 */
#ifndef CT_GUARD_H
#define CT_GUARD_H

#include <stdbool.h>
#include <stdint.h>
#include "lib/pb.h"
#include "lib/sink.h"
#include "policy.h"
#include "lib/counters.h"

struct ct_collector;
struct ct_deploy;
struct ct_exec_rules;

/* The exec rules' kernel maps and switch (guard/exec_guard.c), handed in
 * by the agent once the probes are loaded. */
struct ct_exec_maps {
	int names_fd;            /* ct_xnames: command name -> its rules */
	int rules_fd;            /* ct_xrules: the rules of both sets */
	int prov_fd;             /* ct_deploy_prov: what the rules test of a deploy */
	int xscope_fd;           /* ct_deploy_xscope: deploys' exec: scope entries */
	uint32_t *state;         /* ct_xr_state in the probes' data: the live set */
};

/* Per-agent guard state; lives in struct ct_agent, which fills in the
 * sink, the collector (event envelopes) and the kernel maps once the
 * probes are loaded. */
struct ct_guard {
	struct ct_policy policy;
	bool enabled;
	const char *policy_path;  /* reloaded on SIGHUP */
	uint64_t verdicts, halts, kills, enforce_failures;
	struct ct_sink sink;      /* GUARD and DEPLOY events go here */
	struct ct_collector *col;
	int tasks_fd;             /* ct_tasks: which process runs for which deploy */
	int deploy_flags_fd;      /* ct_deploy_flags: halted deploys' new execs stop */
	struct ct_exec_maps xmaps;
	/* the exec rules each set of maps holds and their policy generations
	 * (exec_guard.c); xsets[2] is where a policy is compiled */
	struct ct_exec_rules *xsets;
	uint32_t xset_gen[2], xlive_set, xlive_gen;
	uint64_t exec_rules;      /* exec rules in force in the kernel */
	uint64_t policy_generation; /* policies installed there: 1 at start, +1 per reload */
};

/* Load the policy file (if any) and apply --protect shorthands. */
int ct_guard_init(struct ct_guard *g, const char *policy_path,
		  char *const *protect, int n_protect, char *err, size_t errlen);
/* Re-read the policy file; on error keep the old policy. */
int ct_guard_reload(struct ct_guard *g, char *const *protect, int n_protect,
		    char *err, size_t errlen);
void ct_guard_free(struct ct_guard *g);

/* Called for every event the agent emits; acts on FILE and NET events. */
void ct_guard_on_event(struct ct_guard *g, const PbEvent *ev);

/* Stop / continue / kill every live process of the deploy in kernel slot
 * `slot` (from the task map) and its cgroups. Returns processes signalled. */
int ct_guard_signal_deploy(struct ct_guard *g, uint32_t slot, int sig,
			   uint32_t *pids, size_t max_pids);
/* A rule's halt (SIGSTOP) or kill (SIGKILL) on the deploy in slot: its
 * processes signalled and its status HALTED or ABORTED. */
int ct_guard_stop_deploy(struct ct_guard *g, struct ct_deploy *d, int sig,
			 uint32_t *pids, size_t max_pids);
/* A halt or kill carried out (done) or not, counted; returns done. */
bool ct_guard_enforced(struct ct_guard *g, int sig, bool done);

/* A human's decision on a halted deploy: resume (SIGCONT, unfreeze, status
 * RUNNING) or abort (SIGKILL, status ABORTED). Emits a DEPLOY event.
 * Returns the number of processes signalled, or -1 with err set. */
int ct_guard_decide(struct ct_guard *g, const char *deploy_id,
		    Changetrace__V1__DeployAction action, const PbProcess *actor,
		    uint32_t *pids, size_t max_pids, char *err, size_t errlen);

/* Its status counters, read from a struct ct_guard. */
extern const struct ct_counter_table ct_guard_counters;

#endif
