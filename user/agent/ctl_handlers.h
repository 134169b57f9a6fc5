/* What the agent does with each control request. */
#ifndef CT_CTL_HANDLERS_H
#define CT_CTL_HANDLERS_H

#include <sys/types.h>
#include "agent.h"
#include "lib/pb.h"

struct ct_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	int pidfd;               /* the peer process (SO_PEERPIDFD), -1 if none */
};

/* Handle one decoded request and write exactly one Response to fd. */
void ct_ctl_handle(struct ct_agent *a, const struct ct_peer *peer, int fd,
		   const PbRequest *req);
/* root, or a member of the agent's --group */
bool ct_peer_may_change(const struct ct_agent *a, const struct ct_peer *peer);

#endif
