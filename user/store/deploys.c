#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/deploy_validate.h"
#include "deploys.h"
#include "lib/util.h"

#define REGISTRY_MAX_BYTES (64u << 20)

static struct ct_deploy table[CT_DEPLOY_SLOTS];
static void (*watcher)(void *ctx, uint32_t slot);
static void *watcher_ctx;

void ct_deploys_watch(void (*fn)(void *ctx, uint32_t slot), void *ctx)
{
	watcher = fn;
	watcher_ctx = ctx;
}

static void changed(uint32_t slot)
{
	if (watcher)
		watcher(watcher_ctx, slot);
}

struct ct_deploy *ct_deploys_find(const char *id)
{
	if (!id)
		return NULL;
	for (uint32_t s = 1; s < CT_DEPLOY_SLOTS; s++)
		if (table[s].pb && strcmp(table[s].pb->id, id) == 0)
			return &table[s];
	return NULL;
}

struct ct_deploy *ct_deploys_by_slot(uint32_t slot)
{
	if (slot == 0 || slot >= CT_DEPLOY_SLOTS || !table[slot].pb)
		return NULL;
	return &table[slot];
}

/* Deep copy through pack/unpack: the caller's message may live on its stack. */
static PbDeploy *copy_deploy(const PbDeploy *d)
{
	size_t n = changetrace__v1__deploy__get_packed_size(d);
	uint8_t *buf = malloc(n ? n : 1);
	PbDeploy *c;

	if (!buf)
		return NULL;
	changetrace__v1__deploy__pack(d, buf);
	c = changetrace__v1__deploy__unpack(NULL, n, buf);
	free(buf);
	return c;
}

static bool set(const char *s) { return s && *s; }

static struct ct_deploy *place(uint32_t slot, const PbDeploy *d, bool registered)
{
	struct ct_deploy *e = &table[slot];

	e->pb = copy_deploy(d);
	if (!e->pb)
		return NULL;
	e->slot = slot;
	e->pb->slot = slot;
	e->registered = registered;
	e->pb->unregistered = !registered;
	changed(slot);
	return e;
}

int ct_deploys_replace(struct ct_deploy *e, const PbDeploy *d)
{
	PbDeploy *c = copy_deploy(d);

	if (!c)
		return -1;
	changetrace__v1__deploy__free_unpacked(e->pb, NULL);
	e->pb = c;
	e->pb->slot = e->slot;
	e->pb->unregistered = !e->registered;
	changed(e->slot);
	return 0;
}

struct ct_deploy *ct_deploys_upsert(const PbDeploy *d, bool registered)
{
	struct ct_deploy *e = ct_deploys_find(d->id);
	PbDeploy merged;
	PbAiProvenance ai;

	if (!e) {
		for (uint32_t s = 1; s < CT_KSLOT_FIRST; s++)
			if (!table[s].pb)
				return place(s, d, registered);
		return NULL;
	}
	/* Merge: fields set in d win over what was known. */
	merged = *e->pb;
	if (d->ai) {
		ai = merged.ai ? *merged.ai : (PbAiProvenance)CHANGETRACE__V1__AI_PROVENANCE__INIT;
		ai.ai_assisted = ai.ai_assisted || d->ai->ai_assisted;
		if (set(d->ai->tool)) ai.tool = d->ai->tool;
		if (set(d->ai->model)) ai.model = d->ai->model;
		if (set(d->ai->session_id)) ai.session_id = d->ai->session_id;
		if (set(d->ai->prompt_digest)) ai.prompt_digest = d->ai->prompt_digest;
		merged.ai = &ai;
	}
	if (set(d->author)) merged.author = d->author;
	if (d->n_approved_by) {
		merged.n_approved_by = d->n_approved_by;
		merged.approved_by = d->approved_by;
	}
	if (set(d->ticket)) merged.ticket = d->ticket;
	if (set(d->repository)) merged.repository = d->repository;
	if (set(d->commit)) merged.commit = d->commit;
	if (set(d->pipeline_run)) merged.pipeline_run = d->pipeline_run;
	if (set(d->rollback_plan)) merged.rollback_plan = d->rollback_plan;
	if (set(d->environment)) merged.environment = d->environment;
	if (d->n_scope) {
		merged.n_scope = d->n_scope;
		merged.scope = d->scope;
	}
	if (d->n_cgroups) {
		merged.n_cgroups = d->n_cgroups;
		merged.cgroups = d->cgroups;
	}
	if (d->risk) merged.risk = d->risk;
	/* The first registrant stays, unless the deploy was only seen before. */
	if (d->registered_by && (!merged.registered_by || (registered && !e->registered)))
		merged.registered_by = d->registered_by;
	if (d->start_time_unix_nano && (!merged.start_time_unix_nano || (registered && !e->registered)))
		merged.start_time_unix_nano = d->start_time_unix_nano;
	if (d->status) merged.status = d->status;
	e->registered = e->registered || registered;
	if (ct_deploys_replace(e, &merged) < 0)
		return e;	/* out of memory: the old record stays */
	return e;
}

struct ct_deploy *ct_deploys_adopt(const char *id, uint32_t slot)
{
	PbDeploy d = CHANGETRACE__V1__DEPLOY__INIT;
	struct ct_deploy *e = ct_deploys_find(id);

