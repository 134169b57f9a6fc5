/* The blob store (see blobs.h). */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "blobs.h"

void ct_hex(const unsigned char *d, size_t n, char *out)
{
	static const char x[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = x[d[i] >> 4];
		out[2 * i + 1] = x[d[i] & 15];
	}
	out[2 * n] = '\0';
}

int ct_blob_path(const char *dir, const char *sha, char *out, size_t len)
{
	if (strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64)
		return -1;
	return snprintf(out, len, "%s/%.2s/%s", dir, sha, sha) < (int)len ? 0 : -1;
}

/*
 * Copies of file content make `diff` work; the events are the record. A
 * copy is kept only while the store's filesystem keeps room for events
 * after it: a tenth of the filesystem, at least 1 MiB, at most 1 GiB
 * (the baseline alone could otherwise fill a small store before the
 * first event block is written).
 */
#define BLOB_RESERVE_MIN (1ull << 20)
#define BLOB_RESERVE_MAX (1ull << 30)

bool ct_blob_room(const char *blob_dir, size_t len)
{
	struct statvfs v;
	uint64_t size, avail, reserve;
	char parent[PATH_MAX], *slash;

	if (statvfs(blob_dir, &v) < 0) {
		/* not made yet: its parent, the store */
		snprintf(parent, sizeof(parent), "%s", blob_dir);
		slash = strrchr(parent, '/');
		if (slash && slash != parent)
			*slash = '\0';
		if (statvfs(parent, &v) < 0)
			return true;	/* cannot tell: the write will say */
	}
	size = (uint64_t)v.f_blocks * v.f_frsize;
	avail = (uint64_t)v.f_bavail * v.f_frsize;
	reserve = size / 10;
	if (reserve < BLOB_RESERVE_MIN)
		reserve = BLOB_RESERVE_MIN;
	if (reserve > BLOB_RESERVE_MAX)
		reserve = BLOB_RESERVE_MAX;
	return avail > reserve + len;
}

int ct_blob_read(const char *blob_dir, const char *sha, char **out, size_t *out_len)
{
	char path[PATH_MAX];
	unsigned char hdr[8], *z = NULL;
	uint64_t raw = 0;
	uLongf dlen;
	struct stat st;
	char *d = NULL;
	FILE *f;

	*out = NULL;
	*out_len = 0;
	if (ct_blob_path(blob_dir, sha, path, sizeof(path)) < 0) {
		errno = EINVAL;
		return -1;
	}
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fstat(fileno(f), &st) < 0 || st.st_size < 8 || fread(hdr, 1, 8, f) != 8)
		goto bad;
	for (int i = 0; i < 8; i++)
		raw |= (uint64_t)hdr[i] << (8 * i);
	/* the length is untrusted: zlib cannot expand more than ~1032:1 */
	if (raw > (uint64_t)(st.st_size - 8) * 1032 + 64 || raw > (1ull << 32))
		goto bad;
	z = malloc(st.st_size - 8 + 1);
	d = malloc(raw + 1);
	if (!z || !d || fread(z, 1, st.st_size - 8, f) != (size_t)(st.st_size - 8))
		goto bad;
	dlen = raw;
	if (uncompress((unsigned char *)d, &dlen, z, st.st_size - 8) != Z_OK || dlen != raw)
		goto bad;
	/* content-addressed: the bytes must hash to their name */
	{
		unsigned char md[32];
		char h[CT_SHA256_HEX];
		unsigned int mdl;

		EVP_Digest(d, dlen, md, &mdl, EVP_sha256(), NULL);
		ct_hex(md, sizeof(md), h);
		if (strcmp(h, sha))
			goto bad;
	}
	d[dlen] = '\0';
	free(z);
	fclose(f);
	*out = d;
	*out_len = dlen;
	return 0;
bad:
	free(z);
	free(d);
	fclose(f);
	errno = EBADMSG;
	return -1;
}
