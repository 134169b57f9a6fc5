/* The netlink decoder on hand-built, truncated and random byte strings. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/fib_rules.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter.h>
#include <linux/xfrm.h>

#include "collector/event_net.h"
#include "collector/netlink_decode.h"
#include "collector/proc_cache.h"
#include "unit.h"

struct mb {
	uint8_t buf[4096];
	size_t len;
	size_t msg;              /* offset of the open message */
};

static void mb_msg(struct mb *m, uint16_t type, uint16_t flags, uint32_t seq)
{
	struct nlmsghdr h = { .nlmsg_len = NLMSG_HDRLEN, .nlmsg_type = type,
			      .nlmsg_flags = flags, .nlmsg_seq = seq };

	m->msg = m->len;
	memcpy(m->buf + m->len, &h, sizeof(h));
	m->len += NLMSG_HDRLEN;
}

static void mb_put(struct mb *m, const void *p, size_t n)
{
	memcpy(m->buf + m->len, p, n);
	m->len += NLMSG_ALIGN(n);
}

static void mb_attr(struct mb *m, uint16_t type, const void *p, size_t n)
{
	struct nlattr a = { .nla_len = NLA_HDRLEN + n, .nla_type = type };

	memcpy(m->buf + m->len, &a, sizeof(a));
	memcpy(m->buf + m->len + NLA_HDRLEN, p, n);
	m->len += NLA_ALIGN(NLA_HDRLEN + n);
}

static void mb_end(struct mb *m)
{
	uint32_t l = m->len - m->msg;

	memcpy(m->buf + m->msg, &l, 4);
}

static void build_route(struct mb *m)
{
	struct rtmsg r = { .rtm_family = AF_INET, .rtm_dst_len = 16, .rtm_table = RT_TABLE_MAIN };
	uint8_t dst[4] = { 10, 10, 0, 0 }, gw[4] = { 10, 9, 0, 2 };
	uint32_t oif = 7;

	memset(m, 0, sizeof(*m));
	mb_msg(m, RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, 42);
	mb_put(m, &r, sizeof(r));
	mb_attr(m, RTA_DST, dst, 4);
	mb_attr(m, RTA_GATEWAY, gw, 4);
	mb_attr(m, RTA_OIF, &oif, 4);
	mb_end(m);
}

static void build_nft_batch(struct mb *m)
{
	struct nfgenmsg g = { .nfgen_family = NFPROTO_INET, .version = NFNETLINK_V0,
			      .res_id = htons(NFNL_SUBSYS_NFTABLES) };

	memset(m, 0, sizeof(*m));
	mb_msg(m, NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, 100);
	mb_put(m, &g, sizeof(g));
	mb_end(m);
	g.res_id = 0;
	mb_msg(m, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE, NLM_F_REQUEST | NLM_F_CREATE, 101);
	mb_put(m, &g, sizeof(g));
	mb_attr(m, NFTA_TABLE_NAME, "t1", 3);
	mb_end(m);
	mb_msg(m, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWCHAIN, NLM_F_REQUEST | NLM_F_CREATE, 102);
	mb_put(m, &g, sizeof(g));
	mb_attr(m, NFTA_CHAIN_TABLE, "t1", 3);
	mb_attr(m, NFTA_CHAIN_NAME, "input", 6);
	mb_end(m);
	mb_msg(m, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_DELRULE, NLM_F_REQUEST, 103);
	mb_put(m, &g, sizeof(g));
	mb_attr(m, NFTA_RULE_TABLE, "t1", 3);
	mb_attr(m, NFTA_RULE_CHAIN, "input", 6);
	{
		uint64_t h = htobe64(9);

		mb_attr(m, NFTA_RULE_HANDLE, &h, 8);
	}
	mb_end(m);
	mb_msg(m, NFNL_MSG_BATCH_END, NLM_F_REQUEST, 104);
	g.res_id = htons(NFNL_SUBSYS_NFTABLES);
	mb_put(m, &g, sizeof(g));
	mb_end(m);
}

static struct ct_net_obj objs[CT_NL_OBJ_MAX];

TEST(netlink_route_decoded)
{
	struct mb m;
	struct ct_nl_result r;
	char s[256];

	build_route(&m);
	ct_nl_decode(NETLINK_ROUTE, m.buf, m.len, objs, CT_NL_OBJ_MAX, &r);
	CHECK(r.n == 1 && !r.malformed && !r.batch);
	CHECK(objs[0].op == CHANGETRACE__V1__NET_OP__NET_OP_ADD);
	CHECK(objs[0].subsystem == CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_ROUTE);
	CHECK_STR(objs[0].destination, "10.10.0.0/16");
	CHECK_STR(objs[0].gateway, "10.9.0.2");
	CHECK_STR(objs[0].table, "main");
	CHECK(objs[0].ifindex == 7 && objs[0].seq == 42);
	ct_net_obj_summary(&objs[0], s, sizeof(s));
	CHECK_STR(s, "route add 10.10.0.0/16 via 10.9.0.2 ifindex 7");
}

