/* The last known state (journal, snapshot) and the start-up comparison's
 * verdicts, without a kernel. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"
#include "export/format.h"
#include "store/last_state.h"
#include "export/otlp_map.h"
#include "guard/policy.h"
#include "store/store.h"
#include "collector/unobserved.h"
#include "collector/unobserved_net.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static struct ct_known_file kfile(const char *path, const char *sha, uint32_t mode)
{
	struct ct_known_file k = { .path = (char *)path, .mode = mode, .ino = 7, .size = 10,
				   .mtime_ns = 100, .uid = 0, .gid = 0 };

	snprintf(k.sha256, sizeof(k.sha256), "%s", sha);
	return k;
}

TEST(unobserved_file_op_verdicts)
{
	struct ct_known_file b = kfile("/w/a", SHA_A, S_IFREG | 0644), a = b;

	CHECK(ct_unobserved_file_op(&b, &a, 1 << 20) == 0);	/* unchanged: no event */
	a.ino = 8;
	a.mtime_ns = 200;
	CHECK(ct_unobserved_file_op(&b, &a, 1 << 20) == 0);	/* same bytes, new inode */
	snprintf(a.sha256, sizeof(a.sha256), "%s", SHA_B);
	CHECK(ct_unobserved_file_op(&b, &a, 1 << 20) == CHANGETRACE__V1__FILE_OP__FILE_OP_WRITE);
	a = b;
	a.mode = S_IFREG | 0600;
	CHECK(ct_unobserved_file_op(&b, &a, 1 << 20) == CHANGETRACE__V1__FILE_OP__FILE_OP_CHMOD);
	a = b;
	a.uid = 1000;
	CHECK(ct_unobserved_file_op(&b, &a, 1 << 20) == CHANGETRACE__V1__FILE_OP__FILE_OP_CHOWN);
	CHECK(ct_unobserved_file_op(NULL, &a, 1 << 20) == CHANGETRACE__V1__FILE_OP__FILE_OP_CREATE);
	CHECK(ct_unobserved_file_op(&b, NULL, 1 << 20) == CHANGETRACE__V1__FILE_OP__FILE_OP_UNLINK);
	/* a regular file replaced by a symlink; a symlink pointed elsewhere */
	a = kfile("/w/a", "", S_IFLNK | 0777);
	a.link = "/etc/shadow";
	CHECK(ct_unobserved_file_op(&b, &a, 1 << 20) == CHANGETRACE__V1__FILE_OP__FILE_OP_SYMLINK);
	b = a;
	CHECK(ct_unobserved_file_op(&b, &a, 1 << 20) == 0);
	b.link = "/etc/passwd";
	CHECK(ct_unobserved_file_op(&b, &a, 1 << 20) == CHANGETRACE__V1__FILE_OP__FILE_OP_SYMLINK);
	CHECK(ct_unobserved_file_op(NULL, &a, 1 << 20) == CHANGETRACE__V1__FILE_OP__FILE_OP_SYMLINK);
}

TEST(unobserved_large_files_by_size_mtime_inode)
{
	struct ct_known_file b = kfile("/w/big", "", S_IFREG | 0644), a = b;

	CHECK(ct_unobserved_file_op(&b, &a, 4) == 0);
	a.mtime_ns++;
	CHECK(ct_unobserved_file_op(&b, &a, 4) == CHANGETRACE__V1__FILE_OP__FILE_OP_WRITE);
	a = b;
	a.ino++;
	CHECK(ct_unobserved_file_op(&b, &a, 4) == CHANGETRACE__V1__FILE_OP__FILE_OP_WRITE);
	a = b;
	a.size++;
	CHECK(ct_unobserved_file_op(&b, &a, 4) == CHANGETRACE__V1__FILE_OP__FILE_OP_WRITE);
	/* digested before, too large now: grown */
	b = kfile("/w/big", SHA_A, S_IFREG | 0644);
	a = kfile("/w/big", "", S_IFREG | 0644);
	a.size = 100;
	CHECK(ct_unobserved_file_op(&b, &a, 50) == CHANGETRACE__V1__FILE_OP__FILE_OP_WRITE);
	/* no digest known before (one that raced), one now: nothing to compare */
	CHECK(ct_unobserved_file_op(&a, &b, 50) == 0);
}

