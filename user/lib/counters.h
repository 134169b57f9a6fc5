/*
 * Status counters as tables: each module describes the uint64_t fields of
 * its stats struct once (name and offset), and `changetrace status` walks
 * the tables instead of naming every counter by hand.
 */
#ifndef CT_COUNTERS_H
#define CT_COUNTERS_H

#include <stddef.h>
#include <stdint.h>
#include "pb.h"

struct ct_counter_def {
	const char *name;
	size_t offset;           /* of a uint64_t in the stats struct */
};

/* A row for field f of struct type T; refuses to compile unless f is
 * 8 bytes wide, so a table can never read half a field. */
#define CT_COUNTER(name, T, f)                                                  \
	{ name, offsetof(T, f) + 0 * sizeof(char[sizeof(((T *)0)->f) == 8 ? 1 : -1]) }

struct ct_counter_table {
	const struct ct_counter_def *defs;
	size_t n;
};

#define CT_COUNTER_TABLE(defs) { defs, sizeof(defs) / sizeof((defs)[0]) }

/* Counters collected for one StatusResponse list. */
struct ct_counter_list {
	PbCounter *c;
	PbCounter **ptrs;
	size_t n, max;           /* rows past max are left out */
};

void ct_counters_add(struct ct_counter_list *l, const char *name, uint64_t v);
/* Every row of t, read from stats (a struct of t's type). */
void ct_counters_add_table(struct ct_counter_list *l, const struct ct_counter_table *t,
			   const void *stats);

#endif
