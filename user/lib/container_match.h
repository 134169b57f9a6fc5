/*
 * `--container ID|NAME` and `--pod UID|NAME` for the store and the feed:
 * which events a reference names, and the bloom keys that let a query
 * open only the blocks that can hold them.
 *
 * A container is named by its id (whole, or any prefix of at least 4 hex
 * digits), or its name; a pod by its UID, its name, or NAMESPACE/NAME.
 * Events of a runtime's monitor (conmon) are not the container's. A NET
 * event into a container's network namespace from outside it is that
 * container's too.
 */
#ifndef CT_CONTAINER_MATCH_H
#define CT_CONTAINER_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pb.h"

/* Bloom keys of an event's containers: "ctr:" + id, short id (12), name;
 * "pod:" + uid, name. add(ctx, key) per key. */
void ct_container_keys(const PbEvent *ev, void (*add)(void *ctx, const char *key), void *ctx);
/* The bloom key a reference is looked up by, into buf; false when the
 * reference cannot be (an id prefix other than 12 digits: every block). */
bool ct_container_ref_key(const char *ref, bool pod, char *buf, size_t len);

/* Does the event belong to the container / pod ref names? aliases are
 * the ids (pod UIDs) that ref's name was seen with, for events recorded
 * before the runtime's name was known. */
bool ct_event_in_container(const PbEvent *ev, const char *ref, char *const *aliases, size_t n);
bool ct_event_in_pod(const PbEvent *ev, const char *ref, char *const *aliases, size_t n);
/* The id (pod: UID) of the event's container that ref names by name, or
 * NULL: what a name stands for, learnt from the events that have it. */
const char *ct_event_container_named(const PbEvent *ev, const char *name, bool pod);
/* Is ref a valid reference (non-empty, printable, not too long)? */
bool ct_container_ref_valid(const char *ref);

#endif
