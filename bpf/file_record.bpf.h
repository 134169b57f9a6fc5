/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Building and submitting a config-change record (struct ct_file_event),
 * and the two shapes of change: one made through an fd, one made on a
 * path string.
 */
#ifndef CT_FILE_RECORD_BPF_H
#define CT_FILE_RECORD_BPF_H

#include "maps.bpf.h"
#include "task.bpf.h"
#include "agent.bpf.h"
#include "path_walk.bpf.h"


/* Header and every field but the task and the paths. */
static __always_inline void reset_record(struct ct_file_scratch *s, __u16 op, long ret)
{
	s->ev.hdr.kind = CT_KIND_FILE;
	s->ev.hdr.cpu = bpf_get_smp_processor_id();
	s->ev.hdr.ts_ns = bpf_ktime_get_ns();
	s->ev.op = op;
	s->ev.flags = 0;
	s->ev.ret = ret;
	s->ev.file_id = 0;
	s->ev.file_open_ns = 0;
	s->ev.ino = 0;
	s->ev.dev = 0;
	s->ev.mode = 0;
	s->ev.uid = (__u32)-1;
	s->ev.gid = (__u32)-1;
	s->ev.writes = 0;
	s->ev.watch_id = 0;
	s->ev.watch_id1 = 0;
	s->ev.suffix_off = 0;
	s->ev.suffix_off1 = 0;
	s->ev.path0_len = 0;
	s->ev.path1_len = 0;
	s->ev.fd = -1;
	s->ev.fd1 = -1;
	s->ev.value_netns = 0;
	s->ev.value_len = 0;
	s->ev.value_netns_cookie = 0;
	s->ev.xattr[0] = '\0';
}

/*
 * Fill the record's header and task. Called only once the path is known to
 * be watched (resolution writes paths[] and scratch fields begin_in() does not
 * touch), so the ~20 kernel reads of ct_fill_task are never paid for
 * unwatched I/O, by far the common case.
 */
static __always_inline struct ct_file_scratch *begin_in_attr(struct ct_file_scratch *s, __u16 op,
							     long ret,
							     const struct ct_task_attr *attr)
{
	if (!s)
		return NULL;
	ct_fill_task(&s->ev.task, bpf_get_current_task_btf(), attr);
	reset_record(s, op, ret);
	return s;
}

static __always_inline struct ct_file_scratch *begin_in(struct ct_file_scratch *s, __u16 op,
							long ret)
{
	return begin_in_attr(s, op, ret, ct_current_attr());
}

/*
 * A close record only tells the collector which open file is done and how
 * many writes it took (the open before it carried the process), so it
 * skips ct_fill_task: the close was a third of a watched write's cost.
 * The deploy attributes stay, for the halted-deploy check in submit.
 */
static __always_inline struct ct_file_scratch *begin_close(__u64 file_id,
							   const struct ct_wfile *wf)
{
	struct ct_file_scratch *s = scratch();
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct ct_task_attr *attr;

	if (!s)
		return NULL;
	__builtin_memset(&s->ev.task, 0, sizeof(s->ev.task));
	s->ev.task.pid = tgid;
	s->ev.task.tid = (__u32)id;
	attr = ct_current_attr();
	if (attr)
		s->ev.task.attr = *attr;
	reset_record(s, CT_FOP_CLOSE, 0);
	s->ev.file_id = file_id;
	s->ev.file_open_ns = wf->open_ns;
	s->ev.writes = wf->writes;
	return s;
}

/* wakeup: the ring's flag when the backlog crosses no threshold (see
 * ct_change_submit_flags). False when the ring was full (counted). */
static __always_inline bool submit_flags(struct ct_file_scratch *s, __u64 wakeup)
{
	__u64 size = offsetof(struct ct_file_event, paths) + s->ev.path0_len + s->ev.path1_len +
		     s->ev.value_len;
	struct ct_task_attr *attr;
	bool sent = true;

	asm volatile("" : "+r"(size));
	if (size > sizeof(struct ct_file_event))
		size = sizeof(struct ct_file_event);
	s->ev.hdr.size = size;
	ct_count(CT_CNT_SEEN_FILE);
	if (s->ev.flags & (CT_FF_TRUNCATED | CT_FF_TRUNCATED1))
		ct_count(CT_CNT_FILE_PATH_TRUNC);
	if (bpf_ringbuf_output(&ct_change_rb, &s->ev, size, ct_change_submit_flags(size, wakeup))) {
		ct_count(CT_CNT_DROP_FILE);
		sent = false;
	}
	/* a halted deploy's task is stopped at its next change */
	attr = &s->ev.task.attr;
	if (attr->deploy_slot)
		ct_enforce_deploy_flags(attr);
	return sent;
}

