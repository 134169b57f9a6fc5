/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Writes to /proc/sys files: each write(2) is a record of its own
 * (CT_FOP_SYSCTL) carrying the bytes the kernel accepted, copied from the
 * writer's buffer at the syscall's exit. A value read back later may
 * already be the next write's; the bytes copied here are the ones this
 * write set. Only files the open probe marked are looked at
 * (ct_wfile.sysctl: a sysctl opened for write on a watched path), so any
 * other write pays one flag test.
 */
#ifndef CT_SYSCTL_WRITE_BPF_H
#define CT_SYSCTL_WRITE_BPF_H

#include "file_record.bpf.h"
#include "open_files.bpf.h"
#include "syscall_args.bpf.h"

#define PROC_SUPER_MAGIC 0x9fa0

/* The write syscalls, by where their buffer and offset are. */
enum sysctl_syscall {
	SYSCTL_WRITE,            /* write(fd, buf, count): at the file position */
	SYSCTL_PWRITE64,         /* pwrite64(fd, buf, count, pos) */
	SYSCTL_WRITEV,           /* writev(fd, iov, iovcnt): at the file position */
};

/* procfs's inode around f's when f is a sysctl (a table entry, not one
 * of /proc/sys's directories), else NULL. */
static __always_inline struct proc_inode *sysctl_inode(struct file *f)
{
	struct inode *inode = f->f_inode;
	struct proc_inode *pi;

	if (inode->i_sb->s_magic != PROC_SUPER_MAGIC)
		return NULL;
	pi = bpf_rdonly_cast((void *)((__u64)inode -
				      bpf_core_field_offset(struct proc_inode, vfs_inode)),
			     bpf_core_type_id_kernel(struct proc_inode));
	return pi->sysctl_entry ? pi : NULL;
}

/*
 * The network namespace whose value a sysctl file is, into the record: a
 * /proc/sys/net entry belongs to the table of the namespace it was opened
 * in (that struct net holds the table), whoever writes through the fd
 * later. None for a table no struct net holds (global sysctls, a user
 * namespace's).
 */
static __always_inline void set_value_netns(struct ct_file_scratch *s, struct proc_inode *pi)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u64 set = (__u64)pi->sysctl->set;
	struct net *net;

	net = bpf_rdonly_cast((void *)(set - bpf_core_field_offset(struct net, sysctls)),
			      bpf_core_type_id_kernel(struct net));
	/* every struct net has the same ops; memory around another set does not */
	if (!t->nsproxy || (__u64)net->ns.ops != (__u64)t->nsproxy->net_ns->ns.ops)
		return;
	s->ev.value_netns = net->ns.inum;
	if (bpf_core_field_exists(net->net_cookie))
		s->ev.value_netns_cookie = net->net_cookie;
}

/*
 * The accepted bytes into the record, after path0. A handler returns the
 * bytes it parsed, from the start of the buffer, so they are buf[0, ret).
 * They are the value only for a write at offset 0 that fits a record;
 * otherwise the record says why not and the collector reads the value
 * back.
 *
 * The offset write(2) wrote at is gone by its exit: the file position is
 * past the bytes a handler took (integers, strings), or where it was (the
 * unsigned and u8 handlers do not move it). Either way a write that began
 * at 0 leaves it at 0 or at ret, and one that began elsewhere does not
 * (the position of an unsigned value moves only by lseek(2); only one to
 * exactly ret would pass for 0).
 */
static __always_inline void copy_value(struct ct_file_scratch *s, struct file *f, long ret,
				       int how)
{
	const char *buf = (const char *)ct_sc_arg(1);
	struct iovec iov;
	__s64 pos;
	__u32 off;

	if (how == SYSCTL_PWRITE64) {
		pos = ct_sc_arg(3);
	} else {
		pos = f->f_pos;
		if (pos == ret)
			pos = 0;
		if (how == SYSCTL_WRITEV) {
			/* the accepted bytes all in the first iovec, or not copied */
			if (bpf_probe_read_user(&iov, sizeof(iov), buf) || iov.iov_len < ret) {
				s->ev.flags |= CT_FF_VALUE_UNREAD;
				return;
			}
			buf = iov.iov_base;
		}
	}
	if (pos != 0) {
		s->ev.flags |= CT_FF_VALUE_OFFSET;
		return;
	}
	if (ret > CT_SYSCTL_WRITE_MAX) {
		s->ev.flags |= CT_FF_VALUE_CUT;
		return;
	}
	off = masked(s->ev.path0_len, CT_FILE_PATH_MAX - 1);
	if (ret <= 0 || bpf_probe_read_user(&s->ev.paths[off], ret, buf)) {
		s->ev.flags |= CT_FF_VALUE_UNREAD;
		return;
	}
	s->ev.value_len = ret;
}

/*
 * One write to a sysctl file, at its exit: accepted (ret > 0: the bytes,
 * the file's path and the writer), or refused or taking nothing (ret <= 0:
 * only which open file it was, for the collector to know the open wrote
 * no value). A write whose record is lost (ring full) is counted in the
 * open file's `writes` instead: the collector reads the value back for it.
 */
static __always_inline int sysctl_write(struct file *f, struct ct_wfile *wf, long ret, int how)
{
	struct ct_file_scratch *s = scratch();
	struct proc_inode *pi;
	struct resolved r;

	if (!s)
		goto lost;
	if (ret > 0) {
		resolve_path(s, BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(f, f_path.mnt), 0,
			     PATH_ROOM, &r);
		if (!r.watched)
			return 0;	/* its watch was removed since the open */
	}
	begin_in(s, CT_FOP_SYSCTL, ret);
	if (ret > 0)
		set_path0(s, &r);
	s->ev.flags |= CT_FF_FD;
	s->ev.fd = ct_sc_arg(0);
	s->ev.file_id = (__u64)f;
	s->ev.file_open_ns = wf->open_ns;
	s->ev.ino = f->f_inode->i_ino;
	s->ev.dev = f->f_inode->i_sb->s_dev;
	pi = sysctl_inode(f);
	if (pi)
		set_value_netns(s, pi);
	if (ret > 0)
		copy_value(s, f, ret, how);
	if (submit(s))
		return 0;
lost:
	if (ret > 0)
		__sync_fetch_and_add(&wf->writes, 1);
	return 0;
}

/* A refused write (ret < 0) by a process that opened a sysctl for
 * write: recorded if it went to a sysctl (see sysctl_write). */
static __always_inline int sysctl_refused(long ret, int how)
{
	struct file *f = file_of_fd(ct_sc_arg(0));
	struct ct_wfile *wf;
	__u64 key = (__u64)f;

	wf = f ? bpf_map_lookup_elem(&ct_wfiles, &key) : NULL;
	if (!wf || !wf->sysctl)
		return 0;
	return sysctl_write(f, wf, ret, how);
}

#endif /* CT_SYSCTL_WRITE_BPF_H */
