/*
 * Where every event goes, in order: the store, the live feed, the feed
 * files, stdout, and then the guard, so a verdict follows its change in
 * every output. Parts of the agent reach this only through their sink.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "agent_restart.h"
#include "collector/unobserved.h"
#include "export/event_utf8.h"
#include "export/feed.h"
#include "export/feed_file.h"
#include "export/format.h"
#include "export/otlp.h"
#include "export/pb_json.h"
#include "store/store.h"
#include "lib/util.h"

static struct ct_event_buf b;   /* agent state events */

void ct_agent_emit(struct ct_agent *a, const PbEvent *orig)
{
	/* valid UTF-8 in every output (event_utf8.h); a copy only when repaired */
	PbEvent *ev = ct_event_utf8(orig);

	if (!ev) {
		a->utf8_repair_failures++;	/* out of memory: the event still goes out */
		ev = (PbEvent *)orig;
	} else if (ev != orig) {
		a->utf8_repaired++;
	}
	if ((unsigned)ev->kind < ARRAY_SIZE(a->emitted))
		a->emitted[ev->kind]++;
	if (a->store)
		ct_store_append(a->store, ev);
	ct_unobserved_on_emit(ev);	/* the last known state follows what is stored */
	ct_feed_publish(a->feed, ev);
	ct_feed_file_write(a->feed_file, ev);
	if (!a->opts.quiet) {
		if (a->opts.json) {
			ct_pb_json_write(a->out, &ev->base);
			fputc('\n', a->out);
		} else {
			ct_format_text(a->out, ev);
		}
	}
	/* after the change itself, so its verdict follows it in every sink;
	 * judged on the bytes the kernel saw (two names that differ only in
	 * bytes the repair replaced are two files), its verdict repaired in
	 * turn when emitted */
	if (ev->kind == CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_FILE ||
	    ev->kind == CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_NET)
		ct_guard_on_event(&a->guard, orig);
	ct_event_utf8_release(orig, ev);
}

static void emit_to_outputs(void *ctx, const PbEvent *ev)
{
	ct_agent_emit(ctx, ev);
}

struct ct_sink ct_agent_sink(struct ct_agent *a)
{
	return (struct ct_sink){ .emit = emit_to_outputs, .ctx = a };
}

void ct_agent_emit_state(struct ct_agent *a, const char *state)
{
	PbAgentDetail d = CHANGETRACE__V1__AGENT_DETAIL__INIT;
	char *names[CT_MAX_PROBES], bufs[CT_MAX_PROBES][64];
	int n = 0;

	for (int i = 0; i < a->n_probes; i++) {
		if (!a->probes[i].attached)
			continue;
		snprintf(bufs[n], sizeof(bufs[n]), "%s:%s", a->probes[i].name,
			 a->probes[i].attach_type);
		names[n] = bufs[n];
		n++;
	}
	ct_event_envelope(&a->col, &b, &b.ev,
			  CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_AGENT, ct_now_mono_ns());
	d.state = (char *)state;
	d.version = CT_VERSION;
	if (!strcmp(state, "started")) {
		ct_agent_restart_fill_started(a, &d);
		d.last_state = (char *)ct_unobserved_mode_name(ct_unobserved_mode());
		d.last_state_detail = (char *)ct_unobserved_detail();
	}
	d.n_probes = n;
	d.probes = names;
	b.ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_AGENT;
	b.ev.agent = &d;
	ct_agent_emit(a, &b.ev);
	fflush(a->out);
}

/* Once a second: seal the open block, sync, apply retention, and turn
 * events the store could not keep into one GAP event once the disk has
 * room again, so the hole is recorded in the store itself. */
