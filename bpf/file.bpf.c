// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Config writes, on syscall tracepoints only.
 *
 * Which files are watched is decided here, so unwatched I/O costs next to
 * nothing. The agent puts the (dev, inode) of every watched directory or
 * file in ct_watch; a path is watched when the dentry itself or one of its
 * ancestors is in that map. The walk follows the kernel's own dentry and
 * mount tree, so relative paths, dirfds, "..", symlinked parents and bind
 * mounts all resolve as the kernel resolved them.
 *
 *  - fd-based operations (open for write/create/truncate, ftruncate,
 *    fchmod, fchown, fsetxattr) resolve the struct file at syscall exit:
 *    exact.
 *  - path-based operations (rename, unlink, link, symlink, mkdir, chmod,
 *    chown, setxattr, truncate) have only a string. A relative string is
 *    resolved against the walked cwd or dirfd; an absolute one is matched
 *    against the watched path prefixes (ct_watch_prefix). The collector
 *    normalises the result.
 *
 * Syscall arguments are read at exit from the task's saved registers
 * (unchanged by the syscall), so no per-call state is kept between enter
 * and exit, and user strings are read when the kernel has just paged
 * them in. Writes are only counted (per open file, in ct_wfiles) for
 * processes that hold a watched file open for writing. write() and
 * close() are seen at exit too (no program on any sys_enter_* tracepoint,
 * see syscall_args.bpf.h); a closed fd no longer names its file there, so
 * the open probe keeps which file each tracked fd holds (ct_wfds).
 * A /proc/sys file's writes are not counted but each recorded, with the
 * bytes the kernel accepted (sysctl_write.bpf.h).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "maps.bpf.h"
#include "task.bpf.h"
#include "syscall_args.bpf.h"
#include "agent.bpf.h"
#include "file_scratch.bpf.h"
#include "path_walk.bpf.h"
#include "dir_cache.bpf.h"
#include "open_files.bpf.h"
#include "burst.bpf.h"
#include "file_record.bpf.h"
#include "sysctl_write.bpf.h"

#define AT_REMOVEDIR    0x200
#define O_ACCMODE       3
#define O_CREAT         0100
#define O_TRUNC         01000
#define O_APPEND        02000
#define FMODE_WRITE     0x2
#define RENAME_EXCHANGE 2

/* syscall argument n as a user pointer */
#define P(n) ((const char *)ct_sc_arg(n))

/*
 * An exec from a thread other than the leader makes that thread the
 * leader (it takes the process's pid) and the old leader's task, with the
 * writer mark, goes. Files it opened for write stay open across the exec
 * (without O_CLOEXEC): the new leader is marked, or their later writes
 * and close would go unseen. Rare; the mark costs that process a lookup
 * per write and close.
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(ct_writer_exec, struct task_struct *t, pid_t old_pid, struct linux_binprm *bprm)
{
	if (old_pid == t->pid)
		return 0;
	bpf_task_storage_get(&ct_writers, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	return 0;
}

/* ---------------------------------------------------------------- open */

/* flags_arg: which syscall argument holds the open flags, or -1 and the
 * flags in `flags`. Read only after the cheap return-value test: this runs
 * for every open on the host. */
