/* Network-policy records -> NetPolicyChange events (event_net.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <nftables/libnftables.h>

#include "event_net.h"
#include "ipt_legacy.h"
#include "nft_ctx_cache.h"
#include "ruleset_change.h"
#include "sysctl_values.h"
#include "lib/time_budget.h"
#include "lib/util.h"

#define RULESET_MAX   (64u << 10)  /* ruleset text kept per namespace and per event */
#define DIFF_MAX      (16u << 10)
#define NETNS_CACHE   64
#define SNAPSHOT_TIMEOUT_MS 3000
#define LEGACY_TIMEOUT_MS   2000   /* one iptables-legacy-save, within the wait above */
#define PRIME_TIMEOUT_MS    15000  /* every legacy table and sysctl of a namespace */

static struct ct_net_stats stats;
static uint32_t host_netns;      /* the agent's own: no budget (below) */
#define NETNS_BUDGET { .share = 8, .max_ns = 2000000000ll, .left_ns = 2000000000ll }

void ct_net_get_stats(struct ct_net_stats *s)
{
	*s = stats;
	s->legacy_forgotten = ct_ipt_legacy_forgotten();
}

/* ---------------------------------------------------------------- acceptance */

enum ct_net_verdict ct_net_verdict(const struct ct_net_event *e, const struct ct_nl_result *r,
				   const struct ct_net_obj *o)
{
	unsigned n = e->n_acks < CT_NET_ACKS_MAX ? e->n_acks : CT_NET_ACKS_MAX;
	bool acked = false;

	for (unsigned i = 0; i < n; i++) {
		const struct ct_net_ack *a = &e->acks[i];
		bool mine;

		if (r->batch)	/* a batch commits or aborts as a whole */
			mine = a->seq - r->seq_first <= r->seq_last - r->seq_first ||
			       (e->truncated && a->seq - r->seq_first < 0x80000000u);
		else
			mine = a->seq == o->seq;
		if (!mine)
			continue;
		if (a->error)
			return CT_NET_REJECTED;
		if (a->seq == o->seq)
			acked = true;
	}
	if (acked)
		return CT_NET_ACCEPTED_ACK;
	/* netlink answers an error even without NLM_F_ACK, so no error queued
	 * while the kernel handled the request (synchronously, in sendmsg)
	 * means it was applied; with NLM_F_ACK the ack itself should be there */
	if ((o->msg_flags & NLM_F_ACK) && !r->batch)
		return CT_NET_UNCONFIRMED;
	return CT_NET_ACCEPTED_NOERR;
}

/* ---------------------------------------------------------------- namespaces */

struct netns_entry {
	uint32_t inode;
	char name[64];
	char *ruleset;           /* last known nftables ruleset, or NULL */
	bool has_ruleset;
	int64_t gen;             /* its generation (-1: not known) */
	uint64_t listed_ns;      /* when it was read (monotonic, once done) */
	struct ct_time_budget budget; /* its share of the loop's waits (below) */
};

static struct netns_entry netns_cache[NETNS_CACHE];
static unsigned netns_next;

static struct netns_entry *netns_get(uint32_t inode, bool create)
{
	struct netns_entry *e;

	for (unsigned i = 0; i < NETNS_CACHE; i++)
		if (netns_cache[i].inode == inode)
			return &netns_cache[i];
	if (!create)
		return NULL;
	e = &netns_cache[netns_next++ % NETNS_CACHE];
	free(e->ruleset);
	memset(e, 0, sizeof(*e));
	e->inode = inode;
	e->gen = -1;
	e->budget = (struct ct_time_budget)NETNS_BUDGET;
	return e;
}

/* Name of a network namespace from /run/netns (ip netns), or "". Also
 * gives a path to open it. */
static bool netns_lookup_run(uint32_t inode, char *name, size_t nlen, char *path, size_t plen)
{
	DIR *d = opendir("/run/netns");
	struct dirent *de;
	bool found = false;

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		char p[300];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/run/netns/%s", de->d_name);
		if (stat(p, &st) == 0 && st.st_ino == inode) {
			ct_strlcpy(name, de->d_name, nlen);
			ct_strlcpy(path, p, plen);
			found = true;
		}
	}
	closedir(d);
	return found;
}

/* Any process still in the namespace (a container's, once the acting
 * process is gone); a bounded scan of /proc, taken only when the cheaper
 * ways found nothing. */
#define PROC_SCAN_MAX 8192

