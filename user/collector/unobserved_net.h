/*
 * The network-policy half of the start-up comparison (unobserved.h): the
 * ruleset text of each followed namespace, per source, against the last
 * known one. A source is a row of unobserved_net.c's table: its name in
 * the state, its subsystem, a function that gives its text for a namespace
 * (run on the ruleset worker inside it, event_net.h) and, optionally, one
 * that splits it into top-level objects (tables), each difference of
 * which is one event: nftables, and the iptables-legacy tables.
 */
#ifndef CT_UNOBSERVED_NET_H
#define CT_UNOBSERVED_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "event.h"
#include "store/last_state.h"

/* One changed object (a table) of one namespace's ruleset. */
struct ct_net_difference {
	char netns[64];
	uint32_t inode;
	int subsystem;             /* NetSubsystem */
	int op;                    /* NetOp: ADD, DELETE, REPLACE */
	char object_type[16];      /* "table", or "ruleset" when not split */
	char family[16];
	char table[128];
	/* on the namespace's first difference only (as live events carry it) */
	char *before, *after, *diff;
	unsigned index, count;     /* among the namespace's differences */
};

/* Dump every source in the host's and every named namespace: into cur
 * (the new state), and, when compare, each difference from prev into
 * *out (malloc'd; free with ct_net_differences_free). */
void ct_unobserved_net_compare(const struct ct_last_state *prev, bool compare,
			       struct ct_last_state *cur, struct ct_net_difference **out,
			       size_t *n);
void ct_net_differences_free(struct ct_net_difference *d, size_t n);
/* The event of one difference, through c->emit; dec marks it unobserved. */
void ct_unobserved_net_emit(struct ct_collector *c, const struct ct_net_difference *d,
			    void (*dec)(PbEvent *ev), uint64_t mono_ns);

/* Top-level objects of an nft listing ("table FAMILY NAME {" ... "}"),
 * text with both lines (struct ct_ruleset_part: store/last_state.h).
 * Returns how many (at most max). */
size_t ct_nft_split_tables(const char *ruleset, struct ct_ruleset_part *parts, size_t max);

#endif
