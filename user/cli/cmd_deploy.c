/*
 * `changetrace deploy start|end|list|show`: the deploy registry, through
 * the agent's control socket (the CLI never touches the registry file).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_deploy.h"
#include "lib/control.h"
#include "lib/deploy_validate.h"
#include "deploy_footprint.h"
#include "guard/policy.h"
#include "export/pb_json.h"
#include "prov_opts.h"
#include "store/store.h"
#include "lib/util.h"

#define MAX_SCOPE 256
#define MAX_CGROUPS 64

static const char deploy_usage[] =
"usage: changetrace deploy COMMAND [options]\n"
"\n"
"The deploy registry, kept by the agent: a deploy's provenance (AI or not,\n"
"tool, model, author, approvers, ticket, commit, pipeline) and scope, and\n"
"what claims its processes (changetrace run, the CHANGETRACE_DEPLOY_ID\n"
"environment variable, cgroups). start, end, resume and abort need root or\n"
"the agent's --group; list and show are open to anyone who can connect.\n"
"\n"
"  start     register a deploy: start --id ID [provenance] [--scope PATH]...\n"
"  end       end it: end --id ID --status succeeded|failed|rolled_back\n"
"  list      the deploys the agent knows\n"
"  show      one deploy: provenance, footprint, budgets: show ID\n"
"  resume    continue a deploy a guardrail halted: resume ID\n"
"  abort     kill a halted deploy's processes: abort ID\n"
"\n"
"Each command also takes --socket PATH (the agent's control socket) and\n"
"--help (its own options alone).\n";

static const char start_usage[] =
"usage: changetrace deploy start --id ID [options]\n"
"\n"
"Register a deploy and its provenance. Its processes are claimed by\n"
"`changetrace run --deploy ID`, by CHANGETRACE_DEPLOY_ID=ID in their\n"
"environment, or by the cgroups, containers and pods given here.\n"
"\n"
"  --id ID             deploy id: 1-63 of [A-Za-z0-9._:/@+-]\n"
CT_PROV_USAGE
"  --from-git DIR [REV] (REV may also follow as an argument)\n"
"  --scope PATH        a path or object this deploy may touch (repeatable);\n"
"                      exec:CMD, a command it runs (for exec rules' out-of-scope)\n"
"  --risk LEVEL        low, medium or high\n"
"  --environment NAME  deployment environment (prod, staging, ...)\n"
"  --cgroup PATH       claim a cgroup v2 subtree (absolute, or relative to the\n"
"                      cgroup2 mount); every process in it is attributed\n"
"  --unit NAME         claim a systemd unit's cgroup (NAME.service, .scope)\n"
"  --container ID|NAME claim a running container's cgroup (id, id prefix, or name)\n"
"  --pod UID           claim a Kubernetes pod's cgroup, its later containers too\n"
"  --json              print the registered deploy as JSON\n"
"  --socket PATH       agent control socket\n";

static const char end_usage[] =
"usage: changetrace deploy end --id ID --status succeeded|failed|rolled_back\n"
"\n"
"End a deploy: its processes are no longer attributed to it once they exit,\n"
"and it cannot be joined (run) again.\n"
"\n"
"  --id ID             the deploy\n"
"  --status STATUS     succeeded, failed or rolled_back\n"
"  --socket PATH       agent control socket\n";

static const char list_usage[] =
"usage: changetrace deploy list [--json] [--socket PATH]\n"
"\n"
"The deploys the agent knows: id, status, AI or not, start, author.\n"
"\n"
"  --json              one JSON object per deploy\n"
"  --socket PATH       agent control socket\n";

static const char show_usage[] =
"usage: changetrace deploy show ID [--json] [--store DIR] [--policy FILE] [--socket PATH]\n"
"\n"
"One deploy: provenance, footprint (what it changed, in scope or not) and\n"
"its use of the policy's budgets. From the agent, or with the agent\n"
"stopped from the saved registry and the store.\n"
"\n"
"  --json              one JSON object\n"
"  --store DIR         store for the footprint (default " CT_DEFAULT_STORE ")\n"
"  --policy FILE       budgets from FILE (default: the agent's policy)\n"
"  --socket PATH       agent control socket\n";

static const char resume_usage[] =
"usage: changetrace deploy resume ID [--socket PATH]\n"
"\n"
"Continue the processes of a deploy a guardrail halted.\n"
"\n"
"  --socket PATH       agent control socket\n";

static const char abort_usage[] =
"usage: changetrace deploy abort ID [--socket PATH]\n"
"\n"
"Kill the processes of a halted deploy; its later processes die too.\n"
"\n"
"  --socket PATH       agent control socket\n";

static PbResponse *call(const char *sock, PbRequest *req, const char *cmd)
{
	PbResponse *resp;
	char err[256];
	int fd = ct_ctl_connect(ct_socket_path(sock), err, sizeof(err));

	if (fd < 0) {
		ct_err("deploy %s: %s", cmd, err);
		return NULL;
	}
	resp = ct_ctl_call(fd, req, err, sizeof(err));
	close(fd);
	if (!resp) {
		ct_err("deploy %s: %s", cmd, err);
		return NULL;
	}
	if (!resp->ok) {
		ct_err("deploy %s: %s", cmd, resp->error && *resp->error ? resp->error : "refused");
		changetrace__v1__response__free_unpacked(resp, NULL);
		return NULL;
	}
	return resp;
}

static const char *enum_name(const ProtobufCEnumDescriptor *d, int v, char *buf, size_t len)
{
	const char *s = ct_pb_enum_short(d, v);
	size_t i;

	for (i = 0; s && s[i] && i < len - 1; i++)
		buf[i] = tolower((unsigned char)s[i]);
	buf[i] = '\0';
	return buf;
}

void ct_deploy_print_text(FILE *out, const PbDeploy *d)
{
	char b1[32], b2[32], t[48];

#define KV(k, v) do { if ((v) && *(v)) fprintf(out, "%-15s %s\n", k ":", v); } while (0)
	fprintf(out, "%-15s %s%s\n", "deploy:", d->id, d->unregistered ? " (unregistered)" : "");
	fprintf(out, "%-15s %s\n", "status:",
		enum_name(&changetrace__v1__deploy_status__descriptor, d->status, b1, sizeof(b1)));
	if (d->start_time_unix_nano)
		fprintf(out, "%-15s %s\n", "started:", ct_fmt_time(d->start_time_unix_nano, t, sizeof(t)));
	if (d->end_time_unix_nano)
		fprintf(out, "%-15s %s\n", "ended:", ct_fmt_time(d->end_time_unix_nano, t, sizeof(t)));
	if (d->ai) {
		fprintf(out, "%-15s %s\n", "ai assisted:", d->ai->ai_assisted ? "yes" : "no");
		KV("ai tool", d->ai->tool);
		KV("ai model", d->ai->model);
		KV("ai session", d->ai->session_id);
		KV("prompt digest", d->ai->prompt_digest);
	}
	KV("author", d->author);
	for (size_t i = 0; i < d->n_approved_by; i++)
		KV("approved by", d->approved_by[i]);
	KV("ticket", d->ticket);
	KV("repository", d->repository);
	KV("commit", d->commit);
	KV("pipeline run", d->pipeline_run);
	KV("environment", d->environment);
	KV("rollback plan", d->rollback_plan);
	if (d->risk)
		fprintf(out, "%-15s %s\n", "risk:",
			enum_name(&changetrace__v1__risk__descriptor, d->risk, b2, sizeof(b2)));
	for (size_t i = 0; i < d->n_scope; i++)
		KV("scope", d->scope[i]);
	for (size_t i = 0; i < d->n_cgroups; i++)
		KV("cgroup", d->cgroups[i]);
	for (size_t i = 0; i < d->n_containers; i++)
		KV("container", d->containers[i]);
	for (size_t i = 0; i < d->n_pods; i++)
		KV("pod", d->pods[i]);
	if (d->registered_by)
		fprintf(out, "%-15s uid %u pid %u %s\n", "registered by:", d->registered_by->uid,
			d->registered_by->pid, d->registered_by->exe ? d->registered_by->exe : "");
	fprintf(out, "%-15s %u\n", "slot:", d->slot);
#undef KV
}

/* systemd knows a unit's cgroup; ask it (no shell). */
static int unit_cgroup(const char *unit, char *out, size_t len)
{
	int pfd[2], status;
	ssize_t n = 0, r;
	pid_t pid;

	for (const char *p = unit; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(":-_.@\\", *p))
			return -1;
	if (!*unit || unit[0] == '-' || pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		dup2(pfd[1], 1);
		if (devnull >= 0)
			dup2(devnull, 2);
		execlp("systemctl", "systemctl", "show", "--property=ControlGroup", "--value",
		       "--", unit, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	while (n < (ssize_t)len - 1 && (r = read(pfd[0], out + n, len - 1 - n)) > 0)
		n += r;
	out[n] = '\0';
	close(pfd[0]);
	waitpid(pid, &status, 0);
	out[strcspn(out, "\n")] = '\0';
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 && out[0] == '/' ? 0 : -1;
}

static int cmd_start(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "scope", required_argument, NULL, 'S' },
		{ "risk", required_argument, NULL, 'r' },
		{ "environment", required_argument, NULL, 'e' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "unit", required_argument, NULL, 'u' },
		{ "container", required_argument, NULL, 'C' },
		{ "pod", required_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		CT_PROV_LONG_OPTS,
		{ 0 }
	};
	static struct ct_prov_opts prov;
	static char *scope[MAX_SCOPE], *cgroups[MAX_CGROUPS], unit_paths[MAX_CGROUPS][4096];
	static char *containers[MAX_CGROUPS], *pods[MAX_CGROUPS];
	PbDeployStartRequest q = CHANGETRACE__V1__DEPLOY_START_REQUEST__INIT;
	PbRequest req = CHANGETRACE__V1__REQUEST__INIT;
	const char *sock = NULL, *why;
	PbResponse *resp;
	bool json = false;
	int c, r, nunits = 0;
	bool have_id = false;

	ct_prov_init(&prov);
	prov.dep.scope = scope;
	prov.dep.cgroups = cgroups;
	prov.dep.containers = containers;
	prov.dep.pods = pods;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'i': prov.dep.id = optarg; have_id = true; break;
		case 'S':
			if (prov.dep.n_scope >= MAX_SCOPE) {
				ct_err("deploy start: at most %d --scope", MAX_SCOPE);
				return 2;
			}
			scope[prov.dep.n_scope++] = optarg;
			break;
		case 'r':
			if (!strcmp(optarg, "low"))
				prov.dep.risk = CHANGETRACE__V1__RISK__RISK_LOW;
			else if (!strcmp(optarg, "medium"))
				prov.dep.risk = CHANGETRACE__V1__RISK__RISK_MEDIUM;
			else if (!strcmp(optarg, "high"))
				prov.dep.risk = CHANGETRACE__V1__RISK__RISK_HIGH;
			else {
				ct_err("deploy start: --risk must be low, medium or high");
				return 2;
			}
			break;
		case 'e': prov.dep.environment = optarg; break;
		case 'c':
		case 'u':
			if (prov.dep.n_cgroups >= MAX_CGROUPS) {
				ct_err("deploy start: at most %d --cgroup/--unit", MAX_CGROUPS);
				return 2;
			}
			if (c == 'u') {
				if (unit_cgroup(optarg, unit_paths[nunits], sizeof(unit_paths[0])) < 0) {
					ct_err("deploy start: cannot find the cgroup of unit '%s' "
					       "(is systemd running it?)", optarg);
					return 1;
				}
				cgroups[prov.dep.n_cgroups++] = unit_paths[nunits++];
			} else {
				cgroups[prov.dep.n_cgroups++] = optarg;
			}
			break;
		case 'C':
		case 'P':
			if (prov.dep.n_cgroups + prov.dep.n_containers + prov.dep.n_pods >= MAX_CGROUPS) {
				ct_err("deploy start: at most %d --cgroup/--unit/--container/--pod", MAX_CGROUPS);
				return 2;
			}
			if (c == 'C')
				containers[prov.dep.n_containers++] = optarg;
			else
				pods[prov.dep.n_pods++] = optarg;
			break;
		case 'j': json = true; break;
		case 's': sock = optarg; break;
		case 'h': fputs(start_usage, stdout); return 0;
		default:
			r = ct_prov_opt(&prov, c, optarg, "deploy start");
			if (r < 0)
				return 2;
			if (r == 0) {
				fputs(start_usage, stderr);
				return 2;
			}
		}
	}
	/* `--from-git DIR REV`: the revision may follow as an argument. */
	if (optind < argc && prov.git_dir && !prov.git_rev)
		prov.git_rev = argv[optind++];
	if (optind < argc) {
		ct_err("deploy start: unexpected argument '%s'", argv[optind]);
		return 2;
	}
	if (!have_id) {
		ct_err("deploy start: --id ID is required");
		return 2;
	}
	if (!ct_valid_deploy_id(prov.dep.id, &why)) {
		ct_err("deploy start: invalid --id: %s", why);
		return 2;
	}
	if (ct_prov_finish(&prov, "deploy start") < 0)
		return 2;
	if ((why = ct_validate_deploy(&prov.dep))) {
		ct_err("deploy start: %s", why);
		return 2;
	}
	q.deploy = &prov.dep;
	req.body_case = CHANGETRACE__V1__REQUEST__BODY_DEPLOY_START;
	req.deploy_start = &q;
	resp = call(sock, &req, "start");
	if (!resp)
		return 1;
	if (json && resp->deploy) {
		ct_pb_json_write(stdout, &resp->deploy->base);
		putchar('\n');
	} else if (resp->deploy) {
		printf("deploy %s started (slot %u)\n", resp->deploy->id, resp->deploy->slot);
	}
	changetrace__v1__response__free_unpacked(resp, NULL);
	return 0;
}