static bool netns_lookup_proc(uint32_t inode, char *path, size_t plen)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	unsigned seen = 0;
	bool found = false;

	if (!d)
		return false;
	while (!found && seen++ < PROC_SCAN_MAX && (de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, plen, "/proc/%s/ns/net", de->d_name);
		found = stat(path, &st) == 0 && st.st_ino == inode;
	}
	closedir(d);
	return found;
}

/* A path that opens the namespace: the acting process if alive, else a
 * named namespace, else pid 1's (the host) when it is that one, else any
 * process in it. */
static bool netns_path(uint32_t inode, uint32_t pid, char *name, size_t nlen,
		       char *path, size_t plen)
{
	struct stat st;

	name[0] = '\0';
	if (netns_lookup_run(inode, name, nlen, path, plen))
		return true;
	snprintf(path, plen, "/proc/%u/ns/net", pid);
	if (stat(path, &st) == 0 && st.st_ino == inode)
		return true;
	snprintf(path, plen, "/proc/1/ns/net");
	if (stat(path, &st) == 0 && st.st_ino == inode) {
		ct_strlcpy(name, "host", nlen);
		return true;
	}
	return netns_lookup_proc(inode, path, plen);
}

/* ---------------------------------------------------------------- worker */

/* One request at a time: the collector posts, the worker setns()'s into
 * the namespace, lists the ruleset with libnftables, dumps a legacy
 * iptables table, reads a sysctl and resolves interface indexes there,
 * then signals. The collector waits with a timeout, so a stuck worker
 * costs one timeout, not the agent. */
#define IFX_MAX 8

struct snap_req {
	char path[300];
	uint32_t inode;          /* the namespace the path must still name */
	uint64_t cookie;         /* ...and its cookie, if known (0: any) */
	uint32_t ifindex[IFX_MAX];
	unsigned n_ifindex;
	bool want_ruleset;
	char legacy_family[8];   /* a legacy table to dump ("" none) */
	char legacy_table[CT_IPT_TABLE_LEN];
	struct ct_ipt_size legacy_size; /* the table's when dumped (0: changing) */
	bool prime_legacy;       /* remember every legacy table there */
	char prime_sysctls[16];  /* remember every sysctl under this dir ("" none) */
	char file[PATH_MAX];     /* a sysctl to read there ("" none) */
	/* another text to take there (the start-up comparison's sources) */
	char *(*dump)(uint32_t netns_inode, size_t max, int *err);
	size_t dump_max;
	/* results */
	char *ruleset;
	int64_t ruleset_gen;     /* its generation, -1: not known */
	uint64_t listed_ns;      /* when the listing was done */
	char *legacy_text;
	int legacy_err;
	char *file_buf;
	ssize_t file_len;
	int file_err;
	char *dump_text;
	int dump_err;
	char ifname[IFX_MAX][IF_NAMESIZE];
	int err;
	bool done;
	bool abandoned;          /* the collector stopped waiting */
};

static void req_free(struct snap_req *r)
{
	if (!r)
		return;
	free(r->ruleset);
	free(r->legacy_text);
	free(r->file_buf);
	free(r->dump_text);
	free(r);
}

/* Every legacy table of the worker's current namespace, as last known. */
static void prime_legacy_here(uint32_t inode)
{
	static const char *fams[] = { "ip", "ip6" };
	bool all = true;

	for (size_t f = 0; f < ARRAY_SIZE(fams); f++) {
		char names[16][CT_IPT_TABLE_LEN];
		int n = ct_ipt_legacy_tables(fams[f], names, ARRAY_SIZE(names));

		all &= n >= 0;
		for (int i = 0; i < n; i++) {
			char *text;

			if (ct_ipt_legacy_dump(fams[f], names[i], LEGACY_TIMEOUT_MS, &text) == 0) {
				ct_ipt_legacy_remember(inode, fams[f], names[i], text);
				free(text);
				stats.legacy_dumps++;
			} else {
				all = false;
				stats.legacy_failures++;
			}
		}
	}
	if (all)
		ct_ipt_legacy_mark_primed(inode);
}

static pthread_t worker;
static bool worker_running, worker_stop;
static pthread_mutex_t wlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wcond = PTHREAD_COND_INITIALIZER;
static struct snap_req *wreq;         /* posted, not yet taken */
static struct snap_req *wbusy;        /* being worked on */

