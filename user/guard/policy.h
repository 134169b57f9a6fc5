/*
 * Guardrail policy: which changes are allowed, given who made
 * them. A policy is a small line-based file:
 *
 *   # comment
 *   protect /etc/payments /srv/app/conf          protected path prefixes or globs
 *   protect-net nft:inet/filter                  protected network objects (see below)
 *   rule NAME: COND [and COND]... => ACTION      ACTION: alert | halt | kill
 *   budget NAME: files|net N => ACTION           at most N distinct objects per deploy
 *
 * COND (each may be preceded by `not`):
 *   ai           the change's deploy is AI-assisted
 *   unapproved   the deploy has no approver
 *   drift        no deploy claims the change (seen live: not an unobserved one)
 *   unobserved   made while no agent watched, found at a start (no process, no deploy)
 *   protected    the change touches a protected path or network object
 *   out-of-scope the change is outside its deploy's declared --scope
 *   file | net   the kind of change
 *   high-risk    the deploy declared --risk high
 *   exec "CMD"   the change is the exec of CMD (see below); such a rule is
 *                decided in the kernel at exec and takes only ai,
 *                unapproved, drift, high-risk and out-of-scope besides
 *
 * CMD is the executable, a name (`terraform`) or an absolute path
 * (`/usr/bin/rm`, `*` allowed in its directories), then glob patterns
 * (`*`, `?`) for its first arguments, one each: `"terraform destroy*"`,
 * `"rm -r* /srv*"`. Later arguments are not looked at.
 *
 * Network objects are named "SUBSYSTEM:DETAIL": nft:FAMILY/TABLE[/CHAIN],
 * iptables:TABLE[/CHAIN] (ip6tables:, arptables:, ebtables: for the other
 * legacy families), route:TABLE/DEST, rule:TABLE, addr:DEVICE/ADDRESS,
 * link:NAME, tc:DEVICE, xfrm, bpf; a name covers what is below it
 * ("route:main" every route of the main table, a bare "route" every
 * route), and `protect-net nft:*` protects every nftables object.
 * Everything is validated at load; errors name the line.
 */
#ifndef CT_POLICY_H
#define CT_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "changetrace.h"
#include "lib/pb.h"

#define CT_POLICY_MAX_RULES 64
#define CT_POLICY_MAX_PROTECT 256
#define CT_POLICY_MAX_CONDS 8

enum ct_cond {
	CT_COND_AI,
	CT_COND_UNAPPROVED,
	CT_COND_DRIFT,
	CT_COND_PROTECTED,
	CT_COND_OUT_OF_SCOPE,
	CT_COND_FILE,
	CT_COND_NET,
	CT_COND_HIGH_RISK,
	CT_COND_UNOBSERVED,
	CT_COND_MAX
};

enum ct_budget_kind { CT_BUDGET_NONE, CT_BUDGET_FILES, CT_BUDGET_NET };

#define CT_POLICY_COMMAND_LEN 1024   /* a command pattern as written */

/* The command an exec rule names, split as the kernel matches it. */
struct ct_policy_command {
	char text[CT_POLICY_COMMAND_LEN]; /* normalised: words joined by one space */
	char name[CT_XNAME_LEN];          /* the executable's name */
	char path[CT_XPATH_LEN];          /* "" or an absolute path pattern */
	int n_args;
	char args[CT_XARGS_MAX][CT_XTOKEN_LEN];
};

struct ct_policy_rule {
	char name[64];
	int line;
	int n_conds;
	enum ct_cond cond[CT_POLICY_MAX_CONDS];
	bool negate[CT_POLICY_MAX_CONDS];
	enum ct_budget_kind budget;      /* budget rules: count limit */
	uint32_t budget_max;
	Changetrace__V1__GuardAction action;
	struct ct_policy_command *exec;  /* exec rules: the command (owned) */
};

struct ct_policy {
	int n_rules;
	int n_exec_rules;                /* rules with an exec condition */
	struct ct_policy_rule rules[CT_POLICY_MAX_RULES];
	int n_protect, n_protect_net;
	char *protect[CT_POLICY_MAX_PROTECT];
	char *protect_net[CT_POLICY_MAX_PROTECT];
};

/* Parse policy text. Returns 0, or -1 with "line N: why" in err. */
int ct_policy_parse(struct ct_policy *p, const char *text, size_t len,
		    char *err, size_t errlen);
int ct_policy_load(struct ct_policy *p, const char *path, char *err, size_t errlen);
/* `--protect PATH` shorthand: protect PATH, and halt AI-unapproved or
 * drift changes under it. */
int ct_policy_add_protect_shorthand(struct ct_policy *p, const char *path,
				    char *err, size_t errlen);
void ct_policy_free(struct ct_policy *p);
/* Parse a command pattern ("terraform destroy*"). 0, or -1 with why in err. */
int ct_policy_parse_command(const char *text, struct ct_policy_command *c,
			    char *err, size_t errlen);
const char *ct_policy_cond_name(enum ct_cond c);
/* "ai and not drift and exec \"rm -r*\"": a rule's conditions as written. */
void ct_policy_rule_conditions(const struct ct_policy_rule *r, char *out, size_t len);

/* What a change looks like to the policy. */
struct ct_change_facts {
	bool is_file, is_net;
	const char *path;            /* file path (or NULL) */
	const char *old_path;        /* rename source (or NULL) */
	const char *net_object;      /* "nft:inet/filter/input" (or NULL) */
	const PbDeploy *deploy;      /* NULL = drift (or unobserved) */
	bool unobserved;             /* found at start: nobody's, not drift */
	uint32_t deploy_files;       /* distinct files this deploy changed, incl. this one */
	uint32_t deploy_net;         /* distinct net objects, incl. this one */
};

bool ct_policy_path_protected(const struct ct_policy *p, const char *path);
bool ct_policy_net_protected(const struct ct_policy *p, const char *object);
/* Is path inside one of the deploy's declared scope entries? (no scope = everything out) */
bool ct_policy_in_scope(const PbDeploy *d, const char *path_or_object);

/* Evaluate every rule but exec rules (the kernel decides those); calls cb
 * for each violated rule. Returns the number of violations. `reason` is a
 * readable sentence. */
typedef void (*ct_policy_violation_cb)(const struct ct_policy_rule *r,
				       const char *reason, void *ctx);
int ct_policy_eval(const struct ct_policy *p, const struct ct_change_facts *f,
		   ct_policy_violation_cb cb, void *ctx);

#endif
