/* `changetrace policy check FILE`: validate a guardrail policy and say
 * what it protects. Exit 0 valid, 1 invalid or unreadable, 2 usage. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pb_json.h"
#include "policy.h"
#include "util.h"

static const char policy_usage[] = "usage: changetrace policy check FILE\n";

int ct_cmd_policy(int argc, char **argv)
{
	static struct ct_policy p;
	char err[512];

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(policy_usage, stdout);
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "check")) {
		fputs(policy_usage, stderr);
		return 2;
	}
	if (ct_policy_load(&p, argv[2], err, sizeof(err)) < 0) {
		ct_err("policy: %s: %s", argv[2], err);
		return 1;
	}
	printf("%s: valid: %d rules, %d protected paths, %d protected network objects, "
	       "%d exec rules (decided in the kernel at exec)\n",
	       argv[2], p.n_rules, p.n_protect, p.n_protect_net, p.n_exec_rules);
	for (int i = 0; i < p.n_rules; i++) {
		char conds[CT_POLICY_COMMAND_LEN + 256];

		ct_policy_rule_conditions(&p.rules[i], conds, sizeof(conds));
		printf("  rule %-24s => %-5s %s\n", p.rules[i].name,
		       ct_pb_enum_short(&changetrace__v1__guard_action__descriptor, p.rules[i].action),
		       p.rules[i].budget ? "(budget)" : conds);
	}
	ct_policy_free(&p);
	return 0;
}
