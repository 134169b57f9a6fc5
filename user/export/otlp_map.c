#include <ctype.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "format.h"
#include "otlp_map.h"
#include "pb_json.h"
#include "store/store_block.h"
#include "lib/utf8.h"
#include "lib/util.h"

#define SEV(x) CHANGETRACE__OTLP__SEVERITY_NUMBER__SEVERITY_NUMBER_##x
#define AV(x) CHANGETRACE__OTLP__ANY_VALUE__VALUE_##x

static OtlpAnyValue *add(struct ct_otlp_rec *r, const char *key)
{
	size_t n = r->lr.n_attributes;

	/* a key once: the first value given wins (attribution before detail) */
	if (ct_otlp_attr(&r->lr, key))
		return NULL;
	if (n >= CT_OTLP_MAX_ATTRS) {
		r->lr.dropped_attributes_count++;
		return NULL;
	}
	r->kv[n] = (OtlpKeyValue)CHANGETRACE__OTLP__KEY_VALUE__INIT;
	r->val[n] = (OtlpAnyValue)CHANGETRACE__OTLP__ANY_VALUE__INIT;
	r->kv[n].key = (char *)key;
	r->kv[n].value = &r->val[n];
	r->kvp[n] = &r->kv[n];
	r->lr.n_attributes = n + 1;
	return &r->val[n];
}

/* s when it is valid UTF-8 (events are repaired when the agent emits
 * them; this covers stores written before that), else its repair in the
 * record's scratch, cut short when that is full. */
static char *valid(struct ct_otlp_rec *r, const char *s)
{
	size_t n = strlen(s), room = sizeof(r->fix) - r->fix_len;
	char *o = r->fix + r->fix_len;

	if (ct_utf8_valid(s, n))
		return (char *)s;
	if (room < 4)
		return CT_UTF8_REPLACEMENT;
	r->fix_len += ct_utf8_repair(s, n, o, room) + 1;
	return o;
}

/* Empty strings are absent values: not sent. */
static void add_str(struct ct_otlp_rec *r, const char *key, const char *v)
{
	OtlpAnyValue *a;

	if (!v || !*v || !(a = add(r, key)))
		return;
	a->value_case = AV(STRING_VALUE);
	a->string_value = valid(r, v);
}

/* The original bytes of strings the agent repaired (Event.raw_strings). */
static void add_raw_strings(struct ct_otlp_rec *r, const PbEvent *ev)
{
	for (size_t i = 0; i < ev->n_raw_strings; i++) {
		const Changetrace__V1__RawString *rs = ev->raw_strings[i];
		size_t room = sizeof(r->fix) - r->fix_len;
		char *key = r->fix + r->fix_len;
		OtlpAnyValue *a;
		int w;

		if (!rs || !rs->field)
			continue;
		w = snprintf(key, room, "changetrace.raw.%s", rs->field);
		if (w < 0 || (size_t)w >= room || !ct_utf8_valid(key, w))
			continue;
		r->fix_len += w + 1;
		if (!(a = add(r, key)))
			continue;
		a->value_case = AV(BYTES_VALUE);
		a->bytes_value = rs->value;
	}
}

static void add_int(struct ct_otlp_rec *r, const char *key, int64_t v)
{
	OtlpAnyValue *a = add(r, key);

	if (!a)
		return;
	a->value_case = AV(INT_VALUE);
	a->int_value = v;
}

static void add_bool(struct ct_otlp_rec *r, const char *key, bool v)
{
	OtlpAnyValue *a = add(r, key);

	if (!a)
		return;
	a->value_case = AV(BOOL_VALUE);
	a->bool_value = v;
}

/* Enum value as its short lower-case name: FILE_OP_WRITE -> "write". */
static void add_enum(struct ct_otlp_rec *r, const char *key, const ProtobufCEnumDescriptor *d, int v)
{
	const char *s = ct_pb_enum_short(d, v);
	char *o;
	size_t i;

	if (r->n_small >= (int)ARRAY_SIZE(r->small))
		return;
	o = r->small[r->n_small++];
	for (i = 0; s[i] && i + 1 < sizeof(r->small[0]); i++)
		o[i] = tolower((unsigned char)s[i]);
	o[i] = '\0';
	add_str(r, key, o);
}

