/*
 * Container and Kubernetes pod from a cgroup path, with no runtime API:
 * the names runtimes and the kubelet give their cgroups, under both the
 * systemd and the cgroupfs cgroup drivers:
 *
 *   docker        system.slice/docker-<id>.scope          /docker/<id>
 *   containerd    .../cri-containerd-<id>.scope           .../pod<uid>/<id>
 *                 (cgroup v1 views: ...pod<uid>.slice:cri-containerd:<id>)
 *   CRI-O         .../crio-<id>.scope, crio-conmon-<id>.scope, crio-<id>
 *   podman        machine.slice/libpod-<id>.scope, libpod-conmon-<id>.scope,
 *                 /libpod_parent/libpod-<id>
 *   nspawn        machine.slice/machine-<name>.scope (systemd-escaped),
 *                 machine.slice/systemd-nspawn@<name>.service (machinectl)
 *   Kubernetes    kubepods.slice/kubepods-<qos>.slice/kubepods-<qos>-pod<uid_>.slice
 *                 /kubepods/<qos>/pod<uid>   (guaranteed pods have no <qos>)
 *
 * The first container on the path is the one: what lies below it was made
 * by the container itself and may carry any name.
 *
 * Pure string work (unit-tested on real path samples); the collector
 * caches the result per cgroup id.
 */
#ifndef CT_CONTAINER_DECODE_H
#define CT_CONTAINER_DECODE_H

#include <stdbool.h>
#include <stddef.h>

enum ct_ctr_runtime {
	CT_RT_NONE = 0,          /* not a container */
	CT_RT_UNKNOWN,           /* a container id, the path does not say whose */
	CT_RT_DOCKER,
	CT_RT_CONTAINERD,
	CT_RT_CRIO,
	CT_RT_PODMAN,
	CT_RT_NSPAWN,
};

enum ct_pod_qos {
	CT_QOS_NONE = 0,
	CT_QOS_GUARANTEED,
	CT_QOS_BURSTABLE,
	CT_QOS_BESTEFFORT,
};

#define CT_CTR_ID_LEN 65         /* 64 hex + NUL; a machine name fits too */
#define CT_POD_UID_LEN 37

struct ct_cgroup_ctr {
	enum ct_ctr_runtime runtime;
	bool monitor;            /* the runtime's monitor (conmon), not the container */
	char id[CT_CTR_ID_LEN];  /* "" when the path names no container */
	size_t ctr_end;          /* path[0..ctr_end) is the container's cgroup */
	enum ct_pod_qos qos;
	char pod_uid[CT_POD_UID_LEN]; /* "" when not in a pod */
	size_t pod_end;          /* path[0..pod_end) is the pod's cgroup */
};

/* Decode a cgroup path ("/kubepods.slice/..."). Returns true when it names
 * a container or a pod; *out is filled either way. */
bool ct_cgroup_decode(const char *path, struct ct_cgroup_ctr *out);
/* "docker", "containerd", "cri-o", "podman", "systemd-nspawn", "" */
const char *ct_runtime_name(enum ct_ctr_runtime rt);
/* "guaranteed", "burstable", "besteffort", "" */
const char *ct_qos_name(enum ct_pod_qos q);
/* A full container id: 64 lower-case hex digits. */
bool ct_is_container_id(const char *s, size_t len);
/* A pod UID: 8-4-4-4-12 hex digits, dashes (or the systemd form's
 * underscores) between. Copies the dashed form to out when given. */
bool ct_parse_pod_uid(const char *s, size_t len, char out[CT_POD_UID_LEN]);

#endif
