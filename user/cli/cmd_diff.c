/*
 * `changetrace diff EVENT_ID`: the unified diff of one file change, from
 * the versions the agent kept in the store (STORE/blobs). The diff itself
 * is made by diff(1) from diffutils, not re-implemented here.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "store/blobs.h"
#include "lib/pb.h"
#include "store/store.h"
#include "lib/util.h"

static const char diff_usage[] =
"usage: changetrace diff EVENT_ID [--store DIR]\n"
"\n"
"Show what a file change changed, as a unified diff.\n"
"\n"
"  --store DIR   read this store (default " CT_DEFAULT_STORE ")\n";

/* A version into a temp file for diff(1); "" sha = the file did not exist. */
static int version_file(const char *blobs, const char *sha, char *path, size_t len)
{
	char *buf = NULL;
	size_t n = 0;
	int fd;

	snprintf(path, len, "/tmp/changetrace-diff.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	if (sha && *sha) {
		if (ct_blob_read(blobs, sha, &buf, &n) < 0) {
			int e = errno;

			close(fd);
			unlink(path);
			errno = e;
			return -1;
		}
		if (write(fd, buf, n) != (ssize_t)n) {
			free(buf);
			close(fd);
			unlink(path);
			return -1;
		}
		free(buf);
	}
	close(fd);
	return 0;
}

int ct_cmd_diff(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "store", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *store = CT_DEFAULT_STORE, *id;
	char err[256], blobs[4096], a[64], b[64], la[4200], lb[4200];
	struct ct_store_reader *r;
	PbEvent *ev;
	const PbFileChange *f;
	int c, rc = 1, status;
	pid_t pid;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'S': store = optarg; break;
		case 'h': fputs(diff_usage, stdout); return 0;
		default: fputs(diff_usage, stderr); return 2;
		}
	}
	if (optind + 1 != argc) {
		fputs(diff_usage, stderr);
		return 2;
	}
	id = argv[optind];
	if (strlen(id) > 64 || strspn(id, "0123456789abcdef-") != strlen(id)) {
		ct_err("diff: '%s' is not an event id", id);
		return 2;
	}
	if (ct_store_reader_open(&r, store, err, sizeof(err)) < 0) {
		ct_err("diff: %s", err);
		return 1;
	}
	ev = ct_store_find(r, id);
	ct_store_reader_close(r);
	if (!ev) {
		ct_err("diff: no event %s in %s", id, store);
		return 1;
	}
	if (ev->detail_case != CHANGETRACE__V1__EVENT__DETAIL_FILE || !ev->file) {
		ct_err("diff: event %s is not a file change", id);
		goto out;
	}
	f = ev->file;
	if (!f->content_kept) {
		printf("%s: content not kept (binary, larger than the agent's --content-max, or "
		       "unreadable)\n  sha256 %s -> %s\n  size   %llu -> %llu\n", f->path,
		       *f->sha256_before ? f->sha256_before : "(none)",
		       *f->sha256_after ? f->sha256_after : "(none)",
		       (unsigned long long)f->size_before, (unsigned long long)f->size_after);
		rc = 0;
		goto out;
	}
	snprintf(blobs, sizeof(blobs), "%s/blobs", store);
	if (version_file(blobs, f->sha256_before, a, sizeof(a)) < 0) {
		ct_err("diff: version before (%s): %s", f->sha256_before, strerror(errno));
		goto out;
	}
	if (version_file(blobs, f->sha256_after, b, sizeof(b)) < 0) {
		ct_err("diff: version after (%s): %s", f->sha256_after, strerror(errno));
		unlink(a);
		goto out;
	}
	/* git-style labels; a created (deleted) file is diffed against /dev/null */
	if (*f->sha256_before)
		snprintf(la, sizeof(la), "a%s", f->path);
	else
		snprintf(la, sizeof(la), "/dev/null");
	if (*f->sha256_after)
		snprintf(lb, sizeof(lb), "b%s", f->path);
	else
		snprintf(lb, sizeof(lb), "/dev/null");	/* deleted */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execlp("diff", "diff", "-u", "--label", la, "--label", lb, a, b, (char *)NULL);
		ct_err("diff: cannot run diff(1): %s", strerror(errno));
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		ct_err("diff: %s", strerror(errno));
	} else {
		/* diff(1): 0 same, 1 different, 2 trouble */
		rc = WIFEXITED(status) && WEXITSTATUS(status) <= 1 ? 0 : 1;
	}
	unlink(a);
	unlink(b);
out:
	changetrace__v1__event__free_unpacked(ev, NULL);
	return rc;
}
