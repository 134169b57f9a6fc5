/*
 * A container's name, image and pod from its runtime, read where it can be
 * had locally and cheaply, on a worker thread (never the event loop):
 *
 *   podman, CRI-O  containers/storage's containers.json (names, image), and
 *                  the OCI bundle's config.json annotations (CRI-O: pod)
 *   docker         /var/lib/docker/containers/<id>/config.v2.json
 *   containerd     /run/containerd/io.containerd.runtime.v2.task/<ns>/<id>/config.json
 *                  (the CRI's annotations: container, image, pod, namespace)
 *   --runtime-socket  a docker-compatible API (docker, `podman system service`):
 *                  GET /containers/<id>/json, asked first when given
 *
 * What is not found is said plainly (names_unavailable), never guessed.
 */
#ifndef CT_CONTAINER_NAMES_H
#define CT_CONTAINER_NAMES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/container_decode.h"

enum ct_names_state {
	CT_NAMES_PENDING = 0,    /* the worker owns the fields below */
	CT_NAMES_FOUND,          /* read-only from here on */
	CT_NAMES_UNAVAILABLE,    /* reason says why; may be asked again */
};

#define CT_NAME_LEN 256

struct ct_ctr_names {
	_Atomic int state;       /* enum ct_names_state */
	/* asked */
	char id[CT_CTR_ID_LEN];
	enum ct_ctr_runtime hint;
	/* answered */
	enum ct_ctr_runtime runtime; /* where it was found (refines CT_RT_UNKNOWN) */
	char name[CT_NAME_LEN];
	char image[CT_NAME_LEN];
	char pod_name[CT_NAME_LEN];
	char pod_namespace[CT_NAME_LEN];
	char from[32];           /* "podman storage", "docker state", ... */
	char reason[160];        /* when unavailable */
};

struct ct_names_stats {
	uint64_t found, unavailable, queue_full, socket_queries;
};

/* root: prefix of the runtimes' state directories ("" on a host; tests use
 * a directory of fixtures). socket: --runtime-socket or NULL. */
int ct_names_start(const char *root, const char *socket);
void ct_names_stop(void);
/* Hand n (state PENDING) to the worker; false when its queue is full. The
 * caller keeps n alive until the state leaves PENDING. */
bool ct_names_request(struct ct_ctr_names *n);
/* The same lookup, on the calling thread (tests; deploy claims). */
void ct_names_lookup(const char *root, const char *socket, struct ct_ctr_names *n);
/* Full ids of the containers the runtimes' state names `name` (at most
 * max); returns how many. */
size_t ct_names_find_by_name(const char *root, const char *name, char (*ids)[CT_CTR_ID_LEN],
			     size_t max);
void ct_names_get_stats(struct ct_names_stats *s);

#endif
