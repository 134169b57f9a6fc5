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
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "maps.bpf.h"
#include "task.bpf.h"
#include "syscall_args.bpf.h"

extern const volatile __u32 ct_agent_tgid __weak;

#define AT_FDCWD        (-100)
#define AT_REMOVEDIR    0x200
#define O_ACCMODE       3
#define O_CREAT         0100
#define O_TRUNC         01000
#define O_APPEND        02000
#define FMODE_WRITE     0x2
#define RENAME_EXCHANGE 2
#define PATHS_MASK      (2 * CT_FILE_PATH_MAX - 1)
#define NAME_READ       256     /* NAME_MAX + NUL */
#define STR_MAX         CT_FILE_PATH_MAX
#define NAMES_SLOTS     64

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CT_WATCH_MAX);
	__type(key, struct ct_watch_key);
	__type(value, __u32);    /* watch index + 1 */
} ct_watch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CT_WATCH_PREFIX_MAX);
	__type(key, __u32);
	__type(value, struct ct_watch_prefix);
} ct_watch_prefix SEC(".maps");

/*
 * Files open for write on a watched path (struct file address). A plain
 * hash: an LRU update cost twice as much (its free-list pop was the
 * largest single cost of a watched open), and LRU eviction took live
 * entries, writes counted nowhere. Entries go at close(2); those closed
 * another way (exit, dup2 over the fd) are reused with the address or
 * swept by the collector (sweep_wfiles in user/collector/event_file.c); a full
 * map is counted.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct ct_wfile);
} ct_wfiles SEC(".maps");

/* (process, fd) -> the ct_wfiles file it holds (struct ct_wfd). As large
 * as ct_wfiles: one entry per tracked open. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct ct_wfd_key);
	__type(value, struct ct_wfd);
} ct_wfds SEC(".maps");

/* Bursts of one process rewriting one file (see struct ct_wburst): the
 * collector creates and deletes entries, probes only update them. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CT_WBURST_MAX);
	__type(key, struct ct_wburst_key);
	__type(value, struct ct_wburst);
} ct_wbursts SEC(".maps");

/*
 * Processes that opened a watched file for write: the only ones whose
 * write() and close() are looked at. Task storage on the thread-group
 * leader: every write and close on the host asks, and for a process that
 * never wrote a watched file the answer is a pointer test (a hash lookup
 * by tgid cost ~40 ns there); the mark goes with the process, never
 * evicted while it lives (an LRU of tgids lost writers past its size).
 */
struct ct_writer {
	/*
	 * A reopen folded into a burst (a tool rewriting a file in a loop)
	 * is followed here, not in ct_wfiles: its write() and close() find
	 * it without a hash lookup, and it costs no map update and delete
	 * per loop. One per process at a time (claimed by compare-and-swap;
	 * a second one goes to ct_wfiles). An address left here by a file
	 * closed without close(2) is taken back by the next open there.
	 */
	__u64 burst_file;        /* struct file address, 0 = free */
	__u32 burst_writes;
	__u32 burst_slot;        /* deploy slot at open: names its burst */
	__s32 burst_fd;          /* its fd: close(2) is seen after the fd is gone */
	__u32 burst_dev;         /* its inode, for the burst at close (the */
	__u64 burst_ino;         /*   struct file may be freed by then) */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ct_writer);
} ct_writers SEC(".maps");

static __always_inline struct ct_writer *writer_of_current(__u64 flags)
{
	struct task_struct *t = bpf_get_current_task_btf();

	return bpf_task_storage_get(&ct_writers, t->group_leader, 0, flags);
}

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

struct resolved {
	__u32 len;               /* bytes written at start */
	__u32 watch_id;          /* +1; 0 = none */
	__u32 suffix_off;
	bool watched;
	bool truncated;
};