static int cmd_end(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "status", required_argument, NULL, 't' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	PbDeployEndRequest q = CHANGETRACE__V1__DEPLOY_END_REQUEST__INIT;
	PbRequest req = CHANGETRACE__V1__REQUEST__INIT;
	const char *sock = NULL, *status = NULL, *why;
	PbResponse *resp;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'i': q.id = optarg; break;
		case 't': status = optarg; break;
		case 's': sock = optarg; break;
		case 'h': fputs(end_usage, stdout); return 0;
		default: fputs(end_usage, stderr); return 2;
		}
	}
	if (optind < argc) {
		ct_err("deploy end: unexpected argument '%s'", argv[optind]);
		return 2;
	}
	if (!q.id || !status) {
		ct_err("deploy end: --id ID and --status succeeded|failed|rolled_back are required");
		return 2;
	}
	if (!ct_valid_deploy_id(q.id, &why)) {
		ct_err("deploy end: invalid --id: %s", why);
		return 2;
	}
	if (!strcmp(status, "succeeded"))
		q.status = CHANGETRACE__V1__DEPLOY_STATUS__DEPLOY_STATUS_SUCCEEDED;
	else if (!strcmp(status, "failed"))
		q.status = CHANGETRACE__V1__DEPLOY_STATUS__DEPLOY_STATUS_FAILED;
	else if (!strcmp(status, "rolled_back") || !strcmp(status, "rolled-back"))
		q.status = CHANGETRACE__V1__DEPLOY_STATUS__DEPLOY_STATUS_ROLLED_BACK;
	else {
		ct_err("deploy end: --status must be succeeded, failed or rolled_back");
		return 2;
	}
	req.body_case = CHANGETRACE__V1__REQUEST__BODY_DEPLOY_END;
	req.deploy_end = &q;
	resp = call(sock, &req, "end");
	if (!resp)
		return 1;
	printf("deploy %s ended: %s\n", q.id, status);
	changetrace__v1__response__free_unpacked(resp, NULL);
	return 0;
}

