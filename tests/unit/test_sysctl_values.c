/* Sysctl values: names, the value shown, the last-known table per
 * namespace, and priming from a directory (a stand-in for /proc/sys). */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"
#include "collector/sysctl_values.h"
#include "lib/util.h"

#define NS(inode, cookie) ((struct ct_sysctl_ns){ (inode), (cookie) })

TEST(sysctl_names_and_values)
{
	char s[CT_SYSCTL_VALUE_MAX + 16], raw[2000];

	CHECK(ct_sysctl_is("/proc/sys/kernel/hostname") && !ct_sysctl_is("/proc/sysfoo"));
	CHECK(ct_sysctl_per_netns("/proc/sys/net/ipv4/ip_forward"));
	CHECK(!ct_sysctl_per_netns("/proc/sys/kernel/hostname"));
	ct_sysctl_name("/proc/sys/net/ipv4/ip_forward", s, sizeof(s));
	CHECK_STR(s, "net.ipv4.ip_forward");
	ct_sysctl_name("/proc/sys/net/ipv4/conf/eth0.10/forwarding", s, sizeof(s));
	CHECK_STR(s, "net.ipv4.conf.eth0/10.forwarding");
	ct_sysctl_name("/proc/sys/net/ipv4/ip_forward", s, 8);
	CHECK_STR(s, "net.ipv");
	ct_sysctl_value("1\n", 2, s, sizeof(s));
	CHECK_STR(s, "1");
	ct_sysctl_value("32768\t60999\n", 12, s, sizeof(s));
	CHECK_STR(s, "32768\t60999");
	ct_sysctl_value("a\nb\n", 4, s, sizeof(s));
	CHECK_STR(s, "a b");
	ct_sysctl_value("", 0, s, sizeof(s));
	CHECK_STR(s, "");
	memset(raw, 'x', sizeof(raw));
	ct_sysctl_value(raw, sizeof(raw), s, sizeof(s));
	CHECK(strlen(s) == CT_SYSCTL_VALUE_MAX && !strcmp(s + CT_SYSCTL_VALUE_MAX - 3, "..."));
	ct_sysctl_value("123456", 6, s, 5);
	CHECK_STR(s, "1...");
	/* a write's bytes, as the file reads back: one final newline */
	CHECK(ct_sysctl_written("72", 2, s, sizeof(s)) == 3);
	CHECK_STR(s, "72\n");
	CHECK(ct_sysctl_written("72\n", 3, s, sizeof(s)) == 3);
	CHECK_STR(s, "72\n");
	CHECK(ct_sysctl_written("1 2\n\n\0", 6, s, sizeof(s)) == 4);
	CHECK_STR(s, "1 2\n");
	CHECK(ct_sysctl_written("", 0, s, sizeof(s)) == 1);
	CHECK_STR(s, "\n");
	CHECK(ct_sysctl_written("123456", 6, s, 4) == 3);      /* cut to fit */
	CHECK_STR(s, "123");
}

