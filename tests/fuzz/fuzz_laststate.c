/*
 * libFuzzer: the agent's last known state snapshot (STORE/last_state.pb,
 * user/store/last_state.c ct_last_state_load), read at every start; what loads
 * is then compared and saved as the agent would.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store/last_state.h"
#include "collector/unobserved.h"

static char path[64], out[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ct_last_state s;
	struct ct_known_file *f = NULL;
	char err[512];
	size_t b = 0;
	FILE *fp;

	if (!path[0]) {
		snprintf(path, sizeof(path), "/tmp/ct-fuzz-state.%d", getpid());
		snprintf(out, sizeof(out), "/tmp/ct-fuzz-state-out.%d", getpid());
	}
	fp = fopen(path, "we");
	if (!fp)
		return 0;
	fwrite(data, 1, size, fp);
	fclose(fp);
	ct_last_state_init(&s);
	if (ct_last_state_load(&s, path, err, sizeof(err)) == 0) {
		while ((f = ct_last_state_next(&s, &b, &f))) {
			ct_last_state_under_roots(&s, f->path);
			ct_unobserved_file_op(f, f, 1 << 20);
			ct_unobserved_file_op(NULL, f, 1 << 20);
		}
		ct_last_state_save(&s, out, err, sizeof(err));
		unlink(out);
	}
	ct_last_state_free(&s);
	unlink(path);
	return 0;
}
