/* The container context of events: see container_ctx.h. */
#define _XOPEN_SOURCE 700
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "lib/cgroup_path.h"
#include "container_ctx.h"
#include "container_names.h"
#include "lib/util.h"

#define CG_BUCKETS 4096
#define CG_MAX 16384            /* cgroups remembered; past it the cache starts over */
#define CTR_BUCKETS 1024
#define CTR_MAX 4096            /* containers remembered */
#define NETNS_BUCKETS 1024
#define SEC 1000000000ull
#define PATH_RETRY_NS SEC       /* a cgroup with no path yet: asked again after */
#define UTS_RETRY_NS SEC        /* a hostname not read yet (process gone): likewise */
#define UTS_TRIES 8
#define NAMES_RETRY_NS (30 * SEC)
#define NAMES_TRIES 5
#define NETNS_RESCAN_NS (10 * SEC)
#define NETNS_SCANS_PER_S 20    /* walks of /proc, on the event loop */

struct ctr_info {
	struct ctr_info *next;
	char id[CT_CTR_ID_LEN];
	enum ct_ctr_runtime runtime;
	char pod_uid[CT_POD_UID_LEN];
	enum ct_pod_qos qos;
	/* the UTS namespace's nodename. A runtime names it just before the
	 * container's command starts: a read that finds the host's namespace,
	 * or a new one still carrying the host's name, is not final */
	bool uts_known, uts_host, uts_final;
	char hostname[72];
	unsigned uts_tries;
	uint64_t uts_next_ns;
	/* the runtime's names (worker) */
	struct ct_ctr_names names;
	unsigned names_tries;
	uint64_t names_next_ns;
	uint32_t netns;          /* the network namespace last seen (netns_table has it) */
};

struct cg_info {
	struct cg_info *next;
	uint64_t cgid;
	bool resolved;           /* its path was found and decoded */
	uint64_t retry_ns;
	bool monitor;
	struct ctr_info *ctr;    /* NULL: on the host (or a pod's own cgroup) */
	char pod_uid[CT_POD_UID_LEN];
	enum ct_pod_qos qos;
};

struct netns_info {
	struct netns_info *next;
	uint32_t netns;
	struct ctr_info *ctr;    /* NULL: no container found (scan again later) */
	uint64_t rescan_ns;
};

static struct cg_info *cg_table[CG_BUCKETS];
static struct ctr_info *ctr_table[CTR_BUCKETS];
static struct netns_info *netns_table[NETNS_BUCKETS];
static size_t n_cg, n_ctr, n_netns;
static uint64_t scan_second_ns;    /* the second scans_this_second counts in */
static unsigned scans_this_second;
static struct ctr_info *orphans;   /* dropped from the table while the worker held them */
static struct ct_containers_stats st;
static char proc_root[256] = "/proc";
static uint64_t host_uts_ino, host_net_ino;
static char host_nodename[72];
static int self_uts_fd = -1;
static pthread_t loop_thread;
static bool names_running;
static char state_root[1024];

/* -------------------------------------------------------------- tables */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static bool pending(struct ctr_info *c)
{
	return atomic_load(&c->names.state) == CT_NAMES_PENDING;
}

static void free_orphans(void)
{
	struct ctr_info **pp = &orphans;

	while (*pp) {
		struct ctr_info *c = *pp;

		if (pending(c)) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		free(c);
	}
}

/* Past their bounds the tables start over (only at the start of a lookup,
 * so no entry in use goes): the next event of a container names it again
 * (a decode and a /proc read, no probe work). */
static void reset_all(void)
{
	for (size_t i = 0; i < CG_BUCKETS; i++)
		for (struct cg_info *e = cg_table[i], *n; e; e = n) {
			n = e->next;
			free(e);
		}
	for (size_t i = 0; i < NETNS_BUCKETS; i++)
		for (struct netns_info *e = netns_table[i], *n; e; e = n) {
			n = e->next;
			free(e);
		}
	for (size_t i = 0; i < CTR_BUCKETS; i++)
		for (struct ctr_info *e = ctr_table[i], *n; e; e = n) {
			n = e->next;
			if (pending(e)) {
				e->next = orphans;
				orphans = e;
			} else {
				free(e);
			}
		}
	memset(cg_table, 0, sizeof(cg_table));
	memset(netns_table, 0, sizeof(netns_table));
	memset(ctr_table, 0, sizeof(ctr_table));
	n_cg = n_ctr = n_netns = 0;
	free_orphans();
}

