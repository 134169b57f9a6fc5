/*
 * On-disk format of the event store. Internal to store*.c.
 *
 * DIR/store.id                 16 hex chars, made at creation: event id prefix
 * DIR/seg-<first seq, 20 digits>.cts
 *                              blocks, back to back
 * DIR/seg-<...>.idx            the segment's block headers, written when the
 *                              segment is sealed (queries read this, not the
 *                              segment, to decide which blocks to open)
 * DIR/retired                  one line per segment removed by retention:
 *                              "<first seq> <hash of its last block, hex>"
 *
 * A block is a fixed header followed by a zlib stream of varint-length-
 * delimited changetrace.v1.Event messages. The header carries a CRC-32 of
 * the payload and the SHA-256 of the previous block (header + payload), so
 * a flipped byte, a removed block and a reordered block all break the chain.
 * All integers are little-endian.
 */
#ifndef CT_STORE_FORMAT_H
#define CT_STORE_FORMAT_H

#include <stdint.h>

#define CT_BLOCK_MAGIC    0x31425443u   /* "CTB1" */
#define CT_BLOCK_VERSION  1
#define CT_BLOOM_BYTES    256           /* deploy ids and file paths of the block */
#define CT_BLOCK_RAW_MAX  (64u << 10)   /* seal a block at this many raw bytes */
#define CT_BLOCK_RAW_LIMIT (16u << 20)  /* readers refuse larger claims */
#define CT_SEGMENT_BYTES  (64ull << 20) /* start a new segment past this */

struct ct_block_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t hdr_len;          /* sizeof(struct ct_block_hdr) */
	uint64_t first_seq, last_seq;
	uint64_t min_time, max_time;   /* wall clock ns */
	uint32_t count;
	uint32_t raw_len;          /* uncompressed payload bytes */
	uint32_t comp_len;         /* payload bytes on disk */
	uint32_t payload_crc;      /* crc32 of the on-disk payload */
	uint32_t kinds;            /* bit (1 << EventKind) for each kind inside */
	uint32_t flags;
	uint8_t  prev_hash[32];    /* SHA-256 of the previous block, all zero for the first */
	uint8_t  bloom[CT_BLOOM_BYTES];
	uint32_t hdr_crc;          /* crc32 of every header byte before this field */
	uint32_t pad;
} __attribute__((packed));

/* bloom: two bits per key from one 64-bit FNV-1a hash */
static inline uint64_t ct_bloom_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static inline void ct_bloom_add(uint8_t *bloom, const char *key)
{
	uint64_t h = ct_bloom_hash(key);
	unsigned a = h % (CT_BLOOM_BYTES * 8), b = (h >> 32) % (CT_BLOOM_BYTES * 8);

	bloom[a / 8] |= 1u << (a % 8);
	bloom[b / 8] |= 1u << (b % 8);
}

static inline int ct_bloom_maybe(const uint8_t *bloom, const char *key)
{
	uint64_t h = ct_bloom_hash(key);
	unsigned a = h % (CT_BLOOM_BYTES * 8), b = (h >> 32) % (CT_BLOOM_BYTES * 8);

	return (bloom[a / 8] & (1u << (a % 8))) && (bloom[b / 8] & (1u << (b % 8)));
}

#endif
