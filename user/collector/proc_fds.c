/*
 * What files a process holds open. A tick asks this for every quiet change
 * with a file still open; a deploy holding hundreds of files asked it
 * hundreds of times per tick, each a full pass of readlink over
 * /proc/PID/fd (O(files^2) per tick: a 400-file hold cost over a second,
 * while the change ring waited). Now each process's table is read once
 * per tick into a sorted list of its targets, and each question is a
 * binary search.
 */
#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc_fds.h"

#define TABLES  4         /* processes remembered per tick */
#define MAX_FDS 1048576   /* fs.nr_open's default ceiling */

struct fd_table {
	bool valid, gone;
	pid_t pid;
	char *text;           /* the targets, NUL-separated */
	size_t text_len, text_cap;
	size_t *targets;      /* offsets into text, sorted by string */
	size_t n, cap;
};

static struct fd_table tables[TABLES];
static int next_victim;

void ct_proc_fds_forget(void)
{
	for (int i = 0; i < TABLES; i++)
		tables[i].valid = false;
}

static const char *sort_text;

static int by_target(const void *a, const void *b)
{
	return strcmp(sort_text + *(const size_t *)a, sort_text + *(const size_t *)b);
}

static bool add_target(struct fd_table *t, const char *s, size_t len)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		size_t *n = realloc(t->targets, cap * sizeof(*n));

		if (!n)
			return false;
		t->targets = n;
		t->cap = cap;
	}
	if (t->text_len + len + 1 > t->text_cap) {
		size_t cap = t->text_cap ? t->text_cap * 2 : 8192;
		char *n;

		while (cap < t->text_len + len + 1)
			cap *= 2;
		n = realloc(t->text, cap);
		if (!n)
			return false;
		t->text = n;
		t->text_cap = cap;
	}
	memcpy(t->text + t->text_len, s, len);
	t->text[t->text_len + len] = '\0';
	t->targets[t->n++] = t->text_len;
	t->text_len += len + 1;
	return true;
}

/* Read pid's fd table into t. A table that could not be read whole (no
 * memory) answers "held" for everything: a change then waits for its
 * close or its max quiet time rather than being cut short. */
static void read_table(struct fd_table *t, const char *proc_root, pid_t pid)
{
	char dir[PATH_MAX], link[PATH_MAX], target[PATH_MAX];
	struct dirent *d;
	DIR *fds;
	size_t seen = 0;

	t->valid = true;
	t->pid = pid;
	t->gone = false;
	t->n = t->text_len = 0;
	snprintf(dir, sizeof(dir), "%s/%d/fd", proc_root, (int)pid);
	fds = opendir(dir);
	if (!fds) {
		t->gone = true;
		return;
	}
	while ((d = readdir(fds)) && seen++ < MAX_FDS) {
		ssize_t len;

		if (d->d_name[0] == '.')
			continue;
		if (snprintf(link, sizeof(link), "%s/%s", dir, d->d_name) >= (int)sizeof(link))
			continue;
		len = readlink(link, target, sizeof(target) - 1);
		if (len <= 0)
			continue;	/* closed since readdir */
		if (!add_target(t, target, (size_t)len)) {
			t->valid = false;	/* ask again next time */
			break;
		}
	}
	closedir(fds);
	sort_text = t->text;
	if (t->n)
		qsort(t->targets, t->n, sizeof(*t->targets), by_target);
}

static bool has_target(const struct fd_table *t, const char *path)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(t->text + t->targets[mid], path);

		if (!c)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

bool ct_proc_fds_holds(const char *proc_root, pid_t pid, const char *path, const char *alt)
{
	struct fd_table *t = NULL;

	for (int i = 0; i < TABLES; i++)
		if (tables[i].valid && tables[i].pid == pid)
			t = &tables[i];
	if (!t) {
		t = &tables[next_victim];
		next_victim = (next_victim + 1) % TABLES;
		read_table(t, proc_root, pid);
		if (!t->valid)
			return true;
	}
	if (t->gone)
		return false;
	return has_target(t, path) || (alt && alt[0] && has_target(t, alt));
}
