/* The agent's run state and store lock. See agent_state.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_state.h"
#include "lib/task_identity.h"
#include "lib/util.h"

#define STATE_MAGIC "changetrace-agent-state 1"

static void boot_id(char *out, size_t len)
{
	ssize_t n = ct_read_file("/proc/sys/kernel/random/boot_id", out, len - 1);

	out[n > 0 ? n : 0] = '\0';
	out[strcspn(out, "\n")] = '\0';
}

static int parse(const char *buf, struct ct_run_state *r)
{
	static const struct { const char *key; size_t off; } keys[] = {
#define K(f) { #f, offsetof(struct ct_run_state, f) }
		K(started_ns), K(alive_ns), K(stopped_ns), K(seq_reserved), K(last_seq),
		K(down_since_ns), K(down_first_seq), K(down_last_seq),
#undef K
	};
	const char *l = buf;

	memset(r, 0, sizeof(*r));
	if (strncmp(buf, STATE_MAGIC "\n", strlen(STATE_MAGIC) + 1))
		return -1;
	while ((l = strchr(l, '\n')) && *++l) {
		char key[32];
		unsigned long long v;
		char sv[40];

		if (sscanf(l, "boot_id %39s", sv) == 1) {
			ct_strlcpy(r->boot_id, sv, sizeof(r->boot_id));
			continue;
		}
		if (sscanf(l, "%31s %llu", key, &v) != 2)
			return -1;
		if (!strcmp(key, "pid"))
			r->pid = v;
		else if (!strcmp(key, "down_pid"))
			r->down_pid = v;
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
			if (!strcmp(key, keys[i].key))
				*(uint64_t *)((char *)r + keys[i].off) = v;
	}
	return r->pid && r->started_ns ? 0 : -1;
}

/* Replace the state file (temp + rename); durable: fsync both. */
static int write_state(struct ct_agent_state *s, bool durable)
{
	const struct ct_run_state *r = &s->cur;
	char path[4200], tmp[4200], buf[1024];
	int fd, n;

	n = snprintf(buf, sizeof(buf),
		     STATE_MAGIC "\n"
		     "pid %u\nboot_id %s\nstarted_ns %" PRIu64 "\nalive_ns %" PRIu64 "\n"
		     "stopped_ns %" PRIu64 "\nseq_reserved %" PRIu64 "\nlast_seq %" PRIu64 "\n"
		     "down_since_ns %" PRIu64 "\ndown_pid %u\ndown_first_seq %" PRIu64 "\n"
		     "down_last_seq %" PRIu64 "\n",
		     r->pid, r->boot_id[0] ? r->boot_id : "-", r->started_ns, r->alive_ns,
		     r->stopped_ns, r->seq_reserved, r->last_seq, r->down_since_ns, r->down_pid,
		     r->down_first_seq, r->down_last_seq);
	snprintf(path, sizeof(path), "%s/agent.state", s->dir);
	snprintf(tmp, sizeof(tmp), "%s/agent.state.tmp", s->dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0 || write(fd, buf, n) != n || (durable && fsync(fd) < 0)) {
		if (fd >= 0)
			close(fd);
		s->write_failures++;
		return -1;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		s->write_failures++;
		return -1;
	}
	if (durable) {
		int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	return 0;
}

/* The lock of a store another agent holds: wait for it if that agent is
 * exiting (killed just before), else refuse. */
static int lock_store(struct ct_agent_state *s, char *err, size_t errlen)
{
	char path[4200], pidbuf[48];

	snprintf(path, sizeof(path), "%s/agent.lock", s->dir);
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	for (int waited_ms = 0; flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0; waited_ms += 50) {
		ssize_t n = pread(s->lock_fd, pidbuf, sizeof(pidbuf) - 1, 0);
		pid_t holder;

		if (errno != EWOULDBLOCK) {
			snprintf(err, errlen, "cannot lock %s: %s", path, strerror(errno));
			return -1;
		}
		pidbuf[n > 0 ? n : 0] = '\0';
		holder = atoi(pidbuf);
		/* killed and exiting, or stopping (SIGTERM): gone soon */
		if (holder <= 0 || !(ct_task_dying(holder) || strstr(pidbuf, "stopping"))) {
			/* a holder that has not written its pid yet is given a moment */
			if (holder <= 0 && waited_ms < 1000) {
				usleep(50000);
				continue;
			}
			snprintf(err, errlen, "the store %s is in use by another agent (pid %d)",
				 s->dir, (int)holder);
			return -1;
		}
		if (waited_ms == 0)
			fprintf(stderr, "changetrace: the previous agent (pid %d) on store %s is "
				"%s; waiting for it\n", (int)holder, s->dir,
				strstr(pidbuf, "stopping") ? "stopping" : "exiting");
		if (waited_ms >= 30000) {
			snprintf(err, errlen, "the previous agent (pid %d) on store %s did not exit "
				 "within 30 s", (int)holder, s->dir);
			return -1;
		}
		usleep(50000);
	}
	snprintf(pidbuf, sizeof(pidbuf), "%d\n", (int)getpid());
	if (ftruncate(s->lock_fd, 0) < 0 ||
	    pwrite(s->lock_fd, pidbuf, strlen(pidbuf), 0) != (ssize_t)strlen(pidbuf)) {
		/* the lock holds; only a waiting agent's message loses the pid */
	}
	return 0;
}

int ct_agent_state_open(struct ct_agent_state *s, const char *dir, char *err, size_t errlen)
{
	char path[4200], buf[2048];
	ssize_t n;

	memset(s, 0, sizeof(*s));
	s->lock_fd = -1;
	ct_strlcpy(s->dir, dir, sizeof(s->dir));
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (lock_store(s, err, errlen) < 0) {
		if (s->lock_fd >= 0)
			close(s->lock_fd);
		s->lock_fd = -1;
		return -1;
	}
	snprintf(path, sizeof(path), "%s/agent.state", dir);
	n = ct_read_file(path, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		s->prev_found = true;
		if (parse(buf, &s->prev) < 0) {
			/* unreadable (torn by a power loss): assume the worst */
			ct_err("agent: %s is unreadable; taking the previous run as stopped uncleanly",
			       path);
			memset(&s->prev, 0, sizeof(s->prev));
		}
		s->prev_unclean = !s->prev.stopped_ns;
	}
	s->cur.pid = getpid();
	boot_id(s->cur.boot_id, sizeof(s->cur.boot_id));
	return 0;
}

uint64_t ct_agent_state_first_seq(const struct ct_agent_state *s, uint64_t store_last_seq)
{
	uint64_t seq = store_last_seq;

	if (s->prev.seq_reserved > seq && s->prev_unclean)
		seq = s->prev.seq_reserved;
	if (s->prev.last_seq > seq)
		seq = s->prev.last_seq;
	if (s->prev.down_last_seq > seq)
		seq = s->prev.down_last_seq;
	return seq;
}

int ct_agent_state_start(struct ct_agent_state *s, uint64_t reserved)
{
	s->cur.started_ns = s->cur.alive_ns = ct_now_wall_ns();
	s->cur.seq_reserved = reserved;
	return write_state(s, true);
}

int ct_agent_state_reserve(struct ct_agent_state *s, uint64_t upto)
{
	uint64_t old = s->cur.seq_reserved;

	s->cur.seq_reserved = upto;
	s->cur.alive_ns = ct_now_wall_ns();
	if (write_state(s, true) < 0) {
		s->cur.seq_reserved = old;
		return -1;
	}
	return 0;
}

int ct_agent_state_down_reported(struct ct_agent_state *s)
{
	s->cur.down_since_ns = 0;
	s->cur.down_pid = 0;
	s->cur.down_first_seq = s->cur.down_last_seq = 0;
	return write_state(s, true);
}

void ct_agent_state_heartbeat(struct ct_agent_state *s)
{
	if (!s->cur.started_ns)
		return;
	s->cur.alive_ns = ct_now_wall_ns();
	write_state(s, false);
}

void ct_agent_state_stopping(struct ct_agent_state *s)
{
	char buf[48];

	if (s->lock_fd < 0)
		return;
	snprintf(buf, sizeof(buf), "%d stopping\n", (int)getpid());
	if (pwrite(s->lock_fd, buf, strlen(buf), 0) < 0) {
		/* a successor then refuses to start until we are gone */
	}
}

void ct_agent_state_close(struct ct_agent_state *s, uint64_t last_seq)
{
	if (s->lock_fd < 0)
		return;
	/* a run that never started leaves the previous state as it was */
	if (s->cur.started_ns) {
		s->cur.alive_ns = s->cur.stopped_ns = ct_now_wall_ns();
		s->cur.last_seq = last_seq;
		write_state(s, true);
	}
	close(s->lock_fd);
	s->lock_fd = -1;
}
