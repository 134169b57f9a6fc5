/*
 * libFuzzer: the guardrail policy parser (user/guard/policy.c), then every
 * rule evaluated against a file and a network change, as the agent would,
 * and its exec rules compiled to the kernel's form (user/guard/exec_rules.c);
 * the input's first line also as a command pattern (an `exec:` scope entry).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guard/exec_rules.h"
#include "guard/policy.h"

static void cb(const struct ct_policy_rule *r, const char *reason, void *ctx)
{
	(void)r;
	(void)reason;
	(*(int *)ctx)++;
}

static void check_compiled(const struct ct_policy *p)
{
	static struct ct_exec_rules xr;
	uint64_t all = 0;

	ct_exec_rules_compile(p, &xr);
	if (xr.n != p->n_exec_rules || xr.n_names > xr.n)
		abort();
	for (int i = 0; i < xr.n_names; i++) {
		if (!xr.masks[i] || (all & xr.masks[i]) || !xr.names[i][0] ||
		    memchr(xr.names[i], '\0', CT_XNAME_LEN) == NULL)
			abort();	/* every rule under exactly one name */
		all |= xr.masks[i];
	}
	if (xr.n && all != (xr.n == 64 ? ~0ull : (1ull << xr.n) - 1))
		abort();
	for (int i = 0; i < xr.n; i++)
		if (xr.k[i].m.n_args > CT_XARGS_MAX ||
		    !memchr(xr.k[i].m.path, '\0', CT_XPATH_LEN))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ct_policy p;
	static struct ct_policy_command cmd;
	char line[CT_POLICY_COMMAND_LEN + 16];
	size_t n = 0;
	struct ct_change_facts f = { .is_file = true, .path = "/etc/app/app.conf",
				     .deploy_files = 3 };
	char err[256];
	int hits = 0;

	while (n < size && n < sizeof(line) - 1 && data[n] != '\n' && data[n])
		line[n] = data[n], n++;
	line[n] = '\0';
	if (ct_policy_parse_command(line, &cmd, err, sizeof(err)) == 0 &&
	    (!cmd.name[0] || cmd.n_args > CT_XARGS_MAX))
		abort();
	memset(&p, 0, sizeof(p));
	if (ct_policy_parse(&p, (const char *)data, size, err, sizeof(err)) == 0) {
		check_compiled(&p);
		ct_policy_eval(&p, &f, cb, &hits);
		f.is_file = false;
		f.is_net = true;
		f.path = NULL;
		f.net_object = "nft:inet/filter/input";
		ct_policy_eval(&p, &f, cb, &hits);
	}
	ct_policy_free(&p);
	return 0;
}
