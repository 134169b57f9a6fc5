/*
 * A deploy's real footprint on this host, from the store: files changed
 * (with event ids, for `diff`), processes launched, network-policy changes
 * grouped by object, guard verdicts, and every change outside the deploy's
 * declared scope (the same rule as the guard's `out-of-scope`). Used by
 * `changetrace deploy show`.
 */
#ifndef CT_DEPLOY_FOOTPRINT_H
#define CT_DEPLOY_FOOTPRINT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "footprint_containers.h"
#include "lib/pb.h"

/* What names a network object, beyond its key (for --json). */
struct ct_fp_net {
	char *netns;             /* namespace name, else its inode */
	char *subsystem, *family, *table, *chain, *destination, *device, *rule;
	uint64_t handle;
};

struct ct_fp_count {        /* a key and how often it was seen */
	char *key;
	uint64_t n;
	uint64_t ops[8];         /* NetOp counts (network groups) */
	uint64_t enforced;       /* guard groups */
	bool out_of_scope;
	struct ct_fp_net *net;   /* network groups: one per key and namespace */
};

struct ct_fp_counts {
	struct ct_fp_count *v;
	size_t n, cap;
};

struct ct_fp_file {
	char *event_id, *path, *old_path, *comm;
	int op;                  /* FileOp */
	uint64_t time_ns;
	uint32_t pid;
	bool out_of_scope, content_kept;
};

/* A command an exec rule stopped or killed (or flagged) at exec. */
struct ct_fp_stopped {
	char *event_id, *rule, *command, *reason;
	int action;              /* GuardAction */
	uint64_t time_ns;
	uint32_t pid;
	bool enforced;
};

struct ct_footprint {
	const PbDeploy *deploy;  /* scope; NULL: not known, nothing is out of scope */
	uint64_t events, first_ns, last_ns;
	uint64_t execs;
	struct ct_fp_counts comms;
	struct ct_fp_file *files;
	size_t n_files, cap_files;
	uint64_t files_out_of_scope;
	struct ct_fp_counts file_ops, paths;
	uint64_t net, net_out_of_scope;
	struct ct_fp_counts net_objects;
	uint64_t guard;
	struct ct_fp_counts verdicts;
	struct ct_fp_stopped *stopped;   /* exec rules' verdicts, in order */
	size_t n_stopped, cap_stopped;
	/* distinct objects as the guard's budgets count them: file paths (and
	 * a rename's old path), network objects */
	struct ct_fp_counts budget_files, budget_net;
	struct ct_fp_containers containers;  /* containers and pods touched */
	bool oom;                /* something could not be recorded */
};

void ct_footprint_init(struct ct_footprint *fp, const PbDeploy *deploy);
/* Account one event of the deploy (an unobserved change never is). */
void ct_footprint_add(struct ct_footprint *fp, const PbEvent *ev);
/* Is a file change outside the deploy's declared scope? */
bool ct_footprint_file_out_of_scope(const PbDeploy *d, const Changetrace__V1__FileChange *f);
void ct_footprint_print_text(FILE *out, const struct ct_footprint *fp, const char *deploy_id);
/* One JSON object (no newline). */
void ct_footprint_print_json(FILE *out, const struct ct_footprint *fp);

/* A blast-radius budget of the policy (the agent's, or a policy file). */
struct ct_fp_budget {
	char rule[64];
	bool net;                /* counts network objects, else files */
	uint32_t max;
	int action;              /* GuardAction */
};
/* Objects the deploy changed, as that budget counts them. */
uint64_t ct_footprint_budget_used(const struct ct_footprint *fp, const struct ct_fp_budget *b);
/* "budgets (SOURCE):" and a line per budget: used of max, OVER when past it. */
void ct_footprint_print_budgets_text(FILE *out, const struct ct_footprint *fp,
				     const struct ct_fp_budget *b, size_t n, const char *source);
/* A JSON array (no newline). */
void ct_footprint_print_budgets_json(FILE *out, const struct ct_footprint *fp,
				     const struct ct_fp_budget *b, size_t n);
void ct_footprint_free(struct ct_footprint *fp);

#endif
