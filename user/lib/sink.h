/*
 * Where a part of the agent hands the events it makes. The agent behind
 * it stores, prints, publishes, exports and judges each event; the part
 * (collector, guard, deploy registry, ring watcher) knows none of that and
 * never calls back into the agent.
 */
#ifndef CT_SINK_H
#define CT_SINK_H

#include "pb.h"

struct ct_sink {
	void (*emit)(void *ctx, const PbEvent *ev);
	void *ctx;
};

static inline void ct_sink_emit(const struct ct_sink *s, const PbEvent *ev)
{
	if (s->emit)
		s->emit(s->ctx, ev);
}

#endif
