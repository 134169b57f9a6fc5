/* A deploy's footprint: see deploy_footprint.h. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deploy_footprint.h"
#include "lib/net_object.h"
#include "export/event_utf8.h"
#include "export/format.h"
#include "export/pb_json.h"
#include "guard/policy.h"
#include "lib/util.h"

#define TEXT_FILES_MAX 200   /* text lists this many; --json has them all */

void ct_footprint_init(struct ct_footprint *fp, const PbDeploy *deploy)
{
	memset(fp, 0, sizeof(*fp));
	fp->deploy = deploy;
}

static bool same_netns(const struct ct_fp_count *x, const char *netns)
{
	const char *have = x->net ? x->net->netns : NULL;

	return !netns || (have && !strcmp(have, netns));
}

/* Count key (in namespace netns, for network objects: the same route in
 * two namespaces is two objects). */
static struct ct_fp_count *count_in(struct ct_footprint *fp, struct ct_fp_counts *c,
				    const char *key, const char *netns)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].key, key) && same_netns(&c->v[i], netns)) {
			c->v[i].n++;
			return &c->v[i];
		}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct ct_fp_count *v = realloc(c->v, cap * sizeof(*v));

		if (!v) {
			fp->oom = true;
			return NULL;
		}
		c->v = v;
		c->cap = cap;
	}
	memset(&c->v[c->n], 0, sizeof(c->v[0]));
	c->v[c->n].key = strdup(key);
	if (!c->v[c->n].key) {
		fp->oom = true;
		return NULL;
	}
	c->v[c->n].n = 1;
	return &c->v[c->n++];
}

static struct ct_fp_count *count(struct ct_footprint *fp, struct ct_fp_counts *c, const char *key)
{
	return count_in(fp, c, key, NULL);
}

static const char *enum_short(const ProtobufCEnumDescriptor *d, int v)
{
	const char *s = ct_pb_enum_short(d, v);

	return s ? s : "?";
}

bool ct_footprint_file_out_of_scope(const PbDeploy *d, const Changetrace__V1__FileChange *f)
{
	if (!d || !f)
		return false;
	return !ct_policy_in_scope(d, f->path) ||
	       (f->old_path && *f->old_path && !ct_policy_in_scope(d, f->old_path));
}

static char *dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

/* The object's name: its policy name, what kind of thing changed in it,
 * and for a rule what identifies it (its text, else its handle):
 * "nft:inet/ct1/in rule tcp dport 22 accept", "route:main/10.0.0.0/8 route",
 * "iptables:filter/INPUT rule -A INPUT -p tcp -m tcp --dport 22 -j DROP". */
static void net_object_name(const PbNetPolicyChange *n, char *out, size_t len)
{
	char obj[256];
	size_t o;
	bool rule_like = n->subsystem == CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_RULE ||
			 (n->object_type && !strcmp(n->object_type, "rule"));

	ct_net_object_name(n, obj, sizeof(obj));
	o = snprintf(out, len, "%s %s", obj,
		     n->object_type && *n->object_type ? n->object_type
		     : enum_short(&changetrace__v1__net_subsystem__descriptor, n->subsystem));
	if (o >= len || !rule_like)
		return;
	if (n->rule && *n->rule)
		snprintf(out + o, len - o, " %s", n->rule);
	else if (n->handle)
		snprintf(out + o, len - o, " handle %llu", (unsigned long long)n->handle);
}

static struct ct_fp_net *net_identity(const PbEvent *ev, const char *netns)
{
	const PbNetPolicyChange *n = ev->net;
	struct ct_fp_net *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->netns = dup_or_null(netns);
	x->subsystem = dup_or_null(enum_short(&changetrace__v1__net_subsystem__descriptor,
					      n->subsystem));
	x->family = dup_or_null(n->family);
	x->table = dup_or_null(n->table);
	x->chain = dup_or_null(n->chain);
	x->destination = dup_or_null(n->destination);
	x->device = dup_or_null(n->device);
	x->rule = dup_or_null(n->rule);
	x->handle = n->handle;
	return x;
}

