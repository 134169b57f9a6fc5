/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Records shared by the kernel probes (bpf/) and the collector (user/).
 * Every record starts with struct ct_hdr so the collector can dispatch on
 * kind before it looks at the rest. Sizes are fixed so the ring-buffer
 * reservation is one call per event.
 */
#ifndef CHANGETRACE_H
#define CHANGETRACE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define CT_COMM_LEN        16
#define CT_FILENAME_LEN    256   /* exec filename as passed to execve */
#define CT_ARGS_LEN        1024  /* NUL-separated argv, truncated */
#define CT_LINEAGE_MAX     8     /* ancestors walked in the kernel at exec */
#define CT_DEPLOY_ID_LEN   64    /* longest deploy id accepted anywhere */

#define CT_TASK_MAP_MAX    131072 /* live attributed processes */
#define CT_DEPLOY_SLOTS    1024   /* deploys the kernel can name at once */
/* Slots below CT_KSLOT_FIRST are handed out by the agent (registered
 * deploys); slots from CT_KSLOT_FIRST up are taken by the exec probe for a
 * CHANGETRACE_DEPLOY_ID nobody registered, so its descendants inherit a
 * slot at once, before the collector has even seen the exec. */
#define CT_KSLOT_FIRST     512
#define CT_ENV_SCAN_BYTES  4096   /* environment bytes searched at exec */
#define CT_ENV_VAR         "CHANGETRACE_DEPLOY_ID="
#define CT_ENV_VAR_LEN     22
#define CT_CGROUP_DEPTH    32     /* cgroup ancestors checked for a claim */
#define CT_CGROUP_CLAIMS   4096   /* cgroups claimed by deploys */

/* Ring buffer sizes: bulk carries exec/exit, change carries config and
 * network-policy changes. They are separate so an exec storm cannot push
 * out the one firewall change that matters (see docs/design/probes.md). */
#define CT_BULK_RB_BYTES   (4u << 20)
#define CT_CHANGE_RB_BYTES (1u << 20)
#define CT_BULK_WAKEUP_BYTES (64u << 10) /* wake the collector per 64 KiB of bulk records */
#define CT_DRAIN_INTERVAL_MS 100         /* ...and drain at least this often */
#define CT_POLL_INTERVAL_MS 20           /* while a file change settles */

enum ct_kind {
	CT_KIND_NONE = 0,
	CT_KIND_EXEC = 1,
	CT_KIND_EXIT = 2,
	CT_KIND_FILE = 3,
	CT_KIND_NET = 4,
	CT_KIND_EXEC_VERDICT = 5, /* an exec rule matched (bpf/exec_guard.bpf.h) */
	CT_KIND_MAX
};

/* Mirrors changetrace.v1.AttributionMethod. */
enum ct_attr_method {
	CT_ATTR_NONE = 0,
	CT_ATTR_WRAPPER = 1,
	CT_ATTR_ENVIRONMENT = 2,
	CT_ATTR_CGROUP = 3,
	CT_ATTR_INHERITED = 4,
};

/* Which ring buffer ("path") a record travels on. */
enum ct_path {
	CT_PATH_BULK = 0,
	CT_PATH_CHANGE = 1,
	CT_PATH_MAX
};

