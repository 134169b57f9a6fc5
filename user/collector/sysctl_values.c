/* Sysctl values per network namespace: see sysctl_values.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sysctl_values.h"
#include "lib/util.h"

#define PRIMED_MAX 128              /* namespaces whose values are kept */
#define VALUES_MAX (1u << 17)       /* values kept in all (a namespace has ~600) */
#define WALK_DEPTH 12

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

bool ct_sysctl_is(const char *p)
{
	return p && !strncmp(p, "/proc/sys/", 10);
}

bool ct_sysctl_per_netns(const char *p)
{
	return p && !strncmp(p, "/proc/sys/net/", 14);
}

void ct_sysctl_name(const char *path, char *out, size_t len)
{
	size_t o = 0;

	if (!len)
		return;
	if (ct_sysctl_is(path))
		path += 10;
	for (; *path && o + 1 < len; path++)
		out[o++] = *path == '/' ? '.' : *path == '.' ? '/' : *path;
	out[o] = '\0';
}

ssize_t ct_sysctl_read(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	size_t n = 0;

	if (fd < 0)
		return -1;
	/* a sysctl's handler gives all of it at once: a short read is the end
	 * (saves the second read that would say so) */
	while (n + 1 < len) {
		ssize_t r = read(fd, buf + n, len - 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			close(fd);
			return -1;
		}
		n += r;
		if (r == 0 || n + 1 < len)
			break;
	}
	if (n + 1 >= len) {
		close(fd);
		errno = EFBIG;
		return -1;
	}
	close(fd);
	buf[n] = '\0';
	return (ssize_t)n;
}

size_t ct_sysctl_written(const char *bytes, size_t n, char *out, size_t len)
{
	if (!len)
		return 0;
	while (n && (bytes[n - 1] == '\n' || bytes[n - 1] == '\0'))
		n--;
	if (n > len - 1)
		n = len - 1;
	memcpy(out, bytes, n);
	if (n + 1 < len)
		out[n++] = '\n';
	out[n] = '\0';
	return n;
}

void ct_sysctl_value(const char *raw, size_t n, char *out, size_t len)
{
	size_t max, take, o = 0;
	bool cut;

	if (!len)
		return;
	max = len - 1 < CT_SYSCTL_VALUE_MAX ? len - 1 : CT_SYSCTL_VALUE_MAX;
	while (n && (raw[n - 1] == '\n' || raw[n - 1] == '\0'))
		n--;
	cut = n > max;
	take = cut ? (max > 3 ? max - 3 : 0) : n;
	for (size_t i = 0; i < take; i++)
		out[o++] = raw[i] == '\n' || raw[i] == '\0' ? ' ' : raw[i];
	for (size_t i = 0; cut && i < 3 && o < max; i++)
		out[o++] = '.';
	out[o] = '\0';
}

/* ---------------------------------------------------------------- table */

/* Keyed by a 64-bit hash of (namespace inode, path): ~1,000 values per
 * namespace, so the paths themselves are not kept. A namespace that gets
 * a dead one's inode finds its entries, and tells them by the cookie.
 *
 * Anyone can make a network namespace (an unprivileged user namespace
 * gives its maker one) and write its sysctls, so the namespaces kept are
 * bounded: the PRIMED_MAX last primed, oldest first; priming one more
 * forgets the oldest's values (never the host's: nothing primes it
 * again), and past VALUES_MAX a new value is not kept. Both counted. */
struct entry {
	uint64_t key;                    /* 0: free */
	uint32_t len;
	uint32_t netns;
	char *raw;
	uint64_t read_ns;                /* see ct_sysctl_remember */
	uint64_t cookie;                 /* of its namespace */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *table;
static size_t cap, used;
static struct ct_sysctl_ns primed[PRIMED_MAX];  /* oldest first */
static size_t n_primed;
static uint32_t kept_netns;          /* never forgotten (the host's) */
static struct ct_sysctl_stats stats;

static bool same_cookie(uint64_t a, uint64_t b)
{
	return !a || !b || a == b;
}

uint64_t ct_sysctl_netns_cookie(void)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);

	if (fd < 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) < 0)
		cookie = 0;
	close(fd);
	return cookie;
}

