/*
 * blame: the history of one file, newest first, each change with the
 * provenance of the deploy that made it. Reads the store directly.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "query_filter.h"
#include "store_output.h"
#include "export/format.h"
#include "export/pb_json.h"
#include "lib/util.h"

static const char blame_usage[] =
"usage: changetrace blame PATH [--at TIME] [--store DIR] [--json]\n"
"\n"
"The history of one file, newest first, each change with its deploy's\n"
"provenance (AI or not, tool, model, author, approvers, ticket, commit).\n"
"\n"
"  --at TIME           as of TIME (RFC 3339 or relative: 30s, 15m, 2h, 7d)\n"
"  --store DIR         read this store (default " CT_DEFAULT_STORE ")\n"
"  --json              one JSON object per change\n";

/* blame: collect the file's changes, print newest first */
struct blame_ctx {
	PbEvent **ev;
	size_t n, cap;
	uint64_t at_ns;
};

static int collect(const PbEvent *ev, void *vctx)
{
	struct blame_ctx *c = vctx;
	size_t len = changetrace__v1__event__get_packed_size(ev);
	uint8_t *buf;

	if (c->at_ns && ev->time_unix_nano > c->at_ns)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		PbEvent **n = realloc(c->ev, cap * sizeof(*n));

		if (!n)
			return 1;
		c->ev = n;
		c->cap = cap;
	}
	buf = malloc(len ? len : 1);
	if (!buf)
		return 1;
	changetrace__v1__event__pack(ev, buf);
	c->ev[c->n] = changetrace__v1__event__unpack(NULL, len, buf);
	free(buf);
	if (c->ev[c->n])
		c->n++;
	return 0;
}

/* The newest DEPLOY record of each deploy: its provenance. */
struct deploy_lookup {
	const char *id;
	PbEvent *rec;
};

static int find_deploy(const PbEvent *ev, void *vctx)
{
	struct deploy_lookup *d = vctx;

	if (ev->detail_case != CHANGETRACE__V1__EVENT__DETAIL_DEPLOY || !ev->deploy ||
	    !ev->deploy->deploy || strcmp(ev->deploy->deploy->id, d->id))
		return 0;
	if (d->rec)
		changetrace__v1__event__free_unpacked(d->rec, NULL);
	d->rec = NULL;
	{
		size_t len = changetrace__v1__event__get_packed_size(ev);
		uint8_t *buf = malloc(len ? len : 1);

		if (buf) {
			changetrace__v1__event__pack(ev, buf);
			d->rec = changetrace__v1__event__unpack(NULL, len, buf);
			free(buf);
		}
	}
	return 0;
}

static void print_provenance(struct ct_store_reader *r, const char *deploy_id)
{
	struct ct_store_filter f = CT_STORE_FILTER_INIT;
	struct deploy_lookup d = { .id = deploy_id };
	const PbDeploy *dep;

	f.kind_mask = 1u << CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_DEPLOY;
	f.deploy_id = deploy_id;
	ct_store_scan(r, &f, find_deploy, &d);
	if (!d.rec) {
		printf("    provenance: deploy %s has no record in the store\n", deploy_id);
		return;
	}
	dep = d.rec->deploy->deploy;
	printf("    provenance: %s", dep->ai && dep->ai->ai_assisted ? "AI-assisted" : "not AI-assisted");
	if (dep->ai && dep->ai->tool && *dep->ai->tool)
		printf(" tool=%s", dep->ai->tool);
	if (dep->ai && dep->ai->model && *dep->ai->model)
		printf(" model=%s", dep->ai->model);
	if (dep->author && *dep->author)
		printf(" author=%s", dep->author);
	printf(" approved-by=");
	if (!dep->n_approved_by)
		printf("NOBODY");
	for (size_t i = 0; i < dep->n_approved_by; i++)
		printf("%s%s", i ? "," : "", dep->approved_by[i]);
	if (dep->ticket && *dep->ticket)
		printf(" ticket=%s", dep->ticket);
	if (dep->commit && *dep->commit)
		printf(" commit=%s", dep->commit);
	printf("\n");
	changetrace__v1__event__free_unpacked(d.rec, NULL);
}

int ct_cmd_blame(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "store", required_argument, NULL, 'S' },
		{ "at", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct ct_store_filter f = CT_STORE_FILTER_INIT;
	struct blame_ctx bc = { 0 };
	const char *dir = CT_DEFAULT_STORE;
	struct ct_store_reader *r;
	bool json = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'S': dir = optarg; break;
		case 'j': json = true; break;
		case 'a':
			if (ct_parse_time(optarg, ct_now_wall_ns(), &bc.at_ns) < 0) {
				ct_err("blame: bad --at time '%s'", optarg);
				return 2;
			}
			break;
		case 'h': fputs(blame_usage, stdout); return 0;
		default:
			fputs(blame_usage, stderr);
			return 2;
		}
	}
	if (optind + 1 != argc || argv[optind][0] != '/') {
		ct_err("blame: give one absolute PATH");
		return 2;
	}
	f.kind_mask = 1u << CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_FILE;
	f.path_glob = argv[optind];
	if (strpbrk(f.path_glob, "*?[")) {
		ct_err("blame: PATH is a file, not a glob (use query --path for globs)");
		return 2;
	}
	if (ct_cli_open_store(dir, &r) < 0)
		return 1;
	ct_store_scan(r, &f, collect, &bc);
	if (!bc.n && !json)
		printf("%s: no recorded changes\n", argv[optind]);
	for (size_t i = bc.n; i-- > 0;) {
		PbEvent *ev = bc.ev[i];

		if (json) {
			ct_pb_json_write(stdout, &ev->base);
			fputc('\n', stdout);
		} else {
			fprintf(stdout, "%s ", ev->event_id);
			ct_format_text(stdout, ev);
			if (ev->attribution && ev->attribution->deploy_id && *ev->attribution->deploy_id)
				print_provenance(r, ev->attribution->deploy_id);
			else if (ev->unobserved)
				printf("    provenance: none: changed while no agent watched; found at the "
				       "next start\n");
		}
		changetrace__v1__event__free_unpacked(ev, NULL);
	}
	free(bc.ev);
	ct_cli_report_corruption(r);
	ct_store_reader_close(r);
	return 0;
}
