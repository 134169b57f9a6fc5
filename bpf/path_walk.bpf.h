/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A file's path from the kernel's own dentry and mount tree, and path
 * strings as a syscall was given them, written into the record being
 * built. Both say whether the path is watched: a dentry walked, or an
 * absolute string's watched prefix.
 */
#ifndef CT_PATH_WALK_BPF_H
#define CT_PATH_WALK_BPF_H

#include "file_scratch.bpf.h"

/* Dentries walked up looking for a watch: the deepest path a syscall can
 * name (PATH_MAX / 2 names) and mount crossings. */
#define WALK_MAX (CT_FILE_PATH_MAX / 2 + 64)

static __always_inline struct mount *real_mount(struct vfsmount *m)
{
	return (struct mount *)((void *)m - bpf_core_field_offset(struct mount, mnt));
}

/* The loops below keep their state in the scratch map (see struct
 * walk_ctx); bpf_loop's own context argument is unused. */

static long walk_step(__u32 i, void *unused)
{
	struct ct_file_scratch *s = scratch();
	struct walk_ctx *w;
	struct dentry *d, *parent;
	__u32 idx;

	if (!s)
		return 1;
	w = &s->walk;
	d = w->dentry;
	idx = w->n;
	if (!d)
		return 1;
	if (w->match_n < 0) {
		struct ct_watch_key k = {};
		__u32 *id;

		k.ino = BPF_CORE_READ(d, d_inode, i_ino);
		k.dev = BPF_CORE_READ(d, d_sb, s_dev);
		id = bpf_map_lookup_elem(&ct_watch, &k);
		if (id) {
			w->match_n = w->depth;
			w->watch_id = *id;
		}
	}
	parent = BPF_CORE_READ(d, d_parent);
	if (d == w->mnt_root || d == parent) {
		struct mount *m = w->mnt;
		struct mount *pm = BPF_CORE_READ(m, mnt_parent);

		if (!pm || pm == m) {
			w->done = 1;	/* the root of this mount namespace */
			return 1;
		}
		w->dentry = BPF_CORE_READ(m, mnt_mountpoint);
		w->mnt = pm;
		w->mnt_root = BPF_CORE_READ(pm, mnt.mnt_root);
		return 0;
	}
	w->depth++;
	w->dentry = parent;
	if (idx >= CT_FILE_DEPTH) {
		/* deeper than a record's names: the lowest are kept; walk on
		 * only to find the watch */
		w->truncated = 1;
		return w->match_n >= 0;
	}
	s->names[idx & (NAMES_SLOTS - 1)] = d;
	w->n = idx + 1;
	return 0;
}

/* Append "/name" for names[n-1-i]: top-down. */
static long build_step(__u32 i, void *unused)
{
	struct ct_file_scratch *s = scratch();
	struct build_ctx *b;
	struct dentry *d;
	const unsigned char *name;
	__u32 j, off;
	long r;

	if (!s)
		return 1;
	b = &s->build;
	if (i >= b->n)
		return 1;
	j = b->n - 1 - i;
	off = b->off;
	if ((__s32)j == b->match_n - 1)
		b->suffix_off = off - b->start;
	d = s->names[j & (NAMES_SLOTS - 1)];
	/* the name's length is read only near the end of the room */
	if (off + 1 + NAME_READ > b->start + b->cap &&
	    off + 1 + BPF_CORE_READ(d, d_name.len) > b->start + b->cap) {
		b->truncated = 1;
		return 1;
	}
	name = BPF_CORE_READ(d, d_name.name);
	s->ev.paths[masked(off, PATHS_MASK)] = '/';
	off++;
	r = bpf_probe_read_kernel_str(&s->ev.paths[masked(off, PATHS_MASK)], NAME_READ, name);
	if (r > 1)
		off += r - 1;
	b->off = off;
	return 0;
}

/* How many of the lowest names fit in cap bytes as "/a/b/c". */
static long fit_step(__u32 i, void *unused)
{
	struct ct_file_scratch *s = scratch();
	struct fit_ctx *f;
	struct dentry *d;
	__u32 len;

	if (!s)
		return 1;
	f = &s->fit;
	if (i >= f->n)
		return 1;
	d = s->names[i & (NAMES_SLOTS - 1)];
	len = BPF_CORE_READ(d, d_name.len);
	if (f->len + 1 + len > f->cap)
		return 1;
	f->len += 1 + len;
	f->fit = i + 1;
	return 0;
}

