/*
 * Store readers: scan with filters, find one event, verify the chain.
 * Readers never write and work whether the agent runs or not. The block
 * being written at the end of the last segment may be incomplete; a bad
 * block there is the end of the data, anywhere else it is corruption:
 * skipped, counted and reported, and the rest still answers.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/container_match.h"
#include "store.h"
#include "store_block.h"
#include "lib/util.h"

struct ct_store_reader {
	char dir[PATH_MAX];
	struct ct_segment *segs;
	size_t n_segs;
	uint64_t corrupt_blocks;
};

int ct_store_reader_open(struct ct_store_reader **out, const char *dir, char *err, size_t errlen)
{
	struct ct_store_reader *r;
	char idpath[PATH_MAX + 16];

	*out = NULL;
	snprintf(idpath, sizeof(idpath), "%s/store.id", dir);
	if (access(idpath, R_OK) != 0) {
		snprintf(err, errlen, "no store at %s (%s)", dir,
			 errno == ENOENT ? "store.id missing" : strerror(errno));
		return -1;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ct_strlcpy(r->dir, dir, sizeof(r->dir));
	if (ct_segments_list(dir, &r->segs, &r->n_segs) < 0) {
		snprintf(err, errlen, "cannot list %s: %s", dir, strerror(errno));
		free(r);
		return -1;
	}
	*out = r;
	return 0;
}

void ct_store_reader_close(struct ct_store_reader *r)
{
	if (!r)
		return;
	free(r->segs);
	free(r);
}

uint64_t ct_store_reader_corrupt_blocks(const struct ct_store_reader *r)
{
	return r->corrupt_blocks;
}

static bool glob_has_magic(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* Can a block hold an event of this container (pod), by its bloom? */
static bool ref_may_be_in(const struct ct_block_hdr *h, const char *ref, bool pod,
			  char *const *aliases, size_t n)
{
	char key[300];

	if (!ct_container_ref_key(ref, pod, key, sizeof(key)))
		return true;
	if (ct_bloom_maybe(h->bloom, key))
		return true;
	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "%s:%s", pod ? "pod" : "ctr", aliases[i]);
		if (ct_bloom_maybe(h->bloom, key))
			return true;
	}
	return false;
}

/* Can a block with this header hold a matching event? */
static bool block_may_match(const struct ct_block_hdr *h, const struct ct_store_filter *f)
{
	if (f->from_seq && h->last_seq < f->from_seq)
		return false;
	if (f->since_ns && h->max_time < f->since_ns)
		return false;
	if (f->until_ns && h->min_time > f->until_ns)
		return false;
	if (f->kind_mask && !(h->kinds & f->kind_mask))
		return false;
	if (f->deploy_id && !ct_bloom_maybe(h->bloom, f->deploy_id))
		return false;
	if (f->path_glob && !glob_has_magic(f->path_glob) && !ct_bloom_maybe(h->bloom, f->path_glob))
		return false;
	if (f->container && !ref_may_be_in(h, f->container, false, f->container_aliases,
					   f->n_container_aliases))
		return false;
	if (f->pod && !ref_may_be_in(h, f->pod, true, f->pod_aliases, f->n_pod_aliases))
		return false;
	return true;
}

static const char *event_deploy(const PbEvent *ev)
{
	if (ev->attribution && ev->attribution->deploy_id && *ev->attribution->deploy_id)
		return ev->attribution->deploy_id;
	if (ev->detail_case == CHANGETRACE__V1__EVENT__DETAIL_DEPLOY && ev->deploy && ev->deploy->deploy)
		return ev->deploy->deploy->id;
	if (ev->detail_case == CHANGETRACE__V1__EVENT__DETAIL_GUARD && ev->guard)
		return ev->guard->deploy_id;
	return NULL;
}

