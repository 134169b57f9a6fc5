/* The last known state: table, event journal, snapshot. See last_state.h. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "last_state.h"
#include "last_state.pb-c.h"
#include "store.h"
#include "lib/util.h"

#define SNAPSHOT_MAX (1ull << 30)   /* larger is not ours: refused */

typedef Changetrace__State__V1__LastState    PbLastState;
typedef Changetrace__State__V1__KnownFile    PbKnownFile;
typedef Changetrace__State__V1__KnownRuleset PbKnownRuleset;

static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = read(fd, (char *)buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -1 : (ssize_t)off;
		off += n;
	}
	return off;
}

static ssize_t write_full(int fd, const void *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(fd, (const char *)buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		off += n;
	}
	return off;
}

/* ------------------------------------------------------------ table */

static uint64_t hash_path(const char *s)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

void ct_last_state_init(struct ct_last_state *s)
{
	memset(s, 0, sizeof(*s));
}

static void free_file(struct ct_known_file *f)
{
	free(f->path);
	free(f->link);
	free(f);
}

void ct_last_state_free(struct ct_last_state *s)
{
	for (size_t i = 0; i < s->n_buckets; i++)
		for (struct ct_known_file *f = s->buckets[i], *n; f; f = n) {
			n = f->next;
			free_file(f);
		}
	free(s->buckets);
	for (size_t i = 0; i < s->n_rulesets; i++)
		free(s->rulesets[i].text);
	for (int i = 0; i < s->n_roots; i++)
		free(s->roots[i]);
	free(s->roots);
	memset(s, 0, sizeof(*s));
}

struct ct_known_file *ct_last_state_file(const struct ct_last_state *s, const char *path)
{
	if (!s->n_buckets)
		return NULL;
	for (struct ct_known_file *f = s->buckets[hash_path(path) & (s->n_buckets - 1)]; f; f = f->next)
		if (!strcmp(f->path, path))
			return f;
	return NULL;
}

static int grow(struct ct_last_state *s)
{
	size_t n = s->n_buckets ? s->n_buckets * 2 : 1024;
	struct ct_known_file **b = calloc(n, sizeof(*b));

	if (!b)
		return -1;
	for (size_t i = 0; i < s->n_buckets; i++)
		for (struct ct_known_file *f = s->buckets[i], *next; f; f = next) {
			size_t k = hash_path(f->path) & (n - 1);

			next = f->next;
			f->next = b[k];
			b[k] = f;
		}
	free(s->buckets);
	s->buckets = b;
	s->n_buckets = n;
	return 0;
}

struct ct_known_file *ct_last_state_file_put(struct ct_last_state *s, const char *path)
{
	struct ct_known_file *f = ct_last_state_file(s, path);
	size_t k;

	if (f)
		return f;
	if (s->n_files >= s->n_buckets && grow(s) < 0)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f || !(f->path = strdup(path))) {
		free(f);
		return NULL;
	}
	k = hash_path(path) & (s->n_buckets - 1);
	f->next = s->buckets[k];
	s->buckets[k] = f;
	s->n_files++;
	return f;
}

void ct_last_state_file_del(struct ct_last_state *s, const char *path)
{
	struct ct_known_file **link;

	if (!s->n_buckets)
		return;
	for (link = &s->buckets[hash_path(path) & (s->n_buckets - 1)]; *link; link = &(*link)->next)
		if (!strcmp((*link)->path, path)) {
			struct ct_known_file *f = *link;

			*link = f->next;
			if (s->removed)
				s->removed(s->removed_ctx, f->path);
			free_file(f);
			s->n_files--;
			return;
		}
}

struct ct_known_file *ct_last_state_next(const struct ct_last_state *s, size_t *bucket,
					 struct ct_known_file **cursor)
{
	if (*cursor && (*cursor)->next)
		return *cursor = (*cursor)->next;
	for (size_t i = *cursor ? *bucket + 1 : *bucket; i < s->n_buckets; i++)
		if (s->buckets[i]) {
			*bucket = i;
			return *cursor = s->buckets[i];
		}
	*bucket = s->n_buckets;
	return *cursor = NULL;
}

