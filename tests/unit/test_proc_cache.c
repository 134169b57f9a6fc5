#include <stdlib.h>
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
