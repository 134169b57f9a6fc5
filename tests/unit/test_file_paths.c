/*
 * A record's paths as the host names them (collector/file_paths.c): whole
 * ones, cut ones the kernel could keep below their watch, cut ones only
 * /proc can complete, and those nothing can, which must say so.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "unit.h"
#include "collector/file_paths.h"

#define PID 4242

static struct ct_watches watches;	/* large: not on the stack */
static struct ct_file_event ev;

struct paths_rig {
	char dir[64];              /* watched */
	char proc[64];             /* a /proc with PID's cwd and fds as symlinks */
	struct file_paths fp;
};

static void rig_init(struct paths_rig *r)
{
	char p[PATH_MAX];

	snprintf(r->dir, sizeof(r->dir), "/tmp/ct-unit-paths.XXXXXX");
	snprintf(r->proc, sizeof(r->proc), "/tmp/ct-unit-paths-proc.XXXXXX");
	if (!mkdtemp(r->dir) || !mkdtemp(r->proc))
		abort();
	snprintf(p, sizeof(p), "%s/%d", r->proc, PID);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/%d/fd", r->proc, PID);
	mkdir(p, 0755);
	memset(&watches, 0, sizeof(watches));
	snprintf(watches.w[0].path, sizeof(watches.w[0].path), "%s", r->dir);
	watches.w[0].is_dir = true;
	watches.n = 1;
	r->fp = (struct file_paths){ .watches = &watches, .proc_root = r->proc, .host_mnt_ns = 1 };
}

static void rig_done(struct paths_rig *r)
{
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", r->dir, r->proc);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", r->dir);
}

/* path0 = text, under watch 1 from suffix_off on */
static void set_path0(const char *text, uint16_t suffix_off, uint16_t flags)
{
	memset(&ev, 0, offsetof(struct ct_file_event, paths));
	ev.hdr.kind = CT_KIND_FILE;
	ev.task.pid = PID;
	ev.task.mnt_ns = 1;
	ev.op = CT_FOP_WRITE;
	ev.flags = flags;
	ev.fd = ev.fd1 = -1;
	ev.watch_id = 1;
	ev.suffix_off = suffix_off;
	ev.path0_len = strlen(text);
	memcpy(ev.paths, text, ev.path0_len);
}

static void proc_link(struct paths_rig *r, const char *name, const char *target)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%d/%s", r->proc, PID, name);
	unlink(p);
	if (symlink(target, p) != 0)
		abort();
}

TEST(file_path_whole_is_the_watch_and_what_is_below)
{
	struct paths_rig r;
	struct file_path_note note;
	char host[PATH_MAX], ns[PATH_MAX], want[PATH_MAX];

	rig_init(&r);
	/* the process sees the watch as /etc/app (a container) */
	set_path0("/etc/app/sub/a.conf", 8, 0);
	CHECK(file_host_path(&r.fp, &ev, 0, host, ns, &note) == FILE_PATH_OK);
	snprintf(want, sizeof(want), "%s/sub/a.conf", r.dir);
	CHECK_STR(host, want);
	CHECK_STR(ns, "/etc/app/sub/a.conf");
	CHECK(!note.truncated && note.source == FILE_PATH_KERNEL);
	rig_done(&r);
}

/* Cut above its watch: the part below it is enough for the host path;
 * what the process calls it is not known. */
TEST(file_path_cut_above_the_watch_is_whole_on_the_host)
{
	struct paths_rig r;
	struct file_path_note note;
	char host[PATH_MAX], ns[PATH_MAX], want[PATH_MAX];

	rig_init(&r);
	set_path0("/sub/x/../a.conf", 0, CT_FF_TRUNCATED);
	CHECK(file_host_path(&r.fp, &ev, 0, host, ns, &note) == FILE_PATH_OK);
	snprintf(want, sizeof(want), "%s/sub/a.conf", r.dir);
	CHECK_STR(host, want);
	CHECK_STR(ns, "");
	CHECK(!note.truncated);
	rig_done(&r);
}

/* Only its lowest names, the watch above them, no fd to ask: the gap is
 * shown and flagged, never an ancestor's name or a name passed off as
 * whole. */
TEST(file_path_cut_below_the_watch_is_flagged)
{
	struct paths_rig r;
	struct file_path_note note;
	char host[PATH_MAX], ns[PATH_MAX], want[PATH_MAX];

	rig_init(&r);
	set_path0("/c/d/leaf.conf", CT_SUFFIX_UNKNOWN, CT_FF_TRUNCATED);
	CHECK(file_host_path(&r.fp, &ev, 0, host, ns, &note) == FILE_PATH_OK);
	snprintf(want, sizeof(want), "%s/" FILE_PATH_GAP "/c/d/leaf.conf", r.dir);
	CHECK_STR(host, want);
	CHECK(note.truncated);
	/* an fd given, but /proc has it no more: the same */
	ev.flags |= CT_FF_FD;
	ev.fd = 5;
	ev.ino = 1;
	CHECK(file_host_path(&r.fp, &ev, 0, host, ns, &note) == FILE_PATH_OK);
	CHECK_STR(host, want);
	CHECK(note.truncated);
	rig_done(&r);
}

/* The same, the writer still holding the file: /proc/PID/fd/N names it,
 * if it is the same inode (an fd reused for another file is not). */