static void work(struct snap_req *r)
{
	int fd = open(r->path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint64_t cookie;

	if (fd < 0) {
		r->err = errno;
		return;
	}
	/* a /proc/PID path may name another process by now */
	if (fstat(fd, &st) < 0 || st.st_ino != r->inode) {
		r->err = ESRCH;
		close(fd);
		return;
	}
	/* net namespaces can be switched per thread */
	if (setns(fd, CLONE_NEWNET) < 0) {
		r->err = errno;
		close(fd);
		return;
	}
	close(fd);
	cookie = ct_sysctl_netns_cookie();
	/* the inode is another namespace's by now (the one asked for is gone) */
	if (r->cookie && cookie && cookie != r->cookie) {
		r->err = ESRCH;
		return;
	}
	for (unsigned i = 0; i < r->n_ifindex && i < IFX_MAX; i++)
		if (!if_indextoname(r->ifindex[i], r->ifname[i]))
			r->ifname[i][0] = '\0';
	if (r->want_ruleset) {
		r->ruleset = ct_nft_list_ruleset(r->inode, RULESET_MAX, &r->ruleset_gen, &r->err);
		r->listed_ns = ct_now_mono_ns();
	}
	if (r->legacy_table[0] &&
	    ct_ipt_legacy_dump_sized(r->legacy_family, r->legacy_table, LEGACY_TIMEOUT_MS,
				     &r->legacy_text, &r->legacy_size) < 0)
		r->legacy_err = errno;
	if (r->file[0]) {
		r->file_buf = malloc(CT_SYSCTL_READ_MAX);
		r->file_len = r->file_buf ? ct_sysctl_read(r->file, r->file_buf, CT_SYSCTL_READ_MAX) : -1;
		r->file_err = r->file_len < 0 ? errno : 0;
	}
	if (r->prime_legacy)
		prime_legacy_here(r->inode);
	if (r->prime_sysctls[0])
		ct_sysctl_prime((struct ct_sysctl_ns){ r->inode, cookie }, r->prime_sysctls);
	if (r->dump)
		r->dump_text = r->dump(r->inode, r->dump_max ? r->dump_max : RULESET_MAX, &r->dump_err);
}

#define NFT_CTX_IDLE_NS (5ull * 1000000000ull)

static void *worker_main(void *arg)
{
	pthread_mutex_lock(&wlock);
	while (!worker_stop) {
		struct snap_req *r;

		if (!wreq) {
			struct timespec dl;

			clock_gettime(CLOCK_REALTIME, &dl);
			dl.tv_sec += 1;
			if (pthread_cond_timedwait(&wcond, &wlock, &dl) == ETIMEDOUT) {
				/* closing a context can block (nft_ctx_cache.c): unlocked */
				pthread_mutex_unlock(&wlock);
				ct_nft_ctx_expire(ct_now_mono_ns(), NFT_CTX_IDLE_NS);
				pthread_mutex_lock(&wlock);
			}
			continue;
		}
		r = wreq;
		wreq = NULL;
		wbusy = r;
		pthread_mutex_unlock(&wlock);
		work(r);
		pthread_mutex_lock(&wlock);
		wbusy = NULL;
		r->done = true;
		if (r->abandoned)
			req_free(r);
		pthread_cond_broadcast(&wcond);
	}
	pthread_mutex_unlock(&wlock);
	ct_nft_ctx_expire(0, 0);
	return NULL;
}

int ct_net_worker_start(void)
{
	struct stat st;

	if (worker_running)
		return 0;
	if (stat("/proc/self/ns/net", &st) == 0)
		host_netns = st.st_ino;
	worker_stop = false;
	if (pthread_create(&worker, NULL, worker_main, NULL) != 0)
		return -1;
	worker_running = true;
	return 0;
}

void ct_net_worker_stop(void)
{
	if (!worker_running)
		return;
	pthread_mutex_lock(&wlock);
	worker_stop = true;
	pthread_cond_broadcast(&wcond);
	pthread_mutex_unlock(&wlock);
	pthread_join(worker, NULL);
	worker_running = false;
	for (unsigned i = 0; i < NETNS_CACHE; i++) {
		free(netns_cache[i].ruleset);
		netns_cache[i].ruleset = NULL;
	}
	ct_ipt_legacy_forget_all();
	ct_sysctl_forget_all();
}

/*
 * The event loop waits for the worker. In a namespace other than the
 * host's anyone may change rules as fast as they like (an unprivileged
 * user namespace owns the network namespace it makes), with tables that
 * take long to list. There each namespace's waits have a budget of an
 * eighth of the time (2 s saved at most), and all of them together a
 * quarter (3 s): one namespace cannot take the others' share. Past it the
 * request is not made: the change is still reported, without what only
 * the worker could read (counted).
 */
static struct ct_time_budget guest_budget = {
	.share = 4, .max_ns = 3000000000ll, .left_ns = 3000000000ll,
};

static bool guest_budget_left(struct netns_entry *ns)
{
	uint64_t now = ct_now_mono_ns();
	bool mine, all;

	if (ns->inode == host_netns)
		return true;
	mine = ct_time_budget_left(&ns->budget, now);
	all = ct_time_budget_left(&guest_budget, now);
	if (mine && all)
		return true;
	stats.snapshots_skipped++;
	return false;
}

static void guest_budget_spend(struct netns_entry *ns, uint64_t waited)
{
	if (ns->inode == host_netns)
		return;
	ct_time_budget_spend(&ns->budget, waited);
	ct_time_budget_spend(&guest_budget, waited);
}

/* Run r on the worker and wait, the wait charged to ns's budget (NULL:
 * the agent's own priming). Returns 0 when it finished in time; the
 * caller then owns r. Otherwise r belongs to the worker. */
static int run_on_worker(struct snap_req *r, int timeout_ms, struct netns_entry *ns)
{
	struct timespec dl;
	uint64_t t0, waited;
	int rc = 0;

	if (!worker_running)
		return -1;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&wlock);
	if (wreq || wbusy) {		/* still stuck on an abandoned one */
		pthread_mutex_unlock(&wlock);
		return -1;
	}
	t0 = ct_now_mono_ns();
	wreq = r;
	pthread_cond_broadcast(&wcond);
	while (!r->done && rc == 0)
		rc = pthread_cond_timedwait(&wcond, &wlock, &dl);
	waited = ct_now_mono_ns() - t0;
	stats.worker_wait_us += waited / 1000;
	if (ns)
		guest_budget_spend(ns, waited);
	if (!r->done) {
		if (wreq == r)
			wreq = NULL;	/* never taken: still ours */
		else {
			r->abandoned = true;
			pthread_mutex_unlock(&wlock);
			return -2;
		}
	}
	pthread_mutex_unlock(&wlock);
	return r->done ? 0 : -1;
}