/* A formatted string kept in the record's scratch. */
static void add_fmt(struct ct_otlp_rec *r, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void add_fmt(struct ct_otlp_rec *r, const char *key, const char *fmt, ...)
{
	va_list ap;

	if (r->n_small >= (int)ARRAY_SIZE(r->small))
		return;
	va_start(ap, fmt);
	vsnprintf(r->small[r->n_small], sizeof(r->small[0]), fmt, ap);
	va_end(ap);
	add_str(r, key, r->small[r->n_small++]);
}

static void add_array(struct ct_otlp_rec *r, const char *key, char **v, size_t n)
{
	OtlpArrayValue *arr;
	OtlpAnyValue *a;
	int k;

	if (!n || r->n_arr >= CT_OTLP_MAX_ARRAYS || !(a = add(r, key)))
		return;
	k = r->n_arr++;
	arr = &r->arr[k];
	*arr = (OtlpArrayValue)CHANGETRACE__OTLP__ARRAY_VALUE__INIT;
	if (n > CT_OTLP_MAX_ARRAY)
		n = CT_OTLP_MAX_ARRAY;
	for (size_t i = 0; i < n; i++) {
		r->arr_val[k][i] = (OtlpAnyValue)CHANGETRACE__OTLP__ANY_VALUE__INIT;
		r->arr_val[k][i].value_case = AV(STRING_VALUE);
		r->arr_val[k][i].string_value = v[i] ? valid(r, v[i]) : "";
		r->arr_ptr[k][i] = &r->arr_val[k][i];
	}
	arr->n_values = n;
	arr->values = r->arr_ptr[k];
	a->value_case = AV(ARRAY_VALUE);
	a->array_value = arr;
}

/* argv joined with spaces (semconv process.command_line), bounded. */
static const char *command_line(struct ct_otlp_rec *r, char **argv, size_t n)
{
	size_t off = 0;

	r->cmdline[0] = '\0';
	for (size_t i = 0; i < n && off + 1 < sizeof(r->cmdline); i++) {
		int w = snprintf(r->cmdline + off, sizeof(r->cmdline) - off, "%s%s",
				 i ? " " : "", argv[i] ? argv[i] : "");

		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (off >= sizeof(r->cmdline))	/* cut: not inside a character */
		r->cmdline[ct_utf8_cut(r->cmdline, strlen(r->cmdline))] = '\0';
	return r->cmdline;
}

/* container.*, k8s.* of a container; prefix names the attributes of a
 * container that is not the process's (a NET event's namespace owner). */
static void map_container(struct ct_otlp_rec *r, const PbContainer *c, bool other)
{
	if (!c)
		return;
	if (other) {
		add_str(r, "changetrace.netns.container.id", c->id);
		add_str(r, "changetrace.netns.container.name", c->name);
		add_str(r, "changetrace.netns.k8s.pod.uid", c->pod_uid);
		add_str(r, "changetrace.netns.k8s.pod.name", c->pod_name);
		return;
	}
	/* the runtime's monitor (conmon) is not in the container it watches */
	add_str(r, c->monitor ? "changetrace.container.monitor_of" : "container.id", c->id);
	add_str(r, "container.runtime.name", c->runtime);
	add_str(r, "container.name", c->name);
	add_str(r, "container.image.name", c->image);
	add_str(r, "changetrace.container.hostname", c->hostname);
	add_str(r, "changetrace.container.names_unavailable", c->names_unavailable);
	add_str(r, "k8s.pod.uid", c->pod_uid);
	add_str(r, "k8s.pod.name", c->pod_name);
	add_str(r, "k8s.namespace.name", c->pod_namespace);
	add_str(r, "changetrace.k8s.pod.qos_class", c->qos_class);
}

static void map_process(struct ct_otlp_rec *r, const PbProcess *p)
{
	const char *base;

	if (!p)
		return;
	add_int(r, "process.pid", p->pid);
	add_int(r, "process.parent_pid", p->ppid);
	/* the executable's file name; the kernel's comm (16 bytes, settable
	 * by the process) only when the executable is not known */
	base = p->exe && *p->exe ? strrchr(p->exe, '/') : NULL;
	add_str(r, "process.executable.name", base && base[1] ? base + 1 : p->comm);
	add_str(r, "changetrace.process.comm", p->comm);
	add_str(r, "process.executable.path", p->exe);
	if (p->n_argv) {
		add_str(r, "process.command_line", command_line(r, p->argv, p->n_argv));
		add_array(r, "process.command_args", p->argv, p->n_argv);
	}
	add_str(r, "process.working_directory", p->cwd);
	add_int(r, "process.real_user.id", p->uid);
	add_int(r, "process.user.id", p->euid);
	add_str(r, "changetrace.cgroup.path", p->cgroup_path);
	map_container(r, p->container, false);
}

static void map_attribution(struct ct_otlp_rec *r, const PbAttribution *a)
{
	if (!a)
		return;
	add_str(r, "deployment.id", a->deploy_id);
	add_str(r, "changetrace.attribution.method", ct_attr_method_name(a->method));
	add_bool(r, "changetrace.drift", a->drift);
	if (a->unregistered)
		add_bool(r, "changetrace.deploy.unregistered", true);
	add_bool(r, "changetrace.ai.assisted", a->ai_assisted);
	if (a->claim_refused && *a->claim_refused) {
		add_str(r, "changetrace.attribution.claimed_deploy_id", a->claimed_deploy_id);
		add_str(r, "changetrace.attribution.claim_refused", a->claim_refused);
	}
}

/* Well-known gen_ai.provider.name values, by model name first (it says
 * who serves it), then by a tool that only ever uses one provider. */
const char *ct_ai_provider(const char *tool, const char *model)
{
	static const struct { const char *prefix, *provider; } models[] = {
		{ "claude", "anthropic" }, { "gpt", "openai" }, { "chatgpt", "openai" },
		{ "o1", "openai" }, { "o3", "openai" }, { "o4", "openai" }, { "codex", "openai" },
		{ "gemini", "gcp.gemini" }, { "mistral", "mistral_ai" }, { "codestral", "mistral_ai" },
		{ "devstral", "mistral_ai" }, { "mixtral", "mistral_ai" }, { "deepseek", "deepseek" },
		{ "grok", "x_ai" }, { "command", "cohere" },
	};
	static const struct { const char *name, *provider; } tools[] = {
		{ "claude", "anthropic" }, { "claude-code", "anthropic" }, { "claude code", "anthropic" },
		{ "codex", "openai" }, { "chatgpt", "openai" }, { "openai", "openai" },
		{ "gemini", "gcp.gemini" }, { "gemini-cli", "gcp.gemini" },
	};

	if (model && *model) {
		/* Bedrock's model ids ("anthropic.claude-...", "us.anthropic...")
		 * and Vertex AI's ("claude-...@2024...") name their platform */
		if (strstr(model, "anthropic.") || strstr(model, "amazon.") || strstr(model, "meta."))
			return "aws.bedrock";
		if (!strncasecmp(model, "claude", 6) && strchr(model, '@'))
			return "gcp.vertex_ai";
		for (size_t i = 0; i < ARRAY_SIZE(models); i++)
			if (!strncasecmp(model, models[i].prefix, strlen(models[i].prefix)))
				return models[i].provider;
	}
	for (size_t i = 0; tool && i < ARRAY_SIZE(tools); i++)
		if (!strcasecmp(tool, tools[i].name))
			return tools[i].provider;
	return NULL;
}

static void map_deploy(struct ct_otlp_rec *r, const Changetrace__V1__DeployRecord *rec)
{
	const PbDeploy *d = rec->deploy;

	add_enum(r, "changetrace.deploy.action", &changetrace__v1__deploy_action__descriptor, rec->action);
	if (!d)
		return;
	add_str(r, "deployment.id", d->id);
	/* deployment.status knows "succeeded" and "failed"; every status is
	 * in changetrace.deploy.status */
	if (d->status == CHANGETRACE__V1__DEPLOY_STATUS__DEPLOY_STATUS_SUCCEEDED)
		add_str(r, "deployment.status", "succeeded");
	else if (d->status == CHANGETRACE__V1__DEPLOY_STATUS__DEPLOY_STATUS_FAILED)
		add_str(r, "deployment.status", "failed");
	if (d->status)
		add_enum(r, "changetrace.deploy.status", &changetrace__v1__deploy_status__descriptor, d->status);
	add_str(r, "deployment.environment.name", d->environment);
	if (d->start_time_unix_nano)
		add_int(r, "changetrace.deploy.start_time_unix_nano", (int64_t)d->start_time_unix_nano);
	if (d->end_time_unix_nano)
		add_int(r, "changetrace.deploy.end_time_unix_nano", (int64_t)d->end_time_unix_nano);
	add_str(r, "vcs.ref.head.revision", d->commit);
	add_str(r, "vcs.repository.url.full", d->repository);
	add_str(r, "cicd.pipeline.run.id", d->pipeline_run);
	if (d->ai) {
		add_bool(r, "changetrace.ai.assisted", d->ai->ai_assisted);
		add_str(r, "gen_ai.provider.name", ct_ai_provider(d->ai->tool, d->ai->model));
		add_str(r, "gen_ai.agent.name", d->ai->tool);
		add_str(r, "gen_ai.request.model", d->ai->model);
		add_str(r, "gen_ai.conversation.id", d->ai->session_id);
		add_str(r, "changetrace.ai.prompt_digest", d->ai->prompt_digest);
	}
	add_str(r, "changetrace.deploy.author", d->author);
	add_array(r, "changetrace.deploy.approved_by", d->approved_by, d->n_approved_by);
	add_str(r, "changetrace.deploy.ticket", d->ticket);
	if (d->risk)
		add_enum(r, "changetrace.deploy.risk", &changetrace__v1__risk__descriptor, d->risk);
	add_array(r, "changetrace.deploy.scope", d->scope, d->n_scope);
	add_str(r, "changetrace.deploy.rollback_plan", d->rollback_plan);
	add_array(r, "changetrace.deploy.cgroups", d->cgroups, d->n_cgroups);
	add_array(r, "changetrace.deploy.containers", d->containers, d->n_containers);
	add_array(r, "changetrace.deploy.pods", d->pods, d->n_pods);
}

static void map_detail(struct ct_otlp_rec *r, const PbEvent *ev)
{
	switch (ev->detail_case) {
	case CHANGETRACE__V1__EVENT__DETAIL_EXEC:
		if (ev->exec->guard_rule && *ev->exec->guard_rule) {
			add_str(r, "changetrace.guard.rule", ev->exec->guard_rule);
			add_enum(r, "changetrace.guard.action", &changetrace__v1__guard_action__descriptor,
				 ev->exec->guard_action);
		}
		break;
	case CHANGETRACE__V1__EVENT__DETAIL_EXIT:
		add_int(r, "process.exit.code", ev->exit->exit_code);
		if (ev->exit->signal)
			add_int(r, "changetrace.exit.signal", ev->exit->signal);
		break;
	case CHANGETRACE__V1__EVENT__DETAIL_FILE: {
		const Changetrace__V1__FileChange *f = ev->file;

		add_str(r, "file.path", f->path);
		add_enum(r, "changetrace.file.op", &changetrace__v1__file_op__descriptor, f->op);
		add_str(r, "changetrace.file.old_path", f->old_path);
		add_str(r, "changetrace.file.ns_path", f->ns_path);
		if (f->path_truncated)
			add_bool(r, "changetrace.file.path_truncated", true);
		if (f->old_path_truncated)
			add_bool(r, "changetrace.file.old_path_truncated", true);
		if (f->path_source)
			add_enum(r, "changetrace.file.path_source",
				 &changetrace__v1__file_path_source__descriptor, f->path_source);
		if (f->inode) {
			snprintf(r->inode, sizeof(r->inode), "%llu", (unsigned long long)f->inode);
			add_str(r, "file.inode", r->inode);
		}
		if (f->size_after)
			add_int(r, "file.size", (int64_t)f->size_after);
		add_str(r, "changetrace.file.sha256_before", f->sha256_before);
		add_str(r, "changetrace.file.sha256_after", f->sha256_after);
		if (ev->unobserved && f->mode_before) {
			/* what the last known state said (semconv: file.mode is octal text) */
			if (f->mode)
				add_fmt(r, "file.mode", "%04o", f->mode & 07777);
			add_fmt(r, "changetrace.file.mode_before", "%04o", f->mode_before & 07777);
			if (f->mode) {
				add_fmt(r, "file.owner.id", "%u", f->uid);
				add_fmt(r, "file.group.id", "%u", f->gid);
			}
			add_fmt(r, "changetrace.file.owner_before", "%u:%u", f->uid_before, f->gid_before);
		}
		add_str(r, "changetrace.sysctl.name", f->sysctl_name);
		if (f->sha256_before && *f->sha256_before)
			add_str(r, "changetrace.sysctl.value_before", f->sysctl_before);
		if (f->sha256_after && *f->sha256_after)
			add_str(r, "changetrace.sysctl.value_after", f->sysctl_after);
		if (f->sysctl_after_source)
			add_enum(r, "changetrace.sysctl.value_after_source",
				 &changetrace__v1__sysctl_value_source__descriptor,
				 f->sysctl_after_source);
		add_str(r, "changetrace.netns.name", f->sysctl_netns);
		break;
	}
	case CHANGETRACE__V1__EVENT__DETAIL_NET: {
		const PbNetPolicyChange *n = ev->net;

		add_enum(r, "changetrace.net.subsystem", &changetrace__v1__net_subsystem__descriptor, n->subsystem);
		add_enum(r, "changetrace.net.op", &changetrace__v1__net_op__descriptor, n->op);
		add_str(r, "changetrace.net.object_type", n->object_type);
		add_str(r, "changetrace.net.family", n->family);
		add_str(r, "changetrace.net.table", n->table);
		add_str(r, "changetrace.net.chain", n->chain);
		add_str(r, "changetrace.net.rule", n->rule);
		add_str(r, "network.interface.name", n->device);
		add_int(r, "changetrace.netns.id", n->netns_inode);
		add_str(r, "changetrace.netns.name", n->netns_name);
		add_str(r, "changetrace.net.acceptance", n->acceptance);
		add_str(r, "changetrace.net.ruleset_after", n->ruleset_after);
		add_str(r, "changetrace.net.ruleset_diff", n->ruleset_diff);
		map_container(r, n->netns_container, true);
		break;
	}
	case CHANGETRACE__V1__EVENT__DETAIL_GUARD: {
		const Changetrace__V1__GuardVerdict *g = ev->guard;

		add_str(r, "changetrace.guard.rule", g->rule);
		add_enum(r, "changetrace.guard.action", &changetrace__v1__guard_action__descriptor, g->action);
		add_bool(r, "changetrace.guard.enforced", g->enforced);
		add_str(r, "changetrace.guard.change_event_id", g->change_event_id);
		add_str(r, "deployment.id", g->deploy_id);
		add_str(r, "changetrace.guard.reason", g->reason);
		if (g->before_exec) {
			add_bool(r, "changetrace.guard.before_exec", true);
			add_str(r, "changetrace.guard.command", g->command);
		}
		break;
	}
	case CHANGETRACE__V1__EVENT__DETAIL_DEPLOY:
		map_deploy(r, ev->deploy);
		break;
	case CHANGETRACE__V1__EVENT__DETAIL_GAP:
		add_enum(r, "changetrace.gap.path", &changetrace__v1__gap_path__descriptor, ev->gap->path);
		add_enum(r, "changetrace.gap.lost_kind", &changetrace__v1__event_kind__descriptor, ev->gap->lost_kind);
		add_int(r, "changetrace.gap.count", (int64_t)ev->gap->count);
		if (ev->gap->first_seq || ev->gap->last_seq) {
			add_int(r, "changetrace.gap.first_seq", (int64_t)ev->gap->first_seq);
			add_int(r, "changetrace.gap.last_seq", (int64_t)ev->gap->last_seq);
		}
		if (ev->gap->agent_pid)
			add_int(r, "changetrace.gap.agent_pid", ev->gap->agent_pid);
		break;
	case CHANGETRACE__V1__EVENT__DETAIL_AGENT:
		add_str(r, "changetrace.agent.state", ev->agent->state);
		add_str(r, "changetrace.agent.last_state", ev->agent->last_state);
		break;
	default:
		break;
	}
}

static Changetrace__Otlp__SeverityNumber severity(const PbEvent *ev)
{
	if (ev->detail_case == CHANGETRACE__V1__EVENT__DETAIL_GUARD)
		return ev->guard->action == CHANGETRACE__V1__GUARD_ACTION__GUARD_ACTION_ALERT ?
			SEV(WARN) : SEV(ERROR);
	if (ev->kind == CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_GAP)
		return SEV(WARN);
	/* made while nobody watched: worth a look, like drift */
	if (ev->unobserved)
		return SEV(WARN);
	/* drift: a change nobody claims (process events are not changes) */
	if ((ev->kind == CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_FILE ||
	     ev->kind == CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_NET) &&
	    ev->attribution && ev->attribution->drift)
		return SEV(WARN);
	return SEV(INFO);
}

/* The body: the CLI's one-line text, plus what it leaves out per kind. */
static void body(struct ct_otlp_rec *r, const PbEvent *ev)
{
	FILE *m = fmemopen(r->body_text, sizeof(r->body_text) - 1, "w");
	size_t n;

	r->body_text[0] = '\0';
	if (!m)
		return;
	setvbuf(m, NULL, _IONBF, 0);
	/* the text formatter expects a process on exec events */
	if (ev->detail_case != CHANGETRACE__V1__EVENT__DETAIL_EXEC || ev->process)
		ct_format_text(m, ev);
	/* text for a person: what came from outside is escaped (format.h) */
	switch (ev->detail_case) {
	case CHANGETRACE__V1__EVENT__DETAIL_FILE:
		fprintf(m, " file %s ", ct_pb_enum_short(&changetrace__v1__file_op__descriptor, ev->file->op));
		ct_text_word(m, ev->file->path);
		break;
	case CHANGETRACE__V1__EVENT__DETAIL_DEPLOY:
		fprintf(m, " deploy %s ",
			ct_pb_enum_short(&changetrace__v1__deploy_action__descriptor, ev->deploy->action));
		ct_text_word(m, ev->deploy->deploy ? ev->deploy->deploy->id : "");
		break;
	case CHANGETRACE__V1__EVENT__DETAIL_GUARD:
		fputs(" guard ", m);
		ct_text_word(m, ev->guard->rule);
		fprintf(m, " %s: ", ct_pb_enum_short(&changetrace__v1__guard_action__descriptor, ev->guard->action));
		ct_text_escaped(m, ev->guard->reason);
		break;
	default:
		break;
	}
	fclose(m);
	r->body_text[sizeof(r->body_text) - 1] = '\0';
	/* full: cut on a character boundary */
	r->body_text[ct_utf8_cut(r->body_text, strlen(r->body_text))] = '\0';
	/* one line: the formatter's newline goes, wherever it ended up */
	n = strlen(r->body_text);
	for (size_t i = 0; i < n; i++)
		if (r->body_text[i] == '\n')
			r->body_text[i] = ' ';
	while (n && r->body_text[n - 1] == ' ')
		r->body_text[--n] = '\0';
}

void ct_otlp_map(const PbEvent *ev, struct ct_otlp_rec *r, uint64_t observed_ns)
{
	const char *kind = ct_pb_enum_short(&changetrace__v1__event_kind__descriptor, ev->kind);
	size_t i;

	r->lr = (OtlpLogRecord)CHANGETRACE__OTLP__LOG_RECORD__INIT;
	r->n_arr = r->n_small = 0;
	r->fix_len = 0;
	r->lr.attributes = r->kvp;
	r->lr.time_unix_nano = ev->time_unix_nano;
	r->lr.observed_time_unix_nano = observed_ns;
	r->lr.severity_number = severity(ev);
	r->lr.severity_text = r->lr.severity_number == SEV(INFO) ? "INFO" :
			      r->lr.severity_number == SEV(WARN) ? "WARN" : "ERROR";
	snprintf(r->event_name, sizeof(r->event_name), "changetrace.%s", kind);
	for (i = strlen("changetrace."); r->event_name[i]; i++)
		r->event_name[i] = tolower((unsigned char)r->event_name[i]);
	r->lr.event_name = r->event_name;
	body(r, ev);
	r->body = (OtlpAnyValue)CHANGETRACE__OTLP__ANY_VALUE__INIT;
	r->body.value_case = AV(STRING_VALUE);
	r->body.string_value = valid(r, r->body_text);
	r->lr.body = &r->body;

	/* the semantic conventions' unique log record id: a backend that
	 * deduplicates at-least-once delivery keys on it (never reused) */
	add_str(r, "log.record.uid", ev->event_id);
	add_str(r, "changetrace.event.id", ev->event_id);
	add_int(r, "changetrace.seq", (int64_t)ev->seq);
	if (ev->recovered)
		add_bool(r, "changetrace.recovered", true);
	map_process(r, ev->process);
	if (ev->process)    /* agent-level events (GAP, AGENT) are nobody's change */
		map_attribution(r, ev->attribution);
	if (ev->unobserved) {
		/* nobody's and not drift: its own flag, and when it happened */
		add_bool(r, "changetrace.unobserved", true);
		add_bool(r, "changetrace.drift", false);
		if (ev->unobserved_window) {
			add_int(r, "changetrace.unobserved.from_unix_nano",
				(int64_t)ev->unobserved_window->from_unix_nano);
			add_int(r, "changetrace.unobserved.to_unix_nano",
				(int64_t)ev->unobserved_window->to_unix_nano);
		}
	}
	map_detail(r, ev);
	add_raw_strings(r, ev);
}

const OtlpAnyValue *ct_otlp_attr(const OtlpLogRecord *lr, const char *key)
{
	for (size_t i = 0; i < lr->n_attributes; i++)
		if (lr->attributes[i]->key && !strcmp(lr->attributes[i]->key, key))
			return lr->attributes[i]->value;
	return NULL;
}

static int grow(struct ct_otlp_batch *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 64 * 1024;
	uint8_t *n;

	if (b->len + need <= b->cap)
		return 0;
	while (cap < b->len + need)
		cap *= 2;
	n = realloc(b->recs, cap);
	if (!n)
		return -1;
	b->recs = n;
	b->cap = cap;
	return 0;
}

int ct_otlp_batch_add(struct ct_otlp_batch *b, const OtlpLogRecord *lr, uint64_t seq)
{
	size_t n = changetrace__otlp__log_record__get_packed_size(lr);

	if (grow(b, n + 11) < 0)
		return -1;
	if (b->count + 1 >= b->rec_cap) {
		size_t cap = b->rec_cap ? b->rec_cap * 2 : 64;
		size_t *offs = realloc(b->offs, cap * sizeof(*offs));
		uint64_t *seqs;

		if (!offs)
			return -1;
		b->offs = offs;
		seqs = realloc(b->seqs, cap * sizeof(*seqs));
		if (!seqs)
			return -1;
		b->seqs = seqs;
		b->rec_cap = cap;
	}
	b->offs[b->count] = b->len;
	b->seqs[b->count] = seq;
	b->recs[b->len++] = 2 << 3 | 2;   /* ScopeLogs.log_records, length-delimited */
	b->len += ct_varint_write(b->recs + b->len, n);
	b->len += changetrace__otlp__log_record__pack(lr, b->recs + b->len);
	if (!b->count++)
		b->first_seq = seq;
	b->last_seq = seq;
	return 0;
}

void ct_otlp_batch_reset(struct ct_otlp_batch *b)
{
	b->len = b->count = 0;
	b->first_seq = b->last_seq = 0;
}

void ct_otlp_batch_free(struct ct_otlp_batch *b)
{
	free(b->recs);
	free(b->offs);
	free(b->seqs);
	memset(b, 0, sizeof(*b));
}

/* tag + length prefix of a length-delimited field */
static size_t field_hdr(uint8_t *p, unsigned field, size_t len)
{
	p[0] = field << 3 | 2;
	return 1 + ct_varint_write(p + 1, len);
}

void ct_otlp_instance_id(const char *stable_id, char out[37])
{
	/* the namespace UUID the semantic conventions name for
	 * service.instance.id: 4d63009a-8d0f-11ee-aad7-4c796ed8e320 */
	static const uint8_t ns[16] = { 0x4d, 0x63, 0x00, 0x9a, 0x8d, 0x0f, 0x11, 0xee,
					0xaa, 0xd7, 0x4c, 0x79, 0x6e, 0xd8, 0xe3, 0x20 };
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	memset(md, 0, sizeof(md));
	if (c && EVP_DigestInit_ex(c, EVP_sha1(), NULL) && EVP_DigestUpdate(c, ns, sizeof(ns)) &&
	    EVP_DigestUpdate(c, stable_id, strlen(stable_id)))
		EVP_DigestFinal_ex(c, md, &mdlen);
	EVP_MD_CTX_free(c);
	md[6] = (md[6] & 0x0f) | 0x50;   /* version 5 */
	md[8] = (md[8] & 0x3f) | 0x80;   /* RFC 4122 variant */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9],
		 md[10], md[11], md[12], md[13], md[14], md[15]);
}

