/*
 * libFuzzer: the guardrail policy parser (user/guard/policy.c), then every rule
 * evaluated against a file and a network change, as the agent would.
 */
#include <stdint.h>
#include <string.h>

#include "guard/policy.h"

static void cb(const struct ct_policy_rule *r, const char *reason, void *ctx)
{
	(void)r;
	(void)reason;
	(*(int *)ctx)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ct_policy p;
	struct ct_change_facts f = { .is_file = true, .path = "/etc/app/app.conf",
				     .deploy_files = 3 };
	char err[256];
	int hits = 0;

	memset(&p, 0, sizeof(p));
	if (ct_policy_parse(&p, (const char *)data, size, err, sizeof(err)) == 0) {
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
