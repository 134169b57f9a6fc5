/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Verdicts of the path walk kept per directory: "no watch above" for the
 * unwatched ones, the path for the watched ones, so an open in a directory
 * seen before walks nothing.
 */
#ifndef CT_DIR_CACHE_BPF_H
#define CT_DIR_CACHE_BPF_H

#include "file_scratch.bpf.h"
#include "path_walk.bpf.h"

/* ------------------------------------------- unwatched-directory cache */

/*
 * Most writes on a host land in directories with no watched ancestor (logs,
 * databases, /tmp). Walking to the root to learn that again on every open
 * is most of the cost of an unwatched write, so "no watch above this
 * directory" is remembered per (mount, directory) and trusted only while
 * ct_walk_gen is unchanged. The generation moves whenever an ancestry may
 * have changed: any rename (a directory may have moved under a watch), any
 * change of the mount tree, and every watch-list install by the agent. The
 * inode kept with the verdict guards against a freed dentry's address
 * being reused; the mount is named by its never-reused id where the kernel
 * has one.
 */
__u32 ct_walk_gen;
/* Set by the agent once every probe that moves the generation is attached. */
__u32 ct_walk_cache_on;
/* Watches that are files, not directories (set by the agent before it fills
 * ct_watch): while there are none, a file in an unwatched directory is
 * unwatched without looking itself up (the default list is directories). */
__u32 ct_watch_files;

struct dir_key {
	__u64 mnt;
	__u64 dentry;
};

struct dir_verdict {
	__u64 ino;
	__u32 dev;
	__u32 gen;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct dir_key);
	__type(value, struct dir_verdict);
} ct_unwatched_dirs SEC(".maps");

struct mount___unique {
	__u64 mnt_id_unique;
} __attribute__((preserve_access_index));

static __always_inline __u32 walk_gen(void)
{
	return *(volatile __u32 *)&ct_walk_gen;
}

/* The rename probes skip the agent's own renames: it renames only files
 * (store blobs, registry, indexes), which move no directory, and does so
 * after every settled change, which would drop every verdict each time. */
static __always_inline void bump_walk_gen(void)
{
	__sync_fetch_and_add(&ct_walk_gen, 1);
}

/* Key of the directory holding `d`; false when the cache is off or there
 * is nothing to cache (d is a mount root). d and vfsmnt are BTF views (see
 * file_of_fd), as for every function of the two caches. */
static __always_inline bool dir_key_of(struct dentry *d, struct vfsmount *vfsmnt,
				       struct dir_key *k, struct dentry **parent)
{
	struct mount___unique *m;

	if (!*(volatile __u32 *)&ct_walk_cache_on)
		return false;
	*parent = d->d_parent;
	if (*parent == d || d == vfsmnt->mnt_root)
		return false;
	m = bpf_rdonly_cast(real_mount(vfsmnt), bpf_core_type_id_kernel(struct mount));
	if (bpf_core_field_exists(m->mnt_id_unique))
		k->mnt = m->mnt_id_unique;
	else
		k->mnt = (__u64)m;
	k->dentry = (__u64)*parent;
	return true;
}

/* Known unwatched: the file itself is not watched and its directory (k,
 * parent from dir_key_of) has a current negative verdict. */
static __always_inline bool known_unwatched(struct dentry *d, struct dir_key *k,
					    struct dentry *parent)
{
	struct ct_watch_key wk = {};
	struct dir_verdict *v;

	v = bpf_map_lookup_elem(&ct_unwatched_dirs, k);
	if (!v || v->gen != walk_gen())
		return false;
	wk.ino = d->d_inode->i_ino;
	wk.dev = d->d_sb->s_dev;
	if (*(volatile __u32 *)&ct_watch_files && bpf_map_lookup_elem(&ct_watch, &wk))
		return false;	/* a watched file in an unwatched directory */
	return v->dev == wk.dev && v->ino == parent->d_inode->i_ino;
}

/* gen: ct_walk_gen as read before the walk that found nothing, so a
 * rename or mount during the walk leaves the verdict stale, not wrong. */
