/*
 * The paths of a config-change record as the host names them. The kernel
 * gives a path as the acting process sees it (its mount namespace), with
 * the watch it matched, or a path string as the syscall was given it; the
 * host path is the watch's path and what lies below it, or the string
 * made absolute and checked against the watch list.
 */
#ifndef CT_FILE_PATHS_H
#define CT_FILE_PATHS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "changetrace.h"
#include "file_watch.h"

struct file_paths {
	const struct ct_watches *watches;
	const char *proc_root;     /* the acting process's cwd and root are read there */
	uint32_t host_mnt_ns;
};

enum file_path_result {
	FILE_PATH_OK,
	FILE_PATH_NONE,            /* the record holds no such path (or a bad one) */
	FILE_PATH_NOT_WATCHED,     /* a prefix match the kernel could not rule out */
	FILE_PATH_UNRESOLVED,      /* relative, and the process's cwd is gone */
};

/* path0 (which=0) or path1 of a record, NUL-terminated into buf. */
bool file_record_path(const struct ct_file_event *e, int which, char *buf, size_t len);
/* path0/path1 as given, made absolute with the process's cwd. */
bool file_raw_path(const struct file_paths *fp, const struct ct_file_event *e, int which,
		   char *buf, size_t len);
/* The host path of path0/path1 into host (PATH_MAX bytes), and into ns
 * (PATH_MAX bytes) the path as the process names it when that differs. */
enum file_path_result file_host_path(const struct file_paths *fp, const struct ct_file_event *e,
				     int which, char *host, char *ns);

#endif