/* Indexes into the per-CPU counter array `ct_counters`. */
enum ct_counter {
	CT_CNT_SEEN_EXEC = 0,
	CT_CNT_SEEN_EXIT,
	CT_CNT_SEEN_FILE,
	CT_CNT_SEEN_NET,
	CT_CNT_DROP_EXEC,        /* ring buffer full */
	CT_CNT_DROP_EXIT,
	CT_CNT_DROP_FILE,
	CT_CNT_DROP_NET,
	CT_CNT_TASK_MAP_FULL,    /* an attributed child could not be tracked */
	CT_CNT_ARGV_FAULT,       /* argv could not be read from user memory */
	CT_CNT_ENV_FAULT,        /* environment could not be read at exec */
	CT_CNT_ENV_SLOTS_FULL,   /* unregistered env id: no kernel slot left */
	CT_CNT_ATTR_ENV,         /* processes attributed from the environment */
	CT_CNT_ATTR_CGROUP,      /* processes attributed from a cgroup claim */
	CT_CNT_ENV_UNTRUSTED,    /* env id ignored: caller not root nor --group */
	CT_CNT_FILE_FAILED,      /* a change to a watched path the kernel refused */
	CT_CNT_FILE_PATH_TRUNC,  /* a path longer/deeper than a record holds, or too
				  * deep to find its watch */
	CT_CNT_FILE_BURST_OPENS, /* opens folded into a burst (no records; see ct_wburst) */
	CT_CNT_FILE_BURST_LATE,  /* a burst open closed after its change was reported */
	CT_CNT_FILE_TRACK_FULL,  /* ct_wfiles full: an open file's writes go uncounted */
	CT_CNT_FILE_CLOSE_SHARED,/* close(2) of a file with another reference: no record */
	CT_CNT_TASK_STALE,       /* a ct_tasks entry named another process (pid reused): dropped */
	CT_CNT_ENV_CLAIM_MARKED, /* env id that got no slot: process marked, events flagged */
	CT_CNT_EXEC_VERDICT,     /* execs an exec rule matched (the action was taken) */
	CT_CNT_EXEC_VERDICT_DROP,/* ...whose verdict record found the change ring full */
	CT_CNT_EXEC_SIGNAL_FAIL, /* ...whose signal the kernel refused */
	CT_CNT_MAX
};

/* Per-deploy-slot flags (ct_deploy_flags), set by the guardrails. A
 * process of a halted deploy that forks or execs is stopped on the spot,
 * one of an aborted deploy is killed: nothing escapes a halt by spawning. */
#define CT_DEPLOY_HALTED  (1u << 0)
#define CT_DEPLOY_ABORTED (1u << 1)

/*
 * deploy_slot of a process that claimed a deploy through its environment
 * when the kernel had no slot left for the id: it is drift, but every
 * event of it and its descendants says a deploy was claimed (the collector
 * names the id from the exec that claimed it, origin_pid).
 */
#define CT_SLOT_CLAIM_UNNAMED 0xffffffffu

/* Why an exec's CHANGETRACE_DEPLOY_ID did not attribute it (ct_exec_event). */
enum ct_env_claim {
	CT_ENV_CLAIM_NONE = 0,       /* none, or attributed by it */
	CT_ENV_CLAIM_SLOTS_FULL = 1, /* no kernel slot left for an unregistered id */
	CT_ENV_CLAIM_UNTRUSTED = 2,  /* caller is neither root nor in --group: ignored */
};

/*
 * Attribution carried by every live attributed process (task map value).
 * The map is keyed by tgid and outlives agent restarts, and a tgid is
 * reused once its process is gone: start_ticks says which process the
 * entry is about. It is the leader's start time as /proc/PID/stat shows
 * it (boot time in clock ticks), so the probes and the agent compute the
 * same value; two processes share a (tgid, tick) only if the pid was
 * reused within the tick in which the first one started, which takes a
 * privileged pid choice (ns_last_pid, clone3 set_tid in the host pid
 * namespace). Every lookup checks it (ct_task_attr_of).
 */
struct ct_task_attr {
	__u32 deploy_slot;       /* 0 = none; index into the user-side deploy table */
	__u8  method;            /* enum ct_attr_method of the origin */
	__u8  inherited;         /* 1 if this process got it from an ancestor */
	__u16 depth;             /* generations below the origin process */
	__u32 origin_pid;        /* the process that was tagged */
	__u32 _pad;
	__u64 exec_id;           /* exec id of the current image */
	__u64 start_ticks;       /* the process's start (see above) */
};

struct ct_hdr {
	__u16 kind;              /* enum ct_kind */
	__u16 size;              /* bytes of the whole record */
	__u32 cpu;
	__u64 ts_ns;             /* bpf_ktime_get_ns() */
};

/* The acting task, common to all kinds. */
struct ct_task {
	__u32 pid;               /* tgid */
	__u32 tid;
	__u32 ppid;              /* real_parent tgid */
	__u32 uid, gid, euid, auid;
	__u32 pid_ns, mnt_ns, net_ns;
	__u64 cgroup_id;
	__u64 start_ns;          /* group leader start_time (boot-relative) */
	/* The image the task runs: task->self_exec_id, which every exec
	 * raises by one and fork and clone copy. (pid, start_ns, image_seq)
	 * names one process image, so the collector finds the exe and argv
	 * an exec record gave it, whatever ran in that pid since. */
	__u64 image_seq;
	char  comm[CT_COMM_LEN];
	struct ct_task_attr attr;
};

