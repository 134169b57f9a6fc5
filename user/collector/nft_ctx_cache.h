/* Listing nftables rulesets with one libnftables context per network
 * namespace, kept while in use (nft_ctx_cache.c). */
#ifndef CT_NFT_CTX_CACHE_H
#define CT_NFT_CTX_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The ruleset of the calling thread's current network namespace, whose
 * inode is netns_inode, as text (at most max bytes; malloc'd), or NULL with
 * *err set; *gen its generation (each commit that changes the ruleset adds
 * one), -1 when unknown or it changed while listed. Not thread-safe: one
 * thread (the snapshot worker) calls all. */
char *ct_nft_list_ruleset(uint32_t netns_inode, size_t max, int64_t *gen, int *err);

/* Free contexts idle for idle_ns (all of them with idle_ns 0). */
void ct_nft_ctx_expire(uint64_t now_ns, uint64_t idle_ns);

#endif
