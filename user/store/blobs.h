/*
 * The blob store: file versions kept for `changetrace diff`, under
 * STORE/blobs/xx/<sha256>, each an 8-byte little-endian raw length and
 * the zlib-compressed bytes. Content-addressed, so a reader checks that
 * the bytes hash to their name.
 */
#ifndef CT_STORE_BLOBS_H
#define CT_STORE_BLOBS_H

#include <stdbool.h>
#include <stddef.h>

#define CT_SHA256_HEX 65

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void ct_hex(const unsigned char *d, size_t n, char *out);
/* dir/xx/<sha>; -1 when sha is not 64 lowercase hex digits or too long. */
int ct_blob_path(const char *blob_dir, const char *sha256, char *out, size_t len);
/* May a blob of len bytes be written, leaving the store's filesystem
 * room for events? (see blobs.c) */
bool ct_blob_room(const char *blob_dir, size_t len);
/* Read a blob back (malloc'd into *buf). 0 ok, -1 with errno. */
int ct_blob_read(const char *blob_dir, const char *sha256, char **buf, size_t *len);

#endif
