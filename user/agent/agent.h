/* The agent: probes in, events out, control socket for the CLI. */
#ifndef CT_AGENT_H
#define CT_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <getopt.h>
#include <stdio.h>
#include <sys/types.h>
#include "agent/agent_state.h"
#include "changetrace.h"
#include "agent/agent_service.h"
#include "collector/event.h"
#include "lib/sink.h"
#include "event_paths.h"
#include "collector/file_watch.h"
#include "guard/guard.h"

#define CT_MAX_PROBES 128

struct ct_probe {
	const char *name;        /* program name in the skeleton */
	const char *attach_type; /* tp_btf, tracepoint, ... */
	bool attached;
	struct bpf_link *link;
	char error[128];
};

struct ct_agent_opts {
	bool json;
	bool quiet;              /* do not print events */
	const char *socket_path;
	const char *group;       /* may tag/register besides root */
	const char *store_dir;   /* event store and agent state (--store) */
	const char *pin_dir;     /* bpffs dir for pinned maps (--pin-dir) */
	const char *policy_path; /* guardrail policy (--policy), reloaded on SIGHUP */
	char *protect[64];       /* --protect PATH shorthands */
	int n_protect;
	bool no_store;           /* print only (--no-store) */
	int fsync_policy;        /* enum ct_fsync_policy */
	uint64_t retention_ns, retention_bytes;
	uint32_t bulk_rb_bytes;  /* ring sizes (power of 2, >= page size) */
	uint32_t change_rb_bytes;
	int verbose;
	/* config writes */
	char *watch[CT_WATCH_MAX]; /* --watch PATH */
	int n_watch;
	bool watch_only;         /* --watch-only: no default list */
	const char *watch_list;  /* --watch-list FILE */
	uint64_t content_max;    /* keep copies of files up to this size */
	uint64_t hash_max;       /* digest files up to this size */
	const char *feed_socket;  /* live feed (--feed-socket; default next to --socket) */
	bool no_feed;
	unsigned feed_queue;      /* events per subscriber (--feed-queue) */
	const char *otlp_endpoint;/* OTLP/HTTP logs export (--otlp-endpoint) */
	const char *runtime_socket;/* container names from a docker-compatible API */
	const char *feed_file_dir;/* rotating event files (--feed-file) */
	bool feed_file_proto;
	unsigned long feed_file_mb, feed_file_keep;
};

struct ct_agent {
	struct ct_agent_opts opts;
	struct changetrace_bpf *skel;
	struct ring_buffer *rb_change;  /* drained first: change events have priority */
	struct ring_buffer *rb_bulk;    /* drained in budgeted slices */
	int bulk_budget;
	const struct ct_task *catch_up_task; /* bulk records until its image is known */
	uint64_t catch_ups;             /* change records that waited for their exec */
	uint64_t drain_deadline;        /* mono ns; 0 = drain everything */
	uint32_t change_taken;
	struct ct_paths paths;
	struct ct_guard guard;
	struct ct_watches watches;
	struct ct_store *store;   /* NULL with --no-store */
	struct ct_feed *feed;     /* NULL with --no-feed */
	struct ct_feed_file *feed_file; /* NULL without --feed-file */
	struct ct_otlp *otlp;     /* NULL without --otlp-endpoint */
	struct ct_probe probes[CT_MAX_PROBES];
	int n_probes;
	int counters_fd;
	int tasks_fd;
	gid_t group_gid;
	bool has_group;
	struct ct_collector col;
	struct ct_file_collector *files; /* config changes being coalesced */
	struct ct_sink sink;            /* what the agent's parts emit into */
	uint64_t start_mono_ns;
	FILE *out;
	/* user-side counters */
	uint64_t emitted[16];     /* by changetrace.v1.EventKind */
	uint64_t malformed_records;
	uint64_t utf8_repaired;         /* events whose strings needed U+FFFD (raw_strings) */
	uint64_t utf8_repair_failures;  /* ...and could not be repaired (out of memory) */
	uint64_t ctl_requests, ctl_refused, ctl_bad_frames;
	uint64_t ctl_busy_refused;      /* connections refused: the uid holds its share */
	uint64_t ctl_evicted;           /* connections closed to make room for another */
	uint64_t ctl_deadline_dropped;  /* no whole request within the deadline */
	/* deploys (agent_deploys.c) */
	int deploy_ids_fd;        /* ct_deploy_ids: env id -> slot */
	int cgroups_fd;           /* ct_cgroups: cgroup id -> slot */
	char registry_path[4096]; /* STORE/deploys.pb */
	char blob_dir[4096];      /* STORE/blobs: file versions for `diff` */
	uint64_t registry_save_failures, registry_load_failures;
	uint64_t deploy_adopt_failures; /* env ids whose slot could not be named */
	uint64_t deploys_evicted;       /* ended deploys forgotten to free a slot */
	/* ct_tasks entries found stale at start (see ct_agent_tasks_prune) */
	uint64_t tasks_pruned_exited, tasks_pruned_reused;
	uint64_t tasks_unverifiable;    /* pinned by a version without start times */
	uint64_t tasks_upgraded;        /* ...kept: their process predates its stop */
	/* restarts (agent_state.c, agent_restart.c); no state with --no-store */
	struct ct_agent_state state;
	bool has_state;
	uint64_t seq_reserve_failures;  /* the reservation could not be persisted */
	uint64_t deploy_events_recovered; /* lost deploy starts/ends emitted again */
	/* under a service manager; SIGHUP reloads */
	struct ct_service service;
	uint64_t reloads, reload_failures;
	int argc;                 /* the command line as given: a reload */
	char **argv;              /* reads its --config files again */
};

