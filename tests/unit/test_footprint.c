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

static PbEvent *net_event(int sub, int op, const char *type, const char *table,
			  const char *dest, const char *dev, const char *rule, uint64_t handle,
			  const char *netns)
{
	static PbEvent ev[16];
	static PbNetPolicyChange nc[16];
	static int n;
	int i = n++ % 16;

	ev[i] = (PbEvent)CHANGETRACE__V1__EVENT__INIT;
	nc[i] = (PbNetPolicyChange)CHANGETRACE__V1__NET_POLICY_CHANGE__INIT;
	nc[i].subsystem = sub;
	nc[i].op = op;
	nc[i].object_type = (char *)type;
	nc[i].family = "inet";
	nc[i].table = (char *)table;
	nc[i].chain = sub == CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_NFTABLES ? "in" : "";
	nc[i].destination = (char *)dest;
	nc[i].device = (char *)dev;
	nc[i].rule = (char *)rule;
	nc[i].handle = handle;
	nc[i].netns_name = (char *)netns;
	nc[i].netns_inode = 4026530000u;
	ev[i].kind = CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_NET;
	ev[i].detail_case = CHANGETRACE__V1__EVENT__DETAIL_NET;
	ev[i].net = &nc[i];
	return &ev[i];
}

/* Routes, addresses and rules are named by what identifies them, in
 * their namespace; --json carries the parts. */
TEST(footprint_names_network_objects)
{
	struct ct_footprint fp;
	char *buf = NULL;
	size_t len;
	FILE *m;
#define SUB(x) CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_##x
#define OP(x) CHANGETRACE__V1__NET_OP__NET_OP_##x

	ct_footprint_init(&fp, NULL);
	ct_footprint_add(&fp, net_event(SUB(ROUTE), OP(ADD), "route", "main", "198.51.100.0/24", "", "", 0, "ns1"));
	ct_footprint_add(&fp, net_event(SUB(ROUTE), OP(DELETE), "route", "main", "198.51.100.0/24", "", "", 0, "ns1"));
	ct_footprint_add(&fp, net_event(SUB(ROUTE), OP(ADD), "route", "main", "198.51.100.0/24", "", "", 0, "ns2"));
	ct_footprint_add(&fp, net_event(SUB(ROUTE), OP(ADD), "route", "100", "default", "", "", 0, "ns1"));
	ct_footprint_add(&fp, net_event(SUB(ADDRESS), OP(ADD), "address", "", "192.0.2.10/24", "ctv0", "", 0, "ns1"));
	ct_footprint_add(&fp, net_event(SUB(NFTABLES), OP(ADD), "rule", "t", "", "", "tcp dport 22 accept", 0, "ns1"));
	ct_footprint_add(&fp, net_event(SUB(NFTABLES), OP(DELETE), "rule", "t", "", "", "tcp dport 22 accept", 7, "ns1"));
	ct_footprint_add(&fp, net_event(SUB(NFTABLES), OP(DELETE), "rule", "t", "", "", "", 9, "ns1"));
	ct_footprint_add(&fp, net_event(SUB(NFTABLES), OP(ADD), "chain", "t", "", "", "", 0, ""));
	CHECK(fp.net == 9);
	CHECK(fp.net_objects.n == 7);      /* one route in two namespaces is two */
	CHECK(fp.budget_net.n == 4);       /* the guard's names: no namespace, a rule is its chain */
	m = open_memstream(&buf, &len);
	ct_footprint_print_json(m, &fp);
	fclose(m);
	CHECK(strstr(buf, "{\"name\":\"route:main/198.51.100.0/24 route\",\"count\":2,"
			  "\"ops\":{\"ADD\":1,\"DELETE\":1},\"out_of_scope\":false,\"netns\":\"ns1\","
			  "\"subsystem\":\"ROUTE\",\"family\":\"inet\",\"table\":\"main\","
			  "\"destination\":\"198.51.100.0/24\"}"));
	CHECK(strstr(buf, "\"name\":\"route:main/198.51.100.0/24 route\",\"count\":1,"
			  "\"ops\":{\"ADD\":1},\"out_of_scope\":false,\"netns\":\"ns2\""));
	CHECK(strstr(buf, "\"name\":\"route:100/default route\""));
	CHECK(strstr(buf, "\"name\":\"addr:ctv0/192.0.2.10/24 address\""));
	CHECK(strstr(buf, "\"device\":\"ctv0\""));
	CHECK(strstr(buf, "{\"name\":\"nft:inet/t/in rule tcp dport 22 accept\",\"count\":2,"));
	CHECK(strstr(buf, "\"rule\":\"tcp dport 22 accept\""));
	CHECK(strstr(buf, "{\"name\":\"nft:inet/t/in rule handle 9\",\"count\":1,"));
	CHECK(strstr(buf, "\"handle\":9"));
	CHECK(strstr(buf, "\"netns\":\"4026530000\""));   /* no name: its inode */
	free(buf);
	buf = NULL;
	m = open_memstream(&buf, &len);
	ct_footprint_print_text(m, &fp, "D");
	fclose(m);
	CHECK(strstr(buf, "network changes:      9 in 7 objects"));
	CHECK(strstr(buf, "    route:main/198.51.100.0/24 route         2 (ADD=1 DELETE=1) netns ns1\n"));
	CHECK(strstr(buf, "route:main/198.51.100.0/24 route         1 (ADD=1) netns ns2\n"));
	free(buf);
	ct_footprint_free(&fp);
#undef SUB
#undef OP
}
