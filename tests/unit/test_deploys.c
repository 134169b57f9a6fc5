/* Deploy registry (slots, persistence), provenance validation, git trailers. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "unit.h"
#include "lib/deploy_validate.h"
#include "store/deploys.h"
#include "collector/event.h"
#include "cli/git_provenance.h"

static PbDeploy mk(const char *id)
{
	PbDeploy d = CHANGETRACE__V1__DEPLOY__INIT;

	d.id = (char *)id;
	return d;
}

TEST(registry_slots_and_merge)
{
	PbDeploy a = mk("a-1"), b = mk("b-1"), a2 = mk("a-1");
	struct ct_deploy *ea, *eb, *ek;

	ct_deploys_free();
	a.author = "alice";
	ea = ct_deploys_upsert(&a, true);
	eb = ct_deploys_upsert(&b, true);
	CHECK(ea && eb && ea->slot == 1 && eb->slot == 2);
	a2.ticket = "T-1";
	CHECK(ct_deploys_upsert(&a2, true) == ea);
	CHECK_STR(ea->pb->author, "alice");
	CHECK_STR(ea->pb->ticket, "T-1");
	/* kernel-assigned slots are adopted at their number, once */
	ek = ct_deploys_adopt("env-x", CT_KSLOT_FIRST + 3);
	CHECK(ek && ek->slot == CT_KSLOT_FIRST + 3 && !ek->registered && ek->pb->unregistered);
	CHECK(ct_deploys_adopt("env-y", CT_KSLOT_FIRST + 3) == NULL);
	CHECK(ct_deploys_adopt("env-x", CT_KSLOT_FIRST + 3) == ek);
	CHECK(ct_deploys_adopt("env-z", CT_DEPLOY_SLOTS) == NULL);
	CHECK(ct_deploys_max_kslot() == CT_KSLOT_FIRST + 3);
	CHECK(ct_deploys_by_slot(0) == NULL && ct_deploys_by_slot(99) == NULL);
	CHECK(ct_deploys_count() == 3);
	ct_deploys_free();
}