/* agent_opts.c */
extern const struct option ct_agent_lopts[];
int ct_agent_parse_opts(struct ct_agent_opts *o, int argc, char **argv);

/* agent_bpf.c */
int ct_agent_bpf_open(struct ct_agent *a);
void ct_agent_bpf_close(struct ct_agent *a);
/* Sum the per-CPU counter idx across CPUs. */
uint64_t ct_agent_counter(struct ct_agent *a, unsigned idx);
uint64_t ct_agent_probe_misses(struct ct_agent *a);

/* agent_control.c */
int ct_ctl_listen(const char *path, const char *group, char *err, size_t errlen);
/* Accept and serve; called from the agent's epoll loop. */
void ct_ctl_on_listen(struct ct_agent *a, int lfd, int epfd);
/* Returns false when the client is done and was closed. */
bool ct_ctl_on_client(struct ct_agent *a, int cfd, uint32_t events, int epfd);
void ct_ctl_close_all(int epfd);
/* Every loop turn: serve requests left buffered (pipelined), close
 * connections past their request deadline. */
void ct_ctl_tick(struct ct_agent *a, int epfd);
/* Requests are buffered and waiting for ct_ctl_tick (poll soon). */
bool ct_ctl_pending(void);
/* Connections open, by kind of peer. */
void ct_ctl_count(unsigned *privileged, unsigned *public);

/* rings.c */
#define CT_DRAIN_SLICE_NS (50ull * 1000000)	/* then the loop serves its other fds */
int ct_agent_rings_open(struct ct_agent *a);
void ct_agent_rings_close(struct ct_agent *a);
void ct_agent_drain(struct ct_agent *a);
/* Drain for at most max_ns (what is left stays for the next call), so a
 * sustained burst never keeps the loop from the control socket. */
void ct_agent_drain_for(struct ct_agent *a, uint64_t max_ns);

/* outputs.c */
int ct_agent_outputs_open(struct ct_agent *a);
/* Store, feed, feed files, stdout, then the guard. */
void ct_agent_emit(struct ct_agent *a, const PbEvent *ev);
/* The sink handed to the agent's parts: it is ct_agent_emit. */
struct ct_sink ct_agent_sink(struct ct_agent *a);
/* An AGENT event: "started", "stopped". */
void ct_agent_emit_state(struct ct_agent *a, const char *state);
/* Once a second: seal, sync, retention, store losses as a GAP. */
void ct_agent_store_tick(struct ct_agent *a);

/* watches.c */
int ct_agent_build_watches(struct ct_agent *a, struct ct_watches *w, char *err, size_t errlen);
int ct_agent_setup_file_watch(struct ct_agent *a);
/* SIGHUP: policy and watch list again. */
void ct_agent_reload(struct ct_agent *a);

/* status.c: the StatusResponse, built in b (kept until it is sent) */
#define CT_STATUS_COUNTERS_MAX 192
struct ct_status_buf {
	PbProbeStatus probes[CT_MAX_PROBES], *probep[CT_MAX_PROBES];
	PbCounter seen[CT_STATUS_COUNTERS_MAX], *seenp[CT_STATUS_COUNTERS_MAX];
	PbCounter dropped[CT_STATUS_COUNTERS_MAX], *droppedp[CT_STATUS_COUNTERS_MAX];
	PbCounter other[CT_STATUS_COUNTERS_MAX], *otherp[CT_STATUS_COUNTERS_MAX];
	PbPathStatus paths[CT_PATH_MAX], *pathp[CT_PATH_MAX];
};
void ct_agent_status(struct ct_agent *a, struct ct_status_buf *b, PbStatusResponse *s);

/* last_known.c: the start-up comparison, after the store is open */
void ct_agent_open_last_state(struct ct_agent *a);

/* agent.c */
int ct_cmd_agent(int argc, char **argv);

#endif
