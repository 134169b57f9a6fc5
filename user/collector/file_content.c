/* Digests, the blob store and the per-path state table. See file_content.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "file_content.h"
#include "lib/util.h"
#include "store/blobs.h"

#define BINARY_PROBE 8192        /* a NUL in the first bytes means binary */

struct entry {
	char *path;
	struct ct_file_state st;
};

/* The table is shared with the baseline thread. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct ct_content_cfg cfg;
static struct ct_content_stats stats;
static struct entry *table;      /* open addressing, path keys */
static size_t cap, used;

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;   /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static struct entry *slot_of(const char *path, bool *found)
{
	size_t i = hash_str(path) & (cap - 1);
	struct entry *tomb = NULL;

	for (;;) {
		struct entry *e = &table[i];

		if (!e->path) {
			*found = false;
			return tomb ? tomb : e;
		}
		if (e->path == (char *)1) {
			if (!tomb)
				tomb = e;
		} else if (!strcmp(e->path, path)) {
			*found = true;
			return e;
		}
		i = (i + 1) & (cap - 1);
	}
}

static void grow(void)
{
	struct entry *old = table;
	size_t ocap = cap;

	cap = cap ? cap * 2 : 1024;
	table = calloc(cap, sizeof(*table));
	if (!table) {
		table = old;
		cap = ocap;
		return;
	}
	used = 0;
	for (size_t i = 0; i < ocap; i++) {
		bool f;

		if (!old[i].path || old[i].path == (char *)1)
			continue;
		*slot_of(old[i].path, &f) = old[i];
		used++;
	}
	free(old);
}

void ct_content_init(const struct ct_content_cfg *c)
{
	cfg = *c;
	memset(&stats, 0, sizeof(stats));
	if (!table)
		grow();
}

static void baseline_stop_join(void);

void ct_content_free(void)
{
	baseline_stop_join();
	for (size_t i = 0; i < cap; i++)
		if (table[i].path && table[i].path != (char *)1)
			free(table[i].path);
	free(table);
	table = NULL;
	cap = used = 0;
}

static struct entry *get_locked(const char *path)
{
	bool f;
	struct entry *e;

	if (!table)
		return NULL;
	e = slot_of(path, &f);
	return f ? e : NULL;
}

bool ct_content_lookup(const char *path, struct ct_file_state *out)
{
	struct entry *e;

	pthread_mutex_lock(&lock);
	e = get_locked(path);
	if (e)
		*out = e->st;
	pthread_mutex_unlock(&lock);
	return e != NULL;
}

static void put_locked(const char *path, const struct ct_file_state *st, bool only_new)
{
	bool f;
	struct entry *e;

	if (!table || (used + 1) * 2 > cap)
		grow();
	if (!table)
		return;
	e = slot_of(path, &f);
	if (f && only_new)
		return;
	if (!f) {
		char *k = strdup(path);

		if (!k)
			return;
		e->path = k;
		used++;
		stats.tracked++;
	}
	e->st = *st;
}

void ct_content_put(const char *path, const struct ct_file_state *st)
{
	pthread_mutex_lock(&lock);
	put_locked(path, st, false);
	pthread_mutex_unlock(&lock);
}

static void forget_locked(const char *path)
{
	struct entry *e = get_locked(path);

	if (e) {
		free(e->path);
		e->path = (char *)1;	/* tombstone */
		stats.tracked--;
	}
}

void ct_content_forget(const char *path)
{
	pthread_mutex_lock(&lock);
	forget_locked(path);
	pthread_mutex_unlock(&lock);
}

void ct_content_rename(const char *from, const char *to)
{
	size_t fl = strlen(from), n = 0;
	char **moved = NULL;

	pthread_mutex_lock(&lock);
	/* collect first: re-inserting may grow (reallocate) the table */
	for (size_t i = 0; i < cap; i++) {
		struct entry *e = &table[i];
		char **m;

		if (!e->path || e->path == (char *)1 || strncmp(e->path, from, fl) ||
		    (e->path[fl] != '/' && e->path[fl] != '\0'))
			continue;
		m = realloc(moved, (n + 1) * sizeof(*moved));
		if (!m)
			break;
		moved = m;
		moved[n++] = strdup(e->path);
	}
	for (size_t i = 0; i < n; i++) {
		struct entry *cur = moved[i] ? get_locked(moved[i]) : NULL;
		char np[PATH_MAX];
		struct ct_file_state st;

		if (cur && snprintf(np, sizeof(np), "%s%s", to, moved[i] + fl) < (int)sizeof(np)) {
			st = cur->st;
			forget_locked(moved[i]);
			put_locked(np, &st, false);
		}
		free(moved[i]);
	}
	pthread_mutex_unlock(&lock);
	free(moved);
}