static __always_inline void remember_unwatched(struct dir_key *k, struct dentry *parent,
					       __u32 gen)
{
	struct dir_verdict v = {};

	v.ino = parent->d_inode->i_ino;
	v.dev = parent->d_sb->s_dev;
	v.gen = gen;
	bpf_map_update_elem(&ct_unwatched_dirs, k, &v, BPF_ANY);
}

/* --------------------------------------------- watched-directory cache */

/*
 * A config file is usually rewritten in the same directory again and again
 * (an editor, a deploy loop, a config agent). The directory's path is kept
 * under the same generation rule as the unwatched verdicts, so a watched
 * open builds its path from the cached directory and the file's own name
 * instead of walking to the root. Directories with paths longer than
 * DIR_PATH_MAX are walked every time: rare, and they would make every
 * entry larger.
 */
#define DIR_PATH_MAX 1024

struct dir_path {
	struct dir_verdict id;   /* as for unwatched directories */
	__u32 watch_id;
	__u16 suffix_off;
	__u16 len;               /* bytes of path, no trailing '/' ("" for "/") */
	char path[DIR_PATH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct dir_key);
	__type(value, struct dir_path);
} ct_watched_dirs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dir_path);
} ct_dir_path_scratch SEC(".maps");

/* paths[0] = cached directory + "/" + the file's name, when current. */
static __always_inline bool cached_watched_path(struct ct_file_scratch *s, struct dentry *d,
						struct dir_key *k, struct dentry *parent,
						struct resolved *out)
{
	struct ct_watch_key wk = {};
	struct dir_path *v;
	__u32 len;
	long n;

	v = bpf_map_lookup_elem(&ct_watched_dirs, k);
	if (!v || v->id.gen != walk_gen())
		return false;
	wk.ino = d->d_inode->i_ino;
	wk.dev = d->d_sb->s_dev;
	if (v->id.dev != wk.dev || v->id.ino != parent->d_inode->i_ino)
		return false;
	if (bpf_map_lookup_elem(&ct_watch, &wk))
		return false;	/* the file is watched itself: the walk says so */
	len = v->len;
	if (len > DIR_PATH_MAX - 1)
		return false;
	if (len)
		bpf_probe_read_kernel(s->ev.paths, masked(len, DIR_PATH_MAX - 1), v->path);
	s->ev.paths[masked(len, PATHS_MASK)] = '/';
	n = bpf_probe_read_kernel_str(&s->ev.paths[masked(len + 1, PATHS_MASK)], NAME_READ,
				      d->d_name.name);
	if (n <= 1)
		return false;
	out->len = len + n;
	out->watched = true;
	out->watch_id = v->watch_id;
	out->suffix_off = v->suffix_off;
	out->truncated = false;
	return true;
}

/* After a walk that found d watched through a directory: keep that
 * directory's part of paths[0]. gen as for remember_unwatched. */
static __always_inline void remember_watched(struct ct_file_scratch *s, struct dentry *d,
					     struct dir_key *k, struct dentry *parent,
					     const struct resolved *r, __u32 gen)
{
	struct dir_path *v;
	__u32 zero = 0, name_len, len;

	/* truncated, or the file itself is the watch (nothing below it) */
	if (r->truncated || r->suffix_off >= r->len)
		return;
	name_len = d->d_name.len;
	if (name_len + 1 > r->len)
		return;
	len = r->len - 1 - name_len;
	if (len > DIR_PATH_MAX - 1 || r->suffix_off > len)
		return;
	v = bpf_map_lookup_elem(&ct_dir_path_scratch, &zero);
	if (!v)
		return;
	v->id.ino = parent->d_inode->i_ino;
	v->id.dev = parent->d_sb->s_dev;
	v->id.gen = gen;
	v->watch_id = r->watch_id;
	v->suffix_off = r->suffix_off;
	v->len = len;
	if (len)
		bpf_probe_read_kernel(v->path, masked(len, DIR_PATH_MAX - 1), s->ev.paths);
	bpf_map_update_elem(&ct_watched_dirs, k, v, BPF_ANY);
}

#endif /* CT_DIR_CACHE_BPF_H */
