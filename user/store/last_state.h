/*
 * The last known state (proto/last_state.proto): every watched file (path,
 * inode, device, size, mode, owner, mtime/ctime, sha256, whether a copy is
 * in the blob store, a symlink's target) and the ruleset of every network
 * namespace the agent follows, per ruleset source ("nft").
 *
 * Durable as the store is: a snapshot (STORE/last_state.pb, written to a
 * temp file, fsynced, renamed) holds the state as of event seq S, and the
 * store's FILE and NET events after S are its journal: loading replays
 * them through ct_last_state_apply, the same function the agent applies
 * to every event it emits. A snapshot alone would lag the store (a kill
 * between storing an event and rewriting the snapshot would make a change
 * the store holds look unobserved at the next start); the store alone has
 * no baseline (files that never changed are in no event) and would have to
 * be read from its beginning.
 */
#ifndef CT_LAST_STATE_H
#define CT_LAST_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/pb.h"
#include "blobs.h"

#define CT_LAST_STATE_FILE "last_state.pb"
#define CT_LAST_STATE_RULESETS 64      /* namespaces x sources kept */
#define CT_LAST_STATE_RULESET_MAX (64u << 10)

struct ct_known_file {
	char *path;
	char *link;                  /* symlink target; NULL for a regular file */
	uint64_t ino, dev, size, mtime_ns, ctime_ns;
	uint32_t mode, uid, gid;     /* mode with its type bits */
	char sha256[CT_SHA256_HEX];  /* "" = not known */
	bool kept;
	bool seen;                   /* met by the start-up comparison */
	struct ct_known_file *next;
};

struct ct_known_ruleset {
	char netns[64];              /* "host" or an `ip netns` name */
	uint32_t inode;
	char source[16];             /* "nft" */
	char *text;                  /* NULL: not known (a listing failed) */
};

struct ct_last_state {
	struct ct_known_file **buckets;
	size_t n_buckets, n_files;
	struct ct_known_ruleset rulesets[CT_LAST_STATE_RULESETS];
	size_t n_rulesets;
	char **roots;                /* watched paths when it was taken */
	int n_roots;
	char store_id[17];
	uint64_t seq;                /* the newest event it includes */
	uint64_t time_ns;            /* when the snapshot was written */
	uint64_t applied;            /* events applied since load or save */
	bool dirty;                  /* changed since load or save */
	/* /proc/sys/net values are this network namespace's (0: any) */
	uint32_t own_net_ns;
	/* told of every path an event removes (unlink, rename away); may be NULL */
	void (*removed)(void *ctx, const char *path);
	void *removed_ctx;
};

/* One top-level object (a table) of a ruleset text. */
struct ct_ruleset_part {
	char family[16], name[128];
	const char *text;
	size_t len;
};

/*
 * The iptables-legacy tables of a namespace as one text (source
 * "iptables-legacy"): each table's iptables-save form (collector/
 * ipt_legacy.h, counters left out) after a "# FAMILY TABLE" line, in
 * (family, table) order. Join n tables (at most max bytes; malloc'd, NULL
 * out of memory); split one into its tables; put one table's new text in
 * (a live change of one table), malloc'd.
 */
char *ct_legacy_join(size_t n, const char *const *family, const char *const *table,
		     const char *const *text, size_t max);
size_t ct_legacy_split(const char *text, struct ct_ruleset_part *parts, size_t max);
char *ct_legacy_splice(const char *text, const char *family, const char *table,
		       const char *table_text, size_t max);

void ct_last_state_init(struct ct_last_state *s);
void ct_last_state_free(struct ct_last_state *s);

struct ct_known_file *ct_last_state_file(const struct ct_last_state *s, const char *path);
/* The entry of path, made (zeroed) when missing; NULL when out of memory. */
struct ct_known_file *ct_last_state_file_put(struct ct_last_state *s, const char *path);
void ct_last_state_file_del(struct ct_last_state *s, const char *path);
/* Every file in (or under) dir, in no particular order: i starts at 0. */
struct ct_known_file *ct_last_state_next(const struct ct_last_state *s, size_t *bucket,
					 struct ct_known_file **cursor);
/* A symlink's target (NULL for a regular file), copied. */
void ct_last_state_set_link(struct ct_known_file *f, const char *target);

struct ct_known_ruleset *ct_last_state_ruleset(struct ct_last_state *s, const char *netns,
					       const char *source);
/* Text copied; NULL text marks it not known. */
void ct_last_state_set_ruleset(struct ct_last_state *s, const char *netns, uint32_t inode,
			       const char *source, const char *text);
void ct_last_state_set_roots(struct ct_last_state *s, char *const *roots, int n);
/* Is path one of the roots or under one? */
bool ct_last_state_under_roots(const struct ct_last_state *s, const char *path);

/* Bring the state up to date with one event (FILE and NET; others are
 * ignored). Returns true when it changed anything. */
bool ct_last_state_apply(struct ct_last_state *s, const PbEvent *ev);

/* Snapshot I/O. Load: 0 loaded, 1 no snapshot, -1 unreadable (err says
 * why; the state is left empty). Save: 0, or -1 with err. */
int ct_last_state_load(struct ct_last_state *s, const char *path, char *err, size_t errlen);
int ct_last_state_save(struct ct_last_state *s, const char *path, char *err, size_t errlen);
/* The two halves of a save, so the write can leave the agent's loop: the
 * snapshot's bytes (malloc'd; NULL: out of memory; sets s->time_ns), and
 * writing them (any thread). */
uint8_t *ct_last_state_pack(struct ct_last_state *s, size_t *len);
int ct_last_state_write(const char *path, const uint8_t *buf, size_t len, char *err, size_t errlen);

/* The store's newest event into *last (all zero for an empty store) and,
 * with journal, its FILE and NET events after s->seq applied to s.
 * Returns how many were applied, -1 when the store cannot be read. */
struct ct_store_last_event {
	uint64_t seq, time_ns;
	bool clean_stop;             /* it is the AGENT "stopped" event */
};
long ct_last_state_replay(struct ct_last_state *s, const char *store_dir, uint64_t store_last_seq,
			  bool journal, struct ct_store_last_event *last);

#endif