void ct_last_state_set_link(struct ct_known_file *f, const char *target)
{
	free(f->link);
	f->link = target ? strdup(target) : NULL;
}

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return path[0] == '/';
	return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == '\0');
}

/* Paths in (or under) from: moved to to (a directory rename), or removed. */
static bool move_tree(struct ct_last_state *s, const char *from, const char *to)
{
	struct ct_known_file **moved = NULL, *f = NULL;
	size_t n = 0, b = 0;
	bool changed = false;

	/* unlinked first, re-inserted after: the table does not change under the walk */
	while ((f = ct_last_state_next(s, &b, &f)))
		if (under(f->path, from)) {
			struct ct_known_file **m = realloc(moved, (n + 1) * sizeof(*m));

			if (!m)
				break;
			moved = m;
			moved[n++] = f;
		}
	for (size_t i = 0; i < n; i++) {
		struct ct_known_file **link = &s->buckets[hash_path(moved[i]->path) & (s->n_buckets - 1)];

		while (*link != moved[i])
			link = &(*link)->next;
		*link = moved[i]->next;
		s->n_files--;
		if (s->removed)
			s->removed(s->removed_ctx, moved[i]->path);
	}
	for (size_t i = 0; i < n; i++) {
		struct ct_known_file *src = moved[i], *dst;
		char np[PATH_MAX];

		changed = true;
		if (to && snprintf(np, sizeof(np), "%s%s", to, src->path + strlen(from)) < (int)sizeof(np) &&
		    (dst = ct_last_state_file_put(s, np))) {
			char *keep = dst->path;
			struct ct_known_file *next = dst->next;

			free(dst->link);
			*dst = *src;
			dst->path = keep;
			dst->next = next;
			src->link = NULL;
		}
		free_file(src);
	}
	free(moved);
	return changed;
}

/* ------------------------------------------------------------ rulesets */

struct ct_known_ruleset *ct_last_state_ruleset(struct ct_last_state *s, const char *netns,
					       const char *source)
{
	for (size_t i = 0; i < s->n_rulesets; i++)
		if (!strcmp(s->rulesets[i].netns, netns) && !strcmp(s->rulesets[i].source, source))
			return &s->rulesets[i];
	return NULL;
}

static struct ct_known_ruleset *ruleset_by_inode(struct ct_last_state *s, uint32_t inode,
						 const char *source)
{
	for (size_t i = 0; i < s->n_rulesets; i++)
		if (inode && s->rulesets[i].inode == inode && !strcmp(s->rulesets[i].source, source))
			return &s->rulesets[i];
	return NULL;
}

void ct_last_state_set_ruleset(struct ct_last_state *s, const char *netns, uint32_t inode,
			       const char *source, const char *text)
{
	struct ct_known_ruleset *r = ct_last_state_ruleset(s, netns, source);

	if (!r) {
		if (s->n_rulesets >= CT_LAST_STATE_RULESETS)
			return;
		r = &s->rulesets[s->n_rulesets++];
		memset(r, 0, sizeof(*r));
		ct_strlcpy(r->netns, netns, sizeof(r->netns));
		ct_strlcpy(r->source, source, sizeof(r->source));
	}
	r->inode = inode;
	free(r->text);
	r->text = text ? strndup(text, CT_LAST_STATE_RULESET_MAX) : NULL;
}

void ct_last_state_set_roots(struct ct_last_state *s, char *const *roots, int n)
{
	char **r = calloc(n ? n : 1, sizeof(*r));

	if (!r)
		return;
	for (int i = 0; i < s->n_roots; i++)
		free(s->roots[i]);
	free(s->roots);
	s->roots = r;
	s->n_roots = 0;
	for (int i = 0; i < n; i++)
		if ((r[s->n_roots] = strdup(roots[i])))
			s->n_roots++;
}

