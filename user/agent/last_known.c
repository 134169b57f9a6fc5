/*
 * The start-up comparison with the last known state (collector/
 * unobserved.h), wired to the agent: its store, the watched paths as they
 * are at start, and the two things only the agent can do for it (sync the
 * store, drain the rings).
 */
#include <stdio.h>

#include "agent.h"
#include "collector/unobserved.h"
#include "store/store.h"

static void sync_store(void *ctx)
{
	struct ct_agent *a = ctx;

	if (a->store) {
		ct_store_flush(a->store);
		ct_store_sync(a->store);
	}
}

static void drain(void *ctx)
{
	ct_agent_drain(ctx);
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
		.drain = drain,
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
	}
	ct_unobserved_open(&cfg);
}
