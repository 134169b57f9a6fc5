/*
 * Write N synthetic events into a store through the store API (the same
 * path the agent takes: ct_store_append, a flush every second of event
 * time as the agent's timer does, ct_store_close), and report the append
 * rate and the bytes per event on disk. Used by tools/bench/store_bench.sh
 * and by tests that need a store with old or many events.
 *
 *   ct_store_bench DIR N [--days-ago D] [--segment-kib K]
 *                  [--fsync block|interval|never]
 *
 * The events look like a busy host's: execs with argv, cwd, cgroup and a
 * three-deep lineage; one in 50 is a file change (500 distinct paths under
 * /etc/app); in every 10000 events the first 200 belong to deploy
 * "d-<i / 10000>" (AI-assisted when even), the rest is drift. Event time
 * advances 100 us per event from D days ago.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "store/store.h"
#include "lib/util.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long long dir_bytes(const char *dir)
{
	unsigned long long total = 0;
	struct dirent *d;
	DIR *dp = opendir(dir);

	while (dp && (d = readdir(dp))) {
		char p[4096];
		struct stat st;

		snprintf(p, sizeof(p), "%s/%s", dir, d->d_name);
		if (!strncmp(d->d_name, "seg-", 4) && stat(p, &st) == 0)
			total += st.st_size;
	}
	if (dp)
		closedir(dp);
	return total;
}

int main(int argc, char **argv)
{
	enum ct_fsync_policy pol = CT_FSYNC_BLOCK;
	unsigned long long n, days = 0, seg_kib = 0, base_seq;
	struct ct_store *s;
	struct ct_store_stats st;
	char err[512], id[64], deploy[32], path[64], cwd[64], cg[96], a1[32], a2[32];
	char *args[3] = { "worker", a1, a2 };
	uint64_t t0, flushed_at = 0;
	double start, secs;

	if (argc < 3) {
		fprintf(stderr, "usage: ct_store_bench DIR N [--days-ago D] [--segment-kib K] "
			"[--fsync block|interval|never]\n");
		return 2;
	}
	n = strtoull(argv[2], NULL, 10);
	for (int i = 3; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--days-ago"))
			days = strtoull(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--segment-kib"))
			seg_kib = strtoull(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--fsync"))
			pol = !strcmp(argv[i + 1], "never") ? CT_FSYNC_NEVER :
			      !strcmp(argv[i + 1], "interval") ? CT_FSYNC_INTERVAL : CT_FSYNC_BLOCK;
		else {
			fprintf(stderr, "ct_store_bench: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (ct_store_open(&s, argv[1], err, sizeof(err)) < 0) {
		fprintf(stderr, "ct_store_bench: %s\n", err);
		return 1;
	}
	ct_store_set_policy(s, pol, 0, 0);
	if (seg_kib)
		ct_store_set_segment_bytes(s, seg_kib << 10);
	base_seq = ct_store_last_seq(s);
	t0 = ct_now_wall_ns() - days * 86400ull * 1000000000ull;
	start = now_s();
	for (unsigned long long i = 0; i < n; i++) {
		PbEvent ev = CHANGETRACE__V1__EVENT__INIT;
		PbProcess p = CHANGETRACE__V1__PROCESS__INIT;
		PbAttribution at = CHANGETRACE__V1__ATTRIBUTION__INIT;
		PbExecDetail ex = CHANGETRACE__V1__EXEC_DETAIL__INIT;
		Changetrace__V1__FileChange fc = CHANGETRACE__V1__FILE_CHANGE__INIT;
		PbAncestor anc[3], *ancp[3];
		static const char *comms[] = { "sh", "python3", "curl", "systemctl", "nginx", "cp" };
		bool in_deploy = i % 10000 < 200;

		ev.seq = base_seq + i + 1;
		snprintf(id, sizeof(id), "%s-%llu", ct_store_id(s), (unsigned long long)ev.seq);
		ev.event_id = id;
		ev.time_unix_nano = t0 + i * 100000ull;
		ev.host = "bench-host";
		p.pid = 1000 + i % 30000;
		p.tid = p.pid;
		p.ppid = 900 + i % 7;
		p.uid = i % 3 ? 0 : 1000;
		p.comm = (char *)comms[i % 6];
		p.exe = "/usr/bin/worker";
		snprintf(a1, sizeof(a1), "--job=%llu", i % 977);
		snprintf(a2, sizeof(a2), "/srv/data/%llu", i % 131);
		p.argv = args;
		p.n_argv = 3;
		snprintf(cwd, sizeof(cwd), "/srv/app/%llu", i % 11);
		p.cwd = cwd;
		snprintf(cg, sizeof(cg), "/system.slice/app-%llu.service", i % 13);
		p.cgroup_path = cg;
		p.cgroup_id = 4000 + i % 13;
		p.net_ns = p.pid_ns = p.mnt_ns = 4026531840u;
		p.start_time_ns = i * 1000;
		p.exec_id = i + 1;
		for (int k = 0; k < 3; k++) {
			anc[k] = (PbAncestor)CHANGETRACE__V1__ANCESTOR__INIT;
			anc[k].pid = p.ppid - k * 100;
			anc[k].comm = k == 2 ? "systemd" : "bash";
			anc[k].start_time_ns = k * 1000;
			ancp[k] = &anc[k];
		}
		p.lineage = ancp;
		p.n_lineage = 3;
		ev.process = &p;
		ev.attribution = &at;
		if (in_deploy) {
			snprintf(deploy, sizeof(deploy), "d-%llu", i / 10000);
			at.deploy_id = deploy;
			at.method = CHANGETRACE__V1__ATTRIBUTION_METHOD__ATTRIBUTION_INHERITED;
			at.depth = 1 + i % 3;
			at.ai_assisted = (i / 10000) % 2 == 0;
		} else {
			at.drift = true;
		}
		if (i % 50 == 0) {
			ev.kind = CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_FILE;
			snprintf(path, sizeof(path), "/etc/app/%llu.conf", (i / 50) % 500);
			fc.op = CHANGETRACE__V1__FILE_OP__FILE_OP_WRITE;
			fc.path = path;
			fc.inode = 100000 + (i / 50) % 500;
			fc.size_after = 4096;
			fc.writes = 1;
			ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_FILE;
			ev.file = &fc;
		} else {
			ev.kind = CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_EXEC;
			ex.filename = "/usr/bin/worker";
			ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_EXEC;
			ev.exec = &ex;
		}
		ev.monotonic_ns = i * 100000ull;
		ct_store_append(s, &ev);
		/* the agent seals the open block once a second */
		if (ev.time_unix_nano - flushed_at >= 1000000000ull) {
			if (flushed_at)
				ct_store_flush(s);
			flushed_at = ev.time_unix_nano;
		}
	}
	ct_store_close(s);   /* seals the last block */
	secs = now_s() - start;
	/* stats are gone with the store; reopen to count what reached disk */
	if (ct_store_open(&s, argv[1], err, sizeof(err)) < 0) {
		fprintf(stderr, "ct_store_bench: reopen: %s\n", err);
		return 1;
	}
	ct_store_get_stats(s, &st);
	if (ct_store_last_seq(s) != base_seq + n) {
		fprintf(stderr, "ct_store_bench: wrote up to seq %llu, expected %llu\n",
			(unsigned long long)ct_store_last_seq(s), base_seq + n);
		ct_store_close(s);
		return 1;
	}
	ct_store_close(s);
	{
		unsigned long long bytes = dir_bytes(argv[1]);

		printf("events=%llu seconds=%.3f events_per_s=%.0f segment_bytes=%llu bytes_per_event=%.1f\n",
		       n, secs, n / secs, bytes, n ? (double)bytes / n : 0.0);
	}
	return 0;
}