struct ct_file_scratch {
	struct ct_file_event ev;
	char spill[CT_FILE_PATH_MAX + 8]; /* masked writes near the end land here */
	struct dentry *names[NAMES_SLOTS];  /* power of 2 >= CT_FILE_DEPTH, for masking */
	char str[STR_MAX];               /* a user path string */
	struct resolved res[2];          /* results of resolve_string_global */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ct_file_scratch);
} ct_file_scratch_map SEC(".maps");

/* off & mask that the compiler cannot drop (the verifier needs to see it) */
static __always_inline __u32 masked(__u32 off, __u32 mask)
{
	asm volatile("" : "+r"(off));
	return off & mask;
}

static __always_inline struct ct_file_scratch *scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ct_file_scratch_map, &zero);
}

static __always_inline bool is_agent(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == ct_agent_tgid;
}

/* Read-only view of a kernel object whose address was read as a number:
 * plain loads through it are single guarded instructions, where
 * BPF_CORE_READ costs a helper call per step. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/* The struct file behind fd, as such a view (or NULL). One helper call:
 * the fd array is an array of pointers, which BTF loads cannot index. */
static __always_inline struct file *file_of_fd(int fd)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct fdtable *fdt = t->files->fdt;
	struct file *f = NULL;

	if (fd < 0 || (unsigned int)fd >= fdt->max_fds)
		return NULL;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fdt->fd[fd]) || !f)
		return NULL;
	return bpf_rdonly_cast(f, bpf_core_type_id_kernel(struct file));
}

/* ---------------------------------------------------------------- walk */

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
 * instead of walking to the root.
 */
struct dir_path {
	struct dir_verdict id;   /* as for unwatched directories */
	__u32 watch_id;
	__u16 suffix_off;
	__u16 len;               /* bytes of path, no trailing '/' ("" for "/") */
	char path[CT_FILE_PATH_MAX];
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
	if (len > CT_FILE_PATH_MAX - 1 - NAME_READ)
		return false;
	if (len)
		bpf_probe_read_kernel(s->ev.paths, masked(len, CT_FILE_PATH_MAX - 1), v->path);
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
	if (len > CT_FILE_PATH_MAX - 1 - NAME_READ || r->suffix_off > len)
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
		bpf_probe_read_kernel(v->path, masked(len, CT_FILE_PATH_MAX - 1), s->ev.paths);
	bpf_map_update_elem(&ct_watched_dirs, k, v, BPF_ANY);
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

/* ------------------------------------------------------------- record */

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
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	return begin_in_attr(s, op, ret, bpf_map_lookup_elem(&ct_tasks, &tgid));
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
	attr = bpf_map_lookup_elem(&ct_tasks, &tgid);
	if (attr)
		s->ev.task.attr = *attr;
	reset_record(s, CT_FOP_CLOSE, 0);
	s->ev.file_id = file_id;
	s->ev.file_open_ns = wf->open_ns;
	s->ev.writes = wf->writes;
	return s;
}

/* wakeup: the ring's flag when the backlog crosses no threshold (see
 * ct_change_submit_flags) */
static __always_inline void submit_flags(struct ct_file_scratch *s, __u64 wakeup)
{
	__u64 size = offsetof(struct ct_file_event, paths) + s->ev.path0_len + s->ev.path1_len;
	struct ct_task_attr *attr;

	asm volatile("" : "+r"(size));
	if (size > sizeof(struct ct_file_event))
		size = sizeof(struct ct_file_event);
	s->ev.hdr.size = size;
	ct_count(CT_CNT_SEEN_FILE);
	if (s->ev.flags & CT_FF_TRUNCATED)
		ct_count(CT_CNT_FILE_PATH_TRUNC);
	if (bpf_ringbuf_output(&ct_change_rb, &s->ev, size, ct_change_submit_flags(size, wakeup)))
		ct_count(CT_CNT_DROP_FILE);
	/* a halted deploy's task is stopped at its next change */
	attr = &s->ev.task.attr;
	if (attr->deploy_slot)
		ct_enforce_deploy_flags(attr);
}

