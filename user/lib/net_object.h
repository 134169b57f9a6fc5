/*
 * The name of the object a network-policy change touched, as guardrail
 * rules match it and `deploy show` lists it: "nft:inet/filter/input",
 * "iptables:filter", "link:eth0", "route", ...
 */
#ifndef CT_NET_OBJECT_H
#define CT_NET_OBJECT_H

#include <stddef.h>
#include "pb.h"

void ct_net_object_name(const Changetrace__V1__NetPolicyChange *n, char *out, size_t len);

#endif
