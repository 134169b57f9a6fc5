/*
 * Sysctl values as text, per network namespace. A /proc/sys/net file shows
 * the value of the reading thread's network namespace, so one path holds
 * a value per namespace: the agent reads it in the writer's (event_net.c's
 * worker enters it), and keeps the last known value per (namespace, path),
 * which is the "before" of the next write there. Other sysctls are global
 * (kept under namespace 0). The table is filled at start for the host and
 * every named namespace, and after each write.
 */
#ifndef CT_SYSCTL_VALUES_H
#define CT_SYSCTL_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "lib/counters.h"

#define CT_SYSCTL_READ_MAX  8192     /* sysctl files are at most a page */
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

/* Last known content of path in netns (0 for a global sysctl), into buf
 * (len >= CT_SYSCTL_READ_MAX); *n its length. False if not known. */
bool ct_sysctl_known(uint32_t netns, const char *path, char *buf, size_t len, size_t *n);
/* only_new: keep an existing value (a change seen first is newer). */
void ct_sysctl_remember(uint32_t netns, const char *path, const char *raw, size_t n,
			bool only_new);
/* Remember every readable sysctl under dir, read in the calling thread's
 * namespace, under netns (0 for those not under /proc/sys/net). Marks
 * netns as primed; the oldest primed namespace may be forgotten for it.
 * Returns how many were read. */
size_t ct_sysctl_prime(uint32_t netns, const char *dir);
/* Was netns primed (its values are known from before its changes)? */
bool ct_sysctl_primed(uint32_t netns);
/* netns's values are never forgotten (the host's: nothing primes it
 * again). */
void ct_sysctl_keep(uint32_t netns);
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