TEST(unobserved_sysctl_compares_values_only)
{
	struct ct_known_file b = kfile("/proc/sys/net/ipv4/ip_forward", SHA_A, S_IFREG | 0644), a = b;

	a.ino = 99;
	a.mtime_ns = 5;
	CHECK(ct_unobserved_file_op(&b, &a, 1 << 20) == 0);
	snprintf(a.sha256, sizeof(a.sha256), "%s", SHA_B);
	CHECK(ct_unobserved_file_op(&b, &a, 1 << 20) == CHANGETRACE__V1__FILE_OP__FILE_OP_SYSCTL);
	CHECK(ct_unobserved_sysctl_volatile("/proc/sys/kernel/ns_last_pid"));
	CHECK(!ct_unobserved_sysctl_volatile("/proc/sys/net/ipv4/ip_forward"));
}

static void file_event(PbEvent *ev, PbFileChange *f, int op, const char *path, const char *old,
		       const char *sha, uint32_t mode)
{
	*ev = (PbEvent)CHANGETRACE__V1__EVENT__INIT;
	*f = (PbFileChange)CHANGETRACE__V1__FILE_CHANGE__INIT;
	ev->kind = CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_FILE;
	ev->detail_case = CHANGETRACE__V1__EVENT__DETAIL_FILE;
	ev->file = f;
	f->op = op;
	f->path = (char *)path;
	f->old_path = (char *)(old ? old : "");
	f->sha256_after = (char *)(sha ? sha : "");
	f->size_after = 3;
	f->mode = mode;
	f->inode = 11;
	f->mtime_unix_nano = 1234;
}

