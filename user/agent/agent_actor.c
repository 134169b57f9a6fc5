#include <limits.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "agent_actor.h"
#include "collector/proc_cache.h"
#include "lib/util.h"

static uint32_t actor_pid, actor_uid;

void ct_agent_set_actor(struct ct_agent *a, uint32_t pid, uint32_t uid)
{
	actor_pid = pid;
	actor_uid = uid;
}

bool ct_agent_fill_actor(struct ct_agent *a, struct ct_event_buf *b)
{
	PbProcess *p = &b->proc;
	uint32_t pid = actor_pid;
	struct ct_proc *cp;

	if (!pid)
		return false;
	if (a->rb_bulk) {
		int budget = a->bulk_budget;

		/* a DEPLOY event these records cause (an environment's id)
		 * has no actor: never a consume nested in this one */
		actor_pid = 0;
		a->bulk_budget = INT_MAX;
		ring_buffer__consume(a->rb_bulk);
		a->bulk_budget = budget;
		actor_pid = pid;
	}
	*p = (PbProcess)CHANGETRACE__V1__PROCESS__INIT;
	p->pid = pid;
	p->uid = actor_uid;
	/* the cached image when its start matches /proc (it is the same
	 * process), else what /proc says: the peer is alive, waiting */
	cp = ct_proc_load(a->col.proc_root, pid);
	if (!cp)
		return true;
	p->ppid = cp->ppid;
	p->start_time_ns = cp->start_ns;
	p->exec_id = cp->exec_id;
	p->comm = b->comm;
	ct_strlcpy(b->comm, cp->comm, sizeof(b->comm));
	p->exe = b->exe;
	ct_strlcpy(b->exe, cp->exe ? cp->exe : "", sizeof(b->exe));
	p->cwd = b->cwd;
	ct_strlcpy(b->cwd, cp->cwd ? cp->cwd : "", sizeof(b->cwd));
	p->n_argv = ct_split_args(cp->args ? cp->args : "", cp->args_len, b->args,
				  sizeof(b->args), b->argv, CT_ARGV_MAX);
	p->argv = b->argv;
	return true;
}