uint8_t *ct_otlp_request(const struct ct_otlp_batch *b, const char *host,
			 const char *service_version, const char *instance_id, size_t *len)
{
	return ct_otlp_request_range(b, 0, b->count, host, service_version, instance_id, len);
}

uint8_t *ct_otlp_request_range(const struct ct_otlp_batch *b, size_t lo, size_t hi,
			       const char *host, const char *service_version,
			       const char *instance_id, size_t *len)
{
	size_t from = lo < hi && lo < b->count ? b->offs[lo] : 0;
	size_t to = hi < b->count ? b->offs[hi] : b->len;
	size_t recs_len = lo < hi && lo < b->count ? to - from : 0;
	Changetrace__Otlp__Resource res = CHANGETRACE__OTLP__RESOURCE__INIT;
	Changetrace__Otlp__InstrumentationScope scope = CHANGETRACE__OTLP__INSTRUMENTATION_SCOPE__INIT;
	OtlpKeyValue kv[4], *kvp[4];
	OtlpAnyValue av[4];
	const char *keys[4] = { "host.name", "service.name", "service.version", "service.instance.id" };
	const char *vals[4] = { host, "changetrace", service_version, instance_id };
	int n_res = instance_id && *instance_id ? 4 : 3;
	size_t res_len, scope_len, sl_len, rl_len, off = 0;
	uint8_t *out;

	for (int i = 0; i < n_res; i++) {
		kv[i] = (OtlpKeyValue)CHANGETRACE__OTLP__KEY_VALUE__INIT;
		av[i] = (OtlpAnyValue)CHANGETRACE__OTLP__ANY_VALUE__INIT;
		av[i].value_case = AV(STRING_VALUE);
		av[i].string_value = (char *)(vals[i] ? vals[i] : "");
		kv[i].key = (char *)keys[i];
		kv[i].value = &av[i];
		kvp[i] = &kv[i];
	}
	res.n_attributes = n_res;
	res.attributes = kvp;
	scope.name = "changetrace";
	scope.version = (char *)(service_version ? service_version : "");
	res_len = changetrace__otlp__resource__get_packed_size(&res);
	scope_len = changetrace__otlp__instrumentation_scope__get_packed_size(&scope);
	/* ScopeLogs { scope = 1; log_records = 2 (already framed) } */
	sl_len = 1 + 10 + scope_len + recs_len;
	rl_len = 1 + 10 + res_len + 1 + 10 + sl_len;
	out = malloc(1 + 10 + rl_len);
	if (!out)
		return NULL;
	/* exact lengths: header sizes depend on them */
	sl_len = 1 + ct_varint_write((uint8_t[10]){ 0 }, scope_len) + scope_len + recs_len;
	rl_len = 1 + ct_varint_write((uint8_t[10]){ 0 }, res_len) + res_len +
		 1 + ct_varint_write((uint8_t[10]){ 0 }, sl_len) + sl_len;
	off += field_hdr(out + off, 1, rl_len);          /* request.resource_logs */
	off += field_hdr(out + off, 1, res_len);         /* resource_logs.resource */
	off += changetrace__otlp__resource__pack(&res, out + off);
	off += field_hdr(out + off, 2, sl_len);          /* resource_logs.scope_logs */
	off += field_hdr(out + off, 1, scope_len);       /* scope_logs.scope */
	off += changetrace__otlp__instrumentation_scope__pack(&scope, out + off);
	if (recs_len)
		memcpy(out + off, b->recs + from, recs_len);
	off += recs_len;
	*len = off;
	return out;
}
