/* `changetrace deploy ...`: printing a deploy is a function of its own so
 * `deploy show` can grow. */
#ifndef CT_CMD_DEPLOY_H
#define CT_CMD_DEPLOY_H

#include <stdio.h>
#include "lib/pb.h"

/* Human-readable provenance, one "key: value" per line. */
void ct_deploy_print_text(FILE *out, const PbDeploy *d);

#endif
