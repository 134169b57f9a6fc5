#include <ctype.h>
#include <string.h>

#include "lib/deploy_validate.h"
#include "prov_opts.h"
#include "lib/util.h"

void ct_prov_init(struct ct_prov_opts *p)
{
	memset(p, 0, sizeof(*p));
	p->dep = (PbDeploy)CHANGETRACE__V1__DEPLOY__INIT;
	p->ai = (PbAiProvenance)CHANGETRACE__V1__AI_PROVENANCE__INIT;
	p->dep.approved_by = p->approvers;
}

static void set_ai(struct ct_prov_opts *p)
{
	p->ai_set = true;
	p->ai.ai_assisted = 1;
}

int ct_prov_opt(struct ct_prov_opts *p, int c, const char *arg, const char *cmd)
{
	char *a = (char *)arg;

	switch (c) {
	case CT_OPT_AI_ASSISTED: set_ai(p); break;
	case CT_OPT_NO_AI: p->no_ai = true; break;
	case CT_OPT_AI_TOOL: set_ai(p); p->ai.tool = a; break;
	case CT_OPT_AI_MODEL: set_ai(p); p->ai.model = a; break;
	case CT_OPT_AI_SESSION: set_ai(p); p->ai.session_id = a; break;
	case CT_OPT_PROMPT_DIGEST: {
		size_t i;

		if (!strncasecmp(arg, "sha256:", 7))
			arg += 7;
		for (i = 0; arg[i] && i < sizeof(p->digest) - 1; i++)
			p->digest[i] = tolower((unsigned char)arg[i]);
		p->digest[i] = '\0';
		if (!ct_valid_sha256_hex(p->digest)) {
			ct_err("%s: --prompt-digest must be a sha256 in hex (64 characters), "
			       "e.g. from `sha256sum plan.md`", cmd);
			return -1;
		}
		p->ai.prompt_digest = p->digest;
		break;
	}
	case CT_OPT_AUTHOR: p->dep.author = a; break;
	case CT_OPT_APPROVED_BY:
		if (p->dep.n_approved_by >= CT_PROV_MAX_APPROVERS) {
			ct_err("%s: at most %d --approved-by", cmd, CT_PROV_MAX_APPROVERS);
			return -1;
		}
		p->approvers[p->dep.n_approved_by++] = a;
		break;
	case CT_OPT_TICKET: p->dep.ticket = a; break;
	case CT_OPT_REPO: p->dep.repository = a; break;
	case CT_OPT_COMMIT: p->dep.commit = a; break;
	case CT_OPT_PIPELINE_RUN: p->dep.pipeline_run = a; break;
	case CT_OPT_ROLLBACK_PLAN: p->dep.rollback_plan = a; break;
	case CT_OPT_FROM_GIT: p->git_dir = arg; break;
	case CT_OPT_GIT_REV: p->git_rev = arg; break;
	default: return 0;
	}
	p->have_prov = true;
	return 1;
}

static void fill(char **field, char *val)
{
	if ((!*field || !**field) && val[0])
		*field = val;
}

int ct_prov_finish(struct ct_prov_opts *p, const char *cmd)
{
	struct ct_git_prov *g = &p->git;
	char err[512];

	if (p->no_ai && p->ai_set) {
		ct_err("%s: --no-ai contradicts the AI flags given", cmd);
		return -1;
	}
	if (p->git_rev && !p->git_dir) {
		ct_err("%s: --git-rev needs --from-git DIR", cmd);
		return -1;
	}
	if (p->git_dir) {
		if (ct_git_provenance(p->git_dir, p->git_rev, g, err, sizeof(err)) < 0) {
			ct_err("%s: --from-git: %s", cmd, err);
			return -1;
		}
		/* Explicit flags win over what the commit says. */
		fill(&p->dep.commit, g->commit);
		fill(&p->dep.author, g->author);
		fill(&p->dep.repository, g->repo);
		fill(&p->dep.ticket, g->ticket);
		if (!p->dep.n_approved_by)
			for (int i = 0; i < g->n_approvers; i++)
				p->approvers[p->dep.n_approved_by++] = g->approvers[i];
		if (g->ai && !p->no_ai) {
			p->ai.ai_assisted = 1;
			p->ai_set = true;
			fill(&p->ai.tool, g->ai_tool);
			fill(&p->ai.model, g->ai_model);
			fill(&p->ai.session_id, g->ai_session);
		}
		if (g->prompt_digest[0] && !*p->ai.prompt_digest) {
			if (!ct_valid_sha256_hex(g->prompt_digest)) {
				ct_err("%s: --from-git: Prompt-Digest trailer is not a sha256 in hex",
				       cmd);
				return -1;
			}
			p->ai.prompt_digest = g->prompt_digest;
		}
	}
	/* --no-ai is recorded as an explicit "not AI assisted". */
	if (p->ai_set || p->no_ai || *p->ai.prompt_digest)
		p->dep.ai = &p->ai;
	return 0;
}
