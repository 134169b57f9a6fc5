/* Block and segment primitives shared by the store writer, readers and
 * `changetrace verify`. See store_format.h for the layout. */
#ifndef CT_STORE_BLOCK_H
#define CT_STORE_BLOCK_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "store_format.h"

/* One entry of a segment's .idx file: a block header, where the block
 * starts in the segment, and the block's hash (the next block's prev_hash). */
struct ct_idx_entry {
	struct ct_block_hdr hdr;
	uint64_t offset;
	uint8_t hash[32];
} __attribute__((packed));

struct ct_segment {
	uint64_t first_seq;
	char path[PATH_MAX];
	char idx_path[PATH_MAX];
};

uint32_t ct_block_hdr_crc(const struct ct_block_hdr *h);
/* NULL when the header is well-formed, else why not. */
const char *ct_block_hdr_check(const struct ct_block_hdr *h);
void ct_block_hash(const struct ct_block_hdr *h, const void *payload, size_t len,
		   uint8_t out[32]);
ssize_t ct_pread_full(int fd, void *buf, size_t len, off_t off);
/* Read and check the block at off. 1: ok (payload malloc'd), 0: end of
 * file, -1: bad block (why says what). hash may be NULL. */
int ct_block_read(int fd, off_t off, struct ct_block_hdr *h, uint8_t **payload,
		  uint8_t hash[32], const char **why);
/* Decompress a checked payload; NULL if it does not inflate to raw_len. */
uint8_t *ct_block_inflate(const struct ct_block_hdr *h, const uint8_t *payload);
size_t ct_varint_read(const uint8_t *p, size_t len, uint64_t *v);
size_t ct_varint_write(uint8_t *p, uint64_t v);

/* Segments of dir in sequence order (malloc'd array). */
int ct_segments_list(const char *dir, struct ct_segment **out, size_t *n);
void ct_segment_name(const char *dir, uint64_t first_seq, char *path, size_t len, const char *ext);
/* Load a sealed segment's index; -1 if missing or malformed. */
int ct_idx_load(const char *idx_path, struct ct_idx_entry **out, size_t *n);
/* Walk a segment's blocks from the start, stopping at the first bad one:
 * *end_off is where the good blocks end, *why why it stopped (NULL at EOF). */
int ct_segment_scan_headers(const char *path, struct ct_idx_entry **out, size_t *n,
			    off_t *end_off, const char **why);
/* The same, getting past damaged blocks: bad bytes followed by a good
 * block are interior damage (counted in *n_bad, the walk goes on); bad
 * bytes with no good block after them are a torn tail (*why says why),
 * and *end_off is where the last good block ends. */
int ct_segment_scan_blocks(const char *path, struct ct_idx_entry **out, size_t *n,
			   off_t *end_off, const char **why, uint64_t *n_bad);

#endif
