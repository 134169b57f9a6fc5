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

struct walk_ctx {
	struct dentry *dentry;
	struct mount *mnt;
	struct dentry *mnt_root;
	__u32 n;                 /* names recorded in scratch->names */
	__s32 match_n;           /* n when the watch matched, -1 = none */
	__u32 watch_id;
	__u8 truncated;
};

static __always_inline struct mount *real_mount(struct vfsmount *m)
{
	return (struct mount *)((void *)m - bpf_core_field_offset(struct mount, mnt));
}

static long walk_step(__u32 i, struct walk_ctx *w)
{
	struct ct_file_scratch *s = scratch();
	struct dentry *d = w->dentry, *parent;
	__u32 idx = w->n;

	if (!s || !d)
		return 1;
	if (w->match_n < 0) {
		struct ct_watch_key k = {};
		__u32 *id;

		k.ino = BPF_CORE_READ(d, d_inode, i_ino);
		k.dev = BPF_CORE_READ(d, d_sb, s_dev);
		id = bpf_map_lookup_elem(&ct_watch, &k);
		if (id) {
			w->match_n = w->n;
			w->watch_id = *id;
		}
	}
	parent = BPF_CORE_READ(d, d_parent);
	if (d == w->mnt_root || d == parent) {
		struct mount *m = w->mnt;
		struct mount *pm = BPF_CORE_READ(m, mnt_parent);

		if (!pm || pm == m)
			return 1;	/* the root of this mount namespace */
		w->dentry = BPF_CORE_READ(m, mnt_mountpoint);
		w->mnt = pm;
		w->mnt_root = BPF_CORE_READ(pm, mnt.mnt_root);
		return 0;
	}
	if (idx >= CT_FILE_DEPTH) {
		w->truncated = 1;
		return 1;
	}
	asm volatile("" : "+r"(idx));
	s->names[idx & (NAMES_SLOTS - 1)] = d;
	w->n = idx + 1;
	w->dentry = parent;
	return 0;
}

struct build_ctx {
	__u32 n;
	__s32 match_n;
	__u32 start, off;
	__u32 suffix_off;
	__u8 truncated;
};

/* Append "/name" for names[n-1-i]: top-down. */
static long build_step(__u32 i, struct build_ctx *b)
{
	struct ct_file_scratch *s = scratch();
	__u32 j = b->n - 1 - i;
	struct dentry *d;
	const unsigned char *name;
	__u32 off = b->off;
	long r;

	if (!s || i >= b->n)
		return 1;
	if ((__s32)j == b->match_n - 1)
		b->suffix_off = off - b->start;
	if (off + 1 + NAME_READ > b->start + CT_FILE_PATH_MAX) {
		b->truncated = 1;
		return 1;
	}
	asm volatile("" : "+r"(j));	/* keep the mask: the verifier needs it */
	d = s->names[j & (NAMES_SLOTS - 1)];
	name = BPF_CORE_READ(d, d_name.name);
	s->ev.paths[masked(off, PATHS_MASK)] = '/';
	off++;
	r = bpf_probe_read_kernel_str(&s->ev.paths[masked(off, PATHS_MASK)], NAME_READ, name);
	if (r > 1)
		off += r - 1;
	b->off = off;
	return 0;
}


/* Walk a struct path up to the namespace root; write it at paths[start]. */
static __always_inline void resolve_path(struct ct_file_scratch *s, struct dentry *dentry,
					 struct vfsmount *vfsmnt, __u32 start,
					 struct resolved *out)
{
	struct walk_ctx w = {};
	struct build_ctx b = {};

	w.dentry = dentry;
	w.mnt = real_mount(vfsmnt);
	w.mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
	w.match_n = -1;
	bpf_loop(CT_FILE_DEPTH + 16, walk_step, &w, 0);

	out->watched = w.match_n >= 0;
	out->watch_id = w.watch_id;
	out->truncated = w.truncated;
	out->len = 0;
	out->suffix_off = 0;
	if (!out->watched)
		return;
	b.n = w.n;
	b.match_n = w.match_n;
	b.start = start;
	b.off = start;
	if (w.n == 0) {
		s->ev.paths[masked(start, PATHS_MASK)] = '/';
		b.off = start + 1;
	} else {
		bpf_loop(CT_FILE_DEPTH, build_step, &b, 0);
	}
	out->len = b.off - start;
	/* the watched dentry is the file itself: nothing below it */
	out->suffix_off = w.match_n == 0 ? out->len : b.suffix_off;
	out->truncated |= b.truncated;
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
 * relative one climbs with ".." (the collector decides those).
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
		resolve_path(s, d, m, start, out);
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
		off = start + out->len;
		if (out->len == 1)
			off = start;	/* base is "/" */
		s->ev.paths[masked(off, PATHS_MASK)] = '/';
		off++;
	}
copy:
	if (off + (__u32)n > start + CT_FILE_PATH_MAX) {
		out->truncated = true;
		n = start + CT_FILE_PATH_MAX - off;
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
					 CT_FILE_PATH_MAX, upath);

	out->len = n > 1 ? n - 1 : 0;
	out->watch_id = 0;
	out->suffix_off = 0;
}

#endif /* CT_PATH_WALK_BPF_H */
