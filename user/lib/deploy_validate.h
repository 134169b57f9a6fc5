/*
 * Provenance from a client is untrusted: the CLI checks it before sending
 * and the agent again on receipt, with the same rules.
 */
#ifndef CT_DEPLOY_VALIDATE_H
#define CT_DEPLOY_VALIDATE_H

#include <stdbool.h>
#include "pb.h"

#define CT_MAX_APPROVERS 16

/* NULL when every field is acceptable, else why not. */
const char *ct_validate_deploy(const PbDeploy *d);
/* 64 lowercase hex digits */
bool ct_valid_sha256_hex(const char *s);

#endif
