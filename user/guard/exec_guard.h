/*
 * Exec rules in the agent: the policy's exec rules installed in the
 * kernel (bpf/exec_guard.bpf.h), each deploy's provenance kept there for
 * them, and the probe's verdicts turned into GUARD events.
 *
 * A reload fills the set of maps no probe uses and flips ct_xr_state in
 * one store, so an exec is judged by the old policy or the new one, never
 * by a mix. The probe stops (halt) or kills the matching process before
 * its first instruction; the agent then treats the verdict as any other:
 * a GUARD event, and the rule's action carried out on the rest of the
 * deploy (status HALTED until `deploy resume`/`deploy abort`).
 */
#ifndef CT_EXEC_GUARD_H
#define CT_EXEC_GUARD_H

#include <stddef.h>
#include <stdint.h>
#include "changetrace.h"
#include "guard.h"

/* After the BPF object is loaded (g->xmaps filled) and the deploy
 * registry read, before the probes attach: install g's exec rules and
 * every deploy's provenance, follow the registry from then on, and take
 * the collector's verdict records. 0, or -1 with err. */
int ct_exec_guard_init(struct ct_guard *g, char *err, size_t errlen);
/* g's policy (reloaded): installed in the idle set, then flipped. */
int ct_exec_guard_install(struct ct_guard *g, char *err, size_t errlen);
/* A CT_KIND_EXEC_VERDICT record: its GUARD event, and the deploy action. */
void ct_exec_guard_on_record(struct ct_guard *g, const struct ct_exec_verdict *r);
/* The name of rule `rule` of policy generation `gen` ("" if that policy
 * is gone: two are kept, the live one and the one before). */
const char *ct_exec_guard_rule_name(const struct ct_guard *g, uint32_t gen, uint32_t rule);

#endif