	if (e)
		return e->slot == slot ? e : NULL;
	if (slot == 0 || slot >= CT_DEPLOY_SLOTS || table[slot].pb)
		return NULL;
	d.id = (char *)id;
	d.status = CHANGETRACE__V1__DEPLOY_STATUS__DEPLOY_STATUS_RUNNING;
	d.start_time_unix_nano = ct_now_wall_ns();
	return place(slot, &d, false);
}

bool ct_deploys_user_full(void)
{
	for (uint32_t s = 1; s < CT_KSLOT_FIRST; s++)
		if (!table[s].pb)
			return false;
	return true;
}

void ct_deploys_remove(struct ct_deploy *e)
{
	if (!e || !e->pb)
		return;
	changetrace__v1__deploy__free_unpacked(e->pb, NULL);
	e->pb = NULL;
	e->registered = false;
	changed(e->slot);
}

size_t ct_deploys_count(void)
{
	size_t n = 0;

	for (uint32_t s = 1; s < CT_DEPLOY_SLOTS; s++)
		n += table[s].pb != NULL;
	return n;
}

uint32_t ct_deploys_max_kslot(void)
{
	for (uint32_t s = CT_DEPLOY_SLOTS - 1; s >= CT_KSLOT_FIRST; s--)
		if (table[s].pb)
			return s;
	return CT_KSLOT_FIRST - 1;
}

size_t ct_deploys_list(struct ct_deploy **out, size_t max)
{
	size_t n = 0;

	for (uint32_t s = 1; s < CT_DEPLOY_SLOTS && n < max; s++)
		if (table[s].pb)
			out[n++] = &table[s];
	return n;
}

void ct_deploys_free(void)
{
	for (uint32_t s = 1; s < CT_DEPLOY_SLOTS; s++) {
		if (table[s].pb)
			changetrace__v1__deploy__free_unpacked(table[s].pb, NULL);
		table[s].pb = NULL;
	}
}

int ct_deploys_load(const char *path, char *err, size_t errlen)
{
	Changetrace__V1__DeployRegistry *reg;
	struct stat st;
	uint8_t *buf;
	const char *why = NULL;
	ssize_t got = 0;
	int fd, rc = -1;

	ct_deploys_free();
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > REGISTRY_MAX_BYTES) {
		snprintf(err, errlen, "%s is not a regular file of at most %u bytes", path,
			 REGISTRY_MAX_BYTES);
		close(fd);
		return -1;
	}
	buf = malloc(st.st_size ? st.st_size : 1);
	while (buf && got < st.st_size) {
		ssize_t r = read(fd, buf + got, st.st_size - got);

		if (r <= 0)
			break;
		got += r;
	}
	close(fd);
	if (!buf || got != st.st_size) {
		snprintf(err, errlen, "cannot read %s", path);
		free(buf);
		return -1;
	}
	reg = changetrace__v1__deploy_registry__unpack(NULL, got, buf);
	free(buf);
	if (!reg) {
		snprintf(err, errlen, "%s is not a deploy registry (protobuf does not decode)", path);
		return -1;
	}
	if (reg->version != 1) {
		snprintf(err, errlen, "%s: unsupported registry version %u", path, reg->version);
		goto out;
	}
	for (size_t i = 0; i < reg->n_deploys; i++) {
		PbDeploy *d = reg->deploys[i];

		if ((why = ct_validate_deploy(d)) ||
		    (d->slot == 0 || d->slot >= CT_DEPLOY_SLOTS ? (why = "slot out of range") : NULL) ||
		    (table[d->slot].pb ? (why = "slot used twice") : NULL) ||
		    (ct_deploys_find(d->id) ? (why = "id used twice") : NULL)) {
			snprintf(err, errlen, "%s: record %zu: %s", path, i, why);
			ct_deploys_free();
			goto out;
		}
		if (!place(d->slot, d, !d->unregistered)) {
			snprintf(err, errlen, "%s: out of memory", path);
			ct_deploys_free();
			goto out;
		}
	}
	rc = 0;
out:
	changetrace__v1__deploy_registry__free_unpacked(reg, NULL);
	return rc;
}

int ct_deploys_save(const char *path, char *err, size_t errlen)
{
	Changetrace__V1__DeployRegistry reg = CHANGETRACE__V1__DEPLOY_REGISTRY__INIT;
	static PbDeploy *recs[CT_DEPLOY_SLOTS];
	char tmp[4096], dir[4096], *slash;
	uint8_t *buf;
	size_t n = 0, len;
	int fd, rc = -1;

	for (uint32_t s = 1; s < CT_DEPLOY_SLOTS; s++)
		if (table[s].pb)
			recs[n++] = table[s].pb;
	reg.version = 1;
	reg.n_deploys = n;
	reg.deploys = recs;
	len = changetrace__v1__deploy_registry__get_packed_size(&reg);
	buf = malloc(len ? len : 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	changetrace__v1__deploy_registry__pack(&reg, buf);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, buf + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			goto out;
		}
		off += w;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		snprintf(err, errlen, "cannot sync %s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) < 0) {
		snprintf(err, errlen, "cannot rename %s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	/* Make the rename itself durable. */
	ct_strlcpy(dir, path, sizeof(dir));
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	rc = 0;
out:
	free(buf);
	return rc;
}
