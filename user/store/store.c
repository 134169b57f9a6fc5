/*
 * The store writer (one per store directory: the agent).
 *
 * Events are packed into an in-memory block; a block is sealed (zlib,
 * checksummed, hash-chained) when it reaches CT_BLOCK_RAW_MAX raw bytes or
 * when the agent calls ct_store_flush (every second and at shutdown).
 * A block goes to disk in one write at the end of the segment; if the
 * write fails (disk full, I/O error) the segment is truncated back to its
 * last good block, the block's events are counted as lost to the store,
 * and the next flush tries again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>
#include <openssl/rand.h>
#include <zlib.h>

#include "lib/container_match.h"
#include "store.h"
#include "store_block.h"
#include "lib/util.h"

struct ct_store {
	char dir[PATH_MAX];
	char id[17];
	int seg_fd;
	uint64_t seg_first_seq;
	off_t seg_off;                 /* end of the last good block */
	struct ct_idx_entry *idx;      /* headers of the open segment */
	size_t n_idx, cap_idx;
	uint8_t last_hash[32];
	uint64_t last_seq;
	uint64_t last_time;            /* newest event time on disk (wall ns) */
	bool failing;                  /* the last write failed (said on stderr) */
	/* the open block */
	struct ct_block_hdr hdr;
	uint8_t *raw;
	size_t raw_len, raw_cap;
	uint8_t *comp;
	size_t comp_cap;
	/* policy */
	enum ct_fsync_policy fsync_policy;
	uint64_t retention_ns, retention_bytes;
	uint64_t segment_bytes;
	struct ct_store_stats st;
};

static int fail(char *err, size_t errlen, const char *what, const char *path)
{
	snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
	return -1;
}

static int load_or_make_id(struct ct_store *s, char *err, size_t errlen)
{
	char path[PATH_MAX + 16], buf[32] = "";
	ssize_t n;

	snprintf(path, sizeof(path), "%s/store.id", s->dir);
	n = ct_read_file(path, buf, sizeof(buf) - 1);
	if (n >= 16) {
		for (int i = 0; i < 16; i++)
			if (!strchr("0123456789abcdef", buf[i])) {
				snprintf(err, errlen, "%s is corrupt (not 16 hex digits)", path);
				return -1;
			}
		memcpy(s->id, buf, 16);
		s->id[16] = '\0';
		return 0;
	}
	if (n > 0) {
		snprintf(err, errlen, "%s is corrupt (too short)", path);
		return -1;
	}
	unsigned char rnd[8];
	int fd;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		snprintf(err, errlen, "no random bytes for the store id");
		return -1;
	}
	for (int i = 0; i < 8; i++)
		snprintf(s->id + 2 * i, 3, "%02x", rnd[i]);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, s->id, 16) != 16 || fsync(fd) < 0) {
		if (fd >= 0)
			close(fd);
		return fail(err, errlen, "cannot write", path);
	}
	close(fd);
	return 0;
}

static int idx_push(struct ct_store *s, const struct ct_block_hdr *h, off_t off, const uint8_t hash[32])
{
	if (s->n_idx == s->cap_idx) {
		size_t cap = s->cap_idx ? s->cap_idx * 2 : 256;
		struct ct_idx_entry *n = realloc(s->idx, cap * sizeof(*n));

		if (!n)
			return -1;
		s->idx = n;
		s->cap_idx = cap;
	}
	s->idx[s->n_idx].hdr = *h;
	s->idx[s->n_idx].offset = off;
	memcpy(s->idx[s->n_idx].hash, hash, 32);
	s->n_idx++;
	return 0;
}

/* Write a sealed segment's index (temp file + rename: all or nothing). */
static int write_idx(const char *dir, uint64_t first_seq, const struct ct_idx_entry *e, size_t n)
{
	char path[PATH_MAX + 64], tmp[PATH_MAX + 80];
	int fd;
	size_t len = n * sizeof(*e);

	ct_segment_name(dir, first_seq, path, sizeof(path), "idx");
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (write(fd, e, len) != (ssize_t)len || fsync(fd) < 0) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	return rename(tmp, path);
}

