/*
 * Deploy claims the kernel did not honour. A process exec'd with a
 * CHANGETRACE_DEPLOY_ID is drift when the kernel had no slot left for the
 * id (or when its caller may not claim a deploy at all), but its events
 * say which deploy it claimed and why it is not attributed: the exec
 * record carries the id; the process and its descendants carry only a
 * marker slot (CT_SLOT_CLAIM_UNNAMED) and the claiming exec's pid, which
 * this table maps back to the id.
 */
#ifndef CT_ENV_CLAIMS_H
#define CT_ENV_CLAIMS_H

#include <stdint.h>

/* The exec of process pid claimed id and got no slot. */
void ct_env_claim_note(uint32_t pid, const char *id);
/* The id claimed by the exec of pid, or NULL when no longer known. */
const char *ct_env_claim_id(uint32_t pid);
/* Attribution.claim_refused for enum ct_env_claim (NULL for none). */
const char *ct_env_claim_reason(unsigned claim);

#endif
