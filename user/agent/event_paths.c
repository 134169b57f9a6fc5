#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "agent.h"
#include "event_paths.h"
#include "lib/util.h"

static int watch(struct ct_ring_watch *w, const char *name, int fd, uint64_t bytes)
{
	long page = sysconf(_SC_PAGESIZE);

	w->name = name;
	w->capacity = bytes;
	/* Read-only: the kernel lets anyone map the position pages for
	 * reading; only libbpf's consumer mapping is writable. */
	w->map = mmap(NULL, 2 * page, PROT_READ, MAP_SHARED, fd, 0);
	if (w->map == MAP_FAILED) {
		w->map = NULL;
		return -1;
	}
	w->cons = (volatile unsigned long *)w->map;
	w->prod = (volatile unsigned long *)((char *)w->map + page);
	return 0;
}

int ct_paths_init(struct ct_paths *p, int bulk_fd, uint64_t bulk_bytes,
		  int change_fd, uint64_t change_bytes)
{
	memset(p, 0, sizeof(*p));
	p->last_check_ns = ct_now_mono_ns();
	if (watch(&p->ring[CT_PATH_BULK], "bulk", bulk_fd, bulk_bytes) < 0)
		return -1;
	return watch(&p->ring[CT_PATH_CHANGE], "change", change_fd, change_bytes);
}

void ct_paths_sample(struct ct_paths *p)
{
	for (int i = 0; i < CT_PATH_MAX; i++) {
		struct ct_ring_watch *w = &p->ring[i];
		uint64_t used;

		if (!w->map)
			continue;
		used = __atomic_load_n(w->prod, __ATOMIC_ACQUIRE) -
		       __atomic_load_n(w->cons, __ATOMIC_ACQUIRE);
		if (used > w->high_water)
			w->high_water = used;
	}
}

static const struct {
	unsigned counter;
	enum ct_path path;
	Changetrace__V1__EventKind kind;
} drop_counters[] = {
	{ CT_CNT_DROP_EXEC, CT_PATH_BULK, CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_EXEC },
	{ CT_CNT_DROP_EXIT, CT_PATH_BULK, CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_EXIT },
	{ CT_CNT_DROP_FILE, CT_PATH_CHANGE, CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_FILE },
	{ CT_CNT_DROP_NET, CT_PATH_CHANGE, CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_NET },
	/* an exec rule's verdict (the process was stopped or killed all the same) */
	{ CT_CNT_EXEC_VERDICT_DROP, CT_PATH_CHANGE, CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_GUARD },
};

void ct_paths_check_drops(struct ct_paths *p, struct ct_agent *a)
{
	static struct ct_event_buf b;
	uint64_t now = ct_now_mono_ns();

	for (size_t i = 0; i < ARRAY_SIZE(drop_counters); i++) {
		unsigned c = drop_counters[i].counter;
		uint64_t total = ct_agent_counter(a, c);
		PbGapDetail gap = CHANGETRACE__V1__GAP_DETAIL__INIT;

		if (total <= p->drops_seen[c])
			continue;
		ct_event_envelope(&a->col, &b, &b.ev, CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_GAP, now);
		gap.path = drop_counters[i].path == CT_PATH_BULK
				   ? CHANGETRACE__V1__GAP_PATH__GAP_PATH_BULK
				   : CHANGETRACE__V1__GAP_PATH__GAP_PATH_CHANGE;
		gap.lost_kind = drop_counters[i].kind;
		gap.count = total - p->drops_seen[c];
		gap.first_ns = p->last_check_ns;   /* the losses happened in this span */
		gap.last_ns = now;
		gap.reason = "ring buffer full";
		b.ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_GAP;
		b.ev.gap = &gap;
		p->drops_seen[c] = total;
		p->gap_events++;
		ct_agent_emit(a, &b.ev);
	}
	p->last_check_ns = now;
}

void ct_paths_close(struct ct_paths *p)
{
	long page = sysconf(_SC_PAGESIZE);

	for (int i = 0; i < CT_PATH_MAX; i++)
		if (p->ring[i].map)
			munmap(p->ring[i].map, 2 * page);
	memset(p->ring, 0, sizeof(p->ring));
}