static uint64_t key_of(uint32_t netns, const char *path)
{
	uint64_t h = 1469598103934665603ull ^ netns;   /* FNV-1a */

	h *= 1099511628211ull;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return h ? h : 1;
}

static struct entry *slot(uint64_t key)
{
	size_t i = key & (cap - 1);

	while (table[i].key && table[i].key != key)
		i = (i + 1) & (cap - 1);
	return &table[i];
}

static bool grow(void)
{
	struct entry *old = table;
	size_t ocap = cap;

	cap = cap ? cap * 2 : 4096;
	table = calloc(cap, sizeof(*table));
	if (!table) {
		table = old;
		cap = ocap;
		return false;
	}
	for (size_t i = 0; i < ocap; i++)
		if (old[i].key)
			*slot(old[i].key) = old[i];
	free(old);
	return true;
}

bool ct_sysctl_known(struct ct_sysctl_ns ns, const char *path, char *buf, size_t len, size_t *n,
		     uint64_t *read_ns)
{
	struct entry *e;
	bool found = false;

	pthread_mutex_lock(&lock);
	if (table) {
		e = slot(key_of(ns.inode, path));
		if (e->key && e->len < len && same_cookie(e->cookie, ns.cookie)) {
			memcpy(buf, e->raw, e->len);
			buf[e->len] = '\0';
			*n = e->len;
			*read_ns = e->read_ns;
			found = true;
		}
	}
	pthread_mutex_unlock(&lock);
	return found;
}

void ct_sysctl_remember(struct ct_sysctl_ns ns, const char *path, const char *raw, size_t n,
			bool only_new, uint64_t read_ns)
{
	uint64_t key = key_of(ns.inode, path);
	struct entry *e;
	char *copy;

	if (n >= CT_SYSCTL_READ_MAX)
		return;
	pthread_mutex_lock(&lock);
	if ((used + 1) * 2 > cap && !grow()) {
		pthread_mutex_unlock(&lock);
		return;
	}
	e = slot(key);
	if (e->key && only_new && same_cookie(e->cookie, ns.cookie)) {
		pthread_mutex_unlock(&lock);
		return;
	}
	if (!e->key && used >= VALUES_MAX) {
		stats.values_refused++;
		pthread_mutex_unlock(&lock);
		return;
	}
	copy = malloc(n + 1);
	if (copy) {
		memcpy(copy, raw, n);
		copy[n] = '\0';
		if (!e->key)
			used++;
		free(e->raw);
		e->key = key;
		e->netns = ns.inode;
		e->raw = copy;
		e->len = (uint32_t)n;
		e->read_ns = read_ns;
		e->cookie = ns.cookie;
	}
	pthread_mutex_unlock(&lock);
}

/* Drop every value of netns: the table rebuilt without them (once per
 * namespace forgotten, not per value). */
static void forget_netns_locked(uint32_t netns)
{
	struct entry *old = table;
	size_t ocap = cap;

	table = calloc(cap, sizeof(*table));
	if (!table) {
		table = old;	/* kept: still bounded by VALUES_MAX */
		return;
	}
	used = 0;
	for (size_t i = 0; i < ocap; i++) {
		if (!old[i].key)
			continue;
		if (old[i].netns == netns) {
			free(old[i].raw);
			continue;
		}
		*slot(old[i].key) = old[i];
		used++;
	}
	free(old);
}

/* ---------------------------------------------------------------- prime */

