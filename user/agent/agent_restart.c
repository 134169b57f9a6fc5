/* The previous run, accounted for at start. See agent_restart.h. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "agent_deploys.h"
#include "agent_restart.h"
#include "store/deploys.h"
#include "store/store.h"
#include "lib/util.h"

/* Registry times and event times are read from two clocks a few ms
 * apart (and NTP may step one): how far before the store's newest event
 * a lost deploy event is looked for. */
#define RECOVER_MARGIN_NS (5ull * 1000000000ull)

static uint64_t store_time_at_open;

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static void reserve(struct ct_agent *a, uint64_t upto)
{
	if (ct_agent_state_reserve(&a->state, upto) < 0 && !a->seq_reserve_failures++)
		ct_err("agent: cannot persist the seq reservation in %s/agent.state: should the "
		       "agent stop uncleanly now, seqs not yet stored could be used again",
		       a->state.dir);
	/* on failure too: the next try is a reservation later, not per event */
	a->col.seq_limit = upto;
}

/* The collector ran into the reservation (a burst outran the tick's):
 * persist the next one before any of it is used. */
static void reserve_seqs(struct ct_collector *c)
{
	reserve((struct ct_agent *)((char *)c - offsetof(struct ct_agent, col)),
		c->seq + CT_SEQ_RESERVE);
}

void ct_agent_restart_tick(struct ct_agent *a)
{
	if (!a->has_state)
		return;
	/* ahead of use, off the event path: its fsync never stalls a drain */
	if (a->col.seq_limit - a->col.seq < CT_SEQ_RESERVE / 2)
		reserve(a, a->col.seq + CT_SEQ_RESERVE);
	else
		ct_agent_state_heartbeat(&a->state);
}

int ct_agent_restart_begin(struct ct_agent *a)
{
	struct ct_agent_state *st = &a->state;
	const struct ct_run_state *p = &st->prev;
	struct ct_run_state *cur = &st->cur;
	uint64_t stored = ct_store_last_seq(a->store);

	store_time_at_open = ct_store_last_time(a->store);
	a->col.seq = ct_agent_state_first_seq(st, stored);
	/* an unclean stop, merged with one its run had not reported yet (it
	 * died at its own start): one window from the first death to now */
	if (st->prev_unclean || p->down_since_ns) {
		uint64_t alive = max_u64(p->alive_ns, store_time_at_open);

		cur->down_since_ns = p->down_since_ns ? p->down_since_ns
				   : alive ? alive : ct_now_wall_ns();
		cur->down_pid = p->down_pid ? p->down_pid : p->pid;
		cur->down_first_seq = p->down_first_seq ? p->down_first_seq : stored + 1;
		cur->down_last_seq = max_u64(p->down_last_seq,
					     st->prev_unclean ? p->seq_reserved : 0);
		if (cur->down_last_seq < cur->down_first_seq)
			cur->down_first_seq = cur->down_last_seq = 0;
	}
	a->col.seq_limit = a->col.seq + CT_SEQ_RESERVE;
	a->col.seq_exhausted = reserve_seqs;
	if (ct_agent_state_start(st, a->col.seq_limit) < 0) {
		a->seq_reserve_failures++;
		ct_err("agent: cannot write %s/agent.state: an unclean stop of this agent will "
		       "not be detected, and seqs could be used again after it", st->dir);
		return -1;
	}
	return 0;
}

void ct_agent_restart_fill_started(struct ct_agent *a, PbAgentDetail *d)
{
	const struct ct_agent_state *st = &a->state;

	if (!a->has_state || !st->prev_found)
		return;
	d->previous_pid = st->prev.pid;
	d->previous_stop_unclean = st->prev_unclean;
	d->previous_stop_unix_nano = st->prev_unclean ? st->cur.down_since_ns : st->prev.stopped_ns;
}