struct ct_ancestor {
	__u32 pid;
	__u32 _pad;
	__u64 start_ns;
	char  comm[CT_COMM_LEN];
};

struct ct_exec_event {
	struct ct_hdr hdr;
	struct ct_task task;
	__u32 old_pid;
	__u16 args_len;          /* bytes valid in args[] */
	__u8  args_truncated;
	__u8  lineage_len;
	/* An exec rule matched this exec (see struct ct_exec_verdict): */
	__u32 guard_gen;         /* the policy generation it belongs to */
	__u8  guard_rule;        /* its index + 1; 0: no rule matched */
	__u8  guard_action;      /* enum ct_xaction */
	__u16 _pad;
	struct ct_ancestor lineage[CT_LINEAGE_MAX];
	char  filename[CT_FILENAME_LEN];
	char  args[CT_ARGS_LEN];
	/* CHANGETRACE_DEPLOY_ID found in the new environment ("" if none), so
	 * the collector can name a slot the probe assigned itself, or say which
	 * claim was not honoured (env_claim). */
	char  env_deploy_id[CT_DEPLOY_ID_LEN];
	__u8  env_claim;         /* enum ct_env_claim */
	__u8  _pad2[7];
};

struct ct_exit_event {
	struct ct_hdr hdr;
	struct ct_task task;
	__s32 exit_code;         /* WEXITSTATUS-style code */
	__s32 signal;            /* terminating signal, 0 if none */
};

/* ---- network-policy changes (bpf/net.bpf.c, user/collector/event_net.c) ---- */

#define CT_NET_DATA_MAX    8192  /* request bytes copied per event (power of 2) */
#define CT_NET_ACKS_MAX    16    /* kernel answers read from the socket queue */
#define CT_NET_IOV_MAX     8     /* iovecs of one sendmsg copied */

/* Where a network-policy record came from. */
enum ct_net_source {
	CT_NET_SRC_NETLINK = 1,     /* sendmsg/sendto on a netlink socket */
	CT_NET_SRC_SETSOCKOPT = 2,  /* iptables/ip6tables/arptables/ebtables-legacy replace */
	CT_NET_SRC_BPF = 3,         /* bpf(BPF_PROG_ATTACH / BPF_LINK_CREATE) */
};

/* One NLMSG_ERROR the kernel queued on the sender's socket while it
 * handled the request (netlink input runs in the sender's context, so
 * the answer is there before sendmsg returns). */
struct ct_net_ack {
	__u32 seq;
	__s32 error;             /* 0 = ack, negative errno = rejected */
};

struct ct_net_event {
	struct ct_hdr hdr;
	struct ct_task task;
	__u64 sk;                /* socket identity (kernel address, only compared) */
	__s64 ret;               /* syscall return value */
	__u16 source;            /* enum ct_net_source */
	__u16 proto;             /* netlink protocol / setsockopt level / bpf cmd */
	__u32 optname;           /* setsockopt optname */
	__u32 req_len;           /* bytes the caller passed (may exceed data_len) */
	__u16 data_len;          /* bytes valid in data[] */
	__u8  truncated;         /* data[] holds only the first data_len bytes */
	__u8  n_acks;            /* valid entries in acks[] */
	__u8  acks_truncated;    /* more queued answers than acks[] holds */
	__u8  _pad[7];
	struct ct_net_ack acks[CT_NET_ACKS_MAX];
	__u8  data[CT_NET_DATA_MAX]; /* the record ends after data_len bytes */
};

/* ---- config writes (bpf/file.bpf.c, user/collector/event_file.c) ---- */

#define CT_FILE_PATH_MAX    4096  /* bytes of one path in a record: PATH_MAX (power of 2) */
#define CT_FILE_DEPTH       1024  /* names a walked path is built from (power of 2); a
				   * deeper one keeps its lowest names, flagged */
#define CT_WATCH_MAX        256   /* watched inodes (directories or files) */
#define CT_WATCH_PREFIX_MAX 32    /* watched path prefixes, for path-string syscalls */
#define CT_WATCH_PREFIX_LEN 128