bool ct_last_state_under_roots(const struct ct_last_state *s, const char *path)
{
	for (int i = 0; i < s->n_roots; i++)
		if (under(path, s->roots[i]))
			return true;
	return false;
}

/* ------------------------------------------------------------ legacy tables */

char *ct_legacy_join(size_t n, const char *const *family, const char *const *table,
		     const char *const *text, size_t max)
{
	size_t cap = 1, len = 0;
	char *out;

	for (size_t i = 0; i < n; i++)
		cap += strlen(family[i]) + strlen(table[i]) + strlen(text[i]) + 8;
	out = malloc(cap);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t tl = strlen(text[i]);
		bool nl = tl && text[i][tl - 1] != '\n';
		int h = snprintf(out + len, cap - len, "# %s %s\n", family[i], table[i]);

		if (h < 0 || len + h + tl + nl > max)
			break;	/* what fits, whole tables only */
		len += h;
		memcpy(out + len, text[i], tl);
		len += tl;
		if (nl)
			out[len++] = '\n';
	}
	out[len] = '\0';
	return out;
}

size_t ct_legacy_split(const char *text, struct ct_ruleset_part *parts, size_t max)
{
	const char *line = text;
	size_t n = 0;

	while (line && *line) {
		const char *nl = strchr(line, '\n');
		char fam[16], name[128];

		if (!strncmp(line, "# ", 2) && sscanf(line + 2, "%15s %127s", fam, name) == 2) {
			if (n == max)
				break;
			ct_strlcpy(parts[n].family, fam, sizeof(parts[n].family));
			ct_strlcpy(parts[n].name, name, sizeof(parts[n].name));
			parts[n].text = line;
			n++;
		}
		line = nl ? nl + 1 : NULL;
		/* each part runs to the next header or the end */
		if (n)
			parts[n - 1].len = (line ? line : text + strlen(text)) - parts[n - 1].text;
	}
	return n;
}

char *ct_legacy_splice(const char *text, const char *family, const char *table,
		       const char *table_text, size_t max)
{
	struct ct_ruleset_part p[64];
	const char *fam[65], *tab[65], *txt[65];
	char *bodies[65] = { 0 }, *out = NULL;
	size_t n = ct_legacy_split(text, p, 64), m = 0, k;
	bool put = false;

	for (size_t i = 0; i <= n; i++) {
		int c = i < n ? strcmp(p[i].family, family) : 1;

		if (!c)
			c = strcmp(p[i].name, table);
		/* in order: the new table goes before the first that sorts after it */
		if (!put && c >= 0) {
			fam[m] = family;
			tab[m] = table;
			txt[m++] = table_text;
			put = true;
			if (!c)
				continue;	/* replaced */
		}
		if (i == n)
			break;
		k = strcspn(p[i].text, "\n") + 1;	/* past the header line */
		bodies[m] = k <= p[i].len ? strndup(p[i].text + k, p[i].len - k) : strdup("");
		if (!bodies[m])
			goto out;
		fam[m] = p[i].family;
		tab[m] = p[i].name;
		txt[m] = bodies[m];
		m++;
	}
	out = ct_legacy_join(m, fam, tab, txt, max);
out:
	for (size_t i = 0; i < m; i++)
		free(bodies[i]);
	return out;
}

/* ------------------------------------------------------------ journal */

static bool valid_sha(const char *s)
{
	return !s || !*s || (strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64);
}

/* What the event says the file is now; metadata-only operations keep the
 * content known before. */
static void set_from_event(struct ct_known_file *k, const PbFileChange *f, bool content)
{
	if (f->inode)
		k->ino = f->inode;
	if (f->dev)
		k->dev = f->dev;
	if (f->mode) {
		k->mode = f->mode;
		k->uid = f->uid;
		k->gid = f->gid;
	}
	if (f->mtime_unix_nano)
		k->mtime_ns = f->mtime_unix_nano;
	k->ctime_ns = 0;	/* not in events */
	if (content || (f->sha256_after && *f->sha256_after)) {
		ct_strlcpy(k->sha256, f->sha256_after ? f->sha256_after : "", sizeof(k->sha256));
		k->size = f->size_after;
		k->kept = f->content_kept;
	}
}