TEST(sysctl_known_per_namespace)
{
	char buf[CT_SYSCTL_READ_MAX];
	size_t n;
	uint64_t at;
	const char *p = "/proc/sys/net/ipv4/ip_forward";

	ct_sysctl_forget_all();
	CHECK(!ct_sysctl_known(NS(7, 0), p, buf, sizeof(buf), &n, &at));
	ct_sysctl_remember(NS(7, 0), p, "0\n", 2, false, 0);
	ct_sysctl_remember(NS(8, 0), p, "1\n", 2, false, 0);
	CHECK(ct_sysctl_known(NS(7, 0), p, buf, sizeof(buf), &n, &at) && n == 2 && !strcmp(buf, "0\n"));
	CHECK(ct_sysctl_known(NS(8, 0), p, buf, sizeof(buf), &n, &at) && !strcmp(buf, "1\n"));
	ct_sysctl_remember(NS(7, 0), p, "1\n", 2, true, 0);      /* only_new: kept */
	CHECK(ct_sysctl_known(NS(7, 0), p, buf, sizeof(buf), &n, &at) && !strcmp(buf, "0\n"));
	ct_sysctl_remember(NS(7, 0), p, "1\n", 2, false, 0);
	CHECK(ct_sysctl_known(NS(7, 0), p, buf, sizeof(buf), &n, &at) && !strcmp(buf, "1\n"));
	CHECK(!ct_sysctl_known(NS(7, 0), "/proc/sys/net/ipv4/ip_default_ttl", buf, sizeof(buf), &n, &at));
	CHECK(!ct_sysctl_known(NS(7, 0), p, buf, 2, &n, &at));             /* does not fit */
	/* when it was read goes with it: 0 for a write's own bytes */
	CHECK(ct_sysctl_known(NS(7, 0), p, buf, sizeof(buf), &n, &at) && at == 0);
	ct_sysctl_remember(NS(7, 0), p, "2\n", 2, false, 12345);
	CHECK(ct_sysctl_known(NS(7, 0), p, buf, sizeof(buf), &n, &at) && at == 12345);
	/* many: the table grows */
	for (int i = 0; i < 20000; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/sys/net/x/%d", i);
		ct_sysctl_remember(NS(9, 0), path, path, strlen(path), false, 0);
	}
	CHECK(ct_sysctl_known(NS(9, 0), "/proc/sys/net/x/12345", buf, sizeof(buf), &n, &at));
	CHECK_STR(buf, "/proc/sys/net/x/12345");
	CHECK(ct_sysctl_count() == 20002);
	ct_sysctl_forget_all();
	CHECK(ct_sysctl_count() == 0);
}

TEST(sysctl_prime_reads_a_tree)
{
	char dir[] = "/tmp/ct-sysctl-XXXXXX", p[256], buf[CT_SYSCTL_READ_MAX];
	uint64_t at, t0 = ct_now_mono_ns();
	size_t n;
	FILE *f;

	CHECK(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/a", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/a/v", dir);
	f = fopen(p, "w");
	CHECK(f);
	fputs("42\n", f);
	fclose(f);
	ct_sysctl_forget_all();
	CHECK(!ct_sysctl_primed(NS(5, 0)));
	CHECK(ct_sysctl_prime(NS(5, 0), dir) == 1);
	CHECK(ct_sysctl_primed(NS(5, 0)));
	snprintf(p, sizeof(p), "%s/a/v", dir);
	/* not under /proc/sys/net: global, kept under namespace 0 */
	CHECK(ct_sysctl_known(NS(0, 0), p, buf, sizeof(buf), &n, &at) && !strcmp(buf, "42\n"));
	CHECK(at >= t0 && at <= ct_now_mono_ns());          /* read then, as its time says */
	CHECK(!ct_sysctl_known(NS(5, 0), p, buf, sizeof(buf), &n, &at));
	CHECK(ct_sysctl_read(p, buf, 3) == -1);             /* too small: refused, not cut */
	CHECK(ct_sysctl_read(p, buf, sizeof(buf)) == 3);
	unlink(p);
	snprintf(p, sizeof(p), "%s/a", dir);
	rmdir(p);
	rmdir(dir);
	ct_sysctl_forget_all();
}

/* Anyone can make network namespaces and write their sysctls: the values
 * kept stay bounded however many are primed, the oldest namespace goes
 * first (never the kept one, the host's), and both are counted. */
static void fill_netns(uint32_t ns, const char *empty_dir)
{
	char p[64];

	ct_sysctl_prime(NS(ns, 0), empty_dir);
	/* what priming /proc/sys/net there remembers */
	for (int i = 0; i < 50; i++) {
		snprintf(p, sizeof(p), "/proc/sys/net/x/v%d", i);
		ct_sysctl_remember(NS(ns, 0), p, "0\n", 2, true, 0);
	}
}