static void make_room(void)
{
	if (n_cg >= CG_MAX || n_ctr >= CTR_MAX || n_netns >= CTR_MAX) {
		reset_all();
		st.cache_resets++;
	}
}

static void ask_names(struct ctr_info *c, uint64_t now)
{
	c->names_tries++;
	c->names_next_ns = now + NAMES_RETRY_NS;
	ct_strlcpy(c->names.id, c->id, sizeof(c->names.id));
	c->names.hint = c->runtime;
	if (!names_running) {
		ct_strlcpy(c->names.reason, "the names worker is not running", sizeof(c->names.reason));
		atomic_store(&c->names.state, CT_NAMES_UNAVAILABLE);
		return;
	}
	ct_names_request(&c->names);
}

static struct ctr_info *ctr_get(const struct ct_cgroup_ctr *d)
{
	uint64_t h = hash_str(d->id) % CTR_BUCKETS;
	struct ctr_info *c;

	for (c = ctr_table[h]; c; c = c->next)
		if (!strcmp(c->id, d->id))
			return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	ct_strlcpy(c->id, d->id, sizeof(c->id));
	c->runtime = d->runtime;
	memcpy(c->pod_uid, d->pod_uid, sizeof(c->pod_uid));
	c->qos = d->qos;
	atomic_store(&c->names.state, CT_NAMES_UNAVAILABLE);
	ask_names(c, ct_now_mono_ns());
	c->next = ctr_table[h];
	ctr_table[h] = c;
	n_ctr++;
	st.containers_known = n_ctr;
	return c;
}

/* ------------------------------------------------------------ hostname */

/* The nodename of pid's UTS namespace: setns() in and out on this thread
 * (a UTS namespace is per thread; nothing here reads the hostname). 1: the
 * host's own namespace, 0: read, -1: not readable (the process is gone). */
static int read_uts(uint32_t pid, char *out, size_t len)
{
	struct utsname u;
	struct stat sb;
	char path[PATH_MAX];
	int fd, rc = -1;

	if (!pthread_equal(pthread_self(), loop_thread))
		return -1;
	snprintf(path, sizeof(path), "%s/%u/ns/uts", proc_root, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) == 0 && sb.st_ino == host_uts_ino) {
		rc = 1;
	} else if (self_uts_fd >= 0 && setns(fd, CLONE_NEWUTS) == 0) {
		if (uname(&u) == 0) {
			ct_strlcpy(out, u.nodename, len);
			rc = 0;
		}
		if (setns(self_uts_fd, CLONE_NEWUTS) < 0)
			ct_err("containers: cannot return to the agent's UTS namespace: %m");
	}
	close(fd);
	return rc;
}

static void learn_hostname(struct ctr_info *c, uint32_t pid, bool exec, uint64_t now)
{
	char name[sizeof(c->hostname)];
	int rc;

	if (c->uts_final || c->uts_tries >= UTS_TRIES || !pid || (!exec && now < c->uts_next_ns))
		return;
	c->uts_tries++;
	c->uts_next_ns = now + UTS_RETRY_NS;
	st.hostname_reads++;
	rc = read_uts(pid, name, sizeof(name));
	if (rc < 0) {
		st.hostname_failures++;
		return;
	}
	c->uts_known = true;
	c->uts_host = rc == 1;
	if (rc == 0)
		memcpy(c->hostname, name, sizeof(name));
	c->uts_final = rc == 0 && strcmp(name, host_nodename);
}

/* ------------------------------------------------------------ filling */

