/* Store writer/reader on a temp dir: damage inside the newest segment is
 * skipped and kept, a torn tail is cut, a close before the first segment
 * still writes. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"
#include "store/store.h"
#include "store/store_block.h"

static int count_cb(const PbEvent *ev, void *ctx)
{
	(*(uint64_t *)ctx)++;
	return 0;
}

static uint64_t count_all(const char *dir, uint64_t *corrupt)
{
	struct ct_store_reader *r;
	struct ct_store_filter f = CT_STORE_FILTER_INIT;
	uint64_t n = 0;
	char err[256];

	if (ct_store_reader_open(&r, dir, err, sizeof(err)) < 0)
		return (uint64_t)-1;
	ct_store_scan(r, &f, count_cb, &n);
	*corrupt = ct_store_reader_corrupt_blocks(r);
	ct_store_reader_close(r);
	return n;
}

/* blocks of 10 events each */
static int write_blocks(const char *dir, int blocks, uint64_t *seq)
{
	struct ct_store *s;
	char err[256], id[32];

	if (ct_store_open(&s, dir, err, sizeof(err)) < 0)
		return -1;
	for (int b = 0; b < blocks; b++) {
		for (int i = 0; i < 10; i++) {
			PbEvent ev = CHANGETRACE__V1__EVENT__INIT;

			ev.seq = ++*seq;
			snprintf(id, sizeof(id), "x-%llu", (unsigned long long)ev.seq);
			ev.event_id = id;
			ev.time_unix_nano = 1000 + ev.seq;
			ev.kind = CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_EXEC;
			ct_store_append(s, &ev);
		}
		if (b + 1 < blocks)
			ct_store_flush(s);
	}
	ct_store_close(s);   /* seals the last block */
	return 0;
}

TEST(store_damage_inside_is_kept_torn_tail_is_cut)
{
	char dir[] = "/tmp/ct-unit-store.XXXXXX", seg[512], err[256];
	struct ct_idx_entry *e;
	struct ct_store *s;
	struct ct_store_stats st;
	uint64_t seq = 0, corrupt, blocks, events;
	size_t n;
	off_t end;
	const char *why;
	int fd;
	uint8_t b;

	CHECK(mkdtemp(dir));
	CHECK(write_blocks(dir, 5, &seq) == 0);   /* closed before any flush made a segment */
	CHECK(count_all(dir, &corrupt) == 50 && corrupt == 0);
	ct_segment_name(dir, 1, seg, sizeof(seg), "cts");
	ct_segment_scan_headers(seg, &e, &n, &end, &why);
	CHECK(n == 5);
	/* flip a payload byte of block 1; append half a block */
	fd = open(seg, O_RDWR);
	CHECK(fd >= 0);
	CHECK(pread(fd, &b, 1, e[1].offset + sizeof(struct ct_block_hdr) + 3) == 1);
	b ^= 0xff;
	CHECK(pwrite(fd, &b, 1, e[1].offset + sizeof(struct ct_block_hdr) + 3) == 1);
	{
		uint8_t half[200];

		CHECK(pread(fd, half, sizeof(half), e[2].offset) == sizeof(half));
		CHECK(pwrite(fd, half, sizeof(half), end) == sizeof(half));
	}
	close(fd);
	free(e);
	/* readers skip the bad block and still see the blocks after it */
	CHECK(count_all(dir, &corrupt) == 40 && corrupt == 1);
	CHECK(ct_store_verify(dir, &blocks, &events, err, sizeof(err)) == -1);
	CHECK(strstr(err, "block 1 at offset") && strstr(err, "payload checksum mismatch"));
	/* the writer cuts only the torn tail, keeps everything else, appends after */
	CHECK(ct_store_open(&s, dir, err, sizeof(err)) == 0);
	ct_store_get_stats(s, &st);
	CHECK(st.torn_bytes_truncated == 200);
	CHECK(ct_store_last_seq(s) == 50);
	ct_store_close(s);
	CHECK(write_blocks(dir, 1, &seq) == 0);
	CHECK(count_all(dir, &corrupt) == 50 && corrupt == 1);
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		CHECK(system(cmd) == 0);
	}
}
