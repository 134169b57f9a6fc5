/*
 * The agent's configuration file (`changetrace agent --config FILE`): one
 * long option per line, as on the command line without the leading "--",
 * its value after the name ("watch /srv/app/conf", "otlp-endpoint
 * http://collector:4318", "json"); '#' starts a comment. The file becomes
 * arguments placed before the command line's, so flags given there win
 * (and repeatable ones add up).
 */
#ifndef CT_AGENT_CONFIG_H
#define CT_AGENT_CONFIG_H

#include <getopt.h>
#include <stddef.h>

#define CT_CONFIG_MAX_BYTES (1 << 20)

/* argv with every `--config FILE` (or --config=FILE) replaced by the file's
 * options, in *out_argv (allocated, kept for the agent's lifetime). Returns
 * 0, or -1 with "FILE:LINE: why" in err. */
int ct_agent_config_expand(int argc, char **argv, const struct option *lopts,
			   int *out_argc, char ***out_argv, char *err, size_t errlen);
/* Free an expansion of (argc, argv) made by ct_agent_config_expand. */
void ct_agent_config_free(int argc, char **argv, char **v, int n);

#endif
