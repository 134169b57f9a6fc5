/* Deploy footprint: scope logic and grouping, with synthetic events
 * (FILE events come from the config-write probes; these stand in). */
#include <stdlib.h>
#include "unit.h"
#include "cli/deploy_footprint.h"

static PbEvent *file_event(const char *id, int op, const char *path, const char *old_path)
{
	static PbEvent ev[16];
	static Changetrace__V1__FileChange fc[16];
	static PbProcess p[16];
	static int n;
	int i = n++ % 16;

	ev[i] = (PbEvent)CHANGETRACE__V1__EVENT__INIT;
	fc[i] = (Changetrace__V1__FileChange)CHANGETRACE__V1__FILE_CHANGE__INIT;
	p[i] = (PbProcess)CHANGETRACE__V1__PROCESS__INIT;
	p[i].pid = 42;
	p[i].comm = "cp";
	fc[i].op = op;
	fc[i].path = (char *)path;
	fc[i].old_path = (char *)old_path;
	ev[i].event_id = (char *)id;
	ev[i].kind = CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_FILE;
	ev[i].time_unix_nano = 1000 + i;
	ev[i].process = &p[i];
	ev[i].detail_case = CHANGETRACE__V1__EVENT__DETAIL_FILE;
	ev[i].file = &fc[i];
	return &ev[i];
}

TEST(footprint_file_scope)
{
	char *scope[] = { "/etc/app", "/srv/*/conf" };
	PbDeploy d = CHANGETRACE__V1__DEPLOY__INIT;
	Changetrace__V1__FileChange f = CHANGETRACE__V1__FILE_CHANGE__INIT;

	d.scope = scope;
	d.n_scope = 2;
#define OUT(p, o) (f.path = (p), f.old_path = (o), ct_footprint_file_out_of_scope(&d, &f))
	CHECK(!OUT("/etc/app", NULL));              /* the scope path itself */
	CHECK(!OUT("/etc/app/a.conf", NULL));       /* under it */
	CHECK(!OUT("/etc/app/sub/dir/x", NULL));
	CHECK(OUT("/etc/application.conf", NULL));  /* a prefix is not a parent */
	CHECK(OUT("/etc/passwd", NULL));
	CHECK(!OUT("/srv/web/conf", NULL));         /* glob */
	CHECK(OUT("/srv/web/data", NULL));
	CHECK(OUT("/etc/app/x", "/etc/shadow"));    /* renamed in from outside */
	CHECK(!OUT("/etc/app/x", "/etc/app/x.tmp"));
	CHECK(!OUT("/etc/app/x", ""));
	/* no declared scope, or no deploy record: nothing is outside */
	d.n_scope = 0;
	CHECK(!OUT("/etc/passwd", NULL));
	CHECK(!ct_footprint_file_out_of_scope(NULL, &f));
#undef OUT
}

TEST(footprint_groups_and_counts)
{
	char *scope[] = { "/etc/app" };
	PbDeploy d = CHANGETRACE__V1__DEPLOY__INIT;
	struct ct_footprint fp;
	PbEvent ex = CHANGETRACE__V1__EVENT__INIT;
	PbProcess p = CHANGETRACE__V1__PROCESS__INIT;
	char *buf = NULL;
	size_t len;
	FILE *m;

	d.scope = scope;
	d.n_scope = 1;
	ct_footprint_init(&fp, &d);
	ct_footprint_add(&fp, file_event("s-1", CHANGETRACE__V1__FILE_OP__FILE_OP_WRITE, "/etc/app/a", NULL));
	ct_footprint_add(&fp, file_event("s-2", CHANGETRACE__V1__FILE_OP__FILE_OP_WRITE, "/etc/app/a", NULL));
	ct_footprint_add(&fp, file_event("s-3", CHANGETRACE__V1__FILE_OP__FILE_OP_RENAME, "/etc/app/b", "/tmp/b.new"));
	ct_footprint_add(&fp, file_event("s-4", CHANGETRACE__V1__FILE_OP__FILE_OP_UNLINK, "/etc/hosts", NULL));
	p.comm = "sh";
	ex.kind = CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_EXEC;
	ex.process = &p;
	ex.detail_case = CHANGETRACE__V1__EVENT__DETAIL_EXEC;
	ct_footprint_add(&fp, &ex);
	ct_footprint_add(&fp, &ex);
	CHECK(fp.events == 6);
	CHECK(fp.n_files == 4);
	CHECK(fp.paths.n == 3);
	CHECK(fp.files_out_of_scope == 2);   /* the rename from /tmp, /etc/hosts */
	CHECK(!fp.files[0].out_of_scope && !fp.files[1].out_of_scope);
	CHECK(fp.files[2].out_of_scope && fp.files[3].out_of_scope);
	CHECK_STR(fp.files[3].event_id, "s-4");
	CHECK(fp.execs == 2 && fp.comms.n == 1 && fp.comms.v[0].n == 2);
	m = open_memstream(&buf, &len);
	ct_footprint_print_json(m, &fp);
	fclose(m);
	CHECK(strstr(buf, "\"files\":{\"changes\":4,\"paths\":3,\"out_of_scope\":2"));
	CHECK(strstr(buf, "{\"name\":\"WRITE\",\"count\":2}"));
	CHECK(strstr(buf, "\"event_id\":\"s-4\",\"op\":\"UNLINK\",\"path\":\"/etc/hosts\""));
	CHECK(strstr(buf, "\"old_path\":\"/tmp/b.new\""));
	free(buf);
	buf = NULL;
	m = open_memstream(&buf, &len);
	ct_footprint_print_text(m, &fp, "D");
	fclose(m);
	CHECK(strstr(buf, "4 changes to 3 paths (WRITE=2 RENAME=1 UNLINK=1)"));
	CHECK(strstr(buf, "s-4 UNLINK   /etc/hosts pid=42 comm=cp OUT-OF-SCOPE"));
	CHECK(strstr(buf, "outside scope:        2 file changes, 0 network changes"));
	free(buf);
	ct_footprint_free(&fp);
}

/* Budgets count as the guard does: distinct paths, a rename's old path too. */
TEST(footprint_budget_use)
{
	struct ct_footprint fp;
	struct ct_fp_budget files = { .rule = "f", .net = false, .max = 2 };
	struct ct_fp_budget net = { .rule = "n", .net = true, .max = 2 };

	ct_footprint_init(&fp, NULL);
	ct_footprint_add(&fp, file_event("e1", CHANGETRACE__V1__FILE_OP__FILE_OP_WRITE, "/etc/a", NULL));
	ct_footprint_add(&fp, file_event("e2", CHANGETRACE__V1__FILE_OP__FILE_OP_WRITE, "/etc/a", NULL));
	CHECK(ct_footprint_budget_used(&fp, &files) == 1);
	ct_footprint_add(&fp, file_event("e3", CHANGETRACE__V1__FILE_OP__FILE_OP_RENAME, "/etc/b",
					 "/etc/b.tmp"));
	CHECK(ct_footprint_budget_used(&fp, &files) == 3);
	CHECK(ct_footprint_budget_used(&fp, &net) == 0);
	ct_footprint_free(&fp);
}
