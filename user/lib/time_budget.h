/*
 * A share of the time, as a budget: it grows by 1/share of the time that
 * passes, up to max, and what is spent is charged against it. Work that
 * would hold the event loop for someone else's sake asks it first.
 */
#ifndef CT_TIME_BUDGET_H
#define CT_TIME_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

struct ct_time_budget {
	uint64_t share;          /* 4: a quarter of the time */
	int64_t max_ns;          /* saved at most */
	int64_t left_ns;         /* may go below 0: an overrun is paid back */
	uint64_t at_ns;          /* when it last grew (0: not yet) */
};

/* Anything left at now (monotonic ns)? */
static inline bool ct_time_budget_left(struct ct_time_budget *b, uint64_t now_ns)
{
	if (b->at_ns && now_ns > b->at_ns) {
		/* divided first: a long idle time cannot overflow */
		uint64_t grown = (now_ns - b->at_ns) / b->share;

		b->left_ns = grown >= (uint64_t)(b->max_ns - b->left_ns)
			? b->max_ns : b->left_ns + (int64_t)grown;
	}
	if (!b->at_ns || now_ns > b->at_ns)
		b->at_ns = now_ns;
	return b->left_ns > 0;
}

static inline void ct_time_budget_spend(struct ct_time_budget *b, uint64_t ns)
{
	b->left_ns -= ns > (uint64_t)INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)ns;
}

#endif
