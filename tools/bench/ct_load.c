/*
 * Benchmark workloads for tools/bench/bench.sh. Each mode runs a tight
 * loop and prints one line: "ops=N elapsed_ns=T cpu_ns=C" (C: this
 * process's and its children's user+system time).
 *
 *   ct_load write DIR N [FILES]   open(O_WRONLY|O_CREAT|O_TRUNC)+write+close,
 *                                 cycling over FILES files DIR/f<i>
 *   ct_load exec N MARK           fork + exec /bin/true MARK, wait
 *   ct_load nft N                 add a rule, delete it by handle (libnftables),
 *                                 in table inet ctbench (run it in a test netns)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <nftables/libnftables.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static uint64_t cpu_ns(void)
{
	struct rusage s, c;
	uint64_t t = 0;

	getrusage(RUSAGE_SELF, &s);
	getrusage(RUSAGE_CHILDREN, &c);
	t += (s.ru_utime.tv_sec + s.ru_stime.tv_sec + c.ru_utime.tv_sec + c.ru_stime.tv_sec) *
	     1000000000ull;
	t += (s.ru_utime.tv_usec + s.ru_stime.tv_usec + c.ru_utime.tv_usec + c.ru_stime.tv_usec) *
	     1000ull;
	return t;
}

static int do_write(const char *dir, long n, long files)
{
	static const char buf[64] = "key = value\n";
	char path[4096];

	for (long i = 0; i < n; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/f%ld", dir, i % files);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0) {
			fprintf(stderr, "ct_load: %s: %s\n", path, strerror(errno));
			return -1;
		}
		if (write(fd, buf, sizeof(buf)) != sizeof(buf)) {
			fprintf(stderr, "ct_load: write %s: %s\n", path, strerror(errno));
			close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

static int do_exec(long n, const char *mark)
{
	char *argv[] = { "true", (char *)mark, NULL };
	char *envp[] = { NULL };

	for (long i = 0; i < n; i++) {
		int st;
		pid_t p = fork();

		if (p < 0) {
			perror("ct_load: fork");
			return -1;
		}
		if (p == 0) {
			execve("/bin/true", argv, envp);
			_exit(127);
		}
		if (waitpid(p, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "ct_load: /bin/true failed\n");
			return -1;
		}
	}
	return 0;
}

static int nft(struct nft_ctx *c, const char *cmd)
{
	if (nft_run_cmd_from_buffer(c, cmd)) {
		fprintf(stderr, "ct_load: nft '%s': %s\n", cmd, nft_ctx_get_error_buffer(c));
		return -1;
	}
	return 0;
}

static int do_nft(long n)
{
	struct nft_ctx *c = nft_ctx_new(NFT_CTX_DEFAULT);
	char cmd[128];
	int rc = -1;

	if (!c)
		return -1;
	nft_ctx_buffer_output(c);
	nft_ctx_buffer_error(c);
	if (nft(c, "add table inet ctbench\nadd chain inet ctbench c"))
		goto out;
	nft_ctx_output_set_flags(c, NFT_CTX_OUTPUT_ECHO | NFT_CTX_OUTPUT_HANDLE);
	for (long i = 0; i < n; i++) {
		const char *h;

		if (nft(c, "add rule inet ctbench c tcp dport 4242 counter accept"))
			goto out;
		h = strstr(nft_ctx_get_output_buffer(c), "# handle ");
		if (!h) {
			fprintf(stderr, "ct_load: no rule handle in nft's echo\n");
			goto out;
		}
		snprintf(cmd, sizeof(cmd), "delete rule inet ctbench c handle %ld",
			 strtol(h + 9, NULL, 10));
		if (nft(c, cmd))
			goto out;
	}
	nft_ctx_output_set_flags(c, 0);
	rc = nft(c, "delete table inet ctbench");
out:
	nft_ctx_free(c);
	return rc;
}

int main(int argc, char **argv)
{
	uint64_t t0, c0;
	long n;
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: ct_load write DIR N [FILES] | exec N MARK | nft N\n");
		return 2;
	}
	t0 = now_ns();
	c0 = cpu_ns();
	if (!strcmp(argv[1], "write") && argc >= 4) {
		n = atol(argv[3]);
		rc = do_write(argv[2], n, argc > 4 ? atol(argv[4]) : 8);
	} else if (!strcmp(argv[1], "exec") && argc >= 4) {
		n = atol(argv[2]);
		rc = do_exec(n, argv[3]);
	} else if (!strcmp(argv[1], "nft")) {
		n = atol(argv[2]);
		rc = do_nft(n);
	} else {
		fprintf(stderr, "ct_load: unknown mode '%s'\n", argv[1]);
		return 2;
	}
	if (rc)
		return 1;
	printf("ops=%ld elapsed_ns=%llu cpu_ns=%llu\n", n,
	       (unsigned long long)(now_ns() - t0), (unsigned long long)(cpu_ns() - c0));
	return 0;
}
