/* `changetrace agent` options: the table, their checks and defaults. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "export/otlp.h"
#include "store/store.h"
#include "lib/util.h"

static const char usage[] =
"usage: changetrace agent [--config FILE] [options]\n"
"\n"
"Load the probes and trace changes, in the foreground, as root: print one\n"
"line (or JSON object) per event, keep them in the store, serve the control\n"
"socket and the live feed. SIGHUP re-reads the --config files, the policy and\n"
"the watch list; SIGINT and SIGTERM stop it. Under systemd it says READY\n"
"once the probes are attached and sends watchdog keep-alives (WatchdogSec).\n"
"\n"
"  --config FILE       options from FILE, one per line without \"--\" (\"watch /srv/app\");\n"
"                      flags on the command line come after them and win\n"
"  --json              print events as JSON, one object per line\n"
"  --quiet             do not print events\n"
"  --socket PATH       control socket (default " CT_DEFAULT_SOCKET ")\n"
"  --group NAME        members of NAME may tag processes and register deploys\n"
"  --store DIR         event store and agent state (default " CT_DEFAULT_STORE ")\n"
"  --no-store          do not persist events (print only)\n"
"  --fsync POLICY      block (default: every sealed block), interval (1 s), never\n"
"  --retention-days N  remove stored segments older than N days\n"
"  --retention-mb N    keep the store under N MiB (oldest segments go first)\n"
"  --pin-dir DIR       bpffs directory for pinned maps (default " CT_DEFAULT_PIN_DIR ")\n"
"  --policy FILE       guardrail policy (see `changetrace policy`), reloaded on SIGHUP\n"
"  --protect PATH      halt AI-assisted unapproved changes and drift under PATH (repeatable)\n"
"  --watch PATH        watch PATH for config changes too (repeatable)\n"
"  --watch-only        watch only the --watch/--watch-list paths, not the default list\n"
"  --watch-list FILE   more paths to watch, one per line ('#' comments)\n"
"  --content-max KIB   keep copies (for `changetrace diff`) of files up to KIB (default 256)\n"
"  --hash-max MIB      digest files up to MIB (default 64); larger: size only\n"
"  --bulk-buffer KIB   ring buffer for process events (default 4096)\n"
"  --change-buffer KIB\n"
"                      ring buffer reserved for change events (default 1024)\n"
"  --feed-socket PATH  live event feed (default: feed.sock next to the control socket;\n"
"                      X.feed.sock for --socket X.sock)\n"
"  --feed-queue N      events queued per feed subscriber before it misses some (default 8192)\n"
"  --no-feed           do not serve the live feed\n"
"  --feed-file DIR     also write every event to rotating files in DIR (for log shippers)\n"
"  --feed-file-format json|proto   one JSON object per line (default) or length-delimited protobuf\n"
"  --feed-file-mb N    rotate at N MiB (default 64)\n"
"  --feed-file-keep N  keep N files (default 8)\n"
"  --otlp-endpoint URL\n"
"                      export events as OTLP logs over HTTP (POST URL/v1/logs)\n"
"  --runtime-socket PATH\n"
"                      container names from a docker-compatible API (docker,\n"
"                      podman system service) first, else the runtimes' state on disk\n"
"  -v, --verbose       more libbpf output (twice for debug)\n";

const struct option ct_agent_lopts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "socket", required_argument, NULL, 's' },
	{ "group", required_argument, NULL, 'g' },
	{ "store", required_argument, NULL, 'S' },
	{ "pin-dir", required_argument, NULL, 'P' },
	{ "no-store", no_argument, NULL, 'N' },
	{ "fsync", required_argument, NULL, 'F' },
	{ "retention-days", required_argument, NULL, 'D' },
	{ "retention-mb", required_argument, NULL, 'M' },
	{ "policy", required_argument, NULL, 'y' },
	{ "protect", required_argument, NULL, 'p' },
	{ "bulk-buffer", required_argument, NULL, 'B' },
	{ "change-buffer", required_argument, NULL, 'C' },
	{ "watch", required_argument, NULL, 'w' },
	{ "watch-only", no_argument, NULL, 'W' },
	{ "watch-list", required_argument, NULL, 'L' },
	{ "content-max", required_argument, NULL, 'K' },
	{ "hash-max", required_argument, NULL, 'H' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "feed-socket", required_argument, NULL, 'f' },
	{ "feed-queue", required_argument, NULL, 'Q' },
	{ "no-feed", no_argument, NULL, 'n' },
	{ "otlp-endpoint", required_argument, NULL, 'o' },
	{ "runtime-socket", required_argument, NULL, 'k' },
	{ "feed-file", required_argument, NULL, 'R' },
	{ "feed-file-format", required_argument, NULL, 'X' },
	{ "feed-file-mb", required_argument, NULL, 'Y' },
	{ "feed-file-keep", required_argument, NULL, 'Z' },
	{ "help", no_argument, NULL, 'h' },
	{ "config", required_argument, NULL, 'c' },   /* expanded before parsing */
	{ 0 }
};

