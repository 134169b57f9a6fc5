/* Names of network-policy objects (see net_object.h). */
#include <stdio.h>

#include "net_object.h"

void ct_net_object_name(const Changetrace__V1__NetPolicyChange *n, char *out, size_t len)
{
	switch (n->subsystem) {
	case CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_NFTABLES:
		if (n->chain && *n->chain)
			snprintf(out, len, "nft:%s/%s/%s", n->family, n->table, n->chain);
		else if (n->table && *n->table)
			snprintf(out, len, "nft:%s/%s", n->family, n->table);
		else
			snprintf(out, len, "nft:%s", n->family && *n->family ? n->family : "*");
		break;
	case CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_IPTABLES_LEGACY:
		snprintf(out, len, "iptables:%s", n->table ? n->table : "");
		break;
	case CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_LINK:
		snprintf(out, len, "link:%s", n->device ? n->device : "");
		break;
	case CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_ROUTE:
		snprintf(out, len, "route");
		break;
	case CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_RULE:
		snprintf(out, len, "rule");
		break;
	case CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_ADDRESS:
		snprintf(out, len, "addr");
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