bool ct_store_filter_match(const struct ct_store_filter *f, const PbEvent *ev)
{
	const PbProcess *p = ev->process;
	const PbAttribution *a = ev->attribution;

	if (f->from_seq && ev->seq < f->from_seq)
		return false;
	if (f->since_ns && ev->time_unix_nano < f->since_ns)
		return false;
	if (f->until_ns && ev->time_unix_nano > f->until_ns)
		return false;
	if (f->kind_mask && ((unsigned)ev->kind >= 32 || !(f->kind_mask & (1u << ev->kind))))
		return false;
	if (f->deploy_id) {
		const char *d = event_deploy(ev);

		if (!d || strcmp(d, f->deploy_id))
			return false;
	}
	if (f->path_glob) {
		const Changetrace__V1__FileChange *fc =
			ev->detail_case == CHANGETRACE__V1__EVENT__DETAIL_FILE ? ev->file : NULL;

		if (!fc)
			return false;
		if (fnmatch(f->path_glob, fc->path ? fc->path : "", 0) &&
		    (!fc->old_path || !*fc->old_path || fnmatch(f->path_glob, fc->old_path, 0)))
			return false;
	}
	if (f->ai_only && !(a && a->ai_assisted))
		return false;
	if (f->unobserved_only && !ev->unobserved)
		return false;
	if (f->drift_only) {
		/* drift is a change nobody claims; process events are not changes */
		if (!a || !a->drift || !p)
			return false;
	}
	if (f->comm && (!p || !p->comm || strcmp(p->comm, f->comm)))
		return false;
	if (f->pid >= 0 && (!p || p->pid != (uint32_t)f->pid))
		return false;
	if (f->uid >= 0 && (!p || p->uid != (uint32_t)f->uid))
		return false;
	if (f->netns >= 0) {
		uint32_t ns = ev->detail_case == CHANGETRACE__V1__EVENT__DETAIL_NET && ev->net
				      ? ev->net->netns_inode : (p ? p->net_ns : 0);

		if (ns != (uint32_t)f->netns)
			return false;
	}
	if (f->container && !ct_event_in_container(ev, f->container, f->container_aliases,
						   f->n_container_aliases))
		return false;
	if (f->pod && !ct_event_in_pod(ev, f->pod, f->pod_aliases, f->n_pod_aliases))
		return false;
	return true;
}

/* ---------------------------------------------------- names -> ids */

struct alias_ctx {
	const char *name;
	bool pod;
	char ***v;
	size_t *n;
	bool oom;
};

static int collect_alias(const PbEvent *ev, void *vctx)
{
	struct alias_ctx *c = vctx;
	const char *id = ct_event_container_named(ev, c->name, c->pod);
	char **nv;

	if (!id)
		return 0;
	for (size_t i = 0; i < *c->n; i++)
		if (!strcmp((*c->v)[i], id))
			return 0;
	nv = realloc(*c->v, (*c->n + 1) * sizeof(*nv));
	if (!nv || !(nv[*c->n] = strdup(id))) {
		if (nv)
			*c->v = nv;
		c->oom = true;
		return 1;
	}
	*c->v = nv;
	(*c->n)++;
	return 0;
}

static int resolve_one(struct ct_store_reader *r, const struct ct_store_filter *f,
		       const char *name, bool pod, char ***v, size_t *n)
{
	struct ct_store_filter g = CT_STORE_FILTER_INIT;
	struct alias_ctx c = { .name = name, .pod = pod, .v = v, .n = n };
	char key[300];

	/* an id prefix is not a name (and would cost a scan of everything) */
	if (!ct_container_ref_key(name, pod, key, sizeof(key)))
		return 0;

	/* the same window; only blocks whose bloom has the name */
	g.since_ns = f->since_ns;
	g.until_ns = f->until_ns;
	g.from_seq = f->from_seq;
	if (pod)
		g.pod = name;
	else
		g.container = name;
	ct_store_scan(r, &g, collect_alias, &c);
	return c.oom ? -1 : 0;
}

int ct_store_resolve_names(struct ct_store_reader *r, struct ct_store_filter *f)
{
	int rc = 0;

	if (f->container && resolve_one(r, f, f->container, false, &f->container_aliases,
					&f->n_container_aliases) < 0)
		rc = -1;
	if (f->pod && resolve_one(r, f, f->pod, true, &f->pod_aliases, &f->n_pod_aliases) < 0)
		rc = -1;
	return rc;
}