/*
 * A path too long or too deep for its room: the part below its watch if
 * that fits (the host path is then whole: the watch's path and this), or
 * else the lowest names that fit, the watch above them (suffix unknown).
 */
static __always_inline void build_lowest(struct ct_file_scratch *s)
{
	struct walk_ctx *w = &s->walk;
	struct build_ctx *b = &s->build;
	struct fit_ctx *f = &s->fit;
	__s32 match_n = w->match_n;

	f->n = w->n;
	f->cap = b->cap;
	f->len = 0;
	f->fit = 0;
	bpf_loop(CT_FILE_DEPTH, fit_step, NULL, 0);
	b->off = b->start;
	b->suffix_off = CT_SUFFIX_UNKNOWN;
	b->truncated = 0;
	if (match_n == 0) {
		/* the file itself is the watch: its own name is enough */
		b->n = f->fit ? 1 : 0;
		b->match_n = -1;
	} else if ((__u32)match_n <= f->fit) {
		b->n = match_n;	/* build_step sets suffix_off = 0 */
		b->match_n = match_n;
	} else {
		b->n = f->fit;
		b->match_n = -1;
	}
	bpf_loop(CT_FILE_DEPTH, build_step, NULL, 0);
	if (match_n == 0)
		b->suffix_off = b->off - b->start;
}

/*
 * Walk a struct path up to the namespace root; write it at paths[start],
 * in at most cap bytes. A path the walk could not finish (deeper than
 * WALK_MAX) with no watch found is neither watched nor unwatched: counted,
 * and out->unknown keeps it from the unwatched-directory cache.
 */
static __always_inline void resolve_path(struct ct_file_scratch *s, struct dentry *dentry,
					 struct vfsmount *vfsmnt, __u32 start, __u32 cap,
					 struct resolved *out)
{
	struct walk_ctx *w = &s->walk;
	struct build_ctx *b = &s->build;

	w->dentry = dentry;
	w->mnt = real_mount(vfsmnt);
	w->mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
	w->n = 0;
	w->depth = 0;
	w->match_n = -1;
	w->watch_id = 0;
	w->truncated = 0;
	w->done = 0;
	bpf_loop(WALK_MAX, walk_step, NULL, 0);

	out->watched = w->match_n >= 0;
	out->watch_id = w->watch_id;
	out->truncated = false;
	out->unknown = false;
	out->len = 0;
	out->suffix_off = 0;
	if (!out->watched) {
		if (!w->done) {
			out->unknown = true;
			ct_count(CT_CNT_FILE_PATH_TRUNC);
		}
		return;
	}
	b->n = w->n;
	b->match_n = w->match_n;
	b->start = start;
	b->off = start;
	b->cap = cap;
	b->suffix_off = 0;
	b->truncated = 0;
	if (w->n == 0) {
		s->ev.paths[masked(start, PATHS_MASK)] = '/';
		b->off = start + 1;
	} else if (!w->truncated) {
		bpf_loop(CT_FILE_DEPTH, build_step, NULL, 0);
	}
	if (w->truncated || b->truncated) {
		build_lowest(s);
		out->truncated = true;
		out->len = b->off - start;
		out->suffix_off = b->suffix_off;
		return;
	}
	out->len = b->off - start;
	/* the watched dentry is the file itself: nothing below it */
	out->suffix_off = w->match_n == 0 ? out->len : b->suffix_off;
}

/* ------------------------------------------------------ path strings */

struct prefix_ctx {
	__u32 len;               /* of the user string */
	bool hit;
};

static long prefix_step(__u32 i, struct prefix_ctx *p)
{
	struct ct_file_scratch *s = scratch();
	struct ct_watch_prefix *w = bpf_map_lookup_elem(&ct_watch_prefix, &i);
	__u32 l, c;

	if (!s || !w || !w->len)
		return 1;	/* slots are filled from 0: the first empty one ends the list */
	l = w->len;
	if (l > CT_WATCH_PREFIX_LEN - 1 || l > p->len)
		return 0;
	for (c = 0; c < CT_WATCH_PREFIX_LEN - 1; c++) {
		if (c >= l)
			break;
		if (s->str[masked(c, STR_MAX - 1)] != w->path[c])
			return 0;
	}
	/* "/etc" matches "/etc" and "/etc/x", not "/etcetera" */
	c = s->str[masked(l, STR_MAX - 1)];
	if (c == '/' || c == '\0' || w->path[masked(l - 1, CT_WATCH_PREFIX_LEN - 1)] == '/') {
		p->hit = true;
		return 1;
	}
	return 0;
}

