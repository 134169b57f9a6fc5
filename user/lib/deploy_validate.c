/* Validation of deploy provenance (see deploy_validate.h). */
#include <stdio.h>
#include <string.h>

#include "container_match.h"
#include "deploy_validate.h"
#include "utf8.h"
#include "util.h"

static const char *check_str(const char *s, const char *what)
{
	static char why[96];

	if (!s)
		return NULL;
	if (strlen(s) > CT_MAX_VALUE_LEN) {
		snprintf(why, sizeof(why), "%s is longer than %d characters", what, CT_MAX_VALUE_LEN);
		return why;
	}
	/* stored and shown as text: UTF-8, nothing a terminal acts on */
	for (size_t i = 0, n = strlen(s); i < n;) {
		uint32_t cp;
		size_t k = ct_utf8_char((const unsigned char *)s + i, n - i, &cp);

		if (!k) {
			snprintf(why, sizeof(why), "%s is not valid UTF-8", what);
			return why;
		}
		if (ct_cp_is_control(cp)) {
			snprintf(why, sizeof(why), "%s contains control characters", what);
			return why;
		}
		i += k;
	}
	return NULL;
}

const char *ct_validate_deploy(const PbDeploy *d)
{
	const char *why;

	if (!ct_valid_deploy_id(d->id, &why))
		return why;
#define CHECK(s, n) do { if ((why = check_str(s, n))) return why; } while (0)
	CHECK(d->author, "author");
	CHECK(d->ticket, "ticket");
	CHECK(d->repository, "repository");
	CHECK(d->commit, "commit");
	CHECK(d->pipeline_run, "pipeline run");
	CHECK(d->rollback_plan, "rollback plan");
	CHECK(d->environment, "environment");
	if (d->ai) {
		CHECK(d->ai->tool, "AI tool");
		CHECK(d->ai->model, "AI model");
		CHECK(d->ai->session_id, "AI session");
		CHECK(d->ai->prompt_digest, "prompt digest");
	}
	if (d->n_approved_by > CT_MAX_APPROVERS)
		return "too many approvers";
	for (size_t i = 0; i < d->n_approved_by; i++)
		CHECK(d->approved_by[i], "approver");
	if (d->n_scope > 256)
		return "too many scope entries";
	for (size_t i = 0; i < d->n_scope; i++)
		CHECK(d->scope[i], "scope");
	if (d->n_cgroups > 64)
		return "too many cgroups";
	for (size_t i = 0; i < d->n_cgroups; i++)
		CHECK(d->cgroups[i], "cgroup");
	if (d->n_cgroups + d->n_containers + d->n_pods > 64)
		return "at most 64 cgroups, containers and pods together";
	for (size_t i = 0; i < d->n_containers; i++)
		if (!ct_container_ref_valid(d->containers[i]))
			return "a container is an id, id prefix or name without spaces";
	for (size_t i = 0; i < d->n_pods; i++)
		if (!ct_container_ref_valid(d->pods[i]))
			return "a pod is a UID without spaces";
#undef CHECK
	if (d->ai && d->ai->prompt_digest && *d->ai->prompt_digest &&
	    !ct_valid_sha256_hex(d->ai->prompt_digest))
		return "prompt digest must be a sha256 in hex (64 characters 0-9a-f)";
	if ((unsigned)d->risk > CHANGETRACE__V1__RISK__RISK_HIGH)
		return "unknown risk level";
	if ((unsigned)d->status > CHANGETRACE__V1__DEPLOY_STATUS__DEPLOY_STATUS_ABORTED)
		return "unknown deploy status";
	return NULL;
}

bool ct_valid_sha256_hex(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n == 64;
}
