/*
 * Kernel record -> changetrace.v1.Event. The Event is built in a per-call
 * scratch area (struct ct_event_buf) without heap allocation, then handed
 * to the sinks (stdout today; store and feed later) which serialize it.
 */
#ifndef CT_EVENT_H
#define CT_EVENT_H

#include <limits.h>
#include <stdint.h>
#include "changetrace.h"
#include "collector/container_ctx.h"
#include "lib/pb.h"
#include "lib/sink.h"

#define CT_ARGV_MAX 128

struct ct_collector {
	char host[256];
	char id_prefix[32];      /* first part of every event id */
	uint64_t seq;            /* last sequence number handed out */
	/* Seqs are handed out up to seq_limit; past it, seq_exhausted (when
	 * set) moves the limit first (the agent persists it: see
	 * agent_state.h). */
	uint64_t seq_limit;
	void (*seq_exhausted)(struct ct_collector *c);
	int64_t wall_offset;     /* wall = mono + offset */
	const char *proc_root;   /* "/proc" (tests may point elsewhere) */
	/* Sink for decoders that emit zero or several events per record
	 * (network policy: one per changed object); set by the agent. */
	struct ct_sink sink;
	/* Called for an exec whose CHANGETRACE_DEPLOY_ID got a slot the
	 * registry does not know yet (the probe assigned it), before the
	 * event is built, so the event names the deploy. */
	void (*env_deploy_seen)(void *owner, const char *id, uint32_t slot);
	/* Called when any record names a slot the registry does not know (a
	 * change-path record can overtake the exec that named the slot). */
	void (*slot_unknown)(void *owner, uint32_t slot);
	void *owner;
	/* An exec rule matched in the kernel: the record goes here (its GUARD
	 * event needs the policy); and the rule's name, for its exec event. */
	void (*exec_verdict)(void *ctx, const struct ct_exec_verdict *r);
	const char *(*exec_rule_name)(void *ctx, uint32_t gen, uint32_t rule);
	void *exec_ctx;          /* the guard (guard/exec_guard.c) */
	/* Times the agent took the change ring to empty (a drain that did not
	 * stop on its deadline): a record known to be in the ring then has
	 * been decoded once this has moved. */
	uint64_t change_ring_emptied;
	/* How change events found the image that made them (event_image) */
	uint64_t image_from_proc;     /* read from /proc: no exec record seen */
	uint64_t image_from_parent;   /* a child that forked without exec */
	uint64_t image_unknown;       /* nothing: no exe nor argv on the event */
	/* Config-change records go here (event_file.h); set by the agent. */
	struct ct_file_collector *files;
};

struct ct_event_buf {
	PbEvent ev;
	PbProcess proc;
	PbAttribution attr;
	PbExecDetail exec;
	PbExitDetail exit;
	PbAncestor anc[CT_LINEAGE_MAX];
	PbAncestor *anc_ptrs[CT_LINEAGE_MAX];
	char *argv[CT_ARGV_MAX];
	char args[CT_ARGS_LEN + 1];
	char comm[CT_COMM_LEN + 1];
	char anc_comm[CT_LINEAGE_MAX][CT_COMM_LEN + 1];
	char event_id[64];
	char filename[CT_FILENAME_LEN + 1];
	char exe[PATH_MAX];
	char cwd[PATH_MAX];
	char deploy_id[CT_DEPLOY_ID_LEN];
	char claimed_id[CT_DEPLOY_ID_LEN]; /* a claim not honoured (env_claims.h) */
	char cgroup[PATH_MAX];
	struct ct_container_buf ctr;       /* the process's container */
	struct ct_container_buf netns_ctr; /* NET: the changed namespace's container */
	struct ct_collector *col; /* set by ct_event_envelope */
};

void ct_collector_init(struct ct_collector *c);
/* Fill the envelope (id, seq, time, host, kind) for an event. */
void ct_event_envelope(struct ct_collector *c, struct ct_event_buf *b,
		       PbEvent *ev, Changetrace__V1__EventKind kind, uint64_t mono_ns);
/* Decode one ring-buffer record. Returns 0 and fills b->ev, or -1 when
 * the record is malformed (short, unknown kind): counted by the caller. */
int ct_event_from_record(struct ct_collector *c, const void *data, size_t len,
			 struct ct_event_buf *b);
/* The process records (records.c dispatches by kind): 0, event in b->ev. */
int ct_event_from_exec(struct ct_collector *c, const struct ct_exec_event *e,
		       struct ct_event_buf *b);
int ct_event_from_exit(struct ct_collector *c, const struct ct_exit_event *e,
		       struct ct_event_buf *b);
/* Process, attribution and (from the process cache) exe, argv, cwd and
 * lineage of the acting task, for change events that carry no lineage. */
void ct_event_fill_task(struct ct_collector *c, struct ct_event_buf *b,
			const struct ct_task *t);
/* The cached image that made a change (exe, argv, exec id), or NULL. */
struct ct_proc *ct_event_image(struct ct_collector *c, const struct ct_task *t);
/* Split NUL-separated args into argv pointers (into b->args). */
size_t ct_split_args(const char *args, size_t len, char *buf, size_t buf_len,
		     char **argv, size_t argv_max);

#endif