/* Take the rulesets (nftables, every legacy table) and the network
 * sysctls of one namespace (all sysctls for the host) as last known: the
 * "before" of their first change (no event). */
static void prime_one(const char *path, uint32_t inode, const char *name, bool host)
{
	struct netns_entry *ns = netns_get(inode, true);
	struct snap_req *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return;
	ct_strlcpy(r->path, path, sizeof(r->path));
	r->inode = inode;
	ct_strlcpy(ns->name, name, sizeof(ns->name));
	r->want_ruleset = true;
	r->prime_legacy = true;
	ct_strlcpy(r->prime_sysctls, host ? "/proc/sys" : "/proc/sys/net", sizeof(r->prime_sysctls));
	if (host)
		ct_sysctl_keep(inode);
	rc = run_on_worker(r, PRIME_TIMEOUT_MS, NULL);
	if (rc == -2)
		return;
	if (rc == 0 && r->ruleset) {
		free(ns->ruleset);
		ns->ruleset = r->ruleset;
		r->ruleset = NULL;
		ns->has_ruleset = true;
		ns->gen = r->ruleset_gen;
		ns->listed_ns = r->listed_ns;
		stats.snapshots++;
	} else {
		stats.snapshot_failures++;
	}
	req_free(r);
}

char *ct_net_dump(const char *path, uint32_t inode,
		  char *(*dump)(uint32_t netns_inode, size_t max, int *err), size_t max, int *err)
{
	struct snap_req *r = calloc(1, sizeof(*r));
	char *text = NULL;
	int rc;

	*err = ENOMEM;
	if (!r)
		return NULL;
	ct_strlcpy(r->path, path, sizeof(r->path));
	r->inode = inode;
	r->dump = dump;
	r->dump_max = max;
	rc = run_on_worker(r, SNAPSHOT_TIMEOUT_MS, NULL);
	if (rc == -2) {
		*err = ETIMEDOUT;
		return NULL;	/* the worker frees it */
	}
	if (rc == 0 && r->dump_text) {
		text = r->dump_text;
		r->dump_text = NULL;
	} else {
		*err = rc < 0 ? EAGAIN : r->err ? r->err : r->dump_err ? r->dump_err : EIO;
	}
	req_free(r);
	return text;
}

