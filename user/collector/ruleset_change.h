/*
 * What one request changed, read from the ruleset listings taken around
 * it (event_net.c): whether two listings bracket the request, the text of
 * the one nft rule it added or deleted, and what a legacy table replace
 * did. The listings are taken when the collector handles the request, so
 * each helper also says when they cannot be trusted for it.
 */
#ifndef CT_RULESET_CHANGE_H
#define CT_RULESET_CHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "event_net.h"
#include "ipt_legacy.h"
#include "netlink_decode.h"

/*
 * Are two nft listings, of generations gen_before (done at
 * listed_before_ns, monotonic) and gen_after, the ruleset just before and
 * just after a request made at request_ns? The first must be done before
 * the request, and at most one commit may lie between them: the
 * request's, since a request with a rule always commits one (an add of
 * what exists commits none, and then the two are the same). -1: a
 * generation not known.
 */
bool ct_ruleset_brackets(int64_t gen_before, uint64_t listed_before_ns, int64_t gen_after,
			 uint64_t request_ns);

/* The text of the one nft rule of a request (objects not rejected), from
 * the listings' diff, into its object: when the diff shows one rule line
 * of its sign (for a replace, the new one). Else no text. */
void ct_nft_rule_text(struct ct_net_obj *objs, size_t n, const enum ct_net_verdict *v,
		      const char *diff);

/* Is a dump's size the one a legacy replace (its bytes as captured)
 * declared? */
bool ct_legacy_size_is(const uint8_t *replace, size_t len, const struct ct_ipt_size *sz);

/* A legacy replace is the whole table; the diff says what it did, as
 * nftables reports it: one rule added, deleted or replaced, a chain
 * flushed. Anything else stays a table replace. after: the new dump. */
void ct_legacy_what(struct ct_net_obj *o, const struct ct_ipt_change *ch, const char *after);

#endif
