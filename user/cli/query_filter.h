/* Command-line filters shared by `query`, `timeline`, `blame` and `feed`:
 * --since/--until (RFC 3339 or relative: 30s, 15m, 2h, 7d), --deploy,
 * --kind (repeatable or comma list), --path GLOB, --ai, --drift, --comm,
 * --pid, --uid, --netns, --container, --pod, --unobserved. */
#ifndef CT_QUERY_FILTER_H
#define CT_QUERY_FILTER_H

#include <getopt.h>
#include <stdint.h>
#include "store/store.h"

/* long options for the filters; their vals are >= CT_FILTER_OPT_BASE */
#define CT_FILTER_OPT_BASE 0x1000
#define CT_FILTER_OPTIONS                                                   \
	{ "since", required_argument, NULL, CT_FILTER_OPT_BASE + 0 },      \
	{ "until", required_argument, NULL, CT_FILTER_OPT_BASE + 1 },      \
	{ "deploy", required_argument, NULL, CT_FILTER_OPT_BASE + 2 },     \
	{ "kind", required_argument, NULL, CT_FILTER_OPT_BASE + 3 },       \
	{ "path", required_argument, NULL, CT_FILTER_OPT_BASE + 4 },       \
	{ "ai", no_argument, NULL, CT_FILTER_OPT_BASE + 5 },               \
	{ "drift", no_argument, NULL, CT_FILTER_OPT_BASE + 6 },            \
	{ "comm", required_argument, NULL, CT_FILTER_OPT_BASE + 7 },       \
	{ "pid", required_argument, NULL, CT_FILTER_OPT_BASE + 8 },        \
	{ "uid", required_argument, NULL, CT_FILTER_OPT_BASE + 9 },        \
	{ "netns", required_argument, NULL, CT_FILTER_OPT_BASE + 10 },     \
	{ "container", required_argument, NULL, CT_FILTER_OPT_BASE + 11 }, \
	{ "pod", required_argument, NULL, CT_FILTER_OPT_BASE + 12 },       \
	{ "unobserved", no_argument, NULL, CT_FILTER_OPT_BASE + 13 }

#define CT_FILTER_USAGE                                                      \
"  --since TIME        RFC 3339 (2026-11-23T10:00:00Z) or relative (30s, 15m, 2h, 7d)\n" \
"  --until TIME        same forms\n"                                        \
"  --deploy ID         events of one deploy\n"                              \
"  --kind KIND         exec exit file net deploy guard gap agent (repeatable, or a,b)\n" \
"  --path GLOB         file changes whose path (or rename source) matches\n" \
"  --ai                AI-assisted deploys only\n"                          \
"  --drift             changes no deploy claims\n"                          \
"  --unobserved        changes made while no agent watched (found at a start)\n" \
"  --comm NAME         processes named NAME\n"                            \
"  --pid N             process N\n"                                      \
"  --uid N             processes of user id N\n"                          \
"  --netns INODE       network namespace (inode of /proc/PID/ns/net)\n"   \
"  --container ID|NAME events in a container (id, id prefix, or name)\n"  \
"  --pod UID|NAME      events in a Kubernetes pod (UID, name, NAMESPACE/NAME)\n"

/* Apply one filter option (opt = getopt's return). 0 ok, -1 bad value
 * (message printed). Returns 1 when opt is not a filter option. */
int ct_filter_apply(struct ct_store_filter *f, int opt, const char *arg);
/* Parse a time: RFC 3339 UTC / with offset, or relative to now. */
int ct_parse_time(const char *s, uint64_t now_wall_ns, uint64_t *out_ns);

#endif
