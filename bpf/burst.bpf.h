/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Bursts: a process reopening a file it just rewrote, counted in the
 * kernel instead of recorded (see struct ct_wburst in changetrace.h).
 */
#ifndef CT_BURST_BPF_H
#define CT_BURST_BPF_H

#include "open_files.bpf.h"

/* Bursts of one process rewriting one file (see struct ct_wburst): the
 * collector creates and deletes entries, probes only update them. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CT_WBURST_MAX);
	__type(key, struct ct_wburst_key);
	__type(value, struct ct_wburst);
} ct_wbursts SEC(".maps");

/* A folded open: in the process's slot if free (or left behind at this
 * address or fd), else in ct_wfiles. */
static __always_inline void track_burst_open(__u64 key, struct ct_wfile *wf,
					     const struct ct_wfd_key *fk, const struct ct_wfd *fd)
{
	struct ct_writer *w = writer_of_current(BPF_LOCAL_STORAGE_GET_F_CREATE);
	__u64 was;

	if (w) {
		was = w->burst_file;
		if ((was == 0 || was == key || w->burst_fd == fk->fd) &&
		    __sync_val_compare_and_swap(&w->burst_file, was, key) == was) {
			w->burst_writes = 0;
			w->burst_slot = wf->deploy_slot;
			w->burst_fd = fk->fd;
			w->burst_ino = fd->ino;
			w->burst_dev = fd->dev;
			return;
		}
	}
	track_wfile(key, wf, fk, fd);
}

/* The slot's file as a ct_wfile (what the burst helpers take). */
static __always_inline void slot_wfile(const struct ct_writer *w, struct ct_wfile *wf)
{
	wf->tgid = bpf_get_current_pid_tgid() >> 32;
	wf->deploy_slot = w->burst_slot;
	wf->writes = w->burst_writes;
	wf->in_burst = 1;
}

static __always_inline struct ct_wburst *burst_of(__u64 ino, __u32 dev,
						  const struct ct_wfile *wf)
{
	struct ct_wburst_key k = {};

	k.ino = ino;
	k.dev = dev;
	k.tgid = wf->tgid;
	k.deploy_slot = wf->deploy_slot;
	return bpf_map_lookup_elem(&ct_wbursts, &k);
}

/*
 * Fold this open into the burst the collector follows, if it continues
 * one: the same process and deploy reopening the file within CT_BURST_NS
 * of its last close, no other open of it pending. No record then; the
 * halted-deploy check still runs, as for any change.
 */
static __always_inline bool join_burst(struct file *f, struct ct_wfile *wf,
				       const struct ct_task_attr *attr)
{
	struct ct_wburst *b = burst_of(f->f_inode->i_ino, f->f_inode->i_sb->s_dev, wf);
	__u64 now;

	if (!b)
		return false;
	now = bpf_ktime_get_ns();
	if (b->open_now || now - b->last_close_ns > CT_BURST_NS)
		return false;
	__sync_fetch_and_add(&b->open_now, 1);
	__sync_fetch_and_add(&b->opens, 1);
	/*
	 * The collector deletes the entry (with what it counted) only once
	 * the file has been quiet for its settle time, far longer than the
	 * burst window. Had this program stalled past the window, that may
	 * have happened: take the open back and record it instead. The
	 * atomic adds are full barriers, so this clock read comes after them.
	 */
	if (bpf_ktime_get_ns() - b->last_close_ns > CT_BURST_NS) {
		__sync_fetch_and_add(&b->opens, -1);
		__sync_fetch_and_add(&b->open_now, -1);
		return false;
	}
	b->last_ns = now;
	wf->in_burst = 1;
	ct_count(CT_CNT_FILE_BURST_OPENS);
	if (attr && attr->deploy_slot)
		ct_enforce_deploy_flags(attr);
	return true;
}

/* A burst open's close: its writes go to the burst, and no record. */
static __always_inline void leave_burst(const struct ct_wfd *of, const struct ct_wfile *wf)
{
	struct ct_wburst *b = burst_of(of->ino, of->dev, wf);
	__u64 now = bpf_ktime_get_ns();

	if (!b) {
		/* the collector gave up on the change while this stayed open
		 * (its quiet limit, or more files in flight than it follows) */
		ct_count(CT_CNT_FILE_BURST_LATE);
		return;
	}
	__sync_fetch_and_add(&b->writes, wf->writes);
	b->last_close_ns = now;
	b->last_ns = now;
	/* last: the collector reads a burst with nothing open as complete */
	__sync_fetch_and_add(&b->open_now, -1);
}

/*
 * A burst open's close(2) that was not the last reference: it may stay
 * open (a dup) or be gone once a passing reference drops, and then no
 * close comes. Its writes so far go to the burst now (the collector takes
 * a burst whose file stays open but is no longer held as done, once it is
 * quiet); it stays open in the burst's count.
 */
static __always_inline void burst_writes_so_far(const struct ct_wfd *of,
						const struct ct_wfile *wf, __u32 *writes)
{
	struct ct_wburst *b = burst_of(of->ino, of->dev, wf);
	__u32 n;

	if (!b)
		return;
	n = *writes;
	/* moved, not copied: writes through another thread meanwhile stay */
	__sync_fetch_and_add(writes, -n);
	__sync_fetch_and_add(&b->writes, n);
	b->last_ns = bpf_ktime_get_ns();
}

/* A recorded open's close keeps a followed burst going. */
static __always_inline void touch_burst(const struct ct_wfd *of, const struct ct_wfile *wf)
{
	struct ct_wburst *b = burst_of(of->ino, of->dev, wf);

	if (b) {
		__u64 now = bpf_ktime_get_ns();

		b->last_close_ns = now;
		b->last_ns = now;
	}
}

/* The slot's file, as a ct_wfd (what the burst helpers take). */
static __always_inline void slot_wfd(const struct ct_writer *w, struct ct_wfd *fd)
{
	fd->file = w->burst_file;
	fd->ino = w->burst_ino;
	fd->dev = w->burst_dev;
}

#endif /* CT_BURST_BPF_H */
