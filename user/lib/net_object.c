/* Names of network-policy objects (see net_object.h). */
#include <stdio.h>
#include <string.h>

#include "net_object.h"

void ct_net_object_name(const Changetrace__V1__NetPolicyChange *n, char *out, size_t len)
{
	const char *dev = n->device && *n->device ? n->device : NULL;
	const char *table = n->table && *n->table ? n->table : NULL;
	char ifx[24];

	if (!dev && n->ifindex) {
		snprintf(ifx, sizeof(ifx), "if%u", n->ifindex);
		dev = ifx;
	}
	/* hierarchical: a name is also every prefix of it ("route" covers
	 * "route:main/10.0.0.0/8", "iptables:filter" covers its chains) */
	switch (n->subsystem) {
	case CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_NFTABLES:
		if (n->chain && *n->chain)
			snprintf(out, len, "nft:%s/%s/%s", n->family, n->table, n->chain);
		else if (n->table && *n->table)
			snprintf(out, len, "nft:%s/%s", n->family, n->table);
		else
			snprintf(out, len, "nft:%s", n->family && *n->family ? n->family : "*");
		break;
	case CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_IPTABLES_LEGACY: {
		/* named by the tool: ip6tables' filter is not iptables' */
		const char *tool = !n->family ? "iptables" : !strcmp(n->family, "ip6") ? "ip6tables"
				   : !strcmp(n->family, "arp") ? "arptables"
				   : !strcmp(n->family, "bridge") ? "ebtables" : "iptables";

		if (n->chain && *n->chain)
			snprintf(out, len, "%s:%s/%s", tool, table ? table : "", n->chain);
		else
			snprintf(out, len, "%s:%s", tool, table ? table : "");
		break;
	}
	case CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_LINK:
		snprintf(out, len, "link:%s", n->device ? n->device : "");
		break;
	case CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_ROUTE:
		/* a route is its table and destination (the kernel's key,
		 * metric and tos aside) */
		snprintf(out, len, "route:%s/%s", table ? table : "main",
			 n->destination && *n->destination ? n->destination : "?");
		break;
	case CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_RULE:
		if (table)
			snprintf(out, len, "rule:%s", table);
		else
			snprintf(out, len, "rule");
		break;
	case CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_ADDRESS:
		snprintf(out, len, "addr:%s/%s", dev ? dev : "?",
			 n->destination && *n->destination ? n->destination : "?");
		break;
	case CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_XFRM:
		snprintf(out, len, "xfrm");
		break;
	case CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_BPF:
		snprintf(out, len, "bpf");
		break;
	case CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_TC:
		snprintf(out, len, "tc:%s", n->device ? n->device : "");
		break;
	case CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_NEIGHBOUR:
		snprintf(out, len, "neigh");
		break;
	default:
		snprintf(out, len, "net");
		break;
	}
}