static const PbContainer *fill(struct ct_container_buf *o, const struct ctr_info *c,
			       const char *pod_uid, enum ct_pod_qos qos, bool monitor)
{
	PbContainer *p = &o->pb;
	int state;

	*p = (PbContainer)CHANGETRACE__V1__CONTAINER__INIT;
	o->id[0] = o->name[0] = o->image[0] = o->hostname[0] = o->pod_name[0] = '\0';
	o->pod_namespace[0] = o->names_from[0] = o->unavailable[0] = o->runtime[0] = '\0';
	ct_strlcpy(o->pod_uid, pod_uid ? pod_uid : "", sizeof(o->pod_uid));
	p->pod_uid = o->pod_uid;
	p->qos_class = (char *)ct_qos_name(qos);
	p->monitor = monitor;
	p->id = o->id;
	p->runtime = o->runtime;
	p->name = o->name;
	p->image = o->image;
	p->hostname = o->hostname;
	p->pod_name = o->pod_name;
	p->pod_namespace = o->pod_namespace;
	p->names_from = o->names_from;
	p->names_unavailable = o->unavailable;
	if (!c)
		return p;
	ct_strlcpy(o->id, c->id, sizeof(o->id));
	ct_strlcpy(o->runtime, ct_runtime_name(c->runtime), sizeof(o->runtime));
	if (c->uts_final)
		ct_strlcpy(o->hostname, c->hostname, sizeof(o->hostname));
	state = atomic_load(&c->names.state);
	if (state == CT_NAMES_FOUND) {
		if (c->runtime == CT_RT_UNKNOWN)
			ct_strlcpy(o->runtime, ct_runtime_name(c->names.runtime), sizeof(o->runtime));
		ct_strlcpy(o->name, c->names.name, sizeof(o->name));
		ct_strlcpy(o->image, c->names.image, sizeof(o->image));
		ct_strlcpy(o->pod_name, c->names.pod_name, sizeof(o->pod_name));
		ct_strlcpy(o->pod_namespace, c->names.pod_namespace, sizeof(o->pod_namespace));
		ct_strlcpy(o->names_from, c->names.from, sizeof(o->names_from));
		if (!o->name[0])
			snprintf(o->unavailable, sizeof(o->unavailable), "%s has no name for it",
				 c->names.from);
		else if (!o->image[0])
			snprintf(o->unavailable, sizeof(o->unavailable), "%s has no image for it",
				 c->names.from);
	} else if (state == CT_NAMES_PENDING) {
		ct_strlcpy(o->unavailable, "lookup in progress", sizeof(o->unavailable));
	} else {
		ct_strlcpy(o->unavailable, c->names.reason, sizeof(o->unavailable));
	}
	/* a pod's containers share its UTS namespace, named after the pod */
	if (!o->pod_name[0] && o->pod_uid[0] && o->hostname[0])
		ct_strlcpy(o->pod_name, o->hostname, sizeof(o->pod_name));
	return p;
}

static void netns_put(uint32_t netns, struct ctr_info *c, uint64_t rescan)
{
	uint32_t h = netns % NETNS_BUCKETS;
	struct netns_info *e;

	for (e = netns_table[h]; e; e = e->next)
		if (e->netns == netns)
			break;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return;
		e->netns = netns;
		e->next = netns_table[h];
		netns_table[h] = e;
		n_netns++;
	}
	e->ctr = c;
	e->rescan_ns = rescan;
}

static struct cg_info *cg_get(uint64_t cgid)
{
	uint64_t h = cgid % CG_BUCKETS;
	struct cg_info *e;

	for (e = cg_table[h]; e; e = e->next)
		if (e->cgid == cgid)
			return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->cgid = cgid;
	e->next = cg_table[h];
	cg_table[h] = e;
	n_cg++;
	st.cgroups_cached = n_cg;
	return e;
}

/* Is the directory that holds path[0..end) root's? A cgroup of any name
 * can be made wherever one may write, and a tree delegated to a user
 * (systemd's user@.service, a rootless runtime's) is that user's: there a
 * "docker-<id>.scope" is the user's claim, not a runtime's. A runtime may
 * hand a container its own cgroup (chown to its user namespace's root),
 * never the one above it. */
static bool parent_is_roots(const char *path, size_t end)
{
	const char *root = ct_cgroup2_root();
	char abs[PATH_MAX];
	struct stat sb;
	size_t dir = end;

	while (dir > 0 && path[dir - 1] != '/')
		dir--;
	if (!root || snprintf(abs, sizeof(abs), "%s/%.*s", root, (int)dir, path) >= (int)sizeof(abs))
		return false;
	return stat(abs, &sb) == 0 && sb.st_uid == 0;
}

/* Decode path; a container or pod whose cgroup is not a runtime's (see
 * above) is not one. */
static bool decode_owned(const char *path, struct ct_cgroup_ctr *d)
{
	if (!ct_cgroup_decode(path, d))
		return false;
	if (d->id[0] && !parent_is_roots(path, d->ctr_end)) {
		d->id[0] = '\0';
		d->runtime = CT_RT_NONE;
		d->monitor = false;
		st.unowned_cgroups++;
	}
	if (d->pod_uid[0] && !parent_is_roots(path, d->pod_end)) {
		d->pod_uid[0] = '\0';
		d->qos = CT_QOS_NONE;
		st.unowned_cgroups++;
	}
	return d->id[0] || d->pod_uid[0];
}