/* An ip rule: its table, and its selector as `ip rule` writes it. */
TEST(netlink_ip_rule_selector)
{
	struct mb m;
	struct ct_nl_result r;
	struct rtmsg h = { .rtm_family = AF_INET, .rtm_src_len = 24, .rtm_table = 100,
			   .rtm_type = 1 };
	uint8_t src[4] = { 192, 0, 2, 0 }, dst[4] = { 198, 51, 100, 0 };

	memset(&m, 0, sizeof(m));
	mb_msg(&m, RTM_NEWRULE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE, 5);
	mb_put(&m, &h, sizeof(h));
	mb_attr(&m, FRA_SRC, src, 4);
	mb_end(&m);
	ct_nl_decode(NETLINK_ROUTE, m.buf, m.len, objs, CT_NL_OBJ_MAX, &r);
	CHECK(r.n == 1 && !r.malformed);
	CHECK_STR(objs[0].table, "100");
	CHECK_STR(objs[0].rule, "from 192.0.2.0/24");
	h.rtm_src_len = 0;
	h.rtm_dst_len = 24;
	memset(&m, 0, sizeof(m));
	mb_msg(&m, RTM_DELRULE, NLM_F_REQUEST | NLM_F_ACK, 6);
	mb_put(&m, &h, sizeof(h));
	mb_attr(&m, FRA_DST, dst, 4);
	mb_end(&m);
	ct_nl_decode(NETLINK_ROUTE, m.buf, m.len, objs, CT_NL_OBJ_MAX, &r);
	CHECK(r.n == 1);
	CHECK_STR(objs[0].rule, "from all to 198.51.100.0/24");
}

TEST(netlink_every_truncation_is_flagged)
{
	struct mb m, n;
	struct ct_nl_result r;

	build_route(&m);
	for (size_t len = 1; len < m.len; len++) {
		/* a fresh heap copy of exactly len bytes: reading past it is
		 * caught by ASan (make SANITIZE=1 test) */
		uint8_t *p = malloc(len);

		memcpy(p, m.buf, len);
		ct_nl_decode(NETLINK_ROUTE, p, len, objs, CT_NL_OBJ_MAX, &r);
		free(p);
		CHECK(r.malformed);
	}
	build_nft_batch(&n);
	for (size_t len = 1; len < n.len; len++) {
		uint8_t *p = malloc(len);

		memcpy(p, n.buf, len);
		ct_nl_decode(NETLINK_NETFILTER, p, len, objs, CT_NL_OBJ_MAX, &r);
		free(p);
		CHECK(r.n <= 3);
	}
}

TEST(netlink_bad_lengths)
{
	struct mb m;
	struct ct_nl_result r;
	uint16_t bad;

	/* nlmsg_len below the header size */
	build_route(&m);
	memset(m.buf, 0, 4);
	m.buf[0] = 8;
	ct_nl_decode(NETLINK_ROUTE, m.buf, m.len, objs, CT_NL_OBJ_MAX, &r);
	CHECK(r.malformed && r.n == 0);
	/* an attribute longer than its message */
	build_route(&m);
	bad = 500;
	memcpy(m.buf + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct rtmsg)), &bad, 2);
	ct_nl_decode(NETLINK_ROUTE, m.buf, m.len, objs, CT_NL_OBJ_MAX, &r);
	CHECK(r.malformed && r.n == 1 && objs[0].malformed);
	/* an attribute shorter than an attribute header: no endless loop */
	build_route(&m);
	bad = 2;
	memcpy(m.buf + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct rtmsg)), &bad, 2);
	ct_nl_decode(NETLINK_ROUTE, m.buf, m.len, objs, CT_NL_OBJ_MAX, &r);
	CHECK(r.malformed && objs[0].malformed);
	/* a gateway of the wrong size */
	build_route(&m);
	m.buf[NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct rtmsg)) + 8] = 7;
	ct_nl_decode(NETLINK_ROUTE, m.buf, m.len, objs, CT_NL_OBJ_MAX, &r);
	CHECK(r.malformed);
}

