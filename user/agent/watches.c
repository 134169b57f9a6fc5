/*
 * What the agent watches: the watch list built from the options and the
 * policy, installed into the kernel's maps, the content baseline taken,
 * and the file collector wired to the maps it reads.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "agent_config.h"
#include "changetrace.skel.h"
#include "collector/event_file.h"
#include "collector/file_content.h"
#include "collector/unobserved.h"
#include "guard/exec_guard.h"
#include "lib/util.h"

/*
 * The watch list: --watch, --watch-list, the default list, and every
 * protected path of the policy (a protected path nobody watches would
 * never be judged). For a glob, the directory before its first wildcard.
 */
int ct_agent_build_watches(struct ct_agent *a, struct ct_watches *w, char *err, size_t errlen)
{
	static char derived[CT_POLICY_MAX_PROTECT][CT_WATCH_PREFIX_LEN];
	char *extra[CT_WATCH_MAX + CT_POLICY_MAX_PROTECT];
	int n = 0;

	for (int i = 0; i < a->opts.n_watch; i++)
		extra[n++] = a->opts.watch[i];
	for (int i = 0; i < a->guard.policy.n_protect && i < CT_POLICY_MAX_PROTECT; i++) {
		const char *p = a->guard.policy.protect[i];
		size_t lit = strcspn(p, "*?[");
		char *d = derived[i];
		struct stat st;

		if (p[0] != '/' || lit >= sizeof(derived[i]))
			continue;
		memcpy(d, p, lit);
		d[lit] = '\0';
		if (p[lit]) {	/* a glob: watch its directory */
			char *slash = strrchr(d, '/');

			if (slash)
				slash[slash == d] = '\0';
		}
		/* never the whole filesystem: every write on the host would count */
		if (strcmp(d, "/") && stat(d, &st) == 0)
			extra[n++] = d;
	}
	return ct_watches_build(w, a->opts.watch_only, extra, n, a->opts.watch_list, err, errlen);
}

/* The options the last reload read: what the reloadable options point
 * into (held, not leaked; the previous reload's are freed). */
static char **volatile reload_argv;
static int reload_argc;

/* The --config files again: the watch list (--watch, --watch-only,
 * --watch-list) and the policy (--policy, --protect) take their new
 * values; the other options keep theirs until a restart. A file that does
 * not parse changes nothing. */
static int reread_config(struct ct_agent *a, char *err, size_t errlen)
{
	struct ct_agent_opts fresh = { 0 };
	char **v;
	int n;

	if (ct_agent_config_expand(a->argc, a->argv, ct_agent_lopts, &n, &v, err, errlen) < 0)
		return -1;
	if (ct_agent_parse_opts(&fresh, n, v) < 0) {
		ct_agent_config_free(a->argc, a->argv, v, n);
		snprintf(err, errlen, "invalid options (reported above)");
		return -1;
	}
	memcpy(a->opts.watch, fresh.watch, sizeof(fresh.watch));
	a->opts.n_watch = fresh.n_watch;
	a->opts.watch_only = fresh.watch_only;
	a->opts.watch_list = fresh.watch_list;
	memcpy(a->opts.protect, fresh.protect, sizeof(fresh.protect));
	a->opts.n_protect = fresh.n_protect;
	a->opts.policy_path = fresh.policy_path;
	a->guard.policy_path = fresh.policy_path;
	if (reload_argv)
		ct_agent_config_free(a->argc, a->argv, reload_argv, reload_argc);
	reload_argv = v;
	reload_argc = n;
	return 0;
}

/* SIGHUP: re-read the config files, the policy and the watch list. Events
 * keep flowing: the rings are drained before and after, and a bad file
 * leaves the previous settings in force. */