TEST(registry_save_load_keeps_slots)
{
	char dir[] = "/tmp/ct-unit-XXXXXX", path[64], err[256];
	PbDeploy a = mk("keep-a"), b = mk("keep-b");
	char *appr[] = { "bob", "carol" };

	CHECK(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/deploys.pb", dir);
	CHECK(ct_deploys_load(path, err, sizeof(err)) == 1);	/* no file */
	ct_deploys_free();
	a.n_approved_by = 2;
	a.approved_by = appr;
	CHECK(ct_deploys_upsert(&a, true));
	CHECK(ct_deploys_upsert(&b, true));
	CHECK(ct_deploys_adopt("keep-env", CT_KSLOT_FIRST));
	CHECK(ct_deploys_save(path, err, sizeof(err)) == 0);
	ct_deploys_free();
	CHECK(ct_deploys_load(path, err, sizeof(err)) == 0);
	CHECK(ct_deploys_count() == 3);
	CHECK(ct_deploys_find("keep-b")->slot == 2);
	CHECK(ct_deploys_find("keep-a")->pb->n_approved_by == 2);
	CHECK(!ct_deploys_find("keep-env")->registered);
	CHECK(ct_deploys_find("keep-env")->slot == CT_KSLOT_FIRST);
	/* a new deploy takes the first free slot, not a used one */
	PbDeploy c = mk("keep-c");
	CHECK(ct_deploys_upsert(&c, true)->slot == 3);
	/* garbage is refused with a message, registry left empty */
	FILE *f = fopen(path, "w");
	CHECK(f);
	fputs("\x12\xff\xff\xff garbage", f);
	fclose(f);
	CHECK(ct_deploys_load(path, err, sizeof(err)) == -1);
	CHECK(strstr(err, path) != NULL);
	CHECK(ct_deploys_count() == 0);
	unlink(path);
	rmdir(dir);
}

TEST(validate_deploy_fields)
{
	PbDeploy d = mk("ok");
	PbAiProvenance ai = CHANGETRACE__V1__AI_PROVENANCE__INIT;

	CHECK(ct_validate_deploy(&d) == NULL);
	d.ai = &ai;
	ai.prompt_digest = "abc";
	CHECK(ct_validate_deploy(&d) != NULL);
	ai.prompt_digest = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	CHECK(ct_validate_deploy(&d) == NULL);
	ai.prompt_digest = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
	CHECK(ct_validate_deploy(&d) != NULL);
	ai.prompt_digest = "";
	d.risk = 7;
	CHECK(ct_validate_deploy(&d) != NULL);
	d.risk = 0;
	d.author = "a\tb";
	CHECK(ct_validate_deploy(&d) != NULL);
	d.author = "";
	d.id = "bad id";
	CHECK(ct_validate_deploy(&d) != NULL);
}

TEST(git_trailers)
{
	struct ct_git_prov g = {};

	ct_git_parse_message(
		"Subject\n\nBody mentions Reviewed-by: nobody in prose.\n\n"
		"Co-authored-by: Jane Human <jane@example.com>\n"
		"Co-authored-by: Claude <noreply@anthropic.com>\n"
		"Reviewed-by: Frank <f@x>\nApproved-by: Grace <g@x>\nReviewed-by: Frank <f@x>\n"
		"Ticket: OPS-1\nAI-Session: s-9\n", &g);
	CHECK(g.ai);
	CHECK_STR(g.ai_tool, "claude");
	CHECK(g.n_approvers == 2);
	CHECK_STR(g.approvers[0], "Frank <f@x>");
	CHECK_STR(g.approvers[1], "Grace <g@x>");
	CHECK_STR(g.ticket, "OPS-1");
	CHECK_STR(g.ai_session, "s-9");

	memset(&g, 0, sizeof(g));
	ct_git_parse_message("S\n\nAssisted-by: Claude:claude-3-opus coccinelle sparse\n", &g);
	CHECK(g.ai);
	CHECK_STR(g.ai_tool, "Claude");
	CHECK_STR(g.ai_model, "claude-3-opus");

	memset(&g, 0, sizeof(g));
	ct_git_parse_message("S\n\nGenerated-by: Cursor (gpt-5) <a@b>\n", &g);
	CHECK_STR(g.ai_tool, "Cursor");
	CHECK_STR(g.ai_model, "gpt-5");

	/* trailers only count in the last paragraph; a subject is not one */
	memset(&g, 0, sizeof(g));
	ct_git_parse_message("Assisted-by: x\n", &g);
	CHECK(!g.ai);
	memset(&g, 0, sizeof(g));
	ct_git_parse_message("S\n\nCo-authored-by: Jane <jane@example.com>\n", &g);
	CHECK(!g.ai);
}

TEST(git_ai_coauthors)
{
	CHECK_STR(ct_git_ai_coauthor("Copilot <175728472+Copilot@users.noreply.github.com>"), "copilot");
	CHECK_STR(ct_git_ai_coauthor("Cursor Agent <cursoragent@cursor.com>"), "cursor");
	CHECK_STR(ct_git_ai_coauthor("aider (gpt-4o) <noreply@aider.chat>"), "aider");
	CHECK_STR(ct_git_ai_coauthor("Devin AI <158243242+devin-ai-integration[bot]@users.noreply.github.com>"), "devin");
	CHECK_STR(ct_git_ai_coauthor("gemini-code-assist[bot] <x@y>"), "gemini");
	CHECK_STR(ct_git_ai_coauthor("ChatGPT <x@y>"), "openai");
	CHECK_STR(ct_git_ai_coauthor("Claude"), "claude");
	CHECK(ct_git_ai_coauthor("Claude Dupont <claude.dupont@example.fr>") == NULL);
	CHECK(ct_git_ai_coauthor("Devin Smith <devin@example.com>") == NULL);
	CHECK(ct_git_ai_coauthor("Jane <jane@example.com>") == NULL);
}

TEST(git_strip_credentials)
{
	char a[] = "https://user:tok@host.example/org/r.git", b[] = "git@host:org/r.git",
	     c[] = "https://host/a@b";

	ct_git_strip_credentials(a);
	ct_git_strip_credentials(b);
	ct_git_strip_credentials(c);
	CHECK_STR(a, "https://host.example/org/r.git");
	CHECK_STR(b, "git@host:org/r.git");
	CHECK_STR(c, "https://host/a@b");
}

/* A record naming a slot the registry does not know asks the collector's
 * hook first (the agent names it from the kernel's id map). */
static int hook_calls;

static void name_slot(void *owner, uint32_t slot)
{
	hook_calls++;
	ct_deploys_adopt((const char *)owner, slot);
}

TEST(unknown_slot_is_named_through_hook)
{
	static struct ct_event_buf buf;
	struct ct_collector c;
	struct ct_exit_event e = {};

	ct_deploys_free();
	ct_collector_init(&c);
	c.slot_unknown = name_slot;
	c.owner = "late-env-id";
	e.hdr.kind = CT_KIND_EXIT;
	e.hdr.size = sizeof(e);
	e.task.pid = 4242;
	e.task.attr.deploy_slot = CT_KSLOT_FIRST + 7;
	e.task.attr.method = CT_ATTR_ENVIRONMENT;
	CHECK(ct_event_from_record(&c, &e, sizeof(e), &buf) == 0);
	CHECK(hook_calls == 1);
	CHECK_STR(buf.ev.attribution->deploy_id, "late-env-id");
	CHECK(buf.ev.attribution->unregistered);
	CHECK(!buf.ev.attribution->drift);
	/* known now: no second call */
	CHECK(ct_event_from_record(&c, &e, sizeof(e), &buf) == 0);
	CHECK(hook_calls == 1);
	ct_deploys_free();
}