TEST(netlink_nft_batch_objects)
{
	struct mb m;
	struct ct_nl_result r;
	char s[256];

	build_nft_batch(&m);
	ct_nl_decode(NETLINK_NETFILTER, m.buf, m.len, objs, CT_NL_OBJ_MAX, &r);
	CHECK(r.batch && !r.malformed && r.n == 3);
	CHECK(r.seq_first == 100 && r.seq_last == 104);
	CHECK_STR(objs[0].object_type, "table");
	CHECK_STR(objs[0].table, "t1");
	CHECK_STR(objs[0].family, "inet");
	CHECK_STR(objs[1].chain, "input");
	CHECK(objs[2].op == CHANGETRACE__V1__NET_OP__NET_OP_DELETE && objs[2].handle == 9);
	ct_net_obj_summary(&objs[2], s, sizeof(s));
	CHECK_STR(s, "nft delete rule inet t1 input handle 9");
	/* more objects than room: counted, not overrun */
	ct_nl_decode(NETLINK_NETFILTER, m.buf, m.len, objs, 2, &r);
	CHECK(r.n == 2 && r.more);
}

TEST(netlink_verdicts)
{
	static struct ct_net_event e;
	struct mb m;
	struct ct_nl_result r;

	build_nft_batch(&m);
	ct_nl_decode(NETLINK_NETFILTER, m.buf, m.len, objs, CT_NL_OBJ_MAX, &r);
	memset(&e, 0, sizeof(e));
	CHECK(ct_net_verdict(&e, &r, &objs[0]) == CT_NET_ACCEPTED_NOERR);
	/* an error on any message of a batch rejects all of it */
	e.n_acks = 1;
	e.acks[0].seq = 103;
	e.acks[0].error = -2;
	CHECK(ct_net_verdict(&e, &r, &objs[0]) == CT_NET_REJECTED);
	CHECK(ct_net_verdict(&e, &r, &objs[2]) == CT_NET_REJECTED);
	/* an answer to another request on the same socket does not count */
	e.acks[0].seq = 7;
	CHECK(ct_net_verdict(&e, &r, &objs[1]) == CT_NET_ACCEPTED_NOERR);

	build_route(&m);
	ct_nl_decode(NETLINK_ROUTE, m.buf, m.len, objs, CT_NL_OBJ_MAX, &r);
	e.n_acks = 0;
	CHECK(ct_net_verdict(&e, &r, &objs[0]) == CT_NET_UNCONFIRMED);
	e.n_acks = 1;
	e.acks[0].seq = 42;
	e.acks[0].error = 0;
	CHECK(ct_net_verdict(&e, &r, &objs[0]) == CT_NET_ACCEPTED_ACK);
	e.acks[0].error = -3;
	CHECK(ct_net_verdict(&e, &r, &objs[0]) == CT_NET_REJECTED);
	/* n_acks beyond the array is clamped */
	e.n_acks = 200;
	CHECK(ct_net_verdict(&e, &r, &objs[0]) == CT_NET_REJECTED);
}

TEST(netlink_random_bytes_never_crash)
{
	static uint8_t buf[512];
	struct ct_nl_result r;
	struct ct_net_obj o;
	unsigned seed = 12345;

	for (int i = 0; i < 20000; i++) {
		size_t len = rand_r(&seed) % sizeof(buf);
		uint16_t proto = (uint16_t[]){ NETLINK_ROUTE, NETLINK_NETFILTER, NETLINK_XFRM }[i % 3];

		for (size_t j = 0; j < len; j++)
			buf[j] = rand_r(&seed);
		/* plausible headers so the decoders get exercised */
		if (len >= 16 && (i & 1)) {
			uint32_t l = 16 + rand_r(&seed) % (len - 15);

			memcpy(buf, &l, 4);
			buf[4] = 16 + rand_r(&seed) % 30;
			buf[5] = proto == NETLINK_NETFILTER ? NFNL_SUBSYS_NFTABLES : 0;
		}
		ct_nl_decode(proto, buf, len, objs, CT_NL_OBJ_MAX, &r);
		CHECK(r.n <= CT_NL_OBJ_MAX);
		for (size_t k = 0; k < r.n; k++) {
			char s[320];

			CHECK(memchr(objs[k].table, 0, sizeof(objs[k].table)));
			ct_net_obj_summary(&objs[k], s, sizeof(s));
		}
		ct_nl_decode_sockopt(0, 64, buf, len % 64, &o);
		ct_nl_decode_bpf(28, buf, len % 40, &o);
	}
}

