/* Rotating event files for log shippers. See feed_file.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "feed_file.h"
#include "pb_json.h"
#include "lib/util.h"

struct ct_feed_file {
	char dir[4096];
	bool proto;
	uint64_t max_bytes;
	unsigned keep;
	FILE *cur;               /* buffered; its writes go through count_write */
	int cur_fd;
	uint64_t cur_bytes;      /* bytes written to the current file */
	struct ct_feed_file_stats st;
};

/* stdio write hook: counts bytes as they reach the file, so sizing the
 * file costs no lseek per event (ftell on an append stream does one). */
static ssize_t count_write(void *cookie, const char *buf, size_t len)
{
	struct ct_feed_file *f = cookie;
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(f->cur_fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return done ? (ssize_t)done : -1;
		done += n;
	}
	f->cur_bytes += done;
	f->st.bytes += done;
	return done;
}

static int count_close(void *cookie)
{
	struct ct_feed_file *f = cookie;
	int rc = close(f->cur_fd);

	f->cur_fd = -1;
	return rc;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Remove the oldest files beyond `keep` (names sort by first seq). */
static void prune(struct ct_feed_file *f)
{
	DIR *d = opendir(f->dir);
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char **nn;

		if (strncmp(e->d_name, "events-", 7))
			continue;
		nn = realloc(names, (n + 1) * sizeof(*names));
		if (!nn)
			break;
		names = nn;
		names[n] = strdup(e->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i + f->keep < n; i++) {
		char p[4200];

		snprintf(p, sizeof(p), "%s/%s", f->dir, names[i]);
		if (unlink(p) == 0)
			f->st.files_removed++;
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int start_file(struct ct_feed_file *f, uint64_t seq)
{
	char p[4200];

	if (f->cur) {
		fclose(f->cur);
		f->st.files_rotated++;
	}
	snprintf(p, sizeof(p), "%s/events-%020llu.%s", f->dir, (unsigned long long)seq,
		 f->proto ? "pb" : "jsonl");
	f->cur = NULL;
	f->cur_bytes = 0;
	/* append: a name can recur (seq restarts with --no-store) */
	f->cur_fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (f->cur_fd < 0)
		return -1;
	f->cur = fopencookie(f, "w", (cookie_io_functions_t){ .write = count_write,
							       .close = count_close });
	if (!f->cur) {
		close(f->cur_fd);
		f->cur_fd = -1;
		return -1;
	}
	prune(f);
	return 0;
}

struct ct_feed_file *ct_feed_file_open(const char *dir, bool proto, uint64_t max_bytes,
				       unsigned keep, char *err, size_t errlen)
{
	struct ct_feed_file *f = calloc(1, sizeof(*f));
	struct stat st;

	if (f)
		f->cur_fd = -1;
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (strlen(dir) >= sizeof(f->dir) - 64) {
		snprintf(err, errlen, "feed file directory path too long");
		free(f);
		return NULL;
	}
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		free(f);
		return NULL;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", dir);
		free(f);
		return NULL;
	}
	ct_strlcpy(f->dir, dir, sizeof(f->dir));
	f->proto = proto;
	f->max_bytes = max_bytes;
	f->keep = keep ? keep : 1;
	return f;
}

static void put_varint(FILE *out, uint64_t v)
{
	while (v >= 0x80) {
		fputc((int)(v & 0x7f) | 0x80, out);
		v >>= 7;
	}
	fputc((int)v, out);
}

void ct_feed_file_write(struct ct_feed_file *f, const PbEvent *ev)
{
	if (!f)
		return;
	if ((!f->cur || f->cur_bytes >= f->max_bytes) && start_file(f, ev->seq) < 0) {
		f->st.write_failures++;
		return;
	}
	if (f->proto) {
		size_t len = changetrace__v1__event__get_packed_size(ev);
		uint8_t stackbuf[4096], *buf = len <= sizeof(stackbuf) ? stackbuf : malloc(len);

		if (!buf) {
			f->st.write_failures++;
			return;
		}
		changetrace__v1__event__pack(ev, buf);
		put_varint(f->cur, len);
		fwrite(buf, 1, len, f->cur);
		if (buf != stackbuf)
			free(buf);
	} else {
		ct_pb_json_write(f->cur, &ev->base);
		fputc('\n', f->cur);
	}
	if (ferror(f->cur)) {
		f->st.write_failures++;
		clearerr(f->cur);
		return;
	}
	f->st.events++;
}

void ct_feed_file_flush(struct ct_feed_file *f)
{
	if (f && f->cur && fflush(f->cur) != 0) {
		f->st.write_failures++;
		clearerr(f->cur);
	}
}

void ct_feed_file_get_stats(const struct ct_feed_file *f, struct ct_feed_file_stats *st)
{
	if (f)
		*st = f->st;
	else
		memset(st, 0, sizeof(*st));
}

void ct_feed_file_close(struct ct_feed_file *f)
{
	if (!f)
		return;
	if (f->cur)
		fclose(f->cur);
	free(f);
}

static const struct ct_counter_def ct_feed_file_counters_defs[] = {
	CT_COUNTER("feed_file_events", struct ct_feed_file_stats, events),
	CT_COUNTER("feed_file_bytes", struct ct_feed_file_stats, bytes),
	CT_COUNTER("feed_file_rotated", struct ct_feed_file_stats, files_rotated),
	CT_COUNTER("feed_file_removed", struct ct_feed_file_stats, files_removed),
	CT_COUNTER("feed_file_write_failures", struct ct_feed_file_stats, write_failures),
};
const struct ct_counter_table ct_feed_file_counters = CT_COUNTER_TABLE(ct_feed_file_counters_defs);
