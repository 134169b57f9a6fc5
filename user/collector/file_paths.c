/* A config-change record's paths as the host names them. See file_paths.h. */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "file_paths.h"
#include "lib/util.h"

bool file_record_path(const struct ct_file_event *e, int which, char *buf, size_t len)
{
	size_t off = which ? e->path0_len : 0;
	size_t n = which ? e->path1_len : e->path0_len;

	if (!n || off + n > sizeof(e->paths) || n >= len)
		return false;
	memcpy(buf, e->paths + off, n);
	buf[n] = '\0';
	/* a name with a NUL inside cannot come from the kernel's walk */
	return strlen(buf) == n;
}

/* rel joined to the directory it is relative to (dfd, or the cwd for
 * AT_FDCWD) as the process has it now, normalised, into out. */
static bool join_dir(const struct file_paths *fp, const struct ct_file_event *e, int32_t dfd,
		     const char *rel, char *out, size_t len)
{
	char link[64], dir[PATH_MAX], joined[PATH_MAX * 2];
	ssize_t n;

	if (dfd >= 0)
		snprintf(link, sizeof(link), "%s/%u/fd/%d", fp->proc_root, e->task.pid, dfd);
	else
		snprintf(link, sizeof(link), "%s/%u/cwd", fp->proc_root, e->task.pid);
	n = readlink(link, dir, sizeof(dir) - 1);
	if (n <= 0)
		return false;
	dir[n] = '\0';
	/* "..": it may be longer than what it names */
	if (dir[0] != '/' || snprintf(joined, sizeof(joined), "%s/%s", dir, rel) >= (int)sizeof(joined))
		return false;
	ct_path_normalize(joined);
	return ct_strlcpy(out, joined, len) < len;
}

bool file_raw_path(const struct file_paths *fp, const struct ct_file_event *e, int which,
		   char *buf, size_t len)
{
	char raw[PATH_MAX];

	if (!file_record_path(e, which, raw, sizeof(raw)))
		return false;
	if (raw[0] != '/')
		return join_dir(fp, e, which ? e->fd1 : e->fd, raw, buf, len);
	ct_strlcpy(buf, raw, len);
	ct_path_normalize(buf);
	return true;
}

/* realpath(dir) + "/" + base, through the process's root when given. */
static bool resolve_parent(const char *root, const char *p, char *outp, size_t len)
{
	char dir[PATH_MAX], basebuf[PATH_MAX], joined[PATH_MAX + 32], real[PATH_MAX];

	ct_strlcpy(dir, p, sizeof(dir));
	ct_strlcpy(basebuf, p, sizeof(basebuf));
	if (snprintf(joined, sizeof(joined), "%s%s", root ? root : "", dirname(dir)) >=
	    (int)sizeof(joined))
		return false;
	if (!realpath(joined, real))
		return false;
	const char *b = basename(basebuf);

	if (!strcmp(b, "/"))
		return snprintf(outp, len, "%s", real) < (int)len;
	return snprintf(outp, len, "%s%s%s", real, strcmp(real, "/") ? "/" : "", b) < (int)len;
}

/*
 * The file an fd-based record changed, as /proc/PID/fd names it now (the
 * host's view, up to PATH_MAX), if the process still holds it there: the
 * same inode, not a file opened at that fd since.
 */
static bool path_of_fd(const struct file_paths *fp, const struct ct_file_event *e, char *out)
{
	static const char deleted[] = " (deleted)";
	char link[64];
	struct stat st;
	ssize_t n;

	if (!(e->flags & CT_FF_FD) || e->fd < 0 || !e->ino)
		return false;
	snprintf(link, sizeof(link), "%s/%u/fd/%d", fp->proc_root, e->task.pid, e->fd);
	n = readlink(link, out, PATH_MAX - 1);
	if (n <= 0)
		return false;
	out[n] = '\0';
	if (out[0] != '/' || ((size_t)n >= sizeof(deleted) - 1 &&
			      !strcmp(out + n - (sizeof(deleted) - 1), deleted)))
		return false;
	if (stat(link, &st) < 0 || st.st_ino != e->ino ||
	    ((major(st.st_dev) << 20) | minor(st.st_dev)) != e->dev)
		return false;
	ct_path_normalize(out);
	return true;
}

/* dir + FILE_PATH_GAP + tail, the tail cut at its top to fit PATH_MAX:
 * a name of which only its ends are known. */
