/*
 * `changetrace agent`: load the probes, drain both ring buffers, enrich and
 * print events, and serve the control socket. One thread, one epoll loop:
 * ring buffers, control clients, signals and a 1 s housekeeping timer.
 */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "agent_config.h"
#include "agent_restart.h"
#include "changetrace.skel.h"
#include "collector/container_ctx.h"
#include "collector/event_file.h"
#include "collector/event_net.h"
#include "collector/file_content.h"
#include "collector/proc_cache.h"
#include "collector/unobserved.h"
#include "export/feed.h"
#include "export/feed_file.h"
#include "export/otlp.h"
#include "lib/control.h"
#include "lib/util.h"
#include "store/store.h"

#define FD_RING  (-2)
#define FD_SIG   (-3)
#define FD_TIMER (-4)
#define FD_FEED  (-5)

/* The event loop's own descriptors. */
struct loop {
	int epfd, sfd, tfd, lfd;
	sigset_t mask;
	bool running;
};

/* The options after --config files are expanded: the parsed options point
 * into its strings for the agent's lifetime (held here, not leaked). A
 * reload expands the command line (a->argc, a->argv) again. */
static char **volatile config_argv;

static int add_fd(int epfd, int fd, int tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* Options, policy and watch list: everything that can be refused before
 * anything is loaded. Returns 0 or the exit code. */
static int configure(struct ct_agent *a, int argc, char **argv)
{
	char err[256];

	a->argc = argc;
	a->argv = argv;
	if (ct_agent_config_expand(argc, argv, ct_agent_lopts, &argc, &argv, err, sizeof(err)) < 0) {
		ct_err("agent: config: %s", err);
		return 2;
	}
	config_argv = argv;
	if (ct_agent_parse_opts(&a->opts, argc, argv) < 0)
		return 2;
	a->opts.socket_path = ct_socket_path(a->opts.socket_path);
	if (geteuid() != 0) {
		ct_err("agent must run as root (it loads BPF programs: CAP_BPF, CAP_PERFMON)");
		return 1;
	}
	if (a->opts.group) {
		struct group *g = getgrnam(a->opts.group);

		if (!g) {
			ct_err("agent: unknown group '%s'", a->opts.group);
			return 2;
		}
		a->group_gid = g->gr_gid;
		a->has_group = true;
	}
	if (ct_guard_init(&a->guard, a->opts.policy_path, a->opts.protect, a->opts.n_protect,
			  err, sizeof(err)) < 0) {
		ct_err("agent: policy: %s", err);
		return 2;
	}
	if (ct_agent_build_watches(a, &a->watches, err, sizeof(err)) < 0) {
		ct_err("agent: watch list: %s", err);
		return 2;
	}
	return 0;
}

/* The parts that are not the kernel's: collector, ruleset worker, control
 * socket and outputs. */
static int start_userspace(struct ct_agent *a, struct loop *l)
{
	char err[256];

	a->out = stdout;
	a->start_mono_ns = ct_now_mono_ns();
	ct_service_init(&a->service);
	a->sink = ct_agent_sink(a);
	ct_collector_init(&a->col);
	a->col.sink = a->sink;
	a->guard.sink = a->sink;
	a->guard.col = &a->col;
	ct_proc_cache_init(1 << 18);

	/* Block the signals first so none is lost between load and the loop. */
	sigemptyset(&l->mask);
	sigaddset(&l->mask, SIGINT);
	sigaddset(&l->mask, SIGTERM);
	sigaddset(&l->mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &l->mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* after the mask: the worker inherits it, so signals reach signalfd */
	if (ct_net_worker_start() < 0)
		ct_err("agent: network ruleset worker did not start; net events carry no ruleset");
	else
		ct_net_prime();
	{
		struct ct_containers_cfg cc = {
			.proc_root = a->col.proc_root, .runtime_socket = a->opts.runtime_socket,
		};

		if (ct_containers_init(&cc) < 0)
			ct_err("agent: container names worker did not start; events say names are unavailable");
	}

	l->lfd = ct_ctl_listen(a->opts.socket_path, a->opts.group, err, sizeof(err));
	if (l->lfd < 0) {
		ct_err("agent: %s", err);
		return -1;
	}
	if (ct_agent_outputs_open(a) < 0)
		return -1;
	ct_agent_open_last_state(a);
	return 0;
}

/* The probes, what they watch, and the loop's descriptors. */
static int start_kernel_side(struct ct_agent *a, struct loop *l)
{
	struct itimerspec its = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	size_t seeded;

	if (ct_agent_bpf_open(a) < 0)
		return -1;
	a->guard.tasks_fd = a->tasks_fd;
	a->guard.deploy_flags_fd = bpf_map__fd(a->skel->maps.ct_deploy_flags);
	if (ct_agent_setup_file_watch(a) < 0)
		return -1;
	/* rulesets compared once the probes are live: a change after this is seen */
	ct_unobserved_compare_net();
	/* Seed after the probes are live: a process that execs in between is
	 * seen by both, and the exec event simply refreshes its entry. */
	seeded = ct_proc_seed(a->col.proc_root);
	if (ct_agent_rings_open(a) < 0) {
		ct_err("agent: cannot set up ring buffers: %s", strerror(errno));
		return -1;
	}
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->sfd = signalfd(-1, &l->mask, SFD_CLOEXEC | SFD_NONBLOCK);
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (l->epfd < 0 || l->sfd < 0 || l->tfd < 0 || timerfd_settime(l->tfd, 0, &its, NULL) < 0 ||
	    add_fd(l->epfd, ring_buffer__epoll_fd(a->rb_change), FD_RING) < 0 ||
	    add_fd(l->epfd, ring_buffer__epoll_fd(a->rb_bulk), FD_RING) < 0 ||
	    add_fd(l->epfd, l->sfd, FD_SIG) < 0 || add_fd(l->epfd, l->tfd, FD_TIMER) < 0 ||
	    add_fd(l->epfd, l->lfd, l->lfd) < 0 ||
	    (a->feed && add_fd(l->epfd, ct_feed_listen_fd(a->feed), FD_FEED) < 0)) {
		ct_err("agent: event loop setup failed: %s", strerror(errno));
		return -1;
	}

	fprintf(stderr, "changetrace %s: agent pid %d, %zu processes known from /proc, "
		"control socket %s\n", CT_VERSION, getpid(), seeded, a->opts.socket_path);
	for (int i = 0; i < a->n_probes; i++)
		fprintf(stderr, "  probe %-12s %-10s %s%s\n", a->probes[i].name,
			a->probes[i].attach_type, a->probes[i].attached ? "attached" : "FAILED: ",
			a->probes[i].error);
	return 0;
}

static void on_signals(struct ct_agent *a, struct loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM)
			l->running = false;
		if (si.ssi_signo == SIGHUP)
			ct_agent_reload(a);
	}
}

