/*
 * libFuzzer: the agent's control-socket input. The bytes are a stream from
 * a client: split into length-delimited frames as the agent does
 * (user/agent/agent_control.c), each unpacked as a Request and passed to the
 * handlers' validation. Requests that need a live agent (status, tagging)
 * stop at validation or at the permission check of an unprivileged peer;
 * list/show run against the (empty) registry for real.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "lib/control.h"
#include "agent/ctl_handlers.h"
#include "lib/deploy_validate.h"
#include "lib/util.h"

static struct ct_agent agent;
static int null_fd = -1;

static void validate(const PbRequest *req)
{
	const char *why;

	switch (req->body_case) {
	case CHANGETRACE__V1__REQUEST__BODY_TAG_SELF:
		if (req->tag_self->deploy)
			(void)ct_validate_deploy(req->tag_self->deploy);
		(void)ct_valid_deploy_id(req->tag_self->deploy_id, &why);
		break;
	case CHANGETRACE__V1__REQUEST__BODY_DEPLOY_START:
		if (req->deploy_start->deploy)
			(void)ct_validate_deploy(req->deploy_start->deploy);
		break;
	case CHANGETRACE__V1__REQUEST__BODY_DEPLOY_END:
		(void)ct_valid_deploy_id(req->deploy_end->id, &why);
		break;
	case CHANGETRACE__V1__REQUEST__BODY_GUARD_DECISION:
		(void)ct_valid_deploy_id(req->guard_decision->deploy_id, &why);
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ct_peer peer = { .pid = 1, .uid = 65534, .gid = 65534, .pidfd = -1 };

	if (null_fd < 0)
		null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	while (size >= 4) {
		uint32_t n = ct_ctl_frame_len(data);
		PbRequest *req;

		if (n > CT_CTL_MAX_FRAME || n > size - 4)
			break;	/* the agent drops the client / waits for more */
		req = changetrace__v1__request__unpack(NULL, n, data + 4);
		if (req) {
			validate(req);
			switch (req->body_case) {
			case CHANGETRACE__V1__REQUEST__BODY_STATUS:
			case CHANGETRACE__V1__REQUEST__BODY_TAG_SELF:
				break;	/* need the BPF maps of a running agent */
			default:
				ct_ctl_handle(&agent, &peer, null_fd, req);
			}
			changetrace__v1__request__free_unpacked(req, NULL);
		}
		data += 4 + n;
		size -= 4 + n;
	}
	return 0;
}