static void net_identity_free(struct ct_fp_net *x)
{
	if (!x)
		return;
	free(x->netns);
	free(x->subsystem);
	free(x->family);
	free(x->table);
	free(x->chain);
	free(x->destination);
	free(x->device);
	free(x->rule);
	free(x);
}

static void add_file(struct ct_footprint *fp, const PbEvent *ev)
{
	const Changetrace__V1__FileChange *f = ev->file;
	struct ct_fp_file *x;
	char buf[PATH_MAX];
	const char *path;

	if (fp->n_files == fp->cap_files) {
		size_t cap = fp->cap_files ? fp->cap_files * 2 : 64;
		struct ct_fp_file *v = realloc(fp->files, cap * sizeof(*v));

		if (!v) {
			fp->oom = true;
			return;
		}
		fp->files = v;
		fp->cap_files = cap;
	}
	x = &fp->files[fp->n_files++];
	memset(x, 0, sizeof(*x));
	x->event_id = dup_or_null(ev->event_id);
	x->path = dup_or_null(f->path);
	x->old_path = dup_or_null(f->old_path);
	x->comm = dup_or_null(ev->process ? ev->process->comm : NULL);
	x->op = f->op;
	x->time_ns = ev->time_unix_nano;
	x->pid = ev->process ? ev->process->pid : 0;
	x->content_kept = f->content_kept;
	x->out_of_scope = ct_footprint_file_out_of_scope(fp->deploy, f);
	if (x->out_of_scope)
		fp->files_out_of_scope++;
	count(fp, &fp->file_ops, enum_short(&changetrace__v1__file_op__descriptor, f->op));
	/* distinct files by their bytes, as the agent's budgets count them */
	path = ct_event_raw_string(ev, "file.path", f->path, buf, sizeof(buf));
	count(fp, &fp->paths, path);
	count(fp, &fp->budget_files, path);
	if (f->old_path && *f->old_path)
		count(fp, &fp->budget_files,
		      ct_event_raw_string(ev, "file.old_path", f->old_path, buf, sizeof(buf)));
}

/* The command line as one string (argv joined by spaces, bounded). */
static char *joined_argv(const PbProcess *p)
{
	char buf[1024];
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; p && i < p->n_argv && off < sizeof(buf); i++)
		off += snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? " " : "",
				p->argv[i] ? p->argv[i] : "");
	return strdup(buf);
}

static void add_stopped(struct ct_footprint *fp, const PbEvent *ev)
{
	const Changetrace__V1__GuardVerdict *g = ev->guard;
	struct ct_fp_stopped *x;

	if (fp->n_stopped == fp->cap_stopped) {
		size_t cap = fp->cap_stopped ? fp->cap_stopped * 2 : 8;
		struct ct_fp_stopped *v = realloc(fp->stopped, cap * sizeof(*v));

		if (!v) {
			fp->oom = true;
			return;
		}
		fp->stopped = v;
		fp->cap_stopped = cap;
	}
	x = &fp->stopped[fp->n_stopped++];
	memset(x, 0, sizeof(*x));
	x->event_id = dup_or_null(ev->event_id);
	x->rule = dup_or_null(g->rule);
	x->reason = dup_or_null(g->reason);
	x->command = joined_argv(ev->process);
	x->action = g->action;
	x->enforced = g->enforced;
	x->time_ns = ev->time_unix_nano;
	x->pid = ev->process ? ev->process->pid : 0;
}

