/* Kernel entries of exited processes. See file_sweep.h. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "file_sweep.h"
#include "lib/util.h"

static bool gone(uint32_t tgid)
{
	return kill((pid_t)tgid, 0) < 0 && errno == ESRCH;
}

void file_sweep_init(struct file_sweep *s)
{
	memset(s, 0, sizeof(*s));
	s->files = calloc(SWEEP_KEYS, sizeof(*s->files));
	s->fds = calloc(SWEEP_KEYS, sizeof(*s->fds));
	if (!s->files || !s->fds) {
		ct_err("collector: out of memory for the sweep of %d files", SWEEP_KEYS);
		abort();
	}
}

void file_sweep_free(struct file_sweep *s)
{
	free(s->files);
	free(s->fds);
	memset(s, 0, sizeof(*s));
}

bool file_delete_if_dead(const struct ct_file_kmaps *m, uint64_t key, uint64_t open_ns)
{
	struct ct_wfile wf;

	if (m->wfile_get(m->ctx, key, &wf) || wf.open_ns != open_ns)
		return false;
	if (!gone(wf.tgid))
		return false;
	return m->wfile_delete(m->ctx, key) == 0;
}

/*
 * ct_wfds entries whose process is gone (an fd closed at exit never passes
 * close(2)). A live process's entry left by a dup2 over its fd is replaced
 * by the fd's next watched open. Each is read again before its delete: the
 * pid may have been reused by a process that opened a watched file since.
 */
static void sweep_wfds(struct file_sweep *s, const struct ct_file_kmaps *m, uint64_t *swept)
{
	struct ct_wfd_key key, next;
	struct ct_wfd fd;
	size_t n = 0, seen = 0;
	bool first = true;

	while (seen++ < SWEEP_KEYS && n < SWEEP_KEYS &&
	       !m->wfd_next(m->ctx, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		if (m->wfd_get(m->ctx, &key, &fd))
			continue;
		if (gone(key.tgid)) {
			s->fds[n].key = key;
			s->fds[n++].open_ns = fd.open_ns;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!m->wfd_get(m->ctx, &s->fds[i].key, &fd) && fd.open_ns == s->fds[i].open_ns &&
		    gone(s->fds[i].key.tgid) && m->wfd_delete(m->ctx, &s->fds[i].key) == 0)
			(*swept)++;
}

/* Every SWEEP_NS, a pass over at most the map's size. */
void file_sweep_tick(struct file_sweep *s, const struct ct_file_kmaps *m, uint64_t now,
		     uint64_t *files, uint64_t *fds)
{
	uint64_t key, next;
	size_t n = 0, seen = 0;
	struct ct_wfile wf;
	bool first = true;

	if (now - s->last_ns < SWEEP_NS)
		return;
	s->last_ns = now;
	sweep_wfds(s, m, fds);
	while (seen++ < SWEEP_KEYS && n < SWEEP_KEYS &&
	       !m->wfile_next(m->ctx, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		if (m->wfile_get(m->ctx, key, &wf))
			continue;
		if (gone(wf.tgid)) {
			s->files[n].key = key;
			s->files[n++].open_ns = wf.open_ns;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (file_delete_if_dead(m, s->files[i].key, s->files[i].open_ns))
			(*files)++;
}
