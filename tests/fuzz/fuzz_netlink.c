/*
 * libFuzzer: the netlink decoder (user/collector/netlink_decode.c) on request bytes
 * as the probes copy them from a process's sendmsg. The first byte picks
 * the decoder: rtnetlink, nfnetlink, xfrm, a setsockopt blob or a bpf attr.
 */
#include <linux/netlink.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "collector/netlink_decode.h"

static struct ct_net_obj objs[CT_NL_OBJ_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t protos[] = { NETLINK_ROUTE, NETLINK_NETFILTER, NETLINK_XFRM };
	struct ct_nl_result res;
	struct ct_net_obj one;
	char summary[512];
	uint8_t sel;

	if (size < 1)
		return 0;
	sel = data[0];
	data++;
	size--;
	memset(&res, 0, sizeof(res));
	switch (sel % 5) {
	case 0: case 1: case 2:
		ct_nl_decode(protos[sel % 5], data, size, objs, CT_NL_OBJ_MAX, &res);
		for (size_t i = 0; i < res.n && i < CT_NL_OBJ_MAX; i++)
			ct_net_obj_summary(&objs[i], summary, sizeof(summary));
		break;
	case 3:
		memset(&one, 0, sizeof(one));
		ct_nl_decode_sockopt(sel & 0x80 ? 41 : 0, sel >> 3 & 0xf ? 64 : 128, data, size, &one);
		ct_net_obj_summary(&one, summary, sizeof(summary));
		break;
	case 4:
		memset(&one, 0, sizeof(one));
		ct_nl_decode_bpf(sel >> 3, data, size, &one);
		ct_net_obj_summary(&one, summary, sizeof(summary));
		break;
	}
	return 0;
}