static void emit_down_gap(struct ct_agent *a)
{
	static struct ct_event_buf gb;
	const struct ct_agent_state *st = &a->state;
	const struct ct_run_state *cur = &st->cur;
	PbGapDetail gap = CHANGETRACE__V1__GAP_DETAIL__INIT;
	char reason[400], t0[40], t1[40], seqs[96] = "";

	ct_event_envelope(&a->col, &gb, &gb.ev, CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_GAP,
			  ct_now_mono_ns());
	gap.path = CHANGETRACE__V1__GAP_PATH__GAP_PATH_AGENT_DOWN;
	gap.first_time_unix_nano = cur->down_since_ns;
	gap.last_time_unix_nano = cur->started_ns;
	/* the monotonic span only means something on the same boot */
	if (!strcmp(st->prev.boot_id, cur->boot_id) &&
	    cur->down_since_ns > (uint64_t)a->col.wall_offset) {
		gap.first_ns = cur->down_since_ns - a->col.wall_offset;
		gap.last_ns = cur->started_ns - a->col.wall_offset;
	}
	gap.first_seq = cur->down_first_seq;
	gap.last_seq = cur->down_last_seq;
	gap.agent_pid = cur->down_pid;
	if (cur->down_last_seq)
		snprintf(seqs, sizeof(seqs), "; events it had not stored (seq %" PRIu64 "..%" PRIu64
			 " at most) are lost", cur->down_first_seq, cur->down_last_seq);
	snprintf(reason, sizeof(reason), "agent pid %u stopped uncleanly (killed or crashed): "
		 "nothing was traced from %s to %s%s", cur->down_pid,
		 ct_fmt_time(cur->down_since_ns, t0, sizeof(t0)),
		 ct_fmt_time(cur->started_ns, t1, sizeof(t1)), seqs);
	gap.reason = reason;
	gb.ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_GAP;
	gb.ev.gap = &gap;
	ct_agent_emit(a, &gb.ev);
}

struct seen_deploys {
	bool start[CT_DEPLOY_SLOTS], end[CT_DEPLOY_SLOTS];
};

static int note_deploy_event(const PbEvent *ev, void *ctx)
{
	struct seen_deploys *s = ctx;
	struct ct_deploy *e;

	if (ev->detail_case != CHANGETRACE__V1__EVENT__DETAIL_DEPLOY || !ev->deploy->deploy ||
	    !(e = ct_deploys_find(ev->deploy->deploy->id)))
		return 0;
	if (ev->deploy->action == CHANGETRACE__V1__DEPLOY_ACTION__DEPLOY_ACTION_START)
		s->start[e->slot] = true;
	else if (ev->deploy->action == CHANGETRACE__V1__DEPLOY_ACTION__DEPLOY_ACTION_END)
		s->end[e->slot] = true;
	return 0;
}

/*
 * The registry is saved (fsync) as each deploy starts or ends, its event
 * is stored with its block up to a second later: after an unclean stop
 * the registry may know starts and ends the store never got. Only times
 * near or after the store's newest event can be missing; the store's
 * DEPLOY events from there on say which are. (Ids the probes named while
 * no agent ran, adopted at this start, had no event either.)
 */
static void recover_deploys(struct ct_agent *a)
{
	static struct ct_deploy *all[CT_DEPLOY_SLOTS];
	static struct seen_deploys seen;
	struct ct_store_filter f = CT_STORE_FILTER_INIT;
	struct ct_store_reader *r;
	uint64_t bound = store_time_at_open > RECOVER_MARGIN_NS
				 ? store_time_at_open - RECOVER_MARGIN_NS : 0;
	size_t n = ct_deploys_list(all, CT_DEPLOY_SLOTS), wanted = 0;
	char err[256];

	for (size_t i = 0; i < n; i++)
		if (all[i]->pb->start_time_unix_nano >= bound ||
		    all[i]->pb->end_time_unix_nano >= bound)
			wanted++;
	if (!wanted)
		return;
	if (ct_store_flush(a->store) < 0 ||
	    ct_store_reader_open(&r, a->opts.store_dir, err, sizeof(err)) < 0) {
		ct_err("agent: cannot check the store for lost deploy events");
		return;
	}
	memset(&seen, 0, sizeof(seen));
	f.kind_mask = 1u << CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_DEPLOY;
	f.since_ns = bound > RECOVER_MARGIN_NS ? bound - RECOVER_MARGIN_NS : 0;
	ct_store_scan(r, &f, note_deploy_event, &seen);
	ct_store_reader_close(r);
	for (size_t i = 0; i < n; i++) {
		const PbDeploy *d = all[i]->pb;
		uint32_t slot = all[i]->slot;

		if (d->start_time_unix_nano >= bound && !seen.start[slot]) {
			ct_agent_deploy_reemit(a, all[i], CHANGETRACE__V1__DEPLOY_ACTION__DEPLOY_ACTION_START,
					       d->start_time_unix_nano);
			a->deploy_events_recovered++;
		}
		if (d->end_time_unix_nano && d->end_time_unix_nano >= bound && !seen.end[slot]) {
			ct_agent_deploy_reemit(a, all[i], CHANGETRACE__V1__DEPLOY_ACTION__DEPLOY_ACTION_END,
					       d->end_time_unix_nano);
			a->deploy_events_recovered++;
		}
	}
}

void ct_agent_restart_report(struct ct_agent *a)
{
	if (!a->has_state)
		return;
	if (a->state.cur.down_since_ns)
		emit_down_gap(a);
	recover_deploys(a);
	/* forgotten only once on disk: a crash before that reports it again */
	if (a->state.cur.down_since_ns && ct_store_flush(a->store) == 0)
		ct_agent_state_down_reported(&a->state);
}