void ct_agent_reload(struct ct_agent *a)
{
	static struct ct_watches w;
	char err[512];

	ct_service_reloading(&a->service);
	ct_agent_drain(a);
	a->reloads++;
	if (reread_config(a, err, sizeof(err)) < 0) {
		ct_err("agent: config reload failed, keeping the previous options: %s", err);
		a->reload_failures++;
	}
	if (ct_guard_reload(&a->guard, a->opts.protect, a->opts.n_protect, err, sizeof(err)) < 0) {
		ct_err("agent: policy reload failed, keeping the previous policy: %s", err);
		a->reload_failures++;
	} else {
		if (ct_exec_guard_install(&a->guard, err, sizeof(err)) < 0) {
			ct_err("agent: %s; the previous exec rules stay in force", err);
			a->reload_failures++;
		}
		fprintf(stderr, "changetrace: policy reloaded: %d rules (%d exec rules, generation %llu)\n",
			a->guard.policy.n_rules, a->guard.policy.n_exec_rules,
			(unsigned long long)a->guard.policy_generation);
		/* newly protected paths are watched from now on */
		if (ct_agent_build_watches(a, &w, err, sizeof(err)) < 0 ||
		    ct_watches_install(&w, bpf_map__fd(a->skel->maps.ct_watch),
				       bpf_map__fd(a->skel->maps.ct_watch_prefix),
				       &a->skel->bss->ct_walk_gen, &a->skel->bss->ct_watch_files) < 0) {
			ct_err("agent: watch list not updated: %s", err);
			a->reload_failures++;
		} else {
			a->watches = w;
			fprintf(stderr, "changetrace: watching %d paths (%d configured paths absent)\n",
				a->watches.n, a->watches.missing);
		}
	}
	ct_agent_drain(a);
	ct_service_ready(&a->service, "tracing (reloaded)");
}

/* Watch list into the kernel, then the baseline: the last known content
 * of every watched file, the "before" of its first change. */
int ct_agent_setup_file_watch(struct ct_agent *a)
{
	struct ct_content_cfg cc = { .keep_max = a->opts.content_max, .hash_max = a->opts.hash_max };
	struct ct_file_cfg fc = {
		.watches = &a->watches,
		.wfiles_fd = bpf_map__fd(a->skel->maps.ct_wfiles),
		.wfds_fd = bpf_map__fd(a->skel->maps.ct_wfds),
		.wbursts_fd = bpf_map__fd(a->skel->maps.ct_wbursts),
		.settle_ns = 50ull * 1000000,
		.max_quiet_ns = 2000ull * 1000000,
		.max_age_ns = 5000ull * 1000000,
		.path_seen = ct_unobserved_touched,
	};
	struct stat st;

	if (ct_watches_install(&a->watches, bpf_map__fd(a->skel->maps.ct_watch),
			       bpf_map__fd(a->skel->maps.ct_watch_prefix),
			       &a->skel->bss->ct_walk_gen, &a->skel->bss->ct_watch_files) < 0) {
		ct_err("agent: cannot install the watch list: %s", strerror(errno));
		return -1;
	}
	if (!a->opts.no_store) {
		snprintf(a->blob_dir, sizeof(a->blob_dir), "%s/blobs", a->opts.store_dir);
		cc.blob_dir = a->blob_dir;
	}
	ct_content_init(&cc);
	{
		char *roots[CT_WATCH_MAX];

		/* explicitly configured paths (listed last) first */
		for (int i = 0; i < a->watches.n; i++)
			roots[i] = a->watches.w[a->watches.n - 1 - i].path;
		if (ct_content_baseline_start(roots, a->watches.n, 200000,
					      ct_unobserved_baseline_hook()) < 0)
			ct_err("agent: baseline thread did not start: first changes have no \"before\"");
	}
	if (stat("/proc/self/ns/mnt", &st) == 0)
		fc.host_mnt_ns = st.st_ino;
	if (stat("/proc/self/ns/net", &st) == 0)
		fc.host_net_ns = st.st_ino;
	ct_file_free(a->files);
	a->files = ct_file_new(&fc);
	a->col.files = a->files;
	fprintf(stderr, "changetrace: watching %d paths (%d configured paths absent)\n",
		a->watches.n, a->watches.missing);
	return 0;
}
