/* --container / --pod references: see container_match.h. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "container_match.h"

#define REF_MAX 255

static bool set(const char *s)
{
	return s && *s;
}

static bool hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]) && (s[i] < 'a' || s[i] > 'f'))
			return false;
	return true;
}

bool ct_container_ref_valid(const char *ref)
{
	size_t n = ref ? strlen(ref) : 0;

	if (!n || n > REF_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)ref[i]))
			return false;
	return true;
}

static void one(const PbContainer *c, void (*add)(void *, const char *), void *ctx)
{
	char k[REF_MAX + 8];

	if (!c || c->monitor)
		return;
	if (set(c->id)) {
		snprintf(k, sizeof(k), "ctr:%s", c->id);
		add(ctx, k);
		if (strlen(c->id) > 12) {
			snprintf(k, sizeof(k), "ctr:%.12s", c->id);
			add(ctx, k);
		}
	}
	if (set(c->name)) {
		snprintf(k, sizeof(k), "ctr:%s", c->name);
		add(ctx, k);
	}
	if (set(c->pod_uid)) {
		snprintf(k, sizeof(k), "pod:%s", c->pod_uid);
		add(ctx, k);
	}
	if (set(c->pod_name)) {
		snprintf(k, sizeof(k), "pod:%s", c->pod_name);
		add(ctx, k);
		if (set(c->pod_namespace)) {
			snprintf(k, sizeof(k), "pod:%s/%s", c->pod_namespace, c->pod_name);
			add(ctx, k);
		}
	}
}

void ct_container_keys(const PbEvent *ev, void (*add)(void *ctx, const char *key), void *ctx)
{
	if (ev->process)
		one(ev->process->container, add, ctx);
	if (ev->detail_case == CHANGETRACE__V1__EVENT__DETAIL_NET && ev->net)
		one(ev->net->netns_container, add, ctx);
}

bool ct_container_ref_key(const char *ref, bool pod, char *buf, size_t len)
{
	size_t n = strlen(ref);

	/* an id prefix is in no key unless it is the short id (12) or whole */
	if (!pod && n >= 4 && n < 64 && n != 12 && hex(ref, n))
		return false;
	snprintf(buf, len, "%s:%s", pod ? "pod" : "ctr", ref);
	return true;
}

static bool in_aliases(const char *id, char *const *aliases, size_t n)
{
	for (size_t i = 0; set(id) && i < n; i++)
		if (!strcmp(id, aliases[i]))
			return true;
	return false;
}

static bool names_container(const PbContainer *c, const char *ref, char *const *aliases, size_t n)
{
	size_t rl = strlen(ref);

	if (!c || c->monitor || !set(c->id))
		return false;
	if (rl >= 4 && hex(ref, rl) && !strncmp(c->id, ref, rl))
		return true;
	return !strcmp(c->id, ref) || (set(c->name) && !strcmp(c->name, ref)) ||
	       in_aliases(c->id, aliases, n);
}

static bool names_pod(const PbContainer *c, const char *ref, char *const *aliases, size_t n)
{
	char full[2 * REF_MAX + 2];

	if (!c || c->monitor || !set(c->pod_uid))
		return false;
	if (!strcmp(c->pod_uid, ref) || (set(c->pod_name) && !strcmp(c->pod_name, ref)))
		return true;
	if (set(c->pod_name) && set(c->pod_namespace)) {
		snprintf(full, sizeof(full), "%s/%s", c->pod_namespace, c->pod_name);
		if (!strcmp(full, ref))
			return true;
	}
	return in_aliases(c->pod_uid, aliases, n);
}

static const PbContainer *netns_container(const PbEvent *ev)
{
	return ev->detail_case == CHANGETRACE__V1__EVENT__DETAIL_NET && ev->net ?
		ev->net->netns_container : NULL;
}

bool ct_event_in_container(const PbEvent *ev, const char *ref, char *const *aliases, size_t n)
{
	return names_container(ev->process ? ev->process->container : NULL, ref, aliases, n) ||
	       names_container(netns_container(ev), ref, aliases, n);
}

bool ct_event_in_pod(const PbEvent *ev, const char *ref, char *const *aliases, size_t n)
{
	return names_pod(ev->process ? ev->process->container : NULL, ref, aliases, n) ||
	       names_pod(netns_container(ev), ref, aliases, n);
}

static const char *named(const PbContainer *c, const char *name, bool pod)
{
	if (!c || c->monitor)
		return NULL;
	if (pod)
		return set(c->pod_uid) && names_pod(c, name, NULL, 0) ? c->pod_uid : NULL;
	return set(c->id) && set(c->name) && !strcmp(c->name, name) ? c->id : NULL;
}

const char *ct_event_container_named(const PbEvent *ev, const char *name, bool pod)
{
	const char *id = named(ev->process ? ev->process->container : NULL, name, pod);

	return id ? id : named(netns_container(ev), name, pod);
}
