/* Decode `changetrace query --proto` output (varint-length-delimited
 * changetrace.v1.Event messages on stdin) into one JSON object per line,
 * so tests can compare it with `--json`. Exit 1 on a malformed stream. */
#include <stdio.h>
#include <stdlib.h>

#include "lib/pb.h"
#include "export/pb_json.h"
#include "store/store_block.h"

int main(void)
{
	size_t cap = 1 << 20, len = 0, off = 0, n;
	uint8_t *buf = malloc(cap);

	while (buf && (n = fread(buf + len, 1, cap - len, stdin)) > 0) {
		len += n;
		if (len == cap && !(buf = realloc(buf, cap *= 2)))
			break;
	}
	if (!buf) {
		fprintf(stderr, "ct_pbdecode: out of memory\n");
		return 1;
	}
	while (off < len) {
		uint64_t mlen;
		size_t k = ct_varint_read(buf + off, len - off, &mlen);
		PbEvent *ev;

		if (!k || mlen > len - off - k) {
			fprintf(stderr, "ct_pbdecode: bad length prefix at byte %zu\n", off);
			return 1;
		}
		ev = changetrace__v1__event__unpack(NULL, mlen, buf + off + k);
		if (!ev) {
			fprintf(stderr, "ct_pbdecode: bad Event at byte %zu\n", off);
			return 1;
		}
		ct_pb_json_write(stdout, &ev->base);
		fputc('\n', stdout);
		changetrace__v1__event__free_unpacked(ev, NULL);
		off += k + mlen;
	}
	free(buf);
	return 0;
}
