#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "collector/event.h"
#include "exec_guard.h"
#include "exec_rules.h"
#include "lib/util.h"
#include "store/deploys.h"

#define MAX_AFFECTED 256

static const struct ct_exec_rule_info *rule_info(const struct ct_guard *g, uint32_t gen,
						 uint32_t rule)
{
	for (int s = 0; g->xsets && s < 2; s++)
		if (gen && g->xset_gen[s] == gen && rule < (uint32_t)g->xsets[s].n)
			return &g->xsets[s].info[rule];
	return NULL;
}

const char *ct_exec_guard_rule_name(const struct ct_guard *g, uint32_t gen, uint32_t rule)
{
	const struct ct_exec_rule_info *info = rule_info(g, gen, rule);

	return info ? info->name : "";
}

/* Fill set `set` (no probe reads it): its old names go, every rule slot
 * is written (unused ones zeroed), then the names. */
static int write_set(const struct ct_exec_maps *m, uint32_t set, const struct ct_exec_rules *r,
		     char *err, size_t errlen)
{
	int names_fd = m->names_fd, rules_fd = m->rules_fd;
	struct ct_xname_key k, next, del[2 * CT_XRULES_MAX];
	static const struct ct_xrule none;
	size_t nd = 0;
	int rc;

	for (rc = bpf_map_get_next_key(names_fd, NULL, &next); rc == 0 && nd < ARRAY_SIZE(del);
	     rc = bpf_map_get_next_key(names_fd, &k, &next)) {
		k = next;
		if (k.set == set)
			del[nd++] = k;
	}
	for (size_t i = 0; i < nd; i++)
		bpf_map_delete_elem(names_fd, &del[i]);
	for (uint32_t i = 0; i < CT_XRULES_MAX; i++) {
		uint32_t key = set * CT_XRULES_MAX + i;

		if (bpf_map_update_elem(rules_fd, &key, i < (uint32_t)r->n ? &r->k[i] : &none,
					BPF_ANY) < 0)
			goto fail;
	}
	for (int j = 0; j < r->n_names; j++) {
		memset(&k, 0, sizeof(k));
		k.set = set;
		memcpy(k.name, r->names[j], sizeof(k.name));
		if (bpf_map_update_elem(names_fd, &k, &r->masks[j], BPF_ANY) < 0)
			goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "cannot install exec rules in the kernel: %s", strerror(errno));
	return -1;
}

int ct_exec_guard_install(struct ct_guard *g, char *err, size_t errlen)
{
	uint32_t set = g->xlive_gen ? !g->xlive_set : 0, state;
	struct ct_exec_rules *compiled;

	/* the two sets, and a third to compile into (too big for the stack) */
	if (!g->xsets && !(g->xsets = calloc(3, sizeof(*g->xsets)))) {
		snprintf(err, errlen, "cannot install exec rules: out of memory");
		return -1;
	}
	compiled = &g->xsets[2];
	ct_exec_rules_compile(&g->policy, compiled);
	if (write_set(&g->xmaps, set, compiled, err, errlen) < 0)
		return -1;
	g->xsets[set] = *compiled;
	g->xset_gen[set] = ++g->xlive_gen;
	g->xlive_set = set;
	state = set | compiled->applies | g->xlive_gen << CT_XR_GEN_SHIFT;
	/* one store: the next exec sees the whole new set (the map updates
	 * above were system calls, complete before it) */
	__atomic_store_n(g->xmaps.state, state, __ATOMIC_RELEASE);
	g->exec_rules = compiled->n;
	g->policy_generation = g->xlive_gen;
	return 0;
}

/* The kernel's copy of what the rules test of a deploy: its `exec:` scope
 * entries first, then the count and flags that make the probe read them. */
static void deploy_changed(void *ctx, uint32_t slot)
{
	struct ct_guard *g = ctx;
	struct ct_deploy *e = ct_deploys_by_slot(slot);
	int prov_fd = g->xmaps.prov_fd, scope_fd = g->xmaps.xscope_fd;
	static struct ct_xmatch scope[CT_XSCOPE_MAX];
	struct ct_deploy_prov prov = { 0 };
	int n = 0;

	if (slot == 0 || slot >= CT_DEPLOY_SLOTS)
		return;
	if (e) {
		prov.flags = ct_exec_prov_flags(e->pb);
		n = ct_exec_scope_compile(e->pb, scope, CT_XSCOPE_MAX);
	}
	for (int i = 0; i < CT_XSCOPE_MAX; i++) {
		struct ct_xscope_key k = { .slot = slot, .idx = i };

		if (i < n ? bpf_map_update_elem(scope_fd, &k, &scope[i], BPF_ANY) < 0
			  : bpf_map_delete_elem(scope_fd, &k) < 0 && errno != ENOENT)
			g->enforce_failures++;
	}
	prov.n_xscope = n;
	if (bpf_map_update_elem(prov_fd, &slot, &prov, BPF_ANY) < 0)
		g->enforce_failures++;
}

static void on_verdict(void *ctx, const struct ct_exec_verdict *r)
{
	ct_exec_guard_on_record(ctx, r);
}

static const char *rule_name(void *ctx, uint32_t gen, uint32_t rule)
{
	return ct_exec_guard_rule_name(ctx, gen, rule);
}

