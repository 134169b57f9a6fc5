/*
 * Strict decoder for captured network-policy requests: netlink messages
 * (rtnetlink, nfnetlink/nf_tables batches, xfrm), iptables-legacy replace
 * headers and bpf() attach attributes. Input is untrusted bytes: every
 * read is bounds-checked, nothing is read past len, and anything that does
 * not parse sets `malformed` on the object with what could be decoded.
 * Pure functions, no allocation: unit-testable on byte strings.
 */
#ifndef CT_NETLINK_DECODE_H
#define CT_NETLINK_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/pb.h"

#define CT_NL_OBJ_MAX 256        /* objects decoded from one request */

struct ct_net_obj {
	Changetrace__V1__NetSubsystem subsystem;
	Changetrace__V1__NetOp op;
	char object_type[24];
	char family[16];
	char table[64];
	char chain[64];
	char set[64];
	uint64_t handle;
	char destination[64];
	char gateway[64];
	char device[32];             /* name as sent; else resolved from ifindex */
	uint32_t ifindex;
	char detail[160];
	char rule[256];              /* short form of the one rule changed, if known */
	bool ruleset_inexact;        /* its ruleset was read after a later change */
	uint16_t msg_type;
	uint16_t msg_flags;
	uint32_t seq;
	bool malformed;
};

struct ct_nl_result {
	size_t n;                    /* objects in objs[] */
	bool malformed;              /* something in the request did not parse */
	bool more;                   /* more objects than objs[] holds */
	bool batch;                  /* an nfnetlink batch: accepted or rejected as a whole */
	uint32_t seq_first, seq_last;/* seq range of the messages seen */
};

/* Decode netlink messages of protocol proto (NETLINK_ROUTE/NETFILTER/XFRM). */
void ct_nl_decode(uint16_t proto, const uint8_t *buf, size_t len,
		  struct ct_net_obj *objs, size_t max, struct ct_nl_result *res);
/* iptables/ip6tables/arptables/ebtables replace header. */
void ct_nl_decode_sockopt(uint16_t level, uint32_t optname, const uint8_t *buf,
			  size_t len, struct ct_net_obj *obj);
/* bpf(cmd, attr): cmd PROG_ATTACH or LINK_CREATE. */
void ct_nl_decode_bpf(uint16_t cmd, const uint8_t *buf, size_t len, struct ct_net_obj *obj);

/* One readable line for an object, into buf. */
void ct_net_obj_summary(const struct ct_net_obj *o, char *buf, size_t len);

#endif
