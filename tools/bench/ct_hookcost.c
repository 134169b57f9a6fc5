/*
 * ct_hookcost DIR ROUNDS LOOPS: the unwatched write path, finely
 * interleaved. Each round runs LOOPS open(O_WRONLY|O_CREAT|O_TRUNC) +
 * write + close cycles on DIR (not watched) under each of:
 *
 *   none         no program
 *   hooks        empty programs on sys_exit_openat, sys_enter_write and
 *                sys_enter_close (what any tracer of these calls pays)
 *   changetrace  the agent's own programs on those hooks (its object, its
 *                directory-verdict cache on, nothing watched)
 *
 * attaching and detaching in between (a few ms), so the VM's drift, which
 * moves a whole run by tens of percent, falls on every configuration
 * alike. Prints per configuration the 10th percentile and the median of
 * ns per cycle, and the ratio of the percentiles to none's.
 */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "changetrace.skel.h"

enum { NONE, HOOKS, CHANGETRACE, N_CONFIGS };
static const char *const config_names[N_CONFIGS] = { "none", "hooks", "changetrace" };

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

int main(int argc, char **argv)
{
	struct bpf_program *progs[N_CONFIGS][3] = {};
	static const char *const hooks[3] = { "sys_exit_openat", "sys_enter_write",
					      "sys_enter_close" };
	struct changetrace_bpf *ct;
	struct bpf_object *empty;
	char empty_path[4096], *slash;
	double *ns;
	int rounds, loops;
	cpu_set_t cpu;

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

	ct = changetrace_bpf__open();
	if (!ct)
		return fprintf(stderr, "ct_hookcost: cannot open the agent's object\n"), 1;
	if (changetrace_bpf__load(ct))
		return fprintf(stderr, "ct_hookcost: cannot load the agent's object\n"), 1;
	ct->bss->ct_walk_cache_on = 1;	/* as the agent sets it */
	progs[CHANGETRACE][0] = ct->progs.ct_exit_openat;
	progs[CHANGETRACE][1] = ct->progs.ct_enter_write;
	progs[CHANGETRACE][2] = ct->progs.ct_enter_close;
	for (int h = 0; h < 3; h++)
		progs[HOOKS][h] = bpf_object__find_program_by_name(empty, "empty_tp");

	ns = calloc((size_t)rounds * N_CONFIGS, sizeof(*ns));
	if (!ns)
		return 1;
	run_loops(argv[1], loops);	/* warm the dentries */
	for (int r = 0; r < rounds; r++)
		for (int k = 0; k < N_CONFIGS; k++) {
			int c = (k + r) % N_CONFIGS;	/* rotate who goes first */
			struct bpf_link *links[3] = {};

			for (int h = 0; c != NONE && h < 3; h++) {
				links[h] = bpf_program__attach_tracepoint(progs[c][h], "syscalls",
									 hooks[h]);
				if (!links[h])
					return fprintf(stderr, "ct_hookcost: cannot attach to %s "
						       "(is tracefs mounted?)\n", hooks[h]), 1;
			}
			ns[c * rounds + r] = run_loops(argv[1], loops);
			for (int h = 0; h < 3; h++)
				bpf_link__destroy(links[h]);
		}

	for (int c = 0; c < N_CONFIGS; c++)
		qsort(ns + c * rounds, rounds, sizeof(*ns), cmp_double);
	for (int c = 0; c < N_CONFIGS; c++) {
		double p10 = ns[c * rounds + rounds / 10], med = ns[c * rounds + rounds / 2];

		printf("%s p10_ns=%.0f median_ns=%.0f ratio=%.3f\n", config_names[c], p10, med,
		       p10 / ns[NONE * rounds + rounds / 10]);
	}
	free(ns);
	changetrace_bpf__destroy(ct);
	bpf_object__close(empty);
	return 0;
}
