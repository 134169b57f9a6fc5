/*
 * What the parts of the file collector share: its state and how an event
 * is emitted. event_file.c coalesces writes into changes; file_sysctl.c
 * reports sysctl writes, one event each. Not for use outside them.
 */
#ifndef CT_FILE_COLLECTOR_H
#define CT_FILE_COLLECTOR_H

#include <stdbool.h>
#include <stdint.h>
#include "event_file.h"
#include "file_content.h"
#include "file_paths.h"
#include "file_pending.h"
#include "file_sweep.h"

struct file_out;
struct file_sysctl_values;

struct ct_file_collector {
	struct ct_file_cfg cfg;
	struct ct_file_stats stats;
	struct file_paths paths;
	struct ct_file_map_fds map_fds;  /* what maps calls, unless cfg.maps */
	struct ct_file_kmaps maps;
	struct pending_table table;
	struct file_sweep sweep;
	struct file_out *out;
};

/* One FILE event, by its parts. */
struct file_emit {
	const struct ct_task *task;
	uint64_t ts;                 /* monotonic: when the change began */
	int op;                      /* enum ct_file_op */
	const char *path;
	const char *old;             /* rename source, link source, symlink target */
	const char *ns;              /* the path as the process names it, if not path */
	uint64_t ino;                /* of the file, if the path names none by now */
	uint32_t dev;
	const struct ct_file_state *before, *after;  /* NULL: unknown */
	uint32_t writes;
	const char *xattr;
	bool path_truncated, old_path_truncated;
	enum file_path_source path_source;
	const struct file_sysctl_values *sysctl; /* a sysctl's write: its values */
};

void file_emit(struct ct_file_collector *fc, struct ct_collector *c, const struct file_emit *x);

/* The host path of a record's path0/path1 (see file_host_path); false,
 * counted, when it is not watched after all or cannot be resolved. */
bool file_event_path(struct ct_file_collector *f, const struct ct_file_event *e, int which,
		     char *host, char *ns, struct file_path_note *note);

#endif