static int cmd_list(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	PbDeployListRequest q = CHANGETRACE__V1__DEPLOY_LIST_REQUEST__INIT;
	PbRequest req = CHANGETRACE__V1__REQUEST__INIT;
	const char *sock = NULL;
	bool json = false;
	PbResponse *resp;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 's': sock = optarg; break;
		case 'h': fputs(list_usage, stdout); return 0;
		default: fputs(list_usage, stderr); return 2;
		}
	}
	if (optind < argc) {
		ct_err("deploy list: unexpected argument '%s'", argv[optind]);
		return 2;
	}
	req.body_case = CHANGETRACE__V1__REQUEST__BODY_DEPLOY_LIST;
	req.deploy_list = &q;
	resp = call(sock, &req, "list");
	if (!resp)
		return 1;
	if (!json)
		printf("%-24s %-12s %-4s %-24s %s\n", "ID", "STATUS", "AI", "STARTED", "AUTHOR");
	for (size_t i = 0; resp->deploys && i < resp->deploys->n_deploys; i++) {
		PbDeploy *d = resp->deploys->deploys[i];
		char st[32], t[48];

		if (json) {
			ct_pb_json_write(stdout, &d->base);
			putchar('\n');
			continue;
		}
		printf("%-24s %-12s %-4s %-24s %s%s\n", d->id,
		       enum_name(&changetrace__v1__deploy_status__descriptor, d->status, st, sizeof(st)),
		       d->ai && d->ai->ai_assisted ? "yes" : "no",
		       d->start_time_unix_nano ? ct_fmt_time(d->start_time_unix_nano, t, sizeof(t)) : "-",
		       d->author ? d->author : "", d->unregistered ? " (unregistered)" : "");
	}
	if (resp->error && *resp->error)
		ct_err("deploy list: %s", resp->error);
	changetrace__v1__response__free_unpacked(resp, NULL);
	return 0;
}

