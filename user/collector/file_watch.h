/*
 * The watch list: which paths are config. Resolved once (and on SIGHUP)
 * into the kernel's maps: (dev, inode) of every watched directory or file
 * for fd-based operations, and path prefixes for path-string syscalls.
 */
#ifndef CT_FILE_WATCH_H
#define CT_FILE_WATCH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "changetrace.h"

/* Embedded default: what a production host changes when it is reconfigured. */
extern const char *const ct_default_watch[];

struct ct_watch {
	char path[PATH_MAX];     /* as resolved on the host (realpath) */
	char given[PATH_MAX];    /* as configured */
	uint64_t ino;
	uint32_t kdev;           /* kernel dev_t encoding */
	bool is_dir;
};

struct ct_watches {
	struct ct_watch w[CT_WATCH_MAX];
	int n;
	int missing;             /* configured paths that do not exist (yet) */
};

/* Build the list: the default (unless only) plus extra paths and the
 * paths listed in list_file (one per line, '#' comments). Errors (bad
 * file, relative path, too many) are reported with the line. */
int ct_watches_build(struct ct_watches *w, bool only_extra, char *const *extra, int n_extra,
		     const char *list_file, char *err, size_t errlen);
/* Fill the kernel maps (replacing what was there). */
/* Replaces the kernel's watch list; bumps *walk_gen so that the kernel's
 * cached "unwatched" verdicts are not trusted across the change, and sets
 * *watch_files to the number of watches that are not directories. */
int ct_watches_install(const struct ct_watches *w, int watch_fd, int prefix_fd,
		       volatile uint32_t *walk_gen, volatile uint32_t *watch_files);
/* The watch containing host path p (lexically), or NULL. */
const struct ct_watch *ct_watches_find(const struct ct_watches *w, const char *p);
/* Lexically normalise an absolute path in place: "//", "/./", "/x/../". */
void ct_path_normalize(char *p);

#endif