int ct_exec_guard_init(struct ct_guard *g, char *err, size_t errlen)
{
	for (uint32_t s = 1; s < CT_DEPLOY_SLOTS; s++)
		if (ct_deploys_by_slot(s))
			deploy_changed(g, s);
	ct_deploys_watch(deploy_changed, g);
	g->col->exec_verdict = on_verdict;
	g->col->exec_rule_name = rule_name;
	g->col->exec_ctx = g;
	return ct_exec_guard_install(g, err, errlen);
}

static const char *action_verb(uint8_t action, bool signalled)
{
	if (action == CT_XACT_HALT)
		return signalled ? "stopped before its first instruction" : "to be stopped, but the signal failed";
	if (action == CT_XACT_KILL)
		return signalled ? "killed before its first instruction" : "to be killed, but the signal failed";
	return "allowed to run (alert)";
}

static Changetrace__V1__GuardAction guard_action(uint8_t action)
{
	switch (action) {
	case CT_XACT_HALT: return CHANGETRACE__V1__GUARD_ACTION__GUARD_ACTION_HALT;
	case CT_XACT_KILL: return CHANGETRACE__V1__GUARD_ACTION__GUARD_ACTION_KILL;
	default: return CHANGETRACE__V1__GUARD_ACTION__GUARD_ACTION_ALERT;
	}
}

void ct_exec_guard_on_record(struct ct_guard *g, const struct ct_exec_verdict *r)
{
	static struct ct_event_buf b;
	static char reason[2048], unknown_rule[64];
	Changetrace__V1__GuardVerdict v = CHANGETRACE__V1__GUARD_VERDICT__INIT;
	const struct ct_exec_rule_info *info = rule_info(g, r->gen, r->rule);
	struct ct_deploy *dep = ct_deploys_by_slot(r->task.attr.deploy_slot);
	uint32_t pids[MAX_AFFECTED];
	char cmdline[512], path[64];
	size_t off = 0;
	ssize_t n;
	int np = 0;

	ct_event_envelope(g->col, &b, &b.ev, CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_GUARD,
			  r->hdr.ts_ns);
	ct_event_fill_task(g->col, &b, &r->task);
	/* the new image, not the one the process cache knows */
	b.proc.n_argv = ct_split_args(r->args, r->args_len < CT_ARGS_LEN ? r->args_len : CT_ARGS_LEN,
				      b.args, sizeof(b.args), b.argv, CT_ARGV_MAX);
	b.proc.argv = b.argv;
	snprintf(path, sizeof(path), "%s/%u/exe", g->col->proc_root, r->task.pid);
	n = readlink(path, b.exe, sizeof(b.exe) - 1);
	if (n > 0 && r->action == CT_XACT_HALT) {
		b.exe[n] = '\0';	/* stopped: still there to ask */
	} else {
		size_t fl = strnlen(r->filename, sizeof(r->filename));

		memcpy(b.exe, r->filename, fl);
		b.exe[fl] = '\0';
	}
	b.proc.exe = b.exe;

	cmdline[0] = '\0';
	for (size_t i = 0; i < b.proc.n_argv && off < sizeof(cmdline) - 4; i++)
		off += snprintf(cmdline + off, sizeof(cmdline) - off, "%s%s", i ? " " : "",
				b.proc.argv[i]);
	if (r->args_truncated && off < sizeof(cmdline) - 4)
		snprintf(cmdline + off, sizeof(cmdline) - off, " ...");
	if (!info)
		snprintf(unknown_rule, sizeof(unknown_rule), "exec-rule-%u", r->rule);
	snprintf(reason, sizeof(reason), "command \"%s\" run by %s%s%s: %s; %s",
		 cmdline, dep ? "deploy " : "drift (no deploy)", dep ? dep->pb->id : "",
		 dep && dep->pb->ai && dep->pb->ai->ai_assisted
			 ? (dep->pb->n_approved_by ? " (AI-assisted, approved)" : " (AI-assisted, no approver)")
			 : "",
		 info ? info->conditions : "a rule of a policy no longer loaded",
		 action_verb(r->action, r->signalled));

	v.rule = info ? (char *)info->name : unknown_rule;
	v.action = guard_action(r->action);
	v.reason = reason;
	v.change_event_id = "";
	v.deploy_id = dep ? dep->pb->id : "";
	v.command = info ? (char *)info->command : "";
	v.before_exec = 1;
	v.policy_generation = r->gen;
	g->verdicts++;
	if (r->action != CT_XACT_ALERT) {
		int sig = r->action == CT_XACT_KILL ? SIGKILL : SIGSTOP;

		v.enforced = ct_guard_enforced(g, sig, r->signalled);
		pids[np++] = r->task.pid;
		/* then the rest of the deploy, as for any rule: the command's
		 * parent and siblings wait for a human too */
		if (dep) {
			uint32_t more[MAX_AFFECTED];
			int m = ct_guard_stop_deploy(g, dep, sig, more, MAX_AFFECTED);

			for (int i = 0; i < m && np < MAX_AFFECTED; i++)
				if (more[i] != r->task.pid)
					pids[np++] = more[i];
		}
		v.n_affected_pids = np;
		v.affected_pids = pids;
	}
	b.ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_GUARD;
	b.ev.guard = &v;
	ct_sink_emit(&g->sink, &b.ev);
}
