#include <stdlib.h>
#include "unit.h"
#include "guard/policy.h"

static struct ct_policy pol;
static char err[256];

static int parse(const char *s)
{
	return ct_policy_parse(&pol, s, strlen(s), err, sizeof(err));
}

TEST(policy_parses_documented_syntax)
{
	CHECK(parse("# guardrails\n"
		    "protect /etc/payments /srv/*/secrets\n"
		    "protect-net nft:inet/filter route\n\n"
		    "rule ai-unapproved: ai and unapproved and protected => halt  # main rule\n"
		    "rule scope: out-of-scope => alert\n"
		    "rule human-ok: not ai and protected => alert\n"
		    "budget max-files: files 3 => halt\n") == 0);
	CHECK(pol.n_rules == 4);
	CHECK(pol.n_protect == 2);
	CHECK(pol.n_protect_net == 2);
	CHECK(pol.rules[2].negate[0]);
	CHECK(pol.rules[3].budget == CT_BUDGET_FILES && pol.rules[3].budget_max == 3);
	ct_policy_free(&pol);
}

TEST(policy_errors_name_the_line)
{
	CHECK(parse("protect /a\n\nrule x: ai and => halt\n") == -1);
	CHECK(strstr(err, "line 3:"));
	CHECK(parse("rule x: ai => explode\n") == -1);
	CHECK(strstr(err, "line 1:") && strstr(err, "unknown action"));
	CHECK(parse("protect relative/path\n") == -1);
	CHECK(strstr(err, "must be absolute"));
	CHECK(parse("frobnicate\n") == -1);
	CHECK(strstr(err, "unknown keyword"));
	CHECK(parse("rule a: ai => halt\nrule a: drift => halt\n") == -1);
	CHECK(strstr(err, "line 2:") && strstr(err, "duplicate"));
	CHECK(parse("budget b: files many => halt\n") == -1);
	CHECK(strstr(err, "number"));
	CHECK(parse("rule nocolon ai => halt\n") == -1);
	CHECK(parse("rule x: sometimes => halt\n") == -1);
	CHECK(strstr(err, "unknown condition"));
	CHECK(parse("protect-net bogus\n") == -1);
	const char nul[] = "protect /a\0rule";
	CHECK(ct_policy_parse(&pol, nul, sizeof(nul) - 1, err, sizeof(err)) == -1);
}

static int hits;
static char last_rule[64];

static void on_violation(const struct ct_policy_rule *r, const char *reason, void *ctx)
{
	hits++;
	snprintf(last_rule, sizeof(last_rule), "%s", r->name);
}

TEST(policy_eval_protect_shorthand)
{
	PbDeploy d = CHANGETRACE__V1__DEPLOY__INIT;
	PbAiProvenance ai = CHANGETRACE__V1__AI_PROVENANCE__INIT;
	char *approver = "bob";
	struct ct_change_facts f = { .is_file = true, .path = "/etc/payments/keys.conf" };

	CHECK(parse("") == 0);
	CHECK(ct_policy_add_protect_shorthand(&pol, "/etc/payments", err, sizeof(err)) == 0);
	d.id = "d1";
	ai.ai_assisted = 1;
	d.ai = &ai;
	f.deploy = &d;
	hits = 0;
	CHECK(ct_policy_eval(&pol, &f, on_violation, NULL) == 1);    /* AI, unapproved */
	CHECK(!strcmp(last_rule, "protect-ai-unapproved"));
	d.n_approved_by = 1;
	d.approved_by = &approver;
	CHECK(ct_policy_eval(&pol, &f, on_violation, NULL) == 0);    /* approved */
	f.deploy = NULL;
	CHECK(ct_policy_eval(&pol, &f, on_violation, NULL) == 1);    /* drift */
	CHECK(!strcmp(last_rule, "protect-drift"));
	f.path = "/etc/paymentsX";                                   /* not under */
	CHECK(ct_policy_eval(&pol, &f, on_violation, NULL) == 0);
	/* a rename out of a protected dir touches it too */
	f.old_path = "/etc/payments/a";
	CHECK(ct_policy_eval(&pol, &f, on_violation, NULL) == 1);
	ct_policy_free(&pol);
}

TEST(policy_eval_scope_and_budget)
{
	PbDeploy d = CHANGETRACE__V1__DEPLOY__INIT;
	char *scope[] = { "/srv/app", "nft:inet/app" };
	struct ct_change_facts f = { .is_file = true, .path = "/srv/app/x.conf", .deploy = &d };

	CHECK(parse("rule scope: out-of-scope => alert\nbudget few: files 2 => halt\nbudget nets: net 0 => alert\n") == 0);
	d.id = "d2";
	CHECK(ct_policy_eval(&pol, &f, NULL, NULL) == 0);      /* no scope declared */
	d.n_scope = 2;
	d.scope = scope;
	f.deploy_files = 1;
	CHECK(ct_policy_eval(&pol, &f, NULL, NULL) == 0);
	f.path = "/etc/hosts";
	CHECK(ct_policy_eval(&pol, &f, NULL, NULL) == 1);
	f.path = "/srv/app/y";
	f.deploy_files = 3;
	CHECK(ct_policy_eval(&pol, &f, on_violation, NULL) == 1);
	CHECK(!strcmp(last_rule, "few"));
	struct ct_change_facts n = { .is_net = true, .net_object = "nft:inet/app/input", .deploy = &d, .deploy_net = 1 };
	CHECK(ct_policy_eval(&pol, &n, on_violation, NULL) == 1);  /* in scope, but net budget 0 */
	CHECK(!strcmp(last_rule, "nets"));
	n.net_object = "nft:inet/filter";
	CHECK(ct_policy_eval(&pol, &n, NULL, NULL) == 2);          /* + out of scope */
	ct_policy_free(&pol);
}

TEST(policy_net_names_cover_what_is_below)
{
	PbDeploy d = CHANGETRACE__V1__DEPLOY__INIT;
	char *scope[] = { "route:100", "addr", "iptables:filter" };

	CHECK(parse("protect-net route:main iptables nft:inet/app\n") == 0);
	CHECK(ct_policy_net_protected(&pol, "route:main/10.0.0.0/8"));
	CHECK(!ct_policy_net_protected(&pol, "route:100/default"));
	CHECK(!ct_policy_net_protected(&pol, "route:mainx/default"));
	CHECK(ct_policy_net_protected(&pol, "iptables:filter/INPUT"));   /* bare: all of it */
	CHECK(!ct_policy_net_protected(&pol, "ip6tables:filter/INPUT"));
	CHECK(!ct_policy_net_protected(&pol, "iptablesx:filter"));
	CHECK(ct_policy_net_protected(&pol, "nft:inet/app/input"));
	CHECK(!ct_policy_net_protected(&pol, "nft:inet/apple"));
	ct_policy_free(&pol);
	CHECK(parse("protect-net ip6tables link tc neigh\n") == 0);
	ct_policy_free(&pol);
	d.scope = scope;
	d.n_scope = 3;
	CHECK(ct_policy_in_scope(&d, "route:100/198.51.100.0/24"));
	CHECK(!ct_policy_in_scope(&d, "route:main/198.51.100.0/24"));
	CHECK(ct_policy_in_scope(&d, "addr:eth0/192.0.2.1/24"));
	CHECK(ct_policy_in_scope(&d, "iptables:filter/INPUT"));
	CHECK(!ct_policy_in_scope(&d, "iptables:nat/POSTROUTING"));
}