/* Mirrors changetrace.v1.FileOp, plus record-only operations. */
enum ct_file_op {
	CT_FOP_WRITE = 1,        /* opened for write (record: the open) */
	CT_FOP_CREATE = 2,
	CT_FOP_TRUNCATE = 3,
	CT_FOP_RENAME = 4,
	CT_FOP_UNLINK = 5,
	CT_FOP_RMDIR = 6,
	CT_FOP_LINK = 7,
	CT_FOP_SYMLINK = 8,
	CT_FOP_CHMOD = 9,
	CT_FOP_CHOWN = 10,
	CT_FOP_SETXATTR = 11,
	CT_FOP_MKDIR = 12,
	CT_FOP_SYSCTL = 13,      /* record: one write(2) to a /proc/sys file, with
				  * the bytes the kernel accepted */
	CT_FOP_CLOSE = 100,      /* a file opened for write on a watched path was closed */
};

/* ct_file_event.flags */
#define CT_FF_CREAT      (1u << 0)  /* open with O_CREAT */
#define CT_FF_TRUNC      (1u << 1)  /* open with O_TRUNC */
#define CT_FF_APPEND     (1u << 2)
#define CT_FF_FD         (1u << 3)  /* path[0] resolved from a struct file (exact) */
#define CT_FF_TRUNCATED  (1u << 4)  /* path0 holds only its lower part: the name
				     * was longer or deeper than a record holds */
#define CT_FF_EXCHANGE   (1u << 5)  /* renameat2 RENAME_EXCHANGE */
#define CT_FF_REMOVEXATTR (1u << 6)
#define CT_FF_TRUNCATED1 (1u << 7)  /* the same for path1 */
/* A sysctl write whose bytes are not the whole value written (the
 * collector reads the value back instead): */
#define CT_FF_VALUE_CUT    (1u << 8)  /* longer than CT_SYSCTL_WRITE_MAX */
#define CT_FF_VALUE_UNREAD (1u << 9)  /* not copied: a fault, or spread over iovecs */
#define CT_FF_VALUE_OFFSET (1u << 10) /* written at an offset: continues an earlier write */

/* Bytes of one sysctl write a record carries: values are small (a few
 * numbers, a path); a longer write is read back. */
#define CT_SYSCTL_WRITE_MAX 256

/* suffix_off of a cut path whose watched directory is above the part the
 * record holds: the watch is known, what lies between is not */
#define CT_SUFFIX_UNKNOWN 0xffff

/* A watched inode: the key the kernel matches each dentry walked against. */
struct ct_watch_key {
	__u64 ino;
	__u32 dev;               /* kernel encoding: major << 20 | minor */
	__u32 _pad;
};

struct ct_watch_prefix {
	__u32 len;               /* 0 = unused slot */
	char  path[CT_WATCH_PREFIX_LEN];
};

/*
 * Files open for write on a watched path that the kernel follows at once
 * (ct_wfiles; ct_wfds holds one entry per such open). The collector keeps
 * as many changes pending rather than report one whose close record, with
 * its writes, is still in the ring.
 */
#define CT_WFILES_MAX      16384

/* A file opened for write on a watched path, keyed by struct file address. */
struct ct_wfile {
	__u64 first_write_ns;
	__u64 last_write_ns;
	__u32 writes;
	__u32 tgid;
	__u32 deploy_slot;       /* at open: names its burst (below) at close */
	__u8  in_burst;          /* opened without a record, folded into a burst */
	__u8  sysctl;            /* a /proc/sys file: each write is its own record
				  * (CT_FOP_SYSCTL), and `writes` counts only
				  * those whose record was lost */
	__u16 _pad;
	__u64 open_ns;           /* its open record's time (0 if folded): with the
				  * address, names one open; addresses are reused */
};

/*
 * Which file a process's fd names, for the files in ct_wfiles. Probes run
 * at syscall exit only, and after close(2) the fd table no longer has the
 * file: the open probe puts it here, the close probe takes it. An entry
 * left by a file closed another way (dup2 over it, exit, exec) is replaced
 * by the fd's next watched open, or swept by the collector once its
 * process is gone.
 */
struct ct_wfd_key {
	__u32 tgid;
	__s32 fd;
};