/* A string field of ev as it was before it was made valid UTF-8 for the
 * outputs (Event.raw_strings): the name the walk finds on disk. */
static const char *original(const PbEvent *ev, const char *field, const char *s, char *buf,
			    size_t len)
{
	for (size_t i = 0; i < ev->n_raw_strings; i++) {
		const Changetrace__V1__RawString *r = ev->raw_strings[i];

		if (!r->field || strcmp(r->field, field))
			continue;
		if (r->value.len >= len || (r->value.len && memchr(r->value.data, 0, r->value.len)))
			return s;
		memcpy(buf, r->value.data, r->value.len);
		buf[r->value.len] = '\0';
		return buf;
	}
	return s;
}

static bool apply_file(struct ct_last_state *s, const PbEvent *ev)
{
	static char pbuf[PATH_MAX], obuf[PATH_MAX];
	const PbFileChange *f = ev->file;
	const char *path = original(ev, "file.path", f->path, pbuf, sizeof(pbuf));
	const char *old = f->old_path && *f->old_path ?
		original(ev, "file.old_path", f->old_path, obuf, sizeof(obuf)) : NULL;
	struct ct_known_file *k, *src;
	bool had;

	if (!path || path[0] != '/' || strlen(path) >= PATH_MAX || !valid_sha(f->sha256_after) ||
	    (old && (old[0] != '/' && f->op != CHANGETRACE__V1__FILE_OP__FILE_OP_SYMLINK)))
		return false;
	had = ct_last_state_file(s, path) != NULL;
	switch (f->op) {
	case CHANGETRACE__V1__FILE_OP__FILE_OP_UNLINK:
		ct_last_state_file_del(s, path);
		return had;
	case CHANGETRACE__V1__FILE_OP__FILE_OP_RMDIR:
		return move_tree(s, path, NULL);
	case CHANGETRACE__V1__FILE_OP__FILE_OP_MKDIR:
		return false;
	case CHANGETRACE__V1__FILE_OP__FILE_OP_RENAME:
		if (S_ISDIR(f->mode))
			return old && move_tree(s, old, path);
		if (old)
			ct_last_state_file_del(s, old);
		if (!(k = ct_last_state_file_put(s, path)))
			return true;
		ct_last_state_set_link(k, NULL);
		set_from_event(k, f, true);
		return true;
	case CHANGETRACE__V1__FILE_OP__FILE_OP_SYMLINK:
		if (!(k = ct_last_state_file_put(s, path)))
			return true;
		memset(k->sha256, 0, sizeof(k->sha256));
		k->size = old ? strlen(old) : 0;
		k->kept = false;
		set_from_event(k, f, false);
		ct_last_state_set_link(k, old);
		return true;
	case CHANGETRACE__V1__FILE_OP__FILE_OP_LINK:
		/* another name for the same inode: its content */
		src = old ? ct_last_state_file(s, old) : NULL;
		if (!(k = ct_last_state_file_put(s, path)))
			return true;
		if (src) {
			memcpy(k->sha256, src->sha256, sizeof(k->sha256));
			k->size = src->size;
			k->kept = src->kept;
			ct_last_state_set_link(k, src->link);
		} else {
			set_from_event(k, f, true);
		}
		set_from_event(k, f, false);
		return true;
	case CHANGETRACE__V1__FILE_OP__FILE_OP_CHMOD:
	case CHANGETRACE__V1__FILE_OP__FILE_OP_CHOWN:
	case CHANGETRACE__V1__FILE_OP__FILE_OP_SETXATTR:
		if (S_ISDIR(f->mode) || (!had && !f->mode))
			return false;
		if (!(k = ct_last_state_file_put(s, path)))
			return true;
		set_from_event(k, f, false);
		return true;
	case CHANGETRACE__V1__FILE_OP__FILE_OP_SYSCTL:
		/* no digest: unreadable; a net.* value written in another
		 * namespace is that namespace's, not the one this state holds */
		if (!f->sha256_after || !*f->sha256_after ||
		    (!strncmp(path, "/proc/sys/net/", 14) && s->own_net_ns && ev->process &&
		     ev->process->net_ns && ev->process->net_ns != s->own_net_ns))
			return false;
		/* fall through */
	case CHANGETRACE__V1__FILE_OP__FILE_OP_WRITE:
	case CHANGETRACE__V1__FILE_OP__FILE_OP_CREATE:
	case CHANGETRACE__V1__FILE_OP__FILE_OP_TRUNCATE:
		if (!(k = ct_last_state_file_put(s, path)))
			return true;
		ct_last_state_set_link(k, NULL);
		set_from_event(k, f, true);
		return true;
	default:
		return false;
	}
}

