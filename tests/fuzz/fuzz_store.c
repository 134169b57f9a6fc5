/*
 * libFuzzer: the store reader (user/store/store_read.c) on arbitrary segment
 * bytes. The input is one segment file; when it holds the marker "IDX!",
 * what follows is that segment's .idx and a later (empty) segment makes
 * it a sealed one, so the index path is read too. Every event is scanned,
 * one is looked up by id, and the chain is verified.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "store/store.h"

static char dir[64];

static void put(const char *name, const uint8_t *p, size_t n)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	if (n && write(fd, p, n) != (ssize_t)n)
		abort();
	close(fd);
}

static void clear(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	closedir(d);
}

static int count(const PbEvent *ev, void *ctx)
{
	(void)ev;
	(*(uint64_t *)ctx)++;
	return 0;
}

static void cleanup(void)
{
	clear();
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ct_store_reader *r;
	struct ct_store_filter f;
	const uint8_t *idx = memmem(data, size, "IDX!", 4);
	uint64_t n = 0, blocks, events;
	char err[256];
	PbEvent *ev;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/ct-fuzz-store.%d", getpid());
		if (mkdir(dir, 0700) < 0)
			abort();
		atexit(cleanup);
	}
	clear();
	put("store.id", (const uint8_t *)"fuzz\n", 5);
	put("seg-00000000000000000001.cts", data, idx ? (size_t)(idx - data) : size);
	if (idx) {
		put("seg-00000000000000000001.idx", idx + 4, size - (idx + 4 - data));
		put("seg-00000000000000100000.cts", NULL, 0);
	}
	if (ct_store_reader_open(&r, dir, err, sizeof(err)) == 0) {
		memset(&f, 0, sizeof(f));
		ct_store_scan(r, &f, count, &n);
		ev = ct_store_find(r, "fuzz-2");
		if (ev)
			changetrace__v1__event__free_unpacked(ev, NULL);
		ct_store_reader_close(r);
	}
	ct_store_verify(dir, &blocks, &events, err, sizeof(err));
	return 0;
}
