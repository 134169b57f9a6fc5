#include <string.h>

#include "format.h"
#include "pb_json.h"
#include "util.h"

const char *ct_attr_method_name(Changetrace__V1__AttributionMethod m)
{
	switch (m) {
	case CHANGETRACE__V1__ATTRIBUTION_METHOD__ATTRIBUTION_WRAPPER: return "wrapper";
	case CHANGETRACE__V1__ATTRIBUTION_METHOD__ATTRIBUTION_ENVIRONMENT: return "env";
	case CHANGETRACE__V1__ATTRIBUTION_METHOD__ATTRIBUTION_CGROUP: return "cgroup";
	case CHANGETRACE__V1__ATTRIBUTION_METHOD__ATTRIBUTION_INHERITED: return "inherited";
	default: return "none";
	}
}

void ct_format_argv(FILE *out, char **argv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *a = argv[i];

		if (i)
			fputc(' ', out);
		if (!*a || strpbrk(a, " \t\n\"'\\"))
			ct_json_str(out, a);
		else
			fputs(a, out);
	}
}

static void attribution(FILE *out, const PbAttribution *a)
{
	if (!a || a->drift || !a->deploy_id || !*a->deploy_id) {
		fputs(" deploy=- DRIFT", out);
		return;
	}
	fprintf(out, " deploy=%s via=%s", a->deploy_id, ct_attr_method_name(a->method));
	if (a->depth)
		fprintf(out, " depth=%u", a->depth);
	if (a->unregistered)
		fputs(" UNREGISTERED", out);
	if (a->ai_assisted)
		fputs(" AI", out);
}

static void process(FILE *out, const PbProcess *p)
{
	if (!p)
		return;
	fprintf(out, " pid=%u ppid=%u uid=%u comm=", p->pid, p->ppid, p->uid);
	ct_json_str(out, p->comm);
	if (p->exe && *p->exe)
		fprintf(out, " exe=%s", p->exe);
}

/* What an unobserved change changed besides the content. */
static void unobserved_file(FILE *out, const PbFileChange *f)
{
	if (f->mode_before && f->mode && f->mode_before != f->mode)
		fprintf(out, " mode=%04o->%04o", f->mode_before & 07777, f->mode & 07777);
	if (f->mode_before && f->mode && (f->uid_before != f->uid || f->gid_before != f->gid))
		fprintf(out, " owner=%u:%u->%u:%u", f->uid_before, f->gid_before, f->uid, f->gid);
	if (f->sysctl) {
		fputs(" value=", out);
		ct_json_str(out, f->sysctl->before);
		fputs("->", out);
		ct_json_str(out, f->sysctl->after);
	}
}

/* Nobody's change: no process, no deploy, not drift; when it happened. */
static void unobserved_window(FILE *out, const Changetrace__V1__UnobservedWindow *w)
{
	char a[40], b[40];

	fputs(" deploy=- UNOBSERVED", out);
	if (w)
		fprintf(out, " between=%s..%s%s", w->from_unix_nano ? ct_fmt_time(w->from_unix_nano, a, sizeof(a)) : "?",
			ct_fmt_time(w->to_unix_nano, b, sizeof(b)),
			w->clean_stop ? "" : " (no stop recorded)");
}

static void agent_down(FILE *out, const PbGapDetail *g)
{
	char a[40], b[40];
	uint64_t s = g->to_unix_nano > g->from_unix_nano ? (g->to_unix_nano - g->from_unix_nano) / 1000000000ull : 0;

	fprintf(out, " agent down from=%s to=%s (%llus): %llu changes found unobserved; %s",
		ct_fmt_time(g->from_unix_nano, a, sizeof(a)), ct_fmt_time(g->to_unix_nano, b, sizeof(b)),
		(unsigned long long)s, (unsigned long long)g->unobserved_changes, g->reason);
}

void ct_format_text(FILE *out, const PbEvent *ev)
{
	char ts[40];
	const PbProcess *p = ev->process;

	fprintf(out, "%s %-5s", ct_fmt_time(ev->time_unix_nano, ts, sizeof(ts)),
		ct_pb_enum_short(&changetrace__v1__event_kind__descriptor, ev->kind));
	process(out, p);
	switch (ev->detail_case) {
	case CHANGETRACE__V1__EVENT__DETAIL_EXEC:
		fputs(" argv=[", out);
		ct_format_argv(out, p->argv, p->n_argv);
		fputc(']', out);
		if (ev->exec->argv_truncated)
			fputs("...", out);
		break;
	case CHANGETRACE__V1__EVENT__DETAIL_EXIT:
		fprintf(out, " code=%d", ev->exit->exit_code);
		if (ev->exit->signal)
			fprintf(out, " signal=%d", ev->exit->signal);
		fprintf(out, " ran=%.3fs", ev->exit->duration_ns / 1e9);
		break;
	case CHANGETRACE__V1__EVENT__DETAIL_NET:
		fputs(" net=", out);
		ct_json_str(out, ev->net->summary);
		fprintf(out, " netns=%u", ev->net->netns_inode);
		if (ev->net->netns_name && *ev->net->netns_name)
			fprintf(out, "(%s)", ev->net->netns_name);
		fprintf(out, " accepted=%s", ev->net->acceptance);
		break;
	case CHANGETRACE__V1__EVENT__DETAIL_FILE: {
		const PbFileChange *f = ev->file;

		fprintf(out, " %s ", ct_pb_enum_short(&changetrace__v1__file_op__descriptor, f->op));
		ct_json_str(out, f->path);
		if (f->old_path && *f->old_path) {
			fputs(" from=", out);
			ct_json_str(out, f->old_path);
		}
		if (f->sha256_before && *f->sha256_before)
			fprintf(out, " before=%.12s", f->sha256_before);
		if (f->sha256_after && *f->sha256_after)
			fprintf(out, " after=%.12s", f->sha256_after);
		if (f->writes > 1)
			fprintf(out, " writes=%u", f->writes);
		if (ev->unobserved)
			unobserved_file(out, f);
		break;
	}
	case CHANGETRACE__V1__EVENT__DETAIL_GAP:
		if (ev->gap->path == CHANGETRACE__V1__GAP_PATH__GAP_PATH_AGENT_DOWN) {
			agent_down(out, ev->gap);
			break;
		}
		fprintf(out, " lost=%llu path=%s kind=%s reason=%s",
			(unsigned long long)ev->gap->count,
			ct_pb_enum_short(&changetrace__v1__gap_path__descriptor, ev->gap->path),
			ct_pb_enum_short(&changetrace__v1__event_kind__descriptor, ev->gap->lost_kind),
			ev->gap->reason);
		break;
	case CHANGETRACE__V1__EVENT__DETAIL_AGENT:
		fprintf(out, " agent %s version=%s", ev->agent->state, ev->agent->version);
		break;
	default:
		break;
	}
	if (p)
		attribution(out, ev->attribution);
	if (ev->unobserved)
		unobserved_window(out, ev->unobserved_window);
	if (p && p->n_lineage) {
		fputs(" lineage=", out);
		for (size_t i = 0; i < p->n_lineage; i++)
			fprintf(out, "%s%u(%s)", i ? "<" : "", p->lineage[i]->pid, p->lineage[i]->comm);
	}
	fputc('\n', out);
}
