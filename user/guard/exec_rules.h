/*
 * The policy's exec rules as the exec probe matches them (pure: no maps,
 * so it is unit-tested and fuzzed on its own; user/exec_guard.c installs
 * the result). A rule is found by its command's name (ct_xnames: name ->
 * bitmask of rules), then its conditions are tested on the exec'ing
 * process's facts (CT_XF_*), then its path and argument patterns.
 */
#ifndef CT_EXEC_RULES_H
#define CT_EXEC_RULES_H

#include <stdbool.h>
#include <stdint.h>
#include "changetrace.h"
#include "lib/pb.h"
#include "policy.h"

/* What the agent keeps of each rule, to name it in a verdict. */
struct ct_exec_rule_info {
	char name[64];
	char conditions[CT_POLICY_COMMAND_LEN + 256]; /* as written */
	char command[CT_POLICY_COMMAND_LEN];
	Changetrace__V1__GuardAction action;
};

struct ct_exec_rules {
	int n;                                   /* exec rules, in policy order */
	struct ct_xrule k[CT_XRULES_MAX];        /* ct_xrules values */
	struct ct_exec_rule_info info[CT_XRULES_MAX];
	int n_names;                             /* distinct command names */
	char names[CT_XRULES_MAX][CT_XNAME_LEN];
	uint64_t masks[CT_XRULES_MAX];           /* rules found under names[i] */
	uint32_t applies;                        /* CT_XR_DRIFT | CT_XR_ATTRIBUTED */
};

void ct_exec_rules_compile(const struct ct_policy *p, struct ct_exec_rules *out);
void ct_exec_command_compile(const struct ct_policy_command *c, struct ct_xmatch *m);

/* Could a rule hold for a process with these facts? (the probe's test) */
static inline bool ct_xrule_holds(const struct ct_xrule *r, uint32_t facts)
{
	return (facts & r->must_set) == r->must_set && !(facts & r->must_clear);
}

/* The deploy's `exec:` scope entries (commands it declared it runs),
 * compiled; returns how many (at most max). */
int ct_exec_scope_compile(const PbDeploy *d, struct ct_xmatch *out, int max);
/* "exec:CMD" entries are checked when a deploy is registered. NULL if
 * every entry is valid, else why (a static buffer). */
const char *ct_exec_scope_check(const PbDeploy *d);

/* CT_PROV_* of a deploy. */
uint32_t ct_exec_prov_flags(const PbDeploy *d);

#endif