static void blob_write(const char *sha, const unsigned char *data, size_t len, bool *kept)
{
	char path[PATH_MAX], tmp[PATH_MAX + 16], sub[PATH_MAX];
	uLongf zlen = compressBound(len);
	unsigned char *z;
	int fd;

	*kept = false;
	if (!cfg.blob_dir || ct_blob_path(cfg.blob_dir, sha, path, sizeof(path)) < 0)
		return;
	if (access(path, F_OK) == 0) {
		*kept = true;	/* content-addressed: already there */
		return;
	}
	if (!ct_blob_room(cfg.blob_dir, len)) {
		if (!__atomic_fetch_add(&stats.blobs_no_room, 1, __ATOMIC_RELAXED))
			ct_err("file content: the store's filesystem is nearly full; copies of "
			       "file content are no longer kept, to leave room for events "
			       "(file_blobs_no_room in status)");
		return;
	}
	snprintf(sub, sizeof(sub), "%s/%.2s", cfg.blob_dir, sha);
	mkdir(cfg.blob_dir, 0700);
	mkdir(sub, 0700);
	z = malloc(zlen + 8);
	if (!z)
		goto fail;
	/* 8-byte little-endian raw length first, so the reader can size its buffer */
	for (int i = 0; i < 8; i++)
		z[i] = (uint64_t)len >> (8 * i);
	if (compress2(z + 8, &zlen, data, len, Z_BEST_SPEED) != Z_OK)
		goto fail_free;
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail_free;
	if (write(fd, z, zlen + 8) != (ssize_t)(zlen + 8) || close(fd) < 0 ||
	    rename(tmp, path) < 0) {
		unlink(tmp);
		goto fail_free;
	}
	free(z);
	__atomic_fetch_add(&stats.blobs_written, 1, __ATOMIC_RELAXED);
	*kept = true;
	return;
fail_free:
	free(z);
fail:
	if (!__atomic_fetch_add(&stats.blob_failures, 1, __ATOMIC_RELAXED))
		ct_err("file content: cannot keep a copy in %s: %s (file_blob_failures in status)",
		       cfg.blob_dir, strerror(errno));
}

int ct_content_snapshot(const char *path, struct ct_file_state *out)
{
	unsigned char md[32], *buf = NULL;
	size_t len = 0, bcap = 0;
	struct stat st;
	EVP_MD_CTX *ctx;
	bool binary = false, keep;
	int fd;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		out->exists = errno != ENOENT && errno != ENOTDIR;
		return -1;
	}
	out->exists = true;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	out->ino = st.st_ino;
	out->dev = st.st_dev;
	out->ctime_ns = (uint64_t)st.st_ctim.tv_sec * 1000000000ull + st.st_ctim.tv_nsec;
	out->mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000ull + st.st_mtim.tv_nsec;
	out->mode = st.st_mode;
	out->uid = st.st_uid;
	out->gid = st.st_gid;
	/* /proc/sys files say size 0: read them anyway, they are small */
	if ((uint64_t)st.st_size > cfg.hash_max) {
		out->size = st.st_size;
		close(fd);
		return 0;
	}
	keep = (uint64_t)st.st_size <= cfg.keep_max;
	ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(ctx);
		close(fd);
		return -1;
	}
	for (;;) {
		unsigned char chunk[65536];
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			__atomic_fetch_add(&stats.read_failures, 1, __ATOMIC_RELAXED);
			free(buf);
			EVP_MD_CTX_free(ctx);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(ctx, chunk, n);
		if (len < BINARY_PROBE && memchr(chunk, 0, n < BINARY_PROBE ? n : BINARY_PROBE))
			binary = true;
		if (keep && !binary) {
			if (len + n > cfg.keep_max) {
				keep = false;	/* grew while we read */
			} else {
				if (len + n > bcap) {
					size_t nc = (len + n) * 2;
					unsigned char *nb = realloc(buf, nc);

					if (!nb) {
						keep = false;
						goto next;
					}
					buf = nb;
					bcap = nc;
				}
				memcpy(buf + len, chunk, n);
			}
		}
next:
		len += n;
		if (len > cfg.hash_max) {
			/* grew past the limit while we read: size only */
			free(buf);
			EVP_MD_CTX_free(ctx);
			close(fd);
			out->size = len;
			return 0;
		}
	}
	close(fd);
	EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	ct_hex(md, sizeof(md), out->sha256);
	out->size = len;
	if (keep && !binary)
		blob_write(out->sha256, buf ? buf : (unsigned char *)"", len, &out->kept);
	free(buf);
	return 0;
}

void ct_content_from_bytes(const void *buf, size_t len, struct ct_file_state *out)
{
	unsigned char md[32];
	unsigned int mdl;
	size_t probe = len < BINARY_PROBE ? len : BINARY_PROBE;

	memset(out, 0, sizeof(*out));
	out->exists = true;
	out->size = len;
	if (len > cfg.hash_max || !EVP_Digest(buf, len, md, &mdl, EVP_sha256(), NULL))
		return;
	ct_hex(md, sizeof(md), out->sha256);
	if (len <= cfg.keep_max && !memchr(buf, 0, probe))
		blob_write(out->sha256, buf, len, &out->kept);
}