void ct_footprint_add(struct ct_footprint *fp, const PbEvent *ev)
{
	struct ct_fp_count *c;
	char key[512];

	/* made while no agent watched: nobody's, whatever a store says */
	if (ev->unobserved)
		return;
	fp->events++;
	ct_fp_containers_add(&fp->containers, ev);
	if (!fp->first_ns || ev->time_unix_nano < fp->first_ns)
		fp->first_ns = ev->time_unix_nano;
	if (ev->time_unix_nano > fp->last_ns)
		fp->last_ns = ev->time_unix_nano;
	switch (ev->detail_case) {
	case CHANGETRACE__V1__EVENT__DETAIL_EXEC:
		fp->execs++;
		count(fp, &fp->comms, ev->process && ev->process->comm ? ev->process->comm : "?");
		break;
	case CHANGETRACE__V1__EVENT__DETAIL_FILE:
		if (ev->file)
			add_file(fp, ev);
		break;
	case CHANGETRACE__V1__EVENT__DETAIL_NET: {
		char obj[256], netns[64];

		if (!ev->net)
			break;
		fp->net++;
		/* the object the guard protects and scopes, plus what kind of
		 * thing changed in it: "nft:inet/ct1 chain", in its namespace */
		ct_net_object_name(ev->net, obj, sizeof(obj));
		net_object_name(ev->net, key, sizeof(key));
		if (ev->net->netns_name && *ev->net->netns_name)
			ct_strlcpy(netns, ev->net->netns_name, sizeof(netns));
		else
			snprintf(netns, sizeof(netns), "%u", ev->net->netns_inode);
		count(fp, &fp->budget_net, obj);
		c = count_in(fp, &fp->net_objects, key, netns);
		if (c && !c->net)
			c->net = net_identity(ev, netns);
		if (c && ev->net->op < (int)ARRAY_SIZE(c->ops))
			c->ops[ev->net->op]++;
		if (fp->deploy && !ct_policy_in_scope(fp->deploy, obj)) {
			fp->net_out_of_scope++;
			if (c)
				c->out_of_scope = true;
		}
		break;
	}
	case CHANGETRACE__V1__EVENT__DETAIL_GUARD:
		if (!ev->guard)
			break;
		fp->guard++;
		snprintf(key, sizeof(key), "%s %s", ev->guard->rule ? ev->guard->rule : "?",
			 enum_short(&changetrace__v1__guard_action__descriptor, ev->guard->action));
		c = count(fp, &fp->verdicts, key);
		if (c && ev->guard->enforced)
			c->enforced++;
		if (ev->guard->before_exec)
			add_stopped(fp, ev);
		break;
	default:
		break;
	}
}

static int by_count(const void *a, const void *b)
{
	const struct ct_fp_count *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->key, y->key);
}

static void sorted(const struct ct_fp_counts *c)
{
	if (c->n > 1)
		qsort(c->v, c->n, sizeof(c->v[0]), by_count);
}

static void print_ops(FILE *out, const struct ct_fp_count *c)
{
	const char *sep = "";

	for (size_t k = 1; k < ARRAY_SIZE(c->ops); k++) {
		const char *name = ct_pb_enum_short(&changetrace__v1__net_op__descriptor, k);

		if (!c->ops[k] || !name)
			continue;
		fprintf(out, "%s%s=%llu", sep, name, (unsigned long long)c->ops[k]);
		sep = " ";
	}
}