TEST(netlink_sockopt_and_bpf)
{
	uint8_t rep[64] = "filter";
	uint32_t v[8] = { 3, 2, 37, 0 };
	struct ct_net_obj o;

	memcpy(rep + 36, &(uint32_t){ 5 }, 4);
	memcpy(rep + 40, &(uint32_t){ 832 }, 4);
	ct_nl_decode_sockopt(0, 64, rep, sizeof(rep), &o);
	CHECK(!o.malformed);
	CHECK_STR(o.table, "filter");
	CHECK_STR(o.family, "ip");
	CHECK_STR(o.detail, "5 entries, 832 bytes");
	ct_nl_decode_sockopt(41, 64, rep, 20, &o);
	CHECK(o.malformed);
	CHECK_STR(o.family, "ip6");
	ct_nl_decode_bpf(28, (uint8_t *)v, sizeof(v), &o);
	CHECK(!o.malformed && o.ifindex == 2);
	CHECK_STR(o.detail, "link_create xdp");
	ct_nl_decode_bpf(8, (uint8_t *)v, 8, &o);
	CHECK(o.malformed);
}

TEST(netlink_line_diff)
{
	char out[256];

	ct_net_line_diff("a\nb\nc\n", "a\nc\nd\n", out, sizeof(out));
	CHECK_STR(out, "-b\n+d\n");
	ct_net_line_diff("", "x\n", out, sizeof(out));
	CHECK_STR(out, "+x\n");
	ct_net_line_diff("a\nb\n", "b\na\n", out, sizeof(out));
	CHECK_STR(out, "");
	ct_net_line_diff("a\n", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n", out, 8);
	CHECK(strlen(out) < 8);
}

/* Whole records through ct_event_from_record: events out via c->sink. */
static int emitted;
static char last_summary[320];

static void count_emit(void *ctx, const PbEvent *ev)
{
	emitted++;
	if (ev->net && ev->net->summary)
		snprintf(last_summary, sizeof(last_summary), "%s", ev->net->summary);
}

TEST(net_record_emits_accepted_and_drops_rejected)
{
	static struct ct_event_buf b;
	struct ct_collector c;
	struct ct_net_event *e = calloc(1, sizeof(*e));
	struct ct_net_stats before, after;
	size_t hdr = offsetof(struct ct_net_event, data);
	struct mb m;

	ct_collector_init(&c);
	c.proc_root = "/nonexistent";
	c.sink.emit = count_emit;
	ct_proc_cache_init(16);
	build_nft_batch(&m);
	e->hdr.kind = CT_KIND_NET;
	e->source = CT_NET_SRC_NETLINK;
	e->proto = NETLINK_NETFILTER;
	e->task.pid = 999999;
	memcpy(e->data, m.buf, m.len);
	e->data_len = m.len;
	e->hdr.size = hdr + m.len;

	emitted = 0;
	CHECK(ct_event_from_record(&c, e, hdr + m.len, &b) == 1);
	CHECK(emitted == 3);
	CHECK_STR(last_summary, "nft delete rule inet t1 input handle 9");

	/* the kernel answered an error for the batch: no change at all */
	ct_net_get_stats(&before);
	e->n_acks = 1;
	e->acks[0].seq = 100;
	e->acks[0].error = -1;
	emitted = 0;
	CHECK(ct_event_from_record(&c, e, hdr + m.len, &b) == 1);
	CHECK(emitted == 0);
	ct_net_get_stats(&after);
	CHECK(after.rejected == before.rejected + 1);

	/* a record that claims more data than it carries */
	e->n_acks = 0;
	CHECK(ct_event_from_record(&c, e, hdr + m.len - 1, &b) == -1);
	e->data_len = 60000;
	CHECK(ct_event_from_record(&c, e, sizeof(*e), &b) == -1);
	CHECK(ct_event_from_record(&c, e, hdr - 1, &b) == -1);

	/* bytes that do not decode: one malformed event, not nothing */
	e->data_len = 10;
	e->hdr.size = hdr + 10;
	emitted = 0;
	CHECK(ct_event_from_record(&c, e, hdr + 10, &b) == 1);
	CHECK(emitted == 1);
	ct_proc_cache_free();
	free(e);
}

/* A length near 4 GiB: its aligned value wrapped to 0 and the decoder
 * looped forever (found by tests/fuzz/fuzz_netlink). */
TEST(netlink_huge_length_ends)
{
	uint8_t buf[40] = {};
	struct nlmsghdr h = { .nlmsg_len = 0xffffffffu, .nlmsg_type = RTM_NEWLINK };
	struct ct_nl_result r;

	memcpy(buf, &h, sizeof(h));
	ct_nl_decode(NETLINK_ROUTE, buf, sizeof(buf), objs, CT_NL_OBJ_MAX, &r);
	CHECK(r.malformed);
	CHECK(r.n == 1);
	h.nlmsg_len = 0xfffffffdu;
	memcpy(buf, &h, sizeof(h));
	ct_nl_decode(NETLINK_ROUTE, buf, sizeof(buf), objs, CT_NL_OBJ_MAX, &r);
	CHECK(r.malformed);
}