void ct_net_prime(void)
{
	DIR *d;
	struct dirent *de;
	struct stat st;

	if (stat("/proc/1/ns/net", &st) == 0)
		prime_one("/proc/1/ns/net", st.st_ino, "host", true);
	d = opendir("/run/netns");
	if (!d)
		return;
	for (unsigned n = 0; (de = readdir(d)) && n < NETNS_CACHE / 2; ) {
		char p[300];

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/run/netns/%s", de->d_name);
		if (stat(p, &st) == 0 && !netns_get(st.st_ino, false)) {
			prime_one(p, st.st_ino, de->d_name, false);
			n++;
		}
	}
	closedir(d);
}

/* ---------------------------------------------------------------- diff */

static size_t split_lines(char *s, char **lines, size_t max)
{
	size_t n = 0;

	while (*s && n < max) {
		char *nl = strchr(s, '\n');

		lines[n++] = s;
		if (!nl)
			break;
		*nl = '\0';
		s = nl + 1;
	}
	return n;
}

size_t ct_net_line_diff(const char *before, const char *after, char *out, size_t out_len)
{
	enum { MAXL = 4000 };
	static char *bl[MAXL], *al[MAXL];
	static unsigned char used[MAXL];
	char *b = strdup(before ? before : ""), *a = strdup(after ? after : "");
	size_t nb, na, o = 0;

	if (!out_len)
		return 0;
	out[0] = '\0';
	if (!a || !b)
		goto out;
	nb = split_lines(b, bl, MAXL);
	na = split_lines(a, al, MAXL);
	memset(used, 0, sizeof(used));
	/* a line present on both sides (as many times) is unchanged; O(n*m)
	 * on bounded input, rulesets are small */
	for (size_t i = 0; i < nb; i++) {
		bool found = false;

		for (size_t j = 0; j < na; j++)
			if (!used[j] && !strcmp(bl[i], al[j])) {
				used[j] = 1;
				found = true;
				break;
			}
		if (!found && o + 1 < out_len)
			o += snprintf(out + o, out_len - o, "-%s\n", bl[i]);
	}
	for (size_t j = 0; j < na; j++)
		if (!used[j] && o + 1 < out_len)
			o += snprintf(out + o, out_len - o, "+%s\n", al[j]);
	if (o >= out_len)
		o = out_len - 1;
out:
	free(a);
	free(b);
	return o;
}

/* ---------------------------------------------------------------- events */

struct net_out {
	struct ct_event_buf eb;
	PbNetPolicyChange net;
	char summary[320];
	char netns_name[64];
	char device[IF_NAMESIZE + 8];
	char *before, *after;
	char diff[DIFF_MAX];
};

static struct net_out nout;
static struct ct_net_obj objs[CT_NL_OBJ_MAX];

static const char *verdict_name(enum ct_net_verdict v)
{
	switch (v) {
	case CT_NET_ACCEPTED_ACK: return "acked";
	case CT_NET_ACCEPTED_NOERR: return "no-error";
	case CT_NET_UNCONFIRMED: return "unconfirmed";
	case CT_NET_ACCEPTED_SYSCALL: return "syscall";
	default: return "rejected";
	}
}

static void emit_obj(struct ct_collector *c, const struct ct_net_event *e,
		     struct ct_net_obj *o, const char *acceptance, unsigned idx,
		     unsigned count, bool truncated, const char *netns_name,
		     const char *before, const char *after, const char *diff)
{
	struct ct_event_buf *b = &nout.eb;
	PbNetPolicyChange *n = &nout.net;

	ct_event_envelope(c, b, &b->ev, CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_NET, e->hdr.ts_ns);
	ct_event_fill_task(c, b, &e->task);
	*n = (PbNetPolicyChange)CHANGETRACE__V1__NET_POLICY_CHANGE__INIT;
	n->subsystem = o->subsystem;
	n->op = o->op;
	n->object_type = o->object_type;
	n->family = o->family;
	n->table = o->table;
	n->chain = o->chain;
	n->handle = o->handle;
	n->set = o->set;
	n->destination = o->destination;
	n->gateway = o->gateway;
	n->device = o->device;
	n->ifindex = o->ifindex;
	n->detail = o->detail;
	n->netns_inode = e->task.net_ns;
	n->netns_name = (char *)netns_name;
	/* a container's namespace changed from outside it (nsenter, a
	 * runtime, a CNI plugin): say whose it is */
	{
		const PbContainer *nc = ct_container_of_netns(&b->netns_ctr, e->task.net_ns);
		const PbContainer *pc = b->proc.container;

		if (nc && (!pc || pc->monitor || strcmp(pc->id, nc->id)))
			n->netns_container = (PbContainer *)nc;
	}
	n->msg_type = o->msg_type;
	n->malformed = o->malformed;
	n->truncated = truncated;
	n->acceptance = (char *)acceptance;
	n->batch_index = idx;
	n->batch_count = count;
	ct_net_obj_summary(o, nout.summary, sizeof(nout.summary));
	n->summary = nout.summary;
	n->ruleset_before = (char *)(before ? before : "");
	n->ruleset_after = (char *)(after ? after : "");
	n->ruleset_diff = (char *)(diff ? diff : "");
	n->rule = o->rule;
	n->ruleset_inexact = o->ruleset_inexact;
	b->ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_NET;
	b->ev.net = n;
	stats.changes++;
	ct_sink_emit(&c->sink, &b->ev);
}

