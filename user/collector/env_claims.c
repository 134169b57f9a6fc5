/* Deploy claims the kernel did not honour. See env_claims.h. */
#include <string.h>

#include "changetrace.h"
#include "env_claims.h"
#include "lib/util.h"

/* Small and direct-mapped: only trusted callers make such claims, and
 * only once the kernel's 512 slots for unregistered ids are used up; a
 * pid whose entry was taken by another keeps its marker, not its id. */
#define CLAIMS 1024

static struct {
	uint32_t pid;
	char id[CT_DEPLOY_ID_LEN];
} claims[CLAIMS];

void ct_env_claim_note(uint32_t pid, const char *id)
{
	claims[pid % CLAIMS].pid = pid;
	ct_strlcpy(claims[pid % CLAIMS].id, id, sizeof(claims[0].id));
}

const char *ct_env_claim_id(uint32_t pid)
{
	return pid && claims[pid % CLAIMS].pid == pid ? claims[pid % CLAIMS].id : NULL;
}

const char *ct_env_claim_reason(unsigned claim)
{
	switch (claim) {
	case CT_ENV_CLAIM_SLOTS_FULL:
		return "no kernel slot left for an unregistered deploy id";
	case CT_ENV_CLAIM_UNTRUSTED:
		return "caller is neither root nor in the agent's group";
	default:
		return NULL;
	}
}
