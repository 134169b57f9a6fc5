// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Network-policy changes, on syscall tracepoints only.
 *
 *  - netlink requests (rtnetlink, nfnetlink, xfrm): sendmsg/sendto. At
 *    exit the probe resolves fd -> socket from kernel objects, goes on only
 *    for netlink sockets of those protocols, copies the request (user
 *    memory is paged in by then: the kernel just read it) and keeps it only
 *    when its first message changes state.
 *    Netlink input runs in the sender's context, so when sendmsg returns
 *    the kernel's answers (NLMSG_ERROR: ack or errno) are already queued
 *    on the socket: the exit probe reads them from the receive queue
 *    (kernel memory) so the collector can tell accepted from rejected.
 *  - iptables/ip6tables/arptables/ebtables-legacy: setsockopt replace,
 *    which is synchronous: return 0 means the new table is live.
 *  - bpf(BPF_PROG_ATTACH / BPF_LINK_CREATE) with a network attach type.
 *
 * Every probe is at sys_exit, its arguments read from the saved registers
 * (syscall_args.bpf.h): no per-call state between enter and exit, and no
 * sys_enter program, which every syscall on the host would pay for.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "maps.bpf.h"
#include "task.bpf.h"
#include "syscall_args.bpf.h"
#include "agent.bpf.h"

#define AF_NETLINK        16
#define NETLINK_ROUTE     0
#define NETLINK_XFRM      6
#define NETLINK_NETFILTER 12
#define NLMSG_ERROR       2
#define NFNL_MSG_BATCH_BEGIN 0x10
#define S_IFMT   0170000
#define S_IFSOCK 0140000
#define SOL_IP   0
#define SOL_IPV6 41
#define IPT_SO_SET_REPLACE  64   /* also IP6T_ at SOL_IPV6 */
#define ARPT_SO_SET_REPLACE 96
#define EBT_SO_SET_ENTRIES  128
#define CMD_PROG_ATTACH 8
#define CMD_LINK_CREATE 28

#define ct_barrier_var(v) asm volatile("" : "+r"(v))

enum { ARGS_MSGHDR = 1, ARGS_BUF };

struct ct_net_args {
	__u64 sk;
	__u64 ptr;               /* msghdr, buffer, optval or bpf attr */
	__u64 len;
	__u32 kind;              /* ARGS_* */
	__u16 proto;             /* netlink protocol / level / bpf cmd */
	__u16 _pad;
	__u32 optname;
	__u32 _pad2;
};

/* The record is built here (twice the data size, so the verifier can
 * see that any offset < MAX plus any length <= MAX stays inside), then
 * only its used part goes to the ring buffer. */
struct ct_net_scratch {
	struct ct_net_event ev;
	__u8 spill[CT_NET_DATA_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ct_net_scratch);
} ct_net_scratch_map SEC(".maps");

/* fd -> struct sock of a netlink socket, from kernel objects only. */
static __always_inline struct sock *netlink_sock_of(int fd, __u16 *proto)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **fds;
	struct file *f = NULL;
	struct socket *sock;
	struct sock *sk;
	unsigned int max;
	umode_t mode;

	if (fd < 0 || !fdt)
		return NULL;
	max = BPF_CORE_READ(fdt, max_fds);
	if ((unsigned int)fd >= max)
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return NULL;
	mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(f, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, __sk_common.skc_family) != AF_NETLINK)
		return NULL;
	*proto = BPF_CORE_READ(sk, sk_protocol);
	return sk;
}

/* A send on a netlink socket of a protocol that changes policy: its
 * arguments, else false. */
static __always_inline bool netlink_args(int fd, __u64 ptr, __u64 len, __u32 kind,
					 struct ct_net_args *a)
{
	struct sock *sk;
	__u16 proto = 0xffff;

	if (is_agent())
		return false;
	sk = netlink_sock_of(fd, &proto);
	if (!sk || (proto != NETLINK_ROUTE && proto != NETLINK_NETFILTER &&
		    proto != NETLINK_XFRM))
		return false;
	a->sk = (__u64)sk;
	a->ptr = ptr;
	a->len = len;
	a->kind = kind;
	a->proto = proto;
	return true;
}

/* Does this first message change state? Read-only requests (GET, dumps)
 * are dropped here so `ip route show` / `nft list` produce nothing. */
