#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"
#include "collector/proc_fds.h"

/* A fake /proc/PID/fd: symlinks stand for the fds (readlink is all the
 * reader does), many of them, in no order. */
TEST(proc_fds_answers_from_one_read_per_pass)
{
	char root[] = "/tmp/ct-unit-fds.XXXXXX", path[256], target[64];

	CHECK(mkdtemp(root));
	snprintf(path, sizeof(path), "%s/77", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/77/fd", root);
	mkdir(path, 0755);
	for (int i = 0; i < 300; i++) {
		snprintf(path, sizeof(path), "%s/77/fd/%d", root, i);
		snprintf(target, sizeof(target), "/etc/app/f%d.conf", (i * 7) % 300);
		CHECK(symlink(target, path) == 0);
	}
	ct_proc_fds_forget();
	CHECK(ct_proc_fds_holds(root, 77, "/etc/app/f0.conf", NULL));
	CHECK(ct_proc_fds_holds(root, 77, "/etc/app/f299.conf", ""));
	CHECK(!ct_proc_fds_holds(root, 77, "/etc/app/f300.conf", NULL));
	CHECK(!ct_proc_fds_holds(root, 77, "/etc/app/f1.con", NULL));
	/* the path as the process's mount namespace names it */
	CHECK(ct_proc_fds_holds(root, 77, "/host/etc/app/f5.conf", "/etc/app/f5.conf"));

	/* within a pass the table read first answers (one read per pass) */
	snprintf(path, sizeof(path), "%s/77/fd/0", root);
	unlink(path);
	CHECK(ct_proc_fds_holds(root, 77, "/etc/app/f0.conf", NULL));
	/* the next pass reads again */
	ct_proc_fds_forget();
	CHECK(!ct_proc_fds_holds(root, 77, "/etc/app/f0.conf", NULL));

	/* no such process: holds nothing */
	CHECK(!ct_proc_fds_holds(root, 78, "/etc/app/f1.conf", NULL));
	/* more processes than tables kept: each still answers right */
	for (int pid = 100; pid < 110; pid++)
		CHECK(!ct_proc_fds_holds(root, pid, "/etc/app/f1.conf", NULL));
	CHECK(ct_proc_fds_holds(root, 77, "/etc/app/f1.conf", NULL));
	snprintf(path, sizeof(path), "rm -rf %s", root);
	CHECK(system(path) == 0);
}

/* The real /proc: this process holds an open file, then does not. */
TEST(proc_fds_sees_this_process)
{
	char path[] = "/tmp/ct-unit-fd.XXXXXX";
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	ct_proc_fds_forget();
	CHECK(ct_proc_fds_holds("/proc", getpid(), path, NULL));
	close(fd);
	ct_proc_fds_forget();
	CHECK(!ct_proc_fds_holds("/proc", getpid(), path, NULL));
	unlink(path);
}