void ct_footprint_print_text(FILE *out, const struct ct_footprint *fp, const char *deploy_id)
{
	char t1[48], t2[48];

	sorted(&fp->comms);
	sorted(&fp->net_objects);
	sorted(&fp->verdicts);
	sorted(&fp->file_ops);
	fprintf(out, "\nfootprint on this host: %llu events", (unsigned long long)fp->events);
	if (fp->events)
		fprintf(out, " from %s to %s", ct_fmt_time(fp->first_ns, t1, sizeof(t1)),
			ct_fmt_time(fp->last_ns, t2, sizeof(t2)));
	fputc('\n', out);
	fprintf(out, "  files changed:        %zu changes to %zu paths", fp->n_files, fp->paths.n);
	for (size_t i = 0; i < fp->file_ops.n; i++)
		fprintf(out, "%s%s=%llu", i ? " " : " (", fp->file_ops.v[i].key,
			(unsigned long long)fp->file_ops.v[i].n);
	fprintf(out, "%s\n", fp->file_ops.n ? ")" : "");
	for (size_t i = 0; i < fp->n_files && i < TEXT_FILES_MAX; i++) {
		const struct ct_fp_file *f = &fp->files[i];

		/* paths and comm are anyone's bytes: escaped for the terminal */
		fprintf(out, "    %s %-8s ", f->event_id ? f->event_id : "-",
			enum_short(&changetrace__v1__file_op__descriptor, f->op));
		if (f->old_path) {
			ct_text_word(out, f->old_path);
			fputs(" -> ", out);
		}
		ct_text_word(out, f->path ? f->path : "");
		fprintf(out, " pid=%u comm=", f->pid);
		ct_text_word(out, f->comm ? f->comm : "-");
		fprintf(out, "%s%s\n", f->content_kept ? " [diff]" : "", f->out_of_scope ? " OUT-OF-SCOPE" : "");
	}
	if (fp->n_files > TEXT_FILES_MAX)
		fprintf(out, "    ... %zu more: changetrace query --deploy %s --kind file\n",
			fp->n_files - TEXT_FILES_MAX, deploy_id);
	fprintf(out, "  processes launched:   %llu execs, %zu distinct commands\n",
		(unsigned long long)fp->execs, fp->comms.n);
	for (size_t i = 0; i < fp->comms.n; i++)
	{
		fputs("    ", out);
		ct_text_word_pad(out, fp->comms.v[i].key, 16);
		fprintf(out, " %llu\n", (unsigned long long)fp->comms.v[i].n);
	}
	fprintf(out, "  network changes:      %llu in %zu objects\n", (unsigned long long)fp->net,
		fp->net_objects.n);
	for (size_t i = 0; i < fp->net_objects.n; i++) {
		const struct ct_fp_count *c = &fp->net_objects.v[i];

		fputs("    ", out);
		ct_text_word_pad(out, c->key, 40);
		fprintf(out, " %llu (", (unsigned long long)c->n);
		print_ops(out, c);
		fprintf(out, ")");
		if (c->net && c->net->netns) {
			fputs(" netns ", out);
			ct_text_word(out, c->net->netns);
		}
		fprintf(out, "%s\n", c->out_of_scope ? " OUT-OF-SCOPE" : "");
	}
	fprintf(out, "  guard verdicts:       %llu\n", (unsigned long long)fp->guard);
	for (size_t i = 0; i < fp->verdicts.n; i++)
		fprintf(out, "    %-40s %llu (enforced %llu)\n", fp->verdicts.v[i].key,
			(unsigned long long)fp->verdicts.v[i].n,
			(unsigned long long)fp->verdicts.v[i].enforced);
	if (fp->n_stopped)
		fprintf(out, "  commands judged at exec (exec rules):\n");
	for (size_t i = 0; i < fp->n_stopped; i++) {
		const struct ct_fp_stopped *x = &fp->stopped[i];
		int a = x->action;

		/* argv and the reason carry whatever bytes the command had */
		fprintf(out, "    %s %s pid=%u ", x->event_id ? x->event_id : "-",
			ct_fmt_time(x->time_ns, t1, sizeof(t1)), x->pid);
		ct_text_escaped(out, x->rule ? x->rule : "?");
		fprintf(out, " %s%s: ",
			a == CHANGETRACE__V1__GUARD_ACTION__GUARD_ACTION_HALT ? "STOPPED" :
			a == CHANGETRACE__V1__GUARD_ACTION__GUARD_ACTION_KILL ? "KILLED" : "ALERT",
			a != CHANGETRACE__V1__GUARD_ACTION__GUARD_ACTION_ALERT && !x->enforced
				? " (signal failed)" : "");
		ct_text_escaped(out, x->command ? x->command : "");
		fputs("\n      why: ", out);
		ct_text_escaped(out, x->reason ? x->reason : "");
		fputc('\n', out);
	}
	ct_fp_containers_print_text(out, &fp->containers);
	if (!fp->deploy || !fp->deploy->n_scope)
		fprintf(out, "  outside scope:        - (no scope declared)\n");
	else
		fprintf(out, "  outside scope:        %llu file changes, %llu network changes\n",
			(unsigned long long)fp->files_out_of_scope,
			(unsigned long long)fp->net_out_of_scope);
	if (fp->oom || fp->containers.oom)
		fprintf(out, "  (out of memory: the footprint is incomplete)\n");
}

static void json_field(FILE *out, const char *name, const char *v)
{
	if (!v)
		return;
	fprintf(out, ",\"%s\":", name);
	ct_json_str(out, v);
}

static void json_net_identity(FILE *out, const struct ct_fp_net *x)
{
	if (!x)
		return;
	json_field(out, "netns", x->netns);
	json_field(out, "subsystem", x->subsystem);
	json_field(out, "family", x->family);
	json_field(out, "table", x->table);
	json_field(out, "chain", x->chain);
	json_field(out, "destination", x->destination);
	json_field(out, "device", x->device);
	json_field(out, "rule", x->rule);
	if (x->handle)
		fprintf(out, ",\"handle\":%llu", (unsigned long long)x->handle);
}

