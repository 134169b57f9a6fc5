#include <stdlib.h>
#include "unit.h"
#include "store/deploys.h"
#include "collector/event.h"
#include "export/pb_json.h"
#include "collector/proc_cache.h"

static struct ct_event_buf buf;

TEST(record_too_short_is_rejected)
{
	struct ct_collector c;
	struct ct_exec_event e = {};

	ct_collector_init(&c);
	e.hdr.kind = CT_KIND_EXEC;
	e.hdr.size = sizeof(e);
	CHECK(ct_event_from_record(&c, &e, 3, &buf) == -1);
	CHECK(ct_event_from_record(&c, &e, sizeof(e) - 1, &buf) == -1);
	e.hdr.kind = 999;
	CHECK(ct_event_from_record(&c, &e, sizeof(e), &buf) == -1);
	e.hdr.kind = CT_KIND_EXEC;
	e.hdr.size = sizeof(e) + 100; /* claims more than was delivered */
	CHECK(ct_event_from_record(&c, &e, sizeof(e), &buf) == -1);
}

TEST(exec_record_decodes_with_attribution)
{
	struct ct_collector c;
	struct ct_exec_event *e = calloc(1, sizeof(*e));
	PbDeploy d = CHANGETRACE__V1__DEPLOY__INIT;
	PbAiProvenance ai = CHANGETRACE__V1__AI_PROVENANCE__INIT;
	struct ct_deploy *dep;

	ct_collector_init(&c);
	c.proc_root = "/nonexistent";
	ct_proc_cache_init(16);
	d.id = "dep-x";
	ai.ai_assisted = 1;
	d.ai = &ai;
	dep = ct_deploys_upsert(&d, true);
	CHECK(dep && dep->slot >= 1);

	e->hdr.kind = CT_KIND_EXEC;
	e->hdr.size = sizeof(*e);
	e->task.pid = 4000;
	e->task.ppid = 3999;
	memcpy(e->task.comm, "0123456789abcdef", 16); /* no NUL: must not overrun */
	e->task.attr.deploy_slot = dep->slot;
	e->task.attr.method = CT_ATTR_WRAPPER;
	e->task.attr.inherited = 1;
	e->task.attr.depth = 3;
	strcpy(e->filename, "./run.sh");
	memcpy(e->args, "run.sh\0x y\0", 11);
	e->args_len = 11;
	e->lineage_len = 200; /* hostile: more than the array holds */
	CHECK(ct_event_from_record(&c, e, sizeof(*e), &buf) == 0);
	CHECK(buf.ev.kind == CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_EXEC);
	CHECK_STR(buf.ev.process->comm, "0123456789abcdef");
	CHECK_STR(buf.ev.attribution->deploy_id, "dep-x");
	CHECK(buf.ev.attribution->method == CHANGETRACE__V1__ATTRIBUTION_METHOD__ATTRIBUTION_INHERITED);
	CHECK(buf.ev.attribution->depth == 3);
	CHECK(buf.ev.attribution->ai_assisted);
	CHECK(!buf.ev.attribution->drift);
	CHECK(buf.ev.process->n_argv == 2);
	CHECK_STR(buf.ev.process->argv[1], "x y");
	CHECK(buf.ev.process->n_lineage == CT_LINEAGE_MAX);
	CHECK(buf.ev.seq == 1);

	/* an unknown slot is drift, not a crash */
	e->task.attr.deploy_slot = 1000;
	CHECK(ct_event_from_record(&c, e, sizeof(*e), &buf) == 0);
	CHECK(buf.ev.attribution->drift);
	CHECK(buf.ev.seq == 2);
	free(e);
	ct_deploys_free();
	ct_proc_cache_free();
}

TEST(json_writer_escapes_and_omits_defaults)
{
	PbAttribution a = CHANGETRACE__V1__ATTRIBUTION__INIT;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	a.deploy_id = "x\"y\n\x01";
	a.method = CHANGETRACE__V1__ATTRIBUTION_METHOD__ATTRIBUTION_ENVIRONMENT;
	ct_pb_json_write(f, &a.base);
	fclose(f);
	CHECK_STR(out, "{\"deploy_id\":\"x\\\"y\\n\\u0001\",\"method\":\"ENVIRONMENT\"}");
	free(out);
}

TEST(deploy_upsert_merges_and_bounds)
{
	PbDeploy d = CHANGETRACE__V1__DEPLOY__INIT, d2 = CHANGETRACE__V1__DEPLOY__INIT;
	struct ct_deploy *a, *b;

	ct_deploys_free();
	d.id = "m1";
	d.author = "alice";
	a = ct_deploys_upsert(&d, false);
	CHECK(a && !a->registered);
	d2.id = "m1";
	d2.ticket = "T-1";
	b = ct_deploys_upsert(&d2, true);
	CHECK(b == a);
	CHECK(b->registered);
	CHECK_STR(b->pb->author, "alice");
	CHECK_STR(b->pb->ticket, "T-1");
	CHECK(ct_deploys_find("m1") == a);
	CHECK(ct_deploys_by_slot(a->slot) == a);
	CHECK(ct_deploys_by_slot(0) == NULL);
	CHECK(ct_deploys_by_slot(5000) == NULL);
	char id[32];
	size_t n = 1;
	for (int i = 0; i < CT_DEPLOY_SLOTS + 5; i++) {
		snprintf(id, sizeof(id), "fill-%d", i);
		d.id = id;
		if (ct_deploys_upsert(&d, true))
			n++;
	}
	CHECK(n == CT_KSLOT_FIRST - 1);	/* the rest is for kernel-assigned env ids */
	ct_deploys_free();
}
