#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc_cache.h"
#include "lib/util.h"

#define BUCKETS 16384

/*
 * Current images by pid, retired ones by (pid, image_seq): a process that
 * execs itself again and again leaves an image per exec, and were they in
 * its pid's chain, every exec and every lookup of a pid sharing the bucket
 * would walk them all. Chains are doubly linked, so an image leaves its
 * chain at once when it is retired, expired or evicted.
 */
static struct ct_proc *table[BUCKETS];
static struct ct_proc *retired_table[BUCKETS];
static size_t max_entries;
static struct ct_proc_stats stats;
static uint64_t ns_per_tick;

int ct_proc_cache_init(size_t max)
{
	long hz = sysconf(_SC_CLK_TCK);

	max_entries = max;
	ns_per_tick = 1000000000ull / (hz > 0 ? hz : 100);
	return 0;
}

static struct ct_proc *retired_head, *retired_tail;

static void free_entry(struct ct_proc *p)
{
	free(p->exe);
	free(p->cwd);
	free(p->args);
	free(p);
}

static struct ct_proc **retired_bucket(uint32_t pid, uint64_t image_seq)
{
	uint64_t h = (pid * 0x9e3779b97f4a7c15ull) ^ (image_seq * 0xc2b2ae3d27d4eb4full);

	return &retired_table[(h >> 32) % BUCKETS];
}

static void link_entry(struct ct_proc **head, struct ct_proc *p)
{
	p->next = *head;
	if (p->next)
		p->next->pprev = &p->next;
	p->pprev = head;
	*head = p;
}

static void unchain(struct ct_proc *p)
{
	*p->pprev = p->next;
	if (p->next)
		p->next->pprev = p->pprev;
	p->next = NULL;
	p->pprev = NULL;
}

void ct_proc_cache_free(void)
{
	for (size_t i = 0; i < BUCKETS; i++) {
		struct ct_proc *p, *n;

		for (p = table[i]; p; p = n) {
			n = p->next;
			free_entry(p);
		}
		for (p = retired_table[i]; p; p = n) {
			n = p->next;
			free_entry(p);
		}
		table[i] = retired_table[i] = NULL;
	}
	retired_head = retired_tail = NULL;
	stats.entries = stats.retired = 0;
}

struct ct_proc *ct_proc_lookup(uint32_t pid)
{
	for (struct ct_proc *p = table[pid % BUCKETS]; p; p = p->next)
		if (p->pid == pid)
			return p;
	return NULL;
}

static bool is_image(const struct ct_proc *p, uint32_t pid, uint64_t image_seq)
{
	return p->pid == pid && p->image_known && p->image_seq == image_seq;
}

struct ct_proc *ct_proc_image(uint32_t pid, uint64_t start_ns, uint64_t image_seq)
{
	struct ct_proc *p = ct_proc_lookup(pid);

	if (p && is_image(p, pid, image_seq) && ct_proc_same_start(p->start_ns, start_ns))
		return p;
	for (p = *retired_bucket(pid, image_seq); p; p = p->next)
		if (is_image(p, pid, image_seq) && ct_proc_same_start(p->start_ns, start_ns))
			return p;
	return NULL;
}

struct ct_proc *ct_proc_image_of_pid(uint32_t pid, uint64_t image_seq)
{
	struct ct_proc *p = ct_proc_lookup(pid);

	if (p && is_image(p, pid, image_seq))
		return p;
	for (p = *retired_bucket(pid, image_seq); p; p = p->next)
		if (is_image(p, pid, image_seq))
			return p;
	return NULL;
}

static void unlink_entry(struct ct_proc *p)
{
	unchain(p);
	stats.entries--;
}

/* Oldest retired images first; all that are older than the bound. */
void ct_proc_expire(uint64_t now)
{
	while (retired_head && (now == UINT64_MAX ||
				retired_head->retired_ns + CT_PROC_RETAIN_NS < now)) {
		struct ct_proc *p = retired_head;

		retired_head = p->retired_next;
		if (!retired_head)
			retired_tail = NULL;
		unlink_entry(p);
		stats.retired--;
		free_entry(p);
	}
}

static void retire(struct ct_proc *p)
{
	if (!p || p->retired_ns)
		return;
	unchain(p);
	link_entry(retired_bucket(p->pid, p->image_known ? p->image_seq : 0), p);
	p->retired_ns = ct_now_mono_ns();
	p->retired_next = NULL;
	if (retired_tail)
		retired_tail->retired_next = p;
	else
		retired_head = p;
	retired_tail = p;
	stats.retired++;
}

void ct_proc_remove(uint32_t pid)
{
	retire(ct_proc_lookup(pid));
}

static char *dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

static void fill(struct ct_proc *p, uint32_t ppid, uint64_t start_ns, const char *comm,
		 const char *exe, const char *cwd, const char *args, size_t args_len)
{
	free(p->exe);
	free(p->cwd);
	free(p->args);
	p->exe = p->cwd = p->args = NULL;
	p->args_len = 0;
	p->ppid = ppid;
	p->start_ns = start_ns;
	ct_strlcpy(p->comm, comm ? comm : "", sizeof(p->comm));
	p->exe = dup_or_null(exe);
	p->cwd = dup_or_null(cwd);
	if (args && args_len) {
		p->args = malloc(args_len);
		if (p->args) {
			memcpy(p->args, args, args_len);
			p->args_len = args_len;
		}
	}
}

static struct ct_proc *insert(uint32_t pid)
{
	struct ct_proc *p;

