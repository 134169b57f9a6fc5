#include <stdlib.h>
#include "unit.h"
#include "guard/exec_rules.h"
#include "guard/policy.h"

static struct ct_policy pol;
static struct ct_exec_rules xr;
static char err[256];

static int parse(const char *s)
{
	return ct_policy_parse(&pol, s, strlen(s), err, sizeof(err));
}

TEST(exec_rule_parses_command_and_conditions)
{
	CHECK(parse("# destructive commands\n"
		    "rule no-destroy: ai and unapproved and exec \"terraform destroy*\" => halt\n"
		    "rule rm-root: exec \"/usr/*/rm  -r* /*\" and not drift => kill # two spaces\n"
		    "rule flush: drift and exec nft => alert\n"
		    "rule files: ai and protected => halt\n") == 0);
	CHECK(pol.n_rules == 4 && pol.n_exec_rules == 3);
	CHECK(pol.rules[0].exec && !pol.rules[3].exec);
	CHECK_STR(pol.rules[0].exec->name, "terraform");
	CHECK_STR(pol.rules[0].exec->path, "");
	CHECK(pol.rules[0].exec->n_args == 1);
	CHECK_STR(pol.rules[0].exec->args[0], "destroy*");
	CHECK_STR(pol.rules[1].exec->name, "rm");
	CHECK_STR(pol.rules[1].exec->path, "/usr/*/rm");
	CHECK(pol.rules[1].exec->n_args == 2);
	CHECK_STR(pol.rules[1].exec->text, "/usr/*/rm -r* /*");
	CHECK(pol.rules[1].n_conds == 1 && pol.rules[1].negate[0]);
	CHECK_STR(pol.rules[2].exec->text, "nft");

	char conds[512];
	ct_policy_rule_conditions(&pol.rules[0], conds, sizeof(conds));
	CHECK_STR(conds, "ai and unapproved and exec \"terraform destroy*\"");

	/* exec rules are the kernel's: the file/net evaluation skips them */
	struct ct_change_facts f = { .is_file = true, .path = "/etc/x" };
	CHECK(ct_policy_eval(&pol, &f, NULL, NULL) == 0);
	ct_policy_free(&pol);
}

TEST(exec_rule_errors_name_the_line)
{
	static const struct { const char *text, *why; } bad[] = {
		{ "rule a: exec \"terraform destroy* => halt\n", "quote" },
		{ "rule a: exec => halt\n", "needs a command" },
		{ "rule a: exec \"\" => halt\n", "empty command" },
		{ "rule a: exec \"terra* destroy\" => halt\n", "wildcard" },
		{ "rule a: exec \"/usr/bin/\" => halt\n", "names no file" },
		{ "rule a: exec \"bin/rm\" => halt\n", "name or an absolute path" },
		{ "rule a: exec \"/usr/../bin/rm\" => halt\n", "as the kernel resolves it" },
		{ "rule a: not exec \"rm\" => halt\n", "not exec" },
		{ "rule a: exec \"rm\" and exec \"ls\" => halt\n", "one exec" },
		{ "rule a: protected and exec \"rm\" => halt\n", "file and network" },
		{ "rule a: exec \"rm\" and file => halt\n", "file and network" },
		{ "rule a: exec \"a b c d e f g h i j\" => halt\n", "at most 8" },
		{ "rule a: exec \"averyveryverylongcommandnamethatistoolong\" => halt\n", "longer than 31" },
		{ "rule a: exec \"rm x\"y => halt\n", "quote" },
		{ "rule a: exec \"rm\" => explode\n", "unknown action" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];

		snprintf(text, sizeof(text), "protect /a\n%s", bad[i].text);
		if (parse(text) != -1 || !strstr(err, "line 2:") || !strstr(err, bad[i].why)) {
			printf("    input %zu: %s", i, bad[i].text);
			printf("    error: %s\n", err);
			CHECK(0);
		}
	}
	/* a rule refused after its command was parsed leaks nothing (ASan) */
	CHECK(parse("rule a: exec \"rm -rf\" and bogus => halt\n") == -1);
	CHECK(strstr(err, "unknown condition"));
	/* quotes elsewhere and '#' inside a pattern */
	CHECK(parse("rule a: exec \"rm #1\" => alert\n") == 0);
	CHECK_STR(pol.rules[0].exec->args[0], "#1");
	ct_policy_free(&pol);
}

