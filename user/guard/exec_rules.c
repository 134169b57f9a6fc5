#include <stdio.h>
#include <string.h>

#include "exec_rules.h"
#include "lib/util.h"

#define SCOPE_PREFIX "exec:"
#define SCOPE_PREFIX_LEN 5

static uint32_t cond_fact(enum ct_cond c)
{
	switch (c) {
	case CT_COND_AI: return CT_XF_AI;
	case CT_COND_UNAPPROVED: return CT_XF_UNAPPROVED;
	case CT_COND_DRIFT: return CT_XF_DRIFT;
	case CT_COND_HIGH_RISK: return CT_XF_HIGH_RISK;
	case CT_COND_OUT_OF_SCOPE: return CT_XF_OUT_OF_SCOPE;
	default: return 0;	/* refused in exec rules by the parser */
	}
}

static uint8_t xaction(Changetrace__V1__GuardAction a)
{
	switch (a) {
	case CHANGETRACE__V1__GUARD_ACTION__GUARD_ACTION_HALT: return CT_XACT_HALT;
	case CHANGETRACE__V1__GUARD_ACTION__GUARD_ACTION_KILL: return CT_XACT_KILL;
	default: return CT_XACT_ALERT;
	}
}

void ct_exec_command_compile(const struct ct_policy_command *c, struct ct_xmatch *m)
{
	memset(m, 0, sizeof(*m));
	m->n_args = c->n_args;
	ct_strlcpy(m->name, c->name, sizeof(m->name));
	if (c->path[0]) {
		m->has_path = 1;
		ct_strlcpy(m->path, c->path, sizeof(m->path));
	}
	for (int i = 0; i < c->n_args && i < CT_XARGS_MAX; i++)
		ct_strlcpy(m->args[i], c->args[i], sizeof(m->args[i]));
}

void ct_exec_rules_compile(const struct ct_policy *p, struct ct_exec_rules *out)
{
	/* what a process no deploy claims looks like to a rule */
	const uint32_t drift = CT_XF_DRIFT | CT_XF_UNAPPROVED;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < p->n_rules && out->n < CT_XRULES_MAX; i++) {
		const struct ct_policy_rule *r = &p->rules[i];
		struct ct_xrule *k = &out->k[out->n];
		struct ct_exec_rule_info *info = &out->info[out->n];
		int j;

		if (!r->exec)
			continue;
		for (int c = 0; c < r->n_conds; c++) {
			if (r->negate[c])
				k->must_clear |= cond_fact(r->cond[c]);
			else
				k->must_set |= cond_fact(r->cond[c]);
		}
		k->action = xaction(r->action);
		ct_exec_command_compile(r->exec, &k->m);
		ct_strlcpy(info->name, r->name, sizeof(info->name));
		ct_policy_rule_conditions(r, info->conditions, sizeof(info->conditions));
		ct_strlcpy(info->command, r->exec->text, sizeof(info->command));
		info->action = r->action;
		if (ct_xrule_holds(k, drift))
			out->applies |= CT_XR_DRIFT;
		if (!(k->must_set & CT_XF_DRIFT))
			out->applies |= CT_XR_ATTRIBUTED;
		for (j = 0; j < out->n_names; j++)
			if (!strcmp(out->names[j], r->exec->name))
				break;
		if (j == out->n_names) {
			ct_strlcpy(out->names[j], r->exec->name, sizeof(out->names[j]));
			out->n_names++;
		}
		out->masks[j] |= 1ull << out->n;
		out->n++;
	}
}

int ct_exec_scope_compile(const PbDeploy *d, struct ct_xmatch *out, int max)
{
	struct ct_policy_command c;
	char why[256];
	int n = 0;

	for (size_t i = 0; d && i < d->n_scope && n < max; i++) {
		const char *s = d->scope[i];

		if (strncmp(s, SCOPE_PREFIX, SCOPE_PREFIX_LEN) ||
		    ct_policy_parse_command(s + SCOPE_PREFIX_LEN, &c, why, sizeof(why)) < 0)
			continue;
		ct_exec_command_compile(&c, &out[n++]);
	}
	return n;
}

const char *ct_exec_scope_check(const PbDeploy *d)
{
	static char msg[512];
	struct ct_policy_command c;
	char why[256];
	int n = 0;

	for (size_t i = 0; i < d->n_scope; i++) {
		const char *s = d->scope[i];

		if (strncmp(s, SCOPE_PREFIX, SCOPE_PREFIX_LEN))
			continue;
		if (++n > CT_XSCOPE_MAX) {
			snprintf(msg, sizeof(msg), "at most %d exec: scope entries", CT_XSCOPE_MAX);
			return msg;
		}
		if (ct_policy_parse_command(s + SCOPE_PREFIX_LEN, &c, why, sizeof(why)) < 0) {
			snprintf(msg, sizeof(msg), "scope '%.200s': %s", s, why);
			return msg;
		}
	}
	return NULL;
}

uint32_t ct_exec_prov_flags(const PbDeploy *d)
{
	uint32_t f = 0;

	if (!d)
		return 0;
	if (d->ai && d->ai->ai_assisted)
		f |= CT_PROV_AI;
	if (d->n_approved_by)
		f |= CT_PROV_APPROVED;
	if (d->risk == CHANGETRACE__V1__RISK__RISK_HIGH)
		f |= CT_PROV_HIGH_RISK;
	if (d->n_scope)
		f |= CT_PROV_SCOPED;
	return f;
}