/* READY=1 only now: the probes are attached and the loop is about to run. */
static void tell_ready(struct ct_agent *a)
{
	char st[256];
	int attached = 0;

	for (int i = 0; i < a->n_probes; i++)
		attached += a->probes[i].attached;
	snprintf(st, sizeof(st), "tracing: %d of %d probes attached, watching %d paths",
		 attached, a->n_probes, a->watches.n);
	ct_service_ready(&a->service, st);
}

/* Once a second. */
static void on_timer(struct ct_agent *a, struct loop *l)
{
	uint64_t ticks;

	if (read(l->tfd, &ticks, sizeof(ticks)) < 0)
		return;
	a->col.wall_offset = ct_mono_to_wall_offset();
	ct_proc_expire(ct_now_mono_ns());
	ct_paths_check_drops(&a->paths, a);
	ct_agent_store_tick(a);
	ct_unobserved_tick(true);
}

static void dispatch(struct ct_agent *a, struct loop *l, const struct epoll_event *e)
{
	int tag = e->data.fd;

	if (tag == FD_RING) {
		ct_agent_drain_for(a, CT_DRAIN_SLICE_NS);
	} else if (tag == FD_SIG) {
		on_signals(a, l);
	} else if (tag == FD_TIMER) {
		on_timer(a, l);
	} else if (tag == l->lfd) {
		ct_ctl_on_listen(a, l->lfd, l->epfd);
	} else if (tag == FD_FEED) {
		/* a subscriber replays the store up to here, then follows
		 * live: everything so far must be on disk */
		if (a->store)
			ct_store_flush(a->store);
		ct_feed_accept(a->feed, l->epfd, a->col.seq);
	} else if (a->feed && ct_feed_owns(a->feed, tag)) {
		ct_feed_on_fd(a->feed, tag, e->events, l->epfd);
	} else {
		ct_ctl_on_client(a, tag, e->events, l->epfd);
	}
}

