/* Old-format pinned ct_tasks entries. See tasks_upgrade.h. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "agent.h"
#include "store/store.h"
#include "lib/task_identity.h"
#include "lib/util.h"
#include "tasks_upgrade.h"

/* the value before start_ticks was added */
#define OLD_VALUE_SIZE offsetof(struct ct_task_attr, start_ticks)

struct old_entry {
	uint32_t pid;
	struct ct_task_attr attr;
};

static struct old_entry *old;
static size_t n_old;

void ct_tasks_upgrade_take(struct ct_agent *a, const char *path)
{
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info), k, next;
	size_t cap = 0;
	int fd = bpf_obj_get(path), rc;

	if (fd < 0)
		return;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0 ||
	    info.value_size == sizeof(struct ct_task_attr)) {
		close(fd);
		return;
	}
	for (rc = bpf_map_get_next_key(fd, NULL, &k); rc == 0;
	     rc = bpf_map_get_next_key(fd, &k, &next), k = next) {
		struct old_entry e = { .pid = k };

		a->tasks_unverifiable++;
		if (info.value_size != OLD_VALUE_SIZE ||
		    bpf_map_lookup_elem(fd, &k, &e.attr) < 0)
			continue;	/* a layout this version does not know */
		if (n_old == cap) {
			struct old_entry *n = realloc(old, (cap = cap ? 2 * cap : 256) * sizeof(*n));

			if (!n)
				break;
			old = n;
		}
		e.attr.start_ticks = 0;
		old[n_old++] = e;
	}
	close(fd);
	unlink(path);
}

/* Wall clock of a start time in clock ticks since boot. */
static uint64_t ticks_to_wall(uint64_t ticks)
{
	struct timespec bt;

	clock_gettime(CLOCK_BOOTTIME, &bt);
	return ct_now_wall_ns() - ((uint64_t)bt.tv_sec * 1000000000ull + bt.tv_nsec) +
	       ticks * ct_ns_per_tick();
}

void ct_tasks_upgrade_restore(struct ct_agent *a)
{
	uint64_t cutoff = a->store ? ct_store_last_time(a->store) : 0, kept = 0;

	if (!a->tasks_unverifiable)
		return;
	for (size_t i = 0; i < n_old; i++) {
		uint64_t ticks;

		/* a tick's margin: its start may be up to a tick past its value */
		if (!cutoff || ct_task_start_ticks(old[i].pid, &ticks) < 0 ||
		    ticks_to_wall(ticks) + ct_ns_per_tick() >= cutoff)
			continue;
		old[i].attr.start_ticks = ticks;
		if (bpf_map_update_elem(a->tasks_fd, &old[i].pid, &old[i].attr, BPF_NOEXIST) == 0)
			kept++;
	}
	a->tasks_unverifiable -= kept;
	a->tasks_upgraded = kept;
	ct_err("agent: ct_tasks was pinned by an older version (no process start times): "
	       "%llu entries kept (their processes started before it stopped), %llu dropped",
	       (unsigned long long)kept, (unsigned long long)a->tasks_unverifiable);
	free(old);
	old = NULL;
	n_old = 0;
}
