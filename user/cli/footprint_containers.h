/*
 * The containers and Kubernetes pods a deploy touched, from its events
 * (the acting process's container, and a NET change's namespace owner):
 * part of `deploy show`'s footprint.
 */
#ifndef CT_FOOTPRINT_CONTAINERS_H
#define CT_FOOTPRINT_CONTAINERS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "lib/pb.h"

struct ct_fp_container {
	char *id, *runtime, *name, *image;   /* the names last seen for it */
	char *pod_uid;
	uint64_t events;
};

struct ct_fp_pod {
	char *uid, *name, *ns;
	uint64_t events;
};

struct ct_fp_containers {
	struct ct_fp_container *c;
	size_t n, cap;
	struct ct_fp_pod *p;
	size_t n_pods, cap_pods;
	bool oom;
};

void ct_fp_containers_add(struct ct_fp_containers *fc, const PbEvent *ev);
void ct_fp_containers_print_text(FILE *out, const struct ct_fp_containers *fc);
/* ,"containers":[...],"pods":[...] */
void ct_fp_containers_print_json(FILE *out, const struct ct_fp_containers *fc);
void ct_fp_containers_free(struct ct_fp_containers *fc);

#endif