static void with_gap(const char *dir, const char *tail, char *out)
{
	size_t room, n = strlen(tail);
	int head = snprintf(out, PATH_MAX, "%s%s", strcmp(dir, "/") ? dir : "", "/" FILE_PATH_GAP);

	if (head < 0 || head >= PATH_MAX) {
		snprintf(out, PATH_MAX, "/%s", FILE_PATH_GAP);
		head = strlen(out);
	}
	room = PATH_MAX - 1 - head;
	if (n > room) {
		tail += n - room;
		while (*tail && *tail != '/')	/* from a whole name on */
			tail++;
	}
	ct_strlcpy(out + head, tail, PATH_MAX - head);
}

enum file_path_result file_host_path(const struct file_paths *fp, const struct ct_file_event *e,
				     int which, char *host, char *ns, struct file_path_note *note)
{
	uint32_t wid = which ? e->watch_id1 : e->watch_id;
	uint32_t soff = which ? e->suffix_off1 : e->suffix_off;
	bool cut = e->flags & (which ? CT_FF_TRUNCATED1 : CT_FF_TRUNCATED);
	const char *watch;
	char raw[PATH_MAX], tmp[PATH_MAX * 2];
	struct file_path_note unused;

	if (!note)
		note = &unused;
	note->truncated = false;
	note->source = FILE_PATH_KERNEL;
	ns[0] = '\0';
	if (!file_record_path(e, which, raw, sizeof(raw)))
		return FILE_PATH_NONE;
	if (wid > (uint32_t)fp->watches->n)
		wid = 0;
	watch = wid ? fp->watches->w[wid - 1].path : NULL;
	if (raw[0] != '/') {
		/* relative: with ".." the kernel could not place it, or its
		 * directory did not fit beside it; the directory as it is now */
		if (join_dir(fp, e, which ? e->fd1 : e->fd, raw, tmp, PATH_MAX)) {
			ct_strlcpy(raw, tmp, sizeof(raw));
			note->source = FILE_PATH_PROC_DIR;
		} else if (watch && cut) {
			snprintf(tmp, sizeof(tmp), "/%s", raw);
			with_gap(watch, tmp, host);
			note->truncated = true;
			return FILE_PATH_OK;
		} else {
			return FILE_PATH_UNRESOLVED;
		}
		wid = 0;
		watch = NULL;
	}
	if (watch && soff == CT_SUFFIX_UNKNOWN) {
		/* only its lowest names: the watch is above, what lies
		 * between is not known */
		if (!which && path_of_fd(fp, e, host)) {
			note->source = FILE_PATH_PROC_FD;
			return FILE_PATH_OK;
		}
		with_gap(watch, raw, host);
		note->truncated = true;
		return FILE_PATH_OK;
	}
	if (watch && soff <= strlen(raw)) {
		/* the kernel matched a watched inode: watch path + what is below
		 * (normalised first: ".." may make it longer than it is) */
		snprintf(tmp, sizeof(tmp), "%s%s", watch, raw + soff);
		ct_path_normalize(tmp);
		if (strlen(tmp) >= PATH_MAX) {
			with_gap(watch, raw + soff, host);
			note->truncated = true;
			return FILE_PATH_OK;
		}
		ct_strlcpy(host, tmp, PATH_MAX);
		/* a cut path is not the name the process knows either */
		if (!cut) {
			ct_path_normalize(raw);
			if (strcmp(raw, host))
				ct_strlcpy(ns, raw, PATH_MAX);
		}
		return FILE_PATH_OK;
	}
	/* a path string: normalise, resolve symlinked parents where they exist */
	ct_path_normalize(raw);
	if (e->task.mnt_ns != fp->host_mnt_ns) {
		char root[64];

		snprintf(root, sizeof(root), "%s/%u/root", fp->proc_root, e->task.pid);
		if (!resolve_parent(root, raw, host, PATH_MAX))
			ct_strlcpy(host, raw, PATH_MAX);
		if (strcmp(raw, host))
			ct_strlcpy(ns, raw, PATH_MAX);
	} else if (!resolve_parent(NULL, raw, host, PATH_MAX)) {
		ct_strlcpy(host, raw, PATH_MAX);
	}
	if (!ct_watches_find(fp->watches, host) && !ct_watches_find(fp->watches, raw))
		return FILE_PATH_NOT_WATCHED;
	return FILE_PATH_OK;
}
