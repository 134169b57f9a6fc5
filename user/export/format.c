#include <stdbool.h>
#include <string.h>

#include "format.h"
#include "pb_json.h"
#include "lib/utf8.h"
#include "lib/util.h"

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

/* Printable, no space, quote or backslash: shown as it is. */
static bool plain_word(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	if (!n)
		return false;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k = ct_utf8_char(p + i, n - i, &cp);

		if (!k || ct_cp_is_control(cp) || cp == ' ' || cp == '"' || cp == '\'' || cp == '\\')
			return false;
		i += k;
	}
	return true;
}

/* Returns the bytes written. */
static size_t escaped(FILE *out, const char *s, bool quoted)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), w = 0;
	char esc[8];

	if (quoted)
		w += fputc('"', out) != EOF;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k = ct_utf8_char(p + i, n - i, &cp);
		const char *e = NULL;

		if (!k) {
			snprintf(esc, sizeof(esc), "\\x%02x", p[i]);	/* the byte, not U+FFFD */
			e = esc;
			k = 1;
		} else if (cp == '"') {
			e = quoted ? "\\\"" : "\"";
		} else if (cp == '\\') {
			e = "\\\\";
		} else if (cp == '\n') {
			e = "\\n";
		} else if (cp == '\r') {
			e = "\\r";
		} else if (cp == '\t') {
			e = "\\t";
		} else if (ct_cp_is_control(cp)) {
			snprintf(esc, sizeof(esc), cp < 0x80 ? "\\x%02x" : "\\u%04x", (unsigned)cp);
			e = esc;
		}
		if (e) {
			fputs(e, out);
			w += strlen(e);
		} else {
			fwrite(p + i, 1, k, out);
			w += k;
		}
		i += k;
	}
	if (quoted)
		w += fputc('"', out) != EOF;
	return w;
}

void ct_text_quoted(FILE *out, const char *s)
{
	escaped(out, s, true);
}

void ct_text_escaped(FILE *out, const char *s)
{
	escaped(out, s, false);
}

void ct_text_word(FILE *out, const char *s)
{
	if (s && plain_word(s))
		fputs(s, out);
	else
		ct_text_quoted(out, s);
}

void ct_text_word_pad(FILE *out, const char *s, int width)
{
	for (size_t n = escaped(out, s, false); n < (size_t)(width > 0 ? width : 0); n++)
		fputc(' ', out);
}

void ct_format_argv(FILE *out, char **argv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(' ', out);
		ct_text_word(out, argv[i]);
	}
}

static void attribution(FILE *out, const PbAttribution *a)
{
	if (!a || a->drift || !a->deploy_id || !*a->deploy_id) {
		fputs(" deploy=- DRIFT", out);
		/* a deploy was claimed and not honoured */
		if (a && a->claim_refused && *a->claim_refused) {
			fputs(" claimed=", out);
			ct_text_word(out, a->claimed_deploy_id && *a->claimed_deploy_id
					  ? a->claimed_deploy_id : "?");
		}
		return;
	}
	fputs(" deploy=", out);
	ct_text_word(out, a->deploy_id);
	fprintf(out, " via=%s", ct_attr_method_name(a->method));
	if (a->depth)
		fprintf(out, " depth=%u", a->depth);
	if (a->unregistered)
		fputs(" UNREGISTERED", out);
	if (a->ai_assisted)
		fputs(" AI", out);
}

static bool set(const char *s)
{
	return s && *s;
}

/* container=ID12[runtime name] pod=NAME[uid,qos]: the short id a runtime
 * prints (a machine's whole name), what is not known said so */
void ct_format_container(FILE *out, const char *key, const PbContainer *c)
{
	if (!c)
		return;
	if (set(c->id)) {
		bool hex = strlen(c->id) == 64 && strspn(c->id, "0123456789abcdef") == 64;

		fprintf(out, " %s=", c->monitor ? "monitor-of" : key);
		if (hex)
			fprintf(out, "%.12s", c->id);
		else
			ct_text_word(out, c->id);
		fprintf(out, "[%s", set(c->runtime) ? c->runtime : "runtime unknown");
		if (set(c->name)) {
			fputc(' ', out);
			ct_text_quoted(out, c->name);
		}
		if (set(c->image)) {
			fputs(" image=", out);
			ct_text_word(out, c->image);
		}
		if (set(c->names_unavailable) && !set(c->name)) {
			fputs(", name unavailable: ", out);
			ct_text_quoted(out, c->names_unavailable);
		}
		fputc(']', out);
	}
	if (set(c->pod_uid)) {
		fputs(" pod=", out);
		if (set(c->pod_namespace)) {
			ct_text_word(out, c->pod_namespace);
			fputc('/', out);
		}
		if (set(c->pod_name))
			ct_text_word(out, c->pod_name);
		fputc('[', out);
		ct_text_word(out, c->pod_uid);
		fprintf(out, "%s%s]", set(c->qos_class) ? "," : "", set(c->qos_class) ? c->qos_class : "");
	}
}

