/*
 * The agent's deploy registry: deploy id <-> kernel slot, with provenance.
 * The kernel only knows a slot number (ct_task_attr.deploy_slot); every
 * name and provenance field lives here. Slots never move: they are saved
 * with the registry (STORE/deploys.pb) and reloaded at the same numbers,
 * so pinned task-map entries keep naming the right deploy after a restart.
 *
 * Slots 1..CT_KSLOT_FIRST-1 are handed out here; slots from CT_KSLOT_FIRST
 * are assigned by the exec probe to unregistered environment ids and only
 * adopted here (ct_deploys_adopt).
 */
#ifndef CT_DEPLOYS_H
#define CT_DEPLOYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "changetrace.h"
#include "lib/pb.h"

struct ct_deploy {
	uint32_t slot;           /* 1..CT_DEPLOY_SLOTS-1 */
	bool registered;         /* false: id seen but never registered */
	PbDeploy *pb;            /* owned copy (protobuf-c allocated) */
};

/* Find by id; NULL if unknown. */
struct ct_deploy *ct_deploys_find(const char *id);
struct ct_deploy *ct_deploys_by_slot(uint32_t slot);
/* Register or update a deploy from a (validated) message; fields that are
 * set in `d` override. Returns the entry or NULL when every slot is used. */
struct ct_deploy *ct_deploys_upsert(const PbDeploy *d, bool registered);
/* Name a slot the kernel assigned to an id nobody registered. NULL if the
 * slot is out of range or already names another deploy. */
struct ct_deploy *ct_deploys_adopt(const char *id, uint32_t slot);
/* Replace an entry's record (deep copy), e.g. to set its end. */
int ct_deploys_replace(struct ct_deploy *e, const PbDeploy *d);
size_t ct_deploys_count(void);
/* Whether every agent-assigned slot (1..CT_KSLOT_FIRST-1) is in use. */
bool ct_deploys_user_full(void);
/* Forget an entry (its slot becomes free). */
void ct_deploys_remove(struct ct_deploy *e);
/* Highest kernel-assigned slot in use, CT_KSLOT_FIRST-1 if none. */
uint32_t ct_deploys_max_kslot(void);
/* Entries in slot order; returns how many were stored in out (<= max). */
size_t ct_deploys_list(struct ct_deploy **out, size_t max);
void ct_deploys_free(void);
/* fn(ctx, slot) after a slot's record was placed, replaced or removed
 * (one watcher: the kernel's copy of what the exec rules test). */
void ct_deploys_watch(void (*fn)(void *ctx, uint32_t slot), void *ctx);

/* Persistence: a changetrace.v1.DeployRegistry message.
 * load: 0 loaded, 1 no file (empty registry), -1 unreadable or malformed
 * (message in err; the registry is left empty). save: temp file, fsync,
 * rename, fsync of the directory; 0 or -1 with a message. */
int ct_deploys_load(const char *path, char *err, size_t errlen);
int ct_deploys_save(const char *path, char *err, size_t errlen);

#endif
