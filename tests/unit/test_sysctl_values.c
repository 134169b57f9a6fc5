/* Sysctl values: names, the value shown, the last-known table per
 * namespace, and priming from a directory (a stand-in for /proc/sys). */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"
#include "collector/sysctl_values.h"

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
}

TEST(sysctl_known_per_namespace)
{
	char buf[CT_SYSCTL_READ_MAX];
	size_t n;
	const char *p = "/proc/sys/net/ipv4/ip_forward";

	ct_sysctl_forget_all();
	CHECK(!ct_sysctl_known(7, p, buf, sizeof(buf), &n));
	ct_sysctl_remember(7, p, "0\n", 2, false);
	ct_sysctl_remember(8, p, "1\n", 2, false);
	CHECK(ct_sysctl_known(7, p, buf, sizeof(buf), &n) && n == 2 && !strcmp(buf, "0\n"));
	CHECK(ct_sysctl_known(8, p, buf, sizeof(buf), &n) && !strcmp(buf, "1\n"));
	ct_sysctl_remember(7, p, "1\n", 2, true);      /* only_new: kept */
	CHECK(ct_sysctl_known(7, p, buf, sizeof(buf), &n) && !strcmp(buf, "0\n"));
	ct_sysctl_remember(7, p, "1\n", 2, false);
	CHECK(ct_sysctl_known(7, p, buf, sizeof(buf), &n) && !strcmp(buf, "1\n"));
	CHECK(!ct_sysctl_known(7, "/proc/sys/net/ipv4/ip_default_ttl", buf, sizeof(buf), &n));
	CHECK(!ct_sysctl_known(7, p, buf, 2, &n));             /* does not fit */
	/* many: the table grows */
	for (int i = 0; i < 20000; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/sys/net/x/%d", i);
		ct_sysctl_remember(9, path, path, strlen(path), false);
	}
	CHECK(ct_sysctl_known(9, "/proc/sys/net/x/12345", buf, sizeof(buf), &n));
	CHECK_STR(buf, "/proc/sys/net/x/12345");
	CHECK(ct_sysctl_count() == 20002);
	ct_sysctl_forget_all();
	CHECK(ct_sysctl_count() == 0);
}

TEST(sysctl_prime_reads_a_tree)
{
	char dir[] = "/tmp/ct-sysctl-XXXXXX", p[256], buf[CT_SYSCTL_READ_MAX];
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
	CHECK(!ct_sysctl_primed(5));
	CHECK(ct_sysctl_prime(5, dir) == 1);
	CHECK(ct_sysctl_primed(5));
	snprintf(p, sizeof(p), "%s/a/v", dir);
	/* not under /proc/sys/net: global, kept under namespace 0 */
	CHECK(ct_sysctl_known(0, p, buf, sizeof(buf), &n) && !strcmp(buf, "42\n"));
	CHECK(!ct_sysctl_known(5, p, buf, sizeof(buf), &n));
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

	ct_sysctl_prime(ns, empty_dir);
	/* what priming /proc/sys/net there remembers */
	for (int i = 0; i < 50; i++) {
		snprintf(p, sizeof(p), "/proc/sys/net/x/v%d", i);
		ct_sysctl_remember(ns, p, "0\n", 2, true);
	}
}

TEST(sysctl_namespaces_kept_are_bounded)
{
	char dir[] = "/tmp/ct-sysctl-XXXXXX", buf[CT_SYSCTL_READ_MAX];
	const char *v = "/proc/sys/net/x/v7";
	struct ct_sysctl_stats st0, st;
	size_t n, most = 0;

	CHECK(mkdtemp(dir));
	ct_sysctl_forget_all();
	ct_sysctl_get_stats(&st0);
	ct_sysctl_keep(1000);
	fill_netns(1000, dir);                       /* the host's */
	ct_sysctl_remember(1000, v, "1\n", 2, false);
	for (uint32_t ns = 2000; ns < 2000 + 1000; ns++) {
		fill_netns(ns, dir);
		if (ct_sysctl_count() > most)
			most = ct_sysctl_count();
	}
	ct_sysctl_get_stats(&st);
	CHECK(most == 128 * 50);
	CHECK(st.values == 128 * 50 && st.namespaces == 128);
	CHECK(st.namespaces_forgotten - st0.namespaces_forgotten == 1001 - 128);
	CHECK(ct_sysctl_known(1000, v, buf, sizeof(buf), &n) && !strcmp(buf, "1\n"));
	CHECK(ct_sysctl_primed(1000));
	CHECK(ct_sysctl_primed(2999) && ct_sysctl_known(2999, v, buf, sizeof(buf), &n));
	CHECK(!ct_sysctl_primed(2000) && !ct_sysctl_known(2000, v, buf, sizeof(buf), &n));
	/* primed again: kept again */
	fill_netns(2000, dir);
	CHECK(ct_sysctl_primed(2000) && ct_sysctl_known(2000, v, buf, sizeof(buf), &n));
	rmdir(dir);
	ct_sysctl_forget_all();
	ct_sysctl_keep(0);
}