/* Leaving: the sockets go first, so a successor started now binds them
 * at once, and waits only for the store, which stays this agent's (its
 * lock says "stopping") until the last block is written. */
static void stop_listening(struct ct_agent *a, struct loop *l)
{
	if (a->has_state)
		ct_agent_state_stopping(&a->state);
	if (l->epfd >= 0)
		ct_ctl_close_all(l->epfd);
	if (l->lfd >= 0) {
		if (l->epfd >= 0)
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->lfd, NULL);
		/* the name first: a successor binds it as soon as the listener
		 * is gone, and must not lose it to this unlink */
		unlink(a->opts.socket_path);
		close(l->lfd);
		l->lfd = -1;
	}
	ct_feed_stop_listening(a->feed, l->epfd);
}

static int run(struct ct_agent *a, struct loop *l)
{
	size_t file_pending = 0;
	bool was_polling = false;

	l->running = true;
	while (l->running) {
		struct epoll_event evs[16];
		/* changes being coalesced settle within ~50 ms: look more often
		 * (and once more after, see ct_collector_polling) */
		int n = epoll_wait(l->epfd, evs, 16,
				   ct_unobserved_busy() || ct_ctl_pending() ? 0 :
				   ct_service_max_sleep_ms(&a->service,
							   file_pending || was_polling ? CT_POLL_INTERVAL_MS
										       : CT_DRAIN_INTERVAL_MS));

		/* n == 0: bulk records below the wakeup batch size; polling:
		 * change records submitted without a wakeup */
		if (n == 0 || file_pending || was_polling)
			ct_agent_drain_for(a, CT_DRAIN_SLICE_NS);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ct_err("agent: epoll: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++)
			dispatch(a, l, &evs[i]);
		ct_ctl_tick(a, l->epfd);
		file_pending = ct_file_tick(a->files, &a->col, ct_now_mono_ns(), 0);
		ct_unobserved_tick(false);
		was_polling = a->skel->bss->ct_collector_polling;
		a->skel->bss->ct_collector_polling = file_pending > 0;
		ct_feed_flush(a->feed, l->epfd);
		ct_feed_file_flush(a->feed_file);
		fflush(a->out);
		/* alive means this loop came round again */
		ct_service_tick(&a->service, ct_now_mono_ns());
	}
	ct_service_stopping(&a->service);
	stop_listening(a, l);
	/* Drain what the kernel already produced before we go. */
	ct_agent_drain(a);
	ct_file_tick(a->files, &a->col, ct_now_mono_ns(), 1);
	ct_paths_check_drops(&a->paths, a);
	ct_agent_emit_state(a, "stopped");
	ct_unobserved_close();
	return 0;
}

static void stop(struct ct_agent *a, struct loop *l)
{
	stop_listening(a, l);	/* if the loop never ran */
	ct_feed_close(a->feed, l->epfd);
	a->feed = NULL;
	ct_feed_file_close(a->feed_file);
	a->feed_file = NULL;
	ct_agent_rings_close(a);
	ct_agent_bpf_close(a);
	ct_net_worker_stop();
	ct_containers_stop();
	/* after the store's last block is on disk: a last export attempt */
	if (a->store)
		ct_store_flush(a->store);
	ct_otlp_stop(a->otlp, a->col.seq);
	a->otlp = NULL;
	ct_store_close(a->store);
	a->store = NULL;
	if (a->has_state)
		ct_agent_state_close(&a->state, a->col.seq);
	ct_proc_cache_free();
	ct_file_free(a->files);
	a->files = a->col.files = NULL;
	ct_guard_free(&a->guard);
	ct_content_free();
	fflush(a->out);
}

int ct_cmd_agent(int argc, char **argv)
{
	static struct ct_agent agent;
	struct ct_agent *a = &agent;
	struct loop l = { .epfd = -1, .sfd = -1, .tfd = -1, .lfd = -1 };
	int rc = configure(a, argc, argv);

	if (rc)
		return rc;
	rc = 1;
	if (start_userspace(a, &l) == 0 && start_kernel_side(a, &l) == 0) {
		ct_agent_emit_state(a, "started");
		ct_agent_restart_report(a);
		tell_ready(a);
		rc = run(a, &l);
	}
	stop(a, &l);
	return rc;
}
