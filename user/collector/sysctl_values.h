/*
 * Sysctl values as text, per network namespace. A /proc/sys/net file shows
 * the value of the reading thread's network namespace, so one path holds
 * a value per namespace; the agent keeps the last known value per
 * (namespace, path), which is the "before" of the next write there. Other
 * sysctls are global (kept under namespace 0). The table is filled at
 * start for the host and every named namespace (event_net.c's worker
 * enters each), for a namespace first seen at its first write, and with
 * each write's value (file_sysctl.c).
 */
#ifndef CT_SYSCTL_VALUES_H
#define CT_SYSCTL_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "lib/counters.h"

#define CT_SYSCTL_READ_MAX  8192     /* sysctl files are at most a page */

/*
 * Whose values: a network namespace by its inode and its cookie (the
 * kernel's net_cookie, never reused while the system runs, where the
 * inode of a namespace gone is soon another's); { 0, 0 } for global
 * sysctls. A cookie of 0 is not known: it matches any.
 */
struct ct_sysctl_ns {
	uint32_t inode;
	uint64_t cookie;
};
#define CT_SYSCTL_VALUE_MAX 1024     /* a value shown longer than this is cut ("...") */

/* Under /proc/sys/? Under /proc/sys/net/ (a value per network namespace)? */
bool ct_sysctl_is(const char *path);
bool ct_sysctl_per_netns(const char *path);
/* "/proc/sys/net/ipv4/conf/eth0.10/forwarding" -> "net.ipv4.conf.eth0/10.forwarding"
 * (sysctl(8)'s names: a dot inside a component becomes a slash). */
void ct_sysctl_name(const char *path, char *out, size_t len);
/* Read a sysctl now, in the calling thread's network namespace: at most
 * len - 1 bytes, NUL-terminated. Returns the length, or -1 with errno
 * (EFBIG when it did not fit). */
ssize_t ct_sysctl_read(const char *path, char *buf, size_t len);
/* The value as shown: the file's text without its final newline, inner
 * newlines as spaces, cut past CT_SYSCTL_VALUE_MAX. */
void ct_sysctl_value(const char *raw, size_t n, char *out, size_t len);
/* The bytes of a write as the file's content: written with or without a
 * final newline ("1", "1\n"), read back with one. Into out (at most
 * len - 1 bytes, NUL-terminated); returns the length. */
size_t ct_sysctl_written(const char *bytes, size_t n, char *out, size_t len);

/* Last known content of path in ns (global: { 0, 0 }), into buf
 * (len >= CT_SYSCTL_READ_MAX); *n its length, *read_ns when it was read
 * (see ct_sysctl_remember). False if not known (or known of another
 * namespace that had the inode). */
bool ct_sysctl_known(struct ct_sysctl_ns ns, const char *path, char *buf, size_t len, size_t *n,
		     uint64_t *read_ns);
/* only_new: keep an existing value of the same namespace (a change seen
 * first is newer). read_ns: when the value was read from the file
 * (monotonic clock): it is the "before" only of a write whose file was
 * opened after that; 0 for a value a write record carried, which the
 * records' order places. */
void ct_sysctl_remember(struct ct_sysctl_ns ns, const char *path, const char *raw, size_t n,
			bool only_new, uint64_t read_ns);
/* Remember every readable sysctl under dir, read in the calling thread's
 * namespace, under ns (global for those not under /proc/sys/net). Marks
 * ns as primed; the oldest primed namespace may be forgotten for it.
 * Returns how many were read. */
size_t ct_sysctl_prime(struct ct_sysctl_ns ns, const char *dir);
/* Was ns primed (its values are known from before its changes)? */
bool ct_sysctl_primed(struct ct_sysctl_ns ns);
/* The values of the namespace with this inode are never forgotten (the
 * host's: nothing primes it again). */
void ct_sysctl_keep(uint32_t netns);
/* The cookie of the calling thread's network namespace, 0 if not known. */
uint64_t ct_sysctl_netns_cookie(void);
size_t ct_sysctl_count(void);
void ct_sysctl_forget_all(void);

struct ct_sysctl_stats {
	uint64_t values, namespaces;  /* kept now */
	uint64_t namespaces_forgotten, values_refused;
};
void ct_sysctl_get_stats(struct ct_sysctl_stats *s);
/* sysctl_* in `changetrace status` */
extern const struct ct_counter_table ct_sysctl_counters;

#endif
