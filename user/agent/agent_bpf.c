/* Loading the probes: open the skeleton, attach each program on its own
 * so one missing tracepoint does not take the others down, and record
 * which attached and how (shown by `changetrace status`). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "agent.h"
#include "agent_deploys.h"
#include "changetrace.skel.h"
#include "lib/task_identity.h"
#include "guard/exec_guard.h"
#include "lib/util.h"
#include "tasks_upgrade.h"

static int verbose_level;

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && verbose_level < 2)
		return 0;
	if (level == LIBBPF_INFO && verbose_level < 1)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* The attach type is the part of the section name before '/'. */
static const char *attach_type_of(const struct bpf_program *p)
{
	static char buf[CT_MAX_PROBES][32];
	static int n;
	const char *sec = bpf_program__section_name(p);
	const char *slash = strchr(sec, '/');
	char *b = buf[n++ % CT_MAX_PROBES];
	size_t len = slash ? (size_t)(slash - sec) : strlen(sec);

	if (len >= sizeof(buf[0]))
		len = sizeof(buf[0]) - 1;
	memcpy(b, sec, len);
	b[len] = '\0';
	return b;
}

/* syscalls:* tracepoints are attached by id, which libbpf reads from
 * tracefs; mount it where the kernel expects it when nobody has. */
static void ensure_tracefs(void)
{
	struct stat st;

	if (stat("/sys/kernel/tracing/events", &st) == 0 ||
	    stat("/sys/kernel/debug/tracing/events", &st) == 0)
		return;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) < 0)
		ct_err("cannot mount tracefs on /sys/kernel/tracing (%s): syscall "
		       "tracepoint probes will not attach", strerror(errno));
}

/* Maps pinned under --pin-dir, so attribution of running processes, env
 * ids and cgroup claims survive an agent restart (libbpf reuses a pinned
 * map when the file exists). Ring buffers and counters are not pinned. */
static int pin_maps(struct ct_agent *a)
{
	struct bpf_map *maps[] = { a->skel->maps.ct_tasks, a->skel->maps.ct_deploy_ids,
				   a->skel->maps.ct_cgroups };
	const char *dir = a->opts.pin_dir;
	struct statfs fs;
	char path[4096];

	if (!strncmp(dir, "/sys/fs/bpf/", 12) &&
	    (statfs("/sys/fs/bpf", &fs) < 0 || fs.f_type != BPF_FS_MAGIC) &&
	    mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") < 0) {
		ct_err("cannot mount bpffs on /sys/fs/bpf: %s", strerror(errno));
		return -1;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		const char *base = strrchr(dir, '/');

		ct_err("cannot create pin dir %s: %s%s", dir, strerror(errno),
		       strchr(base ? base : dir, '.') ? " (bpffs names may not contain '.')" : "");
		return -1;
	}
	if (statfs(dir, &fs) < 0 || fs.f_type != BPF_FS_MAGIC) {
		ct_err("pin dir %s is not on a bpf filesystem (mount -t bpf bpf DIR)", dir);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(a->skel->maps.ct_tasks));
	ct_tasks_upgrade_take(a, path);
	for (size_t i = 0; i < ARRAY_SIZE(maps); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(maps[i]));
		if (bpf_map__set_pin_path(maps[i], path)) {
			ct_err("cannot set pin path %s", path);
			return -1;
		}
	}
	return 0;
}

/*
 * The kernel's unwatched-directory cache is only sound while every event
 * that can change a directory's ancestry moves ct_walk_gen: without one of
 * these probes, every open walks to the root as before.
 */
static void enable_walk_cache(struct ct_agent *a)
{
	static const char *const movers[] = {
		"ct_exit_rename", "ct_exit_renameat", "ct_exit_renameat2", "ct_exit_mount",
		"ct_exit_umount", "ct_exit_move_mount", "ct_exit_pivot_root",
	};

	for (size_t i = 0; i < sizeof(movers) / sizeof(movers[0]); i++) {
		int j;

		for (j = 0; j < a->n_probes; j++)
			if (!strcmp(a->probes[j].name, movers[i]) && a->probes[j].attached)
				break;
		if (j == a->n_probes) {
			ct_err("agent: %s is not attached: unwatched opens walk the full path",
			       movers[i]);
			return;
		}
	}
	a->skel->bss->ct_walk_cache_on = 1;
}

