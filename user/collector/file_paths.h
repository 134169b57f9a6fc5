/*
 * The paths of a config-change record as the host names them. The kernel
 * gives a path as the acting process sees it (its mount namespace), with
 * the watch it matched, or a path string as the syscall was given it; the
 * host path is the watch's path and what lies below it, or the string
 * made absolute and checked against the watch list.
 *
 * A name longer or deeper than a record holds comes cut (CT_FF_TRUNCATED):
 * the part below its watch, which is enough, or else only its lowest
 * names. Those are completed from the process's fd in /proc (the same
 * inode, checked) where it still has it; what cannot be completed is
 * never passed off as whole: "…" stands for the missing part, and the
 * caller is told.
 */
#ifndef CT_FILE_PATHS_H
#define CT_FILE_PATHS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "changetrace.h"
#include "file_watch.h"

/* Stands for the part of a name that could not be read. */
#define FILE_PATH_GAP "\xe2\x80\xa6"	/* U+2026 */

struct file_paths {
	const struct ct_watches *watches;
	const char *proc_root;     /* the acting process's cwd, fds and root are read there */
	uint32_t host_mnt_ns;
};

enum file_path_result {
	FILE_PATH_OK,
	FILE_PATH_NONE,            /* the record holds no such path (or a bad one) */
	FILE_PATH_NOT_WATCHED,     /* a prefix match the kernel could not rule out */
	FILE_PATH_UNRESOLVED,      /* relative, and the process's directory is gone */
};

/* Mirrors changetrace.v1.FilePathSource. */
enum file_path_source {
	FILE_PATH_KERNEL = 0,
	FILE_PATH_PROC_FD = 1,
	FILE_PATH_PROC_DIR = 2,
};

/* How a host path was had, besides where it points. */
struct file_path_note {
	bool truncated;            /* not the whole name (FILE_PATH_GAP in it) */
	enum file_path_source source;
};

/* path0 (which=0) or path1 of a record, NUL-terminated into buf. */
bool file_record_path(const struct ct_file_event *e, int which, char *buf, size_t len);
/* path0/path1 as given, made absolute with the process's dir fd or cwd. */
bool file_raw_path(const struct file_paths *fp, const struct ct_file_event *e, int which,
		   char *buf, size_t len);
/* The host path of path0/path1 into host (PATH_MAX bytes), and into ns
 * (PATH_MAX bytes) the path as the process names it when that differs
 * and is known. note may be NULL. */
enum file_path_result file_host_path(const struct file_paths *fp, const struct ct_file_event *e,
				     int which, char *host, char *ns, struct file_path_note *note);

#endif