TEST(last_state_follows_events)
{
	struct ct_last_state s;
	PbEvent ev;
	PbFileChange f;
	struct ct_known_file *k;

	ct_last_state_init(&s);
	file_event(&ev, &f, CHANGETRACE__V1__FILE_OP__FILE_OP_CREATE, "/w/a.conf", NULL, SHA_A,
		   S_IFREG | 0644);
	CHECK(ct_last_state_apply(&s, &ev));
	CHECK((k = ct_last_state_file(&s, "/w/a.conf")) && !strcmp(k->sha256, SHA_A) &&
	      k->mtime_ns == 1234 && k->ino == 11);
	/* metadata keeps the content */
	file_event(&ev, &f, CHANGETRACE__V1__FILE_OP__FILE_OP_CHMOD, "/w/a.conf", NULL, NULL,
		   S_IFREG | 0600);
	CHECK(ct_last_state_apply(&s, &ev));
	CHECK((k = ct_last_state_file(&s, "/w/a.conf")) && k->mode == (S_IFREG | 0600) &&
	      !strcmp(k->sha256, SHA_A));
	/* a temp file renamed over it */
	file_event(&ev, &f, CHANGETRACE__V1__FILE_OP__FILE_OP_RENAME, "/w/a.conf", "/w/.tmp1", SHA_B,
		   S_IFREG | 0644);
	ct_last_state_apply(&s, &ev);
	CHECK((k = ct_last_state_file(&s, "/w/a.conf")) && !strcmp(k->sha256, SHA_B));
	CHECK(!ct_last_state_file(&s, "/w/.tmp1"));
	/* a hard link has its content; a symlink its target */
	file_event(&ev, &f, CHANGETRACE__V1__FILE_OP__FILE_OP_LINK, "/w/b.conf", "/w/a.conf", NULL,
		   S_IFREG | 0644);
	ct_last_state_apply(&s, &ev);
	CHECK((k = ct_last_state_file(&s, "/w/b.conf")) && !strcmp(k->sha256, SHA_B));
	file_event(&ev, &f, CHANGETRACE__V1__FILE_OP__FILE_OP_SYMLINK, "/w/l", "../x", NULL,
		   S_IFLNK | 0777);
	ct_last_state_apply(&s, &ev);
	CHECK((k = ct_last_state_file(&s, "/w/l")) && k->link && !strcmp(k->link, "../x"));
	/* a directory renamed: everything under it moves */
	file_event(&ev, &f, CHANGETRACE__V1__FILE_OP__FILE_OP_RENAME, "/v", "/w", NULL,
		   S_IFDIR | 0755);
	ct_last_state_apply(&s, &ev);
	CHECK(!ct_last_state_file(&s, "/w/a.conf") && ct_last_state_file(&s, "/v/a.conf") &&
	      ct_last_state_file(&s, "/v/l") && ct_last_state_file(&s, "/v/l")->link);
	CHECK(s.n_files == 3);
	file_event(&ev, &f, CHANGETRACE__V1__FILE_OP__FILE_OP_UNLINK, "/v/a.conf", NULL, NULL, 0);
	CHECK(ct_last_state_apply(&s, &ev));
	CHECK(!ct_last_state_file(&s, "/v/a.conf") && s.n_files == 2);
	/* a sysctl that could not be read has no digest: nothing known */
	file_event(&ev, &f, CHANGETRACE__V1__FILE_OP__FILE_OP_SYSCTL, "/proc/sys/net/x", NULL, NULL,
		   S_IFREG | 0644);
	CHECK(!ct_last_state_apply(&s, &ev));
	/* a net.* value written in another namespace is that namespace's */
	{
		PbProcess proc = CHANGETRACE__V1__PROCESS__INIT;

		s.own_net_ns = 5;
		file_event(&ev, &f, CHANGETRACE__V1__FILE_OP__FILE_OP_SYSCTL, "/proc/sys/net/x", NULL,
			   SHA_B, S_IFREG | 0644);
		ev.process = &proc;
		proc.net_ns = 6;
		CHECK(!ct_last_state_apply(&s, &ev));
		proc.net_ns = 5;
		CHECK(ct_last_state_apply(&s, &ev));
		CHECK(!strcmp(ct_last_state_file(&s, "/proc/sys/net/x")->sha256, SHA_B));
	}
	/* a name that is not UTF-8 is kept as the bytes on disk (raw_strings),
	 * the one the walk finds, not as its repaired text */
	{
		Changetrace__V1__RawString raw = CHANGETRACE__V1__RAW_STRING__INIT, *rp = &raw;

		file_event(&ev, &f, CHANGETRACE__V1__FILE_OP__FILE_OP_WRITE, "/v/\xef\xbf\xbd.conf", NULL,
			   SHA_A, S_IFREG | 0644);
		raw.field = "file.path";
		raw.value.data = (uint8_t *)"/v/\xff.conf";
		raw.value.len = strlen("/v/\xff.conf");
		ev.n_raw_strings = 1;
		ev.raw_strings = &rp;
		CHECK(ct_last_state_apply(&s, &ev));
		CHECK(ct_last_state_file(&s, "/v/\xff.conf") && !ct_last_state_file(&s, "/v/\xef\xbf\xbd.conf"));
		file_event(&ev, &f, CHANGETRACE__V1__FILE_OP__FILE_OP_UNLINK, "/v/\xef\xbf\xbd.conf", NULL, NULL, 0);
		ev.n_raw_strings = 1;
		ev.raw_strings = &rp;
		CHECK(ct_last_state_apply(&s, &ev));
		CHECK(!ct_last_state_file(&s, "/v/\xff.conf"));
	}
	/* a relative path from a damaged store is refused */
	file_event(&ev, &f, CHANGETRACE__V1__FILE_OP__FILE_OP_WRITE, "rel", NULL, SHA_A, S_IFREG);
	CHECK(!ct_last_state_apply(&s, &ev));
	ct_last_state_free(&s);
}

