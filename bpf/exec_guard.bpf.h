/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Exec rules, decided in the exec probe (ct_exec), where a signal stops or
 * kills the new program before its first instruction.
 *
 * Every exec on the host passes here, so the common case is a load and a
 * branch: ct_xr_state says whether any rule can apply to an unattributed
 * (drift) or an attributed process at all. Past that, a rule is found by
 * name: one hash lookup for the name of the file the kernel loaded (the
 * real binary, or a script's interpreter) and one for the name it was
 * invoked by (a symlink's, a script's; the kernel has just put it in
 * comm) when the two differ. Only a command some rule names costs more:
 * its argv is read, each candidate's conditions are tested on the
 * process's facts, then its argument globs, and its resolved path only
 * for a rule that names a path.
 *
 * For the verifier: the matching state lives in the per-CPU scratch map,
 * not on the stack (the exec probe's stack is nearly full, and a loop
 * callback whose counters are exact on the stack is checked once per
 * value); the glob and a command's match are global functions, checked
 * once whatever calls them.
 *
 * The policy lives in two sets of maps (ct_xnames keyed by set, ct_xrules
 * indexed set * CT_XRULES_MAX + rule). The agent fills the set no probe
 * uses and flips ct_xr_state in one store: a probe reads it once, so every
 * exec is judged by one whole policy.
 */
#ifndef CT_EXEC_GUARD_BPF_H
#define CT_EXEC_GUARD_BPF_H

#include "changetrace.h"
#include "maps.bpf.h"
#include "task.bpf.h"

#define CT_SIGKILL 9
#define CT_SIGSTOP 19

/* Set by the agent (user/guard/exec_guard.c): CT_XR_*, generation above. */
__u32 ct_xr_state;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * CT_XRULES_MAX);
	__type(key, struct ct_xname_key);
	__type(value, __u64);     /* rules of that set naming this command */
} ct_xnames SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * CT_XRULES_MAX);
	__type(key, __u32);
	__type(value, struct ct_xrule);
} ct_xrules SEC(".maps");

/* What the rules test of each deploy (AI, approved, risk, scope). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CT_DEPLOY_SLOTS);
	__type(key, __u32);
	__type(value, struct ct_deploy_prov);
} ct_deploy_prov SEC(".maps");

/* Commands a deploy declared it runs (`--scope exec:CMD`). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, struct ct_xscope_key);
	__type(value, struct ct_xmatch);
} ct_deploy_xscope SEC(".maps");

/*
 * Scratch: one string area, indexes masked into it. argv tokens are read
 * one by one at their offsets (a token read may run up to CT_ARGS_LEN
 * past its start, hence twice CT_ARGS_LEN); then the filename as given
 * to execve, then the resolved path (names written up to XS_NAME_READ
 * past the path's end).
 */
#define XS_STR_LEN      4096
#define XS_MASK         (XS_STR_LEN - 1)
#define XS_ARGS         0
#define XS_FILENAME     (2 * CT_ARGS_LEN)
#define XS_PATH         (XS_FILENAME + CT_FILENAME_LEN)
#define XS_NAME_READ    256
#define XS_TOKENS       16        /* argv tokens located: program ones + CT_XARGS_MAX */
#define XS_DEPTH        32        /* path components of an executable */
#define XS_PAT_LEN      CT_XPATH_LEN
#define XS_NONE         0xffffffffu

struct glob_state {
	__u32 p, s, star, mark, plen, soff, slen;
	__s32 res;               /* 1 match, 0 no match, -1 unfinished */
};

struct xmatch_ctx {
	__u64 cand;              /* rules found by either name */
	__u64 by_file;           /* ...by the loaded file's name */
	__u64 by_invoked;        /* ...by the name it was invoked by */
	__u32 set, facts, slot, n_xscope;
	__u32 first_arg_file;    /* argv index of the first argument, per way */
	__u32 first_arg_invoked; /*   the command was recognised */
	__s32 out_of_scope;      /* -1 not known yet */
	__s32 hit;               /* matching rule, -1 none */
	__u8 action, via;
};