/* `deploy resume|abort ID`: a human's decision on a halted deploy. */
static int cmd_decide(int argc, char **argv, bool abort_it)
{
	static const struct option lopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	Changetrace__V1__GuardDecisionRequest q = CHANGETRACE__V1__GUARD_DECISION_REQUEST__INIT;
	PbRequest req = CHANGETRACE__V1__REQUEST__INIT;
	const char *sock = NULL, *why, *what = abort_it ? "abort" : "resume";
	PbResponse *resp;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(abort_it ? abort_usage : resume_usage, stdout);
			return 0;
		}
		if (c != 's') {
			fputs(abort_it ? abort_usage : resume_usage, stderr);
			return 2;
		}
		sock = optarg;
	}
	if (optind + 1 != argc) {
		ct_err("deploy %s: exactly one deploy id expected", what);
		return 2;
	}
	if (!ct_valid_deploy_id(argv[optind], &why)) {
		ct_err("deploy %s: %s", what, why);
		return 2;
	}
	q.deploy_id = argv[optind];
	q.action = abort_it ? CHANGETRACE__V1__DEPLOY_ACTION__DEPLOY_ACTION_ABORT
			    : CHANGETRACE__V1__DEPLOY_ACTION__DEPLOY_ACTION_RESUME;
	req.body_case = CHANGETRACE__V1__REQUEST__BODY_GUARD_DECISION;
	req.guard_decision = &q;
	resp = call(sock, &req, what);
	if (!resp)
		return 1;
	printf("deploy %s %s: %zu process%s %s\n", q.deploy_id, abort_it ? "aborted" : "resumed",
	       resp->guard_decision ? resp->guard_decision->n_pids : 0,
	       resp->guard_decision && resp->guard_decision->n_pids == 1 ? "" : "es",
	       abort_it ? "killed" : "continued");
	changetrace__v1__response__free_unpacked(resp, NULL);
	return 0;
}

