/*
 * The start-up comparison with the last known state (collector/
 * unobserved.h), wired to the agent: its store, the watched paths as they
 * are at start, syncing the store, and remembering which store it was.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "agent.h"
#include "collector/unobserved.h"
#include "lib/util.h"
#include "store/store.h"

/*
 * Which store the agent last followed, in a one-entry map pinned in the
 * pin dir: it outlives a wiped store and is writable under the hardened
 * service (the crumb file beside the store is not), though not a reboot.
 */
#define REMEMBER_PIN "ct_last_store"

struct remembered {
	char store_id[16];
	uint64_t seq, time_ns;
	uint64_t dir_hash;       /* of the store directory: another --store is no wipe */
};

static char remember_path[PATH_MAX];
static int remember_fd = -1;
static uint64_t store_dir_hash;

static uint64_t hash_dir(const char *dir)
{
	char real[PATH_MAX];
	const char *s = realpath(dir, real) ? real : dir;
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static void remember(void *ctx, const char *store_id, uint64_t seq, uint64_t time_ns)
{
	struct remembered r = { .seq = seq, .time_ns = time_ns };
	uint32_t key = 0;

	if (remember_fd == -1) {
		remember_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, REMEMBER_PIN, sizeof(key),
					     sizeof(r), 1, NULL);
		if (remember_fd >= 0 && bpf_obj_pin(remember_fd, remember_path) < 0) {
			close(remember_fd);
			remember_fd = -1;
		}
		if (remember_fd < 0) {
			remember_fd = -2;	/* only the crumb file then; not tried again */
			return;
		}
	}
	if (remember_fd < 0)
		return;
	memcpy(r.store_id, store_id, sizeof(r.store_id));
	r.dir_hash = store_dir_hash;
	bpf_map_update_elem(remember_fd, &key, &r, BPF_ANY);
}

/* The pinned map, if it is one this agent made (its layout checked before
 * a read: the pin dir is not ours alone). */
static int open_remembered(void)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	int fd = bpf_obj_get(remember_path);

	if (fd < 0)
		return -1;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0 || info.type != BPF_MAP_TYPE_ARRAY ||
	    info.key_size != sizeof(uint32_t) || info.value_size != sizeof(struct remembered) ||
	    info.max_entries < 1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void recall(struct ct_agent *a, struct ct_unobserved_cfg *cfg)
{
	struct remembered r;
	uint32_t key = 0;

	if (snprintf(remember_path, sizeof(remember_path), "%s/%s", a->opts.pin_dir,
		     REMEMBER_PIN) >= (int)sizeof(remember_path))
		return;
	store_dir_hash = hash_dir(a->opts.store_dir);
	remember_fd = open_remembered();
	if (remember_fd < 0 || bpf_map_lookup_elem(remember_fd, &key, &r) < 0 ||
	    r.dir_hash != store_dir_hash)
		return;
	for (size_t i = 0; i < sizeof(r.store_id); i++)
		if (!strchr("0123456789abcdef", r.store_id[i]) || !r.store_id[i])
			return;
	memcpy(cfg->remembered_id, r.store_id, sizeof(r.store_id));
	cfg->remembered_id[16] = '\0';
	cfg->remembered_seq = r.seq;
	cfg->remembered_time = r.time_ns;
}

static void sync_store(void *ctx)
{
	struct ct_agent *a = ctx;

	if (a->store) {
		ct_store_flush(a->store);
		ct_store_sync(a->store);
	}
}

/* After the store is open, before the probes. The roots are the watch
 * list now: a path a SIGHUP adds later is not walked at this start, so it
 * is not part of what the next start compares. */
void ct_agent_open_last_state(struct ct_agent *a)
{
	char *roots[CT_WATCH_MAX];
	static char blobs[4096];
	struct ct_unobserved_cfg cfg = {
		.hash_max = a->opts.hash_max,
		.col = &a->col,
		.roots = roots,
		.n_roots = a->watches.n,
		.store_sync = sync_store,
		.remember = remember,
		.ctx = a,
	};

	for (int i = 0; i < a->watches.n; i++)
		roots[i] = a->watches.w[i].path;
	if (a->store) {
		snprintf(blobs, sizeof(blobs), "%s/blobs", a->opts.store_dir);
		cfg.store_dir = a->opts.store_dir;
		cfg.blob_dir = blobs;
		cfg.store_id = ct_store_id(a->store);
		cfg.store_last_seq = ct_store_last_seq(a->store);
		recall(a, &cfg);
	}
	ct_unobserved_open(&cfg);
}