/* Default wakeup (when the collector has consumed everything), forced
 * when the backlog crosses a quarter of the ring: a close record leaves
 * the collector behind without waking it (see ct_exit_close). */
static __always_inline void submit(struct ct_file_scratch *s)
{
	submit_flags(s, 0);
}

static __always_inline void set_path0(struct ct_file_scratch *s, struct resolved *r)
{
	s->ev.path0_len = r->len > CT_FILE_PATH_MAX ? CT_FILE_PATH_MAX : r->len;
	s->ev.watch_id = r->watch_id;
	s->ev.suffix_off = r->suffix_off;
	if (r->truncated)
		s->ev.flags |= CT_FF_TRUNCATED;
}

/* An fd-based change: the struct file names the file exactly. */
static __always_inline int fd_change(__u16 op, int fd, long ret, __u32 mode,
				     __u32 uid, __u32 gid, const char *xattr)
{
	struct ct_file_scratch *s;
	struct resolved r;
	struct file *f;

	if (is_agent())
		return 0;
	f = file_of_fd(fd);
	if (!f)
		return 0;
	s = scratch();
	if (!s)
		return 0;
	resolve_path(s, BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(f, f_path.mnt), 0, &r);
	if (!r.watched)
		return 0;
	if (ret) {
		ct_count(CT_CNT_FILE_FAILED);
		return 0;
	}
	begin_in(s, op, ret);
	set_path0(s, &r);
	s->ev.flags |= CT_FF_FD;
	s->ev.file_id = (__u64)f;
	s->ev.ino = BPF_CORE_READ(f, f_inode, i_ino);
	s->ev.dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	s->ev.mode = mode;
	s->ev.uid = uid;
	s->ev.gid = gid;
	if (xattr)
		bpf_probe_read_user_str(s->ev.xattr, sizeof(s->ev.xattr), xattr);
	submit(s);
	return 0;
}

/* A path-based change; path1 (rename/link source, symlink target) optional. */
static __always_inline int path_change(__u16 op, long ret, int dfd0, const char *p0,
				       int dfd1, const char *p1, bool p1_raw,
				       __u32 mode, __u32 uid, __u32 gid, const char *xattr,
				       __u16 flags)
{
	struct ct_file_scratch *s;
	struct resolved r0, r1 = {};

	if (is_agent())
		return 0;
	s = scratch();
	if (!s)
		return 0;
	resolve_string_global(dfd0, (__u64)p0, 0, 0);
	r0 = s->res[0];
	if (p1 && !r0.watched)
		raw_string(s, p0, 0, &r0);	/* the other end of a move out */
	if (r0.len > CT_FILE_PATH_MAX)
		r0.len = CT_FILE_PATH_MAX;
	if (p1) {
		if (p1_raw) {
			/* a symlink target is stored as given, never resolved */
			raw_string(s, p1, r0.len, &r1);
		} else {
			resolve_string_global(dfd1, (__u64)p1, r0.len, 1);
			r1 = s->res[1];
			if (!r1.watched)
				raw_string(s, p1, r0.len, &r1);	/* moved in from */
		}
	}
	if (!r0.watched && !(r1.watched && !p1_raw))
		return 0;
	if (ret) {
		ct_count(CT_CNT_FILE_FAILED);
		return 0;
	}
	begin_in(s, op, ret);
	set_path0(s, &r0);
	s->ev.path1_len = r1.len > CT_FILE_PATH_MAX ? CT_FILE_PATH_MAX : r1.len;
	s->ev.watch_id1 = r1.watch_id;
	s->ev.suffix_off1 = r1.suffix_off;
	if (r1.truncated)
		s->ev.flags |= CT_FF_TRUNCATED;
	s->ev.flags |= flags;
	s->ev.mode = mode;
	s->ev.uid = uid;
	s->ev.gid = gid;
	if (xattr)
		bpf_probe_read_user_str(s->ev.xattr, sizeof(s->ev.xattr), xattr);
	submit(s);
	return 0;
}

