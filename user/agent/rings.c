/*
 * Draining the two ring buffers: the change ring first and whole, the bulk
 * ring in slices between which the change ring is drained again, so a
 * change never waits behind an exec storm.
 */
#include <errno.h>
#include <stddef.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "agent_deploys.h"
#include "changetrace.skel.h"
#include "collector/proc_cache.h"
#include "lib/util.h"

static struct ct_event_buf evbuf;

static int on_record(void *ctx, void *data, size_t len)
{
	struct ct_agent *a = ctx;
	int rc = ct_event_from_record(&a->col, data, len, &evbuf);

	if (rc < 0) {
		a->malformed_records++;
		return 0;
	}
	if (rc > 0)	/* consumed; its events went through col.sink */
		return 0;
	ct_agent_emit(a, &evbuf.ev);
	ct_agent_deploys_flush(a);
	return 0;
}

#define BULK_SLICE 256
#define BULK_SLICE_DONE (-EINPROGRESS)

/* Bulk records are taken in slices; between slices the change ring is
 * drained again, so a change never waits behind an exec storm. Returning
 * a negative value makes libbpf stop after this record (it is consumed). */
static int on_bulk_record(void *ctx, void *data, size_t len)
{
	struct ct_agent *a = ctx;

	on_record(ctx, data, len);
	if (a->catch_up_task)	/* catch_up(): until the image is known */
		return ct_proc_image(a->catch_up_task->pid, a->catch_up_task->start_ns,
				     a->catch_up_task->image_seq) ? BULK_SLICE_DONE : 0;
	return --a->bulk_budget > 0 ? 0 : BULK_SLICE_DONE;
}

/* The acting task of a change record (file, net and exec verdict records
 * start alike). */
_Static_assert(offsetof(struct ct_file_event, task) == offsetof(struct ct_net_event, task) &&
	       offsetof(struct ct_file_event, task) == offsetof(struct ct_exec_verdict, task),
	       "change records carry the task at one offset");

static const struct ct_task *change_task(const void *data, size_t len)
{
	const struct ct_hdr *h = data;

	if (len < offsetof(struct ct_file_event, task) + sizeof(struct ct_task) ||
	    (h->kind != CT_KIND_FILE && h->kind != CT_KIND_NET && h->kind != CT_KIND_EXEC_VERDICT))
		return NULL;
	return (const struct ct_task *)((const char *)data + offsetof(struct ct_file_event, task));
}

/*
 * The change ring is drained first, but the exec record of the image
 * that made a change is in the bulk ring before the change is (the image
 * exists before it acts). When a change names an image the cache does not
 * know yet, bulk records are applied up to it first, so the change gets
 * that image's exe and argv from exec time, even if the process is gone.
 */
static void catch_up(struct ct_agent *a, const struct ct_task *t)
{
	struct ct_task copy = *t;

	if (ct_proc_image(t->pid, t->start_ns, t->image_seq))
		return;
	a->catch_ups++;
	a->catch_up_task = &copy;
	ring_buffer__consume(a->rb_bulk);
	a->catch_up_task = NULL;
}

/* Change records: all of them, unless the drain has a deadline (checked
 * every 256 records). */
static int on_change_record(void *ctx, void *data, size_t len)
{
	struct ct_agent *a = ctx;
	const struct ct_task *t = change_task(data, len);

	if (t)
		catch_up(a, t);
	on_record(ctx, data, len);
	if (a->drain_deadline && !(++a->change_taken & 255) &&
	    ct_now_mono_ns() > a->drain_deadline)
		return BULK_SLICE_DONE;
	return 0;
}

void ct_agent_drain_for(struct ct_agent *a, uint64_t max_ns)
{
	ct_paths_sample(&a->paths);
	a->drain_deadline = max_ns ? ct_now_mono_ns() + max_ns : 0;
	for (;;) {
		if (ring_buffer__consume(a->rb_change) == BULK_SLICE_DONE)
			break;	/* out of time; the ring fd stays readable */
		a->col.change_ring_emptied++;
		a->bulk_budget = BULK_SLICE;
		if (ring_buffer__consume(a->rb_bulk) != BULK_SLICE_DONE)
			break;
		if (a->drain_deadline && ct_now_mono_ns() > a->drain_deadline)
			break;
	}
	a->drain_deadline = 0;
}

void ct_agent_drain(struct ct_agent *a)
{
	ct_agent_drain_for(a, 0);
}

int ct_agent_rings_open(struct ct_agent *a)
{
	a->rb_change = ring_buffer__new(bpf_map__fd(a->skel->maps.ct_change_rb), on_change_record,
					a, NULL);
	a->rb_bulk = ring_buffer__new(bpf_map__fd(a->skel->maps.ct_bulk_rb), on_bulk_record, a, NULL);
	if (!a->rb_change || !a->rb_bulk)
		return -1;
	return ct_paths_init(&a->paths, bpf_map__fd(a->skel->maps.ct_bulk_rb), a->opts.bulk_rb_bytes,
			     bpf_map__fd(a->skel->maps.ct_change_rb), a->opts.change_rb_bytes);
}

void ct_agent_rings_close(struct ct_agent *a)
{
	ring_buffer__free(a->rb_change);
	ring_buffer__free(a->rb_bulk);
	a->rb_change = a->rb_bulk = NULL;
	ct_paths_close(&a->paths);
}