/* Open (or create) the last segment and find its good end; anything after
 * the last block that checks out is a torn tail and is cut off. */
static int recover(struct ct_store *s, char *err, size_t errlen)
{
	struct ct_segment *segs;
	size_t n;
	char path[PATH_MAX + 64];

	if (ct_segments_list(s->dir, &segs, &n) < 0)
		return fail(err, errlen, "cannot list", s->dir);
	/* sealed segments: make sure each has an index (a crash may have
	 * come between sealing and writing it); remember the chain's end */
	for (size_t i = 0; i + 1 < n; i++) {
		struct ct_idx_entry *e;
		size_t ne;
		const char *why;

		if (ct_idx_load(segs[i].idx_path, &e, &ne) == 0) {
			if (ne) {
				memcpy(s->last_hash, e[ne - 1].hash, 32);
				s->last_seq = e[ne - 1].hdr.last_seq;
				s->last_time = e[ne - 1].hdr.max_time;
			}
			free(e);
			continue;
		}
		uint64_t bad;

		ct_segment_scan_blocks(segs[i].path, &e, &ne, NULL, &why, &bad);
		if (ne) {
			memcpy(s->last_hash, e[ne - 1].hash, 32);
			s->last_seq = e[ne - 1].hdr.last_seq;
			s->last_time = e[ne - 1].hdr.max_time;
			write_idx(s->dir, segs[i].first_seq, e, ne);
		}
		free(e);
	}
	if (n > 0) {
		off_t end, size;
		const char *why;
		uint64_t bad;

		ct_strlcpy(path, segs[n - 1].path, sizeof(path));
		s->seg_first_seq = segs[n - 1].first_seq;
		free(s->idx);
		s->idx = NULL;
		/* damage inside the segment is not a torn tail: keep the good
		 * blocks after it (verify names the bad one); cut only the end */
		ct_segment_scan_blocks(path, &s->idx, &s->n_idx, &end, &why, &bad);
		s->cap_idx = s->n_idx;
		s->seg_fd = open(path, O_RDWR | O_CLOEXEC);
		if (s->seg_fd < 0) {
			free(segs);
			return fail(err, errlen, "cannot open", path);
		}
		size = lseek(s->seg_fd, 0, SEEK_END);
		if (size > end) {
			s->st.torn_bytes_truncated = size - end;
			if (ftruncate(s->seg_fd, end) < 0) {
				free(segs);
				return fail(err, errlen, "cannot truncate torn tail of", path);
			}
			fsync(s->seg_fd);
		}
		s->seg_off = end;
		if (s->n_idx) {
			memcpy(s->last_hash, s->idx[s->n_idx - 1].hash, 32);
			s->last_seq = s->idx[s->n_idx - 1].hdr.last_seq;
			s->last_time = s->idx[s->n_idx - 1].hdr.max_time;
		}
	}
	s->st.segments = n;
	free(segs);
	return 0;
}