static bool apply_net(struct ct_last_state *s, const PbEvent *ev)
{
	const PbNetPolicyChange *n = ev->net;
	const char *after = n->ruleset_after, *source;
	struct ct_known_ruleset *r;
	char *spliced = NULL;
	bool legacy = n->subsystem == CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_IPTABLES_LEGACY;

	if (n->subsystem == CHANGETRACE__V1__NET_SUBSYSTEM__NET_SUBSYSTEM_NFTABLES)
		source = "nft";
	else if (legacy)
		source = "iptables-legacy";
	else
		return false;
	/* the ruleset travels on a request's first object */
	if (n->batch_index && !(after && *after))
		return false;
	r = ruleset_by_inode(s, n->netns_inode, source);
	if (!r && n->netns_name && *n->netns_name)
		r = ct_last_state_ruleset(s, n->netns_name, source);
	if (!r)
		return false;	/* a namespace not followed (no name to find it by) */
	/* a live legacy change carries its one table; a change found at
	 * start, every table (as the state holds them) */
	if (legacy && after && *after && !ev->unobserved) {
		if (!r->text || !n->family || !n->table || !*n->table)
			return false;	/* not known: stays so */
		spliced = ct_legacy_splice(r->text, n->family, n->table, after,
					   CT_LAST_STATE_RULESET_MAX);
		after = spliced;
	}
	/* a live listing that failed: not known, rather than a stale text
	 * (a change found at start is the text, empty or not) */
	ct_last_state_set_ruleset(s, r->netns, n->netns_inode ? n->netns_inode : r->inode, source,
				  ev->unobserved ? (after ? after : "") : after && *after ? after : NULL);
	free(spliced);
	return true;
}

bool ct_last_state_apply(struct ct_last_state *s, const PbEvent *ev)
{
	bool changed = false;

	if (ev->detail_case == CHANGETRACE__V1__EVENT__DETAIL_FILE && ev->file)
		changed = apply_file(s, ev);
	else if (ev->detail_case == CHANGETRACE__V1__EVENT__DETAIL_NET && ev->net)
		changed = apply_net(s, ev);
	if (changed) {
		s->dirty = true;
		s->applied++;
	}
	return changed;
}

/* ------------------------------------------------------------ snapshot */

static bool valid_path(const char *p)
{
	return p && p[0] == '/' && strlen(p) < PATH_MAX;
}