static void net_event(PbEvent *ev, PbNetPolicyChange *n, uint32_t inode, const char *name,
		      const char *after, unsigned idx)
{
	*ev = (PbEvent)CHANGETRACE__V1__EVENT__INIT;
	*n = (PbNetPolicyChange)CHANGETRACE__V1__NET_POLICY_CHANGE__INIT;
	ev->kind = CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_NET;
	ev->detail_case = CHANGETRACE__V1__EVENT__DETAIL_NET;
	ev->net = n;
	n->subsystem = CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_NFTABLES;
	n->netns_inode = inode;
	n->netns_name = (char *)name;
	n->ruleset_after = (char *)after;
	n->batch_index = idx;
}

TEST(last_state_follows_rulesets)
{
	struct ct_last_state s;
	PbEvent ev;
	PbNetPolicyChange n;

	ct_last_state_init(&s);
	ct_last_state_set_ruleset(&s, "host", 42, "nft", "old");
	/* the acting process's namespace, unnamed: found by inode */
	net_event(&ev, &n, 42, "", "table inet t {\n}\n", 0);
	CHECK(ct_last_state_apply(&s, &ev));
	CHECK_STR(ct_last_state_ruleset(&s, "host", "nft")->text, "table inet t {\n}\n");
	/* later objects of a request carry no ruleset */
	net_event(&ev, &n, 42, "", "", 1);
	CHECK(!ct_last_state_apply(&s, &ev));
	/* a listing that failed: not known (no stale text to compare with) */
	net_event(&ev, &n, 42, "", "", 0);
	CHECK(ct_last_state_apply(&s, &ev));
	CHECK(!ct_last_state_ruleset(&s, "host", "nft")->text);
	/* a namespace not followed */
	net_event(&ev, &n, 77, "", "x", 0);
	CHECK(!ct_last_state_apply(&s, &ev));
	ct_last_state_free(&s);
}

TEST(last_state_legacy_tables_join_split_splice)
{
	const char *fam[] = { "ip", "ip6" }, *tab[] = { "filter", "filter" };
	const char *txt[] = { "*filter\n:INPUT ACCEPT\nCOMMIT\n", "*filter\n:INPUT DROP\nCOMMIT" };
	struct ct_ruleset_part p[4];
	char *all = ct_legacy_join(2, fam, tab, txt, 1 << 16), *next;
	struct ct_last_state s;
	PbEvent ev;
	PbNetPolicyChange n;

	CHECK(all);
	CHECK_STR(all, "# ip filter\n*filter\n:INPUT ACCEPT\nCOMMIT\n# ip6 filter\n*filter\n:INPUT DROP\nCOMMIT\n");
	CHECK(ct_legacy_split(all, p, 4) == 2);
	CHECK_STR(p[1].family, "ip6");
	CHECK(p[0].len == strlen("# ip filter\n*filter\n:INPUT ACCEPT\nCOMMIT\n"));
	/* one table's new text put in, another added in order */
	next = ct_legacy_splice(all, "ip", "filter", "*filter\n:INPUT ACCEPT\n-A INPUT -j DROP\nCOMMIT\n", 1 << 16);
	CHECK(next && strstr(next, "-A INPUT -j DROP") && strstr(next, ":INPUT DROP"));
	free(all);
	all = ct_legacy_splice(next, "ip", "nat", "*nat\nCOMMIT\n", 1 << 16);
	free(next);
	CHECK(all && ct_legacy_split(all, p, 4) == 3);
	CHECK_STR(p[1].name, "nat");
	/* the journal: a live legacy change carries its one table */
	ct_last_state_init(&s);
	ct_last_state_set_ruleset(&s, "host", 42, "iptables-legacy", all);
	net_event(&ev, &n, 42, "", "*nat\n-A POSTROUTING -j MASQUERADE\nCOMMIT\n", 0);
	n.subsystem = CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_IPTABLES_LEGACY;
	n.family = "ip";
	n.table = "nat";
	CHECK(ct_last_state_apply(&s, &ev));
	next = ct_last_state_ruleset(&s, "host", "iptables-legacy")->text;
	CHECK(next && strstr(next, "# ip nat\n*nat\n-A POSTROUTING -j MASQUERADE") &&
	      strstr(next, "# ip6 filter"));
	free(all);
	ct_last_state_free(&s);
}

