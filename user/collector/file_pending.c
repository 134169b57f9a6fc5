/* The file changes being coalesced and their indexes. See file_pending.h. */
#include <stdlib.h>
#include <string.h>

#include "file_pending.h"
#include "lib/util.h"

void pending_table_init(struct pending_table *t)
{
	memset(t, 0, sizeof(*t));
	t->pend = calloc(PENDING_MAX, sizeof(*t->pend));
	t->refs = calloc((size_t)PENDING_MAX * OPEN_IDS, sizeof(*t->refs));
	if (!t->pend || !t->refs) {
		ct_err("collector: out of memory for %d pending changes", PENDING_MAX);
		abort();
	}
}

void pending_table_free(struct pending_table *t)
{
	for (int i = 0; t->pend && i < t->high_water; i++) {
		free(t->pend[i].path);
		free(t->pend[i].ns_path);
	}
	free(t->pend);
	free(t->refs);
	memset(t, 0, sizeof(*t));
}

uint64_t pending_path_hash(const char *p)
{
	uint64_t h = 1469598103934665603ull;

	while (*p)
		h = (h ^ (unsigned char)*p++) * 1099511628211ull;
	return h;
}

static int32_t slot_of(const struct pending_table *t, const struct pending *p)
{
	return (int32_t)(p - t->pend);
}

static uint32_t path_bucket(uint64_t h)
{
	return (uint32_t)(h ^ (h >> 32)) & (PATH_BUCKETS - 1);
}

static bool same_path(const struct pending *p, uint64_t h, const char *path)
{
	return p->used && p->path_hash == h && !strcmp(p->path, path);
}

static uint32_t open_bucket(uint64_t id, uint64_t open_ns)
{
	uint64_t h = id ^ (open_ns * 0x9e3779b97f4a7c15ull);

	return (uint32_t)(h ^ (h >> 29)) & (OPEN_BUCKETS - 1);
}

struct open_file *pending_tombstone_of(struct pending_table *t, uint64_t id, uint64_t open_ns)
{
	return &t->tombstones[open_bucket(id, open_ns) & (TOMBSTONES - 1)];
}

void pending_tombstone_add(struct pending_table *t, const struct open_file *o)
{
	*pending_tombstone_of(t, o->id, o->open_ns) = *o;
}

/* Index open file o as its pending's (slot). Live refs never outnumber
 * the open_file slots of used pendings, so the pool cannot run out. */
static void ref_add(struct pending_table *t, int32_t slot, const struct open_file *o)
{
	uint32_t b = open_bucket(o->id, o->open_ns);
	int32_t r;

	if (t->free_refs) {
		r = t->free_refs - 1;
		t->free_refs = t->refs[r].next;
	} else if (t->refs_high_water < PENDING_MAX * OPEN_IDS) {
		r = t->refs_high_water++;
	} else {
		return;	/* unreachable; its close would be ignored, not misfiled */
	}
	t->refs[r] = (struct open_ref){ .id = o->id, .open_ns = o->open_ns, .slot = slot,
					.next = t->open_head[b] };
	t->open_head[b] = r + 1;
}

static void ref_del(struct pending_table *t, const struct open_file *o)
{
	int32_t *link = &t->open_head[open_bucket(o->id, o->open_ns)];

	while (*link) {
		struct open_ref *r = &t->refs[*link - 1];

		if (r->id == o->id && r->open_ns == o->open_ns) {
			int32_t dead = *link;

			*link = r->next;
			r->next = t->free_refs;
			t->free_refs = dead;
			return;
		}
		link = &r->next;
	}
}

struct pending *pending_add(struct pending_table *t, const char *path, const char *ns)
{
	struct pending *p;
	int32_t slot;
	uint32_t b;

	if (t->free_slots) {
		slot = t->free_slots - 1;
		t->free_slots = t->pend[slot].next;
	} else {
		slot = t->high_water++;
	}
	p = &t->pend[slot];
	memset(p, 0, sizeof(*p));
	p->path = strdup(path);
	p->ns_path = strdup(ns);
	if (!p->path || !p->ns_path) {
		ct_err("collector: out of memory");
		abort();
	}
	p->used = true;
	t->n_used++;
	p->path_hash = pending_path_hash(path);
	b = path_bucket(p->path_hash);
	p->next = t->path_head[b];
	t->path_head[b] = slot + 1;
	return p;
}

void pending_release(struct pending_table *t, struct pending *p)
{
	int32_t slot = slot_of(t, p);
	int32_t *link = &t->path_head[path_bucket(p->path_hash)];

	for (int j = 0; j < p->n_open; j++) {
		ref_del(t, &p->files[j]);
		pending_tombstone_add(t, &p->files[j]);
	}
	while (*link && *link != slot + 1)
		link = &t->pend[*link - 1].next;
	if (*link)
		*link = p->next;
	free(p->path);
	free(p->ns_path);
	p->path = p->ns_path = NULL;
	p->used = false;
	p->n_open = 0;
	t->n_used--;
	p->next = t->free_slots;
	t->free_slots = slot + 1;
}

struct pending *pending_path_next(const struct pending_table *t, const struct pending *after,
				  uint64_t h, const char *path)
{
	for (int32_t s = after ? after->next : t->path_head[path_bucket(h)]; s;
	     s = t->pend[s - 1].next) {
		struct pending *p = &t->pend[s - 1];

		if (same_path(p, h, path))
			return p;
	}
	return NULL;
}

struct pending *pending_find(const struct pending_table *t, const char *path,
			     const struct ct_task *task)
{
	uint64_t h = pending_path_hash(path);

	for (struct pending *p = pending_path_next(t, NULL, h, path); p;
	     p = pending_path_next(t, p, h, path))
		if (p->task.pid == task->pid && p->task.start_ns == task->start_ns &&
		    p->task.attr.deploy_slot == task->attr.deploy_slot)
			return p;
	return NULL;
}

struct pending *pending_find_file(const struct pending_table *t, uint64_t id, uint64_t open_ns,
				  int *idx)
{
	for (int32_t r = t->open_head[open_bucket(id, open_ns)]; r; r = t->refs[r - 1].next) {
		struct pending *p;

		if (t->refs[r - 1].id != id || t->refs[r - 1].open_ns != open_ns)
			continue;
		p = &t->pend[t->refs[r - 1].slot];
		for (int j = 0; j < p->n_open; j++)
			if (p->files[j].id == id && p->files[j].open_ns == open_ns) {
				*idx = j;
				return p;
			}
	}
	return NULL;
}

void pending_add_file(struct pending_table *t, struct pending *p, const struct open_file *o)
{
	p->files[p->n_open] = *o;
	ref_add(t, slot_of(t, p), &p->files[p->n_open++]);
}

void pending_drop_file(struct pending_table *t, struct pending *p, int j)
{
	ref_del(t, &p->files[j]);
	p->n_open--;
	p->files[j] = p->files[p->n_open];
}