int ct_last_state_load(struct ct_last_state *s, const char *path, char *err, size_t errlen)
{
	PbLastState *pb;
	struct stat st;
	uint8_t *buf;
	int fd;

	ct_last_state_free(s);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > SNAPSHOT_MAX) {
		snprintf(err, errlen, "%s is not a state snapshot (not a file, or too large)", path);
		close(fd);
		return -1;
	}
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf || read_full(fd, buf, st.st_size) != (ssize_t)st.st_size) {
		snprintf(err, errlen, "cannot read %s: %s", path, buf ? strerror(errno) : "out of memory");
		free(buf);
		close(fd);
		return -1;
	}
	close(fd);
	pb = changetrace__state__v1__last_state__unpack(NULL, st.st_size, buf);
	free(buf);
	if (!pb) {
		snprintf(err, errlen, "%s does not decode", path);
		return -1;
	}
	if (pb->version != 1 || strlen(pb->store_id) != 16) {
		snprintf(err, errlen, "%s: unknown version %u", path, pb->version);
		goto bad;
	}
	for (size_t i = 0; i < pb->n_files; i++) {
		const PbKnownFile *k = pb->files[i];
		struct ct_known_file *f;

		if (!valid_path(k->path) || !valid_sha(k->sha256) ||
		    (k->link_target && strlen(k->link_target) >= PATH_MAX)) {
			snprintf(err, errlen, "%s: bad entry %zu", path, i);
			goto bad;
		}
		if (!(f = ct_last_state_file_put(s, k->path))) {
			snprintf(err, errlen, "out of memory");
			goto bad;
		}
		f->ino = k->inode;
		f->dev = k->dev;
		f->size = k->size;
		f->mode = k->mode;
		f->uid = k->uid;
		f->gid = k->gid;
		f->mtime_ns = k->mtime_unix_nano;
		f->ctime_ns = k->ctime_unix_nano;
		ct_strlcpy(f->sha256, k->sha256, sizeof(f->sha256));
		f->kept = k->content_kept;
		if (S_ISLNK(k->mode))
			ct_last_state_set_link(f, k->link_target);
	}
	for (size_t i = 0; i < pb->n_rulesets; i++) {
		const PbKnownRuleset *r = pb->rulesets[i];

		if (!*r->netns_name || strlen(r->netns_name) >= sizeof(s->rulesets[0].netns) ||
		    !*r->source || strlen(r->source) >= sizeof(s->rulesets[0].source) ||
		    strlen(r->text) > CT_LAST_STATE_RULESET_MAX) {
			snprintf(err, errlen, "%s: bad ruleset %zu", path, i);
			goto bad;
		}
		ct_last_state_set_ruleset(s, r->netns_name, r->netns_inode, r->source, r->text);
	}
	for (size_t i = 0; i < pb->n_roots; i++)
		if (!valid_path(pb->roots[i])) {
			snprintf(err, errlen, "%s: bad root %zu", path, i);
			goto bad;
		}
	ct_last_state_set_roots(s, pb->roots, pb->n_roots);
	ct_strlcpy(s->store_id, pb->store_id, sizeof(s->store_id));
	s->seq = pb->seq;
	s->time_ns = pb->time_unix_nano;
	changetrace__state__v1__last_state__free_unpacked(pb, NULL);
	return 0;
bad:
	changetrace__state__v1__last_state__free_unpacked(pb, NULL);
	ct_last_state_free(s);
	return -1;
}

uint8_t *ct_last_state_pack(struct ct_last_state *s, size_t *len)
{
	PbLastState pb = CHANGETRACE__STATE__V1__LAST_STATE__INIT;
	PbKnownFile *files, **fp;
	PbKnownRuleset rs[CT_LAST_STATE_RULESETS], *rp[CT_LAST_STATE_RULESETS];
	struct ct_known_file *f = NULL;
	uint8_t *buf = NULL;
	size_t n = 0, b = 0;

	files = calloc(s->n_files ? s->n_files : 1, sizeof(*files));
	fp = calloc(s->n_files ? s->n_files : 1, sizeof(*fp));
	if (!files || !fp)
		goto out;
	while ((f = ct_last_state_next(s, &b, &f)) && n < s->n_files) {
		PbKnownFile *k = &files[n];

		changetrace__state__v1__known_file__init(k);
		k->path = f->path;
		k->inode = f->ino;
		k->dev = f->dev;
		k->size = f->size;
		k->mode = f->mode;
		k->uid = f->uid;
		k->gid = f->gid;
		k->mtime_unix_nano = f->mtime_ns;
		k->ctime_unix_nano = f->ctime_ns;
		k->sha256 = f->sha256;
		k->content_kept = f->kept;
		k->link_target = f->link ? f->link : "";
		fp[n++] = k;
	}
	pb.n_files = n;
	pb.files = fp;
	for (size_t i = 0; i < s->n_rulesets; i++) {
		changetrace__state__v1__known_ruleset__init(&rs[pb.n_rulesets]);
		if (!s->rulesets[i].text)
			continue;	/* not known: the next start takes a baseline */
		rs[pb.n_rulesets].netns_name = s->rulesets[i].netns;
		rs[pb.n_rulesets].netns_inode = s->rulesets[i].inode;
		rs[pb.n_rulesets].source = s->rulesets[i].source;
		rs[pb.n_rulesets].text = s->rulesets[i].text;
		rp[pb.n_rulesets] = &rs[pb.n_rulesets];
		pb.n_rulesets++;
	}
	pb.rulesets = rp;
	pb.version = 1;
	pb.store_id = s->store_id;
	pb.seq = s->seq;
	pb.time_unix_nano = s->time_ns = ct_now_wall_ns();
	pb.n_roots = s->n_roots;
	pb.roots = s->roots;
	*len = changetrace__state__v1__last_state__get_packed_size(&pb);
	buf = malloc(*len ? *len : 1);
	if (buf)
		changetrace__state__v1__last_state__pack(&pb, buf);
out:
	free(files);
	free(fp);
	return buf;
}