int ct_agent_bpf_open(struct ct_agent *a)
{
	struct bpf_program *prog;
	int err, required_ok = 0;
	char errbuf[256];

	verbose_level = a->opts.verbose;
	libbpf_set_print(libbpf_log);
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		ct_err("this kernel exposes no BTF (/sys/kernel/btf/vmlinux); "
		       "changetrace needs CONFIG_DEBUG_INFO_BTF=y");
		return -1;
	}
	a->skel = changetrace_bpf__open();
	if (!a->skel) {
		ct_err("cannot open BPF object: %s", strerror(errno));
		return -1;
	}
	a->skel->rodata->ct_agent_tgid = getpid();
	/* a small ring must wake the collector long before it is full */
	a->skel->rodata->ct_bulk_wakeup_bytes = a->opts.bulk_rb_bytes / 4 < CT_BULK_WAKEUP_BYTES
						? a->opts.bulk_rb_bytes / 4 : CT_BULK_WAKEUP_BYTES;
	a->skel->rodata->ct_change_wakeup_bytes = a->opts.change_rb_bytes / 4;
	if (bpf_map__set_max_entries(a->skel->maps.ct_bulk_rb, a->opts.bulk_rb_bytes) ||
	    bpf_map__set_max_entries(a->skel->maps.ct_change_rb, a->opts.change_rb_bytes)) {
		ct_err("invalid ring buffer size");
		return -1;
	}
	a->skel->rodata->ct_trusted_gid = a->has_group ? a->group_gid : (uint32_t)-1;
	a->skel->rodata->ct_ns_per_tick = ct_ns_per_tick();
	if (pin_maps(a) < 0)
		return -1;
	err = changetrace_bpf__load(a->skel);
	if (err) {
		ct_err("the kernel refused the BPF programs: %s%s", strerror(-err),
		       err == -EPERM ? " (needs root / CAP_BPF+CAP_PERFMON; "
				       "is BPF disabled by lockdown or a seccomp policy?)" :
		       err == -EINVAL ? " (maps pinned in the pin dir by another version? "
					"remove it and restart)" : "");
		return -1;
	}
	ensure_tracefs();
	a->counters_fd = bpf_map__fd(a->skel->maps.ct_counters);
	/* The registry names slots before any probe can hand one out. */
	if (ct_agent_deploys_init(a) < 0)
		return -1;
	ct_tasks_upgrade_restore(a);
	/* exec rules are in force from the exec probe's first run */
	a->guard.xmaps = (struct ct_exec_maps){
		.names_fd = bpf_map__fd(a->skel->maps.ct_xnames),
		.rules_fd = bpf_map__fd(a->skel->maps.ct_xrules),
		.prov_fd = bpf_map__fd(a->skel->maps.ct_deploy_prov),
		.xscope_fd = bpf_map__fd(a->skel->maps.ct_deploy_xscope),
		.state = &a->skel->bss->ct_xr_state,
	};
	if (ct_exec_guard_init(&a->guard, errbuf, sizeof(errbuf)) < 0) {
		ct_err("agent: %s", errbuf);
		return -1;
	}
	bpf_object__for_each_program(prog, a->skel->obj) {
		struct ct_probe *p = &a->probes[a->n_probes];
		struct bpf_link *l;

		if (a->n_probes >= CT_MAX_PROBES)
			break;
		a->n_probes++;
		p->name = bpf_program__name(prog);
		p->attach_type = attach_type_of(prog);
		l = bpf_program__attach(prog);
		if (!l) {
			snprintf(p->error, sizeof(p->error), "%s", strerror(errno));
			continue;
		}
		p->link = l;
		p->attached = true;
		if (!strcmp(p->name, "ct_exec"))
			required_ok = 1;
	}
	if (!required_ok) {
		ct_err("the exec probe did not attach; nothing to trace");
		return -1;
	}
	enable_walk_cache(a);
	a->counters_fd = bpf_map__fd(a->skel->maps.ct_counters);
	a->tasks_fd = bpf_map__fd(a->skel->maps.ct_tasks);
	ct_agent_tasks_prune(a);
	return 0;
}

void ct_agent_bpf_close(struct ct_agent *a)
{
	for (int i = 0; i < a->n_probes; i++) {
		bpf_link__destroy(a->probes[i].link);
		a->probes[i].link = NULL;
	}
	if (a->skel)
		changetrace_bpf__destroy(a->skel);
	a->skel = NULL;
}

uint64_t ct_agent_counter(struct ct_agent *a, unsigned idx)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t sum = 0;
	uint64_t *vals;

	if (ncpu <= 0)
		return 0;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return 0;
	if (bpf_map_lookup_elem(a->counters_fd, &idx, vals) == 0)
		for (int i = 0; i < ncpu; i++)
			sum += vals[i];
	free(vals);
	return sum;
}

/* Runs of our probes the kernel skipped because another BPF program was
 * running on that CPU (its recursion guard): records never produced. */
uint64_t ct_agent_probe_misses(struct ct_agent *a)
{
	struct bpf_program *p;
	uint64_t sum = 0;

	if (!a->skel)
		return 0;
	bpf_object__for_each_program(p, a->skel->obj) {
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);
		int fd = bpf_program__fd(p);

		memset(&info, 0, sizeof(info));
		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
			sum += info.recursion_misses;
	}
	return sum;
}
