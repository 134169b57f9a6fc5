/*
 * The file changes being coalesced (struct pending), with two indexes so
 * a record costs O(1) however many files are in flight: by path (chains
 * of slots per bucket of the path's hash) and by open file (refs per
 * bucket of the open's address and time). The coalescing itself is
 * event_file.c's; this is only where its changes live.
 */
#ifndef CT_FILE_PENDING_H
#define CT_FILE_PENDING_H

#include <stdbool.h>
#include <stdint.h>
#include "changetrace.h"
#include "file_content.h"

/* Changes followed at once: a deploy rewriting a few thousand files keeps
 * each in one change; past PENDING_SOFT one is reported early to make room
 * (see make_room). Up to PENDING_MAX (the kernel follows as many open
 * files) are kept rather than report a change whose close record, with its
 * writes, is still in the ring. The arrays are calloc'd: slots never used
 * cost no memory. */
#define PENDING_SOFT 4096
#define PENDING_MAX  CT_WFILES_MAX
#define OPEN_IDS     8
#define TOMBSTONES   4096          /* power of 2 */
#define PATH_BUCKETS 8192          /* power of 2 */
#define OPEN_BUCKETS 8192          /* power of 2 */

/*
 * An open for write whose close(2) the collector waits for. The kernel's
 * entry (ct_wfiles) is keyed by the struct file's address, which is reused
 * as soon as the file is closed: an open is its address and its open
 * record's time, and an entry of another open at the same address is not
 * this one's. The collector never writes or deletes entries of live
 * processes (a delete could hit a newer open at the same address and lose
 * its close): it only reads them, and remembers how many writes it took.
 */
struct open_file {
	uint64_t id;               /* struct file address */
	uint64_t open_ns;          /* ct_wfile.open_ns */
	uint32_t taken;            /* of its ct_wfile.writes, already counted */
	uint64_t missing_at;       /* entry not found: change_ring_emptied + 1
				    * then (0 while found) */
};

/* A change being coalesced: one path, one deploy (or drift). */
struct pending {
	bool used;
	char *path;                /* heap: most slots stay untouched */
	char *ns_path;             /* "" when the same as path */
	struct ct_task task;       /* the first writer */
	uint64_t first_ns, last_ns;/* monotonic: first record, last activity */
	struct open_file files[OPEN_IDS];
	int n_open;
	uint32_t writes, opens;
	uint16_t flags;            /* CT_FF_CREAT / CT_FF_TRUNC seen */
	bool truncate_op, sysctl;
	uint64_t ino;
	uint32_t dev;
	struct ct_file_state before, after;
	bool have_before;
	bool have_after;           /* taken when the last writer closed */
	uint64_t close_ns;         /* kernel time of the last close seen */
	uint64_t path_hash;        /* of path: most lookups end on it */
	bool path_truncated;       /* path is not the whole name (see file_paths.h) */
	uint8_t path_source;       /* enum file_path_source */
	bool burst;                /* owns an entry in ct_wbursts */
	uint32_t burst_opens, burst_writes; /* of that entry, already counted */
	int32_t next;              /* slot + 1 of the next in its path bucket (or
				    * in the free list); 0 = none */
	bool sc_written;           /* a sysctl: a write of its opens was recorded
				    * (reported, or refused) on its own */
	uint32_t sc_netns;         /* a sysctl: the namespace whose table the file */
	uint64_t sc_cookie;        /*   is in, as its open record says (0: none) */
};

/*
 * Where an open file's close record finds its change: keyed by the open's
 * address and time, holding the change's slot. One per open_file of a used
 * pending, added and removed with it.
 */
struct open_ref {
	uint64_t id, open_ns;
	int32_t slot;              /* of the pending */
	int32_t next;              /* ref + 1 in the bucket (or free list); 0 = none */
};

struct pending_table {
	struct pending *pend;                    /* PENDING_MAX slots */
	int32_t n_used, high_water, free_slots;  /* free_slots: slot + 1 */
	int32_t path_head[PATH_BUCKETS];         /* slot + 1 */
	struct open_ref *refs;                   /* PENDING_MAX * OPEN_IDS */
	int32_t refs_high_water, free_refs;      /* ref + 1 */
	int32_t open_head[OPEN_BUCKETS];         /* ref + 1 */
	/*
	 * Opens forgotten while their file may still be open (the change
	 * reported early, or harvested): what was taken of their writes, so
	 * a close record that comes later counts the writes no event carries
	 * (writes_unreported). Direct-mapped; an entry overwritten by
	 * another is simply not counted.
	 */
	struct open_file tombstones[TOMBSTONES];
};

/* Empty; aborts when the slots cannot be had (the collector cannot run). */
void pending_table_init(struct pending_table *t);
void pending_table_free(struct pending_table *t);

/* FNV-1a of a path: changes are matched by path on every record;
 * comparing a number first keeps that a scan of integers. */
uint64_t pending_path_hash(const char *path);

/* A new change to path (ns: as the process names it, "" if the same),
 * zeroed but for its path, ns_path and path_hash. Needs a free slot:
 * n_used < PENDING_MAX. */
struct pending *pending_add(struct pending_table *t, const char *path, const char *ns);
/* The slot leaves its path bucket, its open files' refs (tombstoned) and
 * its strings. */
void pending_release(struct pending_table *t, struct pending *p);

/* The next change to path (h: its hash) after `after` (NULL: the first).
 * A loop that may release p reads the next one first. */
struct pending *pending_path_next(const struct pending_table *t, const struct pending *after,
				  uint64_t h, const char *path);
/* The change to path by this process and deploy (coalescing is per path
 * and per process: two tools writing one file are two changes). */
struct pending *pending_find(const struct pending_table *t, const char *path,
			     const struct ct_task *task);
/* The change holding open file (id, open_ns), and its index in files[]. */
struct pending *pending_find_file(const struct pending_table *t, uint64_t id, uint64_t open_ns,
				  int *idx);

/* p follows one more open file (n_open < OPEN_IDS). */
void pending_add_file(struct pending_table *t, struct pending *p, const struct open_file *o);
/* Forget open file j (the last one takes its place). */
void pending_drop_file(struct pending_table *t, struct pending *p, int j);

/* Open o is forgotten, its file perhaps still open: remember what was taken. */
void pending_tombstone_add(struct pending_table *t, const struct open_file *o);
/* Where the tombstone of (id, open_ns) would be; compare its id and open_ns. */
struct open_file *pending_tombstone_of(struct pending_table *t, uint64_t id, uint64_t open_ns);

#endif
