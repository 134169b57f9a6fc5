/* Rulesets at start against the last known ones. See unobserved_net.h. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "event_net.h"
#include "ipt_legacy.h"
#include "nft_ctx_cache.h"
#include "unobserved_net.h"
#include "lib/util.h"

#define DIFF_MAX  (16u << 10)
#define PARTS_MAX 256

struct net_source {
	const char *name;          /* KnownRuleset.source */
	int subsystem;             /* NetSubsystem of its events */
	/* the text in the calling thread's namespace (the ruleset worker's) */
	char *(*dump)(uint32_t netns_inode, size_t max, int *err);
	/* its top-level objects; NULL: the whole text is one object */
	size_t (*split)(const char *text, struct ct_ruleset_part *parts, size_t max);
};

static char *nft_dump(uint32_t netns_inode, size_t max, int *err)
{
	int64_t gen;

	return ct_nft_list_ruleset(netns_inode, max, &gen, err);
}

/* The legacy tables of a namespace as the agent read them at start
 * (ct_net_prime, before the probes: reading them again now would run
 * iptables-legacy-save, whose execs the probes would see), in the form
 * ct_legacy_join makes (store/last_state.h), which the journal keeps. */
struct legacy_table {
	char family[8], table[32];
	char *text;
};

struct legacy_tables {
	uint32_t inode;
	struct legacy_table t[32];
	size_t n;
};

static void legacy_one(void *ctx, uint32_t netns, const char *family, const char *table,
		       const char *text)
{
	struct legacy_tables *l = ctx;

	if (netns != l->inode || l->n >= ARRAY_SIZE(l->t) || !text)
		return;
	ct_strlcpy(l->t[l->n].family, family, sizeof(l->t[0].family));
	ct_strlcpy(l->t[l->n].table, table, sizeof(l->t[0].table));
	if ((l->t[l->n].text = strdup(text)))
		l->n++;
}

/* the order ct_legacy_splice keeps */
static int by_family_table(const void *a, const void *b)
{
	const struct legacy_table *x = a, *y = b;
	int c = strcmp(x->family, y->family);

	return c ? c : strcmp(x->table, y->table);
}

static char *legacy_dump(uint32_t netns_inode, size_t max, int *err)
{
	static struct legacy_tables l;
	const char *fam[ARRAY_SIZE(l.t)], *tab[ARRAY_SIZE(l.t)], *txt[ARRAY_SIZE(l.t)];
	char *out;

	if (!ct_ipt_legacy_primed(netns_inode)) {
		*err = ENODATA;	/* not every table was read at start */
		return NULL;
	}
	memset(&l, 0, sizeof(l));
	l.inode = netns_inode;
	ct_ipt_legacy_known_each(legacy_one, &l);
	qsort(l.t, l.n, sizeof(l.t[0]), by_family_table);
	for (size_t i = 0; i < l.n; i++) {
		fam[i] = l.t[i].family;
		tab[i] = l.t[i].table;
		txt[i] = l.t[i].text;
	}
	out = ct_legacy_join(l.n, fam, tab, txt, max);
	for (size_t i = 0; i < l.n; i++)
		free(l.t[i].text);
	if (!out)
		*err = ENOMEM;
	return out;
}

static const struct net_source sources[] = {
	{ "nft", CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_NFTABLES, nft_dump,
	  ct_nft_split_tables },
	{ "iptables-legacy", CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_IPTABLES_LEGACY,
	  legacy_dump, ct_legacy_split },
};