int ct_agent_parse_opts(struct ct_agent_opts *o, int argc, char **argv)
{
	int c;
	long kib;

	o->bulk_rb_bytes = CT_BULK_RB_BYTES;
	o->change_rb_bytes = CT_CHANGE_RB_BYTES;
	o->store_dir = CT_DEFAULT_STORE;
	o->pin_dir = CT_DEFAULT_PIN_DIR;
	o->content_max = 256 << 10;
	o->hash_max = 64 << 20;
	o->feed_file_mb = 64;
	o->feed_file_keep = 8;
	optind = 1;
	while ((c = getopt_long(argc, argv, "v", ct_agent_lopts, NULL)) != -1) {
		switch (c) {
		case 'j': o->json = true; break;
		case 'q': o->quiet = true; break;
		case 's': o->socket_path = optarg; break;
		case 'g': o->group = optarg; break;
		case 'S': o->store_dir = optarg; break;
		case 'P': o->pin_dir = optarg; break;
		case 'N': o->no_store = true; break;
		case 'F':
			if (!strcmp(optarg, "block"))
				o->fsync_policy = CT_FSYNC_BLOCK;
			else if (!strcmp(optarg, "interval"))
				o->fsync_policy = CT_FSYNC_INTERVAL;
			else if (!strcmp(optarg, "never"))
				o->fsync_policy = CT_FSYNC_NEVER;
			else {
				ct_err("agent: --fsync must be block, interval or never");
				return -1;
			}
			break;
		case 'D':
		case 'M': {
			char *end;
			unsigned long long v = strtoull(optarg, &end, 10);

			if (*end || !v || v > 100000000ull || optarg[0] == '-') {
				ct_err("agent: --retention-%s must be a positive number", c == 'D' ? "days" : "mb");
				return -1;
			}
			if (c == 'D')
				o->retention_ns = v * 86400ull * 1000000000ull;
			else
				o->retention_bytes = v << 20;
			break;
		}
		case 'B':
		case 'C': {
			char *end;

			kib = strtol(optarg, &end, 10);
			/* a ring is a power of two pages: 4 KiB .. 1 GiB */
			if (*end || kib < 4 || kib > (1 << 20) || (kib & (kib - 1))) {
				ct_err("agent: --%s-buffer must be a power of two KiB between 4 and 1048576",
				       c == 'B' ? "bulk" : "change");
				return -1;
			}
			if (c == 'B')
				o->bulk_rb_bytes = kib * 1024;
			else
				o->change_rb_bytes = kib * 1024;
			break;
		}
		case 'y': o->policy_path = optarg; break;
		case 'p':
			if (o->n_protect >= (int)ARRAY_SIZE(o->protect)) {
				ct_err("agent: at most %zu --protect", ARRAY_SIZE(o->protect));
				return -1;
			}
			o->protect[o->n_protect++] = optarg;
			break;
		case 'w':
			if (o->n_watch >= CT_WATCH_MAX) {
				ct_err("agent: at most %d --watch", CT_WATCH_MAX);
				return -1;
			}
			o->watch[o->n_watch++] = optarg;
			break;
		case 'W': o->watch_only = true; break;
		case 'L': o->watch_list = optarg; break;
		case 'K':
		case 'H': {
			char *end;
			unsigned long long v = strtoull(optarg, &end, 10);

			if (*end || optarg[0] == '-' || !*optarg || v > (c == 'K' ? 1048576ull : 65536ull)) {
				ct_err("agent: --%s must be a number from 0 to %s",
				       c == 'K' ? "content-max" : "hash-max", c == 'K' ? "1048576" : "65536");
				return -1;
			}
			if (c == 'K')
				o->content_max = v << 10;
			else
				o->hash_max = v << 20;
			break;
		}
		case 'v': o->verbose++; break;
		case 'f': o->feed_socket = optarg; break;
		case 'n': o->no_feed = true; break;
		case 'R': o->feed_file_dir = optarg; break;
		case 'X':
			if (strcmp(optarg, "json") && strcmp(optarg, "proto")) {
				ct_err("agent: --feed-file-format must be json or proto");
				return -1;
			}
			o->feed_file_proto = !strcmp(optarg, "proto");
			break;
		case 'Y':
		case 'Z': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || !*optarg || optarg[0] == '-' || !v || v > 100000) {
				ct_err("agent: --feed-file-%s must be a number from 1 to 100000",
				       c == 'Y' ? "mb" : "keep");
				return -1;
			}
			if (c == 'Y')
				o->feed_file_mb = v;
			else
				o->feed_file_keep = v;
			break;
		}
		case 'Q': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || optarg[0] == '-' || v < 1 || v > 1000000) {
				ct_err("agent: --feed-queue must be a number of events between 1 and 1000000");
				return -1;
			}
			o->feed_queue = v;
			break;
		}
		case 'k':
			if (!*optarg || strlen(optarg) >= 108) {
				ct_err("agent: --runtime-socket must be a unix socket path (under 108 bytes)");
				return -1;
			}
			o->runtime_socket = optarg;
			break;
		case 'o':
			if (ct_otlp_check_endpoint(optarg) < 0)
				return -1;
			o->otlp_endpoint = optarg;
			break;
		case 'h': fputs(usage, stdout); exit(0);
		default: fputs(usage, stderr); return -1;
		}
	}
	if (optind < argc) {
		ct_err("agent: unexpected argument '%s'", argv[optind]);
		fputs(usage, stderr);
		return -1;
	}
	if (o->otlp_endpoint && o->no_store) {
		ct_err("agent: --otlp-endpoint exports from the store; it cannot be used with --no-store");
		return -1;
	}
	return 0;
}