static __always_inline int open_exit(long ret, int flags_arg, __u64 flags)
{
	struct ct_file_scratch *s;
	struct ct_wfile wf = {};
	struct ct_wfd_key fk;
	struct ct_wfd fd = {};
	struct resolved r;
	struct vfsmount *vfsmnt;
	struct dentry *dentry, *parent = NULL;
	struct ct_task_attr *attr;
	struct proc_inode *pi;
	struct dir_key k;
	struct file *f;
	__u32 tgid;
	__u32 fmode, gen;
	bool cacheable;

	if (ret < 0)
		return 0;
	if (flags_arg >= 0)
		flags = ct_sc_arg(flags_arg);
	/* read-only opens, by far the most common, stop here */
	if ((flags & O_ACCMODE) == 0 && !(flags & (O_CREAT | O_TRUNC)))
		return 0;
	if (is_agent())
		return 0;
	f = file_of_fd(ret);
	if (!f)
		return 0;
	s = scratch();
	if (!s)
		return 0;
	dentry = f->f_path.dentry;
	vfsmnt = f->f_path.mnt;
	cacheable = dir_key_of(dentry, vfsmnt, &k, &parent);
	if (cacheable && known_unwatched(dentry, &k, parent))
		return 0;
	/* A reopen that continues a burst the collector follows needs no
	 * path: the entry exists only for a watched file's change. */
	tgid = bpf_get_current_pid_tgid() >> 32;
	attr = ct_current_attr();
	fmode = f->f_mode;
	if (fmode & FMODE_WRITE) {
		wf.tgid = tgid;
		wf.deploy_slot = attr ? attr->deploy_slot : 0;
		fk.tgid = tgid;
		fk.fd = ret;
		fd.file = (__u64)f;
		fd.ino = f->f_inode->i_ino;
		fd.dev = f->f_inode->i_sb->s_dev;
		if (join_burst(f, &wf, attr)) {
			track_burst_open((__u64)f, &wf, &fk, &fd);
			return 0;
		}
	}
	gen = walk_gen();
	if (!cacheable || !cached_watched_path(s, dentry, &k, parent, &r)) {
		/* the walk keeps its pointers as plain numbers (bpf_loop state) */
		resolve_path(s, BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(f, f_path.mnt), 0,
			     PATH_ROOM, &r);
		if (!r.watched) {
			if (cacheable && !r.unknown)
				remember_unwatched(&k, parent, gen);
			return 0;
		}
		if (cacheable)
			remember_watched(s, dentry, &k, parent, &r, gen);
	}
	begin_in_attr(s, CT_FOP_WRITE, 0, attr);
	set_path0(s, &r);
	s->ev.flags |= CT_FF_FD;
	s->ev.fd = ret;
	if (flags & O_CREAT)
		s->ev.flags |= CT_FF_CREAT;
	if (flags & O_TRUNC)
		s->ev.flags |= CT_FF_TRUNC;
	if (flags & O_APPEND)
		s->ev.flags |= CT_FF_APPEND;
	s->ev.file_id = (__u64)f;
	s->ev.ino = f->f_inode->i_ino;
	s->ev.dev = f->f_inode->i_sb->s_dev;
	s->ev.mode = f->f_inode->i_mode;
	if (fmode & FMODE_WRITE) {
		__u64 key = (__u64)f;

		/* its writes are recorded one by one, with their bytes */
		pi = sysctl_inode(f);
		wf.sysctl = pi != NULL;
		if (pi)
			set_value_netns(s, pi);
		wf.open_ns = s->ev.hdr.ts_ns;
		s->ev.file_open_ns = wf.open_ns;
		fd.open_ns = wf.open_ns;
		track_wfile(key, &wf, &fk, &fd);
	}
	submit(s);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int ct_exit_openat(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx->ret, 2, 0);
}

SEC("tracepoint/syscalls/sys_exit_open")
int ct_exit_open(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx->ret, 1, 0);
}

SEC("tracepoint/syscalls/sys_exit_creat")
int ct_exit_creat(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx->ret, -1, O_CREAT | O_TRUNC | 1);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int ct_exit_openat2(struct trace_event_raw_sys_exit *ctx)
{
	struct open_how how = {};

	if (ctx->ret < 0)
		return 0;
	if (bpf_probe_read_user(&how, sizeof(how), (void *)ct_sc_arg(2)))
		how.flags = O_ACCMODE;	/* unreadable: assume a write, let the walk decide */
	return open_exit(ctx->ret, -1, how.flags);
}

/* -------------------------------------------------------- write, close */

#define EBADF 9

/* At exit: the fd still names the file it wrote (only a close by another
 * thread in between could change that). A write the kernel refused
 * changed nothing and is not counted; one to a sysctl is recorded as
 * refused. A sysctl's writes are records of their own (never in a
 * burst: the collector follows none for a sysctl). */