size_t ct_nft_split_tables(const char *text, struct ct_ruleset_part *parts, size_t max)
{
	const char *line = text;
	size_t n = 0;

	while (line && *line && n < max) {
		const char *nl = strchr(line, '\n');
		char fam[16], name[128];

		/* "table inet filter {" at the start of a line */
		if (!strncmp(line, "table ", 6) && sscanf(line + 6, "%15s %127s", fam, name) == 2) {
			const char *end = line;

			/* its block ends at the first "}" alone at the start of a line */
			while ((end = strchr(end, '\n')) && strncmp(end + 1, "}", 1))
				end++;
			if (end)
				end = strchr(end + 1, '\n');
			end = end ? end + 1 : line + strlen(line);
			ct_strlcpy(parts[n].family, fam, sizeof(parts[n].family));
			ct_strlcpy(parts[n].name, name, sizeof(parts[n].name));
			parts[n].text = line;
			parts[n].len = end - line;
			n++;
			line = end;
			continue;
		}
		line = nl ? nl + 1 : NULL;
	}
	return n;
}

static const struct ct_ruleset_part *find_part(const struct ct_ruleset_part *p, size_t n,
					       const struct ct_ruleset_part *like)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(p[i].family, like->family) && !strcmp(p[i].name, like->name))
			return &p[i];
	return NULL;
}

static struct ct_net_difference *push(struct ct_net_difference **v, size_t *n)
{
	struct ct_net_difference *d = realloc(*v, (*n + 1) * sizeof(**v));

	if (!d)
		return NULL;
	*v = d;
	d = &d[(*n)++];
	memset(d, 0, sizeof(*d));
	return d;
}

/* The differences of one namespace and source. */
static void compare_one(const struct net_source *src, const char *netns, uint32_t inode,
			const char *before, const char *after, struct ct_net_difference **v, size_t *n)
{
	static struct ct_ruleset_part pb[PARTS_MAX], pa[PARTS_MAX];
	size_t first = *n, nb = 0, na = 0;
	struct ct_net_difference *d;

	if (!strcmp(before, after))
		return;
	if (src->split) {
		nb = src->split(before, pb, PARTS_MAX);
		na = src->split(after, pa, PARTS_MAX);
	}
	for (size_t i = 0; i < nb; i++) {
		const struct ct_ruleset_part *o = find_part(pa, na, &pb[i]);

		if (o && o->len == pb[i].len && !memcmp(o->text, pb[i].text, o->len))
			continue;
		if (!(d = push(v, n)))
			return;
		d->op = o ? CHANGETRACE__V1__NET_OP__NET_OP_REPLACE : CHANGETRACE__V1__NET_OP__NET_OP_DELETE;
		ct_strlcpy(d->object_type, "table", sizeof(d->object_type));
		ct_strlcpy(d->family, pb[i].family, sizeof(d->family));
		ct_strlcpy(d->table, pb[i].name, sizeof(d->table));
	}
	for (size_t i = 0; i < na; i++) {
		if (find_part(pb, nb, &pa[i]))
			continue;
		if (!(d = push(v, n)))
			return;
		d->op = CHANGETRACE__V1__NET_OP__NET_OP_ADD;
		ct_strlcpy(d->object_type, "table", sizeof(d->object_type));
		ct_strlcpy(d->family, pa[i].family, sizeof(d->family));
		ct_strlcpy(d->table, pa[i].name, sizeof(d->table));
	}
	/* not split, or the difference is outside every table */
	if (*n == first && (d = push(v, n))) {
		d->op = CHANGETRACE__V1__NET_OP__NET_OP_REPLACE;
		ct_strlcpy(d->object_type, "ruleset", sizeof(d->object_type));
	}
	for (size_t i = first; i < *n; i++) {
		d = &(*v)[i];
		ct_strlcpy(d->netns, netns, sizeof(d->netns));
		d->inode = inode;
		d->subsystem = src->subsystem;
		d->index = i - first;
		d->count = *n - first;
	}
	d = &(*v)[first];
	d->before = strdup(before);
	d->after = strdup(after);
	d->diff = malloc(DIFF_MAX);
	if (d->diff)
		ct_net_line_diff(before, after, d->diff, DIFF_MAX);
}

