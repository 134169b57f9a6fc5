#include <stdlib.h>
#include "unit.h"

static struct ct_unit_test *head, **tail = &head;

void ct_unit_register(struct ct_unit_test *t)
{
	*tail = t;
	tail = &t->next;
}

int main(int argc, char **argv)
{
	const char *filter = argc > 1 && argv[1][0] ? argv[1] : NULL;
	int failures = 0;

	for (struct ct_unit_test *t = head; t; t = t->next) {
		int failed = 0;

		if (filter && !strstr(t->name, filter))
			continue;
		fflush(stdout);
		t->fn(&failed);
		printf("%s %s\n", failed ? "FAIL" : "ok", t->name);
		failures += failed;
	}
	return failures ? 1 : 0;
}
