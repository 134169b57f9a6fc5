/*
 * Provenance flags shared by `deploy start` and `run`: --ai-assisted,
 * --no-ai, --ai-tool, --ai-model, --ai-session, --prompt-digest, --author,
 * --approved-by (repeatable), --ticket, --repo, --commit, --pipeline-run,
 * --rollback-plan, --from-git DIR, --git-rev REV.
 */
#ifndef CT_PROV_OPTS_H
#define CT_PROV_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include "git_provenance.h"
#include "lib/pb.h"

#define CT_PROV_MAX_APPROVERS 16

enum {
	CT_OPT_AI_ASSISTED = 0x100, CT_OPT_NO_AI, CT_OPT_AI_TOOL, CT_OPT_AI_MODEL,
	CT_OPT_AI_SESSION, CT_OPT_PROMPT_DIGEST, CT_OPT_AUTHOR, CT_OPT_APPROVED_BY,
	CT_OPT_TICKET, CT_OPT_REPO, CT_OPT_COMMIT, CT_OPT_PIPELINE_RUN,
	CT_OPT_ROLLBACK_PLAN, CT_OPT_FROM_GIT, CT_OPT_GIT_REV,
};

#define CT_PROV_LONG_OPTS \
	{ "ai-assisted", no_argument, NULL, CT_OPT_AI_ASSISTED }, \
	{ "no-ai", no_argument, NULL, CT_OPT_NO_AI }, \
	{ "ai-tool", required_argument, NULL, CT_OPT_AI_TOOL }, \
	{ "ai-model", required_argument, NULL, CT_OPT_AI_MODEL }, \
	{ "ai-session", required_argument, NULL, CT_OPT_AI_SESSION }, \
	{ "prompt-digest", required_argument, NULL, CT_OPT_PROMPT_DIGEST }, \
	{ "author", required_argument, NULL, CT_OPT_AUTHOR }, \
	{ "approved-by", required_argument, NULL, CT_OPT_APPROVED_BY }, \
	{ "ticket", required_argument, NULL, CT_OPT_TICKET }, \
	{ "repo", required_argument, NULL, CT_OPT_REPO }, \
	{ "commit", required_argument, NULL, CT_OPT_COMMIT }, \
	{ "pipeline-run", required_argument, NULL, CT_OPT_PIPELINE_RUN }, \
	{ "rollback-plan", required_argument, NULL, CT_OPT_ROLLBACK_PLAN }, \
	{ "from-git", required_argument, NULL, CT_OPT_FROM_GIT }, \
	{ "git-rev", required_argument, NULL, CT_OPT_GIT_REV }

#define CT_PROV_USAGE \
"  --ai-assisted / --no-ai   the change was (not) written with an AI tool\n" \
"  --ai-tool NAME            e.g. claude-code, copilot, cursor (implies --ai-assisted)\n" \
"  --ai-model NAME           model name (implies --ai-assisted)\n" \
"  --ai-session ID           AI session / conversation id\n" \
"  --prompt-digest SHA256    sha256 (hex) of the prompt or plan, never the prompt\n" \
"  --author WHO              author of the change\n" \
"  --approved-by WHO         approver (repeatable)\n" \
"  --ticket ID               change ticket\n" \
"  --repo URL                repository\n" \
"  --commit SHA              commit being deployed\n" \
"  --pipeline-run ID         CI/CD pipeline run\n" \
"  --rollback-plan TEXT      how to roll back\n" \
"  --from-git DIR            commit, author, remote and trailers from a git checkout\n" \
"  --git-rev REV             revision for --from-git (default HEAD)\n"

struct ct_prov_opts {
	PbDeploy dep;
	PbAiProvenance ai;
	char *approvers[CT_PROV_MAX_APPROVERS];
	bool have_prov;          /* any provenance flag given */
	bool ai_set, no_ai;
	const char *git_dir, *git_rev;
	struct ct_git_prov git;
	char digest[72];
};

void ct_prov_init(struct ct_prov_opts *p);
/* 1 consumed, 0 not a provenance option, -1 bad value (message printed). */
int ct_prov_opt(struct ct_prov_opts *p, int c, const char *arg, const char *cmd);
/* Read --from-git (flags given explicitly win) and link the AI part. 0 or
 * -1 with a message printed. */
int ct_prov_finish(struct ct_prov_opts *p, const char *cmd);

#endif
