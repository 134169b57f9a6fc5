#define _XOPEN_SOURCE 700
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup_path.h"
#include "util.h"

#define CG_BUCKETS 4096
#define CG_MAX 65536

struct cg_entry {
	struct cg_entry *next;
	uint64_t id;
	char *path;
};

static struct cg_entry *table[CG_BUCKETS];
static size_t entries;
static char root[256];
static int root_known;
static uint64_t last_scan_ns;

const char *ct_cgroup2_root(void)
{
	FILE *f;
	char line[1024];

	if (root_known)
		return root[0] ? root : NULL;
	root_known = 1;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		char mnt[512], fstype[64];
		const char *sep = strstr(line, " - ");

		if (!sep || sscanf(sep + 3, "%63s", fstype) != 1 || strcmp(fstype, "cgroup2"))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %511s", mnt) == 1) {
			ct_strlcpy(root, mnt, sizeof(root));
			break;
		}
	}
	fclose(f);
	return root[0] ? root : NULL;
}

static void put(uint64_t id, const char *path)
{
	struct cg_entry *e;

	for (e = table[id % CG_BUCKETS]; e; e = e->next)
		if (e->id == id)
			return;
	/* cgroups of containers come and go: past the bound, start over
	 * (what is still in use is named again on its next event) */
	if (entries >= CG_MAX)
		ct_cgroup_path_free();
	e = malloc(sizeof(*e));
	if (!e)
		return;
	e->id = id;
	e->path = strdup(path);
	if (!e->path) {
		free(e);
		return;
	}
	e->next = table[id % CG_BUCKETS];
	table[id % CG_BUCKETS] = e;
	entries++;
}

static size_t root_len;

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	if (type == FTW_D)
		put(st->st_ino, path[root_len] ? path + root_len : "/");
	return 0;
}

static const char *lookup(uint64_t id)
{
	for (struct cg_entry *e = table[id % CG_BUCKETS]; e; e = e->next)
		if (e->id == id)
			return e->path;
	return NULL;
}

/*
 * One cgroup by its id: on cgroup2 the id is also the kernfs file handle,
 * so open_by_handle_at() opens the directory and /proc/self/fd names it.
 * A cgroup made since the last walk (a container just started) is then
 * named at once, without walking the tree.
 */
static const char *by_handle(uint64_t id, const char *r)
{
	static int mount_fd = -1;
	struct {
		struct file_handle fh;
		uint64_t id;
	} h = { .fh = { .handle_bytes = sizeof(uint64_t), .handle_type = 0xfe /* FILEID_KERNFS */ } };
	char link[64], path[PATH_MAX];
	size_t rl = strlen(r);
	ssize_t n;
	int fd;

	if (mount_fd < 0 && (mount_fd = open(r, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return NULL;
	memcpy(h.fh.f_handle, &id, sizeof(id));
	fd = open_by_handle_at(mount_fd, &h.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	path[n] = '\0';	/* before path[rl] is looked at: the root ends there */
	if ((size_t)n < rl || memcmp(path, r, rl) || (path[rl] && path[rl] != '/'))
		return NULL;
	put(id, path[rl] ? path + rl : "/");
	return lookup(id);
}

const char *ct_cgroup_path(uint64_t id)
{
	const char *p = lookup(id), *r;
	uint64_t now;

	if (p || id == 0)
		return p;
	r = ct_cgroup2_root();
	if (r && (p = by_handle(id, r)))
		return p;
	now = ct_now_mono_ns();
	if (now - last_scan_ns < 1000000000ull)
		return NULL;
	last_scan_ns = now;
	r = ct_cgroup2_root();
	if (!r)
		return NULL;
	root_len = strlen(r);
	nftw(r, visit, 16, FTW_PHYS | FTW_MOUNT);
	return lookup(id);
}

uint64_t ct_cgroup_id_of(const char *abs_path)
{
	struct stat st;

	if (stat(abs_path, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	return st.st_ino;
}

void ct_cgroup_path_free(void)
{
	for (size_t i = 0; i < CG_BUCKETS; i++) {
		struct cg_entry *e = table[i], *n;

		for (; e; e = n) {
			n = e->next;
			free(e->path);
			free(e);
		}
		table[i] = NULL;
	}
	entries = 0;
}
