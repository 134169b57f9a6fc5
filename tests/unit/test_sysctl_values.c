/* Sysctl values: names, the value shown, the last-known table per
 * namespace, and priming from a directory (a stand-in for /proc/sys). */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"
#include "collector/sysctl_values.h"
#include "lib/util.h"

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
	CHECK(!ct_sysctl_known(7, p, buf, sizeof(buf), &n, &at));
	ct_sysctl_remember(7, p, "0\n", 2, false, 0);
	ct_sysctl_remember(8, p, "1\n", 2, false, 0);
	CHECK(ct_sysctl_known(7, p, buf, sizeof(buf), &n, &at) && n == 2 && !strcmp(buf, "0\n"));
	CHECK(ct_sysctl_known(8, p, buf, sizeof(buf), &n, &at) && !strcmp(buf, "1\n"));
	ct_sysctl_remember(7, p, "1\n", 2, true, 0);      /* only_new: kept */
	CHECK(ct_sysctl_known(7, p, buf, sizeof(buf), &n, &at) && !strcmp(buf, "0\n"));
	ct_sysctl_remember(7, p, "1\n", 2, false, 0);
	CHECK(ct_sysctl_known(7, p, buf, sizeof(buf), &n, &at) && !strcmp(buf, "1\n"));
	CHECK(!ct_sysctl_known(7, "/proc/sys/net/ipv4/ip_default_ttl", buf, sizeof(buf), &n, &at));
	CHECK(!ct_sysctl_known(7, p, buf, 2, &n, &at));             /* does not fit */
	/* when it was read goes with it: 0 for a write's own bytes */
	CHECK(ct_sysctl_known(7, p, buf, sizeof(buf), &n, &at) && at == 0);
	ct_sysctl_remember(7, p, "2\n", 2, false, 12345);
	CHECK(ct_sysctl_known(7, p, buf, sizeof(buf), &n, &at) && at == 12345);
	/* many: the table grows */
	for (int i = 0; i < 20000; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/sys/net/x/%d", i);
		ct_sysctl_remember(9, path, path, strlen(path), false, 0);
	}
	CHECK(ct_sysctl_known(9, "/proc/sys/net/x/12345", buf, sizeof(buf), &n, &at));
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
	CHECK(!ct_sysctl_primed(5));
	CHECK(ct_sysctl_prime(5, dir) == 1);
	CHECK(ct_sysctl_primed(5));
	snprintf(p, sizeof(p), "%s/a/v", dir);
	/* not under /proc/sys/net: global, kept under namespace 0 */
	CHECK(ct_sysctl_known(0, p, buf, sizeof(buf), &n, &at) && !strcmp(buf, "42\n"));
	CHECK(at >= t0 && at <= ct_now_mono_ns());          /* read then, as its time says */
	CHECK(!ct_sysctl_known(5, p, buf, sizeof(buf), &n, &at));
	CHECK(ct_sysctl_read(p, buf, 3) == -1);             /* too small: refused, not cut */
	CHECK(ct_sysctl_read(p, buf, sizeof(buf)) == 3);
	unlink(p);
	snprintf(p, sizeof(p), "%s/a", dir);
	rmdir(p);
	rmdir(dir);
	ct_sysctl_forget_all();
}
