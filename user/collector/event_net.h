/*
 * Network-policy records (struct ct_net_event) -> NetPolicyChange events:
 * decode (netlink_decode.c), decide acceptance from the kernel's answers
 * captured with the request, name the network namespace, and for nftables
 * take the ruleset before/after in that namespace (a worker thread that
 * setns()'s and uses libnftables, never fork/exec of nft); for a legacy
 * iptables table, its iptables-save text before/after (ipt_legacy.c, the
 * same worker runs the save tool in the namespace).
 */
#ifndef CT_EVENT_NET_H
#define CT_EVENT_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "changetrace.h"
#include "event.h"
#include "netlink_decode.h"
#include "lib/counters.h"

struct ct_net_stats {
	uint64_t records;          /* change requests seen from the kernel */
	uint64_t changes;          /* NET events emitted (one per changed object) */
	uint64_t rejected;         /* requests the kernel answered with an error */
	uint64_t unconfirmed;      /* ack asked for, none found: emitted, marked */
	uint64_t malformed;        /* requests that did not decode cleanly */
	uint64_t snapshots;        /* rulesets taken */
	uint64_t snapshot_failures;/* namespace gone, libnftables error, timeout */
	uint64_t snapshots_inexact;/* read when another commit had come first */
	uint64_t legacy_dumps;     /* legacy iptables tables read */
	uint64_t legacy_failures;  /* namespace gone, no save tool, timeout */
	uint64_t legacy_inexact;   /* read after a later replace of the table */
	uint64_t worker_wait_us;   /* the event loop waited on the namespace worker */
	uint64_t snapshots_skipped;/* not read: other namespaces' budget spent */
	uint64_t legacy_forgotten; /* last-known tables dropped to make room */
};

/* Acceptance of one request from the answers queued by the kernel. */
enum ct_net_verdict {
	CT_NET_ACCEPTED_ACK = 1,   /* NLMSG_ERROR 0 for it */
	CT_NET_ACCEPTED_NOERR,     /* no ack asked, no error queued */
	CT_NET_UNCONFIRMED,        /* ack asked, none found */
	CT_NET_REJECTED,           /* an error for it (for a batch: any message) */
	CT_NET_ACCEPTED_SYSCALL,   /* setsockopt/bpf: the call itself succeeded */
};

/* Pure: verdict for object i of a decoded request. */
enum ct_net_verdict ct_net_verdict(const struct ct_net_event *e, const struct ct_nl_result *r,
				   const struct ct_net_obj *o);

/* Start/stop the ruleset worker; without it events carry no ruleset. */
int ct_net_worker_start(void);
void ct_net_worker_stop(void);
/* Take the current rulesets (nftables, legacy iptables) and network
 * sysctls of the host and of every named namespace (/run/netns), so the
 * first change seen in each has a "before". */
void ct_net_prime(void);
/* The text dump (NULL: the nftables ruleset) gives, at most max bytes, run
 * on the worker inside the namespace at path (which must still be inode).
 * malloc'd, or NULL with *err set (timeout included). */
char *ct_net_dump(const char *path, uint32_t inode,
		  char *(*dump)(uint32_t netns_inode, size_t max, int *err), size_t max, int *err);

/* Read a sysctl (a small file) in network namespace inode, entered
 * through the acting process pid, /run/netns or any process in it, on the
 * worker (at most the snapshot timeout); a namespace never seen before
 * has its other network sysctls remembered too. cookie: the namespace's
 * (0: not known); another namespace that has its inode by now is not
 * read. Returns the length read into buf (NUL-terminated), or -1.
 * ns_name: its name ("host", an `ip netns` name) or "". path NULL: only
 * remember a namespace never seen before (returns -1). */
int ct_net_read_in_ns(uint32_t inode, uint64_t cookie, uint32_t pid, const char *path, char *buf,
		      size_t len, char *ns_name, size_t ns_len);
/* The namespace's name ("host", an `ip netns` name), else its inode. */
void ct_net_netns_name(uint32_t inode, uint32_t pid, char *name, size_t len);

/* Record -> events, emitted through c->sink. Returns 1 (consumed; zero or
 * more events emitted) or -1 when the record itself is malformed. */
int ct_net_from_record(struct ct_collector *c, const void *data, size_t len,
		       struct ct_event_buf *b);

void ct_net_get_stats(struct ct_net_stats *s);

/* Line diff of two texts ("-old" / "+new" lines), bounded; into out. */
size_t ct_net_line_diff(const char *before, const char *after, char *out, size_t out_len);

/* Its status counters, read from a struct ct_net_stats. */
extern const struct ct_counter_table ct_net_counters;

#endif
