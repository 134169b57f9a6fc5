/* Strict decoding of captured network-policy requests (netlink_decode.h). */
#include <arpa/inet.h>
#include <endian.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/fib_rules.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter.h>
#include <linux/pkt_sched.h>
#include <linux/xfrm.h>
#include <net/if.h>

#include "netlink_decode.h"

/* Newer than the uapi headers of some build hosts (Linux 6.3+). */
#ifndef NFT_MSG_DESTROYTABLE
#define NFT_MSG_DESTROYTABLE 26
#define NFT_MSG_DESTROYCHAIN 27
#define NFT_MSG_DESTROYRULE 28
#define NFT_MSG_DESTROYSET 29
#define NFT_MSG_DESTROYSETELEM 30
#define NFT_MSG_DESTROYOBJ 31
#define NFT_MSG_DESTROYFLOWTABLE 32
#endif

#define SUB(x) CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_##x
#define OP(x)  CHANGETRACE__V1__NET_OP__NET_OP_##x

/* ---- bounds-checked readers ---- */

static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

struct attr_it {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static void it_init(struct attr_it *it, const uint8_t *p, size_t len)
{
	it->p = p;
	it->left = len;
	it->bad = false;
}

static bool it_next(struct attr_it *it, uint16_t *type, const uint8_t **val, size_t *vlen)
{
	uint16_t l;
	size_t adv;

	if (it->left < NLA_HDRLEN) {
		if (it->left)
			it->bad = true;
		return false;
	}
	l = rd16(it->p);
	if (l < NLA_HDRLEN || l > it->left) {
		it->bad = true;
		return false;
	}
	*type = rd16(it->p + 2) & NLA_TYPE_MASK;
	*val = it->p + NLA_HDRLEN;
	*vlen = l - NLA_HDRLEN;
	adv = NLA_ALIGN(l);
	if (adv > it->left)
		adv = it->left;
	it->p += adv;
	it->left -= adv;
	return true;
}

/* Attribute string: up to its NUL or its end; non-printables become '?'. */
static void attr_str(char *dst, size_t dlen, const uint8_t *v, size_t vlen)
{
	size_t n = strnlen((const char *)v, vlen);

	if (n >= dlen)
		n = dlen - 1;
	for (size_t i = 0; i < n; i++)
		dst[i] = (v[i] >= 0x20 && v[i] < 0x7f) ? (char)v[i] : '?';
	dst[n] = '\0';
}

static bool addr_str(char *dst, size_t dlen, int family, const uint8_t *v, size_t vlen)
{
	if ((family == AF_INET && vlen == 4) || (family == AF_INET6 && vlen == 16))
		return inet_ntop(family, v, dst, dlen) != NULL;
	if (vlen == 4)
		return inet_ntop(AF_INET, v, dst, dlen) != NULL;
	if (vlen == 16)
		return inet_ntop(AF_INET6, v, dst, dlen) != NULL;
	return false;
}

static void append(char *dst, size_t dlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *dst, size_t dlen, const char *fmt, ...)
{
	size_t n = strnlen(dst, dlen);
	va_list ap;

	if (n + 1 >= dlen)
		return;
	if (n) {
		dst[n++] = ' ';
		dst[n] = '\0';
	}
	va_start(ap, fmt);
	vsnprintf(dst + n, dlen - n, fmt, ap);
	va_end(ap);
}

static const char *inet_family(int f)
{
	switch (f) {
	case AF_UNSPEC: return "unspec";
	case AF_INET: return "ip";
	case AF_INET6: return "ip6";
	case AF_BRIDGE: return "bridge";
	case AF_MPLS: return "mpls";
	default: return "other";
	}
}

static const char *nfproto_family(int f)
{
	switch (f) {
	case NFPROTO_UNSPEC: return "unspec";
	case NFPROTO_INET: return "inet";
	case NFPROTO_IPV4: return "ip";
	case NFPROTO_ARP: return "arp";
	case NFPROTO_NETDEV: return "netdev";
	case NFPROTO_BRIDGE: return "bridge";
	case NFPROTO_IPV6: return "ip6";
	default: return "other";
	}
}

static void set_type(struct ct_net_obj *o, const char *t)
{
	snprintf(o->object_type, sizeof(o->object_type), "%s", t);
}

/* ---- rtnetlink ---- */

static Changetrace__V1__NetOp rt_op(uint16_t type, uint16_t flags)
{
	switch (type & 3) {
	case 0:
		if (flags & NLM_F_REPLACE)
			return OP(REPLACE);
		return OP(ADD);
	case 1: return OP(DELETE);
	case 3: return OP(SET);
	default: return OP(UNSPECIFIED);
	}
}

static void rt_link(struct ct_net_obj *o, const uint8_t *b, size_t len)
{
	struct ifinfomsg ifi;
	struct attr_it it;
	const uint8_t *v;
	size_t vl;
	uint16_t t;

	set_type(o, "link");
	o->subsystem = SUB(LINK);
	if (len < sizeof(ifi)) {
		o->malformed = true;
		return;
	}
	memcpy(&ifi, b, sizeof(ifi));
	o->ifindex = ifi.ifi_index > 0 ? (uint32_t)ifi.ifi_index : 0;
	snprintf(o->family, sizeof(o->family), "%s", inet_family(ifi.ifi_family));
	/* RTM_NEWLINK without NLM_F_CREATE on an existing link is `ip link set` */
	if (o->msg_type == RTM_NEWLINK && !(o->msg_flags & NLM_F_CREATE))
		o->op = OP(SET);
	if (ifi.ifi_change & IFF_UP)
		append(o->detail, sizeof(o->detail), "%s", (ifi.ifi_flags & IFF_UP) ? "up" : "down");
	it_init(&it, b + NLMSG_ALIGN(sizeof(ifi)),
		len > NLMSG_ALIGN(sizeof(ifi)) ? len - NLMSG_ALIGN(sizeof(ifi)) : 0);
	while (it_next(&it, &t, &v, &vl)) {
		switch (t) {
		case IFLA_IFNAME:
			attr_str(o->device, sizeof(o->device), v, vl);
			break;
		case IFLA_MTU:
			if (vl >= 4)
				append(o->detail, sizeof(o->detail), "mtu %u", rd32(v));
			else
				o->malformed = true;
			break;
		case IFLA_MASTER:
			if (vl >= 4)
				append(o->detail, sizeof(o->detail), "master %u", rd32(v));
			break;
		case IFLA_LINKINFO: {
			struct attr_it in;
			const uint8_t *iv;
			size_t ivl;
			uint16_t itype;
			char kind[24] = "";

			it_init(&in, v, vl);
			while (it_next(&in, &itype, &iv, &ivl))
				if (itype == IFLA_INFO_KIND)
					attr_str(kind, sizeof(kind), iv, ivl);
			if (in.bad)
				o->malformed = true;
			if (kind[0])
				append(o->detail, sizeof(o->detail), "kind %s", kind);
			break;
		}
		case IFLA_XDP: {
			struct attr_it in;
			const uint8_t *iv;
			size_t ivl;
			uint16_t itype;
			int32_t fd = -1;

			it_init(&in, v, vl);
			while (it_next(&in, &itype, &iv, &ivl))
				if (itype == IFLA_XDP_FD && ivl >= 4)
					fd = (int32_t)rd32(iv);
			if (in.bad)
				o->malformed = true;
			append(o->detail, sizeof(o->detail), "%s", fd >= 0 ? "xdp attach" : "xdp detach");
			break;
		}
		case IFLA_NET_NS_FD:
		case IFLA_NET_NS_PID:
			append(o->detail, sizeof(o->detail), "netns move");
			break;
		default:
			break;
		}
	}
	if (it.bad)
		o->malformed = true;
}

static void rt_addr(struct ct_net_obj *o, const uint8_t *b, size_t len)
{
	struct ifaddrmsg ifa;
	struct attr_it it;
	const uint8_t *v;
	size_t vl;
	uint16_t t;
	char a[INET6_ADDRSTRLEN] = "", local[INET6_ADDRSTRLEN] = "";

	set_type(o, "address");
	o->subsystem = SUB(ADDRESS);
	if (len < sizeof(ifa)) {
		o->malformed = true;
		return;
	}
	memcpy(&ifa, b, sizeof(ifa));
	o->ifindex = ifa.ifa_index;
	snprintf(o->family, sizeof(o->family), "%s", inet_family(ifa.ifa_family));
	it_init(&it, b + NLMSG_ALIGN(sizeof(ifa)),
		len > NLMSG_ALIGN(sizeof(ifa)) ? len - NLMSG_ALIGN(sizeof(ifa)) : 0);
	while (it_next(&it, &t, &v, &vl)) {
		if (t == IFA_ADDRESS && !addr_str(a, sizeof(a), ifa.ifa_family, v, vl))
			o->malformed = true;
		else if (t == IFA_LOCAL && !addr_str(local, sizeof(local), ifa.ifa_family, v, vl))
			o->malformed = true;
		else if (t == IFA_LABEL)
			attr_str(o->device, sizeof(o->device), v, vl);
	}
	if (it.bad)
		o->malformed = true;
	if (local[0] || a[0])
		snprintf(o->destination, sizeof(o->destination), "%s/%u",
			 local[0] ? local : a, ifa.ifa_prefixlen);
}

static void rt_route(struct ct_net_obj *o, const uint8_t *b, size_t len, bool rule)
{
	struct rtmsg rtm;        /* struct fib_rule_hdr has the same leading layout */
	struct attr_it it;
	const uint8_t *v;
	size_t vl;
	uint16_t t;
	uint32_t table;
	char dst[INET6_ADDRSTRLEN] = "", src[INET6_ADDRSTRLEN] = "";

	set_type(o, rule ? "rule" : "route");
	o->subsystem = rule ? SUB(RULE) : SUB(ROUTE);
	if (len < sizeof(rtm)) {
		o->malformed = true;
		return;
	}
	memcpy(&rtm, b, sizeof(rtm));
	table = rtm.rtm_table;
	snprintf(o->family, sizeof(o->family), "%s", inet_family(rtm.rtm_family));
	it_init(&it, b + NLMSG_ALIGN(sizeof(rtm)),
		len > NLMSG_ALIGN(sizeof(rtm)) ? len - NLMSG_ALIGN(sizeof(rtm)) : 0);
	while (it_next(&it, &t, &v, &vl)) {
		/* RTA_DST == FRA_DST, RTA_SRC == FRA_SRC, RTA_TABLE == FRA_TABLE,
		 * RTA_PRIORITY == FRA_PRIORITY */
		switch (t) {
		case RTA_DST:
			if (!addr_str(dst, sizeof(dst), rtm.rtm_family, v, vl))
				o->malformed = true;
			break;
		case RTA_SRC:
			if (!addr_str(src, sizeof(src), rtm.rtm_family, v, vl))
				o->malformed = true;
			break;
		case RTA_GATEWAY:
			if (!rule && !addr_str(o->gateway, sizeof(o->gateway), rtm.rtm_family, v, vl))
				o->malformed = true;
			break;
		case RTA_OIF:
			if (!rule && vl >= 4)
				o->ifindex = rd32(v);
			break;
		case RTA_TABLE:
			if (vl >= 4)
				table = rd32(v);
			break;
		case RTA_PRIORITY:
			if (vl >= 4)
				append(o->detail, sizeof(o->detail), "%s %u", rule ? "pref" : "metric", rd32(v));
			break;
		default:
			break;
		}
	}
	if (it.bad)
		o->malformed = true;
	if (dst[0])
		snprintf(o->destination, sizeof(o->destination), "%s/%u", dst, rtm.rtm_dst_len);
	else if (!rule)
		snprintf(o->destination, sizeof(o->destination), "%s",
			 rtm.rtm_dst_len ? "?" : "default");
	if (src[0] && rule)
		append(o->detail, sizeof(o->detail), "from %s/%u", src, rtm.rtm_src_len);
	if (rule) {
		/* the selector, as `ip rule` writes it: what names the rule */
		if (src[0])
			snprintf(o->rule, sizeof(o->rule), "from %s/%u", src, rtm.rtm_src_len);
		else
			snprintf(o->rule, sizeof(o->rule), "from all");
		if (dst[0])
			append(o->rule, sizeof(o->rule), "to %s/%u", dst, rtm.rtm_dst_len);
	}
	if (table == RT_TABLE_MAIN)
		snprintf(o->table, sizeof(o->table), "main");
	else if (table == RT_TABLE_LOCAL)
		snprintf(o->table, sizeof(o->table), "local");
	else if (table)
		snprintf(o->table, sizeof(o->table), "%u", table);
	if (rule)
		append(o->detail, sizeof(o->detail), "action %u", rtm.rtm_type);
}

static void rt_neigh(struct ct_net_obj *o, const uint8_t *b, size_t len)
{
	struct ndmsg nd;
	struct attr_it it;
	const uint8_t *v;
	size_t vl;
	uint16_t t;

	set_type(o, "neighbour");
	o->subsystem = SUB(NEIGHBOUR);
	if (len < sizeof(nd)) {
		o->malformed = true;
		return;
	}
	memcpy(&nd, b, sizeof(nd));
	o->ifindex = nd.ndm_ifindex > 0 ? (uint32_t)nd.ndm_ifindex : 0;
	snprintf(o->family, sizeof(o->family), "%s", inet_family(nd.ndm_family));
	it_init(&it, b + NLMSG_ALIGN(sizeof(nd)),
		len > NLMSG_ALIGN(sizeof(nd)) ? len - NLMSG_ALIGN(sizeof(nd)) : 0);
	while (it_next(&it, &t, &v, &vl)) {
		if (t == NDA_DST && !addr_str(o->destination, sizeof(o->destination),
					      nd.ndm_family, v, vl))
			o->malformed = true;
		else if (t == NDA_LLADDR && vl == 6)
			append(o->detail, sizeof(o->detail), "lladdr %02x:%02x:%02x:%02x:%02x:%02x",
			       v[0], v[1], v[2], v[3], v[4], v[5]);
	}
	if (it.bad)
		o->malformed = true;
}

static void rt_tc(struct ct_net_obj *o, const uint8_t *b, size_t len, const char *what)
{
	struct tcmsg tc;
	struct attr_it it;
	const uint8_t *v;
	size_t vl;
	uint16_t t;
	char kind[24] = "";

	set_type(o, what);
	o->subsystem = SUB(TC);
	if (len < sizeof(tc)) {
		o->malformed = true;
		return;
	}
	memcpy(&tc, b, sizeof(tc));
	o->ifindex = tc.tcm_ifindex > 0 ? (uint32_t)tc.tcm_ifindex : 0;
	o->handle = tc.tcm_handle;
	it_init(&it, b + NLMSG_ALIGN(sizeof(tc)),
		len > NLMSG_ALIGN(sizeof(tc)) ? len - NLMSG_ALIGN(sizeof(tc)) : 0);
	while (it_next(&it, &t, &v, &vl))
		if (t == TCA_KIND)
			attr_str(kind, sizeof(kind), v, vl);
	if (it.bad)
		o->malformed = true;
	if (kind[0])
		append(o->detail, sizeof(o->detail), "kind %s", kind);
	if (tc.tcm_parent == TC_H_ROOT)
		append(o->detail, sizeof(o->detail), "parent root");
	else if (tc.tcm_parent == TC_H_INGRESS)
		append(o->detail, sizeof(o->detail), "parent ingress");
	else
		append(o->detail, sizeof(o->detail), "parent %x:%x", tc.tcm_parent >> 16,
		       tc.tcm_parent & 0xffff);
}

static void decode_route_msg(struct ct_net_obj *o, const uint8_t *b, size_t len)
{
	uint16_t type = o->msg_type;

	o->op = rt_op(type, o->msg_flags);
	switch (type) {
	case RTM_NEWLINK: case RTM_DELLINK: case RTM_SETLINK:
		rt_link(o, b, len);
		break;
	case RTM_NEWADDR: case RTM_DELADDR:
		rt_addr(o, b, len);
		break;
	case RTM_NEWROUTE: case RTM_DELROUTE:
		rt_route(o, b, len, false);
		break;
	case RTM_NEWRULE: case RTM_DELRULE:
		rt_route(o, b, len, true);
		break;
	case RTM_NEWNEIGH: case RTM_DELNEIGH:
		rt_neigh(o, b, len);
		break;
	case RTM_NEWQDISC: case RTM_DELQDISC:
		rt_tc(o, b, len, "qdisc");
		break;
	case RTM_NEWTCLASS: case RTM_DELTCLASS:
		rt_tc(o, b, len, "class");
		break;
	case RTM_NEWTFILTER: case RTM_DELTFILTER:
		rt_tc(o, b, len, "filter");
		break;
	case RTM_NEWCHAIN: case RTM_DELCHAIN:
		rt_tc(o, b, len, "tc-chain");
		break;
	case RTM_NEWACTION: case RTM_DELACTION:
		set_type(o, "tc-action");
		o->subsystem = SUB(TC);
		break;
	case RTM_NEWNEXTHOP: case RTM_DELNEXTHOP:
		set_type(o, "nexthop");
		o->subsystem = SUB(ROUTE);
		break;
	default:
		snprintf(o->object_type, sizeof(o->object_type), "rtnetlink-%u", type);
		o->subsystem = SUB(UNSPECIFIED);
		break;
	}
}

/* ---- nf_tables ---- */

static void nft_msg(struct ct_net_obj *o, const uint8_t *b, size_t len)
{
	struct nfgenmsg g;
	uint16_t msg = o->msg_type & 0xff;
	struct attr_it it;
	const uint8_t *v;
	size_t vl;
	uint16_t t;
	bool has_name = false, has_handle = false, has_elems = false;
	unsigned elems = 0;

	o->subsystem = SUB(NFTABLES);
	if (len < sizeof(g)) {
		o->malformed = true;
		return;
	}
	memcpy(&g, b, sizeof(g));
	snprintf(o->family, sizeof(o->family), "%s", nfproto_family(g.nfgen_family));
	switch (msg) {
	case NFT_MSG_NEWTABLE: case NFT_MSG_DELTABLE: case NFT_MSG_DESTROYTABLE:
		set_type(o, "table"); break;
	case NFT_MSG_NEWCHAIN: case NFT_MSG_DELCHAIN: case NFT_MSG_DESTROYCHAIN:
		set_type(o, "chain"); break;
	case NFT_MSG_NEWRULE: case NFT_MSG_DELRULE: case NFT_MSG_DESTROYRULE:
		set_type(o, "rule"); break;
	case NFT_MSG_NEWSET: case NFT_MSG_DELSET: case NFT_MSG_DESTROYSET:
		set_type(o, "set"); break;
	case NFT_MSG_NEWSETELEM: case NFT_MSG_DELSETELEM: case NFT_MSG_DESTROYSETELEM:
		set_type(o, "setelem"); break;
	case NFT_MSG_NEWOBJ: case NFT_MSG_DELOBJ: case NFT_MSG_DESTROYOBJ:
		set_type(o, "object"); break;
	case NFT_MSG_NEWFLOWTABLE: case NFT_MSG_DELFLOWTABLE: case NFT_MSG_DESTROYFLOWTABLE:
		set_type(o, "flowtable"); break;
	default:
		snprintf(o->object_type, sizeof(o->object_type), "nft-msg-%u", msg);
		break;
	}
	switch (msg) {
	case NFT_MSG_NEWTABLE: case NFT_MSG_NEWCHAIN: case NFT_MSG_NEWRULE:
	case NFT_MSG_NEWSET: case NFT_MSG_NEWSETELEM: case NFT_MSG_NEWOBJ:
	case NFT_MSG_NEWFLOWTABLE:
		o->op = (o->msg_flags & NLM_F_REPLACE) ? OP(REPLACE) : OP(ADD);
		break;
	case NFT_MSG_DELTABLE: case NFT_MSG_DELCHAIN: case NFT_MSG_DELRULE:
	case NFT_MSG_DELSET: case NFT_MSG_DELSETELEM: case NFT_MSG_DELOBJ:
	case NFT_MSG_DELFLOWTABLE: case NFT_MSG_DESTROYTABLE: case NFT_MSG_DESTROYCHAIN:
	case NFT_MSG_DESTROYRULE: case NFT_MSG_DESTROYSET: case NFT_MSG_DESTROYSETELEM:
	case NFT_MSG_DESTROYOBJ: case NFT_MSG_DESTROYFLOWTABLE:
		o->op = OP(DELETE);
		break;
	default:
		o->op = OP(UNSPECIFIED);
		break;
	}
	it_init(&it, b + NLMSG_ALIGN(sizeof(g)),
		len > NLMSG_ALIGN(sizeof(g)) ? len - NLMSG_ALIGN(sizeof(g)) : 0);
	while (it_next(&it, &t, &v, &vl)) {
		/* attribute 1 is the table name (or the table) in every object */
		if (t == 1) {
			attr_str(o->table, sizeof(o->table), v, vl);
			has_name = true;
			continue;
		}
		switch (msg) {
		case NFT_MSG_NEWCHAIN: case NFT_MSG_DELCHAIN: case NFT_MSG_DESTROYCHAIN:
			if (t == NFTA_CHAIN_NAME) {
				attr_str(o->chain, sizeof(o->chain), v, vl);
				has_name = true;
			} else if (t == NFTA_CHAIN_HANDLE && vl == 8) {
				o->handle = be64toh(rd64(v));
				has_handle = true;
			} else if (t == NFTA_CHAIN_TYPE) {
				char ty[16];

				attr_str(ty, sizeof(ty), v, vl);
				append(o->detail, sizeof(o->detail), "type %s", ty);
			} else if (t == NFTA_CHAIN_POLICY && vl == 4) {
				append(o->detail, sizeof(o->detail), "policy %s",
				       ntohl(rd32(v)) == NF_ACCEPT ? "accept" :
				       ntohl(rd32(v)) == NF_DROP ? "drop" : "?");
			}
			break;
		case NFT_MSG_NEWRULE: case NFT_MSG_DELRULE: case NFT_MSG_DESTROYRULE:
			if (t == NFTA_RULE_CHAIN) {
				attr_str(o->chain, sizeof(o->chain), v, vl);
			} else if (t == NFTA_RULE_HANDLE && vl == 8) {
				o->handle = be64toh(rd64(v));
				has_handle = true;
			} else if (t == NFTA_RULE_POSITION && vl == 8) {
				append(o->detail, sizeof(o->detail), "position %llu",
				       (unsigned long long)be64toh(rd64(v)));
			} else if (t == NFTA_RULE_EXPRESSIONS) {
				struct attr_it in;
				const uint8_t *iv;
				size_t ivl;
				uint16_t itype;
				unsigned n = 0;

				it_init(&in, v, vl);
				while (it_next(&in, &itype, &iv, &ivl))
					n++;
				if (in.bad)
					o->malformed = true;
				append(o->detail, sizeof(o->detail), "%u expressions", n);
			}
			break;
		case NFT_MSG_NEWSET: case NFT_MSG_DELSET: case NFT_MSG_DESTROYSET:
			if (t == NFTA_SET_NAME)
				attr_str(o->set, sizeof(o->set), v, vl);
			else if (t == NFTA_SET_HANDLE && vl == 8)
				o->handle = be64toh(rd64(v));
			break;
		case NFT_MSG_NEWSETELEM: case NFT_MSG_DELSETELEM: case NFT_MSG_DESTROYSETELEM:
			if (t == NFTA_SET_ELEM_LIST_SET) {
				attr_str(o->set, sizeof(o->set), v, vl);
			} else if (t == NFTA_SET_ELEM_LIST_ELEMENTS) {
				struct attr_it in;
				const uint8_t *iv;
				size_t ivl;
				uint16_t itype;

				has_elems = true;
				it_init(&in, v, vl);
				while (it_next(&in, &itype, &iv, &ivl))
					elems++;
				if (in.bad)
					o->malformed = true;
			}
			break;
		case NFT_MSG_NEWOBJ: case NFT_MSG_DELOBJ: case NFT_MSG_DESTROYOBJ:
			if (t == NFTA_OBJ_NAME)
				attr_str(o->set, sizeof(o->set), v, vl);
			break;
		case NFT_MSG_NEWFLOWTABLE: case NFT_MSG_DELFLOWTABLE: case NFT_MSG_DESTROYFLOWTABLE:
			if (t == NFTA_FLOWTABLE_NAME)
				attr_str(o->set, sizeof(o->set), v, vl);
			break;
		default:
			break;
		}
	}
	if (it.bad)
		o->malformed = true;
	if (has_elems)
		append(o->detail, sizeof(o->detail), "%u elements", elems);
	/* deletes without a name or handle flush what contains them */
	if (o->op == OP(DELETE)) {
		if (msg == NFT_MSG_DELTABLE && !o->table[0]) {
			o->op = OP(FLUSH);
			set_type(o, "ruleset");
		} else if (msg == NFT_MSG_DELRULE && !has_handle) {
			o->op = OP(FLUSH);
		} else if (msg == NFT_MSG_DELSETELEM && !has_elems) {
			o->op = OP(FLUSH);
		}
	}
	(void)has_name;
}

/* ---- xfrm ---- */

static void xfrm_sel(struct ct_net_obj *o, const struct xfrm_selector *s)
{
	char d[INET6_ADDRSTRLEN] = "", src[INET6_ADDRSTRLEN] = "";
	int fam = s->family;

	snprintf(o->family, sizeof(o->family), "%s", inet_family(fam));
	if (fam == AF_INET || fam == AF_INET6) {
		inet_ntop(fam, &s->daddr, d, sizeof(d));
		inet_ntop(fam, &s->saddr, src, sizeof(src));
		snprintf(o->destination, sizeof(o->destination), "%s/%u", d, s->prefixlen_d);
		append(o->detail, sizeof(o->detail), "src %s/%u", src, s->prefixlen_s);
	}
	if (s->proto)
		append(o->detail, sizeof(o->detail), "proto %u", s->proto);
	if (s->ifindex > 0)
		o->ifindex = s->ifindex;
}

static const char *xfrm_dir(uint8_t d)
{
	switch (d) {
	case XFRM_POLICY_IN: return "in";
	case XFRM_POLICY_OUT: return "out";
	case XFRM_POLICY_FWD: return "fwd";
	default: return "?";
	}
}

static void decode_xfrm_msg(struct ct_net_obj *o, const uint8_t *b, size_t len)
{
	uint16_t t = o->msg_type;

	o->subsystem = SUB(XFRM);
	switch (t) {
	case XFRM_MSG_NEWPOLICY: case XFRM_MSG_UPDPOLICY: {
		struct xfrm_userpolicy_info p;

		set_type(o, "policy");
		o->op = t == XFRM_MSG_NEWPOLICY ? OP(ADD) : OP(REPLACE);
		if (len < sizeof(p)) {
			o->malformed = true;
			return;
		}
		memcpy(&p, b, sizeof(p));
		xfrm_sel(o, &p.sel);
		append(o->detail, sizeof(o->detail), "dir %s action %s priority %u",
		       xfrm_dir(p.dir), p.action == XFRM_POLICY_ALLOW ? "allow" : "block",
		       p.priority);
		break;
	}
	case XFRM_MSG_DELPOLICY: {
		struct xfrm_userpolicy_id p;

		set_type(o, "policy");
		o->op = OP(DELETE);
		if (len < sizeof(p)) {
			o->malformed = true;
			return;
		}
		memcpy(&p, b, sizeof(p));
		xfrm_sel(o, &p.sel);
		append(o->detail, sizeof(o->detail), "dir %s", xfrm_dir(p.dir));
		break;
	}
	case XFRM_MSG_NEWSA: case XFRM_MSG_UPDSA: {
		struct xfrm_usersa_info sa;
		char d[INET6_ADDRSTRLEN] = "";

		set_type(o, "state");
		o->op = t == XFRM_MSG_NEWSA ? OP(ADD) : OP(REPLACE);
		if (len < sizeof(sa)) {
			o->malformed = true;
			return;
		}
		memcpy(&sa, b, sizeof(sa));
		snprintf(o->family, sizeof(o->family), "%s", inet_family(sa.family));
		if (sa.family == AF_INET || sa.family == AF_INET6)
			inet_ntop(sa.family, &sa.id.daddr, d, sizeof(d));
		snprintf(o->destination, sizeof(o->destination), "%s", d);
		o->handle = ntohl(sa.id.spi);
		append(o->detail, sizeof(o->detail), "spi 0x%x proto %u reqid %u",
		       ntohl(sa.id.spi), sa.id.proto, sa.reqid);
		break;
	}
	case XFRM_MSG_DELSA: {
		struct xfrm_usersa_id id;
		char d[INET6_ADDRSTRLEN] = "";

		set_type(o, "state");
		o->op = OP(DELETE);
		if (len < sizeof(id)) {
			o->malformed = true;
			return;
		}
		memcpy(&id, b, sizeof(id));
		snprintf(o->family, sizeof(o->family), "%s", inet_family(id.family));
		if (id.family == AF_INET || id.family == AF_INET6)
			inet_ntop(id.family, &id.daddr, d, sizeof(d));
		snprintf(o->destination, sizeof(o->destination), "%s", d);
		o->handle = ntohl(id.spi);
		break;
	}
	case XFRM_MSG_FLUSHSA:
		set_type(o, "state");
		o->op = OP(FLUSH);
		break;
	case XFRM_MSG_FLUSHPOLICY:
		set_type(o, "policy");
		o->op = OP(FLUSH);
		break;
	default:
		snprintf(o->object_type, sizeof(o->object_type), "xfrm-%u", t);
		o->op = OP(SET);
		break;
	}
}

/* ---- messages ---- */

static void obj_init(struct ct_net_obj *o, const struct nlmsghdr *h)
{
	memset(o, 0, sizeof(*o));
	o->msg_type = h->nlmsg_type;
	o->msg_flags = h->nlmsg_flags;
	o->seq = h->nlmsg_seq;
}

void ct_nl_decode(uint16_t proto, const uint8_t *buf, size_t len,
		  struct ct_net_obj *objs, size_t max, struct ct_nl_result *res)
{
	size_t off = 0;
	bool first = true;