static void json_counts(FILE *out, const char *name, const struct ct_fp_counts *c, int kind)
{
	fprintf(out, ",");
	ct_json_str(out, name);
	fprintf(out, ":[");
	for (size_t i = 0; i < c->n; i++) {
		const struct ct_fp_count *x = &c->v[i];

		fprintf(out, "%s{\"name\":", i ? "," : "");
		ct_json_str(out, x->key);
		fprintf(out, ",\"count\":%llu", (unsigned long long)x->n);
		if (kind == 1) {
			fprintf(out, ",\"ops\":{");
			for (size_t k = 1, first = 1; k < ARRAY_SIZE(x->ops); k++) {
				const char *op = ct_pb_enum_short(&changetrace__v1__net_op__descriptor, k);

				if (!x->ops[k] || !op)
					continue;
				fprintf(out, "%s\"%s\":%llu", first ? "" : ",", op,
					(unsigned long long)x->ops[k]);
				first = 0;
			}
			fprintf(out, "},\"out_of_scope\":%s", x->out_of_scope ? "true" : "false");
			json_net_identity(out, x->net);
		} else if (kind == 2) {
			fprintf(out, ",\"enforced\":%llu", (unsigned long long)x->enforced);
		}
		fputc('}', out);
	}
	fputc(']', out);
}

void ct_footprint_print_json(FILE *out, const struct ct_footprint *fp)
{
	sorted(&fp->comms);
	sorted(&fp->net_objects);
	sorted(&fp->verdicts);
	sorted(&fp->file_ops);
	fprintf(out, "{\"events\":%llu,\"first_unix_nano\":%llu,\"last_unix_nano\":%llu",
		(unsigned long long)fp->events, (unsigned long long)fp->first_ns,
		(unsigned long long)fp->last_ns);
	fprintf(out, ",\"files\":{\"changes\":%zu,\"paths\":%zu,\"out_of_scope\":%llu",
		fp->n_files, fp->paths.n, (unsigned long long)fp->files_out_of_scope);
	json_counts(out, "ops", &fp->file_ops, 0);
	fprintf(out, ",\"list\":[");
	for (size_t i = 0; i < fp->n_files; i++) {
		const struct ct_fp_file *f = &fp->files[i];

		fprintf(out, "%s{\"event_id\":", i ? "," : "");
		ct_json_str(out, f->event_id ? f->event_id : "");
		fprintf(out, ",\"op\":\"%s\",\"path\":", enum_short(&changetrace__v1__file_op__descriptor, f->op));
		ct_json_str(out, f->path ? f->path : "");
		if (f->old_path) {
			fprintf(out, ",\"old_path\":");
			ct_json_str(out, f->old_path);
		}
		fprintf(out, ",\"time_unix_nano\":%llu,\"pid\":%u,\"comm\":",
			(unsigned long long)f->time_ns, f->pid);
		ct_json_str(out, f->comm ? f->comm : "");
		fprintf(out, ",\"content_kept\":%s,\"out_of_scope\":%s}",
			f->content_kept ? "true" : "false", f->out_of_scope ? "true" : "false");
	}
	fprintf(out, "]}");
	fprintf(out, ",\"processes\":{\"execs\":%llu,\"distinct_comms\":%zu",
		(unsigned long long)fp->execs, fp->comms.n);
	json_counts(out, "comms", &fp->comms, 0);
	fprintf(out, "},\"net\":{\"changes\":%llu,\"out_of_scope\":%llu",
		(unsigned long long)fp->net, (unsigned long long)fp->net_out_of_scope);
	json_counts(out, "objects", &fp->net_objects, 1);
	fprintf(out, "},\"guard\":{\"verdicts\":%llu", (unsigned long long)fp->guard);
	json_counts(out, "rules", &fp->verdicts, 2);
	fprintf(out, ",\"at_exec\":[");
	for (size_t i = 0; i < fp->n_stopped; i++) {
		const struct ct_fp_stopped *x = &fp->stopped[i];

		fprintf(out, "%s{\"event_id\":", i ? "," : "");
		ct_json_str(out, x->event_id ? x->event_id : "");
		fprintf(out, ",\"time_unix_nano\":%llu,\"pid\":%u,\"rule\":",
			(unsigned long long)x->time_ns, x->pid);
		ct_json_str(out, x->rule ? x->rule : "");
		fprintf(out, ",\"action\":\"%s\",\"enforced\":%s,\"command\":",
			enum_short(&changetrace__v1__guard_action__descriptor, x->action),
			x->enforced ? "true" : "false");
		ct_json_str(out, x->command ? x->command : "");
		fprintf(out, ",\"reason\":");
		ct_json_str(out, x->reason ? x->reason : "");
		fputc('}', out);
	}
	fputc(']', out);
	fputc('}', out);
	ct_fp_containers_print_json(out, &fp->containers);
	fprintf(out, ",\"scope_declared\":%s,\"out_of_scope\":%llu,\"complete\":%s}",
		fp->deploy && fp->deploy->n_scope ? "true" : "false",
		(unsigned long long)(fp->files_out_of_scope + fp->net_out_of_scope),
		fp->oom || fp->containers.oom ? "false" : "true");
}