struct ct_wfd {
	__u64 file;              /* struct file address: the ct_wfiles key */
	__u64 open_ns;           /* ct_wfile.open_ns at open: names that open */
	__u64 ino;               /* the file's inode, for its burst (the struct */
	__u32 dev;               /*   file may be freed when the close is seen) */
	__u32 _pad;
};

/*
 * Burst coalescing. A tool that rewrites one file in a loop (open, write,
 * close, again within milliseconds) made two ring records per round, most
 * of a watched write's cost, and the collector folded them into one
 * change anyway. Once the collector follows such a change (it has seen
 * the first open and close), it creates this entry; while it exists, an
 * open of the same file by the same process and deploy that comes within
 * CT_BURST_NS of the last close, with no other open of it, is counted here
 * instead of recorded, and so is its close. The collector adds these
 * counts to the change and deletes the entry when the change settles
 * (quiet for far longer than CT_BURST_NS), so every open and write is
 * counted once. Only the collector creates entries: a burst open always
 * belongs to a change being followed.
 */
#define CT_BURST_NS       (5ull * 1000000)
#define CT_WBURST_MAX     4096

struct ct_wburst_key {
	__u64 ino;
	__u32 dev;
	__u32 tgid;
	__u32 deploy_slot;
	__u32 _pad;
};

struct ct_wburst {
	__u64 last_close_ns;     /* kernel clock (CLOCK_MONOTONIC) */
	__u64 last_ns;           /* last open, write or close */
	__u32 opens;             /* burst opens so far */
	__u32 writes;            /* their writes, added at close */
	__u32 open_now;          /* burst opens not closed yet */
	__u32 _pad;
};

/*
 * One config-change record. Paths are as the acting process sees them
 * (its mount namespace); watch_id/suffix_off let the collector rebuild
 * the host path: watch path + path0[suffix_off..]. Two paths for
 * rename/link/symlink: path0 is the target (new name), path1 the source.
 * A path is given whole up to PATH_MAX; a longer or deeper one keeps the
 * part below its watch, or else its lowest names, and is flagged.
 * The record ends after path0_len + path1_len + value_len bytes of paths[]
 * (value_len: a SYSCTL record's bytes written, else 0).
 */
struct ct_file_event {
	struct ct_hdr hdr;
	struct ct_task task;
	__u64 file_id;           /* struct file address (only compared), 0 if none */
	__u64 file_open_ns;      /* WRITE, CLOSE: ct_wfile.open_ns of that open */
	__u64 ino;               /* of the file, when resolved from a struct file */
	__u32 dev;
	__u16 op;                /* enum ct_file_op */
	__u16 flags;             /* CT_FF_* */
	__s32 ret;
	__u32 mode;              /* chmod mode / open mode */
	__u32 uid, gid;          /* chown arguments (-1 = unchanged) */
	__u32 writes;            /* CLOSE: writes counted while it was open */
	__u32 watch_id;          /* matched watch + 1; 0 = matched by prefix string */
	__u32 watch_id1;         /* same, for path1 */
	__u16 suffix_off;        /* path0 bytes before the part below the watch */
	__u16 suffix_off1;
	__u16 path0_len;         /* bytes of path0 in paths[] (no NUL) */
	__u16 path1_len;         /* bytes of path1, right after path0 */
	__s32 fd;                /* CT_FF_FD: the fd the change went through; else the
				  * dir fd path0 is relative to (-100: the cwd) */
	__s32 fd1;               /* the dir fd of path1 */
	__u32 value_netns;       /* a sysctl's open or write: the network namespace
				  * whose table the file is in (0: none's) */
	__u16 value_len;         /* SYSCTL: bytes written, right after path0 */
	__u16 _pad;
	__u64 value_netns_cookie;/* that namespace's net_cookie (its inode is
				  * reused once it is gone; this is not) */
	char  xattr[64];         /* setxattr/removexattr name */
	char  paths[2 * CT_FILE_PATH_MAX];
};

/* ---- exec rules (bpf/exec_guard.bpf.h, user/guard/exec_rules.c, exec_guard.c) ---- */

/*
 * An exec rule names a command: the executable (a name, or an absolute
 * path whose last component is its name) and glob patterns for its first
 * arguments. The policy's exec rules are compiled into two sets of maps;
 * the agent fills the set no probe uses, then flips ct_xr_state in one
 * store, so every exec sees one whole policy.
 */