static __always_inline int count_write(long ret, int how)
{
	struct ct_writer *w = writer_of_current(0);
	struct ct_wfile *wf;
	struct file *f;
	__u64 key, now;

	if (!w)
		return 0;
	if (ret < 0)
		return w->sysctl ? sysctl_refused(ret, how) : 0;
	f = file_of_fd(ct_sc_arg(0));
	key = (__u64)f;
	if (f && w->burst_file == key) {
		__sync_fetch_and_add(&w->burst_writes, 1);
		return 0;
	}
	wf = f ? bpf_map_lookup_elem(&ct_wfiles, &key) : NULL;
	if (!wf)
		return 0;
	if (wf->sysctl)
		return sysctl_write(f, wf, ret, how);
	__sync_fetch_and_add(&wf->writes, 1);
	/* the collector times a burst by its opens and closes */
	if (wf->in_burst)
		return 0;
	now = bpf_ktime_get_ns();
	if (!wf->first_write_ns)
		wf->first_write_ns = now;
	wf->last_write_ns = now;
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_write")
int ct_exit_write(struct trace_event_raw_sys_exit *ctx)
{
	return count_write(ctx->ret, SYSCTL_WRITE);
}

SEC("tracepoint/syscalls/sys_exit_pwrite64")
int ct_exit_pwrite64(struct trace_event_raw_sys_exit *ctx)
{
	return count_write(ctx->ret, SYSCTL_PWRITE64);
}

SEC("tracepoint/syscalls/sys_exit_writev")
int ct_exit_writev(struct trace_event_raw_sys_exit *ctx)
{
	return count_write(ctx->ret, SYSCTL_WRITEV);
}


/* close(2) of the folded reopen followed in the process's slot. */
static __always_inline int close_slot_file(struct ct_writer *w)
{
	struct ct_wfile slot = {};
	struct ct_wfd of = {};

	slot_wfile(w, &slot);
	slot_wfd(w, &of);
	if (!released(of.file)) {
		int other = other_fd_of(of.file);

		ct_count(CT_CNT_FILE_CLOSE_SHARED);
		burst_writes_so_far(&of, &slot, &w->burst_writes);
		if (other >= 0)
			w->burst_fd = other;
		return 0;
	}
	leave_burst(&of, &slot);
	__sync_val_compare_and_swap(&w->burst_file, of.file, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_close")
int ct_exit_close(struct trace_event_raw_sys_exit *ctx)
{
	struct ct_writer *w = writer_of_current(0);
	struct ct_file_scratch *s;
	struct ct_wfd_key fk;
	struct ct_wfd of, *ofp;
	struct ct_wfile *wf;
	__u64 key;

	/* EBADF: no fd was closed (any other error still closed it) */
	if (!w || ctx->ret == -EBADF)
		return 0;
	fk.tgid = bpf_get_current_pid_tgid() >> 32;
	fk.fd = ct_sc_arg(0);
	if (w->burst_file && w->burst_fd == fk.fd)
		return close_slot_file(w);
	ofp = bpf_map_lookup_elem(&ct_wfds, &fk);
	if (!ofp)
		return 0;
	of = *ofp;
	bpf_map_delete_elem(&ct_wfds, &fk);
	key = of.file;
	wf = bpf_map_lookup_elem(&ct_wfiles, &key);
	/* another open at that address since (this fd's file was closed
	 * without close(2), its entry left): not this fd's file */
	if (!wf || wf->tgid != fk.tgid || wf->open_ns != of.open_ns)
		return 0;
	if (!released(key)) {
		/* still open through another fd (shell redirections dup;
		 * followed there), or someone holds a passing reference (a
		 * reader of /proc/PID/fd, a forked child): the collector finds
		 * it closed once it is quiet */
		ct_count(CT_CNT_FILE_CLOSE_SHARED);
		if (wf->in_burst)
			burst_writes_so_far(&of, wf, &wf->writes);
		fk.fd = other_fd_of(key);
		if (fk.fd >= 0)
			bpf_map_update_elem(&ct_wfds, &fk, &of, BPF_ANY);
		return 0;
	}
	if (wf->in_burst) {
		leave_burst(&of, wf);
		bpf_map_delete_elem(&ct_wfiles, &key);
		return 0;
	}
	touch_burst(&of, wf);
	s = begin_close(key, wf);
	if (s) {
		/*
		 * No wakeup unless it fills a quarter of the ring: the open before it woke the
		 * collector, which polls every 20 ms while a change is
		 * pending. A wakeup is an irq_work (a self-IPI, a VM exit on
		 * a guest) and was most of the cost of a watched
		 * open+write+close. The threshold matters: once a record is
		 * left unconsumed, later records see a consumer behind and
		 * never wake it by themselves.
		 */
		submit_flags(s, BPF_RB_NO_WAKEUP);
	}
	bpf_map_delete_elem(&ct_wfiles, &key);
	return 0;
}

/* ------------------------------------------------------ fd-based ops */

#define FD_CHANGE(sc, ...)							\
SEC("tracepoint/syscalls/sys_exit_" #sc)					\
int ct_exit_##sc(struct trace_event_raw_sys_exit *ctx)				\
{										\
	struct ct_change c = { .ret = ctx->ret, .fd = ct_sc_arg(0), __VA_ARGS__ };	\
										\
	return fd_change(&c);							\
}

FD_CHANGE(ftruncate, .op = CT_FOP_TRUNCATE)
FD_CHANGE(fchmod, .op = CT_FOP_CHMOD, .mode = ct_sc_arg(1))
FD_CHANGE(fchown, .op = CT_FOP_CHOWN, .uid = ct_sc_arg(1), .gid = ct_sc_arg(2))
FD_CHANGE(fsetxattr, .op = CT_FOP_SETXATTR, .xattr = P(1))
FD_CHANGE(fremovexattr, .op = CT_FOP_SETXATTR, .xattr = P(1))

/* ---------------------------------------------------- path-based ops */

/*
 * A rename moves every name below the renamed one: the walk's cached
 * verdicts may all be stale (see dir_cache.bpf.h). The return value is
 * read from ctx once: the verifier refuses a ctx pointer moved by the
 * compiler for a second read.
 */
#define RENAME(sc, ...)								\
SEC("tracepoint/syscalls/sys_exit_" #sc)					\
int ct_exit_##sc(struct trace_event_raw_sys_exit *ctx)				\
{										\
	long ret = ctx->ret;							\
										\
	asm volatile("" : "+r"(ret));						\
	if (ret == 0 && !is_agent())						\
		bump_walk_gen();						\
	struct ct_change c = { .op = CT_FOP_RENAME, .ret = ret, __VA_ARGS__ };	\
										\
	return path_change(&c);							\
}

RENAME(renameat2, .dfd = ct_sc_arg(2), .path = P(3), .dfd1 = ct_sc_arg(0), .path1 = P(1),
       .flags = (ct_sc_arg(4) & RENAME_EXCHANGE) ? CT_FF_EXCHANGE : 0)
RENAME(renameat, .dfd = ct_sc_arg(2), .path = P(3), .dfd1 = ct_sc_arg(0), .path1 = P(1))
RENAME(rename, .dfd = AT_FDCWD, .path = P(1), .dfd1 = AT_FDCWD, .path1 = P(0))

#define PATH_CHANGE(sc, ...)							\
SEC("tracepoint/syscalls/sys_exit_" #sc)					\
int ct_exit_##sc(struct trace_event_raw_sys_exit *ctx)				\
{										\
	struct ct_change c = { .ret = ctx->ret, __VA_ARGS__ };			\
										\
	return path_change(&c);							\
}

PATH_CHANGE(unlinkat, .op = (ct_sc_arg(2) & AT_REMOVEDIR) ? CT_FOP_RMDIR : CT_FOP_UNLINK,
	    .dfd = ct_sc_arg(0), .path = P(1))
PATH_CHANGE(unlink, .op = CT_FOP_UNLINK, .dfd = AT_FDCWD, .path = P(0))
PATH_CHANGE(rmdir, .op = CT_FOP_RMDIR, .dfd = AT_FDCWD, .path = P(0))
PATH_CHANGE(mkdirat, .op = CT_FOP_MKDIR, .dfd = ct_sc_arg(0), .path = P(1), .mode = ct_sc_arg(2))
PATH_CHANGE(mkdir, .op = CT_FOP_MKDIR, .dfd = AT_FDCWD, .path = P(0), .mode = ct_sc_arg(1))
PATH_CHANGE(linkat, .op = CT_FOP_LINK, .dfd = ct_sc_arg(2), .path = P(3),
	    .dfd1 = ct_sc_arg(0), .path1 = P(1))
PATH_CHANGE(link, .op = CT_FOP_LINK, .dfd = AT_FDCWD, .path = P(1), .dfd1 = AT_FDCWD, .path1 = P(0))
PATH_CHANGE(symlinkat, .op = CT_FOP_SYMLINK, .dfd = ct_sc_arg(1), .path = P(2), .path1 = P(0),
	    .path1_as_given = true)
PATH_CHANGE(symlink, .op = CT_FOP_SYMLINK, .dfd = AT_FDCWD, .path = P(1), .path1 = P(0),
	    .path1_as_given = true)
PATH_CHANGE(fchmodat, .op = CT_FOP_CHMOD, .dfd = ct_sc_arg(0), .path = P(1), .mode = ct_sc_arg(2))
PATH_CHANGE(fchmodat2, .op = CT_FOP_CHMOD, .dfd = ct_sc_arg(0), .path = P(1), .mode = ct_sc_arg(2))
PATH_CHANGE(chmod, .op = CT_FOP_CHMOD, .dfd = AT_FDCWD, .path = P(0), .mode = ct_sc_arg(1))
PATH_CHANGE(fchownat, .op = CT_FOP_CHOWN, .dfd = ct_sc_arg(0), .path = P(1),
	    .uid = ct_sc_arg(2), .gid = ct_sc_arg(3))
PATH_CHANGE(chown, .op = CT_FOP_CHOWN, .dfd = AT_FDCWD, .path = P(0),
	    .uid = ct_sc_arg(1), .gid = ct_sc_arg(2))
PATH_CHANGE(lchown, .op = CT_FOP_CHOWN, .dfd = AT_FDCWD, .path = P(0),
	    .uid = ct_sc_arg(1), .gid = ct_sc_arg(2))
PATH_CHANGE(truncate, .op = CT_FOP_TRUNCATE, .dfd = AT_FDCWD, .path = P(0))
PATH_CHANGE(setxattr, .op = CT_FOP_SETXATTR, .dfd = AT_FDCWD, .path = P(0), .xattr = P(1))
PATH_CHANGE(lsetxattr, .op = CT_FOP_SETXATTR, .dfd = AT_FDCWD, .path = P(0), .xattr = P(1))
PATH_CHANGE(removexattr, .op = CT_FOP_SETXATTR, .dfd = AT_FDCWD, .path = P(0), .xattr = P(1),
	    .flags = CT_FF_REMOVEXATTR)
PATH_CHANGE(lremovexattr, .op = CT_FOP_SETXATTR, .dfd = AT_FDCWD, .path = P(0), .xattr = P(1),
	    .flags = CT_FF_REMOVEXATTR)

/* --------------------------------------------- mount-tree changes */

/* Nothing to record: they only make cached walk verdicts stale. */
#define MOUNT_TREE_PROBE(sc)							\
SEC("tracepoint/syscalls/sys_exit_" #sc)					\
int ct_exit_##sc(struct trace_event_raw_sys_exit *ctx)				\
{										\
	if (ctx->ret == 0)							\
		bump_walk_gen();						\
	return 0;								\
}

MOUNT_TREE_PROBE(mount)
MOUNT_TREE_PROBE(umount)
MOUNT_TREE_PROBE(move_mount)
MOUNT_TREE_PROBE(pivot_root)

