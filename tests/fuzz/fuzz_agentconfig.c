/*
 * libFuzzer: the agent's configuration file (--config, user/agent/agent_config.c
 * ct_agent_config_expand) against the agent's real option names.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "agent/agent_config.h"

static const struct option opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "watch", required_argument, NULL, 'w' },
	{ "otlp-endpoint", required_argument, NULL, 'o' },
	{ "config", required_argument, NULL, 'c' },
	{ 0 }
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	char *argv[] = { "agent", "--json", "--config", path, "--watch", "/etc", NULL };
	char err[512], **out = NULL;
	int outc = 0;
	FILE *f;

	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/ct-fuzz-config.%d", getpid());
	f = fopen(path, "we");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	if (ct_agent_config_expand(6, argv, opts, &outc, &out, err, sizeof(err)) == 0) {
		/* the file's arguments are the agent's to keep; a fuzzer frees them */
		for (int i = 1; i < outc; i++)
			if (out[i] != argv[1] && out[i] != argv[4] && out[i] != argv[5])
				free(out[i]);
		free(out);
	}
	unlink(path);
	return 0;
}