void ct_agent_store_tick(struct ct_agent *a)
{
	static struct ct_event_buf gb;
	uint64_t lost, first, last;

	if (!a->store)
		return;
	ct_store_flush(a->store);
	ct_store_sync(a->store);
	if (!ct_store_can_write(a->store))
		lost = 0;       /* keep counting; report when there is room */
	else
		ct_store_take_failure_report(a->store, &lost, &first, &last);
	if (lost) {
		PbGapDetail gap = CHANGETRACE__V1__GAP_DETAIL__INIT;
		struct ct_store_stats st;
		char reason[96];

		ct_store_get_stats(a->store, &st);
		snprintf(reason, sizeof(reason), "store write failed: %s",
			 strerror(st.failed_errno ? st.failed_errno : EIO));
		/* GAP spans are on the monotonic clock, like the ring's */
		first -= a->col.wall_offset;
		last -= a->col.wall_offset;
		ct_event_envelope(&a->col, &gb, &gb.ev, CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_GAP,
				  ct_now_mono_ns());
		gap.path = CHANGETRACE__V1__GAP_PATH__GAP_PATH_STORE;
		gap.count = lost;
		gap.first_ns = first;
		gap.last_ns = last;
		gap.reason = reason;
		gb.ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_GAP;
		gb.ev.gap = &gap;
		ct_agent_emit(a, &gb.ev);
		if (ct_store_flush(a->store) < 0)   /* no room after all: retry later */
			ct_store_restore_failure_report(a->store, lost, first + a->col.wall_offset,
							last + a->col.wall_offset);
	}
	ct_store_retain(a->store, ct_now_wall_ns());
	ct_otlp_notify(a->otlp, a->col.seq);   /* new blocks are on disk */
	ct_agent_restart_tick(a);
}

/* The store first: event ids and the OTLP exporter continue from it. */
int ct_agent_outputs_open(struct ct_agent *a)
{
	char err[256], feed_path[108];

	if (!a->opts.no_store) {
		/* one agent per store: a killed one still exiting is waited for */
		if (ct_agent_state_open(&a->state, a->opts.store_dir, err, sizeof(err)) < 0) {
			ct_err("agent: %s", err);
			return -1;
		}
		a->has_state = true;
		if (ct_store_open(&a->store, a->opts.store_dir, err, sizeof(err)) < 0) {
			ct_err("agent: store: %s", err);
			return -1;
		}
		ct_store_set_policy(a->store, a->opts.fsync_policy, a->opts.retention_ns,
				    a->opts.retention_bytes);
		/* event ids are "<store id>-<seq>", seq continuing across restarts
		 * and never reused, even after an unclean stop */
		snprintf(a->col.id_prefix, sizeof(a->col.id_prefix), "%s", ct_store_id(a->store));
		ct_agent_restart_begin(a);
	}
	if (a->opts.feed_file_dir) {
		a->feed_file = ct_feed_file_open(a->opts.feed_file_dir, a->opts.feed_file_proto,
						 (uint64_t)a->opts.feed_file_mb << 20,
						 a->opts.feed_file_keep, err, sizeof(err));
		if (!a->feed_file) {
			ct_err("agent: --feed-file: %s", err);
			return -1;
		}
	}
	if (!a->opts.no_feed) {
		struct ct_feed_opts fo = {
			.path = feed_path, .gid = a->group_gid, .has_group = a->has_group,
			.queue_events = a->opts.feed_queue, .host = a->col.host,
		};

		if (a->opts.feed_socket)
			ct_strlcpy(feed_path, a->opts.feed_socket, sizeof(feed_path));
		else
			ct_feed_default_path(a->opts.socket_path, feed_path, sizeof(feed_path));
		if (ct_feed_open(&a->feed, &fo, err, sizeof(err)) < 0) {
			ct_err("agent: feed: %s", err);
			return -1;
		}
	}
	if (a->opts.otlp_endpoint &&
	    ct_otlp_start(&a->otlp, a->opts.otlp_endpoint, a->opts.store_dir, a->col.host,
			  a->col.seq, err, sizeof(err)) < 0) {
		ct_err("agent: otlp: %s", err);
		return -1;
	}
	return 0;
}
