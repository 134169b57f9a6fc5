/*
 * The collector's view of live processes: exe, argv and cwd by pid.
 * Seeded from /proc at start so processes older than the agent are known,
 * then kept current from exec and exit events. Bounded; overflow counted.
 */
#ifndef CT_PROC_CACHE_H
#define CT_PROC_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct ct_proc {
	struct ct_proc *next;    /* hash chain */
	uint32_t pid, ppid;
	uint64_t start_ns;       /* boot-relative; (pid, start_ns) names a process */
	char comm[16];
	char *exe;               /* may be NULL */
	char *cwd;               /* may be NULL */
	char *args;              /* NUL-separated argv, args_len bytes */
	size_t args_len;
};

struct ct_proc_stats {
	uint64_t entries, seeded, overflow;
};

int ct_proc_cache_init(size_t max_entries);
void ct_proc_cache_free(void);
/* Load every process in /proc. Returns the number seeded. */
size_t ct_proc_seed(const char *proc_root);
struct ct_proc *ct_proc_lookup(uint32_t pid);
/* Insert or replace the entry for pid (after an exec). */
struct ct_proc *ct_proc_update(uint32_t pid, uint32_t ppid, uint64_t start_ns,
			       const char *comm, const char *exe, const char *cwd,
			       const char *args, size_t args_len);
void ct_proc_remove(uint32_t pid);
/* Read one live process from /proc (used on a cache miss). */
struct ct_proc *ct_proc_load(const char *proc_root, uint32_t pid);
void ct_proc_get_stats(struct ct_proc_stats *s);

/* Start times from /proc (clock ticks) and from the kernel (ns) differ in
 * precision; this says whether they name the same process. */
int ct_proc_same_start(uint64_t a_ns, uint64_t b_ns);

#endif