static __always_inline bool is_change(__u16 proto, __u16 type)
{
	if (proto == NETLINK_NETFILTER)
		return type == NFNL_MSG_BATCH_BEGIN;	/* nf_tables writes are batched */
	if (type < 16)
		return false;
	if (proto == NETLINK_ROUTE)
		return (type & 3) != 2;			/* RTM_NEW*, DEL*, SET* */
	if (proto == NETLINK_XFRM) {
		/* NEWSA DELSA NEWPOLICY DELPOLICY UPDPOLICY UPDSA FLUSHSA
		 * FLUSHPOLICY NEWAE MIGRATE NEWSPDINFO SETDEFAULT */
		const __u64 mask = (1ull << 0x10) | (1ull << 0x11) | (1ull << 0x13) |
				   (1ull << 0x14) | (1ull << 0x19) | (1ull << 0x1a) |
				   (1ull << 0x1c) | (1ull << 0x1d) | (1ull << 0x1e) |
				   (1ull << 0x21) | (1ull << 0x24) | (1ull << 0x27);
		return type < 64 && ((mask >> type) & 1);
	}
	return false;
}

static __always_inline struct ct_net_scratch *scratch_begin(__u16 source)
{
	__u32 zero = 0;
	struct ct_net_scratch *s = bpf_map_lookup_elem(&ct_net_scratch_map, &zero);
	struct task_struct *t = bpf_get_current_task_btf();

	if (!s)
		return NULL;
	s->ev.hdr.kind = CT_KIND_NET;
	s->ev.hdr.cpu = bpf_get_smp_processor_id();
	s->ev.hdr.ts_ns = bpf_ktime_get_ns();
	ct_fill_task(&s->ev.task, t, ct_task_attr_of(t, t->tgid));
	s->ev.source = source;
	s->ev.sk = 0;
	s->ev.optname = 0;
	s->ev.req_len = 0;
	s->ev.data_len = 0;
	s->ev.truncated = 0;
	s->ev.n_acks = 0;
	s->ev.acks_truncated = 0;
	return s;
}

static __always_inline void scratch_submit(struct ct_net_scratch *s)
{
	__u64 size = offsetof(struct ct_net_event, data) + s->ev.data_len;

	if (size > sizeof(struct ct_net_event))
		size = sizeof(struct ct_net_event);
	s->ev.hdr.size = size;
	ct_count(CT_CNT_SEEN_NET);
	if (bpf_ringbuf_output(&ct_change_rb, &s->ev, size, 0))
		ct_count(CT_CNT_DROP_NET);
}

/* Copy one user chunk at offset off; returns the new offset. */
static __always_inline __u32 copy_chunk(struct ct_net_scratch *s, __u32 off,
					const void *src, __u64 len)
{
	__u64 room, n;

	if (off >= CT_NET_DATA_MAX) {
		if (len)
			s->ev.truncated = 1;
		return off;
	}
	room = CT_NET_DATA_MAX - off;
	n = len;
	if (n > room) {
		n = room;
		s->ev.truncated = 1;
	}
	ct_barrier_var(n);
	if (n > CT_NET_DATA_MAX)
		n = CT_NET_DATA_MAX;
	if (bpf_probe_read_user(&s->ev.data[off & (CT_NET_DATA_MAX - 1)], n, src)) {
		s->ev.truncated = 1;
		return CT_NET_DATA_MAX;	/* stop: what follows would not be contiguous */
	}
	return off + n;
}

static __always_inline struct ct_net_scratch *scratch_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ct_net_scratch_map, &zero);
}

/* bpf_loop callbacks are verified once, not once per iteration, which
 * keeps the verifier's work small for the queue walk and iovec copy. */
struct ack_walk {
	struct sk_buff *skb;
	struct sk_buff *head;
	__u32 n;
};

static int ack_step(__u32 i, void *ctx)
{
	struct ack_walk *w = ctx;
	struct ct_net_scratch *s = scratch_get();
	struct { struct nlmsghdr h; __s32 error; } m;
	struct sk_buff *skb = w->skb;
	unsigned char *d;

	if (!s || !skb || skb == w->head)
		return 1;
	d = BPF_CORE_READ(skb, data);
	if (d && BPF_CORE_READ(skb, len) >= sizeof(m) &&
	    !bpf_probe_read_kernel(&m, sizeof(m), d) &&
	    m.h.nlmsg_type == NLMSG_ERROR) {
		if (w->n >= CT_NET_ACKS_MAX) {
			s->ev.acks_truncated = 1;
			return 1;
		}
		s->ev.acks[w->n & (CT_NET_ACKS_MAX - 1)].seq = m.h.nlmsg_seq;
		s->ev.acks[w->n & (CT_NET_ACKS_MAX - 1)].error = m.error;
		w->n++;
		s->ev.n_acks = w->n;
	}
	w->skb = BPF_CORE_READ(skb, next);
	return 0;
}

/* The kernel's answers already queued on the sender's socket. The walk
 * is unlocked: entries are read with probe reads (never faults) and the
 * collector treats what it gets as untrusted. */