/* Written beside its final name, fsynced, renamed over it, and the
 * directory fsynced: after a crash the old or the new one is there. */
int ct_last_state_write(const char *path, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 8], dir[PATH_MAX];
	int fd, rc = -1;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "path too long");
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write_full(fd, buf, len) != (ssize_t)len || fsync(fd) < 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) < 0) {
		snprintf(err, errlen, "cannot rename %s: %s", tmp, strerror(errno));
		goto out;
	}
	ct_strlcpy(dir, path, sizeof(dir));
	fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		fsync(fd);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp);
	return rc;
}

int ct_last_state_save(struct ct_last_state *s, const char *path, char *err, size_t errlen)
{
	size_t len;
	uint8_t *buf = ct_last_state_pack(s, &len);
	int rc;

	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = ct_last_state_write(path, buf, len, err, errlen);
	free(buf);
	if (rc == 0) {
		s->dirty = false;
		s->applied = 0;
	}
	return rc;
}

/* ------------------------------------------------------------ replay */

struct replay_ctx {
	struct ct_last_state *s;
	long applied;
	struct ct_store_last_event *last;
};

static int replay_cb(const PbEvent *ev, void *vctx)
{
	struct replay_ctx *c = vctx;

	if (ev->seq > c->s->seq) {
		ct_last_state_apply(c->s, ev);
		c->applied++;
	}
	return 0;
}

static int last_cb(const PbEvent *ev, void *vctx)
{
	struct ct_store_last_event *l = vctx;

	if (ev->seq < l->seq)
		return 0;
	l->seq = ev->seq;
	l->time_ns = ev->time_unix_nano;
	l->clean_stop = ev->detail_case == CHANGETRACE__V1__EVENT__DETAIL_AGENT && ev->agent &&
			ev->agent->state && !strcmp(ev->agent->state, "stopped");
	return 0;
}

long ct_last_state_replay(struct ct_last_state *s, const char *store_dir, uint64_t store_last_seq,
			  bool journal, struct ct_store_last_event *last)
{
	struct ct_store_filter f = CT_STORE_FILTER_INIT;
	struct ct_store_reader *r;
	struct replay_ctx c = { .s = s, .last = last };
	char err[512];

	memset(last, 0, sizeof(*last));
	if (ct_store_reader_open(&r, store_dir, err, sizeof(err)) < 0)
		return -1;
	if (store_last_seq) {
		f.from_seq = store_last_seq;
		ct_store_scan(r, &f, last_cb, last);
	}
	if (journal && store_last_seq > s->seq) {
		f.from_seq = s->seq + 1;
		f.kind_mask = 1u << CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_FILE |
			      1u << CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_NET;
		ct_store_scan(r, &f, replay_cb, &c);
	}
	ct_store_reader_close(r);
	return c.applied;
}
