/* What a request changed, from the listings around it: when they bracket
 * it, the one nft rule's text, and what a legacy replace did. */
#include <stdlib.h>
#include "unit.h"
#include "collector/ruleset_change.h"

TEST(ruleset_listings_bracket_a_request)
{
	/* done before the request, one commit between: the request's */
	CHECK(ct_ruleset_brackets(7, 100, 8, 150));
	/* none between: the request changed nothing */
	CHECK(ct_ruleset_brackets(7, 100, 7, 150));
	/* two commits between: a later request's is in the second */
	CHECK(!ct_ruleset_brackets(7, 100, 9, 150));
	/* the first was done after the request: it held the request already */
	CHECK(!ct_ruleset_brackets(7, 200, 8, 150));
	/* not known */
	CHECK(!ct_ruleset_brackets(-1, 100, 8, 150));
	CHECK(!ct_ruleset_brackets(7, 100, -1, 150));
	CHECK(!ct_ruleset_brackets(7, 0, 8, 150));
	/* the generation wraps */
	CHECK(ct_ruleset_brackets(0xffffffffll, 100, 0, 150));
	CHECK(!ct_ruleset_brackets(8, 100, 7, 150));
}

static struct ct_net_obj objs[4];

static void rule_obj(struct ct_net_obj *o, int op)
{
	memset(o, 0, sizeof(*o));
	o->subsystem = CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_NFTABLES;
	o->op = op;
	snprintf(o->object_type, sizeof(o->object_type), "rule");
}

TEST(ruleset_nft_rule_text_from_the_diff)
{
	enum ct_net_verdict v[4] = { CT_NET_ACCEPTED_NOERR, CT_NET_ACCEPTED_NOERR,
				     CT_NET_ACCEPTED_NOERR, CT_NET_ACCEPTED_NOERR };

	rule_obj(&objs[0], CHANGETRACE__V1__NET_OP__NET_OP_ADD);
	ct_nft_rule_text(objs, 1, v, "+\t\ttcp dport 22 accept\n");
	CHECK_STR(objs[0].rule, "tcp dport 22 accept");
	/* a delete: the removed line */
	rule_obj(&objs[0], CHANGETRACE__V1__NET_OP__NET_OP_DELETE);
	ct_nft_rule_text(objs, 1, v, "-\t\ttcp dport 22 accept\n");
	CHECK_STR(objs[0].rule, "tcp dport 22 accept");
	/* the chain's own statements are not rules; the table's lines neither */
	rule_obj(&objs[0], CHANGETRACE__V1__NET_OP__NET_OP_ADD);
	ct_nft_rule_text(objs, 1, v, "+table inet t {\n+\tchain c {\n"
			 "+\t\ttype filter hook input priority filter; policy accept;\n"
			 "+\t\tudp dport 53 accept\n+\t}\n+}\n");
	CHECK_STR(objs[0].rule, "udp dport 53 accept");
	/* two rule lines: whose is which is not known */
	rule_obj(&objs[0], CHANGETRACE__V1__NET_OP__NET_OP_ADD);
	ct_nft_rule_text(objs, 1, v, "+\t\ttcp dport 22 accept\n+\t\ttcp dport 23 accept\n");
	CHECK_STR(objs[0].rule, "");
	/* two rule objects in one request: neither */
	rule_obj(&objs[0], CHANGETRACE__V1__NET_OP__NET_OP_ADD);
	rule_obj(&objs[1], CHANGETRACE__V1__NET_OP__NET_OP_ADD);
	ct_nft_rule_text(objs, 2, v, "+\t\ttcp dport 22 accept\n");
	CHECK_STR(objs[0].rule, "");
	/* ...unless the other was rejected */
	v[1] = CT_NET_REJECTED;
	ct_nft_rule_text(objs, 2, v, "+\t\ttcp dport 22 accept\n");
	CHECK_STR(objs[0].rule, "tcp dport 22 accept");
	/* a line of the wrong sign, or none */
	rule_obj(&objs[0], CHANGETRACE__V1__NET_OP__NET_OP_ADD);
	ct_nft_rule_text(objs, 1, v, "-\t\ttcp dport 22 accept\n");
	CHECK_STR(objs[0].rule, "");
	ct_nft_rule_text(objs, 1, v, NULL);
	CHECK_STR(objs[0].rule, "");
}

TEST(ruleset_legacy_size_and_what_it_did)
{
	uint8_t rep[44] = "filter";
	uint32_t entries = 6, bytes = 1032;
	struct ct_ipt_size sz = { 6, 1032 };
	struct ct_ipt_change ch = { .chain = "INPUT", .rule = "-A INPUT -j DROP", .added = 1 };
	struct ct_net_obj o;

	memcpy(rep + 36, &entries, 4);
	memcpy(rep + 40, &bytes, 4);
	CHECK(ct_legacy_size_is(rep, sizeof(rep), &sz));
	sz.bytes = 832;
	CHECK(!ct_legacy_size_is(rep, sizeof(rep), &sz));
	CHECK(!ct_legacy_size_is(rep, 40, &sz));              /* too short to say */
	sz = (struct ct_ipt_size){ 0, 0 };                   /* changed while read */
	CHECK(!ct_legacy_size_is(rep, sizeof(rep), &sz));

	memset(&o, 0, sizeof(o));
	o.op = CHANGETRACE__V1__NET_OP__NET_OP_REPLACE;
	snprintf(o.object_type, sizeof(o.object_type), "table");
	ct_legacy_what(&o, &ch, "*filter\n-A INPUT -j DROP\nCOMMIT\n");
	CHECK(o.op == CHANGETRACE__V1__NET_OP__NET_OP_ADD);
	CHECK_STR(o.object_type, "rule");
	CHECK_STR(o.chain, "INPUT");
	CHECK_STR(o.rule, "-A INPUT -j DROP");
	ch = (struct ct_ipt_change){ .chain = "INPUT", .removed = 3 };
	ct_legacy_what(&o, &ch, "*filter\n:INPUT ACCEPT\nCOMMIT\n");
	CHECK(o.op == CHANGETRACE__V1__NET_OP__NET_OP_FLUSH);
	CHECK_STR(o.object_type, "chain");
	/* rules gone, but some left in the chain: not a flush */
	snprintf(o.object_type, sizeof(o.object_type), "table");
	o.op = CHANGETRACE__V1__NET_OP__NET_OP_REPLACE;
	ct_legacy_what(&o, &ch, "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n");
	CHECK(o.op == CHANGETRACE__V1__NET_OP__NET_OP_REPLACE);
	CHECK_STR(o.object_type, "table");
}