static __always_inline void read_acks(struct sock *sk)
{
	struct ack_walk w = {
		.skb = BPF_CORE_READ(sk, sk_receive_queue.next),
		.head = (struct sk_buff *)&sk->sk_receive_queue,
	};

	bpf_loop(64, ack_step, &w, 0);
}

struct iov_walk {
	struct iovec *iov;       /* user array */
	__u64 iovlen;
	__u64 total;
	__u32 off;
};

static int iov_step(__u32 i, void *ctx)
{
	struct iov_walk *w = ctx;
	struct ct_net_scratch *s = scratch_get();
	struct iovec v;

	if (!s || i >= w->iovlen)
		return 1;
	if (bpf_probe_read_user(&v, sizeof(v), &w->iov[i]))
		return 1;
	w->total += v.iov_len;
	w->off = copy_chunk(s, w->off, v.iov_base, v.iov_len);
	return 0;
}

/* kind: ARGS_MSGHDR (sendmsg) or ARGS_BUF (sendto, with its length). */
static __always_inline int netlink_exit(long ret, __u32 kind)
{
	struct ct_net_args args = {};
	struct ct_net_scratch *s;
	struct nlmsghdr first;
	struct iovec iov0;
	const void *first_ptr;
	struct iov_walk w = {};
	__u32 off = 0;

	/* every send on the host comes here: the cheap test first */
	if (ret < 0)
		return 0;
	if (!netlink_args((int)ct_sc_arg(0), ct_sc_arg(1),
			  kind == ARGS_BUF ? ct_sc_arg(2) : 0, kind, &args))
		return 0;

	if (args.kind == ARGS_MSGHDR) {
		struct user_msghdr mh;

		if (bpf_probe_read_user(&mh, sizeof(mh), (void *)args.ptr))
			return 0;
		w.iov = mh.msg_iov;
		w.iovlen = mh.msg_iovlen < CT_NET_IOV_MAX ? mh.msg_iovlen : CT_NET_IOV_MAX;
		if (!w.iovlen || bpf_probe_read_user(&iov0, sizeof(iov0), mh.msg_iov))
			return 0;
		/* nft puts the batch begin alone in iov[0]; ip uses one iov */
		first_ptr = iov0.iov_base;
		if (iov0.iov_len < sizeof(first))
			return 0;
	} else {
		first_ptr = (const void *)args.ptr;
		if (args.len < sizeof(first))
			return 0;
	}
	if (bpf_probe_read_user(&first, sizeof(first), first_ptr))
		return 0;
	if (!is_change(args.proto, first.nlmsg_type))
		return 0;

	s = scratch_begin(CT_NET_SRC_NETLINK);
	if (!s)
		return 0;
	s->ev.sk = args.sk;
	s->ev.ret = ret;
	s->ev.proto = args.proto;
	if (args.kind == ARGS_MSGHDR) {
		bpf_loop(CT_NET_IOV_MAX, iov_step, &w, 0);
		off = w.off;
		s->ev.req_len = w.total > 0xffffffffull ? 0xffffffff : w.total;
	} else {
		s->ev.req_len = args.len > 0xffffffffull ? 0xffffffff : args.len;
		off = copy_chunk(s, off, (const void *)args.ptr, args.len);
	}
	if (off > CT_NET_DATA_MAX)
		off = CT_NET_DATA_MAX;
	s->ev.data_len = off;
	/* ret is what the socket took; a short send means a partial copy */
	if ((__u64)ret < s->ev.req_len) {
		s->ev.req_len = ret;
		if (s->ev.data_len > ret)
			s->ev.data_len = ret;
	}
	read_acks((struct sock *)args.sk);
	scratch_submit(s);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_sendmsg")
int ct_net_sendmsg_exit(struct trace_event_raw_sys_exit *ctx)
{
	return netlink_exit(ctx->ret, ARGS_MSGHDR);
}

SEC("tracepoint/syscalls/sys_exit_sendto")
int ct_net_sendto_exit(struct trace_event_raw_sys_exit *ctx)
{
	return netlink_exit(ctx->ret, ARGS_BUF);
}

/* ---- iptables-legacy family: setsockopt(..., *_SO_SET_REPLACE, ...) ---- */

SEC("tracepoint/syscalls/sys_exit_setsockopt")
int ct_net_setsockopt_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct ct_net_scratch *s;
	struct ct_net_args args = {};
	int level, optname;
	__u64 n;

	/* only a replace that took is a change: return 0 means the new table is live */
	if (ctx->ret != 0)
		return 0;
	level = (int)ct_sc_arg(1);
	optname = (int)ct_sc_arg(2);
	if (!((level == SOL_IP && (optname == IPT_SO_SET_REPLACE ||
				   optname == ARPT_SO_SET_REPLACE ||
				   optname == EBT_SO_SET_ENTRIES)) ||
	      (level == SOL_IPV6 && optname == IPT_SO_SET_REPLACE)))
		return 0;
	if (is_agent())
		return 0;
	args.ptr = ct_sc_arg(3);
	args.len = (__u32)ct_sc_arg(4);
	args.proto = level;
	args.optname = optname;
	s = scratch_begin(CT_NET_SRC_SETSOCKOPT);
	if (!s)
		return 0;
	s->ev.ret = ctx->ret;
	s->ev.proto = args.proto;
	s->ev.optname = args.optname;
	s->ev.req_len = args.len;
	/* the replace header: table name, hooks, entry count and size */
	n = args.len < 128 ? args.len : 128;
	if (n && !bpf_probe_read_user(s->ev.data, n & 0xff, (void *)args.ptr))
		s->ev.data_len = n;
	s->ev.truncated = args.len > n;
	scratch_submit(s);
	return 0;
}

