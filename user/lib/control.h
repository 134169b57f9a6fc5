/*
 * Control socket framing: a 4-byte big-endian length, then one protobuf
 * Request (client->agent) or Response (agent->client). Frames larger than
 * CT_CTL_MAX_FRAME are refused by both sides.
 */
#ifndef CT_CONTROL_H
#define CT_CONTROL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "pb.h"

#define CT_CTL_MAX_FRAME (64u * 1024)

/* Connect to the agent. Returns fd, or -1 with a message in err. */
int ct_ctl_connect(const char *path, char *err, size_t errlen);

/* Serialize msg into one frame and write it fully. 0 or -1 (errno). */
int ct_ctl_send(int fd, const ProtobufCMessage *msg);

/* Send req, wait for one Response (caller frees with response__free_unpacked).
 * Returns NULL with a message in err on failure. */
PbResponse *ct_ctl_call(int fd, const PbRequest *req, char *err, size_t errlen);

/* Before listening on path (agent side): 0 when nobody listens there, or
 * once a listener that is exiting (a killed agent) is gone; -1 with a
 * message when a live process listens ("another WHAT ..."). */
int ct_ctl_wait_listener_gone(const char *path, const char *what, char *err, size_t errlen);
/* A pidfd for the peer of a connected socket (SO_PEERPIDFD, else opened
 * from its pid), -1 if none. */
int ct_ctl_peer_pidfd(int fd, pid_t pid);

/* Decode a frame length prefix. */
static inline uint32_t ct_ctl_frame_len(const uint8_t p[4])
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif
