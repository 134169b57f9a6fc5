/* Event -> OTLP LogRecord mapping and request framing (otlp_map.c). */
#include <stdlib.h>
#include "unit.h"
#include "export/otlp_map.h"

static struct ct_otlp_rec rec;

static const char *sval(const OtlpLogRecord *lr, const char *key)
{
	const OtlpAnyValue *v = ct_otlp_attr(lr, key);

	return v && v->value_case == CHANGETRACE__OTLP__ANY_VALUE__VALUE_STRING_VALUE ?
		v->string_value : NULL;
}

static int64_t ival(const OtlpLogRecord *lr, const char *key)
{
	const OtlpAnyValue *v = ct_otlp_attr(lr, key);

	return v && v->value_case == CHANGETRACE__OTLP__ANY_VALUE__VALUE_INT_VALUE ? v->int_value : -1;
}

static int bval(const OtlpLogRecord *lr, const char *key)
{
	const OtlpAnyValue *v = ct_otlp_attr(lr, key);

	return v && v->value_case == CHANGETRACE__OTLP__ANY_VALUE__VALUE_BOOL_VALUE ? v->bool_value : -1;
}

TEST(otlp_exec_maps_process_and_attribution_to_semconv)
{
	PbEvent ev = CHANGETRACE__V1__EVENT__INIT;
	PbProcess p = CHANGETRACE__V1__PROCESS__INIT;
	PbAttribution a = CHANGETRACE__V1__ATTRIBUTION__INIT;
	PbExecDetail x = CHANGETRACE__V1__EXEC_DETAIL__INIT;
	char *argv[] = { "ls", "-l", "/etc/my dir" };
	const OtlpAnyValue *args;

	ev.event_id = "abc-7";
	ev.seq = 7;
	ev.time_unix_nano = 1700000000123456789ull;
	ev.kind = CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_EXEC;
	p.pid = 42;
	p.ppid = 1;
	p.uid = 1000;
	p.euid = 0;
	p.comm = "ls";
	p.exe = "/usr/bin/ls";
	p.argv = argv;
	p.n_argv = 3;
	p.cwd = "/root";
	a.deploy_id = "D1";
	a.method = CHANGETRACE__V1__ATTRIBUTION_METHOD__ATTRIBUTION_WRAPPER;
	a.ai_assisted = 1;
	ev.process = &p;
	ev.attribution = &a;
	ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_EXEC;
	ev.exec = &x;
	ct_otlp_map(&ev, &rec, 1700000000999000000ull);

	CHECK_STR(rec.lr.event_name, "changetrace.exec");
	CHECK(rec.lr.time_unix_nano == 1700000000123456789ull);
	CHECK(rec.lr.observed_time_unix_nano == 1700000000999000000ull);
	CHECK(rec.lr.severity_number == CHANGETRACE__OTLP__SEVERITY_NUMBER__SEVERITY_NUMBER_INFO);
	CHECK(rec.lr.body && rec.lr.body->value_case == CHANGETRACE__OTLP__ANY_VALUE__VALUE_STRING_VALUE);
	CHECK(strstr(rec.lr.body->string_value, "EXEC") && strstr(rec.lr.body->string_value, "pid=42"));
	CHECK(!strchr(rec.lr.body->string_value, '\n'));
	CHECK(ival(&rec.lr, "process.pid") == 42);
	CHECK(ival(&rec.lr, "process.parent_pid") == 1);
	CHECK(ival(&rec.lr, "process.real_user.id") == 1000);
	CHECK(ival(&rec.lr, "process.user.id") == 0);
	CHECK_STR(sval(&rec.lr, "process.executable.path"), "/usr/bin/ls");
	CHECK_STR(sval(&rec.lr, "process.executable.name"), "ls");
	CHECK_STR(sval(&rec.lr, "changetrace.process.comm"), "ls");
	CHECK(!ct_otlp_attr(&rec.lr, "container.id"));   /* on the host */
	CHECK_STR(sval(&rec.lr, "process.command_line"), "ls -l /etc/my dir");
	args = ct_otlp_attr(&rec.lr, "process.command_args");
	CHECK(args && args->value_case == CHANGETRACE__OTLP__ANY_VALUE__VALUE_ARRAY_VALUE);
	CHECK(args->array_value->n_values == 3);
	CHECK_STR(args->array_value->values[2]->string_value, "/etc/my dir");
	CHECK_STR(sval(&rec.lr, "process.working_directory"), "/root");
	CHECK_STR(sval(&rec.lr, "deployment.id"), "D1");
	CHECK_STR(sval(&rec.lr, "changetrace.attribution.method"), "wrapper");
	CHECK(bval(&rec.lr, "changetrace.drift") == 0);
	CHECK(bval(&rec.lr, "changetrace.ai.assisted") == 1);
	CHECK_STR(sval(&rec.lr, "changetrace.event.id"), "abc-7");
	CHECK(ival(&rec.lr, "changetrace.seq") == 7);
	/* no invented keys for what the event does not have */
	CHECK(!ct_otlp_attr(&rec.lr, "file.path"));
	CHECK(!ct_otlp_attr(&rec.lr, "process.exit.code"));
}

TEST(otlp_deploy_maps_vcs_cicd_gen_ai_once)
{
	PbEvent ev = CHANGETRACE__V1__EVENT__INIT;
	PbProcess p = CHANGETRACE__V1__PROCESS__INIT;
	PbAttribution a = CHANGETRACE__V1__ATTRIBUTION__INIT;
	Changetrace__V1__DeployRecord dr = CHANGETRACE__V1__DEPLOY_RECORD__INIT;
	PbDeploy d = CHANGETRACE__V1__DEPLOY__INIT;
	PbAiProvenance ai = CHANGETRACE__V1__AI_PROVENANCE__INIT;
	char *approvers[] = { "alice", "bob" };
	size_t n_dep = 0;

	ev.kind = CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_DEPLOY;
	ev.seq = 3;
	ev.process = &p;
	a.deploy_id = "REL-9";        /* also in the record: one key, one value */
	ev.attribution = &a;
	d.id = "REL-9";
	d.commit = "0123456789abcdef";
	d.repository = "https://git.example/app";
	d.pipeline_run = "run-55";
	d.environment = "prod";
	d.status = CHANGETRACE__V1__DEPLOY_STATUS__DEPLOY_STATUS_SUCCEEDED;
	d.approved_by = approvers;
	d.n_approved_by = 2;
	ai.ai_assisted = 1;
	ai.tool = "claude";
	ai.model = "claude-opus-4";
	ai.session_id = "s-1";
	d.ai = &ai;
	dr.action = CHANGETRACE__V1__DEPLOY_ACTION__DEPLOY_ACTION_END;
	dr.deploy = &d;
	ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_DEPLOY;
	ev.deploy = &dr;
	ct_otlp_map(&ev, &rec, 1);

	CHECK_STR(rec.lr.event_name, "changetrace.deploy");
	CHECK_STR(sval(&rec.lr, "deployment.id"), "REL-9");
	for (size_t i = 0; i < rec.lr.n_attributes; i++)
		n_dep += !strcmp(rec.lr.attributes[i]->key, "deployment.id");
	CHECK(n_dep == 1);
	CHECK_STR(sval(&rec.lr, "deployment.status"), "succeeded");
	CHECK_STR(sval(&rec.lr, "changetrace.deploy.status"), "succeeded");
	CHECK_STR(sval(&rec.lr, "deployment.environment.name"), "prod");
	CHECK_STR(sval(&rec.lr, "vcs.ref.head.revision"), "0123456789abcdef");
	CHECK_STR(sval(&rec.lr, "vcs.repository.url.full"), "https://git.example/app");
	CHECK_STR(sval(&rec.lr, "cicd.pipeline.run.id"), "run-55");
	CHECK(!ct_otlp_attr(&rec.lr, "gen_ai.system"));          /* deprecated */
	CHECK_STR(sval(&rec.lr, "gen_ai.agent.name"), "claude");
	CHECK_STR(sval(&rec.lr, "gen_ai.provider.name"), "anthropic");
	CHECK_STR(sval(&rec.lr, "gen_ai.request.model"), "claude-opus-4");
	CHECK_STR(sval(&rec.lr, "gen_ai.conversation.id"), "s-1");
	CHECK_STR(sval(&rec.lr, "changetrace.deploy.action"), "end");
	CHECK(ct_otlp_attr(&rec.lr, "changetrace.deploy.approved_by")->array_value->n_values == 2);
	CHECK(strstr(rec.lr.body->string_value, "deploy END REL-9"));
}

TEST(otlp_file_net_guard_gap_mapping_and_severity)
{
	PbEvent ev = CHANGETRACE__V1__EVENT__INIT;
	PbProcess p = CHANGETRACE__V1__PROCESS__INIT;
	PbAttribution a = CHANGETRACE__V1__ATTRIBUTION__INIT;
	Changetrace__V1__FileChange fc = CHANGETRACE__V1__FILE_CHANGE__INIT;
	PbNetPolicyChange nc = CHANGETRACE__V1__NET_POLICY_CHANGE__INIT;
	Changetrace__V1__GuardVerdict g = CHANGETRACE__V1__GUARD_VERDICT__INIT;
	PbGapDetail gap = CHANGETRACE__V1__GAP_DETAIL__INIT;

	/* a drift file change: WARN, file.* attributes */
	ev.kind = CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_FILE;
	ev.process = &p;
	a.drift = 1;
	ev.attribution = &a;
	fc.op = CHANGETRACE__V1__FILE_OP__FILE_OP_RENAME;
	fc.path = "/etc/app.conf";
	fc.old_path = "/etc/app.conf.tmp";
	fc.inode = 99;
	fc.size_after = 1234;
	ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_FILE;
	ev.file = &fc;
	ct_otlp_map(&ev, &rec, 1);
	CHECK_STR(rec.lr.event_name, "changetrace.file");
	CHECK(rec.lr.severity_number == CHANGETRACE__OTLP__SEVERITY_NUMBER__SEVERITY_NUMBER_WARN);
	CHECK_STR(sval(&rec.lr, "file.path"), "/etc/app.conf");
	CHECK_STR(sval(&rec.lr, "changetrace.file.op"), "rename");
	CHECK_STR(sval(&rec.lr, "changetrace.file.old_path"), "/etc/app.conf.tmp");
	CHECK_STR(sval(&rec.lr, "file.inode"), "99");
	CHECK(ival(&rec.lr, "file.size") == 1234);
	CHECK(bval(&rec.lr, "changetrace.drift") == 1);
	CHECK(!ct_otlp_attr(&rec.lr, "deployment.id"));   /* drift: none */
	CHECK(!ct_otlp_attr(&rec.lr, "changetrace.sysctl.name"));

	/* a sysctl: its values, the "before" only when known */
	fc.op = CHANGETRACE__V1__FILE_OP__FILE_OP_SYSCTL;
	fc.path = "/proc/sys/net/ipv4/ip_forward";
	fc.old_path = "";
	fc.sysctl_name = "net.ipv4.ip_forward";
	fc.sysctl_before = "0";
	fc.sysctl_after = "1";
	fc.sysctl_netns = "blue";
	fc.sha256_after = "ab";
	ct_otlp_map(&ev, &rec, 1);
	CHECK_STR(sval(&rec.lr, "changetrace.sysctl.name"), "net.ipv4.ip_forward");
	CHECK(!ct_otlp_attr(&rec.lr, "changetrace.sysctl.value_before"));
	CHECK_STR(sval(&rec.lr, "changetrace.sysctl.value_after"), "1");
	CHECK_STR(sval(&rec.lr, "changetrace.netns.name"), "blue");
	fc.sha256_before = "cd";
	ct_otlp_map(&ev, &rec, 1);
	CHECK_STR(sval(&rec.lr, "changetrace.sysctl.value_before"), "0");
	CHECK(strstr(rec.lr.body->string_value, "net.ipv4.ip_forward: 0 -> 1 netns=blue"));
	CHECK(!ct_otlp_attr(&rec.lr, "changetrace.sysctl.value_after_source"));
	/* how the value after is known */
	fc.sysctl_after_source = CHANGETRACE__V1__SYSCTL_VALUE_SOURCE__SYSCTL_VALUE_SOURCE_WRITTEN;
	ct_otlp_map(&ev, &rec, 1);
	CHECK_STR(sval(&rec.lr, "changetrace.sysctl.value_after_source"), "written");
	CHECK(strstr(rec.lr.body->string_value, "net.ipv4.ip_forward: 0 -> 1 netns=blue"));
	fc.sysctl_after_source = CHANGETRACE__V1__SYSCTL_VALUE_SOURCE__SYSCTL_VALUE_SOURCE_READ_BACK;
	ct_otlp_map(&ev, &rec, 1);
	CHECK_STR(sval(&rec.lr, "changetrace.sysctl.value_after_source"), "read_back");
	CHECK(strstr(rec.lr.body->string_value, "net.ipv4.ip_forward: 0 -> 1 read_back netns=blue"));
	fc = (Changetrace__V1__FileChange)CHANGETRACE__V1__FILE_CHANGE__INIT;
	fc.op = CHANGETRACE__V1__FILE_OP__FILE_OP_RENAME;
	fc.path = "/etc/app.conf";

	/* a network-policy change */
	a.drift = 0;
	a.deploy_id = "D2";
	ev.kind = CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_NET;
	nc.subsystem = CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_NFTABLES;
	nc.op = CHANGETRACE__V1__NET_OP__NET_OP_ADD;
	nc.object_type = "rule";
	nc.table = "filter";
	nc.device = "eth0";
	nc.netns_inode = 4026531840u;
	nc.summary = "add rule inet filter in";
	nc.acceptance = "no-error";
	ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_NET;
	ev.net = &nc;
	ct_otlp_map(&ev, &rec, 1);
	CHECK(rec.lr.severity_number == CHANGETRACE__OTLP__SEVERITY_NUMBER__SEVERITY_NUMBER_INFO);
	CHECK_STR(sval(&rec.lr, "changetrace.net.subsystem"), "nftables");
	CHECK_STR(sval(&rec.lr, "changetrace.net.op"), "add");
	CHECK_STR(sval(&rec.lr, "network.interface.name"), "eth0");
	CHECK(!ct_otlp_attr(&rec.lr, "changetrace.net.rule"));
	nc.rule = "tcp dport 22 accept";
	ct_otlp_map(&ev, &rec, 1);
	CHECK_STR(sval(&rec.lr, "changetrace.net.rule"), "tcp dport 22 accept");
	CHECK(ival(&rec.lr, "changetrace.netns.id") == 4026531840ll);
	CHECK(strstr(rec.lr.body->string_value, "add rule inet filter in"));

	/* a halt verdict: ERROR */
	ev.kind = CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_GUARD;
	g.rule = "ai-unapproved";
	g.action = CHANGETRACE__V1__GUARD_ACTION__GUARD_ACTION_HALT;
	g.reason = "protected path";
	g.deploy_id = "D2";
	g.enforced = 1;
	ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_GUARD;
	ev.guard = &g;
	ct_otlp_map(&ev, &rec, 1);
	CHECK(rec.lr.severity_number == CHANGETRACE__OTLP__SEVERITY_NUMBER__SEVERITY_NUMBER_ERROR);
	CHECK_STR(sval(&rec.lr, "changetrace.guard.action"), "halt");
	CHECK(bval(&rec.lr, "changetrace.guard.enforced") == 1);

	/* a GAP: agent-level, nobody's change, WARN */
	ev.kind = CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_GAP;
	ev.process = NULL;
	gap.path = CHANGETRACE__V1__GAP_PATH__GAP_PATH_BULK;
	gap.lost_kind = CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_EXEC;
	gap.count = 17;
	gap.reason = "ring full";
	ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_GAP;
	ev.gap = &gap;
	ct_otlp_map(&ev, &rec, 1);
	CHECK_STR(rec.lr.event_name, "changetrace.gap");
	CHECK(rec.lr.severity_number == CHANGETRACE__OTLP__SEVERITY_NUMBER__SEVERITY_NUMBER_WARN);
	CHECK(ival(&rec.lr, "changetrace.gap.count") == 17);
	CHECK_STR(sval(&rec.lr, "changetrace.gap.lost_kind"), "exec");
	CHECK(!ct_otlp_attr(&rec.lr, "changetrace.drift"));
}

