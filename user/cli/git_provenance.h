/*
 * Provenance from a git commit (`deploy start --from-git DIR [REV]`): the
 * commit hash, its author, the repository's remote URL, and the trailers
 * people use to disclose AI help and review (see docs/design/attribution.md).
 */
#ifndef CT_GIT_PROVENANCE_H
#define CT_GIT_PROVENANCE_H

#include <stdbool.h>
#include <stddef.h>

#define CT_GIT_MAX_APPROVERS 16

struct ct_git_prov {
	char commit[64];
	char author[256];
	char repo[512];
	bool ai;
	char ai_tool[128];
	char ai_model[128];
	char ai_session[128];
	char prompt_digest[80];
	char ticket[128];
	char approvers[CT_GIT_MAX_APPROVERS][256];
	int n_approvers;
};

/* Parse the trailer block (last paragraph) of a commit message. */
void ct_git_parse_message(const char *msg, struct ct_git_prov *g);
/* The AI assistant a Co-authored-by value names ("claude", "copilot", ...),
 * or NULL for a human co-author. */
const char *ct_git_ai_coauthor(const char *value);
/* Drop "user:password@" from a URL (never store credentials). */
void ct_git_strip_credentials(char *url);
/* Run git (no shell) and fill g. 0, or -1 with a message in err. */
int ct_git_provenance(const char *dir, const char *rev, struct ct_git_prov *g,
		      char *err, size_t errlen);

#endif