static void free_counts(struct ct_fp_counts *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].key);
		net_identity_free(c->v[i].net);
	}
	free(c->v);
}

void ct_footprint_free(struct ct_footprint *fp)
{
	for (size_t i = 0; i < fp->n_files; i++) {
		free(fp->files[i].event_id);
		free(fp->files[i].path);
		free(fp->files[i].old_path);
		free(fp->files[i].comm);
	}
	free(fp->files);
	for (size_t i = 0; i < fp->n_stopped; i++) {
		free(fp->stopped[i].event_id);
		free(fp->stopped[i].rule);
		free(fp->stopped[i].command);
		free(fp->stopped[i].reason);
	}
	free(fp->stopped);
	free_counts(&fp->comms);
	free_counts(&fp->file_ops);
	free_counts(&fp->paths);
	free_counts(&fp->net_objects);
	free_counts(&fp->verdicts);
	free_counts(&fp->budget_files);
	free_counts(&fp->budget_net);
	ct_fp_containers_free(&fp->containers);
	memset(fp, 0, sizeof(*fp));
}

uint64_t ct_footprint_budget_used(const struct ct_footprint *fp, const struct ct_fp_budget *b)
{
	return b->net ? fp->budget_net.n : fp->budget_files.n;
}

void ct_footprint_print_budgets_text(FILE *out, const struct ct_footprint *fp,
				     const struct ct_fp_budget *b, size_t n, const char *source)
{
	if (!source) {
		fputs("\nbudgets:              not known (the agent did not answer for this deploy; "
		      "give --policy FILE)\n", out);
		return;
	}
	fprintf(out, "\nbudgets (%s):%s\n", source, n ? "" : " none in the policy");
	for (size_t i = 0; i < n; i++) {
		uint64_t used = ct_footprint_budget_used(fp, &b[i]);

		fprintf(out, "  %-24s %-5s %6llu of %-6u %-6s%s\n", b[i].rule, b[i].net ? "net" : "files",
			(unsigned long long)used, b[i].max,
			enum_short(&changetrace__v1__guard_action__descriptor, b[i].action),
			used > b[i].max ? "  OVER" : "");
	}
}

void ct_footprint_print_budgets_json(FILE *out, const struct ct_footprint *fp,
				     const struct ct_fp_budget *b, size_t n)
{
	fputc('[', out);
	for (size_t i = 0; i < n; i++) {
		uint64_t used = ct_footprint_budget_used(fp, &b[i]);

		fprintf(out, "%s{\"rule\":", i ? "," : "");
		ct_json_str(out, b[i].rule);
		fprintf(out, ",\"counts\":\"%s\",\"used\":%llu,\"max\":%u,\"action\":\"%s\",\"over\":%s}",
			b[i].net ? "net" : "files", (unsigned long long)used, b[i].max,
			enum_short(&changetrace__v1__guard_action__descriptor, b[i].action),
			used > b[i].max ? "true" : "false");
	}
	fputc(']', out);
}