/* The bytes a field had before the agent repaired it (Event.raw_strings),
 * so a person sees \xff where JSON has U+FFFD; s when it was not. */
static const char *shown(const PbEvent *ev, const char *field, const char *s)
{
	static char buf[8192];

	for (size_t i = 0; i < ev->n_raw_strings; i++) {
		const Changetrace__V1__RawString *r = ev->raw_strings[i];
		size_t n;

		if (!r || !r->field || strcmp(r->field, field))
			continue;
		n = r->value.len < sizeof(buf) - 1 ? r->value.len : sizeof(buf) - 1;
		memcpy(buf, r->value.data, n);
		buf[n] = '\0';
		return buf;
	}
	return s;
}

static void process(FILE *out, const PbEvent *ev)
{
	const PbProcess *p = ev->process;

	if (!p)
		return;
	fprintf(out, " pid=%u ppid=%u uid=%u comm=", p->pid, p->ppid, p->uid);
	ct_text_quoted(out, shown(ev, "process.comm", p->comm));
	if (p->exe && *p->exe) {
		fputs(" exe=", out);
		ct_text_word(out, shown(ev, "process.exe", p->exe));
	}
	ct_format_container(out, "container", p->container);
}

static void argv_shown(FILE *out, const PbEvent *ev)
{
	const PbProcess *p = ev->process;
	char field[40];

	for (size_t i = 0; i < p->n_argv; i++) {
		if (i)
			fputc(' ', out);
		snprintf(field, sizeof(field), "process.argv[%zu]", i);
		ct_text_word(out, ev->n_raw_strings ? shown(ev, field, p->argv[i]) : p->argv[i]);
	}
}