/* ------------------------------------------------------------- bursts */

/* Follow an open file's writes and close; its process joins the writers
 * whose write() and close() are looked at. */
static __always_inline void track_wfile(__u64 key, const struct ct_wfile *wf,
					const struct ct_wfd_key *fk, const struct ct_wfd *fd)
{
	struct ct_writer *w = writer_of_current(BPF_LOCAL_STORAGE_GET_F_CREATE);
	__u64 was;

	if (!w) {
		ct_count(CT_CNT_FILE_TRACK_FULL);	/* no memory: its writes go uncounted */
		return;
	}
	/* a folded open left behind (closed at exit or by dup2) at this
	 * address, or at this fd: a close of the fd now is this file's */
	was = w->burst_file;
	if (was && (was == key || w->burst_fd == fk->fd))
		__sync_val_compare_and_swap(&w->burst_file, was, 0);
	if (bpf_map_update_elem(&ct_wfiles, &key, wf, BPF_ANY) ||
	    bpf_map_update_elem(&ct_wfds, fk, fd, BPF_ANY))
		ct_count(CT_CNT_FILE_TRACK_FULL);
}

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
	attr = bpf_map_lookup_elem(&ct_tasks, &tgid);
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
		resolve_path(s, BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(f, f_path.mnt), 0, &r);
		if (!r.watched) {
			if (cacheable)
				remember_unwatched(&k, parent, gen);
			return 0;
		}
		if (cacheable)
			remember_watched(s, dentry, &k, parent, &r, gen);
	}
	begin_in_attr(s, CT_FOP_WRITE, 0, attr);
	set_path0(s, &r);
	s->ev.flags |= CT_FF_FD;
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
 * changed nothing and is not counted. */
