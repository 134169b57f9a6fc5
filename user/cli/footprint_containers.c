/* Containers and pods a deploy touched: see footprint_containers.h. */
#include <stdlib.h>
#include <string.h>

#include "footprint_containers.h"
#include "export/pb_json.h"

static bool set(const char *s)
{
	return s && *s;
}

/* keep the newest non-empty value: early events may predate the names */
static void keep(char **dst, const char *v, bool *oom)
{
	char *d;

	if (!set(v) || (*dst && !strcmp(*dst, v)))
		return;
	d = strdup(v);
	if (!d) {
		*oom = true;
		return;
	}
	free(*dst);
	*dst = d;
}

static void add_pod(struct ct_fp_containers *fc, const PbContainer *k)
{
	struct ct_fp_pod *p = NULL;

	for (size_t i = 0; i < fc->n_pods; i++)
		if (!strcmp(fc->p[i].uid, k->pod_uid))
			p = &fc->p[i];
	if (!p) {
		if (fc->n_pods == fc->cap_pods) {
			size_t cap = fc->cap_pods ? fc->cap_pods * 2 : 8;
			struct ct_fp_pod *v = realloc(fc->p, cap * sizeof(*v));

			if (!v) {
				fc->oom = true;
				return;
			}
			fc->p = v;
			fc->cap_pods = cap;
		}
		p = &fc->p[fc->n_pods];
		memset(p, 0, sizeof(*p));
		if (!(p->uid = strdup(k->pod_uid))) {
			fc->oom = true;
			return;
		}
		fc->n_pods++;
	}
	p->events++;
	keep(&p->name, k->pod_name, &fc->oom);
	keep(&p->ns, k->pod_namespace, &fc->oom);
}

static void add_one(struct ct_fp_containers *fc, const PbContainer *k)
{
	struct ct_fp_container *c = NULL;

	if (!k || k->monitor)
		return;
	if (set(k->pod_uid))
		add_pod(fc, k);
	if (!set(k->id))
		return;
	for (size_t i = 0; i < fc->n; i++)
		if (!strcmp(fc->c[i].id, k->id))
			c = &fc->c[i];
	if (!c) {
		if (fc->n == fc->cap) {
			size_t cap = fc->cap ? fc->cap * 2 : 8;
			struct ct_fp_container *v = realloc(fc->c, cap * sizeof(*v));

			if (!v) {
				fc->oom = true;
				return;
			}
			fc->c = v;
			fc->cap = cap;
		}
		c = &fc->c[fc->n];
		memset(c, 0, sizeof(*c));
		if (!(c->id = strdup(k->id))) {
			fc->oom = true;
			return;
		}
		fc->n++;
	}
	c->events++;
	keep(&c->runtime, k->runtime, &fc->oom);
	keep(&c->name, k->name, &fc->oom);
	keep(&c->image, k->image, &fc->oom);
	keep(&c->pod_uid, k->pod_uid, &fc->oom);
}

void ct_fp_containers_add(struct ct_fp_containers *fc, const PbEvent *ev)
{
	const PbContainer *p = ev->process ? ev->process->container : NULL;
	const PbContainer *n = ev->detail_case == CHANGETRACE__V1__EVENT__DETAIL_NET && ev->net ?
				       ev->net->netns_container : NULL;

	add_one(fc, p);
	if (n && (!p || !set(p->id) || strcmp(p->id, n->id ? n->id : "")))
		add_one(fc, n);
}

void ct_fp_containers_print_text(FILE *out, const struct ct_fp_containers *fc)
{
	fprintf(out, "  containers touched:   %zu\n", fc->n);
	for (size_t i = 0; i < fc->n; i++) {
		const struct ct_fp_container *c = &fc->c[i];

		fprintf(out, "    %.12s %-14s %-20s %s%s%llu events\n", c->id,
			set(c->runtime) ? c->runtime : "-", set(c->name) ? c->name : "(name unavailable)",
			set(c->image) ? c->image : "", set(c->image) ? " " : "",
			(unsigned long long)c->events);
	}
	fprintf(out, "  pods touched:         %zu\n", fc->n_pods);
	for (size_t i = 0; i < fc->n_pods; i++) {
		const struct ct_fp_pod *p = &fc->p[i];

		fprintf(out, "    %s %s%s%s %llu events\n", p->uid, set(p->ns) ? p->ns : "",
			set(p->ns) ? "/" : "", set(p->name) ? p->name : "(name unavailable)",
			(unsigned long long)p->events);
	}
}

static void str_field(FILE *out, const char *key, const char *v)
{
	if (!set(v))
		return;
	fprintf(out, ",\"%s\":", key);
	ct_json_str(out, v);
}

void ct_fp_containers_print_json(FILE *out, const struct ct_fp_containers *fc)
{
	fputs(",\"containers\":[", out);
	for (size_t i = 0; i < fc->n; i++) {
		const struct ct_fp_container *c = &fc->c[i];

		fprintf(out, "%s{\"id\":", i ? "," : "");
		ct_json_str(out, c->id);
		str_field(out, "runtime", c->runtime);
		str_field(out, "name", c->name);
		str_field(out, "image", c->image);
		str_field(out, "pod_uid", c->pod_uid);
		fprintf(out, ",\"events\":%llu}", (unsigned long long)c->events);
	}
	fputs("],\"pods\":[", out);
	for (size_t i = 0; i < fc->n_pods; i++) {
		const struct ct_fp_pod *p = &fc->p[i];

		fprintf(out, "%s{\"uid\":", i ? "," : "");
		ct_json_str(out, p->uid);
		str_field(out, "name", p->name);
		str_field(out, "namespace", p->ns);
		fprintf(out, ",\"events\":%llu}", (unsigned long long)p->events);
	}
	fputc(']', out);
}

void ct_fp_containers_free(struct ct_fp_containers *fc)
{
	for (size_t i = 0; i < fc->n; i++) {
		free(fc->c[i].id);
		free(fc->c[i].runtime);
		free(fc->c[i].name);
		free(fc->c[i].image);
		free(fc->c[i].pod_uid);
	}
	for (size_t i = 0; i < fc->n_pods; i++) {
		free(fc->p[i].uid);
		free(fc->p[i].name);
		free(fc->p[i].ns);
	}
	free(fc->c);
	free(fc->p);
	memset(fc, 0, sizeof(*fc));
}