struct ct_xscratch {
	char str[XS_STR_LEN];
	char pat[XS_PAT_LEN];            /* the pattern being matched */
	__u64 dents[XS_DEPTH];           /* dentries of the path walk */
	struct ct_xname_key kf;          /* the loaded file's name */
	struct ct_xname_key ki;          /* the name it was invoked by */
	__u16 tok_off[XS_TOKENS];
	__u16 tok_len[XS_TOKENS];
	__u32 n_tok;
	__u32 filename_len;              /* bytes, NUL excluded */
	__u32 path_len;                  /* 0: not resolved */
	__u32 path_tried;                /* resolve_exe ran for this exec */
	__u64 file;                      /* bprm->file of this exec */
	__u32 abs_filename;              /* execve was given an absolute path */
	__u32 last_slash;
	struct glob_state glob;
	struct xmatch_ctx mc;            /* the exec being judged */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ct_xscratch);
} ct_xscratch_map SEC(".maps");

static __always_inline struct ct_xscratch *xscratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ct_xscratch_map, &zero);
}

/* off & mask that the compiler cannot drop (the verifier needs to see it) */
static __always_inline __u32 xmasked(__u32 off, __u32 mask)
{
	asm volatile("" : "+r"(off));
	return off & mask;
}

/* ------------------------------------------------------------ glob */

/*
 * Glob of scratch->pat (`*` any run of bytes, `?` one byte, the rest
 * literal) against str[soff, soff + slen): the linear backtracking match
 * (only the last `*` is ever revisited), one step per callback. Its state
 * lives in the scratch map, not on the stack: the verifier then sees the
 * same (unknown) state at every step and checks the step once.
 */
static long glob_step(__u32 i, void *unused)
{
	struct ct_xscratch *x = xscratch();
	struct glob_state *g;
	char pc = 0, sc;

	if (!x)
		return 1;
	g = &x->glob;
	if (g->p < g->plen)
		pc = x->pat[xmasked(g->p, XS_PAT_LEN - 1)];
	if (g->s < g->slen) {
		sc = x->str[xmasked(g->soff + g->s, XS_MASK)];
		if (g->p < g->plen && pc == '*') {
			g->star = g->p++;
			g->mark = g->s;
			return 0;
		}
		if (g->p < g->plen && (pc == '?' || pc == sc)) {
			g->p++;
			g->s++;
			return 0;
		}
		if (g->star != XS_NONE) {
			g->p = g->star + 1;
			g->s = ++g->mark;
			return 0;
		}
		g->res = 0;
		return 1;
	}
	if (g->p < g->plen && pc == '*') {
		g->p++;
		return 0;
	}
	g->res = g->p == g->plen;
	return 1;
}

/*
 * scratch->pat (plen bytes) against str[soff, soff + slen). Global, so
 * the verifier checks it once, not at every call.
 */
__noinline int ct_xglob(__u32 plen, __u32 soff, __u32 slen)
{
	struct ct_xscratch *x = xscratch();

	if (!x)
		return 0;
	x->glob.p = x->glob.s = x->glob.mark = 0;
	x->glob.star = XS_NONE;
	x->glob.plen = plen;
	x->glob.soff = soff;
	x->glob.slen = slen;
	x->glob.res = -1;
	/* each step moves p or s forward, or restarts after the last star:
	 * at most (plen + 1) * (slen + 1) steps */
	bpf_loop(1 << 18, glob_step, NULL, 0);
	return x->glob.res == 1;
}

/* ------------------------------------------------------------ reading */

struct eq_ctx {
	__u32 a, b, len;
	__s32 res;
};

static long eq_step(__u32 i, struct eq_ctx *c)
{
	struct ct_xscratch *x = xscratch();

	if (!x || i >= c->len)
		return 1;
	if (x->str[xmasked(c->a + i, XS_MASK)] != x->str[xmasked(c->b + i, XS_MASK)]) {
		c->res = 0;
		return 1;
	}
	return 0;
}

static __always_inline bool str_eq(__u32 a, __u32 b, __u32 len)
{
	struct eq_ctx c = { .a = a, .b = b, .len = len, .res = 1 };

	bpf_loop(CT_FILENAME_LEN, eq_step, &c, 0);
	return c.res == 1;
}

/* argv of the new image, token by token (user memory the kernel just
 * wrote: paged in). */