static void resolve(struct cg_info *e, uint64_t now)
{
	const char *path;
	struct ct_cgroup_ctr d;

	if (e->resolved || now < e->retry_ns)
		return;
	path = ct_cgroup_path(e->cgid);
	if (!path) {
		e->retry_ns = now + PATH_RETRY_NS;
		return;
	}
	e->resolved = true;
	if (!decode_owned(path, &d))
		return;
	memcpy(e->pod_uid, d.pod_uid, sizeof(e->pod_uid));
	e->qos = d.qos;
	e->monitor = d.monitor;
	if (d.id[0])
		e->ctr = ctr_get(&d);
}

static void refresh_names(struct ctr_info *c, uint64_t now)
{
	if (atomic_load(&c->names.state) == CT_NAMES_UNAVAILABLE && names_running &&
	    c->names_tries < NAMES_TRIES && now >= c->names_next_ns)
		ask_names(c, now);
}

const PbContainer *ct_container_of_task(struct ct_container_buf *out, uint64_t cgroup_id,
					uint32_t pid, uint32_t net_ns, bool exec, uint64_t now)
{
	struct cg_info *e;
	struct ctr_info *c;

	if (!cgroup_id)
		return NULL;
	make_room();
	e = cg_get(cgroup_id);
	if (!e)
		return NULL;
	/* a known cgroup costs its hash lookup and the copies into the
	 * event; now is the event's own (monotonic) time, not a clock read */
	if (!e->resolved)
		resolve(e, now);
	if (!e->ctr && !e->pod_uid[0])
		return NULL;
	c = e->ctr;
	if (c && !e->monitor) {
		if (!c->uts_final && c->uts_tries < UTS_TRIES)
			learn_hostname(c, pid, exec, now);
		if (atomic_load(&c->names.state) == CT_NAMES_UNAVAILABLE)
			refresh_names(c, now);
		if (net_ns && net_ns != host_net_ino && net_ns != c->netns) {
			netns_put(net_ns, c, 0);
			c->netns = net_ns;
		}
	}
	return fill(out, c, c ? c->pod_uid : e->pod_uid, c ? c->qos : e->qos, e->monitor);
}

/* ---------------------------------------------------------- netns scan */

static bool proc_cgroup(uint32_t pid, char *out, size_t len)
{
	char path[PATH_MAX], buf[8192], *l;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/cgroup", proc_root, pid);
	n = ct_read_file(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, "0::", 3)) {
			size_t k = strcspn(l + 3, "\n");

			if (k >= len)
				return false;
			memcpy(out, l + 3, k);
			out[k] = '\0';
			return true;
		}
	return false;
}

/* A process in netns whose cgroup names a container (not its monitor). */
static struct ctr_info *scan_netns(uint32_t netns)
{
	char want[32], path[PATH_MAX], link[64], cg[PATH_MAX];
	struct dirent *d;
	DIR *dir = opendir(proc_root);
	struct ctr_info *found = NULL;

	if (!dir)
		return NULL;
	st.netns_scans++;
	snprintf(want, sizeof(want), "net:[%u]", netns);
	while (!found && (d = readdir(dir))) {
		struct ct_cgroup_ctr dec;
		ssize_t n;
		uint32_t pid;

		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		pid = strtoul(d->d_name, NULL, 10);
		snprintf(path, sizeof(path), "%s/%u/ns/net", proc_root, pid);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (strcmp(link, want) || !proc_cgroup(pid, cg, sizeof(cg)) ||
		    !decode_owned(cg, &dec) || !dec.id[0] || dec.monitor)
			continue;
		found = ctr_get(&dec);
		if (found)
			learn_hostname(found, pid, true, ct_now_mono_ns());
	}
	closedir(dir);
	return found;
}

const PbContainer *ct_container_of_netns(struct ct_container_buf *out, uint32_t netns)
{
	uint64_t now = ct_now_mono_ns();
	struct netns_info *e;
	struct ctr_info *c;

	if (!netns || netns == host_net_ino)
		return NULL;
	make_room();
	for (e = netns_table[netns % NETNS_BUCKETS]; e; e = e->next)
		if (e->netns == netns)
			break;
	if (e && e->ctr)
		return fill(out, e->ctr, e->ctr->pod_uid, e->ctr->qos, false);
	if (e && now < e->rescan_ns)
		return NULL;
	/* a walk of /proc per namespace: anyone can make namespaces (and
	 * change rules in them) faster than that, so a few a second; the
	 * rest have no container named now, and are asked again later */
	if (now - scan_second_ns >= SEC) {
		scan_second_ns = now;
		scans_this_second = 0;
	}
	if (scans_this_second >= NETNS_SCANS_PER_S) {
		st.netns_scans_deferred++;
		netns_put(netns, NULL, now + SEC);
		return NULL;
	}
	scans_this_second++;
	c = scan_netns(netns);
	netns_put(netns, c, c ? 0 : now + NETNS_RESCAN_NS);
	return c ? fill(out, c, c->pod_uid, c->qos, false) : NULL;
}

