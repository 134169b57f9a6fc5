/*
 * The name of the object a network-policy change touched, as guardrail
 * rules match it and `deploy show` lists it: "nft:inet/filter/input",
 * "iptables:filter/INPUT" (ip6tables:, arptables:, ebtables: for the other
 * legacy families), "route:main/10.0.0.0/8", "addr:eth0/192.0.2.1/24",
 * "rule:100", "link:eth0" ...
 */
#ifndef CT_NET_OBJECT_H
#define CT_NET_OBJECT_H

#include <stddef.h>
#include "pb.h"

void ct_net_object_name(const Changetrace__V1__NetPolicyChange *n, char *out, size_t len);

#endif