	memset(res, 0, sizeof(*res));
	while (off < len) {
		struct nlmsghdr h;
		const uint8_t *body;
		size_t blen, step;

		if (len - off < sizeof(h)) {
			res->malformed = true;	/* a partial header */
			break;
		}
		memcpy(&h, buf + off, sizeof(h));
		if (h.nlmsg_len < sizeof(h)) {
			res->malformed = true;
			break;
		}
		if (first)
			res->seq_first = h.nlmsg_seq;
		res->seq_last = h.nlmsg_seq;
		body = buf + off + NLMSG_HDRLEN;
		blen = h.nlmsg_len - NLMSG_HDRLEN;
		if (h.nlmsg_len > len - off) {
			/* the message continues past what we have */
			res->malformed = true;
			blen = len - off - NLMSG_HDRLEN;
		}
		if (proto == NETLINK_NETFILTER && (h.nlmsg_type == NFNL_MSG_BATCH_BEGIN ||
						   h.nlmsg_type == NFNL_MSG_BATCH_END)) {
			if (h.nlmsg_type == NFNL_MSG_BATCH_BEGIN)
				res->batch = true;
		} else if (proto == NETLINK_NETFILTER || proto == NETLINK_ROUTE ||
			   proto == NETLINK_XFRM) {
			if (res->n >= max) {
				res->more = true;
			} else {
				struct ct_net_obj *o = &objs[res->n++];

				obj_init(o, &h);
				if (proto == NETLINK_ROUTE)
					decode_route_msg(o, body, blen);
				else if (proto == NETLINK_XFRM)
					decode_xfrm_msg(o, body, blen);
				else if ((h.nlmsg_type >> 8) == NFNL_SUBSYS_NFTABLES)
					nft_msg(o, body, blen);
				else
					snprintf(o->object_type, sizeof(o->object_type),
						 "nfnl-%u-%u", h.nlmsg_type >> 8, h.nlmsg_type & 0xff);
				if (h.nlmsg_len > len - off)
					o->malformed = true;
				if (o->malformed)
					res->malformed = true;
			}
		}
		first = false;
		/* in size_t: NLMSG_ALIGN of a u32 near 4 GiB wraps to 0 and
		 * never advanced (found by tests/fuzz/fuzz_netlink) */
		step = ((size_t)h.nlmsg_len + NLMSG_ALIGNTO - 1) & ~(size_t)(NLMSG_ALIGNTO - 1);
		if (step >= len - off)
			break;
		off += step;
	}
}

void ct_nl_decode_sockopt(uint16_t level, uint32_t optname, const uint8_t *buf,
			  size_t len, struct ct_net_obj *o)
{
	memset(o, 0, sizeof(*o));
	o->subsystem = SUB(IPTABLES_LEGACY);
	o->op = OP(REPLACE);
	set_type(o, "table");
	if (level == 41)
		snprintf(o->family, sizeof(o->family), "ip6");
	else if (optname == 96)
		snprintf(o->family, sizeof(o->family), "arp");
	else if (optname == 128)
		snprintf(o->family, sizeof(o->family), "bridge");
	else
		snprintf(o->family, sizeof(o->family), "ip");
	/* every *_replace starts with char name[32], valid_hooks, count, size */
	if (len < 44) {
		o->malformed = true;
		if (len)
			attr_str(o->table, sizeof(o->table), buf, len < 32 ? len : 32);
		return;
	}
	attr_str(o->table, sizeof(o->table), buf, 32);
	append(o->detail, sizeof(o->detail), "%u entries, %u bytes", rd32(buf + 36), rd32(buf + 40));
}

static const char *bpf_attach_name(uint32_t t)
{
	static const char *names[] = {
		"cgroup_inet_ingress", "cgroup_inet_egress", "cgroup_inet_sock_create",
		"cgroup_sock_ops", "sk_skb_stream_parser", "sk_skb_stream_verdict",
		"cgroup_device", "sk_msg_verdict", "cgroup_inet4_bind", "cgroup_inet6_bind",
		"cgroup_inet4_connect", "cgroup_inet6_connect", "cgroup_inet4_post_bind",
		"cgroup_inet6_post_bind", "cgroup_udp4_sendmsg", "cgroup_udp6_sendmsg",
		"lirc_mode2", "flow_dissector", "cgroup_sysctl", "cgroup_udp4_recvmsg",
		"cgroup_udp6_recvmsg", "cgroup_getsockopt", "cgroup_setsockopt",
		"trace_raw_tp", "trace_fentry", "trace_fexit", "modify_return", "lsm_mac",
		"trace_iter", "cgroup_inet4_getpeername", "cgroup_inet6_getpeername",
		"cgroup_inet4_getsockname", "cgroup_inet6_getsockname", "xdp_devmap",
		"cgroup_inet_sock_release", "xdp_cpumap", "sk_lookup", "xdp",
		"sk_skb_verdict", "sk_reuseport_select", "sk_reuseport_select_or_migrate",
		"perf_event", "trace_kprobe_multi", "lsm_cgroup", "struct_ops", "netfilter",
		"tcx_ingress", "tcx_egress", "trace_uprobe_multi", "cgroup_unix_connect",
		"cgroup_unix_sendmsg", "cgroup_unix_recvmsg", "cgroup_unix_getpeername",
		"cgroup_unix_getsockname", "netkit_primary", "netkit_peer",
	};

	return t < sizeof(names) / sizeof(names[0]) ? names[t] : "unknown";
}

void ct_nl_decode_bpf(uint16_t cmd, const uint8_t *buf, size_t len, struct ct_net_obj *o)
{
	uint32_t type;

	memset(o, 0, sizeof(*o));
	o->subsystem = SUB(BPF);
	o->op = OP(ADD);
	set_type(o, "bpf-attach");
	if (len < 12) {
		o->malformed = true;
		return;
	}
	type = rd32(buf + 8);
	append(o->detail, sizeof(o->detail), "%s %s", cmd == 28 ? "link_create" : "prog_attach",
	       bpf_attach_name(type));
	/* xdp, tcx and netkit links name their device by ifindex */
	if (cmd == 28 && (type == 37 || type == 46 || type == 47 || type == 54 || type == 55))
		o->ifindex = rd32(buf + 4);
}

/* ---- summary ---- */

static const char *op_name(Changetrace__V1__NetOp op)
{
	switch (op) {
	case OP(ADD): return "add";
	case OP(DELETE): return "delete";
	case OP(REPLACE): return "replace";
	case OP(FLUSH): return "flush";
	case OP(SET): return "set";
	default: return "change";
	}
}

/* Prefix of the summary: the tool-ish name for table-like subsystems,
 * nothing for rtnetlink where the object type says it (route, link...). */
static const char *sub_name(Changetrace__V1__NetSubsystem s)
{
	switch (s) {
	case SUB(NFTABLES): return "nft";
	case SUB(IPTABLES_LEGACY): return "iptables-legacy";
	case SUB(XFRM): return "xfrm";
	case SUB(BPF): return "bpf";
	default: return NULL;
	}
}

void ct_net_obj_summary(const struct ct_net_obj *o, char *buf, size_t len)
{
	if (!len)
		return;
	buf[0] = '\0';
	if (sub_name(o->subsystem))
		snprintf(buf, len, "%s %s %s", sub_name(o->subsystem), op_name(o->op), o->object_type);
	else
		snprintf(buf, len, "%s %s", o->object_type, op_name(o->op));
	if (o->subsystem == SUB(NFTABLES) || o->subsystem == SUB(IPTABLES_LEGACY)) {
		if (o->family[0])
			append(buf, len, "%s", o->family);
		if (o->table[0])
			append(buf, len, "%s", o->table);
		if (o->chain[0])
			append(buf, len, "%s", o->chain);
		if (o->set[0])
			append(buf, len, "%s", o->set);
		if (o->handle)
			append(buf, len, "handle %llu", (unsigned long long)o->handle);
		if (o->rule[0])
			append(buf, len, "%s", o->rule);
	} else {
		if (o->destination[0])
			append(buf, len, "%s", o->destination);
		if (o->gateway[0])
			append(buf, len, "via %s", o->gateway);
		if (o->device[0] && !strcmp(o->object_type, "link"))
			append(buf, len, "%s", o->device);
		else if (o->device[0])
			append(buf, len, "dev %s", o->device);
		else if (o->ifindex)
			append(buf, len, "ifindex %u", o->ifindex);
		if (o->table[0] && strcmp(o->table, "main"))
			append(buf, len, "table %s", o->table);
	}
	if (o->detail[0])
		append(buf, len, "(%s)", o->detail);
	if (o->malformed)
		append(buf, len, "[malformed]");
}