int ct_store_open(struct ct_store **out, const char *dir, char *err, size_t errlen)
{
	struct ct_store *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->seg_fd = -1;
	s->fsync_policy = CT_FSYNC_BLOCK;
	s->segment_bytes = CT_SEGMENT_BYTES;
	ct_strlcpy(s->dir, dir, sizeof(s->dir));
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		fail(err, errlen, "cannot create", dir);
		free(s);
		return -1;
	}
	if (load_or_make_id(s, err, errlen) < 0 || recover(s, err, errlen) < 0) {
		ct_store_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

void ct_store_set_policy(struct ct_store *s, enum ct_fsync_policy p,
			 uint64_t retention_ns, uint64_t retention_bytes)
{
	s->fsync_policy = p;
	s->retention_ns = retention_ns;
	s->retention_bytes = retention_bytes;
}

static void bloom_key(void *bloom, const char *key)
{
	ct_bloom_add(bloom, key);
}

static void note_keys(struct ct_store *s, const PbEvent *ev)
{
	ct_container_keys(ev, bloom_key, s->hdr.bloom);
	if (ev->attribution && ev->attribution->deploy_id && *ev->attribution->deploy_id)
		ct_bloom_add(s->hdr.bloom, ev->attribution->deploy_id);
	if (ev->detail_case == CHANGETRACE__V1__EVENT__DETAIL_FILE && ev->file) {
		if (ev->file->path && *ev->file->path)
			ct_bloom_add(s->hdr.bloom, ev->file->path);
		if (ev->file->old_path && *ev->file->old_path)
			ct_bloom_add(s->hdr.bloom, ev->file->old_path);
	}
	if (ev->detail_case == CHANGETRACE__V1__EVENT__DETAIL_DEPLOY && ev->deploy &&
	    ev->deploy->deploy && ev->deploy->deploy->id)
		ct_bloom_add(s->hdr.bloom, ev->deploy->deploy->id);
	if (ev->detail_case == CHANGETRACE__V1__EVENT__DETAIL_GUARD && ev->guard &&
	    ev->guard->deploy_id && *ev->guard->deploy_id)
		ct_bloom_add(s->hdr.bloom, ev->guard->deploy_id);
}

int ct_store_append(struct ct_store *s, const PbEvent *ev)
{
	size_t n = changetrace__v1__event__get_packed_size(ev);
	size_t need = s->raw_len + n + 10;

	if (n > CT_BLOCK_RAW_LIMIT / 2) {
		s->st.events_failed++;
		return -1;
	}
	if (need > s->raw_cap) {
		size_t cap = s->raw_cap ? s->raw_cap : CT_BLOCK_RAW_MAX * 2;
		uint8_t *r;

		while (cap < need)
			cap *= 2;
		r = realloc(s->raw, cap);
		if (!r) {
			s->st.events_failed++;
			return -1;
		}
		s->raw = r;
		s->raw_cap = cap;
	}
	if (s->hdr.count == 0) {
		memset(&s->hdr, 0, sizeof(s->hdr));
		s->hdr.first_seq = ev->seq;
		s->hdr.min_time = ev->time_unix_nano;
	}
	s->raw_len += ct_varint_write(s->raw + s->raw_len, n);
	s->raw_len += changetrace__v1__event__pack(ev, s->raw + s->raw_len);
	s->hdr.count++;
	s->hdr.last_seq = ev->seq > s->hdr.last_seq ? ev->seq : s->hdr.last_seq;
	if (ev->time_unix_nano < s->hdr.min_time)
		s->hdr.min_time = ev->time_unix_nano;
	if (ev->time_unix_nano > s->hdr.max_time)
		s->hdr.max_time = ev->time_unix_nano;
	if ((unsigned)ev->kind < 32)
		s->hdr.kinds |= 1u << ev->kind;
	note_keys(s, ev);
	if (ev->seq > s->last_seq)
		s->last_seq = ev->seq;
	if (s->raw_len >= CT_BLOCK_RAW_MAX)
		return ct_store_flush(s);
	return 0;
}

static int start_segment(struct ct_store *s, uint64_t first_seq)
{
	char path[PATH_MAX + 64];
	int fd;

	if (s->seg_fd >= 0) {
		/* seal the old one: its index lets queries skip it cheaply */
		write_idx(s->dir, s->seg_first_seq, s->idx, s->n_idx);
		close(s->seg_fd);
		s->seg_fd = -1;
	}
	ct_segment_name(s->dir, first_seq, path, sizeof(path), "cts");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	s->seg_fd = fd;
	s->seg_first_seq = first_seq;
	s->seg_off = 0;
	s->n_idx = 0;
	s->st.segments++;
	return 0;
}

int ct_store_flush(struct ct_store *s)
{
	uLongf comp_len;
	uint8_t hash[32];
	size_t need;
	ssize_t w;

	if (s->hdr.count == 0)
		return 0;
	if (s->seg_fd < 0 || s->seg_off >= (off_t)s->segment_bytes) {
		if (start_segment(s, s->hdr.first_seq) < 0)
			goto failed;
	}
	need = compressBound(s->raw_len);
	if (need > s->comp_cap) {
		uint8_t *c = realloc(s->comp, need);

		if (!c)
			goto failed;
		s->comp = c;
		s->comp_cap = need;
	}
	comp_len = need;
	if (compress2(s->comp, &comp_len, s->raw, s->raw_len, 6) != Z_OK)
		goto failed;
	s->hdr.magic = CT_BLOCK_MAGIC;
	s->hdr.version = CT_BLOCK_VERSION;
	s->hdr.hdr_len = sizeof(s->hdr);
	s->hdr.raw_len = s->raw_len;
	s->hdr.comp_len = comp_len;
	s->hdr.payload_crc = crc32(0, s->comp, comp_len);
	memcpy(s->hdr.prev_hash, s->last_hash, 32);
	s->hdr.hdr_crc = ct_block_hdr_crc(&s->hdr);
	ct_block_hash(&s->hdr, s->comp, comp_len, hash);

	/* header and payload in one write, at the good end of the segment */
	{
		struct iovec iov[2] = {
			{ &s->hdr, sizeof(s->hdr) },
			{ s->comp, comp_len },
		};

		w = pwritev(s->seg_fd, iov, 2, s->seg_off);
	}
	if (w != (ssize_t)(sizeof(s->hdr) + comp_len)) {
		s->st.last_errno = w < 0 ? errno : ENOSPC;
		/* never leave half a block: cut back to the last good one */
		if (ftruncate(s->seg_fd, s->seg_off) < 0) {
			/* the next open's recovery will cut it */
		}
		goto failed;
	}
	if (s->fsync_policy == CT_FSYNC_BLOCK && fdatasync(s->seg_fd) < 0) {
		s->st.last_errno = errno;
		if (ftruncate(s->seg_fd, s->seg_off) < 0) {
			/* as above */
		}
		goto failed;
	}
	idx_push(s, &s->hdr, s->seg_off, hash);
	if (s->hdr.max_time > s->last_time)
		s->last_time = s->hdr.max_time;
	s->seg_off += w;
	memcpy(s->last_hash, hash, 32);
	s->st.events_written += s->hdr.count;
	s->st.bytes_written += w;
	s->st.blocks_written++;
	s->st.last_errno = 0;
	if (s->failing)
		ct_err("store: writing to %s again", s->dir);
	s->failing = false;
	s->hdr.count = 0;
	s->raw_len = 0;
	return 0;
failed:
	if (!s->st.last_errno)
		s->st.last_errno = errno ? errno : EIO;
	/* said once per failure spell: then counted, and a GAP event once the
	 * store can write again */
	if (!s->failing)
		ct_err("store: cannot write to %s: %s; events go on to the other sinks and are "
		       "counted as lost to the store (store_events_failed) until it can write again",
		       s->dir, strerror(s->st.last_errno));
	s->failing = true;
	s->st.failed_errno = s->st.last_errno;
	s->st.events_failed += s->hdr.count;
	s->st.failed_since_report += s->hdr.count;
	if (!s->st.first_failed_ns)
		s->st.first_failed_ns = s->hdr.min_time;
	s->st.last_failed_ns = s->hdr.max_time;
	s->hdr.count = 0;
	s->raw_len = 0;
	return -1;
}

void ct_store_sync(struct ct_store *s)
{
	if (s->seg_fd >= 0 && s->fsync_policy != CT_FSYNC_NEVER)
		fdatasync(s->seg_fd);
}

/* Retention: remove whole sealed segments, oldest first, when they are
 * older than the age limit or the store is over its size limit. The hash
 * of a removed segment's last block is kept in DIR/retired, so `verify`
 * can still anchor the chain at the oldest remaining block. */
void ct_store_retain(struct ct_store *s, uint64_t now_wall_ns)
{
	struct ct_segment *segs;
	uint64_t total = 0;
	size_t n;

	if (!s->retention_ns && !s->retention_bytes)
		return;
	if (ct_segments_list(s->dir, &segs, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct stat st;

		if (stat(segs[i].path, &st) == 0)
			total += st.st_size;
	}
	for (size_t i = 0; i + 1 < n; i++) {
		struct ct_idx_entry *e;
		size_t ne;
		struct stat st;
		bool too_old, too_big;
		char line[128], path[PATH_MAX + 16];
		int fd;

		if (ct_idx_load(segs[i].idx_path, &e, &ne) < 0 || ne == 0) {
			free(e);
			break;
		}
		too_old = s->retention_ns && e[ne - 1].hdr.max_time + s->retention_ns < now_wall_ns;
		too_big = s->retention_bytes && total > s->retention_bytes;
		if (!too_old && !too_big) {
			free(e);
			break;
		}
		snprintf(line, sizeof(line), "%llu ", (unsigned long long)segs[i].first_seq);
		for (int k = 0; k < 32; k++)
			snprintf(line + strlen(line), 3, "%02x", e[ne - 1].hash[k]);
		strcat(line, "\n");
		free(e);
		snprintf(path, sizeof(path), "%s/retired", s->dir);
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (fd < 0 || write(fd, line, strlen(line)) != (ssize_t)strlen(line) || fsync(fd) < 0) {
			if (fd >= 0)
				close(fd);
			break;        /* without the anchor, keep the segment */
		}
		close(fd);
		if (stat(segs[i].path, &st) == 0)
			total -= st.st_size;
		unlink(segs[i].idx_path);
		unlink(segs[i].path);
		s->st.segments_retired++;
	}
	free(segs);
}

uint64_t ct_store_last_seq(const struct ct_store *s)
{
	return s->last_seq;
}

uint64_t ct_store_last_time(const struct ct_store *s)
{
	return s->last_time;
}

const char *ct_store_id(const struct ct_store *s)
{
	return s->id;
}

void ct_store_get_stats(const struct ct_store *s, struct ct_store_stats *st)
{
	*st = s->st;
	st->pending_events = s->hdr.count;
}

void ct_store_take_failure_report(struct ct_store *s, uint64_t *count,
				  uint64_t *first_ns, uint64_t *last_ns)
{
	*count = s->st.failed_since_report;
	*first_ns = s->st.first_failed_ns;
	*last_ns = s->st.last_failed_ns;
	s->st.failed_since_report = 0;
	s->st.first_failed_ns = s->st.last_failed_ns = 0;
}

void ct_store_restore_failure_report(struct ct_store *s, uint64_t count,
				     uint64_t first_ns, uint64_t last_ns)
{
	s->st.failed_since_report += count;
	if (first_ns && (!s->st.first_failed_ns || first_ns < s->st.first_failed_ns))
		s->st.first_failed_ns = first_ns;
	if (last_ns > s->st.last_failed_ns)
		s->st.last_failed_ns = last_ns;
}

bool ct_store_can_write(struct ct_store *s)
{
	struct statvfs v;

	if (!s->st.last_errno)
		return true;
	/* after a failure: worth a try once a block would fit again */
	if (statvfs(s->dir, &v) < 0)
		return true;
	return (uint64_t)v.f_bavail * v.f_frsize >= 4 * CT_BLOCK_RAW_MAX;
}

void ct_store_set_segment_bytes(struct ct_store *s, uint64_t bytes)
{
	s->segment_bytes = bytes ? bytes : CT_SEGMENT_BYTES;
}

void ct_store_close(struct ct_store *s)
{
	if (!s)
		return;
	/* even with no segment open yet (a fresh store): the flush makes it */
	ct_store_flush(s);
	if (s->seg_fd >= 0) {
		fdatasync(s->seg_fd);
		close(s->seg_fd);
	}
	free(s->idx);
	free(s->raw);
	free(s->comp);
	free(s);
}

static const struct ct_counter_def ct_store_counters_defs[] = {
	CT_COUNTER("store_events_written", struct ct_store_stats, events_written),
	CT_COUNTER("store_events_failed", struct ct_store_stats, events_failed),
	CT_COUNTER("store_events_pending", struct ct_store_stats, pending_events),
	CT_COUNTER("store_bytes_written", struct ct_store_stats, bytes_written),
	CT_COUNTER("store_blocks_written", struct ct_store_stats, blocks_written),
	CT_COUNTER("store_segments", struct ct_store_stats, segments),
	CT_COUNTER("store_segments_retired", struct ct_store_stats, segments_retired),
	CT_COUNTER("store_torn_bytes_truncated", struct ct_store_stats, torn_bytes_truncated),
};
const struct ct_counter_table ct_store_counters = CT_COUNTER_TABLE(ct_store_counters_defs);
