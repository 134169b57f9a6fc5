/*
 * The container context of events, derived in the collector and cached per
 * cgroup id: the decoded cgroup path (container_decode.h), the nodename of
 * the container's UTS namespace (the pod name under Kubernetes), and the
 * runtime's names (container_names.h, off the event loop). The probes are
 * not involved: an event costs one hash lookup here once its cgroup is
 * known.
 */
#ifndef CT_CONTAINER_CTX_H
#define CT_CONTAINER_CTX_H

#include <stdbool.h>
#include <stdint.h>
#include "lib/container_decode.h"
#include "lib/counters.h"
#include "lib/pb.h"

#define CT_CTR_NAME_LEN 256
#define CT_CTR_REASON_LEN 160

/* A container as an event carries it: copies, valid while the buffer is. */
struct ct_container_buf {
	PbContainer pb;
	char id[CT_CTR_ID_LEN];
	char name[CT_CTR_NAME_LEN];
	char image[CT_CTR_NAME_LEN];
	char hostname[72];
	char pod_uid[CT_POD_UID_LEN];
	char pod_name[CT_CTR_NAME_LEN];
	char pod_namespace[CT_CTR_NAME_LEN];
	char runtime[24];
	char names_from[32];
	char unavailable[CT_CTR_REASON_LEN];
};

struct ct_containers_cfg {
	const char *proc_root;       /* "/proc" */
	const char *runtime_socket;  /* --runtime-socket (docker-compatible API), or NULL */
	const char *state_root;      /* prefix for the runtimes' state dirs ("" = /) */
};

struct ct_containers_stats {
	uint64_t cgroups_cached, containers_known;
	uint64_t hostname_reads, hostname_failures;
	uint64_t names_found, names_unavailable, names_queue_full, names_socket_queries;
	uint64_t netns_scans, netns_scans_deferred; /* past 20 a second */
	uint64_t unowned_cgroups;    /* named like a container or pod in a tree not root's */
	uint64_t cache_resets;       /* the tables were full and started over */
};

/* Start the names worker. Without it names are "unavailable". */
int ct_containers_init(const struct ct_containers_cfg *cfg);
void ct_containers_stop(void);

/* The container of a task (cgroup id, pid, net namespace), or NULL on the
 * host. The pid's UTS namespace is read when a container is first seen,
 * and again (at an exec, or once a second, up to 8 times) until it holds
 * a name of its own: a runtime names it just before the command starts.
 * now_mono_ns: the event's time (CLOCK_MONOTONIC), for those retries. */
const PbContainer *ct_container_of_task(struct ct_container_buf *out, uint64_t cgroup_id,
					uint32_t pid, uint32_t net_ns, bool exec, uint64_t now_mono_ns);
/* The container whose network namespace is netns (known from its
 * processes' events; else one walk of /proc per namespace and 10 s, at
 * most 20 walks a second), or NULL (the host's, a namespace of no
 * container, or one not walked for yet). */
const PbContainer *ct_container_of_netns(struct ct_container_buf *out, uint32_t netns);
void ct_containers_get_stats(struct ct_containers_stats *s);
/* container_* in `changetrace status` */
extern const struct ct_counter_table ct_containers_counters;

/* Deploy claims. A container by full id, an id prefix (at least 4 hex
 * digits, unique) or a name the runtime gave it; a pod by UID. The cgroup
 * is relative to the cgroup2 mount; id gets the full container id. */
int ct_container_cgroup(const char *ref, char *cgroup, size_t cg_len, char *id, size_t id_len,
			char *err, size_t errlen);
int ct_pod_cgroup(const char *uid, char *cgroup, size_t cg_len, char *err, size_t errlen);

#endif
