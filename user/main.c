/* changetrace: production change tracer. Subcommand dispatch. */
#include <stdio.h>
#include <string.h>

#include "agent/agent.h"
#include "cli/cli.h"
#include "lib/util.h"

static const char usage[] =
"usage: changetrace COMMAND [options]\n"
"\n"
"changetrace traces production changes from the kernel: every process launch,\n"
"config write and network-policy change, each attributed to the deploy that\n"
"made it, with its provenance (AI-assisted or not, tool, model, author,\n"
"approver); what no deploy claims is drift.\n"
"\n"
"  agent     load the probes and trace changes (foreground, as root)\n"
"  run       run a command attributed to a deploy: run --deploy ID -- CMD ...\n"
"  status    agent health: probes, events seen and dropped\n"
"  policy    check a guardrail policy file: policy check FILE\n"
"  query     stored events, filtered (table, --json, --proto)\n"
"  timeline  everything in order, drift and AI marked: timeline --since 1h\n"
"  blame     history of one file: blame PATH [--at TIME]\n"
"  diff      what a file change changed: diff EVENT_ID\n"
"  verify    prove the store's hash chain or name the first bad block\n"
"  feed      follow events live (after replaying the store with --since)\n"
"  deploy    register deploys and their provenance: deploy start|end|list|show\n"
"  version   print the version\n"
"\n"
"`changetrace COMMAND --help` (or `changetrace help COMMAND`) for a command's options.\n";

static const char version_usage[] =
"usage: changetrace version\n"
"\n"
"Print the version (also: changetrace --version).\n";

static const struct {
	const char *name;
	int (*fn)(int, char **);
} commands[] = {
	{ "agent", ct_cmd_agent },
	{ "run", ct_cmd_run },
	{ "status", ct_cmd_status },
	{ "policy", ct_cmd_policy },
	{ "query", ct_cmd_query },
	{ "timeline", ct_cmd_timeline },
	{ "blame", ct_cmd_blame },
	{ "diff", ct_cmd_diff },
	{ "verify", ct_cmd_verify },
	{ "feed", ct_cmd_feed },
	{ "deploy", ct_cmd_deploy },
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		char *help_argv[] = { argc > 2 ? argv[2] : NULL, "--help", NULL };

		if (argc > 2 && strcmp(argv[2], "version"))
			for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
				if (!strcmp(argv[2], commands[i].name))
					return commands[i].fn(2, help_argv);
		if (argc > 2 && !strcmp(argv[2], "version")) {
			fputs(version_usage, stdout);
			return 0;
		}
		if (argc > 2) {
			ct_err("unknown command '%s'", argv[2]);
			fputs(usage, stderr);
			return 2;
		}
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "version") && argc > 2 &&
	    (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
		fputs(version_usage, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("changetrace %s\n", CT_VERSION);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	ct_err("unknown command '%s'", argv[1]);
	fputs(usage, stderr);
	return 2;
}
