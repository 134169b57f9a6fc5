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
#include "nft_ctx_cache.h"
#include "lib/util.h"

#define RULESET_MAX   (64u << 10)  /* ruleset text kept per namespace and per event */
#define DIFF_MAX      (16u << 10)
#define NETNS_CACHE   64
#define SNAPSHOT_TIMEOUT_MS 3000

static struct ct_net_stats stats;

void ct_net_get_stats(struct ct_net_stats *s)
{
	*s = stats;
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

/* A path that opens the namespace: the acting process if alive, else a
 * named namespace, else pid 1's (the host) when it is that one. */
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
	return false;
}

/* ---------------------------------------------------------------- worker */

/* One request at a time: the collector posts, the worker setns()'s into
 * the namespace, lists the ruleset with libnftables and resolves interface
 * indexes, then signals. The collector waits with a timeout, so a stuck
 * worker costs one timeout, not the agent. */
#define IFX_MAX 8

struct snap_req {
	char path[300];
	uint32_t inode;          /* the namespace the path must still name */
	uint32_t ifindex[IFX_MAX];
	unsigned n_ifindex;
	bool want_ruleset;
	/* the text to take; NULL: the nftables ruleset */
	char *(*dump)(uint32_t netns_inode, size_t max, int *err);
	size_t max;
	/* results */
	char *ruleset;
	char ifname[IFX_MAX][IF_NAMESIZE];
	int err;
	bool done;
	bool abandoned;          /* the collector stopped waiting */
};

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
	for (unsigned i = 0; i < r->n_ifindex && i < IFX_MAX; i++)
		if (!if_indextoname(r->ifindex[i], r->ifname[i]))
			r->ifname[i][0] = '\0';
	if (r->want_ruleset)
		r->ruleset = (r->dump ? r->dump : ct_nft_list_ruleset)(r->inode,
								       r->max ? r->max : RULESET_MAX,
								       &r->err);
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
		if (r->abandoned) {
			free(r->ruleset);
			free(r);
		}
		pthread_cond_broadcast(&wcond);
	}
	pthread_mutex_unlock(&wlock);
	ct_nft_ctx_expire(0, 0);
	return NULL;
}

int ct_net_worker_start(void)
{
	if (worker_running)
		return 0;
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
}

/* Run r on the worker and wait. Returns 0 when it finished in time; the
 * caller then owns r. Otherwise r belongs to the worker. */
static int run_on_worker(struct snap_req *r)
{
	struct timespec dl;
	int rc = 0;

	if (!worker_running)
		return -1;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += SNAPSHOT_TIMEOUT_MS / 1000;
	dl.tv_nsec += (SNAPSHOT_TIMEOUT_MS % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&wlock);
	if (wreq || wbusy) {		/* still stuck on an abandoned one */
		pthread_mutex_unlock(&wlock);
		return -1;
	}
	wreq = r;
	pthread_cond_broadcast(&wcond);
	while (!r->done && rc == 0)
		rc = pthread_cond_timedwait(&wcond, &wlock, &dl);
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

/* Take the ruleset of one namespace into the cache (no event). */
static void prime_one(const char *path, uint32_t inode, const char *name)
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
	rc = run_on_worker(r);
	if (rc == -2)
		return;
	if (rc == 0 && r->ruleset) {
		free(ns->ruleset);
		ns->ruleset = r->ruleset;
		ns->has_ruleset = true;
		stats.snapshots++;
	} else {
		free(r->ruleset);
		stats.snapshot_failures++;
	}
	free(r);
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
	r->want_ruleset = true;
	r->dump = dump;
	r->max = max;
	rc = run_on_worker(r);
	if (rc == -2) {
		*err = ETIMEDOUT;
		return NULL;	/* the worker frees it */
	}
	if (rc == 0 && r->ruleset) {
		text = r->ruleset;
	} else {
		*err = rc < 0 ? EAGAIN : (r->err ? r->err : EIO);
		free(r->ruleset);
	}
	free(r);
	return text;
}

void ct_net_prime(void)
{
	DIR *d;
	struct dirent *de;
	struct stat st;

	if (stat("/proc/1/ns/net", &st) == 0)
		prime_one("/proc/1/ns/net", st.st_ino, "host");
	d = opendir("/run/netns");
	if (!d)
		return;
	for (unsigned n = 0; (de = readdir(d)) && n < NETNS_CACHE / 2; ) {
		char p[300];

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/run/netns/%s", de->d_name);
		if (stat(p, &st) == 0 && !netns_get(st.st_ino, false)) {
			prime_one(p, st.st_ino, de->d_name);
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
	bool have_path, first = true;
	const char *before = NULL;

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
	if (have_path && worker_running) {
		req = calloc(1, sizeof(*req));
		if (req) {
			ct_strlcpy(req->path, path, sizeof(req->path));
			req->inode = e->task.net_ns;
			req->want_ruleset = wants_ruleset(objs, n);
			for (size_t i = 0; i < n && req->n_ifindex < IFX_MAX; i++)
				if (objs[i].ifindex && !objs[i].device[0])
					req->ifindex[req->n_ifindex++] = objs[i].ifindex;
			if (!req->want_ruleset && !req->n_ifindex) {
				free(req);
				req = NULL;
			} else {
				int rc = run_on_worker(req);

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
				nout.diff[0] = '\0';
				if (before)
					ct_net_line_diff(before, req->ruleset, nout.diff, sizeof(nout.diff));
			} else {
				stats.snapshot_failures++;
			}
		}
	}

	for (size_t i = 0, idx = 0; i < n; i++) {
		bool nft = objs[i].subsystem == CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_NFTABLES;
		bool with_rs = nft && first && req && req->ruleset;

		if (v[i] == CT_NET_REJECTED)
			continue;
		/* the ruleset travels once per request, on its first object */
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
			ns->has_ruleset = true;
		}
		free(req);
	}
	return 1;
}

static const struct ct_counter_def ct_net_counters_defs[] = {
	CT_COUNTER("net_changes", struct ct_net_stats, changes),
	CT_COUNTER("net_rejected", struct ct_net_stats, rejected),
	CT_COUNTER("net_unconfirmed", struct ct_net_stats, unconfirmed),
	CT_COUNTER("net_malformed", struct ct_net_stats, malformed),
	CT_COUNTER("net_ruleset_snapshots", struct ct_net_stats, snapshots),
	CT_COUNTER("net_ruleset_failures", struct ct_net_stats, snapshot_failures),
};
const struct ct_counter_table ct_net_counters = CT_COUNTER_TABLE(ct_net_counters_defs);