/* The registry the agent saved (STORE/deploys.pb): the deploy when the
 * agent is not running. Returns a pointer into *reg (caller frees it). */
static PbDeploy *registry_deploy(const char *dir, const char *id, PbDeployRegistry **reg)
{
	char path[4096];
	uint8_t *buf;
	ssize_t n;
	const size_t max = 64u << 20;

	*reg = NULL;
	snprintf(path, sizeof(path), "%s/deploys.pb", dir);
	buf = malloc(max);
	if (!buf)
		return NULL;
	n = ct_read_file(path, (char *)buf, max);
	if (n > 0)
		*reg = changetrace__v1__deploy_registry__unpack(NULL, n, buf);
	free(buf);
	for (size_t i = 0; *reg && i < (*reg)->n_deploys; i++)
		if ((*reg)->deploys[i]->id && !strcmp((*reg)->deploys[i]->id, id))
			return (*reg)->deploys[i];
	return NULL;
}

/* The budget rules of a policy file (validated as the agent would). */
static int policy_budgets(const char *path, struct ct_fp_budget *b, size_t *n,
			  char *err, size_t errlen)
{
	struct ct_policy p;

	if (ct_policy_load(&p, path, err, errlen) < 0)
		return -1;
	*n = 0;
	for (int i = 0; i < p.n_rules && *n < CT_POLICY_MAX_RULES; i++) {
		if (p.rules[i].budget == CT_BUDGET_NONE)
			continue;
		memset(&b[*n], 0, sizeof(b[*n]));
		ct_strlcpy(b[*n].rule, p.rules[i].name, sizeof(b[*n].rule));
		b[*n].net = p.rules[i].budget == CT_BUDGET_NET;
		b[*n].max = p.rules[i].budget_max;
		b[*n].action = p.rules[i].action;
		(*n)++;
	}
	ct_policy_free(&p);
	return 0;
}

