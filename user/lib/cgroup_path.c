#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
	if (entries >= CG_MAX)
		return;
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

const char *ct_cgroup_path(uint64_t id)
{
	const char *p = lookup(id), *r;
	uint64_t now;

	if (p || id == 0)
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
