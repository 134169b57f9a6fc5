/*
 * The collector's view of process images: exe, argv and cwd as each exec
 * gave them. Seeded from /proc at start so processes older than the agent
 * are known, then kept from exec and exit records.
 *
 * An entry is one image, named by (pid, start_ns, image_seq): a change
 * record names the image that made it, and its record may be decoded
 * after that process exec'd again or exited (the rings are separate and
 * file changes settle before they are reported). So an exec or exit
 * retires the image it ends instead of forgetting it; retired images are
 * kept CT_PROC_RETAIN_NS. Bounded (retired images go first); overflow
 * counted.
 */
#ifndef CT_PROC_CACHE_H
#define CT_PROC_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/counters.h"

#define CT_PROC_RETAIN_NS (30ull * 1000000000ull)

struct ct_proc {
	struct ct_proc *next, **pprev; /* hash chain (proc_cache.c) */
	struct ct_proc *retired_next; /* retired images, oldest first */
	uint32_t pid, ppid;
	uint64_t start_ns;       /* boot-relative; (pid, start_ns) names a process */
	uint64_t image_seq;      /* ct_task.image_seq of this image, when image_known */
	uint64_t exec_id;        /* from its exec record; 0 when read from /proc */
	uint64_t retired_ns;     /* 0: the current image of its pid */
	bool image_known;
	char comm[16];
	char *exe;               /* may be NULL */
	char *cwd;               /* may be NULL */
	char *args;              /* NUL-separated argv, args_len bytes */
	size_t args_len;
};

struct ct_proc_stats {
	uint64_t entries, seeded, overflow;
	uint64_t retired;        /* images kept after their exec or exit */
};

int ct_proc_cache_init(size_t max_entries);
void ct_proc_cache_free(void);
/* Load every process in /proc. Returns the number seeded. */
size_t ct_proc_seed(const char *proc_root);
/* The current image of pid. */
struct ct_proc *ct_proc_lookup(uint32_t pid);
/* One image, current or retired. */
struct ct_proc *ct_proc_image(uint32_t pid, uint64_t start_ns, uint64_t image_seq);
/* An image of pid with this image_seq, whatever its start (a forked
 * child runs its parent's image: same image_seq). */
struct ct_proc *ct_proc_image_of_pid(uint32_t pid, uint64_t image_seq);
/* An exec record: the new current image of pid; the one before is retired. */
struct ct_proc *ct_proc_exec(uint32_t pid, uint32_t ppid, uint64_t start_ns, uint64_t image_seq,
			     uint64_t exec_id, const char *comm, const char *exe, const char *cwd,
			     const char *args, size_t args_len);
/* What /proc says of pid (image not known). A current image of the same
 * process that an exec record gave is kept: its argv is from exec time. */
struct ct_proc *ct_proc_update(uint32_t pid, uint32_t ppid, uint64_t start_ns,
			       const char *comm, const char *exe, const char *cwd,
			       const char *args, size_t args_len);
/* The image a change record names is this one (read from /proc). */
void ct_proc_adopt(struct ct_proc *p, uint64_t image_seq);
/* The process exited: its current image is retired. */
void ct_proc_remove(uint32_t pid);
/* Free images retired more than CT_PROC_RETAIN_NS before now. */
void ct_proc_expire(uint64_t now_mono_ns);
/* Read one live process from /proc (used on a cache miss). */
struct ct_proc *ct_proc_load(const char *proc_root, uint32_t pid);
void ct_proc_get_stats(struct ct_proc_stats *s);

/* Start times from /proc (clock ticks) and from the kernel (ns) differ in
 * precision; this says whether they name the same process. */
int ct_proc_same_start(uint64_t a_ns, uint64_t b_ns);

/* Its status counters, read from a struct ct_proc_stats. */
extern const struct ct_counter_table ct_proc_counters;

#endif
