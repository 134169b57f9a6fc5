/* `changetrace status [--json]`: is the agent up, what attached, what was
 * seen and what was lost. Exit 0 when the agent answers, 1 when not. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lib/control.h"
#include "export/pb_json.h"
#include "lib/util.h"

static const char status_usage[] =
"usage: changetrace status [--json] [--socket PATH]\n"
"\n"
"Is the agent up; which probes attached (and how); events seen and dropped\n"
"per kind; ring-buffer capacity and losses per path; internal counters.\n"
"Exit 0 when the agent answers, 1 when it does not.\n"
"\n"
"  --json              one JSON object ({\"agent\":\"up\",\"status\":{...}})\n"
"  --socket PATH       agent control socket (default $CHANGETRACE_SOCKET or\n"
"                      " CT_DEFAULT_SOCKET ")\n";

static void print_counters(const char *title, PbCounter **c, size_t n)
{
	printf("%s:", title);
	for (size_t i = 0; i < n; i++)
		printf(" %s=%llu", c[i]->name, (unsigned long long)c[i]->value);
	printf("\n");
}

int ct_cmd_status(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	PbStatusRequest sreq = CHANGETRACE__V1__STATUS_REQUEST__INIT;
	PbRequest req = CHANGETRACE__V1__REQUEST__INIT;
	const char *sock = NULL;
	bool json = false;
	PbResponse *resp;
	char err[256];
	int c, fd;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 's': sock = optarg; break;
		case 'h': fputs(status_usage, stdout); return 0;
		default:
			fputs(status_usage, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		ct_err("status: unexpected argument '%s'", argv[optind]);
		return 2;
	}
	fd = ct_ctl_connect(ct_socket_path(sock), err, sizeof(err));
	if (fd < 0) {
		if (json)
			printf("{\"agent\":\"down\",\"error\":"), ct_json_str(stdout, err), printf("}\n");
		else
			printf("agent: not running (%s)\n", err);
		return 1;
	}
	req.body_case = CHANGETRACE__V1__REQUEST__BODY_STATUS;
	req.status = &sreq;
	resp = ct_ctl_call(fd, &req, err, sizeof(err));
	close(fd);
	if (!resp || !resp->ok || resp->body_case != CHANGETRACE__V1__RESPONSE__BODY_STATUS) {
		ct_err("status: %s", resp ? resp->error : err);
		if (resp)
			changetrace__v1__response__free_unpacked(resp, NULL);
		return 1;
	}
	PbStatusResponse *s = resp->status;

	if (json) {
		printf("{\"agent\":\"up\",\"status\":");
		ct_pb_json_write(stdout, &s->base);
		printf("}\n");
	} else {
		printf("agent: up (pid %u, version %s, uptime %.0fs)\n", s->agent_pid,
		       s->version, s->uptime_ns / 1e9);
		if (s->last_state && *s->last_state)
			printf("last known state: %s%s: %s\n",
			       !strcmp(s->last_state, "store-wiped") ? "STORE WIPED " : "",
			       s->last_state, s->last_state_detail);
		printf("probes:\n");
		for (size_t i = 0; i < s->n_probes; i++)
			printf("  %-14s %-10s %s%s\n", s->probes[i]->name, s->probes[i]->attach_type,
			       s->probes[i]->attached ? "attached" : "NOT ATTACHED: ",
			       s->probes[i]->error);
		print_counters("seen", s->seen, s->n_seen);
		print_counters("dropped", s->dropped, s->n_dropped);
		printf("paths:\n");
		for (size_t i = 0; i < s->n_paths; i++)
			printf("  %-8s capacity=%lluB high_water=%lluB lost=%llu\n", s->paths[i]->name,
			       (unsigned long long)s->paths[i]->capacity_bytes,
			       (unsigned long long)s->paths[i]->high_water_bytes,
			       (unsigned long long)s->paths[i]->lost);
		print_counters("counters", s->counters, s->n_counters);
	}
	changetrace__v1__response__free_unpacked(resp, NULL);
	return 0;
}
