/*
 * ct_hookcost DIR ROUNDS LOOPS: the unwatched write path, finely
 * interleaved. Each round runs LOOPS open(O_WRONLY|O_CREAT|O_TRUNC) +
 * write + close cycles on DIR (not watched) under each of:
 *
 *   none         no program
 *   hooks        empty programs on sys_exit_openat, sys_exit_write and
 *                sys_exit_close, the agent's hooks (what any tracer of
 *                these calls pays, tracing one direction)
 *   hooks_both   empty programs on sys_exit_openat, sys_enter_write and
 *                sys_enter_close (both directions traced: the agent's
 *                hooks until its probes all moved to exit)
 *   changetrace  the agent's own programs on those hooks (its object, its
 *                directory-verdict cache on, nothing watched)
 *   all          every one of the agent's programs (its whole probe set);
 *                in every ALL_EVERY-th
 *                round only, since attaching and detaching some 50
 *                programs takes seconds
 *
 * attaching and detaching in between (a few ms), so the VM's drift, which
 * moves a whole run by tens of percent, falls on every configuration
 * alike. Under each, a second loop times 3 pread(2) of a file per cycle:
 * a syscall no program is on, which still pays for the hooks (an enabled
 * syscall tracepoint sends every syscall of every task through the slow
 * path, once per direction traced). Prints per configuration and loop
 * the 10th percentile and the median of ns per cycle, and the ratio of
 * the percentiles to none's ("other_" lines: the pread loop).
 */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <bpf/libbpf.h>
#include "changetrace.skel.h"

enum { NONE, HOOKS, HOOKS_BOTH, CHANGETRACE, ALL, N_CONFIGS };
static const char *const config_names[N_CONFIGS] = { "none", "hooks", "hooks_both",
						     "changetrace", "all" };
enum { LOOP_WRITE, LOOP_OTHER, N_LOOPS };
#define MAX_PROGS 128
#define ALL_EVERY 5

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level; (void)fmt; (void)ap;
	return 0;
}

/* ns per cycle of `loops` cycles over 8 files of dir */
static double run_loops(const char *dir, int loops)
{
	static const char buf[64] = "key = value\n";
	char path[4096];
	unsigned long long t0 = now_ns();

	for (int i = 0; i < loops; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/f%d", dir, i % 8);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write(fd, buf, sizeof(buf)) != sizeof(buf)) {
			perror(path);
			exit(1);
		}
		close(fd);
	}
	return (double)(now_ns() - t0) / loops;
}

/* ns per cycle of `loops` cycles of 3 pread(2) of dir/f0 (written above) */
static double run_reads(const char *dir, int loops)
{
	char path[4096], buf[64];
	unsigned long long t0;
	int fd;

	snprintf(path, sizeof(path), "%s/f0", dir);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		perror(path);
		exit(1);
	}
	t0 = now_ns();
	for (int i = 0; i < loops * 3; i++)
		if (pread(fd, buf, sizeof(buf), 0) < 0) {
			perror(path);
			exit(1);
		}
	t0 = now_ns() - t0;
	close(fd);
	return (double)t0 / loops;
}

/* The agent's whole probe set, as the agent attaches it (each on its own;
 * one that cannot attach here is left out, as the agent does). */
static int attach_all(struct changetrace_bpf *ct, struct bpf_link **links)
{
	struct bpf_program *prog;
	int n = 0;

	bpf_object__for_each_program(prog, ct->obj) {
		if (n == MAX_PROGS) {
			fprintf(stderr, "ct_hookcost: more than %d programs; \"all\" is partial\n",
				MAX_PROGS);
			break;
		}
		links[n] = bpf_program__attach(prog);
		if (links[n])
			n++;
	}
	return n;
}