static size_t walk(struct ct_sysctl_ns ns, const char *dir, int depth, char *buf)
{
	DIR *d;
	struct dirent *de;
	size_t n = 0;

	if (depth > WALK_DEPTH || !(d = opendir(dir)))
		return 0;
	while ((de = readdir(d))) {
		char p[PATH_MAX];
		struct stat st;
		unsigned char type = de->d_type;
		ssize_t r;

		if (de->d_name[0] == '.')
			continue;
		if (snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) >= (int)sizeof(p))
			continue;
		/* /proc gives the type; a stat only where it does not */
		if (type == DT_UNKNOWN) {
			if (lstat(p, &st) < 0)
				continue;
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
		}
		if (type == DT_DIR) {
			n += walk(ns, p, depth + 1, buf);
			continue;
		}
		if (type != DT_REG)
			continue;
		/* write-only entries (vm/compact_memory, net/ipv4/route/flush)
		 * refuse the open, root or not */
		r = ct_sysctl_read(p, buf, CT_SYSCTL_READ_MAX);
		if (r < 0)
			continue;
		ct_sysctl_remember(ct_sysctl_per_netns(p) ? ns : (struct ct_sysctl_ns){ 0, 0 }, p,
				   buf, (size_t)r, true, ct_now_mono_ns());
		n++;
	}
	closedir(d);
	return n;
}

/* Where ns's inode is among the primed, or -1. */
static int primed_slot_locked(uint32_t inode)
{
	for (size_t i = 0; i < n_primed; i++)
		if (primed[i].inode == inode)
			return (int)i;
	return -1;
}

/* ns joins the namespaces kept (the inode's namespace is this one now);
 * the oldest other than the host's makes room. */
static void mark_primed_locked(struct ct_sysctl_ns ns)
{
	int i = primed_slot_locked(ns.inode);
	size_t victim = 0;

	if (i >= 0) {
		primed[i] = ns;
		return;
	}
	if (n_primed == PRIMED_MAX) {
		while (victim < n_primed - 1 && primed[victim].inode == kept_netns)
			victim++;
		forget_netns_locked(primed[victim].inode);
		memmove(&primed[victim], &primed[victim + 1],
			(n_primed - victim - 1) * sizeof(primed[0]));
		n_primed--;
		stats.namespaces_forgotten++;
	}
	primed[n_primed++] = ns;
}

size_t ct_sysctl_prime(struct ct_sysctl_ns ns, const char *dir)
{
	char *buf = malloc(CT_SYSCTL_READ_MAX);
	size_t n;

	if (!buf)
		return 0;
	/* room first, so the values read now are not the ones forgotten */
	pthread_mutex_lock(&lock);
	mark_primed_locked(ns);
	pthread_mutex_unlock(&lock);
	n = walk(ns, dir, 0, buf);
	free(buf);
	return n;
}

void ct_sysctl_keep(uint32_t netns)
{
	pthread_mutex_lock(&lock);
	kept_netns = netns;
	pthread_mutex_unlock(&lock);
}

bool ct_sysctl_primed(struct ct_sysctl_ns ns)
{
	bool r;
	int i;

	pthread_mutex_lock(&lock);
	i = primed_slot_locked(ns.inode);
	r = i >= 0 && same_cookie(primed[i].cookie, ns.cookie);
	pthread_mutex_unlock(&lock);
	return r;
}

size_t ct_sysctl_count(void)
{
	size_t n;

	pthread_mutex_lock(&lock);
	n = used;
	pthread_mutex_unlock(&lock);
	return n;
}

void ct_sysctl_get_stats(struct ct_sysctl_stats *s)
{
	pthread_mutex_lock(&lock);
	*s = stats;
	s->values = used;
	s->namespaces = n_primed;
	pthread_mutex_unlock(&lock);
}

static const struct ct_counter_def ct_sysctl_counters_defs[] = {
	CT_COUNTER("sysctl_values", struct ct_sysctl_stats, values),
	CT_COUNTER("sysctl_namespaces", struct ct_sysctl_stats, namespaces),
	CT_COUNTER("sysctl_namespaces_forgotten", struct ct_sysctl_stats, namespaces_forgotten),
	CT_COUNTER("sysctl_values_refused", struct ct_sysctl_stats, values_refused),
};
const struct ct_counter_table ct_sysctl_counters = CT_COUNTER_TABLE(ct_sysctl_counters_defs);

void ct_sysctl_forget_all(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < cap; i++)
		free(table[i].raw);
	free(table);
	table = NULL;
	cap = used = 0;
	n_primed = 0;
	pthread_mutex_unlock(&lock);
}