/* What an unobserved change changed besides the content. */
static void unobserved_file(FILE *out, const PbFileChange *f)
{
	if (f->mode_before && f->mode && f->mode_before != f->mode)
		fprintf(out, " mode=%04o->%04o", f->mode_before & 07777, f->mode & 07777);
	if (f->mode_before && f->mode && (f->uid_before != f->uid || f->gid_before != f->gid))
		fprintf(out, " owner=%u:%u->%u:%u", f->uid_before, f->gid_before, f->uid, f->gid);
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

void ct_format_text(FILE *out, const PbEvent *ev)
{
	char ts[40];
	const PbProcess *p = ev->process;

	fprintf(out, "%s %-5s", ct_fmt_time(ev->time_unix_nano, ts, sizeof(ts)),
		ct_pb_enum_short(&changetrace__v1__event_kind__descriptor, ev->kind));
	process(out, ev);
	switch (ev->detail_case) {
	case CHANGETRACE__V1__EVENT__DETAIL_EXEC:
		fputs(" argv=[", out);
		argv_shown(out, ev);
		fputc(']', out);
		if (ev->exec->argv_truncated)
			fputs("...", out);
		if (ev->exec->guard_rule && *ev->exec->guard_rule) {
			fputs(" guard=", out);
			ct_text_word(out, ev->exec->guard_rule);
			fprintf(out, "/%s", ct_pb_enum_short(&changetrace__v1__guard_action__descriptor,
							     ev->exec->guard_action));
		}
		break;
	case CHANGETRACE__V1__EVENT__DETAIL_EXIT:
		fprintf(out, " code=%d", ev->exit->exit_code);
		if (ev->exit->signal)
			fprintf(out, " signal=%d", ev->exit->signal);
		fprintf(out, " ran=%.3fs", ev->exit->duration_ns / 1e9);
		break;
	case CHANGETRACE__V1__EVENT__DETAIL_NET:
		fputs(" net=", out);
		ct_text_quoted(out, ev->net->summary);
		fprintf(out, " netns=%u", ev->net->netns_inode);
		if (ev->net->netns_name && *ev->net->netns_name) {
			fputc('(', out);
			ct_text_word(out, ev->net->netns_name);
			fputc(')', out);
		}
		ct_format_container(out, "netns-container", ev->net->netns_container);
		fputs(" accepted=", out);
		ct_text_word(out, ev->net->acceptance);
		break;
	case CHANGETRACE__V1__EVENT__DETAIL_FILE: {
		const PbFileChange *f = ev->file;

		fprintf(out, " %s ", ct_pb_enum_short(&changetrace__v1__file_op__descriptor, f->op));
		ct_text_quoted(out, shown(ev, "file.path", f->path));
		if (f->path_truncated)
			fputs(" path_truncated", out);
		if (f->ns_path && *f->ns_path) {
			fputs(" ns_path=", out);     /* as the process saw it */
			ct_text_quoted(out, shown(ev, "file.ns_path", f->ns_path));
		}
		if (f->old_path && *f->old_path) {
			fputs(" from=", out);
			ct_text_quoted(out, shown(ev, "file.old_path", f->old_path));
			if (f->old_path_truncated)
				fputs(" from_truncated", out);
		}
		if (f->sha256_before && *f->sha256_before)
			fprintf(out, " before=%.12s", f->sha256_before);
		if (f->sha256_after && *f->sha256_after)
			fprintf(out, " after=%.12s", f->sha256_after);
		if (f->sysctl_name && *f->sysctl_name) {
			/* "net.ipv4.ip_forward: 0 -> 1"; "?" for a value not known;
			 * read_back: the value after was read, not the bytes written */
			fputc(' ', out);
			ct_text_escaped(out, f->sysctl_name);
			fputs(": ", out);
			ct_text_word(out, f->sha256_before && *f->sha256_before ? f->sysctl_before : "?");
			fputs(" -> ", out);
			ct_text_word(out, f->sha256_after && *f->sha256_after ? f->sysctl_after : "?");
			if (f->sysctl_after_source ==
			    CHANGETRACE__V1__SYSCTL_VALUE_SOURCE__SYSCTL_VALUE_SOURCE_READ_BACK)
				fputs(" read_back", out);
			if (f->sysctl_netns && *f->sysctl_netns) {
				fputs(" netns=", out);
				ct_text_word(out, f->sysctl_netns);
			}
		}
		if (f->writes > 1)
			fprintf(out, " writes=%u", f->writes);
		if (ev->unobserved)
			unobserved_file(out, f);
		break;
	}
	case CHANGETRACE__V1__EVENT__DETAIL_GAP:
		fprintf(out, " lost=%llu path=%s kind=%s reason=",
			(unsigned long long)ev->gap->count,
			ct_pb_enum_short(&changetrace__v1__gap_path__descriptor, ev->gap->path),
			ct_pb_enum_short(&changetrace__v1__event_kind__descriptor, ev->gap->lost_kind));
		ct_text_word(out, ev->gap->reason);
		break;
	case CHANGETRACE__V1__EVENT__DETAIL_AGENT:
		fputs(" agent ", out);
		ct_text_word(out, ev->agent->state);
		fputs(" version=", out);
		ct_text_word(out, ev->agent->version);
		/* what the start compared with, and what it found */
		if (ev->agent->last_state_detail && *ev->agent->last_state_detail) {
			fputs(" last_state=", out);
			ct_text_word(out, ev->agent->last_state);
			fputs(": ", out);
			ct_text_escaped(out, ev->agent->last_state_detail);
		}
		break;
	case CHANGETRACE__V1__EVENT__DETAIL_GUARD: {
		const Changetrace__V1__GuardVerdict *g = ev->guard;

		fputs(" rule=", out);
		ct_text_word(out, g->rule);
		fprintf(out, " action=%s enforced=%s",
			ct_pb_enum_short(&changetrace__v1__guard_action__descriptor, g->action),
			g->enforced ? "yes" : "no");
		if (g->before_exec && p) {
			fputs(" at-exec argv=[", out);
			argv_shown(out, ev);
			fputc(']', out);
		}
		fputs(" reason=", out);
		ct_text_quoted(out, g->reason);
		break;
	}
	default:
		break;
	}
	if (p)
		attribution(out, ev->attribution);
	if (ev->unobserved)
		unobserved_window(out, ev->unobserved_window);
	if (p && p->n_lineage) {
		fputs(" lineage=", out);
		for (size_t i = 0; i < p->n_lineage; i++) {
			fprintf(out, "%s%u(", i ? "<" : "", p->lineage[i]->pid);
			ct_text_word(out, p->lineage[i]->comm);
			fputc(')', out);
		}
	}
	fputc('\n', out);
}