int main(int argc, char **argv)
{
	struct bpf_program *progs[N_CONFIGS][3] = {};
	static const char *const hooks[N_CONFIGS][3] = {
		[HOOKS] = { "sys_exit_openat", "sys_exit_write", "sys_exit_close" },
		[HOOKS_BOTH] = { "sys_exit_openat", "sys_enter_write", "sys_enter_close" },
		[CHANGETRACE] = { "sys_exit_openat", "sys_exit_write", "sys_exit_close" },
	};
	struct changetrace_bpf *ct;
	struct bpf_object *empty;
	char empty_path[4096], *slash;
	double *ns;
	int rounds, loops;
	cpu_set_t cpu;
	struct stat st;

	if (argc != 4 || (rounds = atoi(argv[2])) < 10 || (loops = atoi(argv[3])) < 100) {
		fprintf(stderr, "usage: ct_hookcost DIR ROUNDS(>=10) LOOPS(>=100)\n");
		return 2;
	}
	libbpf_set_print(quiet);
	/* the loop stays on the CPU it starts on (taskset chooses it) */
	CPU_ZERO(&cpu);
	CPU_SET(sched_getcpu(), &cpu);
	sched_setaffinity(0, sizeof(cpu), &cpu);

	snprintf(empty_path, sizeof(empty_path), "%s", argv[0]);
	slash = strrchr(empty_path, '/');
	snprintf(slash ? slash + 1 : empty_path,
		 sizeof(empty_path) - (slash ? (size_t)(slash + 1 - empty_path) : 0), "ct_hooks.bpf.o");
	empty = bpf_object__open_file(empty_path, NULL);
	if (!empty)
		return fprintf(stderr, "ct_hookcost: cannot open %s\n", empty_path), 1;
	bpf_program__set_autoload(bpf_object__find_program_by_name(empty, "empty_tp_btf"), false);
	if (bpf_object__load(empty))
		return fprintf(stderr, "ct_hookcost: cannot load %s\n", empty_path), 1;

	/* syscalls:* tracepoints attach by id, read from tracefs (as the agent
	 * does; on a fresh boot nothing has mounted it) */
	if (stat("/sys/kernel/tracing/events", &st) && stat("/sys/kernel/debug/tracing/events", &st))
		mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);

	ct = changetrace_bpf__open();
	if (!ct)
		return fprintf(stderr, "ct_hookcost: cannot open the agent's object\n"), 1;
	if (changetrace_bpf__load(ct))
		return fprintf(stderr, "ct_hookcost: cannot load the agent's object\n"), 1;
	ct->bss->ct_walk_cache_on = 1;	/* as the agent sets it */
	progs[CHANGETRACE][0] = ct->progs.ct_exit_openat;
	progs[CHANGETRACE][1] = ct->progs.ct_exit_write;
	progs[CHANGETRACE][2] = ct->progs.ct_exit_close;
	for (int h = 0; h < 3; h++)
		progs[HOOKS][h] = progs[HOOKS_BOTH][h] =
			bpf_object__find_program_by_name(empty, "empty_tp");

	ns = calloc((size_t)rounds * N_CONFIGS * N_LOOPS, sizeof(*ns));
	if (!ns)
		return 1;
	run_loops(argv[1], loops);	/* warm the dentries */
	for (int r = 0; r < rounds; r++)
		for (int k = 0; k < N_CONFIGS; k++) {
			int c = (k + r) % N_CONFIGS;	/* rotate who goes first */
			struct bpf_link *links[MAX_PROGS] = {};
			int n_links = 0;

			if (c == ALL && r % ALL_EVERY)
				continue;
			if (c == ALL && (n_links = attach_all(ct, links)) == 0)
				return fprintf(stderr, "ct_hookcost: none of the agent's programs "
					       "attached\n"), 1;
			for (int h = 0; h < 3 && hooks[c][h]; h++) {
				links[h] = bpf_program__attach_tracepoint(progs[c][h], "syscalls",
									 hooks[c][h]);
				if (!links[h])
					return fprintf(stderr, "ct_hookcost: cannot attach to %s "
						       "(is tracefs mounted?)\n", hooks[c][h]), 1;
				n_links++;
			}
			int at = c == ALL ? r / ALL_EVERY : r;

			ns[(LOOP_WRITE * N_CONFIGS + c) * rounds + at] = run_loops(argv[1], loops);
			ns[(LOOP_OTHER * N_CONFIGS + c) * rounds + at] = run_reads(argv[1], loops);
			for (int h = 0; h < n_links; h++)
				bpf_link__destroy(links[h]);
		}

	for (int c = 0; c < N_CONFIGS * N_LOOPS; c++)
		qsort(ns + c * rounds, c % N_CONFIGS == ALL ? (rounds + ALL_EVERY - 1) / ALL_EVERY : rounds,
		      sizeof(*ns), cmp_double);
	for (int l = 0; l < N_LOOPS; l++)
		for (int c = 0; c < N_CONFIGS; c++) {
			const double *v = ns + (l * N_CONFIGS + c) * rounds;
			const double *none = ns + (l * N_CONFIGS + NONE) * rounds;
			int n = c == ALL ? (rounds + ALL_EVERY - 1) / ALL_EVERY : rounds;

			printf("%s%s p10_ns=%.0f median_ns=%.0f ratio=%.3f rounds=%d\n",
			       l == LOOP_OTHER ? "other_" : "", config_names[c], v[n / 10],
			       v[n / 2], v[n / 10] / none[rounds / 10], n);
		}
	free(ns);
	changetrace_bpf__destroy(ct);
	bpf_object__close(empty);
	return 0;
}