void ct_store_filter_free(struct ct_store_filter *f)
{
	for (size_t i = 0; i < f->n_container_aliases; i++)
		free(f->container_aliases[i]);
	for (size_t i = 0; i < f->n_pod_aliases; i++)
		free(f->pod_aliases[i]);
	free(f->container_aliases);
	free(f->pod_aliases);
	f->container_aliases = f->pod_aliases = NULL;
	f->n_container_aliases = f->n_pod_aliases = 0;
}

/* Headers of a segment: its index when sealed, else a walk of the file. */
static int segment_headers(struct ct_store_reader *r, size_t i, struct ct_idx_entry **e,
			   size_t *n, bool *bad_tail)
{
	const char *why;
	uint64_t bad;
	off_t end;

	*bad_tail = false;
	if (i + 1 < r->n_segs && ct_idx_load(r->segs[i].idx_path, e, n) == 0)
		return 0;
	if (ct_segment_scan_blocks(r->segs[i].path, e, n, &end, &why, &bad) < 0)
		return -1;
	/* damaged blocks with good ones after them are skipped and counted */
	r->corrupt_blocks += bad;
	if (why && i + 1 < r->n_segs) {
		/* bad bytes at the end of a sealed segment: corruption too (at
		 * the end of the newest one they are the block being written) */
		*bad_tail = true;
		r->corrupt_blocks++;
	}
	return 0;
}

/* Decode a block's events in order; cb per matching event. */
static int scan_block(struct ct_store_reader *r, int fd, const struct ct_idx_entry *ie,
		      const struct ct_store_filter *f, ct_store_cb cb, void *ctx, bool *stop)
{
	struct ct_block_hdr h;
	uint8_t *payload, *raw;
	const char *why;
	size_t off = 0;

	if (ct_block_read(fd, ie->offset, &h, &payload, NULL, &why) <= 0 ||
	    memcmp(&h, &ie->hdr, sizeof(h))) {
		if (payload)
			free(payload);
		r->corrupt_blocks++;
		return -1;
	}
	raw = ct_block_inflate(&h, payload);
	free(payload);
	if (!raw) {
		r->corrupt_blocks++;
		return -1;
	}
	while (off < h.raw_len && !*stop) {
		uint64_t len;
		size_t k = ct_varint_read(raw + off, h.raw_len - off, &len);
		PbEvent *ev;

		if (!k || len > h.raw_len - off - k) {
			r->corrupt_blocks++;
			break;
		}
		ev = changetrace__v1__event__unpack(NULL, len, raw + off + k);
		off += k + len;
		if (!ev) {
			r->corrupt_blocks++;
			continue;
		}
		if (ct_store_filter_match(f, ev) && cb(ev, ctx))
			*stop = true;
		changetrace__v1__event__free_unpacked(ev, NULL);
	}
	free(raw);
	return 0;
}

int ct_store_scan(struct ct_store_reader *r, const struct ct_store_filter *f,
		  ct_store_cb cb, void *ctx)
{
	bool stop = false;

	for (size_t i = 0; i < r->n_segs && !stop; i++) {
		struct ct_idx_entry *e;
		size_t n;
		bool bad_tail;
		int fd;

		if (i + 1 < r->n_segs && f->from_seq && r->segs[i + 1].first_seq <= f->from_seq)
			continue;   /* all of it is before from_seq */
		if (segment_headers(r, i, &e, &n, &bad_tail) < 0)
			continue;
		fd = open(r->segs[i].path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			free(e);
			continue;
		}
		for (size_t k = 0; k < n && !stop; k++)
			if (block_may_match(&e[k].hdr, f))
				scan_block(r, fd, &e[k], f, cb, ctx, &stop);
		close(fd);
		free(e);
	}
	return 0;
}

struct find_ctx {
	const char *id;
	PbEvent *found;
};

static int find_cb(const PbEvent *ev, void *vctx)
{
	struct find_ctx *c = vctx;
	size_t n;
	uint8_t *buf;

	if (strcmp(ev->event_id, c->id))
		return 0;
	/* the scan frees ev: keep a copy */
	n = changetrace__v1__event__get_packed_size(ev);
	buf = malloc(n ? n : 1);
	if (buf) {
		changetrace__v1__event__pack(ev, buf);
		c->found = changetrace__v1__event__unpack(NULL, n, buf);
		free(buf);
	}
	return 1;
}