/* ---------------------------------------------------------- lifecycle */

int ct_containers_init(const struct ct_containers_cfg *cfg)
{
	struct stat sb;

	reset_all();
	memset(&st, 0, sizeof(st));
	ct_strlcpy(proc_root, cfg && cfg->proc_root ? cfg->proc_root : "/proc", sizeof(proc_root));
	ct_strlcpy(state_root, cfg && cfg->state_root ? cfg->state_root : "", sizeof(state_root));
	loop_thread = pthread_self();
	if (stat("/proc/self/ns/uts", &sb) == 0)
		host_uts_ino = sb.st_ino;
	{
		struct utsname u;

		if (uname(&u) == 0)
			ct_strlcpy(host_nodename, u.nodename, sizeof(host_nodename));
	}
	if (stat("/proc/self/ns/net", &sb) == 0)
		host_net_ino = sb.st_ino;
	if (self_uts_fd < 0)
		self_uts_fd = open("/proc/thread-self/ns/uts", O_RDONLY | O_CLOEXEC);
	names_running = ct_names_start(state_root, cfg ? cfg->runtime_socket : NULL) == 0;
	return names_running ? 0 : -1;
}

void ct_containers_stop(void)
{
	if (names_running)
		ct_names_stop();
	names_running = false;
	reset_all();
	free_orphans();
	if (self_uts_fd >= 0)
		close(self_uts_fd);
	self_uts_fd = -1;
}

void ct_containers_get_stats(struct ct_containers_stats *s)
{
	struct ct_names_stats ns;

	ct_names_get_stats(&ns);
	*s = st;
	s->cgroups_cached = n_cg;
	s->containers_known = n_ctr;
	s->names_found = ns.found;
	s->names_unavailable = ns.unavailable;
	s->names_queue_full = ns.queue_full;
	s->names_socket_queries = ns.socket_queries;
}

static const struct ct_counter_def containers_defs[] = {
	CT_COUNTER("container_cgroups_cached", struct ct_containers_stats, cgroups_cached),
	CT_COUNTER("containers_known", struct ct_containers_stats, containers_known),
	CT_COUNTER("container_hostname_reads", struct ct_containers_stats, hostname_reads),
	CT_COUNTER("container_hostname_failures", struct ct_containers_stats, hostname_failures),
	CT_COUNTER("container_names_found", struct ct_containers_stats, names_found),
	CT_COUNTER("container_names_unavailable", struct ct_containers_stats, names_unavailable),
	CT_COUNTER("container_names_queue_full", struct ct_containers_stats, names_queue_full),
	CT_COUNTER("container_names_socket_queries", struct ct_containers_stats, names_socket_queries),
	CT_COUNTER("container_netns_scans", struct ct_containers_stats, netns_scans),
	CT_COUNTER("container_netns_scans_deferred", struct ct_containers_stats, netns_scans_deferred),
	CT_COUNTER("container_unowned_cgroups", struct ct_containers_stats, unowned_cgroups),
	CT_COUNTER("container_cache_resets", struct ct_containers_stats, cache_resets),
};
const struct ct_counter_table ct_containers_counters = CT_COUNTER_TABLE(containers_defs);

/* ------------------------------------------------------- deploy claims */

/* The cgroup tree, decoded: the container (by id prefix) or pod wanted. */
static struct {
	const char *prefix;      /* container id prefix, or NULL */
	const char *pod;         /* pod UID, or NULL */
	size_t root_len;
	char match[PATH_MAX];    /* cgroup (relative) of the first match */
	char id[CT_CTR_ID_LEN];
	unsigned ids;            /* distinct containers matching */
} walk;

