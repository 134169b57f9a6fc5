/*
 * libFuzzer: the watch-list file (--watch-list, user/collector/file_watch.c
 * ct_watches_build), and path normalisation on each line.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector/file_watch.h"

static char list[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ct_watches w;
	char err[512], line[PATH_MAX + 1];
	FILE *f;
	size_t n;

	if (!list[0])
		snprintf(list, sizeof(list), "/tmp/ct-fuzz-watch.%d", getpid());
	f = fopen(list, "we");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	ct_watches_build(&w, true, NULL, 0, list, err, sizeof(err));
	unlink(list);
	/* the normaliser on the raw bytes, as one path */
	n = size < PATH_MAX ? size : PATH_MAX;
	memcpy(line, data, n);
	line[n] = '\0';
	ct_path_normalize(line);
	return 0;
}
