/* What a request changed, from the listings around it: see ruleset_change.h. */
#include <stdio.h>
#include <string.h>

#include "ruleset_change.h"
#include "lib/util.h"

/* Back to back requests outrun the collector: a listing then holds
 * later commits, or the last one already held this request's. */
bool ct_ruleset_brackets(int64_t gen_before, uint64_t listed_before_ns, int64_t gen_after,
			 uint64_t request_ns)
{
	uint32_t commits = (uint32_t)gen_after - (uint32_t)gen_before;

	return gen_before >= 0 && gen_after >= 0 && listed_before_ns &&
	       request_ns > listed_before_ns && commits <= 1;
}

/* Rule lines of an nft listing are indented twice; so are the chain's
 * and set's own statements, which are not rules. */
static bool nft_rule_line(const char *l)
{
	static const char *not_rules[] = { "type ", "policy ", "flags ", "elements = ", "size ",
					   "timeout ", "gc-interval ", "comment ", "devices = ",
					   "hook ", "auto-merge" };

	if (strncmp(l, "\t\t", 2) || l[2] == '\t' || !l[2])
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(not_rules); i++)
		if (!strncmp(l + 2, not_rules[i], strlen(not_rules[i])))
			return false;
	return true;
}

/* With several rules, which line is whose would be a guess; a rule
 * without text keeps its handle, when sent, to name it. */
void ct_nft_rule_text(struct ct_net_obj *objs, size_t n, const enum ct_net_verdict *v,
			  const char *diff)
{
	struct ct_net_obj *rule = NULL;
	const char *found = NULL;
	size_t found_len = 0;
	unsigned hits = 0;
	char sign;

	for (size_t i = 0; i < n; i++) {
		if (v[i] == CT_NET_REJECTED ||
		    objs[i].subsystem != CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_NFTABLES ||
		    strcmp(objs[i].object_type, "rule"))
			continue;
		if (rule)
			return;		/* several rules: which line is whose is a guess */
		rule = &objs[i];
	}
	if (!rule || !diff)
		return;
	sign = rule->op == CHANGETRACE__V1__NET_OP__NET_OP_DELETE ? '-' : '+';
	for (const char *l = diff; *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);

		if (l[0] == sign && nft_rule_line(l + 1)) {
			found = l + 3;
			found_len = len - 3;
			hits++;
		}
		l = nl ? nl + 1 : l + len;
	}
	if (hits != 1)
		return;
	if (found_len >= sizeof(rule->rule))
		found_len = sizeof(rule->rule) - 1;
	memcpy(rule->rule, found, found_len);
	rule->rule[found_len] = '\0';
}

bool ct_legacy_size_is(const uint8_t *replace, size_t len, const struct ct_ipt_size *sz)
{
	uint32_t entries, bytes;

	/* every *_replace: char name[32], valid_hooks, num_entries, size */
	if (len < 44 || !sz->entries)
		return false;
	memcpy(&entries, replace + 36, 4);
	memcpy(&bytes, replace + 40, 4);
	return entries == sz->entries && bytes == sz->bytes;
}

void ct_legacy_what(struct ct_net_obj *o, const struct ct_ipt_change *ch, const char *after)
{
	ct_strlcpy(o->chain, ch->chain, sizeof(o->chain));
	ct_strlcpy(o->rule, ch->rule, sizeof(o->rule));
	if (ch->added == 1 && ch->removed <= 1) {
		o->op = ch->removed ? CHANGETRACE__V1__NET_OP__NET_OP_REPLACE
				    : CHANGETRACE__V1__NET_OP__NET_OP_ADD;
		snprintf(o->object_type, sizeof(o->object_type), "rule");
	} else if (ch->removed == 1 && !ch->added) {
		o->op = CHANGETRACE__V1__NET_OP__NET_OP_DELETE;
		snprintf(o->object_type, sizeof(o->object_type), "rule");
	} else if (ch->removed && !ch->added && ch->chain[0] &&
		   ct_ipt_legacy_chain_empty(after, ch->chain)) {
		o->op = CHANGETRACE__V1__NET_OP__NET_OP_FLUSH;
		snprintf(o->object_type, sizeof(o->object_type), "chain");
	}
}
