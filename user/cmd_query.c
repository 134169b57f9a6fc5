/*
 * Forensic commands over the store; all read the store directly and work
 * with the agent stopped:
 *   query     filtered events, as a table, --json or --proto
 *   timeline  everything in order, drift and AI marked
 *   blame     the history of one file, newest first, with provenance
 *   verify    prove the hash chain or name the first bad block
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "format.h"
#include "pb_json.h"
#include "query_filter.h"
#include "store.h"
#include "store_block.h"
#include "util.h"

enum out_mode { OUT_TEXT, OUT_JSON, OUT_PROTO };

struct print_ctx {
	enum out_mode mode;
	uint64_t limit, printed;
};

static int print_event(const PbEvent *ev, void *vctx)
{
	struct print_ctx *c = vctx;

	if (c->mode == OUT_JSON) {
		ct_pb_json_write(stdout, &ev->base);
		fputc('\n', stdout);
	} else if (c->mode == OUT_PROTO) {
		size_t n = changetrace__v1__event__get_packed_size(ev);
		uint8_t hdr[10], *buf = malloc(n ? n : 1);

		if (buf) {
			fwrite(hdr, 1, ct_varint_write(hdr, n), stdout);
			changetrace__v1__event__pack(ev, buf);
			fwrite(buf, 1, n, stdout);
			free(buf);
		}
	} else {
		fprintf(stdout, "%s ", ev->event_id);
		ct_format_text(stdout, ev);
	}
	c->printed++;
	return c->limit && c->printed >= c->limit;
}

static int open_reader(const char *dir, struct ct_store_reader **r)
{
	char err[512];

	if (ct_store_reader_open(r, dir, err, sizeof(err)) < 0) {
		ct_err("%s", err);
		return -1;
	}
	return 0;
}

static void report_corruption(struct ct_store_reader *r)
{
	uint64_t bad = ct_store_reader_corrupt_blocks(r);

	if (bad)
		ct_err("warning: %llu corrupt block(s) skipped; `changetrace verify` names them",
		       (unsigned long long)bad);
}

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
	struct print_ctx pc = { .mode = OUT_TEXT };
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
		case 'j': pc.mode = OUT_JSON; break;
		case 'p': pc.mode = OUT_PROTO; break;
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
			printf("usage: changetrace %s [filters] [--store DIR] [--json|--proto] [--limit N]\n%s",
			       timeline ? "timeline" : "query", CT_FILTER_USAGE);
			return 0;
		default:
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
	if (open_reader(dir, &r) < 0)
		return 1;
	ct_store_scan(r, &f, print_event, &pc);
	fflush(stdout);
	report_corruption(r);
	ct_store_reader_close(r);
	return 0;
}

int ct_cmd_query(int argc, char **argv) { return query_like(argc, argv, false); }
int ct_cmd_timeline(int argc, char **argv) { return query_like(argc, argv, true); }

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
		default:
			fputs("usage: changetrace blame PATH [--at TIME] [--store DIR] [--json]\n", stderr);
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
	if (open_reader(dir, &r) < 0)
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
	report_corruption(r);
	ct_store_reader_close(r);
	return 0;
}

int ct_cmd_verify(int argc, char **argv)
{
	const char *dir = CT_DEFAULT_STORE;
	uint64_t blocks, events;
	char err[512];

	if (argc == 3 && !strcmp(argv[1], "--store"))
		dir = argv[2];
	else if (argc != 1) {
		fputs("usage: changetrace verify [--store DIR]\n", stderr);
		return 2;
	}
	if (access(dir, R_OK) != 0) {
		ct_err("verify: no store at %s", dir);
		return 1;
	}
	if (ct_store_verify(dir, &blocks, &events, err, sizeof(err)) < 0) {
		printf("store %s: BROKEN after %llu good blocks: %s\n", dir,
		       (unsigned long long)blocks, err);
		return 1;
	}
	printf("store %s: chain intact: %llu blocks, %llu events\n", dir,
	       (unsigned long long)blocks, (unsigned long long)events);
	return 0;
}