static __always_inline int count_write(long ret)
{
	struct ct_writer *w = writer_of_current(0);
	struct ct_wfile *wf;
	struct file *f;
	__u64 key, now;

	if (!w || ret < 0)
		return 0;
	f = file_of_fd(ct_sc_arg(0));
	key = (__u64)f;
	if (f && w->burst_file == key) {
		__sync_fetch_and_add(&w->burst_writes, 1);
		return 0;
	}
	wf = f ? bpf_map_lookup_elem(&ct_wfiles, &key) : NULL;
	if (!wf)
		return 0;
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
	return count_write(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_pwrite64")
int ct_exit_pwrite64(struct trace_event_raw_sys_exit *ctx)
{
	return count_write(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_writev")
int ct_exit_writev(struct trace_event_raw_sys_exit *ctx)
{
	return count_write(ctx->ret);
}

/* Older kernels count struct file references in f_count. */
struct file___old {
	atomic_long_t f_count;
} __attribute__((preserve_access_index));

/*
 * After close(2): did it drop the file's last reference (no dup'd fd, no
 * fork sharing it)? close(2) frees the file before it returns (older
 * kernels drop the count and free it on the way back to user space, after
 * this tracepoint), so the count reads as released. The memory stays a
 * struct file (its cache is type-safe by RCU): a file reallocated there
 * meanwhile reads as referenced, and the collector finds it closed later
 * from /proc, a late report, never a wrong one.
 */
static __always_inline bool released(__u64 key)
{
	struct file *f = bpf_rdonly_cast((void *)key, bpf_core_type_id_kernel(struct file));

	if (bpf_core_field_exists(f->f_ref))
		/* file_ref_t: 0 is one reference; negative once released */
		return f->f_ref.refcnt.counter < 0;
	return BPF_CORE_READ((struct file___old *)f, f_count.counter) <= 0;
}

/* ---- a close(2) that left the file open through another fd */

#define FD_SCAN_MAX 1024

struct fd_scan {
	__u64 fds;               /* the fd table's array of struct file pointers */
	__u64 file;
	__u32 max;
	__s32 found;
};

static long fd_scan_step(__u32 i, struct fd_scan *sc)
{
	__u64 f = 0;

	if (i >= sc->max)
		return 1;
	bpf_probe_read_kernel(&f, sizeof(f), (void *)(sc->fds + i * sizeof(f)));
	if (f == sc->file) {
		sc->found = i;
		return 1;
	}
	return 0;
}

/*
 * The lowest other fd of this process that holds the file (a dup: shell
 * redirections, daemons that move their config fd), or -1. Its close is
 * then this file's: the fd it was opened at is gone from the table. Only on
 * a close(2) that was not the last reference, so the scan is rare; an fd
 * held by another process (fork) is not followed, and that file is found
 * closed by the collector.
 */
static __always_inline int other_fd_of(__u64 file)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct fdtable *fdt = t->files->fdt;
	struct fd_scan sc = {
		.fds = (__u64)fdt->fd, .file = file, .max = fdt->max_fds, .found = -1,
	};

	bpf_loop(FD_SCAN_MAX, fd_scan_step, &sc, 0);
	return sc.found;
}

/* The slot's file, as a ct_wfd (what the burst helpers take). */
static __always_inline void slot_wfd(const struct ct_writer *w, struct ct_wfd *fd)
{
	fd->file = w->burst_file;
	fd->ino = w->burst_ino;
	fd->dev = w->burst_dev;
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

SEC("tracepoint/syscalls/sys_exit_ftruncate")
int ct_exit_ftruncate(struct trace_event_raw_sys_exit *ctx)
{
	return fd_change(CT_FOP_TRUNCATE, ct_sc_arg(0), ctx->ret, 0, -1, -1, NULL);
}

SEC("tracepoint/syscalls/sys_exit_fchmod")
int ct_exit_fchmod(struct trace_event_raw_sys_exit *ctx)
{
	return fd_change(CT_FOP_CHMOD, ct_sc_arg(0), ctx->ret, ct_sc_arg(1), -1, -1, NULL);
}

SEC("tracepoint/syscalls/sys_exit_fchown")
int ct_exit_fchown(struct trace_event_raw_sys_exit *ctx)
{
	return fd_change(CT_FOP_CHOWN, ct_sc_arg(0), ctx->ret, 0, ct_sc_arg(1), ct_sc_arg(2), NULL);
}

SEC("tracepoint/syscalls/sys_exit_fsetxattr")
int ct_exit_fsetxattr(struct trace_event_raw_sys_exit *ctx)
{
	return fd_change(CT_FOP_SETXATTR, ct_sc_arg(0), ctx->ret, 0, -1, -1, (const char *)ct_sc_arg(1));
}

SEC("tracepoint/syscalls/sys_exit_fremovexattr")
int ct_exit_fremovexattr(struct trace_event_raw_sys_exit *ctx)
{
	return fd_change(CT_FOP_SETXATTR, ct_sc_arg(0), ctx->ret, 0, -1, -1, (const char *)ct_sc_arg(1));
}

/* ---------------------------------------------------- path-based ops */

#define P(n) ((const char *)ct_sc_arg(n))

SEC("tracepoint/syscalls/sys_exit_renameat2")
int ct_exit_renameat2(struct trace_event_raw_sys_exit *ctx)
{
	__u16 fl = (ct_sc_arg(4) & RENAME_EXCHANGE) ? CT_FF_EXCHANGE : 0;
	long ret = ctx->ret;

	asm volatile("" : "+r"(ret));	/* one ctx read: the verifier refuses a moved ctx pointer */
	if (ret == 0 && !is_agent())
		bump_walk_gen();
	return path_change(CT_FOP_RENAME, ret, ct_sc_arg(2), P(3), ct_sc_arg(0), P(1), false,
			   0, -1, -1, NULL, fl);
}

SEC("tracepoint/syscalls/sys_exit_renameat")
int ct_exit_renameat(struct trace_event_raw_sys_exit *ctx)
{
	long ret = ctx->ret;

	asm volatile("" : "+r"(ret));	/* one ctx read: the verifier refuses a moved ctx pointer */
	if (ret == 0 && !is_agent())
		bump_walk_gen();
	return path_change(CT_FOP_RENAME, ret, ct_sc_arg(2), P(3), ct_sc_arg(0), P(1), false,
			   0, -1, -1, NULL, 0);
}

SEC("tracepoint/syscalls/sys_exit_rename")
int ct_exit_rename(struct trace_event_raw_sys_exit *ctx)
{
	long ret = ctx->ret;

	asm volatile("" : "+r"(ret));	/* one ctx read: the verifier refuses a moved ctx pointer */
	if (ret == 0 && !is_agent())
		bump_walk_gen();
	return path_change(CT_FOP_RENAME, ret, AT_FDCWD, P(1), AT_FDCWD, P(0), false,
			   0, -1, -1, NULL, 0);
}

SEC("tracepoint/syscalls/sys_exit_unlinkat")
int ct_exit_unlinkat(struct trace_event_raw_sys_exit *ctx)
{
	__u16 op = (ct_sc_arg(2) & AT_REMOVEDIR) ? CT_FOP_RMDIR : CT_FOP_UNLINK;

	return path_change(op, ctx->ret, ct_sc_arg(0), P(1), 0, NULL, false, 0, -1, -1, NULL, 0);
}

SEC("tracepoint/syscalls/sys_exit_unlink")
int ct_exit_unlink(struct trace_event_raw_sys_exit *ctx)
{
	return path_change(CT_FOP_UNLINK, ctx->ret, AT_FDCWD, P(0), 0, NULL, false, 0, -1, -1, NULL, 0);
}

SEC("tracepoint/syscalls/sys_exit_rmdir")
int ct_exit_rmdir(struct trace_event_raw_sys_exit *ctx)
{
	return path_change(CT_FOP_RMDIR, ctx->ret, AT_FDCWD, P(0), 0, NULL, false, 0, -1, -1, NULL, 0);
}

SEC("tracepoint/syscalls/sys_exit_mkdirat")
int ct_exit_mkdirat(struct trace_event_raw_sys_exit *ctx)
{
	return path_change(CT_FOP_MKDIR, ctx->ret, ct_sc_arg(0), P(1), 0, NULL, false, ct_sc_arg(2),
			   -1, -1, NULL, 0);
}

SEC("tracepoint/syscalls/sys_exit_mkdir")
int ct_exit_mkdir(struct trace_event_raw_sys_exit *ctx)
{
	return path_change(CT_FOP_MKDIR, ctx->ret, AT_FDCWD, P(0), 0, NULL, false, ct_sc_arg(1),
			   -1, -1, NULL, 0);
}

SEC("tracepoint/syscalls/sys_exit_linkat")
int ct_exit_linkat(struct trace_event_raw_sys_exit *ctx)
{
	return path_change(CT_FOP_LINK, ctx->ret, ct_sc_arg(2), P(3), ct_sc_arg(0), P(1), false,
			   0, -1, -1, NULL, 0);
}

SEC("tracepoint/syscalls/sys_exit_link")
int ct_exit_link(struct trace_event_raw_sys_exit *ctx)
{
	return path_change(CT_FOP_LINK, ctx->ret, AT_FDCWD, P(1), AT_FDCWD, P(0), false,
			   0, -1, -1, NULL, 0);
}

SEC("tracepoint/syscalls/sys_exit_symlinkat")
int ct_exit_symlinkat(struct trace_event_raw_sys_exit *ctx)
{
	return path_change(CT_FOP_SYMLINK, ctx->ret, ct_sc_arg(1), P(2), 0, P(0), true,
			   0, -1, -1, NULL, 0);
}

SEC("tracepoint/syscalls/sys_exit_symlink")
int ct_exit_symlink(struct trace_event_raw_sys_exit *ctx)
{
	return path_change(CT_FOP_SYMLINK, ctx->ret, AT_FDCWD, P(1), 0, P(0), true,
			   0, -1, -1, NULL, 0);
}

SEC("tracepoint/syscalls/sys_exit_fchmodat")
int ct_exit_fchmodat(struct trace_event_raw_sys_exit *ctx)
{
	return path_change(CT_FOP_CHMOD, ctx->ret, ct_sc_arg(0), P(1), 0, NULL, false, ct_sc_arg(2),
			   -1, -1, NULL, 0);
}

SEC("tracepoint/syscalls/sys_exit_fchmodat2")
int ct_exit_fchmodat2(struct trace_event_raw_sys_exit *ctx)
{
	return path_change(CT_FOP_CHMOD, ctx->ret, ct_sc_arg(0), P(1), 0, NULL, false, ct_sc_arg(2),
			   -1, -1, NULL, 0);
}

SEC("tracepoint/syscalls/sys_exit_chmod")
int ct_exit_chmod(struct trace_event_raw_sys_exit *ctx)
{
	return path_change(CT_FOP_CHMOD, ctx->ret, AT_FDCWD, P(0), 0, NULL, false, ct_sc_arg(1),
			   -1, -1, NULL, 0);
}

SEC("tracepoint/syscalls/sys_exit_fchownat")
int ct_exit_fchownat(struct trace_event_raw_sys_exit *ctx)
{
	return path_change(CT_FOP_CHOWN, ctx->ret, ct_sc_arg(0), P(1), 0, NULL, false, 0,
			   ct_sc_arg(2), ct_sc_arg(3), NULL, 0);
}

SEC("tracepoint/syscalls/sys_exit_chown")
int ct_exit_chown(struct trace_event_raw_sys_exit *ctx)
{
	return path_change(CT_FOP_CHOWN, ctx->ret, AT_FDCWD, P(0), 0, NULL, false, 0,
			   ct_sc_arg(1), ct_sc_arg(2), NULL, 0);
}

SEC("tracepoint/syscalls/sys_exit_lchown")
int ct_exit_lchown(struct trace_event_raw_sys_exit *ctx)
{
	return path_change(CT_FOP_CHOWN, ctx->ret, AT_FDCWD, P(0), 0, NULL, false, 0,
			   ct_sc_arg(1), ct_sc_arg(2), NULL, 0);
}

SEC("tracepoint/syscalls/sys_exit_truncate")
int ct_exit_truncate(struct trace_event_raw_sys_exit *ctx)
{
	return path_change(CT_FOP_TRUNCATE, ctx->ret, AT_FDCWD, P(0), 0, NULL, false, 0,
			   -1, -1, NULL, 0);
}

SEC("tracepoint/syscalls/sys_exit_setxattr")
int ct_exit_setxattr(struct trace_event_raw_sys_exit *ctx)
{
	return path_change(CT_FOP_SETXATTR, ctx->ret, AT_FDCWD, P(0), 0, NULL, false, 0,
			   -1, -1, P(1), 0);
}

SEC("tracepoint/syscalls/sys_exit_lsetxattr")
int ct_exit_lsetxattr(struct trace_event_raw_sys_exit *ctx)
{
	return path_change(CT_FOP_SETXATTR, ctx->ret, AT_FDCWD, P(0), 0, NULL, false, 0,
			   -1, -1, P(1), 0);
}

SEC("tracepoint/syscalls/sys_exit_removexattr")
int ct_exit_removexattr(struct trace_event_raw_sys_exit *ctx)
{
	return path_change(CT_FOP_SETXATTR, ctx->ret, AT_FDCWD, P(0), 0, NULL, false, 0,
			   -1, -1, P(1), CT_FF_REMOVEXATTR);
}

SEC("tracepoint/syscalls/sys_exit_lremovexattr")
int ct_exit_lremovexattr(struct trace_event_raw_sys_exit *ctx)
{
	return path_change(CT_FOP_SETXATTR, ctx->ret, AT_FDCWD, P(0), 0, NULL, false, 0,
			   -1, -1, P(1), CT_FF_REMOVEXATTR);
}

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
