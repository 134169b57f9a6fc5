/*
 * Entries the kernel left in ct_wfiles and ct_wfds for processes that are
 * gone. A file closed at exit (or under a dup2) never passes close(2),
 * whose probe deletes them, and both maps are plain hashes.
 */
#ifndef CT_FILE_SWEEP_H
#define CT_FILE_SWEEP_H

#include <stdbool.h>
#include <stdint.h>
#include "file_kmaps.h"

#define SWEEP_NS   (30ull * 1000000000)
#define SWEEP_KEYS CT_WFILES_MAX   /* a pass covers a full map */

struct file_sweep {
	uint64_t last_ns;
	/* keys first, deletes after (a deleted key restarts the kernel's
	 * iteration): the keys found dead in one pass */
	struct dead_wfile { uint64_t key, open_ns; } *files;
	struct dead_wfd { struct ct_wfd_key key; uint64_t open_ns; } *fds;
};

void file_sweep_init(struct file_sweep *s);
void file_sweep_free(struct file_sweep *s);
/* Every SWEEP_NS: delete the entries of exited processes; adds how many
 * to *files and *fds. */
void file_sweep_tick(struct file_sweep *s, const struct ct_file_kmaps *m, uint64_t now,
		     uint64_t *files, uint64_t *fds);
/*
 * Delete the kernel's entry for an open whose process is gone (the file was
 * closed at exit, never by close(2)). Read again just before the delete:
 * the address may have gone to a live process's new open since (deleting
 * that would lose its close); what is left is the microsecond between
 * this read and the delete.
 */
bool file_delete_if_dead(const struct ct_file_kmaps *m, uint64_t key, uint64_t open_ns);

#endif
