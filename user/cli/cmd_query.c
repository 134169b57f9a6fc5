/*
 * query: stored events, filtered, as a table, --json or --proto.
 * timeline: everything in order, drift and AI marked.
 * Both read the store directly and work with the agent stopped.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "query_filter.h"
#include "store_output.h"
#include "lib/util.h"

#define QUERY_OUTPUT_USAGE \
"  --store DIR         read this store (default " CT_DEFAULT_STORE ")\n" \
"  --json              one JSON object per event\n" \
"  --proto             length-delimited changetrace.v1.Event protobuf\n" \
"  --limit N           stop after N events\n"

static const char query_usage[] =
"usage: changetrace query [filters] [--store DIR] [--json|--proto] [--limit N]\n"
"\n"
"Stored events, oldest first, that match every filter given.\n"
"\n"
CT_FILTER_USAGE
QUERY_OUTPUT_USAGE;

static const char timeline_usage[] =
"usage: changetrace timeline [filters] [--store DIR] [--json|--proto] [--limit N]\n"
"\n"
"Every change in order (process exits left out unless --kind asks),\n"
"drift and AI-assisted deploys marked.\n"
"\n"
CT_FILTER_USAGE
QUERY_OUTPUT_USAGE;

static int query_like(int argc, char **argv, bool timeline)
{
	static const struct option lopts[] = {
		CT_FILTER_OPTIONS,
		{ "store", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "proto", no_argument, NULL, 'p' },
		{ "limit", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct ct_store_filter f = CT_STORE_FILTER_INIT;
	struct ct_cli_print pc = { .mode = CT_OUT_TEXT };
	const char *dir = CT_DEFAULT_STORE;
	struct ct_store_reader *r;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		int rc = ct_filter_apply(&f, c, optarg);

		if (rc < 0)
			return 2;
		if (rc == 0)
			continue;
		switch (c) {
		case 'S': dir = optarg; break;
		case 'j': pc.mode = CT_OUT_JSON; break;
		case 'p': pc.mode = CT_OUT_PROTO; break;
		case 'l': {
			char *end;

			pc.limit = strtoull(optarg, &end, 10);
			if (*end || !pc.limit) {
				ct_err("--limit must be a positive number");
				return 2;
			}
			break;
		}
		case 'h':
			fputs(timeline ? timeline_usage : query_usage, stdout);
			return 0;
		default:
			fputs(timeline ? timeline_usage : query_usage, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		ct_err("unexpected argument '%s'", argv[optind]);
		return 2;
	}
	if (f.since_ns && f.until_ns && f.since_ns > f.until_ns) {
		ct_err("--since is after --until");
		return 2;
	}
	if (timeline && !f.kind_mask)   /* the changes, not every process exit */
		f.kind_mask = ~(1u << CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_EXIT);
	if (ct_cli_open_store(dir, &r) < 0)
		return 1;
	if (ct_store_resolve_names(r, &f) < 0)
		ct_err("warning: out of memory resolving --container/--pod names; "
		       "events recorded before a name was known may be missing");
	ct_store_scan(r, &f, ct_cli_print_event, &pc);
	fflush(stdout);
	ct_cli_report_corruption(r);
	ct_store_reader_close(r);
	ct_store_filter_free(&f);
	return 0;
}

int ct_cmd_query(int argc, char **argv) { return query_like(argc, argv, false); }
int ct_cmd_timeline(int argc, char **argv) { return query_like(argc, argv, true); }
