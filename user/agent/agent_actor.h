/*
 * Who asked: the control socket's peer behind a DEPLOY event (start, end,
 * resume, abort). Its pid is from SO_PEERCRED; its exe and argv are those
 * of its image at exec time, from the process cache.
 */
#ifndef CT_AGENT_ACTOR_H
#define CT_AGENT_ACTOR_H

#include <stdbool.h>
#include <stdint.h>
#include "agent.h"

/* The peer of the request being handled (0: none, e.g. a deploy named
 * from an exec's environment); set by ct_ctl_handle. */
void ct_agent_set_actor(struct ct_agent *a, uint32_t pid, uint32_t uid);
/*
 * Fill b->proc with the current actor. Call it before the event's
 * envelope: it applies pending bulk records first (the peer's own exec
 * may still be in the ring), which emits events. False when there is no
 * actor; then b->proc is left alone.
 */
bool ct_agent_fill_actor(struct ct_agent *a, struct ct_event_buf *b);

#endif
