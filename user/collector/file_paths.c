/* A config-change record's paths as the host names them. See file_paths.h. */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

bool file_raw_path(const struct file_paths *fp, const struct ct_file_event *e, int which,
		   char *buf, size_t len)
{
	char raw[PATH_MAX], link[64], cwd[PATH_MAX];
	ssize_t n;

	if (!file_record_path(e, which, raw, sizeof(raw)))
		return false;
	if (raw[0] == '/') {
		ct_strlcpy(buf, raw, len);
	} else {
		snprintf(link, sizeof(link), "%s/%u/cwd", fp->proc_root, e->task.pid);
		n = readlink(link, cwd, sizeof(cwd) - 1);
		if (n <= 0)
			return false;
		cwd[n] = '\0';
		if (snprintf(buf, len, "%s/%s", cwd, raw) >= (int)len)
			return false;
	}
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

enum file_path_result file_host_path(const struct file_paths *fp, const struct ct_file_event *e,
				     int which, char *host, char *ns)
{
	uint32_t wid = which ? e->watch_id1 : e->watch_id;
	uint32_t soff = which ? e->suffix_off1 : e->suffix_off;
	char raw[PATH_MAX], tmp[PATH_MAX * 2];

	ns[0] = '\0';
	if (!file_record_path(e, which, raw, sizeof(raw)))
		return FILE_PATH_NONE;
	if (raw[0] != '/') {
		/* relative with "..", the kernel could not place it: the cwd now */
		char link[64], cwd[PATH_MAX];
		ssize_t n;

		snprintf(link, sizeof(link), "%s/%u/cwd", fp->proc_root, e->task.pid);
		n = readlink(link, cwd, sizeof(cwd) - 1);
		if (n <= 0)
			return FILE_PATH_UNRESOLVED;
		cwd[n] = '\0';
		if (snprintf(tmp, sizeof(tmp), "%s/%s", cwd, raw) >= PATH_MAX)
			return FILE_PATH_UNRESOLVED;
		ct_strlcpy(raw, tmp, sizeof(raw));
		wid = 0;
	}
	if (wid && wid <= (uint32_t)fp->watches->n && soff <= strlen(raw)) {
		/* the kernel matched a watched inode: watch path + what is below */
		if (snprintf(tmp, sizeof(tmp), "%s%s", fp->watches->w[wid - 1].path, raw + soff) >=
		    PATH_MAX)
			return FILE_PATH_UNRESOLVED;
		ct_strlcpy(host, tmp, PATH_MAX);
		ct_path_normalize(host);
		ct_path_normalize(raw);
		if (strcmp(raw, host))
			ct_strlcpy(ns, raw, PATH_MAX);
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