static bool wants_ruleset(const struct ct_net_obj *o, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (o[i].subsystem == CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_NFTABLES)
			return true;
	return false;
}

/* A legacy table replace whose table can be dumped (ip, ip6). */
static bool wants_legacy(const struct ct_net_obj *o, size_t n)
{
	return n == 1 && o->subsystem == CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_IPTABLES_LEGACY &&
	       ct_ipt_legacy_family_ok(o->family) && ct_ipt_legacy_table_ok(o->table);
}

int ct_net_from_record(struct ct_collector *c, const void *data, size_t len,
		       struct ct_event_buf *unused)
{
	const struct ct_net_event *e = data;
	size_t hdr = offsetof(struct ct_net_event, data);
	struct ct_nl_result res = { 0 };
	struct netns_entry *ns;
	struct snap_req *req = NULL;
	char path[300];
	enum ct_net_verdict v[CT_NL_OBJ_MAX];
	size_t n = 0, accepted = 0;
	bool have_path, first = true, legacy, legacy_ahead = false, nft_inexact = false;
	const char *before = NULL;
	char *legacy_before = NULL;

	if (len < hdr || e->data_len > len - hdr || e->data_len > CT_NET_DATA_MAX)
		return -1;
	stats.records++;
	switch (e->source) {
	case CT_NET_SRC_NETLINK:
		ct_nl_decode(e->proto, e->data, e->data_len, objs, CT_NL_OBJ_MAX, &res);
		n = res.n;
		break;
	case CT_NET_SRC_SETSOCKOPT:
		ct_nl_decode_sockopt(e->proto, e->optname, e->data, e->data_len, &objs[0]);
		res.malformed = objs[0].malformed;
		n = 1;
		break;
	case CT_NET_SRC_BPF:
		ct_nl_decode_bpf(e->proto, e->data, e->data_len, &objs[0]);
		res.malformed = objs[0].malformed;
		n = 1;
		break;
	default:
		return -1;
	}
	if (res.malformed)
		stats.malformed++;

	for (size_t i = 0; i < n; i++) {
		v[i] = e->source == CT_NET_SRC_NETLINK ? ct_net_verdict(e, &res, &objs[i])
						       : CT_NET_ACCEPTED_SYSCALL;
		if (v[i] == CT_NET_REJECTED)
			continue;
		if (v[i] == CT_NET_UNCONFIRMED)
			stats.unconfirmed++;
		accepted++;
	}
	if (n && !accepted) {
		stats.rejected++;
		return 1;
	}
	if (!n) {
		/* nothing decodable (e.g. only a batch header): still a change
		 * the kernel took; report it rather than lose it */
		memset(&objs[0], 0, sizeof(objs[0]));
		snprintf(objs[0].object_type, sizeof(objs[0].object_type), "unknown");
		objs[0].malformed = true;
		v[0] = CT_NET_UNCONFIRMED;
		n = 1;
		accepted = 1;
	}