static __always_inline void read_tokens(struct ct_xscratch *x, struct task_struct *t)
{
	struct mm_struct *mm = t->mm;
	unsigned long start = mm->arg_start, end = mm->arg_end;
	__u32 len = end > start ? end - start : 0, off = 0;

	if (len > CT_ARGS_LEN)
		len = CT_ARGS_LEN;
	x->n_tok = 0;
	for (int i = 0; i < XS_TOKENS; i++) {
		long n;

		if (off >= len)
			break;
		n = bpf_probe_read_user_str(&x->str[xmasked(XS_ARGS + off, CT_ARGS_LEN - 1)],
					    CT_ARGS_LEN, (void *)(start + off));
		if (n <= 0)
			break;
		x->tok_off[i] = off;
		x->tok_len[i] = off + n - 1 > len ? len - off : n - 1;
		x->n_tok = i + 1;
		off += n;
	}
}

/* The resolved path of the loaded file, as its mount namespace sees it. */
struct pwalk_ctx {
	__u64 dentry, mnt, mnt_root;
	__u32 n;
	__u8 ok;
};

static __always_inline struct mount *xreal_mount(struct vfsmount *m)
{
	return (struct mount *)((void *)m - bpf_core_field_offset(struct mount, mnt));
}

static long pwalk_step(__u32 i, struct pwalk_ctx *w)
{
	struct ct_xscratch *x = xscratch();
	struct dentry *d = (struct dentry *)w->dentry, *parent;

	if (!x || !d)
		return 1;
	parent = BPF_CORE_READ(d, d_parent);
	if (w->dentry == w->mnt_root || d == parent) {
		struct mount *m = (struct mount *)w->mnt;
		struct mount *pm = BPF_CORE_READ(m, mnt_parent);

		if (!pm || pm == m) {
			w->ok = 1;	/* the root of this mount namespace */
			return 1;
		}
		w->dentry = (__u64)BPF_CORE_READ(m, mnt_mountpoint);
		w->mnt = (__u64)pm;
		w->mnt_root = (__u64)BPF_CORE_READ(pm, mnt.mnt_root);
		return 0;
	}
	if (w->n >= XS_DEPTH)
		return 1;	/* too deep: no resolved path */
	x->dents[xmasked(w->n, XS_DEPTH - 1)] = (__u64)d;
	w->n++;
	w->dentry = (__u64)parent;
	return 0;
}

struct pbuild_ctx {
	__u32 n, off;
	__u8 ok;
};

static long pbuild_step(__u32 i, struct pbuild_ctx *b)
{
	struct ct_xscratch *x = xscratch();
	struct dentry *d;
	long r;

	if (!x || i >= b->n)
		return 1;
	if (b->off + 1 >= CT_XPATH_LEN) {
		b->ok = 0;
		return 1;
	}
	d = (struct dentry *)x->dents[xmasked(b->n - 1 - i, XS_DEPTH - 1)];
	x->str[xmasked(XS_PATH + b->off, XS_MASK)] = '/';
	b->off++;
	r = bpf_probe_read_kernel_str(&x->str[xmasked(XS_PATH + b->off, XS_MASK)], XS_NAME_READ,
				      BPF_CORE_READ(d, d_name.name));
	if (r > 1)
		b->off += r - 1;
	return 0;
}

/* Once per exec, and only for a rule or scope entry with a path. */
static __always_inline void resolve_exe(struct ct_xscratch *x)
{
	struct file *f = (struct file *)x->file;
	struct vfsmount *mnt = BPF_CORE_READ(f, f_path.mnt);
	struct pwalk_ctx w = {};
	struct pbuild_ctx b = {};

	x->path_tried = 1;
	x->path_len = 0;
	w.dentry = (__u64)BPF_CORE_READ(f, f_path.dentry);
	w.mnt = (__u64)xreal_mount(mnt);
	w.mnt_root = (__u64)BPF_CORE_READ(mnt, mnt_root);
	bpf_loop(XS_DEPTH + 16, pwalk_step, &w, 0);
	if (!w.ok || !w.n)
		return;
	b.n = w.n;
	b.ok = 1;
	bpf_loop(XS_DEPTH, pbuild_step, &b, 0);
	if (b.ok && b.off < CT_XPATH_LEN)
		x->path_len = b.off;
}

/* ------------------------------------------------------------ matching */


