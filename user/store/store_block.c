/* Blocks and segments: what the writer, the readers and `verify` share. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "store_block.h"

uint32_t ct_block_hdr_crc(const struct ct_block_hdr *h)
{
	return crc32(0, (const Bytef *)h, offsetof(struct ct_block_hdr, hdr_crc));
}

const char *ct_block_hdr_check(const struct ct_block_hdr *h)
{
	if (h->magic != CT_BLOCK_MAGIC)
		return "bad magic";
	if (h->version != CT_BLOCK_VERSION || h->hdr_len != sizeof(*h))
		return "unknown block version";
	if (h->hdr_crc != ct_block_hdr_crc(h))
		return "header checksum mismatch";
	if (h->comp_len > CT_BLOCK_RAW_LIMIT || h->raw_len > CT_BLOCK_RAW_LIMIT)
		return "block length out of range";
	if (h->first_seq > h->last_seq || h->count == 0 || h->count > h->raw_len)
		return "inconsistent header";
	return NULL;
}

void ct_block_hash(const struct ct_block_hdr *h, const void *payload, size_t len,
		   uint8_t out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = 32;

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, h, sizeof(*h));
	EVP_DigestUpdate(ctx, payload, len);
	EVP_DigestFinal_ex(ctx, out, &n);
	EVP_MD_CTX_free(ctx);
}

ssize_t ct_pread_full(int fd, void *buf, size_t len, off_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, off + got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += n;
	}
	return got;
}

int ct_block_read(int fd, off_t off, struct ct_block_hdr *h, uint8_t **payload,
		  uint8_t hash[32], const char **why)
{
	ssize_t n = ct_pread_full(fd, h, sizeof(*h), off);
	uint8_t *p;

	*payload = NULL;
	if (n == 0) {
		*why = NULL;
		return 0;               /* clean end of segment */
	}
	if (n != (ssize_t)sizeof(*h)) {
		*why = "truncated header";
		return -1;
	}
	if ((*why = ct_block_hdr_check(h)))
		return -1;
	p = malloc(h->comp_len ? h->comp_len : 1);
	if (!p) {
		*why = "out of memory";
		return -1;
	}
	if (ct_pread_full(fd, p, h->comp_len, off + sizeof(*h)) != (ssize_t)h->comp_len) {
		free(p);
		*why = "truncated payload";
		return -1;
	}
	if (crc32(0, p, h->comp_len) != h->payload_crc) {
		free(p);
		*why = "payload checksum mismatch";
		return -1;
	}
	if (hash)
		ct_block_hash(h, p, h->comp_len, hash);
	*payload = p;
	return 1;
}

uint8_t *ct_block_inflate(const struct ct_block_hdr *h, const uint8_t *payload)
{
	uLongf out_len = h->raw_len;
	uint8_t *out = malloc(h->raw_len ? h->raw_len : 1);

	if (!out)
		return NULL;
	if (uncompress(out, &out_len, payload, h->comp_len) != Z_OK || out_len != h->raw_len) {
		free(out);
		return NULL;
	}
	return out;
}

/* Varint-delimited messages: returns bytes of the length prefix, 0 if bad. */
size_t ct_varint_read(const uint8_t *p, size_t len, uint64_t *v)
{
	uint64_t x = 0;

	for (size_t i = 0; i < len && i < 10; i++) {
		x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = x;
			return i + 1;
		}
	}
	return 0;
}

size_t ct_varint_write(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	do {
		p[n] = v & 0x7f;
		v >>= 7;
		if (v)
			p[n] |= 0x80;
		n++;
	} while (v);
	return n;
}

static int seg_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n == 28 && !strncmp(d->d_name, "seg-", 4) && !strcmp(d->d_name + 24, ".cts");
}

