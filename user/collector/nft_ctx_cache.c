/*
 * Why contexts are kept: a libnftables context owns a NETLINK_NETFILTER
 * socket, and closing one makes the kernel take the nftables commit mutex
 * and wait for pending table releases (nft_rcv_nl_event, about an RCU grace
 * period). A fresh context per snapshot therefore stalled every nft commit
 * in that namespace by ~20 ms while the agent ran. A context is bound to
 * the namespace it was created in, so they are cached per namespace inode
 * and closed after a few idle seconds, which also releases the reference a
 * socket holds on a namespace that was deleted meanwhile.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <nftables/libnftables.h>

#include "nft_ctx_cache.h"

#define SLOTS 8

struct slot {
	struct nft_ctx *ctx;
	int genfd;               /* NETLINK_NETFILTER socket for GETGEN (0: none) */
	uint32_t inode;
	uint64_t used_ns;
};

static struct slot slots[SLOTS];

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void drop(struct slot *s)
{
	nft_ctx_free(s->ctx);
	if (s->genfd > 0)
		close(s->genfd);
	memset(s, 0, sizeof(*s));
}

/*
 * The ruleset's generation: every commit that changes it adds one. Asked
 * on a socket kept with the context (closing one stalls commits, above).
 * -1 when it cannot be read.
 */
static int64_t genid(struct slot *s)
{
	struct {
		struct nlmsghdr h;
		struct nfgenmsg g;
	} req = { .h = { .nlmsg_len = sizeof(req),
			 .nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN,
			 .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 1 },
		  .g = { .nfgen_family = AF_UNSPEC, .version = NFNETLINK_V0 } };
	char buf[512];
	ssize_t n;

	if (s->genfd <= 0) {
		struct timeval tv = { .tv_sec = 1 };

		s->genfd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
		if (s->genfd <= 0) {
			s->genfd = 0;
			return -1;
		}
		setsockopt(s->genfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	if (send(s->genfd, &req, sizeof(req), 0) != sizeof(req))
		return -1;
	n = recv(s->genfd, buf, sizeof(buf), 0);
	for (struct nlmsghdr *h = (struct nlmsghdr *)buf; n > 0 && NLMSG_OK(h, (size_t)n);
	     h = NLMSG_NEXT(h, n)) {
		size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));

		if (h->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN))
			continue;
		while (off + NLA_HDRLEN <= h->nlmsg_len) {
			struct nlattr *a = (struct nlattr *)((char *)h + off);
			uint32_t v;

			if (a->nla_len < NLA_HDRLEN || off + a->nla_len > h->nlmsg_len)
				break;
			if ((a->nla_type & NLA_TYPE_MASK) == NFTA_GEN_ID && a->nla_len >= NLA_HDRLEN + 4) {
				memcpy(&v, (char *)a + NLA_HDRLEN, 4);
				return ntohl(v);
			}
			off += NLA_ALIGN(a->nla_len);
		}
	}
	return -1;
}

/* The context for netns_inode: cached, or new in the current namespace,
 * replacing the least recently used slot. */
static struct slot *slot_for(uint32_t netns_inode)
{
	struct slot *lru = &slots[0];

	for (int i = 0; i < SLOTS; i++) {
		if (slots[i].ctx && slots[i].inode == netns_inode)
			return &slots[i];
		if (!slots[i].ctx || (lru->ctx && slots[i].used_ns < lru->used_ns))
			lru = &slots[i];
	}
	if (lru->ctx)
		drop(lru);
	lru->ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!lru->ctx)
		return NULL;
	if (nft_ctx_buffer_output(lru->ctx) || nft_ctx_buffer_error(lru->ctx)) {
		drop(lru);
		return NULL;
	}
	/* the policy, not its state: counter values, quota use and element
	 * timeouts change with traffic and would be a difference every time */
	nft_ctx_output_set_flags(lru->ctx, nft_ctx_output_get_flags(lru->ctx) |
				 NFT_CTX_OUTPUT_STATELESS);
	lru->inode = netns_inode;
	return lru;
}

char *ct_nft_list_ruleset(uint32_t netns_inode, size_t max, int64_t *gen, int *err)
{
	struct slot *s = slot_for(netns_inode);
	const char *o;
	char *out;
	int64_t g0;

	*gen = -1;
	if (!s) {
		*err = ENOMEM;
		return NULL;
	}
	s->used_ns = mono_ns();
	g0 = genid(s);
	if (nft_run_cmd_from_buffer(s->ctx, "list ruleset") != 0) {
		drop(s);	/* a fresh context next time */
		*err = EIO;
		return NULL;
	}
	/* reading a buffer also empties it for the next command */
	o = nft_ctx_get_output_buffer(s->ctx);
	(void)nft_ctx_get_error_buffer(s->ctx);
	out = strndup(o ? o : "", max);
	if (!out)
		*err = ENOMEM;
	/* the same generation on both sides: the listing is that one */
	if (g0 >= 0 && genid(s) == g0)
		*gen = g0;
	return out;
}

void ct_nft_ctx_expire(uint64_t now_ns, uint64_t idle_ns)
{
	for (int i = 0; i < SLOTS; i++)
		if (slots[i].ctx && (!idle_ns || now_ns - slots[i].used_ns >= idle_ns))
			drop(&slots[i]);
}
