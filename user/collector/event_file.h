/*
 * Config-change records -> FILE events. Writes to one file in a burst
 * (open, many writes, close; or many open/write/close cycles by one
 * deploy) coalesce into one event, emitted once the file is closed and
 * quiet for a moment; a temp file renamed over its target (editors,
 * sed -i, Ansible, Kubernetes) is one RENAME event on the target. Each
 * event carries the digests before and after (the "before" is the
 * collector's last known state of the path, see file_content.h).
 *
 * The parts: file_paths.c names a record's paths on the host,
 * file_pending.c keeps the changes being coalesced, file_kmaps.c reads
 * and writes the kernel's maps of open files and bursts, file_sweep.c
 * clears what exited processes left there, file_sysctl.c makes each
 * sysctl write an event with its value before and after.
 */
#ifndef CT_EVENT_FILE_H
#define CT_EVENT_FILE_H

#include <stddef.h>
#include <stdint.h>
#include "event.h"
#include "file_kmaps.h"
#include "file_watch.h"
#include "lib/counters.h"

struct ct_file_cfg {
	const struct ct_watches *watches;
	int wfiles_fd;             /* ct_wfiles: write counts of open files */
	int wfds_fd;               /* ct_wfds: the file each tracked fd holds; <= 0: none */
	int wbursts_fd;            /* ct_wbursts: opens folded in the kernel; <= 0: none */
	const struct ct_file_kmaps *maps; /* instead of the fds: maps of a unit test */
	uint64_t settle_ns;        /* quiet time after the last close */
	uint64_t max_quiet_ns;     /* an open file with no activity this long is reported */
	uint64_t max_age_ns;       /* a file written without pause is reported this often */
	uint32_t host_mnt_ns, host_net_ns;
	const char *proc_root;
	/* every watched path a record names (its host path); may be NULL */
	void (*path_seen)(const char *host_path);
};

struct ct_file_stats {
	uint64_t records, changes, coalesced, pending, pending_evicted;
	uint64_t pending_peak;     /* most changes followed at once */
	uint64_t writes_unreported;/* writes to a file after its change was
				    * reported and forgotten (closed later) */
	uint64_t not_watched, unresolved, malformed;
	uint64_t raced;            /* the file was replaced before it was read */
	uint64_t swept;            /* ct_wfiles entries of exited processes removed */
	uint64_t fds_swept;        /* ct_wfds entries of exited processes removed */
	uint64_t closed_unseen;    /* open files found closed in /proc, not by a
				    * close(2) record (exit, dup2 over the fd,
				    * an fd held by a forked child) */
	uint64_t paths_truncated;  /* events naming a file by part of its name
				    * (longer or deeper than PATH_MAX) */
	uint64_t paths_completed;  /* cut by the kernel, completed from /proc */
	uint64_t sysctl_unread;    /* a sysctl's value could not be read in
				    * its namespace (gone, timeout) */
	uint64_t sysctl_written;   /* sysctl writes reported with their bytes */
	uint64_t sysctl_read_back; /* ...with the value read back instead (see
				    * changetrace.v1.SysctlValueSource) */
	uint64_t sysctl_refused;   /* sysctl writes the kernel refused or took
				    * nothing of: no event */
};

/* The file collector's state, owned by the agent (or a test). */
struct ct_file_collector;

/* A collector with nothing pending; aborts when out of memory (the agent
 * cannot run without one). */
struct ct_file_collector *ct_file_new(const struct ct_file_cfg *cfg);
void ct_file_free(struct ct_file_collector *f);
/* One ring record of kind CT_KIND_FILE. Returns 1 (events, if any, went
 * through c->sink) or -1 when malformed. */
int ct_file_from_record(struct ct_file_collector *f, struct ct_collector *c, const void *data,
			size_t len);
/* Emit what has settled; all = everything (agent stopping). Returns how
 * many changes are still pending. */
size_t ct_file_tick(struct ct_file_collector *f, struct ct_collector *c, uint64_t now_mono_ns,
		    int all);
void ct_file_get_stats(const struct ct_file_collector *f, struct ct_file_stats *st);

/* Its status counters, read from a struct ct_file_stats. */
extern const struct ct_counter_table ct_file_counters;

#endif
