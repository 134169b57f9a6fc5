/* The agent's run state (agent_state.c) on a temp dir: where seqs start
 * after a clean stop, after an unclean one (past the reservation), with a
 * torn state file, and the store lock held. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>
#include "unit.h"
#include "agent/agent_state.h"

static int open_state(struct ct_agent_state *s, const char *dir)
{
	char err[256];

	return ct_agent_state_open(s, dir, err, sizeof(err));
}

TEST(agent_state_seqs_never_reused_after_unclean_stop)
{
	char dir[] = "/tmp/ct-unit-state-XXXXXX", path[128];
	struct ct_agent_state s;
	int fd;

	CHECK(mkdtemp(dir));
	/* a first run: no previous state, seqs continue from the store */
	CHECK(open_state(&s, dir) == 0);
	CHECK(!s.prev_found);
	CHECK(ct_agent_state_first_seq(&s, 10) == 10);
	CHECK(ct_agent_state_start(&s, 10 + CT_SEQ_RESERVE) == 0);
	CHECK(ct_agent_state_reserve(&s, 3000) == 0);
	/* killed: its lock goes with it, its state says running */
	close(s.lock_fd);
	CHECK(open_state(&s, dir) == 0);
	CHECK(s.prev_found && s.prev_unclean);
	/* the store holds up to 2500; the killed run may have used up to 3000 */
	CHECK(ct_agent_state_first_seq(&s, 2500) == 3000);
	CHECK(ct_agent_state_start(&s, 3000 + CT_SEQ_RESERVE) == 0);
	ct_agent_state_close(&s, 3100);
	/* a clean stop: exactly after its last seq, not its reservation */
	CHECK(open_state(&s, dir) == 0);
	CHECK(s.prev_found && !s.prev_unclean);
	CHECK(ct_agent_state_first_seq(&s, 3100) == 3100);
	ct_agent_state_close(&s, 0);	/* never started: state left as it was */
	CHECK(open_state(&s, dir) == 0);
	CHECK(s.prev_found && !s.prev_unclean && s.prev.last_seq == 3100);
	close(s.lock_fd);
	/* a torn state file: taken as an unclean stop */
	snprintf(path, sizeof(path), "%s/agent.state", dir);
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && write(fd, "changetrace-agent-st", 20) == 20);
	close(fd);
	CHECK(open_state(&s, dir) == 0);
	CHECK(s.prev_found && s.prev_unclean);
	CHECK(ct_agent_state_first_seq(&s, 3100) == 3100);
	close(s.lock_fd);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	CHECK(system(path) == 0);
}

TEST(agent_state_lock_refuses_a_live_holder)
{
	char dir[] = "/tmp/ct-unit-lock-XXXXXX", path[128], err[256];
	struct ct_agent_state a, b;

	CHECK(mkdtemp(dir));
	CHECK(open_state(&a, dir) == 0);
	/* the holder (this process) is alive and not stopping */
	CHECK(ct_agent_state_open(&b, dir, err, sizeof(err)) < 0);
	CHECK(strstr(err, "in use by another agent") != NULL);
	close(a.lock_fd);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	CHECK(system(path) == 0);
}