TEST(sysctl_namespaces_kept_are_bounded)
{
	char dir[] = "/tmp/ct-sysctl-XXXXXX", buf[CT_SYSCTL_READ_MAX];
	const char *v = "/proc/sys/net/x/v7";
	struct ct_sysctl_stats st0, st;
	size_t n, most = 0;
	uint64_t at;

	CHECK(mkdtemp(dir));
	ct_sysctl_forget_all();
	ct_sysctl_get_stats(&st0);
	ct_sysctl_keep(1000);
	fill_netns(1000, dir);                       /* the host's */
	ct_sysctl_remember(NS(1000, 0), v, "1\n", 2, false, 0);
	for (uint32_t ns = 2000; ns < 2000 + 1000; ns++) {
		fill_netns(ns, dir);
		if (ct_sysctl_count() > most)
			most = ct_sysctl_count();
	}
	ct_sysctl_get_stats(&st);
	CHECK(most == 128 * 50);
	CHECK(st.values == 128 * 50 && st.namespaces == 128);
	CHECK(st.namespaces_forgotten - st0.namespaces_forgotten == 1001 - 128);
	CHECK(ct_sysctl_known(NS(1000, 0), v, buf, sizeof(buf), &n, &at) && !strcmp(buf, "1\n"));
	CHECK(ct_sysctl_primed(NS(1000, 0)));
	CHECK(ct_sysctl_primed(NS(2999, 0)) && ct_sysctl_known(NS(2999, 0), v, buf, sizeof(buf), &n, &at));
	CHECK(!ct_sysctl_primed(NS(2000, 0)) && !ct_sysctl_known(NS(2000, 0), v, buf, sizeof(buf), &n, &at));
	/* primed again: kept again */
	fill_netns(2000, dir);
	CHECK(ct_sysctl_primed(NS(2000, 0)) && ct_sysctl_known(NS(2000, 0), v, buf, sizeof(buf), &n, &at));
	rmdir(dir);
	ct_sysctl_forget_all();
	ct_sysctl_keep(0);
}

/* A namespace gone leaves its inode to the next one: its values are not
 * the new one's, told apart by the cookie. */
TEST(sysctl_known_per_namespace_not_per_inode)
{
	char dir[] = "/tmp/ct-sysctl-XXXXXX", p[256], buf[CT_SYSCTL_READ_MAX];
	const char *fwd = "/proc/sys/net/ipv4/ip_forward";
	uint64_t at;
	size_t n;
	FILE *f;

	ct_sysctl_forget_all();
	ct_sysctl_remember(NS(7, 100), fwd, "1\n", 2, false, 0);
	CHECK(ct_sysctl_known(NS(7, 100), fwd, buf, sizeof(buf), &n, &at) && !strcmp(buf, "1\n"));
	CHECK(!ct_sysctl_known(NS(7, 200), fwd, buf, sizeof(buf), &n, &at));
	CHECK(ct_sysctl_known(NS(7, 0), fwd, buf, sizeof(buf), &n, &at));   /* cookie not known */
	/* only_new keeps a value of the same namespace, not of the dead one */
	ct_sysctl_remember(NS(7, 100), fwd, "2\n", 2, true, 0);
	CHECK(ct_sysctl_known(NS(7, 100), fwd, buf, sizeof(buf), &n, &at) && !strcmp(buf, "1\n"));
	ct_sysctl_remember(NS(7, 200), fwd, "0\n", 2, true, 0);
	CHECK(ct_sysctl_known(NS(7, 200), fwd, buf, sizeof(buf), &n, &at) && !strcmp(buf, "0\n"));
	CHECK(!ct_sysctl_known(NS(7, 100), fwd, buf, sizeof(buf), &n, &at));
	/* primed: the inode's namespace is the last one primed */
	CHECK(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/v", dir);
	f = fopen(p, "w");
	CHECK(f);
	fputs("5\n", f);
	fclose(f);
	CHECK(ct_sysctl_prime(NS(9, 300), dir) == 1);
	CHECK(ct_sysctl_primed(NS(9, 300)) && ct_sysctl_primed(NS(9, 0)));
	CHECK(!ct_sysctl_primed(NS(9, 301)));
	CHECK(ct_sysctl_prime(NS(9, 301), dir) == 1);
	CHECK(ct_sysctl_primed(NS(9, 301)) && !ct_sysctl_primed(NS(9, 300)));
	unlink(p);
	rmdir(dir);
	/* the calling thread's namespace has a cookie (kernels since 5.14) */
	CHECK(ct_sysctl_netns_cookie() != 0);
	ct_sysctl_forget_all();
}