TEST(exec_rules_compile_to_kernel_form)
{
	CHECK(parse("rule a: ai and unapproved and exec \"terraform destroy*\" => halt\n"
		    "rule b: drift and exec \"nft flush ruleset\" => kill\n"
		    "rule c: not ai and exec \"terraform apply\" => alert\n"
		    "rule d: high-risk and out-of-scope and exec \"/usr/bin/kubectl delete *\" => halt\n"
		    "rule e: ai and protected => halt\n") == 0);
	ct_exec_rules_compile(&pol, &xr);
	CHECK(xr.n == 4);
	CHECK(xr.k[0].must_set == (CT_XF_AI | CT_XF_UNAPPROVED) && !xr.k[0].must_clear);
	CHECK(xr.k[0].action == CT_XACT_HALT);
	CHECK(xr.k[1].must_set == CT_XF_DRIFT && xr.k[1].action == CT_XACT_KILL);
	CHECK(xr.k[2].must_clear == CT_XF_AI && xr.k[2].action == CT_XACT_ALERT);
	CHECK(xr.k[3].must_set == (CT_XF_HIGH_RISK | CT_XF_OUT_OF_SCOPE));
	CHECK(xr.k[3].m.has_path && !strcmp(xr.k[3].m.path, "/usr/bin/kubectl"));
	CHECK(xr.k[3].m.n_args == 2 && !strcmp(xr.k[3].m.args[1], "*"));
	/* found by name: terraform names rules 0 and 2 */
	CHECK(xr.n_names == 3);
	CHECK_STR(xr.names[0], "terraform");
	CHECK(xr.masks[0] == ((1ull << 0) | (1ull << 2)));
	CHECK_STR(xr.names[2], "kubectl");
	CHECK(xr.masks[2] == 1ull << 3);
	CHECK_STR(xr.info[1].name, "b");
	CHECK_STR(xr.info[1].command, "nft flush ruleset");
	/* b and c can hold for drift, a c d for attributed processes */
	CHECK(xr.applies == (CT_XR_DRIFT | CT_XR_ATTRIBUTED));
	ct_policy_free(&pol);

	/* only AI rules: an unattributed exec is never looked at */
	CHECK(parse("rule a: ai and exec \"rm\" => halt\nrule b: not drift and exec \"ls\" => halt\n") == 0);
	ct_exec_rules_compile(&pol, &xr);
	CHECK(xr.applies == CT_XR_ATTRIBUTED);
	ct_policy_free(&pol);
	CHECK(parse("rule a: drift and exec \"rm\" => halt\n") == 0);
	ct_exec_rules_compile(&pol, &xr);
	CHECK(xr.applies == CT_XR_DRIFT);
	ct_policy_free(&pol);
	CHECK(parse("protect /x\n") == 0);
	ct_exec_rules_compile(&pol, &xr);
	CHECK(xr.n == 0 && xr.applies == 0);
	ct_policy_free(&pol);
}

TEST(exec_rules_at_most_64)
{
	char *text = malloc(70 * 64);
	size_t off = 0;

	CHECK(text);
	for (int i = 0; i < 64; i++)
		off += sprintf(text + off, "rule r%d: exec \"cmd%d\" => alert\n", i, i);
	CHECK(parse(text) == 0 && pol.n_exec_rules == 64);
	ct_policy_free(&pol);
	sprintf(text + off, "rule extra: ai => alert\n");
	CHECK(parse(text) == -1 && strstr(err, "line 65:"));	/* 64 rules in all */
	free(text);
}

TEST(exec_scope_entries_and_provenance)
{
	PbDeploy d = CHANGETRACE__V1__DEPLOY__INIT;
	PbAiProvenance ai = CHANGETRACE__V1__AI_PROVENANCE__INIT;
	char *scope[] = { "/etc/app", "exec:systemctl restart app", "exec:/usr/bin/rm -f /tmp/*" };
	char *bad[] = { "exec:sys* restart" };
	char *approver = "alice";
	struct ct_xmatch m[CT_XSCOPE_MAX];

	d.id = "d1";
	CHECK(ct_exec_prov_flags(&d) == 0);
	ai.ai_assisted = 1;
	d.ai = &ai;
	d.risk = CHANGETRACE__V1__RISK__RISK_HIGH;
	d.n_scope = 3;
	d.scope = scope;
	CHECK(ct_exec_prov_flags(&d) == (CT_PROV_AI | CT_PROV_HIGH_RISK | CT_PROV_SCOPED));
	d.n_approved_by = 1;
	d.approved_by = &approver;
	CHECK(ct_exec_prov_flags(&d) & CT_PROV_APPROVED);
	CHECK(ct_exec_scope_check(&d) == NULL);
	CHECK(ct_exec_scope_compile(&d, m, CT_XSCOPE_MAX) == 2);
	CHECK_STR(m[0].name, "systemctl");
	CHECK(m[0].n_args == 2 && !m[0].has_path);
	CHECK_STR(m[1].name, "rm");
	CHECK(m[1].has_path && !strcmp(m[1].path, "/usr/bin/rm"));
	d.n_scope = 1;
	d.scope = bad;
	CHECK(ct_exec_scope_check(&d) && strstr(ct_exec_scope_check(&d), "wildcard"));
}