static int visit(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	const char *rel = path + walk.root_len;
	struct ct_cgroup_ctr d;

	(void)sb;
	(void)ftw;
	if (type != FTW_D || !*rel || !decode_owned(rel, &d))
		return 0;
	if (walk.prefix) {
		/* the container's own directory, not its monitor's */
		if (!d.id[0] || d.monitor || d.ctr_end != strlen(rel) ||
		    strncmp(d.id, walk.prefix, strlen(walk.prefix)))
			return 0;
		if (!walk.ids || strcmp(walk.id, d.id)) {
			if (!walk.ids)
				ct_strlcpy(walk.match, rel, sizeof(walk.match));
			ct_strlcpy(walk.id, d.id, sizeof(walk.id));
			walk.ids++;
		}
	} else if (walk.pod && !strcmp(d.pod_uid, walk.pod) && d.pod_end == strlen(rel) &&
		   !walk.ids++) {
		ct_strlcpy(walk.match, rel, sizeof(walk.match));
	}
	return 0;
}

static int walk_tree(char *err, size_t errlen)
{
	const char *root = ct_cgroup2_root();

	if (!root) {
		snprintf(err, errlen, "no cgroup v2 hierarchy is mounted");
		return -1;
	}
	walk.root_len = strlen(root);
	walk.ids = 0;
	walk.match[0] = walk.id[0] = '\0';
	nftw(root, visit, 32, FTW_PHYS | FTW_MOUNT);
	return 0;
}

static bool hex_prefix(const char *s)
{
	size_t n = strlen(s);

	if (n < 4 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]) && (s[i] < 'a' || s[i] > 'f'))
			return false;
	return true;
}

static int by_prefix(const char *prefix, char *cgroup, size_t cg_len, char *id, size_t id_len,
		     char *err, size_t errlen)
{
	walk.prefix = prefix;
	walk.pod = NULL;
	if (walk_tree(err, errlen) < 0)
		return -1;
	if (walk.ids > 1) {
		snprintf(err, errlen, "%u running containers have ids starting with %s: give more of the id",
			 walk.ids, prefix);
		return -1;
	}
	if (!walk.ids)
		return 1;
	ct_strlcpy(cgroup, walk.match, cg_len);
	ct_strlcpy(id, walk.id, id_len);
	return 0;
}

int ct_container_cgroup(const char *ref, char *cgroup, size_t cg_len, char *id, size_t id_len,
			char *err, size_t errlen)
{
	char ids[8][CT_CTR_ID_LEN];
	size_t n = 0;
	int rc;

	if (!ref || !*ref || strlen(ref) >= CT_NAME_LEN) {
		snprintf(err, errlen, "invalid container '%s'", ref ? ref : "");
		return -1;
	}
	if (hex_prefix(ref)) {
		rc = by_prefix(ref, cgroup, cg_len, id, id_len, err, errlen);
		if (rc <= 0)
			return rc;
	}
	/* a name: the names already known, then the runtimes' state */
	for (size_t i = 0; i < CTR_BUCKETS; i++)
		for (struct ctr_info *c = ctr_table[i]; c; c = c->next)
			if (atomic_load(&c->names.state) == CT_NAMES_FOUND &&
			    !strcmp(c->names.name, ref) && n < ARRAY_SIZE(ids))
				ct_strlcpy(ids[n++], c->id, sizeof(ids[0]));
	if (!n)
		n = ct_names_find_by_name(state_root, ref, ids, ARRAY_SIZE(ids));
	for (size_t i = 0; i < n; i++) {
		rc = by_prefix(ids[i], cgroup, cg_len, id, id_len, err, errlen);
		if (rc <= 0)
			return rc;   /* the first of them that runs */
	}
	snprintf(err, errlen, "no running container %s (by id%s)", ref,
		 n ? " or name: the runtime knows it, but it has no cgroup: is it running?" : " or name");
	return -1;
}

int ct_pod_cgroup(const char *uid, char *cgroup, size_t cg_len, char *err, size_t errlen)
{
	char u[CT_POD_UID_LEN];

	if (!uid || !ct_parse_pod_uid(uid, strlen(uid), u)) {
		snprintf(err, errlen, "invalid pod UID '%s' (8-4-4-4-12 hex digits)", uid ? uid : "");
		return -1;
	}
	walk.prefix = NULL;
	walk.pod = u;
	if (walk_tree(err, errlen) < 0)
		return -1;
	if (!walk.ids) {
		snprintf(err, errlen, "no pod %s on this host (no kubepods cgroup names it)", u);
		return -1;
	}
	ct_strlcpy(cgroup, walk.match, cg_len);
	return 0;
}
