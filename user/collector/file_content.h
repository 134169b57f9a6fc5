/*
 * What a watched file holds: its sha256 and size, and for small text files
 * a zlib-compressed copy in the blob store (STORE/blobs/xx/<sha256>), so
 * `changetrace diff` can show any change. The collector keeps the last
 * known state per path (taken at start as a baseline, then after every
 * change), which is the "before" of the next change: after an O_TRUNC the
 * old bytes are gone from the disk, but not from here.
 */
#ifndef CT_FILE_CONTENT_H
#define CT_FILE_CONTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "store/blobs.h"
#include "lib/counters.h"

struct ct_file_state {
	char sha256[CT_SHA256_HEX];  /* "" = unknown (too large, unreadable) */
	uint64_t size;
	uint64_t ino;                /* of the file that was read */
	uint64_t dev;
	uint64_t ctime_ns;           /* its change time (wall clock) when read */
	uint64_t mtime_ns;
	uint32_t mode, uid, gid;
	bool kept;                   /* a blob exists for sha256 */
	bool exists;
};

struct ct_content_cfg {
	const char *blob_dir;        /* NULL: digests only, nothing kept */
	uint64_t keep_max;           /* keep copies of files up to this size */
	uint64_t hash_max;           /* hash files up to this size */
};

struct ct_content_stats {
	uint64_t baseline_files, baseline_skipped, baseline_ms;
	uint64_t blobs_written, blob_failures, read_failures;
	uint64_t blobs_no_room;      /* copies not kept: room left for events */
	uint64_t tracked;
	uint64_t baseline_done;      /* 1 once the baseline thread finished */
};

void ct_content_init(const struct ct_content_cfg *cfg);
void ct_content_free(void);
/* Read the file now: digest, size, and a blob when small and text. */
int ct_content_snapshot(const char *path, struct ct_file_state *out);
/* The same for content already in memory (a sysctl read in another
 * network namespace): digest, size, and a blob when small and text. */
void ct_content_from_bytes(const void *buf, size_t len, struct ct_file_state *out);
/* Last known state of a path, copied out (false = never seen). The table
 * is shared with the baseline thread, hence copies, not pointers. */
bool ct_content_lookup(const char *path, struct ct_file_state *out);
void ct_content_put(const char *path, const struct ct_file_state *st);
void ct_content_forget(const char *path);
/* Every path in (or under) dir moves to new_dir: a directory rename. */
void ct_content_rename(const char *from, const char *to);
/* What the baseline walk found, for whoever compares it with an earlier
 * state (unobserved.c). Called in the baseline thread. */
struct ct_baseline_hook {
	/* a regular file it read (st), or a symlink (st NULL); not called for
	 * a file the collector saw a change to first */
	void (*found)(void *ctx, const char *path, const struct stat *sb,
		      const struct ct_file_state *st);
	void (*done)(void *ctx);     /* after the walk, before baseline_done */
	void *ctx;
};

/* Take the baseline of the watched trees in a thread (files only, at most
 * max_files): start-up does not wait for it. A change the collector sees
 * first wins over the baseline's reading of that file. hook may be NULL. */
int ct_content_baseline_start(char *const *roots, int n, uint64_t max_files,
			      const struct ct_baseline_hook *hook);
void ct_content_baseline_wait(void);
void ct_content_get_stats(struct ct_content_stats *st);

/* Its status counters, read from a struct ct_content_stats. */
extern const struct ct_counter_table ct_content_counters;

#endif
