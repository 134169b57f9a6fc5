#include <stdlib.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"
#include "collector/proc_cache.h"

static void write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	fputs(s, f);
	fclose(f);
}

/* A fake /proc with a comm that contains ") (" to trip naive parsers. */
TEST(proc_seed_parses_hostile_comm)
{
	char root[] = "/tmp/ct-unit-proc.XXXXXX", path[256];

	CHECK(mkdtemp(root));
	snprintf(path, sizeof(path), "%s/4242", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/4242/stat", root);
	write_file(path, "4242 (a) (b c) S 77 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 1234 0 0\n");
	snprintf(path, sizeof(path), "%s/4242/cmdline", root);
	FILE *f = fopen(path, "w");
	fwrite("prog\0--flag\0", 1, 12, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/notapid", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/99", root); /* no stat file */
	mkdir(path, 0755);

	ct_proc_cache_init(16);
	CHECK(ct_proc_seed(root) == 1);
	struct ct_proc *p = ct_proc_lookup(4242);
	CHECK(p);
	CHECK_STR(p->comm, "a) (b c");
	CHECK(p->ppid == 77);
	CHECK(p->args_len == 12);
	CHECK(p->start_ns == 1234ull * (1000000000ull / sysconf(_SC_CLK_TCK)));
	ct_proc_remove(4242);
	CHECK(!ct_proc_lookup(4242));
	ct_proc_cache_free();
	system((snprintf(path, sizeof(path), "rm -rf %s", root), path));
}

TEST(proc_cache_is_bounded)
{
	struct ct_proc_stats s;

	ct_proc_cache_free();
	ct_proc_cache_init(3);
	for (uint32_t pid = 1; pid <= 5; pid++)
		ct_proc_update(pid, 0, 0, "x", "/x", "/", NULL, 0);
	ct_proc_get_stats(&s);
	CHECK(s.entries == 3);
	CHECK(s.overflow == 2);
	/* updating an existing entry does not count as overflow */
	CHECK(ct_proc_update(1, 0, 0, "y", "/y", "/", "a\0", 2));
	CHECK_STR(ct_proc_lookup(1)->exe, "/y");
	ct_proc_cache_free();
}

/* An image is found by (pid, start, image_seq) after the process exec'd
 * again or exited, until it expires. */
TEST(proc_cache_keeps_images_after_exec_and_exit)
{
	struct ct_proc *p;

	ct_proc_cache_free();
	ct_proc_cache_init(16);
	ct_proc_exec(10, 1, 5000, 3, 100, "ip", "/usr/bin/ip", "/", "ip\0netns\0exec\0", 15);
	ct_proc_exec(10, 1, 5000, 4, 101, "nft", "/usr/sbin/nft", "/", "nft\0add\0", 8);
	p = ct_proc_lookup(10);
	CHECK(p && p->exec_id == 101);
	p = ct_proc_image(10, 5000, 3);
	CHECK(p && p->retired_ns && !strcmp(p->exe, "/usr/bin/ip"));
	ct_proc_remove(10);
	CHECK(!ct_proc_lookup(10));
	p = ct_proc_image(10, 5000, 4);
	CHECK(p && !strcmp(p->comm, "nft") && p->args_len == 8);
	/* /proc never overwrites an image an exec record gave */
	ct_proc_exec(11, 1, 7000, 2, 102, "cp", "/bin/cp", "/", "cp\0a\0b\0", 7);
	p = ct_proc_update(11, 1, 7000, "cp", "/bin/cp", "/", "other\0", 6);
	CHECK(p && p->exec_id == 102 && p->args_len == 7);
	ct_proc_expire(UINT64_MAX);
	CHECK(!ct_proc_image(10, 5000, 3) && !ct_proc_image(10, 5000, 4));
	CHECK(ct_proc_image(11, 7000, 2));
	ct_proc_cache_free();
}

/* One process that execs itself again and again leaves an image per exec,
 * kept 30 s. Finding, adding and expiring images costs the same whether
 * it left a thousand or twenty thousand, for it and for a process whose
 * pid shares its hash bucket: per-operation cost, side by side. */
static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void per_op_ns(uint32_t images, double *exec_ns, double *expire_ns)
{
	const uint32_t pid = 4242, neighbour = 4242 + 16384, ops = 2000;
	bool found = true;
	uint64_t t0;

	ct_proc_cache_free();
	ct_proc_cache_init(1 << 20);
	ct_proc_exec(neighbour, 1, 9000, 1, 1, "nb", "/bin/nb", "/", "nb\0", 3);
	for (uint32_t i = 1; i <= images; i++)
		ct_proc_exec(pid, 1, 5000, i, i, "self", "/bin/self", "/", "self\0", 5);
	t0 = mono_ns();
	for (uint32_t j = 1; j <= ops; j++) {
		ct_proc_exec(pid, 1, 5000, images + j, images + j, "self", "/bin/self", "/", "self\0", 5);
		found &= ct_proc_lookup(neighbour) && ct_proc_image(pid, 5000, images + j);
	}
	*exec_ns = found ? (double)(mono_ns() - t0) / ops : -1;
	t0 = mono_ns();
	ct_proc_expire(UINT64_MAX);
	*expire_ns = (double)(mono_ns() - t0) / (images + ops);
	ct_proc_cache_free();
}

TEST(proc_cache_cost_does_not_grow_with_one_pids_images)
{
	double e_small, x_small, e_big, x_big;

	per_op_ns(1000, &e_small, &x_small);
	per_op_ns(20000, &e_big, &x_big);
	printf("    per exec: %.0f ns with 1,000 images, %.0f ns with 20,000; "
	       "per expiry: %.0f ns, %.0f ns\n", e_small, e_big, x_small, x_big);
	CHECK(e_small > 0 && e_big > 0);
	CHECK(e_big < 4 * e_small + 200);
	CHECK(x_big < 4 * x_small + 200);
}