TEST(otlp_request_frames_decode_as_export_logs_request)
{
	struct ct_otlp_batch b = { 0 };
	Changetrace__Otlp__ExportLogsServiceRequest *req;
	PbEvent ev = CHANGETRACE__V1__EVENT__INIT;
	PbAgentDetail ad = CHANGETRACE__V1__AGENT_DETAIL__INIT;
	uint8_t *buf;
	size_t len;

	ev.kind = CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_AGENT;
	ad.state = "started";
	ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_AGENT;
	ev.agent = &ad;
	for (uint64_t seq = 10; seq < 13; seq++) {
		ev.seq = seq;
		ct_otlp_map(&ev, &rec, seq);
		CHECK(ct_otlp_batch_add(&b, &rec.lr, seq) == 0);
	}
	CHECK(b.count == 3 && b.first_seq == 10 && b.last_seq == 12);
	buf = ct_otlp_request(&b, "host-a", "0.1.0", "ef4b1541-c392-5cb4-9b5b-6cbd50fc16ee", &len);
	CHECK(buf);
	req = changetrace__otlp__export_logs_service_request__unpack(NULL, len, buf);
	free(buf);
	CHECK(req && req->n_resource_logs == 1);
	{
		Changetrace__Otlp__ResourceLogs *rl = req->resource_logs[0];
		Changetrace__Otlp__Resource *res = rl->resource;
		int host = 0, svc = 0, inst = 0;

		CHECK(res && rl->n_scope_logs == 1);
		for (size_t i = 0; i < res->n_attributes; i++) {
			if (!strcmp(res->attributes[i]->key, "host.name"))
				host = !strcmp(res->attributes[i]->value->string_value, "host-a");
			if (!strcmp(res->attributes[i]->key, "service.name"))
				svc = !strcmp(res->attributes[i]->value->string_value, "changetrace");
			if (!strcmp(res->attributes[i]->key, "service.instance.id"))
				inst = !strcmp(res->attributes[i]->value->string_value,
					       "ef4b1541-c392-5cb4-9b5b-6cbd50fc16ee");
		}
		CHECK(host && svc && inst);
		CHECK_STR(rl->scope_logs[0]->scope->name, "changetrace");
		CHECK(rl->scope_logs[0]->n_log_records == 3);
		CHECK(ival(rl->scope_logs[0]->log_records[2], "changetrace.seq") == 12);
		CHECK(rl->scope_logs[0]->log_records[1]->observed_time_unix_nano == 11);
		CHECK_STR(rl->scope_logs[0]->log_records[0]->event_name, "changetrace.agent");
	}
	changetrace__otlp__export_logs_service_request__free_unpacked(req, NULL);
	/* an empty batch still frames a valid request */
	ct_otlp_batch_reset(&b);
	buf = ct_otlp_request(&b, "h", "v", NULL, &len);
	req = buf ? changetrace__otlp__export_logs_service_request__unpack(NULL, len, buf) : NULL;
	free(buf);
	CHECK(req && req->resource_logs[0]->scope_logs[0]->n_log_records == 0);
	changetrace__otlp__export_logs_service_request__free_unpacked(req, NULL);
	ct_otlp_batch_free(&b);
}

TEST(otlp_exec_without_process_from_a_bad_store_does_not_crash)
{
	PbEvent ev = CHANGETRACE__V1__EVENT__INIT;
	PbExecDetail x = CHANGETRACE__V1__EXEC_DETAIL__INIT;

	ev.kind = CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_EXEC;
	ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_EXEC;
	ev.exec = &x;
	ct_otlp_map(&ev, &rec, 1);
	CHECK_STR(rec.lr.event_name, "changetrace.exec");
	CHECK(!ct_otlp_attr(&rec.lr, "process.pid"));
}

/* service.instance.id is the UUID v5 of the store id in the namespace the
 * conventions give (the value Python's uuid.uuid5 computes for them). */
TEST(otlp_service_instance_id_is_uuid5_of_the_store_id)
{
	char id[37];

	ct_otlp_instance_id("0123456789abcdef", id);
	CHECK_STR(id, "ef4b1541-c392-5cb4-9b5b-6cbd50fc16ee");
}

TEST(otlp_gen_ai_provider_from_model_then_tool)
{
	CHECK_STR(ct_ai_provider("kiro", "claude-sonnet-4"), "anthropic");
	CHECK_STR(ct_ai_provider("aider", "gpt-4o"), "openai");
	CHECK_STR(ct_ai_provider("claude-code", NULL), "anthropic");
	CHECK_STR(ct_ai_provider("kiro", "anthropic.claude-3-5-sonnet-20240620-v1:0"), "aws.bedrock");
	CHECK_STR(ct_ai_provider(NULL, "claude-3-5-sonnet@20240620"), "gcp.vertex_ai");
	CHECK_STR(ct_ai_provider("gemini-cli", ""), "gcp.gemini");
	CHECK(!ct_ai_provider("kiro", NULL));      /* a tool of many providers: not guessed */
	CHECK(!ct_ai_provider("cursor", "my-finetune"));
	CHECK(!ct_ai_provider(NULL, NULL));
}