static uint64_t baseline_left;
static atomic_bool baseline_stop;
static pthread_t baseline_thread;
static bool baseline_running;
static char **baseline_roots;
static int baseline_n;
static struct ct_baseline_hook baseline_hook;

static int baseline_one(const char *p, const struct stat *sb, int type, struct FTW *ftw)
{
	struct ct_file_state st, cur;

	if (atomic_load(&baseline_stop))
		return 1;
	if (type == FTW_SL && baseline_hook.found)
		baseline_hook.found(baseline_hook.ctx, p, sb, NULL);
	if (type != FTW_F || !S_ISREG(sb->st_mode))
		return 0;
	/* sysctl entries without read permission (e.g. vm/compact_memory) */
	if (!(sb->st_mode & 0444))
		return 0;
	if (!baseline_left) {
		__atomic_fetch_add(&stats.baseline_skipped, 1, __ATOMIC_RELAXED);
		return 0;
	}
	baseline_left--;
	if (ct_content_lookup(p, &cur))
		return 0;	/* the collector saw a change first: it is newer */
	if (ct_content_snapshot(p, &st) == 0) {
		pthread_mutex_lock(&lock);
		put_locked(p, &st, true);
		pthread_mutex_unlock(&lock);
		__atomic_fetch_add(&stats.baseline_files, 1, __ATOMIC_RELAXED);
		if (baseline_hook.found)
			baseline_hook.found(baseline_hook.ctx, p, sb, &st);
	}
	return 0;
}

static void *baseline_main(void *arg)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < baseline_n && !atomic_load(&baseline_stop); i++)
		nftw(baseline_roots[i], baseline_one, 32, FTW_PHYS | FTW_MOUNT);
	if (baseline_hook.done && !atomic_load(&baseline_stop))
		baseline_hook.done(baseline_hook.ctx);
	clock_gettime(CLOCK_MONOTONIC, &b);
	__atomic_store_n(&stats.baseline_ms, (b.tv_sec - a.tv_sec) * 1000 +
			 (b.tv_nsec - a.tv_nsec) / 1000000, __ATOMIC_RELAXED);
	__atomic_store_n(&stats.baseline_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

int ct_content_baseline_start(char *const *roots, int n, uint64_t max_files,
			      const struct ct_baseline_hook *hook)
{
	if (hook)
		baseline_hook = *hook;
	else
		memset(&baseline_hook, 0, sizeof(baseline_hook));
	baseline_roots = calloc(n ? n : 1, sizeof(*baseline_roots));
	if (!baseline_roots)
		return -1;
	for (int i = 0; i < n; i++)
		baseline_roots[i] = strdup(roots[i]);
	baseline_n = n;
	baseline_left = max_files;
	atomic_store(&baseline_stop, false);
	if (pthread_create(&baseline_thread, NULL, baseline_main, NULL) != 0)
		return -1;
	baseline_running = true;
	return 0;
}

void ct_content_baseline_wait(void)
{
	if (baseline_running)
		pthread_join(baseline_thread, NULL);
	baseline_running = false;
}

static void baseline_stop_join(void)
{
	atomic_store(&baseline_stop, true);
	ct_content_baseline_wait();
	for (int i = 0; i < baseline_n; i++)
		free(baseline_roots[i]);
	free(baseline_roots);
	baseline_roots = NULL;
	baseline_n = 0;
}

void ct_content_get_stats(struct ct_content_stats *st)
{
	pthread_mutex_lock(&lock);
	*st = stats;
	pthread_mutex_unlock(&lock);
}

static const struct ct_counter_def ct_content_counters_defs[] = {
	CT_COUNTER("file_baseline_done", struct ct_content_stats, baseline_done),
	CT_COUNTER("file_baseline_files", struct ct_content_stats, baseline_files),
	CT_COUNTER("file_baseline_skipped", struct ct_content_stats, baseline_skipped),
	CT_COUNTER("file_baseline_ms", struct ct_content_stats, baseline_ms),
	CT_COUNTER("file_tracked", struct ct_content_stats, tracked),
	CT_COUNTER("file_blobs_written", struct ct_content_stats, blobs_written),
	CT_COUNTER("file_blob_failures", struct ct_content_stats, blob_failures),
	CT_COUNTER("file_blobs_no_room", struct ct_content_stats, blobs_no_room),
	CT_COUNTER("file_read_failures", struct ct_content_stats, read_failures),
};
const struct ct_counter_table ct_content_counters = CT_COUNTER_TABLE(ct_content_counters_defs);
