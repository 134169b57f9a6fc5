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
#include <nftables/libnftables.h>

#include "nft_ctx_cache.h"

#define SLOTS 8

struct slot {
	struct nft_ctx *ctx;
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
	memset(s, 0, sizeof(*s));
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

char *ct_nft_list_ruleset(uint32_t netns_inode, size_t max, int *err)
{
	struct slot *s = slot_for(netns_inode);
	const char *o;
	char *out;

	if (!s) {
		*err = ENOMEM;
		return NULL;
	}
	s->used_ns = mono_ns();
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
	return out;
}

void ct_nft_ctx_expire(uint64_t now_ns, uint64_t idle_ns)
{
	for (int i = 0; i < SLOTS; i++)
		if (slots[i].ctx && (!idle_ns || now_ns - slots[i].used_ns >= idle_ns))
			drop(&slots[i]);
}