int ct_segments_list(const char *dir, struct ct_segment **out, size_t *n_out)
{
	struct dirent **names;
	struct ct_segment *segs;
	int n = scandir(dir, &names, seg_filter, alphasort);

	*out = NULL;
	*n_out = 0;
	if (n < 0)
		return -1;
	segs = calloc(n ? n : 1, sizeof(*segs));
	if (!segs) {
		for (int i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		segs[i].first_seq = strtoull(names[i]->d_name + 4, NULL, 10);
		snprintf(segs[i].path, sizeof(segs[i].path), "%s/%s", dir, names[i]->d_name);
		snprintf(segs[i].idx_path, sizeof(segs[i].idx_path), "%s/%.24s.idx", dir, names[i]->d_name);
		free(names[i]);
	}
	free(names);
	*out = segs;
	*n_out = n;
	return 0;
}

void ct_segment_name(const char *dir, uint64_t first_seq, char *path, size_t len, const char *ext)
{
	snprintf(path, len, "%s/seg-%020llu.%s", dir, (unsigned long long)first_seq, ext);
}

int ct_idx_load(const char *idx_path, struct ct_idx_entry **out, size_t *n_out)
{
	int fd = open(idx_path, O_RDONLY | O_CLOEXEC);
	off_t size;
	struct ct_idx_entry *e;

	*out = NULL;
	*n_out = 0;
	if (fd < 0)
		return -1;
	size = lseek(fd, 0, SEEK_END);
	if (size < 0 || size % sizeof(*e) || size > (off_t)(1u << 30)) {
		close(fd);
		return -1;
	}
	e = malloc(size ? size : 1);
	if (!e || ct_pread_full(fd, e, size, 0) != size) {
		free(e);
		close(fd);
		return -1;
	}
	close(fd);
	for (size_t i = 0; i < (size_t)size / sizeof(*e); i++)
		if (ct_block_hdr_check(&e[i].hdr)) {
			free(e);
			return -1;    /* a bad index is ignored: the segment is scanned */
		}
	*out = e;
	*n_out = size / sizeof(*e);
	return 0;
}

/* Next offset after off where a whole good block starts, or -1. Used to
 * get past a damaged block whose header cannot say how long it is. */
static off_t resync(int fd, off_t off, off_t size)
{
	static const uint32_t magic = CT_BLOCK_MAGIC;
	uint8_t buf[1 << 16];

	for (off_t pos = off + 1; pos + (off_t)sizeof(struct ct_block_hdr) <= size;) {
		ssize_t n = ct_pread_full(fd, buf, sizeof(buf), pos);

		if (n < 4)
			return -1;
		for (ssize_t i = 0; i + 4 <= n; i++) {
			struct ct_block_hdr h;
			uint8_t *payload;
			const char *why;

			if (memcmp(buf + i, &magic, 4))
				continue;
			if (ct_block_read(fd, pos + i, &h, &payload, NULL, &why) == 1) {
				free(payload);
				return pos + i;
			}
		}
		pos += n - 3;   /* a magic may straddle two reads */
	}
	return -1;
}

int ct_segment_scan_headers(const char *path, struct ct_idx_entry **out, size_t *n_out,
			    off_t *end_off, const char **why)
{
	return ct_segment_scan_blocks(path, out, n_out, end_off, why, NULL);
}

int ct_segment_scan_blocks(const char *path, struct ct_idx_entry **out, size_t *n_out,
			   off_t *end_off, const char **why, uint64_t *n_bad)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct ct_idx_entry *e = NULL;
	size_t n = 0, cap = 0;
	off_t off = 0, good_end = 0, size;
	const char *first_why = NULL;
	uint64_t bad = 0;

	*out = NULL;
	*n_out = 0;
	*why = NULL;
	if (n_bad)
		*n_bad = 0;
	if (fd < 0) {
		*why = strerror(errno);
		return -1;
	}
	size = lseek(fd, 0, SEEK_END);
	for (;;) {
		struct ct_block_hdr h;
		uint8_t *payload, hash[32];
		const char *w;
		int r = ct_block_read(fd, off, &h, &payload, hash, &w);

		if (r == 0)
			break;
		if (r < 0) {
			off_t next;

			/* without n_bad the caller wants the first bad block to end the walk */
			if (!n_bad || (next = resync(fd, off, size)) < 0) {
				first_why = w;
				break;   /* nothing good follows: a torn tail */
			}
			bad++;
			off = next;
			continue;
		}
		free(payload);
		if (n == cap) {
			struct ct_idx_entry *ne;

			cap = cap ? cap * 2 : 64;
			ne = realloc(e, cap * sizeof(*e));
			if (!ne) {
				first_why = "out of memory";
				break;
			}
			e = ne;
		}
		e[n].hdr = h;
		e[n].offset = off;
		memcpy(e[n].hash, hash, 32);
		n++;
		off += sizeof(h) + h.comp_len;
		good_end = off;
	}
	close(fd);
	*out = e;
	*n_out = n;
	*why = first_why;
	if (n_bad)
		*n_bad = bad;
	if (end_off)
		*end_off = good_end;
	return 0;
}