#define CT_XRULES_MAX      64    /* exec rules per policy: bits of a __u64 */
#define CT_XNAME_LEN       32    /* a command name (hash key), NUL included */
#define CT_XPATH_LEN       256   /* an executable path pattern, NUL included */
#define CT_XARGS_MAX       8     /* argument patterns per rule */
#define CT_XTOKEN_LEN      64    /* one argument pattern, NUL included */
#define CT_XSCOPE_MAX      8     /* `exec:` scope entries per deploy */

/* ct_xr_state: which set the probe uses, whether any rule can apply to an
 * unattributed (drift) or an attributed process, and the generation. */
#define CT_XR_SET          (1u << 0)
#define CT_XR_DRIFT        (1u << 1)
#define CT_XR_ATTRIBUTED   (1u << 2)
#define CT_XR_GEN_SHIFT    8

/* Facts about the exec'ing process a rule's conditions test. */
#define CT_XF_DRIFT        (1u << 0)  /* no deploy claims it */
#define CT_XF_AI           (1u << 1)  /* its deploy is AI-assisted */
#define CT_XF_UNAPPROVED   (1u << 2)  /* no approver (always, for drift) */
#define CT_XF_HIGH_RISK    (1u << 3)
#define CT_XF_OUT_OF_SCOPE (1u << 4)  /* its deploy declared a scope that does not name the command */

enum ct_xaction {
	CT_XACT_ALERT = 1,
	CT_XACT_HALT = 2,        /* SIGSTOP in the probe */
	CT_XACT_KILL = 3,        /* SIGKILL in the probe */
};

/* The command part of a rule, or of a deploy's `exec:` scope entry. */
struct ct_xmatch {
	char  name[CT_XNAME_LEN];/* the executable's name (NUL-padded) */
	__u8  n_args;            /* argument patterns that must match */
	__u8  has_path;          /* path[] must match the executable's path */
	__u8  _pad[6];
	char  path[CT_XPATH_LEN];
	char  args[CT_XARGS_MAX][CT_XTOKEN_LEN];
};

struct ct_xrule {
	__u32 must_set;          /* CT_XF_* that must hold */
	__u32 must_clear;        /* CT_XF_* that must not */
	__u8  action;            /* enum ct_xaction */
	__u8  _pad[7];
	struct ct_xmatch m;
};

/* ct_xnames key: a command name in one set -> bitmask of its rules. */
struct ct_xname_key {
	__u32 set;
	__u32 _pad;
	char  name[CT_XNAME_LEN];
};

/* Per deploy slot (ct_deploy_prov): what the exec rules test. */
#define CT_PROV_AI         (1u << 0)
#define CT_PROV_APPROVED   (1u << 1)
#define CT_PROV_HIGH_RISK  (1u << 2)
#define CT_PROV_SCOPED     (1u << 3)  /* declared a scope */

struct ct_deploy_prov {
	__u32 flags;             /* CT_PROV_* */
	__u32 n_xscope;          /* its `exec:` scope entries in ct_deploy_xscope */
};

/* ct_deploy_xscope key: (slot, entry) */
struct ct_xscope_key {
	__u32 slot;
	__u32 idx;
};

/* How the command was recognised (ct_exec_verdict.via). */
#define CT_XVIA_NAME       1     /* the name it was invoked by (symlink, script) */
#define CT_XVIA_FILE       2     /* the name of the file the kernel loaded */

/*
 * An exec rule matched: sent on the change path (reserved capacity) after
 * the probe signalled the process, so the verdict is not lost to an exec
 * storm. The exec record that follows carries the rule too.
 */
struct ct_exec_verdict {
	struct ct_hdr hdr;
	struct ct_task task;
	__u32 gen;               /* policy generation (ct_xr_state >> CT_XR_GEN_SHIFT) */
	__u8  rule;              /* index among the policy's exec rules */
	__u8  action;            /* enum ct_xaction */
	__u8  signalled;         /* bpf_send_signal succeeded (halt, kill) */
	__u8  via;               /* CT_XVIA_* */
	__u16 args_len;
	__u8  args_truncated;
	__u8  _pad[5];
	char  filename[CT_FILENAME_LEN];
	char  args[CT_ARGS_LEN];
};

#endif /* CHANGETRACE_H */