TEST(file_path_cut_below_the_watch_is_completed_from_the_fd)
{
	struct paths_rig r;
	struct file_path_note note;
	char host[PATH_MAX], ns[PATH_MAX], real[PATH_MAX], other[PATH_MAX];
	struct stat st;
	int fd;

	rig_init(&r);
	snprintf(real, sizeof(real), "%s/a/b/c/d/leaf.conf", r.dir);
	snprintf(host, sizeof(host), "mkdir -p %s/a/b/c/d", r.dir);
	CHECK(system(host) == 0);
	fd = open(real, O_WRONLY | O_CREAT, 0644);
	CHECK(fd >= 0);
	close(fd);
	CHECK(stat(real, &st) == 0);
	proc_link(&r, "fd/5", real);
	set_path0("/c/d/leaf.conf", CT_SUFFIX_UNKNOWN, CT_FF_TRUNCATED | CT_FF_FD);
	ev.fd = 5;
	ev.ino = st.st_ino;
	ev.dev = (major(st.st_dev) << 20) | minor(st.st_dev);
	CHECK(file_host_path(&r.fp, &ev, 0, host, ns, &note) == FILE_PATH_OK);
	CHECK_STR(host, real);
	CHECK(!note.truncated && note.source == FILE_PATH_PROC_FD);

	/* fd 5 is another file by now */
	snprintf(other, sizeof(other), "%s/other.conf", r.dir);
	fd = open(other, O_WRONLY | O_CREAT, 0644);
	CHECK(fd >= 0);
	close(fd);
	proc_link(&r, "fd/5", other);
	CHECK(file_host_path(&r.fp, &ev, 0, host, ns, &note) == FILE_PATH_OK);
	CHECK(note.truncated && note.source == FILE_PATH_KERNEL);
	CHECK(strstr(host, FILE_PATH_GAP "/c/d/leaf.conf") != NULL);
	rig_done(&r);
}

/* A relative name (its directory did not fit beside it, or it climbs with
 * ".."): joined to the dir fd it was given against, else the cwd. */
TEST(file_path_relative_is_joined_to_its_directory)
{
	struct paths_rig r;
	struct file_path_note note;
	char host[PATH_MAX], ns[PATH_MAX], want[PATH_MAX], d[PATH_MAX], cmd[256];

	rig_init(&r);
	snprintf(d, sizeof(d), "%s/x/y", r.dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/x/y %s/z", r.dir, r.dir);
	CHECK(system(cmd) == 0);
	proc_link(&r, "cwd", "/nonexistent");
	proc_link(&r, "fd/7", d);
	set_path0("../../z/a.conf", CT_SUFFIX_UNKNOWN, CT_FF_TRUNCATED);
	ev.fd = 7;
	CHECK(file_host_path(&r.fp, &ev, 0, host, ns, &note) == FILE_PATH_OK);
	snprintf(want, sizeof(want), "%s/z/a.conf", r.dir);
	CHECK_STR(host, want);
	CHECK(!note.truncated && note.source == FILE_PATH_PROC_DIR);
	/* the cwd for AT_FDCWD */
	proc_link(&r, "cwd", d);
	ev.fd = -100;
	CHECK(file_host_path(&r.fp, &ev, 0, host, ns, &note) == FILE_PATH_OK);
	CHECK_STR(host, want);
	/* the process is gone: flagged under its watch, not dropped */
	snprintf(d, sizeof(d), "%s/%d/cwd", r.proc, PID);
	unlink(d);
	CHECK(file_host_path(&r.fp, &ev, 0, host, ns, &note) == FILE_PATH_OK);
	snprintf(want, sizeof(want), "%s/" FILE_PATH_GAP "/../../z/a.conf", r.dir);
	CHECK_STR(host, want);
	CHECK(note.truncated);
	/* not cut (a ".." the kernel could not place): unresolved, as before */
	ev.flags = 0;
	ev.watch_id = 0;
	CHECK(file_host_path(&r.fp, &ev, 0, host, ns, &note) == FILE_PATH_UNRESOLVED);
	rig_done(&r);
}

/* A host path longer than PATH_MAX (a long watch path and a long name
 * below it) keeps its ends: the watch and the lowest whole names. */
TEST(file_path_longer_than_path_max_on_the_host_keeps_its_ends)
{
	struct paths_rig r;
	struct file_path_note note;
	char host[PATH_MAX], ns[PATH_MAX], below[PATH_MAX];
	size_t n = 0;

	rig_init(&r);
	/* 4090 bytes: a record's longest path is 4095 */
	while (n + 101 <= 4080) {
		below[n++] = '/';
		memset(below + n, 'n', 100);
		n += 100;
	}
	below[n++] = '/';
	memset(below + n, 'm', 4080 - n);
	n = 4080;
	strcpy(below + n, "/leaf.conf");
	set_path0(below, 0, 0);
	CHECK(file_host_path(&r.fp, &ev, 0, host, ns, &note) == FILE_PATH_OK);
	CHECK(note.truncated);
	CHECK(strlen(host) < PATH_MAX);
	CHECK(!strncmp(host, r.dir, strlen(r.dir)));
	CHECK(!strncmp(host + strlen(r.dir), "/" FILE_PATH_GAP "/", strlen(FILE_PATH_GAP) + 2));
	CHECK(!strcmp(host + strlen(host) - 10, "/leaf.conf"));
	rig_done(&r);
}