/* The budgets the agent reported with the deploy (untrusted bytes: a
 * missing name shows as "?", a kind other than "net" counts files). */
static void agent_budgets(const PbResponse *resp, struct ct_fp_budget *b, size_t *n)
{
	*n = 0;
	for (size_t i = 0; i < resp->n_budgets && *n < CT_POLICY_MAX_RULES; i++) {
		const Changetrace__V1__PolicyBudget *x = resp->budgets[i];

		if (!x)
			continue;
		memset(&b[*n], 0, sizeof(b[*n]));
		ct_strlcpy(b[*n].rule, x->rule && *x->rule ? x->rule : "?", sizeof(b[*n].rule));
		b[*n].net = x->counts && !strcmp(x->counts, "net");
		b[*n].max = x->max;
		b[*n].action = x->action;
		(*n)++;
	}
}

struct show_ctx {
	struct ct_footprint fp;
	PbEvent *last_deploy_ev;     /* newest DEPLOY record, when none other is known */
	bool want_record;
};

static int show_cb(const PbEvent *ev, void *vctx)
{
	struct show_ctx *c = vctx;

	if (c->want_record && ev->detail_case == CHANGETRACE__V1__EVENT__DETAIL_DEPLOY &&
	    ev->deploy && ev->deploy->deploy) {
		size_t len = changetrace__v1__event__get_packed_size(ev);
		uint8_t *buf = malloc(len ? len : 1);

		if (buf) {
			changetrace__v1__event__pack(ev, buf);
			if (c->last_deploy_ev)
				changetrace__v1__event__free_unpacked(c->last_deploy_ev, NULL);
			c->last_deploy_ev = changetrace__v1__event__unpack(NULL, len, buf);
			free(buf);
		}
	}
	ct_footprint_add(&c->fp, ev);
	return 0;
}

/* The deploy's record (agent, else its saved registry, else the store's
 * DEPLOY events) and its footprint from the store. Works with the agent
 * stopped. */