	/* namespace name, interface names and the ruleset, in that namespace */
	ns = netns_get(e->task.net_ns, true);
	have_path = netns_path(e->task.net_ns, e->task.pid, ns->name, sizeof(ns->name),
			       path, sizeof(path));
	legacy = wants_legacy(objs, n);
	if (have_path && worker_running) {
		req = calloc(1, sizeof(*req));
		if (req) {
			ct_strlcpy(req->path, path, sizeof(req->path));
			req->inode = e->task.net_ns;
			req->want_ruleset = wants_ruleset(objs, n);
			if (legacy) {
				ct_strlcpy(req->legacy_family, objs[0].family, sizeof(req->legacy_family));
				ct_strlcpy(req->legacy_table, objs[0].table, sizeof(req->legacy_table));
			}
			for (size_t i = 0; i < n && req->n_ifindex < IFX_MAX; i++)
				if (objs[i].ifindex && !objs[i].device[0])
					req->ifindex[req->n_ifindex++] = objs[i].ifindex;
			if ((!req->want_ruleset && !legacy && !req->n_ifindex) ||
			    !guest_budget_left(ns)) {
				free(req);
				req = NULL;
			} else {
				int rc = run_on_worker(req, SNAPSHOT_TIMEOUT_MS, ns);

				if (rc == -2) {
					req = NULL;	/* the worker frees it */
					stats.snapshot_failures++;
				} else if (rc < 0) {
					free(req);
					req = NULL;
					stats.snapshot_failures++;
				}
			}
		}
	} else if (legacy) {
		stats.legacy_failures++;
	}
	if (req) {
		unsigned k = 0;

		for (size_t i = 0; i < n && k < req->n_ifindex; i++)
			if (objs[i].ifindex && !objs[i].device[0]) {
				if (req->ifname[k][0])
					ct_strlcpy(objs[i].device, req->ifname[k], sizeof(objs[i].device));
				k++;
			}
		if (req->want_ruleset) {
			if (req->ruleset) {
				stats.snapshots++;
				before = ns->has_ruleset ? ns->ruleset : NULL;
				nft_inexact = !ct_ruleset_brackets(ns->gen, ns->listed_ns, req->ruleset_gen,
							     e->hdr.ts_ns);
				if (nft_inexact)
					stats.snapshots_inexact++;
				nout.diff[0] = '\0';
				if (before) {
					ct_net_line_diff(before, req->ruleset, nout.diff, sizeof(nout.diff));
					if (!nft_inexact)
						ct_nft_rule_text(objs, n, v, nout.diff);
				}
			} else {
				stats.snapshot_failures++;
			}
		}
		if (legacy) {
			if (req->legacy_text) {
				struct ct_ipt_change ch;
				bool before_ahead = ct_ipt_legacy_ahead(e->task.net_ns, objs[0].family,
									objs[0].table);

				stats.legacy_dumps++;
				/* the dump shows the table as this replace left it
				 * only if the sizes agree (a later replace changed it) */
				legacy_ahead = !ct_legacy_size_is(e->data, e->data_len, &req->legacy_size);
				objs[0].ruleset_inexact = legacy_ahead || before_ahead;
				if (objs[0].ruleset_inexact)
					stats.legacy_inexact++;
				nout.diff[0] = '\0';
				/* not there when every table of a primed namespace
				 * was read: made since (its first read creates it) */
				if (ct_ipt_legacy_known(e->task.net_ns, objs[0].family, objs[0].table,
							&legacy_before) ||
				    (ct_ipt_legacy_primed(e->task.net_ns) && (legacy_before = strdup("")))) {
					ct_net_line_diff(legacy_before, req->legacy_text, nout.diff,
							 sizeof(nout.diff));
					ct_ipt_legacy_describe(nout.diff, &ch);
					if (!objs[0].ruleset_inexact)
						ct_legacy_what(&objs[0], &ch, req->legacy_text);
				}
			} else {
				stats.legacy_failures++;
			}
		}
	}

	/* a replace whose table was not read: the text known is from before
	 * it, not the next change's "before" */
	if (legacy && !(req && req->legacy_text))
		ct_ipt_legacy_mark_ahead(e->task.net_ns, objs[0].family, objs[0].table);

	for (size_t i = 0, idx = 0; i < n; i++) {
		bool nft = objs[i].subsystem == CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_NFTABLES;
		bool with_rs = nft && first && req && req->ruleset;
		bool with_legacy = legacy && req && req->legacy_text;

		if (v[i] == CT_NET_REJECTED)
			continue;
		if (with_rs)
			objs[i].ruleset_inexact = nft_inexact;
		/* the ruleset travels once per request, on its first object */
		if (with_legacy)
			emit_obj(c, e, &objs[i], verdict_name(v[i]), idx++, accepted,
				 e->truncated || res.more, ns->name,
				 legacy_before ? legacy_before : "", req->legacy_text,
				 legacy_before ? nout.diff : NULL);
		else
			emit_obj(c, e, &objs[i], verdict_name(v[i]), idx++, accepted,
				 e->truncated || res.more, ns->name,
				 with_rs ? (before ? before : "") : NULL,
				 with_rs ? req->ruleset : NULL,
				 with_rs && before ? nout.diff : NULL);
		if (nft)
			first = false;
	}
	if (req) {
		if (req->ruleset) {
			free(ns->ruleset);
			ns->ruleset = req->ruleset;
			req->ruleset = NULL;
			ns->has_ruleset = true;
			ns->gen = req->ruleset_gen;
			ns->listed_ns = req->listed_ns;
		}
		if (legacy && req->legacy_text) {
			ct_ipt_legacy_remember(e->task.net_ns, objs[0].family, objs[0].table,
					       req->legacy_text);
			if (legacy_ahead)
				ct_ipt_legacy_mark_ahead(e->task.net_ns, objs[0].family,
							 objs[0].table);
		}
		req_free(req);
	}
	free(legacy_before);
	return 1;
}

