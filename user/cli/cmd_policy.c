/* `changetrace policy check FILE`: validate a guardrail policy and say
 * what it protects. Exit 0 valid, 1 invalid or unreadable, 2 usage. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "export/pb_json.h"
#include "guard/policy.h"
#include "lib/util.h"

static const char policy_usage[] =
"usage: changetrace policy check FILE\n"
"\n"
"Validate a guardrail policy (the agent's --policy) and list its rules.\n"
"Exit 0 valid, 1 invalid or unreadable (the error names the line).\n"
"FILE has one statement per line; '#' starts a comment:\n"
"\n"
"  protect PATH...     protected path prefixes or globs\n"
"  protect-net OBJ...  protected network objects: nft:FAMILY/TABLE[/CHAIN],\n"
"                      iptables:TABLE, route, rule, link:NAME, addr, xfrm, bpf,\n"
"                      sysctl:NAME (nft:* for every nftables object)\n"
"  rule NAME: COND [and COND]... => ACTION\n"
"                      COND, each may follow `not`: ai, unapproved, drift,\n"
"                      protected, out-of-scope, file, net, high-risk; or\n"
"                      exec \"CMD\": CMD is exec'd, decided in the kernel before\n"
"                      its first instruction (with ai, unapproved, drift,\n"
"                      high-risk, out-of-scope only). CMD: a name or absolute\n"
"                      path, then globs (* ?) for its first arguments, in order:\n"
"                      exec \"terraform destroy*\", exec \"/usr/bin/rm -r* /*\"\n"
"  budget NAME: files|net N => ACTION\n"
"                      at most N distinct files (net objects) per deploy\n"
"\n"
"ACTION is alert (a GUARD event), halt (stop the deploy's processes until\n"
"`changetrace deploy resume` or `abort`) or kill.\n";

int ct_cmd_policy(int argc, char **argv)
{
	static struct ct_policy p;
	char err[512];

	if (argc >= 2 && argc <= 3 &&
	    (!strcmp(argv[argc - 1], "--help") || !strcmp(argv[argc - 1], "-h"))) {
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
