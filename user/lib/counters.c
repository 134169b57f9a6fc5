/* Status counter tables (see counters.h). */
#include <string.h>

#include "counters.h"

void ct_counters_add(struct ct_counter_list *l, const char *name, uint64_t v)
{
	if (l->n >= l->max)
		return;
	l->c[l->n] = (PbCounter)CHANGETRACE__V1__COUNTER__INIT;
	l->c[l->n].name = (char *)name;
	l->c[l->n].value = v;
	l->ptrs[l->n] = &l->c[l->n];
	l->n++;
}

void ct_counters_add_table(struct ct_counter_list *l, const struct ct_counter_table *t,
			   const void *stats)
{
	for (size_t i = 0; i < t->n; i++) {
		uint64_t v;

		memcpy(&v, (const char *)stats + t->defs[i].offset, sizeof(v));
		ct_counters_add(l, t->defs[i].name, v);
	}
}
