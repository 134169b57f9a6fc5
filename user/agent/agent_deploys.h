/*
 * The agent's side of deploys: the registry (deploys.c) kept in line with
 * the kernel maps (ct_deploy_ids, ct_cgroups, ct_tasks), persisted after
 * every change, and every start/end emitted as an EVENT_KIND_DEPLOY event.
 */
#ifndef CT_AGENT_DEPLOYS_H
#define CT_AGENT_DEPLOYS_H

#include <stdbool.h>
#include "agent.h"
#include "store/deploys.h"
#include "lib/pb.h"

/* After the BPF object is loaded, before the probes attach: load the
 * registry, reconcile the pinned maps with it. */
int ct_agent_deploys_init(struct ct_agent *a);

/* Once the probes are attached: drop ct_tasks entries whose process is
 * gone or whose pid now names another process. Counted. */
void ct_agent_tasks_prune(struct ct_agent *a);

/* Start (register) a deploy. d is validated; reg is the peer. cgroup paths
 * in d->cgroups are claimed. NULL with a message in err on refusal. */
struct ct_deploy *ct_agent_deploy_start(struct ct_agent *a, const PbDeploy *d,
					const PbRegistrant *reg, char *err, size_t errlen);
/* End a running deploy with a final status. */
struct ct_deploy *ct_agent_deploy_end(struct ct_agent *a, const char *id,
				      Changetrace__V1__DeployStatus status,
				      char *err, size_t errlen);
/* Register an id implicitly seen (wrapper with --unregistered). */
struct ct_deploy *ct_agent_deploy_seen(struct ct_agent *a, const char *id,
				       char *err, size_t errlen);
/* Emit again a start or end whose event was lost (an agent killed before
 * its block was stored), flagged recovered, at its original time. */
void ct_agent_deploy_reemit(struct ct_agent *a, const struct ct_deploy *e,
			    Changetrace__V1__DeployAction action, uint64_t wall_ns);
/* Announce deploys named while an event was being built (after it). */
void ct_agent_deploys_flush(struct ct_agent *a);
/* Persist the registry; failures are counted and logged. */
void ct_agent_deploys_save(struct ct_agent *a);

/* Resolve a cgroup path (absolute under the cgroup2 mount, or relative to
 * it) to its id and its path relative to the mount. 0 or -1 + message. */
int ct_cgroup_resolve(const char *path, uint64_t *id, char *rel, size_t rel_len,
		      char *err, size_t errlen);

#endif