	if (stats.entries >= max_entries && retired_head) {
		/* the oldest retired image makes room before a live one is refused */
		struct ct_proc *r = retired_head;

		retired_head = r->retired_next;
		if (!retired_head)
			retired_tail = NULL;
		unlink_entry(r);
		stats.retired--;
		free_entry(r);
	}
	if (stats.entries >= max_entries || !(p = calloc(1, sizeof(*p)))) {
		stats.overflow++;
		return NULL;
	}
	p->pid = pid;
	link_entry(&table[pid % BUCKETS], p);
	stats.entries++;
	return p;
}

struct ct_proc *ct_proc_exec(uint32_t pid, uint32_t ppid, uint64_t start_ns, uint64_t image_seq,
			     uint64_t exec_id, const char *comm, const char *exe, const char *cwd,
			     const char *args, size_t args_len)
{
	struct ct_proc *p = ct_proc_image(pid, start_ns, image_seq);

	if (!p) {
		retire(ct_proc_lookup(pid));
		p = insert(pid);
		if (!p)
			return NULL;
	}
	fill(p, ppid, start_ns, comm, exe, cwd, args, args_len);
	ct_proc_adopt(p, image_seq);
	p->exec_id = exec_id;
	return p;
}

struct ct_proc *ct_proc_update(uint32_t pid, uint32_t ppid, uint64_t start_ns,
			       const char *comm, const char *exe, const char *cwd,
			       const char *args, size_t args_len)
{
	struct ct_proc *p = ct_proc_lookup(pid);

	if (p && ct_proc_same_start(p->start_ns, start_ns)) {
		if (p->image_known)
			return p;	/* exec time beats /proc now */
	} else {
		retire(p);	/* a pid reused since: that process is gone */
		p = insert(pid);
		if (!p)
			return NULL;
	}
	fill(p, ppid, start_ns, comm, exe, cwd, args, args_len);
	return p;
}

void ct_proc_adopt(struct ct_proc *p, uint64_t image_seq)
{
	p->image_seq = image_seq;
	p->image_known = true;
	if (p->retired_ns) {	/* retired images are found by their image */
		unchain(p);
		link_entry(retired_bucket(p->pid, image_seq), p);
	}
}

/* Parse /proc/PID/stat: comm is in parentheses and may contain spaces and
 * ')' itself, so split at the last ')'. */
static int parse_stat(const char *buf, char *comm, size_t comm_len,
		      uint32_t *ppid, uint64_t *start_ticks)
{
	const char *l = strchr(buf, '('), *r = strrchr(buf, ')');
	unsigned long long st;
	int pp;
	size_t n;

	if (!l || !r || r < l)
		return -1;
	n = r - l - 1;
	if (n >= comm_len)
		n = comm_len - 1;
	memcpy(comm, l + 1, n);
	comm[n] = '\0';
	/* fields after comm: state(3) ppid(4) ... starttime(22) */
	if (sscanf(r + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u "
		   "%*d %*d %*d %*d %*d %*d %llu", &pp, &st) != 2)
		return -1;
	*ppid = pp;
	*start_ticks = st;
	return 0;
}

static void read_link(const char *path, char *out, size_t len)
{
	ssize_t n = readlink(path, out, len - 1);

	out[n > 0 ? n : 0] = '\0';
}

struct ct_proc *ct_proc_load(const char *root, uint32_t pid)
{
	char path[64], stat[1024], comm[16], exe[PATH_MAX], cwd[PATH_MAX];
	static char args[4096];
	uint64_t ticks;
	uint32_t ppid;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/stat", root, pid);
	n = ct_read_file(path, stat, sizeof(stat) - 1);
	if (n <= 0)
		return NULL;
	stat[n] = '\0';
	if (parse_stat(stat, comm, sizeof(comm), &ppid, &ticks) < 0)
		return NULL;
	snprintf(path, sizeof(path), "%s/%u/exe", root, pid);
	read_link(path, exe, sizeof(exe));
	snprintf(path, sizeof(path), "%s/%u/cwd", root, pid);
	read_link(path, cwd, sizeof(cwd));
	snprintf(path, sizeof(path), "%s/%u/cmdline", root, pid);
	n = ct_read_file(path, args, sizeof(args));
	if (n < 0)
		n = 0;
	return ct_proc_update(pid, ppid, ticks * ns_per_tick, comm, exe, cwd,
			      args, n);
}

size_t ct_proc_seed(const char *root)
{
	DIR *d = opendir(root);
	struct dirent *de;
	size_t n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);

		if (!isdigit((unsigned char)de->d_name[0]) || *end || pid == 0 || pid > UINT32_MAX)
			continue;
		if (ct_proc_load(root, pid))
			n++;
	}
	closedir(d);
	stats.seeded += n;
	return n;
}

int ct_proc_same_start(uint64_t a, uint64_t b)
{
	uint64_t d = a > b ? a - b : b - a;

	return d <= 2 * ns_per_tick;
}

void ct_proc_get_stats(struct ct_proc_stats *s)
{
	*s = stats;
}

static const struct ct_counter_def ct_proc_counters_defs[] = {
	CT_COUNTER("proc_cache_entries", struct ct_proc_stats, entries),
	CT_COUNTER("proc_cache_seeded", struct ct_proc_stats, seeded),
	CT_COUNTER("proc_cache_overflow", struct ct_proc_stats, overflow),
	CT_COUNTER("proc_cache_retired", struct ct_proc_stats, retired),
};
const struct ct_counter_table ct_proc_counters = CT_COUNTER_TABLE(ct_proc_counters_defs);
