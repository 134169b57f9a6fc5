/* The files `make install` ships agree with the code: the config's watch
 * list is the built-in default, the example policy is valid. Run from the
 * repository's top directory (tests/run.sh does). */
#include <stdlib.h>
#include "unit.h"
#include "collector/file_watch.h"
#include "guard/policy.h"

TEST(dist_conf_watch_list_is_the_builtin_default)
{
	FILE *f = fopen("dist/changetrace.conf", "r");
	char line[512];
	int n = 0, watch_only = 0;

	CHECK(f != NULL);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "watch-only"))
			watch_only = 1;
		if (strncmp(line, "watch ", 6))
			continue;
		if (!ct_default_watch[n] || strcmp(line + 6, ct_default_watch[n])) {
			printf("    conf line 'watch %s' is not built-in entry %d (%s)\n", line + 6, n,
			       ct_default_watch[n] ? ct_default_watch[n] : "end of list");
			*ct_failed_ = 1;
			break;
		}
		n++;
	}
	fclose(f);
	CHECK(!*ct_failed_);
	CHECK(watch_only);
	CHECK(ct_default_watch[n] == NULL);
}

TEST(dist_example_policy_is_valid)
{
	static struct ct_policy p;
	char err[256];

	CHECK(ct_policy_load(&p, "dist/guardrail.policy", err, sizeof(err)) == 0);
	CHECK(p.n_rules > 0 && p.n_protect > 0);
	ct_policy_free(&p);
}