static int cmd_show(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "store", required_argument, NULL, 'S' },
		{ "policy", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	PbDeployShowRequest q = CHANGETRACE__V1__DEPLOY_SHOW_REQUEST__INIT;
	PbRequest req = CHANGETRACE__V1__REQUEST__INIT;
	const char *sock = NULL, *why, *dir = CT_DEFAULT_STORE, *source = NULL;
	const char *policy_file = NULL, *budget_source = NULL;
	struct ct_fp_budget budgets[CT_POLICY_MAX_RULES];
	size_t n_budgets = 0;
	char err[512] = "", agent_err[256] = "", serr[512] = "";
	PbDeployRegistry *reg = NULL;
	PbResponse *resp = NULL;
	struct ct_store_reader *r = NULL;
	struct show_ctx sc = { 0 };
	const PbDeploy *dep = NULL;
	bool json = false;
	int c, fd;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 's': sock = optarg; break;
		case 'S': dir = optarg; break;
		case 'p': policy_file = optarg; break;
		case 'h': fputs(show_usage, stdout); return 0;
		default: fputs(show_usage, stderr); return 2;
		}
	}
	if (optind + 1 != argc) {
		ct_err("deploy show: exactly one deploy id expected");
		return 2;
	}
	if (policy_file) {
		if (policy_budgets(policy_file, budgets, &n_budgets, err, sizeof(err)) < 0) {
			ct_err("deploy show: %s", err);
			return 2;
		}
		budget_source = policy_file;
	}
	q.id = argv[optind];
	if (!ct_valid_deploy_id(q.id, &why)) {
		ct_err("deploy show: %s", why);
		return 2;
	}
	req.body_case = CHANGETRACE__V1__REQUEST__BODY_DEPLOY_SHOW;
	req.deploy_show = &q;
	fd = ct_ctl_connect(ct_socket_path(sock), err, sizeof(err));
	if (fd < 0) {
		snprintf(agent_err, sizeof(agent_err), "agent not reachable (%s)", err);
	} else {
		resp = ct_ctl_call(fd, &req, err, sizeof(err));
		close(fd);
		if (resp && resp->ok && resp->deploy) {
			dep = resp->deploy;
			source = "agent";
			if (!budget_source) {
				agent_budgets(resp, budgets, &n_budgets);
				budget_source = "the agent's policy";
			}
		} else {
			snprintf(agent_err, sizeof(agent_err), "agent: %s",
				 resp && resp->error && *resp->error ? resp->error : err);
		}
	}
	if (!dep && (dep = registry_deploy(dir, q.id, &reg)))
		source = "registry";
	if (ct_store_reader_open(&r, dir, serr, sizeof(serr)) == 0) {
		struct ct_store_filter f = CT_STORE_FILTER_INIT;

		f.deploy_id = q.id;
		sc.want_record = !dep;
		ct_footprint_init(&sc.fp, dep);
		ct_store_scan(r, &f, show_cb, &sc);
		if (!dep && sc.last_deploy_ev) {
			dep = sc.last_deploy_ev->deploy->deploy;
			source = "store";
			/* scope is known now: count again with it */
			ct_footprint_free(&sc.fp);
			ct_footprint_init(&sc.fp, dep);
			sc.want_record = false;
			ct_store_scan(r, &f, show_cb, &sc);
		}
	}
	if (!dep) {
		ct_err("deploy show: no deploy %s (%s; not in %s%s%s)", q.id,
		       agent_err[0] ? agent_err : "agent does not know it", dir,
		       serr[0] ? ": " : "", serr);
		c = 1;
		goto out;
	}
	if (json) {
		char *obj = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&obj, &len);

		if (!m) {
			ct_err("deploy show: out of memory");
			c = 1;
			goto out;
		}
		ct_pb_json_write(m, &dep->base);
		fclose(m);
		/* the deploy object, with where it came from and its footprint */
		if (len && obj[len - 1] == '}')
			obj[--len] = '\0';
		fputs(obj, stdout);
		free(obj);
		fputs(len > 1 ? ",\"source\":" : "\"source\":", stdout);
		ct_json_str(stdout, source);
		fputs(",\"store\":", stdout);
		ct_json_str(stdout, dir);
		fputs(",\"footprint\":", stdout);
		if (r)
			ct_footprint_print_json(stdout, &sc.fp);
		else
			fputs("null", stdout);
		fputs(",\"budget_source\":", stdout);
		if (budget_source)
			ct_json_str(stdout, budget_source);
		else
			fputs("null", stdout);
		fputs(",\"budgets\":", stdout);
		ct_footprint_print_budgets_json(stdout, &sc.fp, budgets, r ? n_budgets : 0);
		fputs("}\n", stdout);
	} else {
		ct_deploy_print_text(stdout, dep);
		if (strcmp(source, "agent"))
			printf("%-15s %s (%s)\n", "record from:", source, agent_err);
		if (r) {
			ct_footprint_print_text(stdout, &sc.fp, q.id);
			ct_footprint_print_budgets_text(stdout, &sc.fp, budgets, n_budgets,
							budget_source);
		} else {
			printf("\nfootprint: not available: %s\n", serr);
		}
	}
	if (r && ct_store_reader_corrupt_blocks(r))
		ct_err("warning: %llu corrupt block(s) skipped; `changetrace verify` names them",
		       (unsigned long long)ct_store_reader_corrupt_blocks(r));
	c = 0;
out:
	ct_footprint_free(&sc.fp);
	if (sc.last_deploy_ev)
		changetrace__v1__event__free_unpacked(sc.last_deploy_ev, NULL);
	if (reg)
		changetrace__v1__deploy_registry__free_unpacked(reg, NULL);
	if (resp)
		changetrace__v1__response__free_unpacked(resp, NULL);
	ct_store_reader_close(r);
	return c;
}

int ct_cmd_deploy(int argc, char **argv)
{
	if (argc < 2) {
		fputs(deploy_usage, stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		/* the full usage: every command's own after the summary */
		const char *all[] = { deploy_usage, start_usage, end_usage, list_usage, show_usage,
				      resume_usage, abort_usage };

		for (size_t i = 0; i < ARRAY_SIZE(all); i++)
			printf("%s%s", i ? "\n" : "", all[i]);
		return 0;
	}
	if (!strcmp(argv[1], "start"))
		return cmd_start(argc - 1, argv + 1);
	if (!strcmp(argv[1], "end"))
		return cmd_end(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return cmd_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "show"))
		return cmd_show(argc - 1, argv + 1);
	if (!strcmp(argv[1], "resume") || !strcmp(argv[1], "abort"))
		return cmd_decide(argc - 1, argv + 1, !strcmp(argv[1], "abort"));
	ct_err("deploy: unknown command '%s'", argv[1]);
	fputs(deploy_usage, stderr);
	return 2;
}