static long dotdot_step(__u32 i, struct prefix_ctx *p)
{
	struct ct_file_scratch *s = scratch();

	if (!s || i + 1 >= p->len)
		return 1;
	if (s->str[masked(i, STR_MAX - 1)] == '.' && s->str[masked(i + 1, STR_MAX - 1)] == '.') {
		p->hit = true;
		return 1;
	}
	return 0;
}

/*
 * A path string as given to a syscall, written at paths[start]: relative
 * ones prefixed with the walked cwd/dirfd. Watched when the base is
 * watched, an absolute string starts with a watched prefix, or a
 * relative one climbs with ".." (the collector decides those). A base
 * whose watch is above what fits beside the string is left out: the
 * string goes as given, flagged, and the collector joins it to the
 * process's dir fd or cwd.
 */
static __always_inline void resolve_string(struct ct_file_scratch *s, int dfd,
					   const char *upath, __u32 start,
					   struct resolved *out)
{
	struct prefix_ctx p = {};
	long n;
	__u32 off;

	out->watched = false;
	out->watch_id = 0;
	out->suffix_off = 0;
	out->truncated = false;
	out->unknown = false;
	out->len = 0;
	n = bpf_probe_read_user_str(s->str, STR_MAX, upath);
	if (n <= 1)
		return;
	p.len = n - 1;
	if (s->str[0] == '/') {
		bpf_loop(CT_WATCH_PREFIX_MAX, prefix_step, &p, 0);
		if (!p.hit)
			return;
		out->watched = true;
		off = start;
	} else {
		struct task_struct *t = (struct task_struct *)bpf_get_current_task();
		struct dentry *d;
		struct vfsmount *m;

		if (dfd == AT_FDCWD) {
			d = BPF_CORE_READ(t, fs, pwd.dentry);
			m = BPF_CORE_READ(t, fs, pwd.mnt);
		} else {
			struct file *f = file_of_fd(dfd);

			if (!f)
				return;
			d = BPF_CORE_READ(f, f_path.dentry);
			m = BPF_CORE_READ(f, f_path.mnt);
		}
		/* the base, in what "/" and the string leave of the room */
		resolve_path(s, d, m, start, n < PATH_ROOM ? PATH_ROOM - n : 0, out);
		if (!out->watched) {
			bpf_loop(STR_MAX, dotdot_step, &p, 0);
			if (!p.hit)
				return;
			/* may climb into a watched tree: pass the string as
			 * given, the collector joins it to the cwd */
			out->watched = true;
			out->watch_id = 0;
			off = start;
			goto copy;
		}
		if (out->suffix_off == CT_SUFFIX_UNKNOWN) {
			off = start;
			goto copy;
		}
		off = start + out->len;
		if (out->len == 1 && !out->truncated)
			off = start;	/* base is "/" */
		s->ev.paths[masked(off, PATHS_MASK)] = '/';
		off++;
	}
copy:
	if (off + (__u32)n - 1 > start + PATH_ROOM) {
		out->truncated = true;
		n = start + PATH_ROOM - off + 1;
		if (n <= 1)
			return;
	}
	if (n > STR_MAX)
		n = STR_MAX;
	bpf_probe_read_kernel_str(&s->ev.paths[masked(off, PATHS_MASK)], n, s->str);
	out->len = off + (n - 1) - start;
}

/*
 * resolve_string as a global function: the verifier checks it once per
 * program instead of once per call site (rename and link resolve two
 * paths), which keeps the load time of the probe set low.
 */
__noinline int resolve_string_global(int dfd, __u64 upath, __u32 start, __u32 which)
{
	struct ct_file_scratch *s = scratch();
	struct resolved r = {};

	if (!s)
		return 0;
	resolve_string(s, dfd, (const char *)upath, start & (CT_FILE_PATH_MAX - 1), &r);
	s->res[which & 1] = r;
	return r.watched;
}

/* A path string as given (not watched itself), at paths[start]. */
static __always_inline void raw_string(struct ct_file_scratch *s, const char *upath, __u32 start,
				       struct resolved *out)
{
	long n = bpf_probe_read_user_str(&s->ev.paths[masked(start, PATHS_MASK)],
					 PATH_ROOM + 1, upath);

	out->len = n > 1 ? n - 1 : 0;
	out->watch_id = 0;
	out->suffix_off = 0;
}

#endif /* CT_PATH_WALK_BPF_H */