TEST(last_state_snapshot_round_trip_and_damage)
{
	char dir[] = "/tmp/ct-unit-state.XXXXXX", path[256], err[512];
	struct ct_last_state s, l;
	struct ct_known_file *k;
	char *roots[] = { "/w", "/etc" };
	int fd;

	CHECK(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/last_state.pb", dir);
	ct_last_state_init(&s);
	ct_last_state_init(&l);
	CHECK(ct_last_state_load(&l, path, err, sizeof(err)) == 1);	/* none yet */
	for (int i = 0; i < 3000; i++) {
		char p[64];

		snprintf(p, sizeof(p), "/w/f%d", i);
		k = ct_last_state_file_put(&s, p);
		CHECK(k);
		k->mode = S_IFREG | 0640;
		k->size = i;
		snprintf(k->sha256, sizeof(k->sha256), "%s", SHA_A);
	}
	k = ct_last_state_file_put(&s, "/w/link");
	k->mode = S_IFLNK | 0777;
	ct_last_state_set_link(k, "target");
	ct_last_state_set_ruleset(&s, "host", 5, "nft", "table ip x {\n}\n");
	ct_last_state_set_roots(&s, roots, 2);
	snprintf(s.store_id, sizeof(s.store_id), "0123456789abcdef");
	s.seq = 99;
	CHECK(ct_last_state_save(&s, path, err, sizeof(err)) == 0);
	CHECK(access(path, F_OK) == 0);
	CHECK(ct_last_state_load(&l, path, err, sizeof(err)) == 0);
	CHECK(l.n_files == 3001 && l.seq == 99 && !strcmp(l.store_id, "0123456789abcdef"));
	CHECK((k = ct_last_state_file(&l, "/w/f2999")) && k->size == 2999 && !strcmp(k->sha256, SHA_A));
	CHECK((k = ct_last_state_file(&l, "/w/link")) && k->link && !strcmp(k->link, "target"));
	CHECK_STR(ct_last_state_ruleset(&l, "host", "nft")->text, "table ip x {\n}\n");
	CHECK(l.n_roots == 2 && ct_last_state_under_roots(&l, "/etc/ssh/sshd_config") &&
	      !ct_last_state_under_roots(&l, "/etcetera/x") && ct_last_state_under_roots(&l, "/w"));
	/* damaged: refused, the state stays empty */
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && write(fd, "\x0a\xff\xff\xff", 4) == 4);
	close(fd);
	CHECK(ct_last_state_load(&l, path, err, sizeof(err)) == -1);
	CHECK(l.n_files == 0 && strlen(err) > 0);
	/* a relative path inside: refused */
	ct_last_state_file_put(&s, "relative");
	CHECK(ct_last_state_save(&s, path, err, sizeof(err)) == 0);
	CHECK(ct_last_state_load(&l, path, err, sizeof(err)) == -1);
	ct_last_state_free(&s);
	ct_last_state_free(&l);
	unlink(path);
	rmdir(dir);
}

TEST(unobserved_nft_tables_split)
{
	const char *rs = "table inet filter {\n\tchain input {\n\t\tpolicy accept;\n\t}\n}\n"
			 "table ip nat {\n}\n";
	struct ct_ruleset_part p[4];

	CHECK(ct_nft_split_tables(rs, p, 4) == 2);
	CHECK_STR(p[0].family, "inet");
	CHECK_STR(p[0].name, "filter");
	CHECK(p[0].len == strlen("table inet filter {\n\tchain input {\n\t\tpolicy accept;\n\t}\n}\n"));
	CHECK_STR(p[1].name, "nat");
	CHECK(ct_nft_split_tables("", p, 4) == 0);
	CHECK(ct_nft_split_tables("table ip t {\n", p, 4) == 1);	/* cut short: to the end */
}