/* Default wakeup (when the collector has consumed everything), forced
 * when the backlog crosses a quarter of the ring: a close record leaves
 * the collector behind without waking it (see ct_exit_close). */
static __always_inline bool submit(struct ct_file_scratch *s)
{
	return submit_flags(s, 0);
}

static __always_inline void set_path0(struct ct_file_scratch *s, struct resolved *r)
{
	s->ev.path0_len = r->len > PATH_ROOM ? PATH_ROOM : r->len;
	s->ev.watch_id = r->watch_id;
	s->ev.suffix_off = r->suffix_off;
	if (r->truncated)
		s->ev.flags |= CT_FF_TRUNCATED;
}

/*
 * One change, as a probe describes it from its syscall's arguments. What
 * an operation does not have stays zero; uid and gid are read for chown
 * only (every other record says -1, unchanged).
 */
struct ct_change {
	__u16 op;                /* enum ct_file_op */
	__u16 flags;             /* CT_FF_* from the syscall's arguments */
	long ret;                /* the syscall's return value */
	int fd;                  /* fd-based: the file changed */
	int dfd;                 /* path-based: path is relative to this (AT_FDCWD) */
	const char *path;        /* path-based: the name changed (rename, link: the new one) */
	int dfd1;
	const char *path1;       /* rename, link: the source; symlink: the target; or NULL */
	bool path1_as_given;     /* a symlink's target: stored as given, never resolved */
	__u32 mode;              /* chmod, mkdir */
	__u32 uid, gid;          /* chown */
	const char *xattr;       /* setxattr, removexattr: the attribute's name */
};

static __always_inline void set_args(struct ct_file_scratch *s, const struct ct_change *c)
{
	s->ev.flags |= c->flags;
	s->ev.mode = c->mode;
	if (c->op == CT_FOP_CHOWN) {
		s->ev.uid = c->uid;
		s->ev.gid = c->gid;
	}
	if (c->xattr)
		bpf_probe_read_user_str(s->ev.xattr, sizeof(s->ev.xattr), c->xattr);
}

/* A change made through an fd: the struct file names the file exactly. */
static __always_inline int fd_change(const struct ct_change *c)
{
	struct ct_file_scratch *s;
	struct resolved r;
	struct file *f;

	if (is_agent())
		return 0;
	f = file_of_fd(c->fd);
	if (!f)
		return 0;
	s = scratch();
	if (!s)
		return 0;
	resolve_path(s, BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(f, f_path.mnt), 0, PATH_ROOM,
		     &r);
	if (!r.watched)
		return 0;
	if (c->ret) {
		ct_count(CT_CNT_FILE_FAILED);
		return 0;
	}
	begin_in(s, c->op, c->ret);
	set_path0(s, &r);
	s->ev.flags |= CT_FF_FD;
	s->ev.fd = c->fd;
	s->ev.file_id = (__u64)f;
	s->ev.ino = BPF_CORE_READ(f, f_inode, i_ino);
	s->ev.dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	set_args(s, c);
	submit(s);
	return 0;
}

/* A change made on a path string (and a second one for rename, link and
 * symlink). */
static __always_inline int path_change(const struct ct_change *c)
{
	struct ct_file_scratch *s;
	struct resolved r0, r1 = {};

	if (is_agent())
		return 0;
	s = scratch();
	if (!s)
		return 0;
	resolve_string_global(c->dfd, (__u64)c->path, 0, 0);
	r0 = s->res[0];
	if (c->path1 && !r0.watched)
		raw_string(s, c->path, 0, &r0);	/* the other end of a move out */
	if (r0.len > PATH_ROOM)
		r0.len = PATH_ROOM;
	if (c->path1) {
		if (c->path1_as_given) {
			raw_string(s, c->path1, r0.len, &r1);
		} else {
			resolve_string_global(c->dfd1, (__u64)c->path1, r0.len, 1);
			r1 = s->res[1];
			if (!r1.watched)
				raw_string(s, c->path1, r0.len, &r1);	/* moved in from */
		}
	}
	if (!r0.watched && !(r1.watched && !c->path1_as_given))
		return 0;
	if (c->ret) {
		ct_count(CT_CNT_FILE_FAILED);
		return 0;
	}
	begin_in(s, c->op, c->ret);
	set_path0(s, &r0);
	s->ev.fd = c->dfd;
	s->ev.path1_len = r1.len > PATH_ROOM ? PATH_ROOM : r1.len;
	s->ev.watch_id1 = r1.watch_id;
	s->ev.suffix_off1 = r1.suffix_off;
	if (r1.truncated)
		s->ev.flags |= CT_FF_TRUNCATED1;
	if (c->path1 && !c->path1_as_given)
		s->ev.fd1 = c->dfd1;
	set_args(s, c);
	submit(s);
	return 0;
}

#endif /* CT_FILE_RECORD_BPF_H */