/* Two NUL-padded names (CT_XNAME_LEN bytes, 8-aligned) are equal. */
static __always_inline bool name_eq(const char *a, const char *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

#define XK_RULE  0
#define XK_SCOPE 1

/*
 * Do the path and argument patterns of a command (rule `idx` of set `a`,
 * or `exec:` scope entry `idx` of deploy slot `a`) match this exec, the
 * command recognised by the loaded file's name (by_file) or by the name
 * it was invoked by? Its argv arguments start at token first_arg.
 * Global: verified once.
 */
static __always_inline int command_match(struct ct_xscratch *x, const struct ct_xmatch *m,
					 __u32 by_file, __u32 first_arg)
{
	if (m->has_path) {
		/* the loaded file's resolved path; what execve was given, when
		 * absolute (a symlink's path, a script's) */
		long n = bpf_probe_read_kernel_str(x->pat, sizeof(x->pat), m->path);
		bool ok = false;

		if (n <= 0)
			return 0;
		if (by_file && !x->path_tried)
			resolve_exe(x);
		if (by_file && x->path_len)
			ok = ct_xglob(n - 1, XS_PATH, x->path_len);
		if (!ok && x->abs_filename)
			ok = ct_xglob(n - 1, XS_FILENAME, x->filename_len);
		if (!ok)
			return 0;
	}
	for (int k = 0; k < CT_XARGS_MAX; k++) {
		__u32 tok = first_arg + k;
		long n;

		if (k >= m->n_args)
			break;
		if (tok >= x->n_tok || tok >= XS_TOKENS)
			return 0;
		tok = xmasked(tok, XS_TOKENS - 1);
		n = bpf_probe_read_kernel_str(x->pat, sizeof(x->pat), m->args[k]);
		if (n <= 0 || !ct_xglob(n - 1, XS_ARGS + x->tok_off[tok], x->tok_len[tok]))
			return 0;
	}
	return 1;
}

__noinline int ct_xcommand(__u32 kind, __u32 a, __u32 idx, __u32 by_file, __u32 first_arg)
{
	struct ct_xscratch *x = xscratch();

	if (!x)
		return 0;
	if (kind == XK_RULE) {
		__u32 key = a * CT_XRULES_MAX + idx;
		const struct ct_xrule *r = bpf_map_lookup_elem(&ct_xrules, &key);

		return r ? command_match(x, &r->m, by_file, first_arg) : 0;
	} else {
		struct ct_xscope_key k = { .slot = a, .idx = idx };
		const struct ct_xmatch *m = bpf_map_lookup_elem(&ct_deploy_xscope, &k);

		return m ? command_match(x, m, by_file, first_arg) : 0;
	}
}

/* Does one of the deploy's `exec:` scope entries name this command? */
static long scope_step(__u32 i, void *unused)
{
	struct ct_xscratch *x = xscratch();
	struct ct_xscope_key k = {};
	const struct ct_xmatch *m;
	struct xmatch_ctx *c;

	if (!x)
		return 1;
	c = &x->mc;
	if (i >= c->n_xscope || i >= CT_XSCOPE_MAX)
		return 1;
	k.slot = c->slot;
	k.idx = i;
	m = bpf_map_lookup_elem(&ct_deploy_xscope, &k);
	if (!m)
		return 0;
	if ((name_eq(m->name, x->kf.name) &&
	     ct_xcommand(XK_SCOPE, c->slot, i, 1, c->first_arg_file)) ||
	    (name_eq(m->name, x->ki.name) &&
	     ct_xcommand(XK_SCOPE, c->slot, i, 0, c->first_arg_invoked))) {
		c->out_of_scope = 0;
		return 1;
	}
	return 0;
}

/* The first candidate rule (policy order) that holds wins. */
static long rule_step(__u32 i, void *unused)
{
	struct ct_xscratch *x = xscratch();
	const struct ct_xrule *r;
	struct xmatch_ctx *c;
	__u32 key, facts;
	bool by_file;

	if (!x || i >= CT_XRULES_MAX)
		return 1;
	c = &x->mc;
	if (!((c->cand >> i) & 1))
		return 0;
	key = c->set * CT_XRULES_MAX + i;
	r = bpf_map_lookup_elem(&ct_xrules, &key);
	if (!r)
		return 0;
	facts = c->facts | (c->out_of_scope > 0 ? CT_XF_OUT_OF_SCOPE : 0);
	if ((facts & r->must_set) != r->must_set || (facts & r->must_clear))
		return 0;
	by_file = (c->by_file >> i) & 1;
	if (!by_file || !ct_xcommand(XK_RULE, c->set, i, 1, c->first_arg_file)) {
		if (!((c->by_invoked >> i) & 1) ||
		    !ct_xcommand(XK_RULE, c->set, i, 0, c->first_arg_invoked))
			return 0;
		by_file = false;
	}
	c->hit = i;
	c->action = r->action;
	c->via = by_file ? CT_XVIA_FILE : CT_XVIA_NAME;
	return 1;
}

struct ct_xverdict {
	__u32 gen;
	__u8 rule;               /* index + 1; 0 = none */
	__u8 action;
	__u8 signalled;
	__u8 via;
};

/* scratch->last_slash = the offset of the filename's last '/' */
static long slash_step(__u32 i, void *unused)
{
	struct ct_xscratch *x = xscratch();

	if (!x)
		return 1;
	if (x->str[XS_FILENAME + (i & (CT_FILENAME_LEN - 1))] == '/')
		x->last_slash = i;
	return 0;
}

/* The name's hash key; false if it cannot be one (too long, empty). */
static __always_inline __u64 *names_lookup(struct ct_xname_key *k)
{
	return k->name[0] ? bpf_map_lookup_elem(&ct_xnames, k) : NULL;
}

static __noinline bool exec_guard_match(struct task_struct *t, struct linux_binprm *bprm,
					__u32 slot, __u32 st, struct ct_xverdict *v)
{
	struct ct_xscratch *x = xscratch();
	struct dentry *d = bprm->file->f_path.dentry;
	const char *filename = bprm->filename;
	struct xmatch_ctx *c;
	__u64 *mf, *mi;
	__u32 len;
	long n;

	if (!x)
		return false;
	c = &x->mc;
	__builtin_memset(c, 0, sizeof(*c));
	c->hit = -1;
	c->set = st & CT_XR_SET;
	c->slot = slot;
	if (slot) {
		struct ct_deploy_prov *p = bpf_map_lookup_elem(&ct_deploy_prov, &slot);
		__u32 f = p ? p->flags : 0;

		c->facts = (f & CT_PROV_AI ? CT_XF_AI : 0) |
			   (f & CT_PROV_APPROVED ? 0 : CT_XF_UNAPPROVED) |
			   (f & CT_PROV_HIGH_RISK ? CT_XF_HIGH_RISK : 0);
		/* no declared scope: nothing is out of it */
		c->out_of_scope = f & CT_PROV_SCOPED ? -1 : 0;
		c->n_xscope = p ? p->n_xscope : 0;
	} else {
		c->facts = CT_XF_DRIFT | CT_XF_UNAPPROVED;
	}

	/* the loaded file's name */
	__builtin_memset(&x->kf, 0, sizeof(x->kf));
	__builtin_memset(&x->ki, 0, sizeof(x->ki));
	x->kf.set = x->ki.set = c->set;
	len = d->d_name.len;
	if (len && len < CT_XNAME_LEN)
		bpf_probe_read_kernel_str(x->kf.name, sizeof(x->kf.name), d->d_name.name);
	mf = names_lookup(&x->kf);

	/* the name it was invoked by: execve's path after its last '/'. The
	 * kernel has just set comm to it (cut at 15 bytes): only a name that
	 * long needs the path read. */
	__builtin_memcpy(x->ki.name, t->comm, CT_COMM_LEN);
	x->filename_len = 0;
	if (x->ki.name[CT_COMM_LEN - 2]) {
		n = bpf_probe_read_kernel_str(&x->str[XS_FILENAME], CT_FILENAME_LEN, filename);
		if (n <= 1)
			return false;
		x->filename_len = n - 1;
		__builtin_memset(x->ki.name, 0, sizeof(x->ki.name));
		x->last_slash = XS_NONE;
		bpf_loop(x->filename_len, slash_step, NULL, 0);
		len = x->filename_len - (x->last_slash + 1);
		if (len && len < CT_XNAME_LEN)
			bpf_probe_read_kernel_str(x->ki.name, sizeof(x->ki.name),
						  filename + ((x->last_slash + 1) & (CT_FILENAME_LEN - 1)));
	}
	mi = name_eq(x->ki.name, x->kf.name) ? NULL : names_lookup(&x->ki);

	c->by_file = mf ? *mf : 0;
	c->by_invoked = mi ? *mi : 0;
	c->cand = c->by_file | c->by_invoked;
	if (!c->cand)
		return false;

	/* a command some rule names: what the rules look at */
	if (!x->filename_len) {
		n = bpf_probe_read_kernel_str(&x->str[XS_FILENAME], CT_FILENAME_LEN, filename);
		if (n <= 1)
			return false;
		x->filename_len = n - 1;
	}
	x->abs_filename = x->str[XS_FILENAME] == '/';
	x->file = (__u64)bprm->file;
	x->path_tried = 0;
	x->path_len = 0;
	read_tokens(x, t);
	/* A script's argv is its interpreter's: [interpreter, its option if
	 * any, the script's path, the script's arguments...]; by the script's
	 * name, its arguments come after its path. */
	c->first_arg_file = 1;
	c->first_arg_invoked = 1;
	if (bprm->interp != bprm->filename && x->n_tok > 1)
		c->first_arg_invoked = x->tok_len[1] == x->filename_len &&
				       str_eq(XS_ARGS + x->tok_off[1], XS_FILENAME, x->filename_len)
				       ? 2 : 3;
	if (c->out_of_scope < 0) {
		c->out_of_scope = 1;
		bpf_loop(CT_XSCOPE_MAX, scope_step, NULL, 0);
	}
	bpf_loop(CT_XRULES_MAX, rule_step, NULL, 0);
	if (c->hit < 0 || c->hit >= CT_XRULES_MAX)
		return false;
	v->gen = st >> CT_XR_GEN_SHIFT;
	v->rule = c->hit + 1;
	v->action = c->action;
	v->via = c->via;
	return true;
}

/* Judge this exec; on a match stop or kill it here, before the new
 * program's first instruction, and send the verdict on the change path.
 * attr: the process's attribution (NULL: drift); already: the signal its
 * halted or aborted deploy got it a moment ago (a second one in the same
 * program could find the CPU's signal work busy). */
static __always_inline void ct_exec_guard(struct task_struct *t, struct linux_binprm *bprm,
					  const struct ct_task_attr *attr, int already,
					  struct ct_xverdict *v)
{
	__u32 st = *(volatile __u32 *)&ct_xr_state;
	struct ct_exec_verdict *e;
	struct mm_struct *mm;
	unsigned long start, end, len;
	long rc = 0;

	if (!(st & (attr ? CT_XR_ATTRIBUTED : CT_XR_DRIFT)))
		return;
	if (!exec_guard_match(t, bprm, attr ? attr->deploy_slot : 0, st, v))
		return;
	if (v->action == CT_XACT_HALT && !already)
		rc = bpf_send_signal(CT_SIGSTOP);
	else if (v->action == CT_XACT_KILL && already != CT_SIGKILL)
		rc = bpf_send_signal(CT_SIGKILL);
	v->signalled = v->action != CT_XACT_ALERT && rc == 0;
	ct_count(CT_CNT_EXEC_VERDICT);
	if (rc)
		ct_count(CT_CNT_EXEC_SIGNAL_FAIL);

	e = bpf_ringbuf_reserve(&ct_change_rb, sizeof(*e), 0);
	if (!e) {
		ct_count(CT_CNT_EXEC_VERDICT_DROP);
		return;
	}
	e->hdr.kind = CT_KIND_EXEC_VERDICT;
	e->hdr.size = sizeof(*e);
	e->hdr.cpu = bpf_get_smp_processor_id();
	e->hdr.ts_ns = bpf_ktime_get_ns();
	ct_fill_task(&e->task, t, attr);
	e->gen = v->gen;
	e->rule = v->rule - 1;
	e->action = v->action;
	e->signalled = v->signalled;
	e->via = v->via;
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), bprm->filename);
	mm = t->mm;
	start = mm->arg_start;
	end = mm->arg_end;
	len = end > start ? end - start : 0;
	e->args_truncated = len > CT_ARGS_LEN;
	if (len > CT_ARGS_LEN)
		len = CT_ARGS_LEN;
	e->args_len = len && !bpf_probe_read_user(e->args, len, (void *)start) ? len : 0;
	bpf_ringbuf_submit(e, ct_change_submit_flags(sizeof(*e), 0));
}

#endif /* CT_EXEC_GUARD_BPF_H */
