/*
 * ct_hooks OBJECT: attach an empty program at every hook of OBJECT (the
 * agent's build/changetrace.bpf.o: tracepoint/, raw_tp/ and tp_btf/
 * sections), print "ready N of M", and hold them until SIGTERM or SIGINT.
 *
 * The bench runs its workloads under this as one more configuration: the
 * cost of the hooks themselves (the kernel's tracepoint and BPF dispatch),
 * which no program body can go below. changetrace's ratio minus this one
 * is what its probes' work adds.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <bpf/libbpf.h>

#define HOOKS_MAX 256

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level; (void)fmt; (void)ap;
	return 0;
}

/* the empty programs' object, with only `want` to be loaded */
static struct bpf_object *open_empty(const char *path, const char *want, const char *btf_target)
{
	struct bpf_object *o = bpf_object__open_file(path, NULL);
	struct bpf_program *p;

	if (!o)
		return NULL;
	bpf_object__for_each_program(p, o) {
		bool is = !strcmp(bpf_program__name(p), want);

		bpf_program__set_autoload(p, is);
		if (is && btf_target && bpf_program__set_attach_target(p, 0, btf_target)) {
			bpf_object__close(o);
			return NULL;
		}
	}
	if (bpf_object__load(o)) {
		bpf_object__close(o);
		return NULL;
	}
	return o;
}

int main(int argc, char **argv)
{
	static char secs[HOOKS_MAX][128];
	struct bpf_object *agent, *empty, *btf_objs[HOOKS_MAX];
	struct bpf_program *p, *tp, *raw;
	char empty_path[4096], *slash;
	int n = 0, attached = 0, n_btf = 0;
	struct stat st;

	if (argc != 2) {
		fprintf(stderr, "usage: ct_hooks AGENT_BPF_OBJECT\n");
		return 2;
	}
	libbpf_set_print(quiet);
	/* the hooks: section names of the agent's object (not loaded) */
	agent = bpf_object__open_file(argv[1], NULL);
	if (!agent) {
		fprintf(stderr, "ct_hooks: cannot open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	bpf_object__for_each_program(p, agent)
		if (n < HOOKS_MAX)
			snprintf(secs[n++], sizeof(secs[0]), "%s", bpf_program__section_name(p));
	bpf_object__close(agent);

	/* ct_hooks.bpf.o sits next to this binary */
	snprintf(empty_path, sizeof(empty_path), "%s", argv[0]);
	slash = strrchr(empty_path, '/');
	snprintf(slash ? slash + 1 : empty_path,
		 sizeof(empty_path) - (slash ? (size_t)(slash + 1 - empty_path) : 0), "ct_hooks.bpf.o");
	empty = open_empty(empty_path, "empty_tp", NULL);
	struct bpf_object *empty_raw = open_empty(empty_path, "empty_raw_tp", NULL);
	if (!empty || !empty_raw) {
		fprintf(stderr, "ct_hooks: cannot load %s\n", empty_path);
		return 1;
	}
	tp = bpf_object__find_program_by_name(empty, "empty_tp");
	raw = bpf_object__find_program_by_name(empty_raw, "empty_raw_tp");

	/* syscalls:* tracepoints attach by id, read from tracefs (as the agent does) */
	if (stat("/sys/kernel/tracing/events", &st) && stat("/sys/kernel/debug/tracing/events", &st))
		mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);

	for (int i = 0; i < n; i++) {
		char *s = secs[i], *target = strchr(s, '/');
		struct bpf_link *l = NULL;

		if (!target)
			continue;
		*target++ = '\0';
		if (!strcmp(s, "tracepoint") || !strcmp(s, "tp")) {
			char *name = strchr(target, '/');

			if (name) {
				*name++ = '\0';
				l = bpf_program__attach_tracepoint(tp, target, name);
			}
		} else if (!strcmp(s, "raw_tp") || !strcmp(s, "raw_tracepoint")) {
			l = bpf_program__attach_raw_tracepoint(raw, target);
		} else if (!strcmp(s, "tp_btf")) {
			struct bpf_object *o = open_empty(empty_path, "empty_tp_btf", target);

			if (o) {
				btf_objs[n_btf++] = o;
				l = bpf_program__attach(bpf_object__find_program_by_name(o, "empty_tp_btf"));
			}
		}
		attached += l != NULL;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("ready %d of %d\n", attached, n);
	fflush(stdout);
	while (!stop)
		pause();
	/* links go with the process; the objects are closed for valgrind's sake */
	for (int i = 0; i < n_btf; i++)
		bpf_object__close(btf_objs[i]);
	bpf_object__close(empty_raw);
	bpf_object__close(empty);
	return 0;
}
