/* A share of the time as a budget (lib/time_budget.h). */
#include "unit.h"
#include "lib/time_budget.h"

#define S 1000000000ull

TEST(time_budget_grows_with_time_up_to_its_max)
{
	struct ct_time_budget b = { .share = 4, .max_ns = 3 * S, .left_ns = 3 * S };
	uint64_t t = 5000 * S;

	CHECK(ct_time_budget_left(&b, t));
	ct_time_budget_spend(&b, 4 * S);             /* an overrun: paid back */
	CHECK(!ct_time_budget_left(&b, t));
	CHECK(!ct_time_budget_left(&b, t + 2 * S));   /* -1 s + 0.5 s */
	CHECK(ct_time_budget_left(&b, t + 6 * S));    /* + 1 s: 0.5 s left */
	CHECK(b.left_ns == (int64_t)(S / 2));
	/* a long idle time: full again, never more (nor wrapped around) */
	CHECK(ct_time_budget_left(&b, t + 3600 * S));
	CHECK(b.left_ns == (int64_t)(3 * S));
	ct_time_budget_spend(&b, 3 * S);
	CHECK(!ct_time_budget_left(&b, t + 3600 * S));
	CHECK(ct_time_budget_left(&b, t + 100 * 3600 * S));
	CHECK(b.left_ns == (int64_t)(3 * S));
	/* a clock that did not move on (or went back) takes nothing */
	CHECK(ct_time_budget_left(&b, t));
	CHECK(b.left_ns == (int64_t)(3 * S));
}