PbEvent *ct_store_find(struct ct_store_reader *r, const char *event_id)
{
	struct ct_store_filter f = CT_STORE_FILTER_INIT;
	struct find_ctx c = { .id = event_id };
	const char *dash = strrchr(event_id, '-');
	char *end;
	unsigned long long seq;

	/* ids are "<store id>-<seq>": go straight to the block holding seq */
	if (!dash)
		return NULL;
	seq = strtoull(dash + 1, &end, 10);
	if (*end || !seq)
		return NULL;
	f.from_seq = seq;
	f.until_ns = 0;
	ct_store_scan(r, &f, find_cb, &c);
	return c.found;
}

static void hex(const uint8_t *h, char *out)
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* The chain's anchor: zeros for a store that never retired a segment,
 * else the hash of the last block of the newest retired segment. */
static void chain_anchor(const char *dir, uint8_t out[32])
{
	char path[PATH_MAX + 16], line[256], last[256] = "";
	FILE *f;

	memset(out, 0, 32);
	snprintf(path, sizeof(path), "%s/retired", dir);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		ct_strlcpy(last, line, sizeof(last));
	fclose(f);
	char *sp = strchr(last, ' ');

	if (!sp || strlen(sp + 1) < 64)
		return;
	for (int i = 0; i < 32; i++) {
		unsigned v;

		if (sscanf(sp + 1 + 2 * i, "%2x", &v) != 1)
			return;
		out[i] = v;
	}
}

int ct_store_verify(const char *dir, uint64_t *blocks, uint64_t *events,
		    char *err, size_t errlen)
{
	struct ct_segment *segs;
	uint8_t prev[32];
	uint64_t last_seq = 0;
	size_t n;

	*blocks = *events = 0;
	if (ct_segments_list(dir, &segs, &n) < 0) {
		snprintf(err, errlen, "cannot list %s: %s", dir, strerror(errno));
		return -1;
	}
	chain_anchor(dir, prev);
	for (size_t i = 0; i < n; i++) {
		int fd = open(segs[i].path, O_RDONLY | O_CLOEXEC);
		const char *name = strrchr(segs[i].path, '/') + 1;
		off_t off = 0;

		if (fd < 0) {
			snprintf(err, errlen, "%s: %s", name, strerror(errno));
			free(segs);
			return -1;
		}
		for (uint64_t b = 0;; b++) {
			struct ct_block_hdr h;
			uint8_t *payload, hash[32];
			const char *why;
			int rc = ct_block_read(fd, off, &h, &payload, hash, &why);
			char a[65], e[65];

			if (rc == 0)
				break;
			if (rc < 0 && i + 1 == n && !strncmp(why, "truncated", 9)) {
				/* the newest block of the newest segment: being written,
				 * or a torn tail the agent cuts at its next start */
				break;
			}
			if (rc < 0) {
				snprintf(err, errlen, "%s block %llu at offset %lld: %s", name,
					 (unsigned long long)b, (long long)off, why);
				close(fd);
				free(segs);
				return -1;
			}
			free(payload);
			if (memcmp(h.prev_hash, prev, 32)) {
				hex(h.prev_hash, a);
				hex(prev, e);
				snprintf(err, errlen, "%s block %llu at offset %lld: chain broken "
					 "(block names previous %.16s..., previous block is %.16s...): "
					 "a block before it was removed, reordered or altered",
					 name, (unsigned long long)b, (long long)off, a, e);
				close(fd);
				free(segs);
				return -1;
			}
			if (h.first_seq <= last_seq) {
				snprintf(err, errlen, "%s block %llu at offset %lld: sequence goes back "
					 "(%llu after %llu)", name, (unsigned long long)b, (long long)off,
					 (unsigned long long)h.first_seq, (unsigned long long)last_seq);
				close(fd);
				free(segs);
				return -1;
			}
			last_seq = h.last_seq;
			memcpy(prev, hash, 32);
			off += sizeof(h) + h.comp_len;
			(*blocks)++;
			*events += h.count;
		}
		close(fd);
	}
	free(segs);
	return 0;
}