/* ---------------------------------------------------------------- in a namespace */

int ct_net_read_in_ns(uint32_t inode, uint64_t cookie, uint32_t pid, const char *path, char *buf,
		      size_t len, char *ns_name, size_t ns_len)
{
	struct netns_entry *ns = netns_get(inode, true);
	struct snap_req *r;
	char nspath[300];
	ssize_t n = -1;
	int rc;

	if (ns_len)
		ns_name[0] = '\0';
	if (!netns_path(inode, pid, ns->name, sizeof(ns->name), nspath, sizeof(nspath)) ||
	    !worker_running)
		return -1;
	if (ns_len)
		ct_strlcpy(ns_name, ns->name, ns_len);
	if (!guest_budget_left(ns))
		return -1;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -1;
	ct_strlcpy(r->path, nspath, sizeof(r->path));
	r->inode = inode;
	r->cookie = cookie;
	if (path)
		ct_strlcpy(r->file, path, sizeof(r->file));
	/* a namespace first seen now: its other values, for their next change */
	if (!ct_sysctl_primed((struct ct_sysctl_ns){ inode, cookie }))
		ct_strlcpy(r->prime_sysctls, "/proc/sys/net", sizeof(r->prime_sysctls));
	rc = run_on_worker(r, SNAPSHOT_TIMEOUT_MS, ns);
	if (rc == -2)
		return -1;	/* the worker frees it */
	if (rc == 0 && !r->err && path && r->file_len >= 0 && (size_t)r->file_len < len) {
		memcpy(buf, r->file_buf, r->file_len);
		buf[r->file_len] = '\0';
		n = r->file_len;
	}
	req_free(r);
	return (int)n;
}

/* Does the name still name the namespace (a namespace gone leaves its
 * inode, and its name in the cache, to the next one)? */
static bool netns_name_names(const char *name, uint32_t inode)
{
	char path[300];
	struct stat st;

	if (!strcmp(name, "host"))
		snprintf(path, sizeof(path), "/proc/1/ns/net");
	else
		snprintf(path, sizeof(path), "/run/netns/%s", name);
	return stat(path, &st) == 0 && st.st_ino == inode;
}

void ct_net_netns_name(uint32_t inode, uint32_t pid, char *name, size_t len)
{
	struct netns_entry *ns = netns_get(inode, true);
	char path[300];

	if (!ns->name[0] || !netns_name_names(ns->name, inode))
		netns_path(inode, pid, ns->name, sizeof(ns->name), path, sizeof(path));
	if (ns->name[0])
		ct_strlcpy(name, ns->name, len);
	else
		snprintf(name, len, "%u", inode);
}

static const struct ct_counter_def ct_net_counters_defs[] = {
	CT_COUNTER("net_changes", struct ct_net_stats, changes),
	CT_COUNTER("net_rejected", struct ct_net_stats, rejected),
	CT_COUNTER("net_unconfirmed", struct ct_net_stats, unconfirmed),
	CT_COUNTER("net_malformed", struct ct_net_stats, malformed),
	CT_COUNTER("net_ruleset_snapshots", struct ct_net_stats, snapshots),
	CT_COUNTER("net_ruleset_failures", struct ct_net_stats, snapshot_failures),
	CT_COUNTER("net_ruleset_inexact", struct ct_net_stats, snapshots_inexact),
	CT_COUNTER("net_legacy_dumps", struct ct_net_stats, legacy_dumps),
	CT_COUNTER("net_legacy_failures", struct ct_net_stats, legacy_failures),
	CT_COUNTER("net_legacy_inexact", struct ct_net_stats, legacy_inexact),
	CT_COUNTER("net_worker_wait_us", struct ct_net_stats, worker_wait_us),
	CT_COUNTER("net_snapshots_skipped", struct ct_net_stats, snapshots_skipped),
	CT_COUNTER("net_legacy_forgotten", struct ct_net_stats, legacy_forgotten),
};
const struct ct_counter_table ct_net_counters = CT_COUNTER_TABLE(ct_net_counters_defs);