static void follow(const char *path, const char *netns, const struct ct_last_state *prev,
		   bool compare, struct ct_last_state *cur, struct ct_net_difference **v, size_t *n)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(sources); i++) {
		const struct net_source *src = &sources[i];
		struct ct_known_ruleset *was =
			ct_last_state_ruleset((struct ct_last_state *)prev, netns, src->name);
		int err = 0;
		char *text = ct_net_dump(path, st.st_ino, src->dump, CT_LAST_STATE_RULESET_MAX, &err);

		if (!text) {
			ct_err("agent: %s ruleset of namespace %s not taken (%s): not compared; "
			       "the next start compares with the one known before", src->name, netns,
			       strerror(err));
			if (was && was->text)
				ct_last_state_set_ruleset(cur, netns, st.st_ino, src->name, was->text);
			continue;
		}
		if (!compare)
			was = NULL;
		/* a namespace not followed before (or whose text was not
		 * known): a baseline */
		if (was && was->text)
			compare_one(src, netns, st.st_ino, was->text, text, v, n);
		ct_last_state_set_ruleset(cur, netns, st.st_ino, src->name, text);
		free(text);
	}
}

void ct_unobserved_net_compare(const struct ct_last_state *prev, bool compare,
			       struct ct_last_state *cur, struct ct_net_difference **out,
			       size_t *n)
{
	DIR *d;
	struct dirent *de;
	size_t followed = 1;

	*out = NULL;
	*n = 0;
	follow("/proc/1/ns/net", "host", prev, compare, cur, out, n);
	d = opendir("/run/netns");
	if (!d)
		return;
	while ((de = readdir(d)) &&
	       (followed + 1) * ARRAY_SIZE(sources) <= CT_LAST_STATE_RULESETS) {
		char p[300];

		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(cur->rulesets[0].netns) ||
		    !strcmp(de->d_name, "host"))
			continue;
		snprintf(p, sizeof(p), "/run/netns/%s", de->d_name);
		follow(p, de->d_name, prev, compare, cur, out, n);
		followed++;
	}
	closedir(d);
}

void ct_net_differences_free(struct ct_net_difference *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(d[i].before);
		free(d[i].after);
		free(d[i].diff);
	}
	free(d);
}

static const char *op_verb(int op)
{
	switch (op) {
	case CHANGETRACE__V1__NET_OP__NET_OP_ADD: return "added";
	case CHANGETRACE__V1__NET_OP__NET_OP_DELETE: return "removed";
	default: return "changed";
	}
}

void ct_unobserved_net_emit(struct ct_collector *c, const struct ct_net_difference *d,
			    void (*dec)(PbEvent *ev), uint64_t mono_ns)
{
	static struct ct_event_buf b;
	PbNetPolicyChange n = CHANGETRACE__V1__NET_POLICY_CHANGE__INIT;
	char summary[320];

	ct_event_envelope(c, &b, &b.ev, CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_NET, mono_ns);
	n.subsystem = d->subsystem;
	n.op = d->op;
	n.object_type = (char *)d->object_type;
	n.family = (char *)d->family;
	n.table = (char *)d->table;
	n.netns_inode = d->inode;
	n.netns_name = (char *)d->netns;
	if (d->table[0])
		snprintf(summary, sizeof(summary), "table %s %s %s while no agent watched",
			 d->family, d->table, op_verb(d->op));
	else
		snprintf(summary, sizeof(summary), "ruleset changed while no agent watched");
	n.summary = summary;
	n.acceptance = "compared";	/* found by comparing, not by seeing a request */
	n.ruleset_before = d->before ? d->before : "";
	n.ruleset_after = d->after ? d->after : "";
	n.ruleset_diff = d->diff ? d->diff : "";
	n.batch_index = d->index;
	n.batch_count = d->count;
	b.ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_NET;
	b.ev.net = &n;
	dec(&b.ev);
	ct_sink_emit(&c->sink, &b.ev);
}
