/*
 * The kernel's maps of files open for write and of bursts, as the file
 * collector reads and writes them: ct_wfiles (open file -> its writes),
 * ct_wfds ((process, fd) -> open file) and ct_wbursts (reopens folded in
 * the kernel). Behind function pointers so a unit test drives the
 * collector with maps of its own; ct_file_kmaps_bpf is the real one.
 *
 * Every call returns 0 on success and -1 otherwise (no such entry, no
 * such map, an entry that exists already for burst_create).
 */
#ifndef CT_FILE_KMAPS_H
#define CT_FILE_KMAPS_H

#include <stdint.h>
#include "changetrace.h"

struct ct_file_kmaps {
	int (*wfile_get)(void *ctx, uint64_t file, struct ct_wfile *out);
	int (*wfile_delete)(void *ctx, uint64_t file);
	/* the key after prev (NULL: the first); the order is the map's */
	int (*wfile_next)(void *ctx, const uint64_t *prev, uint64_t *next);
	int (*wfd_get)(void *ctx, const struct ct_wfd_key *k, struct ct_wfd *out);
	int (*wfd_delete)(void *ctx, const struct ct_wfd_key *k);
	int (*wfd_next)(void *ctx, const struct ct_wfd_key *prev, struct ct_wfd_key *next);
	/* a new entry only: the collector owns the bursts it creates */
	int (*burst_create)(void *ctx, const struct ct_wburst_key *k, const struct ct_wburst *b);
	int (*burst_get)(void *ctx, const struct ct_wburst_key *k, struct ct_wburst *out);
	/* read and delete in one step: nothing folded in between is lost */
	int (*burst_take)(void *ctx, const struct ct_wburst_key *k, struct ct_wburst *out);
	void *ctx;
};

/* The maps by fd (<= 0: that map is absent, every call on it fails). */
struct ct_file_map_fds {
	int wfiles, wfds, wbursts;
};

/* m calls libbpf on the maps in fds, which must outlive it. */
void ct_file_kmaps_bpf(struct ct_file_kmaps *m, struct ct_file_map_fds *fds);

#endif
