/* The watch list and its kernel maps. See file_watch.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <bpf/bpf.h>

#include "file_watch.h"
#include "lib/util.h"

const char *const ct_default_watch[] = {
	"/etc",                      /* incl. systemd, kubernetes, cron, sudoers, ssh, sysctl.d */
	"/usr/local/etc",
	"/usr/lib/systemd/system",   /* units shipped by packages */
	"/lib/systemd/system",
	"/usr/lib/sysctl.d",
	"/var/spool/cron",
	"/root/.ssh",
	"/proc/sys",                 /* sysctl writes */
	NULL,
};

static int add(struct ct_watches *w, const char *given, char *err, size_t errlen)
{
	char real[PATH_MAX];
	struct stat st;

	if (given[0] != '/') {
		snprintf(err, errlen, "watch path '%s' is not absolute", given);
		return -1;
	}
	if (strlen(given) >= CT_WATCH_PREFIX_LEN) {
		snprintf(err, errlen, "watch path '%s' is longer than %d bytes", given,
			 CT_WATCH_PREFIX_LEN - 1);
		return -1;
	}
	if (!realpath(given, real) || stat(real, &st) < 0) {
		w->missing++;	/* e.g. /root/.ssh on a host without it */
		return 0;
	}
	for (int i = 0; i < w->n; i++)
		if (w->w[i].ino == st.st_ino &&
		    w->w[i].kdev == ((major(st.st_dev) << 20) | minor(st.st_dev)))
			return 0;	/* /lib/systemd/system is /usr/lib/... on merged /usr */
	if (w->n >= CT_WATCH_MAX) {
		snprintf(err, errlen, "more than %d watch paths", CT_WATCH_MAX);
		return -1;
	}
	struct ct_watch *e = &w->w[w->n++];

	ct_strlcpy(e->path, real, sizeof(e->path));
	ct_strlcpy(e->given, given, sizeof(e->given));
	ct_path_normalize(e->given);
	e->ino = st.st_ino;
	e->kdev = (major(st.st_dev) << 20) | minor(st.st_dev);
	e->is_dir = S_ISDIR(st.st_mode);
	return 0;
}

int ct_watches_build(struct ct_watches *w, bool only_extra, char *const *extra, int n_extra,
		     const char *list_file, char *err, size_t errlen)
{
	memset(w, 0, sizeof(*w));
	if (!only_extra)
		for (int i = 0; ct_default_watch[i]; i++)
			if (add(w, ct_default_watch[i], err, errlen) < 0)
				return -1;
	for (int i = 0; i < n_extra; i++)
		if (add(w, extra[i], err, errlen) < 0)
			return -1;
	if (list_file) {
		FILE *f = fopen(list_file, "re");
		char line[PATH_MAX + 2];
		int ln = 0;

		if (!f) {
			snprintf(err, errlen, "%s: %s", list_file, strerror(errno));
			return -1;
		}
		while (fgets(line, sizeof(line), f)) {
			char *p = line, *end;
			char sub[256];

			ln++;
			if (!strchr(line, '\n') && !feof(f)) {
				snprintf(err, errlen, "%s:%d: line too long", list_file, ln);
				fclose(f);
				return -1;
			}
			while (*p == ' ' || *p == '\t')
				p++;
			end = p + strcspn(p, "#\r\n");
			while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
				end--;
			*end = '\0';
			if (!*p)
				continue;
			if (add(w, p, sub, sizeof(sub)) < 0) {
				snprintf(err, errlen, "%s:%d: %s", list_file, ln, sub);
				fclose(f);
				return -1;
			}
		}
		fclose(f);
	}
	return 0;
}

static void put_prefix(int fd, uint32_t *slot, const char *p)
{
	struct ct_watch_prefix v = {};
	size_t len = strlen(p);

	if (*slot >= CT_WATCH_PREFIX_MAX || len >= CT_WATCH_PREFIX_LEN)
		return;
	for (uint32_t i = 0; i < *slot; i++) {
		struct ct_watch_prefix old;

		if (!bpf_map_lookup_elem(fd, &i, &old) && old.len == len &&
		    !memcmp(old.path, p, len))
			return;
	}
	v.len = len;
	memcpy(v.path, p, len);
	bpf_map_update_elem(fd, slot, &v, BPF_ANY);
	(*slot)++;
}

int ct_watches_install(const struct ct_watches *w, int watch_fd, int prefix_fd,
		       volatile uint32_t *walk_gen, volatile uint32_t *watch_files)
{
	struct ct_watch_key k, next;
	struct ct_watch_prefix empty = {};
	uint32_t slot = 0, files = 0;

	for (int i = 0; i < w->n; i++)
		files += !w->w[i].is_dir;
	/* before the fill: a file watched from now on is looked up at once */
	if (files)
		__atomic_store_n(watch_files, files, __ATOMIC_SEQ_CST);

	/* clear, then fill: a reload may drop paths */
	while (!bpf_map_get_next_key(watch_fd, NULL, &next))
		if (bpf_map_delete_elem(watch_fd, &next))
			break;
	for (uint32_t i = 0; i < CT_WATCH_PREFIX_MAX; i++)
		bpf_map_update_elem(prefix_fd, &i, &empty, BPF_ANY);
	for (int i = 0; i < w->n; i++) {
		uint32_t id = i + 1;

		memset(&k, 0, sizeof(k));
		k.ino = w->w[i].ino;
		k.dev = w->w[i].kdev;
		if (bpf_map_update_elem(watch_fd, &k, &id, BPF_ANY) < 0)
			return -1;
		/* both spellings: strings given to syscalls use either */
		put_prefix(prefix_fd, &slot, w->w[i].path);
		put_prefix(prefix_fd, &slot, w->w[i].given);
	}
	/* verdicts cached under the old list are stale from here on */
	__atomic_fetch_add(walk_gen, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(watch_files, files, __ATOMIC_SEQ_CST);
	return 0;
}

const struct ct_watch *ct_watches_find(const struct ct_watches *w, const char *p)
{
	for (int i = 0; i < w->n; i++) {
		const char *cands[2] = { w->w[i].path, w->w[i].given };

		for (int c = 0; c < 2; c++) {
			size_t l = strlen(cands[c]);

			if (!strncmp(p, cands[c], l) && (p[l] == '\0' || p[l] == '/' ||
							 (l == 1 && cands[c][0] == '/')))
				return &w->w[i];
		}
	}
	return NULL;
}

void ct_path_normalize(char *p)
{
	char *out = p, *in = p;

	if (*in != '/')
		return;
	while (*in) {
		while (*in == '/')
			in++;
		if (!*in)
			break;
		size_t n = strcspn(in, "/");

		if (n == 1 && in[0] == '.') {
			in += n;
			continue;
		}
		if (n == 2 && in[0] == '.' && in[1] == '.') {
			while (out > p && *--out != '/')
				;
			in += n;
			continue;
		}
		*out++ = '/';
		memmove(out, in, n);
		out += n;
		in += n;
	}
	if (out == p)
		*out++ = '/';
	*out = '\0';
}