/* ---- bpf(): programs attached to network hooks ---- */

static __always_inline bool net_attach_type(__u32 t)
{
	switch (t) {
	case BPF_CGROUP_INET_INGRESS: case BPF_CGROUP_INET_EGRESS:
	case BPF_CGROUP_INET_SOCK_CREATE: case BPF_CGROUP_SOCK_OPS:
	case BPF_SK_SKB_STREAM_PARSER: case BPF_SK_SKB_STREAM_VERDICT:
	case BPF_SK_MSG_VERDICT: case BPF_CGROUP_INET4_BIND: case BPF_CGROUP_INET6_BIND:
	case BPF_CGROUP_INET4_CONNECT: case BPF_CGROUP_INET6_CONNECT:
	case BPF_CGROUP_INET4_POST_BIND: case BPF_CGROUP_INET6_POST_BIND:
	case BPF_CGROUP_UDP4_SENDMSG: case BPF_CGROUP_UDP6_SENDMSG:
	case BPF_FLOW_DISSECTOR: case BPF_CGROUP_UDP4_RECVMSG: case BPF_CGROUP_UDP6_RECVMSG:
	case BPF_CGROUP_GETSOCKOPT: case BPF_CGROUP_SETSOCKOPT:
	case BPF_CGROUP_INET4_GETPEERNAME: case BPF_CGROUP_INET6_GETPEERNAME:
	case BPF_CGROUP_INET4_GETSOCKNAME: case BPF_CGROUP_INET6_GETSOCKNAME:
	case BPF_XDP_DEVMAP: case BPF_CGROUP_INET_SOCK_RELEASE: case BPF_XDP_CPUMAP:
	case BPF_SK_LOOKUP: case BPF_XDP: case BPF_SK_SKB_VERDICT:
	case BPF_SK_REUSEPORT_SELECT: case BPF_SK_REUSEPORT_SELECT_OR_MIGRATE:
	case BPF_NETFILTER: case BPF_TCX_INGRESS: case BPF_TCX_EGRESS:
	case BPF_NETKIT_PRIMARY: case BPF_NETKIT_PEER:
		return true;
	default:
		return false;
	}
}

SEC("tracepoint/syscalls/sys_exit_bpf")
int ct_net_bpf_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct ct_net_scratch *s;
	struct ct_net_args args = {};
	__u32 attr[8] = {};
	int cmd;
	__u64 n;

	if (ctx->ret < 0)
		return 0;
	cmd = (int)ct_sc_arg(0);
	if (cmd != CMD_PROG_ATTACH && cmd != CMD_LINK_CREATE)
		return 0;
	if (is_agent())
		return 0;
	args.ptr = ct_sc_arg(1);
	args.len = (__u32)ct_sc_arg(2);
	args.proto = cmd;
	n = args.len < sizeof(attr) ? args.len : sizeof(attr);
	if (n < 12 || bpf_probe_read_user(attr, sizeof(attr), (void *)args.ptr))
		return 0;
	/* attach_type is the third u32 for both PROG_ATTACH and LINK_CREATE */
	if (!net_attach_type(attr[2]))
		return 0;
	s = scratch_begin(CT_NET_SRC_BPF);
	if (!s)
		return 0;
	s->ev.ret = ctx->ret;
	s->ev.proto = args.proto;
	s->ev.optname = attr[2];
	s->ev.req_len = args.len;
	__builtin_memcpy(s->ev.data, attr, sizeof(attr));
	s->ev.data_len = n;
	scratch_submit(s);
	return 0;
}