/* A container process: container.*, k8s.*; its monitor is not "in" it; a
 * NET event into another container's namespace names that one apart. */
TEST(otlp_container_and_pod_attributes)
{
	PbEvent ev = CHANGETRACE__V1__EVENT__INIT;
	PbProcess p = CHANGETRACE__V1__PROCESS__INIT;
	PbContainer c = CHANGETRACE__V1__CONTAINER__INIT, other = CHANGETRACE__V1__CONTAINER__INIT;
	PbNetPolicyChange nc = CHANGETRACE__V1__NET_POLICY_CHANGE__INIT;
	PbDeploy d = CHANGETRACE__V1__DEPLOY__INIT;
	Changetrace__V1__DeployRecord dr = CHANGETRACE__V1__DEPLOY_RECORD__INIT;
	char *scope[] = { "/etc/app" }, *ctrs[] = { "abc" }, *pods[] = { "uid-1" };

	c.id = "0bc5eac79e3ae7a0c2651f14722aa10fa333eb2325c2ca97da33aa284cda81b0";
	c.runtime = "cri-o";
	c.name = "web";
	c.image = "registry.example/web:1.2";
	c.pod_uid = "0b7632a2-a56e-4278-987a-22de18008dbe";
	c.pod_name = "web-7d9f";
	c.pod_namespace = "shop";
	c.qos_class = "burstable";
	p.comm = "nginx";
	p.exe = "/usr/sbin/nginx";
	p.container = &c;
	ev.kind = CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_EXEC;
	ev.process = &p;
	ct_otlp_map(&ev, &rec, 1);
	CHECK_STR(sval(&rec.lr, "container.id"), c.id);
	CHECK_STR(sval(&rec.lr, "container.runtime.name"), "cri-o");
	CHECK_STR(sval(&rec.lr, "container.name"), "web");
	CHECK_STR(sval(&rec.lr, "container.image.name"), "registry.example/web:1.2");
	CHECK_STR(sval(&rec.lr, "k8s.pod.uid"), c.pod_uid);
	CHECK_STR(sval(&rec.lr, "k8s.pod.name"), "web-7d9f");
	CHECK_STR(sval(&rec.lr, "k8s.namespace.name"), "shop");
	CHECK_STR(sval(&rec.lr, "changetrace.k8s.pod.qos_class"), "burstable");
	CHECK_STR(sval(&rec.lr, "process.executable.name"), "nginx");

	c.monitor = 1;
	ct_otlp_map(&ev, &rec, 1);
	CHECK(!ct_otlp_attr(&rec.lr, "container.id"));
	CHECK_STR(sval(&rec.lr, "changetrace.container.monitor_of"), c.id);

	/* nsenter from the host into a container's namespace */
	p.container = NULL;
	other.id = "413715dc061efe71c16ef989f2f2ff5cf999a7dc905bb7078eda82cbb38210ec";
	other.name = "db";
	nc.netns_container = &other;
	nc.ruleset_after = "table inet t {\n}\n";
	ev.kind = CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_NET;
	ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_NET;
	ev.net = &nc;
	ct_otlp_map(&ev, &rec, 1);
	CHECK(!ct_otlp_attr(&rec.lr, "container.id"));
	CHECK_STR(sval(&rec.lr, "changetrace.netns.container.id"), other.id);
	CHECK_STR(sval(&rec.lr, "changetrace.netns.container.name"), "db");
	CHECK_STR(sval(&rec.lr, "changetrace.net.ruleset_after"), "table inet t {\n}\n");

	/* a deploy's times, scope, rollback plan and claims */
	d.id = "D9";
	d.status = CHANGETRACE__V1__DEPLOY_STATUS__DEPLOY_STATUS_ROLLED_BACK;
	d.start_time_unix_nano = 1700000000000000000ull;
	d.end_time_unix_nano = 1700000060000000000ull;
	d.scope = scope;
	d.n_scope = 1;
	d.rollback_plan = "helm rollback web 41";
	d.containers = ctrs;
	d.n_containers = 1;
	d.pods = pods;
	d.n_pods = 1;
	dr.deploy = &d;
	dr.action = CHANGETRACE__V1__DEPLOY_ACTION__DEPLOY_ACTION_END;
	ev.kind = CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_DEPLOY;
	ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_DEPLOY;
	ev.deploy = &dr;
	ev.process = NULL;
	ct_otlp_map(&ev, &rec, 1);
	CHECK(!ct_otlp_attr(&rec.lr, "deployment.status"));   /* not one of the enum's */
	CHECK_STR(sval(&rec.lr, "changetrace.deploy.status"), "rolled_back");
	CHECK(ival(&rec.lr, "changetrace.deploy.start_time_unix_nano") == 1700000000000000000ll);
	CHECK(ival(&rec.lr, "changetrace.deploy.end_time_unix_nano") == 1700000060000000000ll);
	CHECK_STR(ct_otlp_attr(&rec.lr, "changetrace.deploy.scope")->array_value->values[0]->string_value, "/etc/app");
	CHECK_STR(sval(&rec.lr, "changetrace.deploy.rollback_plan"), "helm rollback web 41");
	CHECK_STR(ct_otlp_attr(&rec.lr, "changetrace.deploy.containers")->array_value->values[0]->string_value, "abc");
	CHECK_STR(ct_otlp_attr(&rec.lr, "changetrace.deploy.pods")->array_value->values[0]->string_value, "uid-1");
}