static int hits;

static void on_violation(const struct ct_policy_rule *r, const char *reason, void *ctx)
{
	hits++;
}

TEST(unobserved_policy_condition)
{
	struct ct_policy pol;
	char err[256];
	const char *text = "protect /etc/app\n"
			   "rule down: unobserved and protected => alert\n"
			   "rule drift: drift and protected => halt\n";
	struct ct_change_facts f = { .is_file = true, .path = "/etc/app/x.conf", .unobserved = true };

	CHECK(ct_policy_parse(&pol, text, strlen(text), err, sizeof(err)) == 0);
	hits = 0;
	/* unobserved: its own condition, and not drift */
	CHECK(ct_policy_eval(&pol, &f, on_violation, NULL) == 1);
	f.unobserved = false;
	CHECK(ct_policy_eval(&pol, &f, on_violation, NULL) == 1);	/* now drift only */
	ct_policy_free(&pol);
	/* a process launch is never found at start: refused in exec rules */
	text = "rule x: exec \"/bin/sh\" and unobserved => halt\n";
	CHECK(ct_policy_parse(&pol, text, strlen(text), err, sizeof(err)) == -1);
	CHECK(strstr(err, "'unobserved'"));
}

TEST(unobserved_in_text_otlp_and_filter)
{
	PbEvent ev;
	PbFileChange f;
	Changetrace__V1__UnobservedWindow w = CHANGETRACE__V1__UNOBSERVED_WINDOW__INIT;
	PbAttribution attr = CHANGETRACE__V1__ATTRIBUTION__INIT;
	struct ct_store_filter flt = CT_STORE_FILTER_INIT;
	static struct ct_otlp_rec r;
	const OtlpAnyValue *v;
	char buf[2048];
	FILE *m;

	file_event(&ev, &f, CHANGETRACE__V1__FILE_OP__FILE_OP_CHMOD, "/w/a", NULL, SHA_A,
		   S_IFREG | 0600);
	f.mode_before = S_IFREG | 0644;
	ev.event_id = "x-1";
	ev.host = "h";
	ev.attribution = &attr;
	w.from_unix_nano = 1000000000;
	w.to_unix_nano = 2000000000;
	w.clean_stop = true;
	flt.unobserved_only = true;
	CHECK(!ct_store_filter_match(&flt, &ev));
	ev.unobserved = true;
	ev.unobserved_window = &w;
	CHECK(ct_store_filter_match(&flt, &ev));
	flt.unobserved_only = false;
	flt.drift_only = true;
	CHECK(!ct_store_filter_match(&flt, &ev));	/* not drift */
	m = fmemopen(buf, sizeof(buf), "w");
	ct_format_text(m, &ev);
	fclose(m);
	CHECK(strstr(buf, "UNOBSERVED") && strstr(buf, "mode=0644->0600") &&
	      strstr(buf, "between=1970-01-01T00:00:01.000Z..1970-01-01T00:00:02.000Z"));
	CHECK(!strstr(buf, "DRIFT"));
	ct_otlp_map(&ev, &r, 0);
	CHECK((v = ct_otlp_attr(&r.lr, "changetrace.unobserved")) && v->bool_value);
	CHECK((v = ct_otlp_attr(&r.lr, "changetrace.drift")) && !v->bool_value);
	CHECK((v = ct_otlp_attr(&r.lr, "changetrace.unobserved.from_unix_nano")) &&
	      v->int_value == 1000000000);
	CHECK((v = ct_otlp_attr(&r.lr, "changetrace.file.mode_before")) &&
	      !strcmp(v->string_value, "0644"));
	CHECK(r.lr.severity_number == CHANGETRACE__OTLP__SEVERITY_NUMBER__SEVERITY_NUMBER_WARN);
}
