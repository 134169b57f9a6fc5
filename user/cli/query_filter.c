#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/container_match.h"
#include "query_filter.h"
#include "lib/util.h"

int ct_parse_time(const char *s, uint64_t now, uint64_t *out)
{
	struct tm tm = { 0 };
	const char *rest;
	char *end;
	double v;

	if (!s || !*s)
		return -1;
	/* relative: a number and one unit */
	if (isdigit((unsigned char)s[0]) && !strchr(s, '-') && !strchr(s, ':')) {
		errno = 0;
		v = strtod(s, &end);
		if (errno || end == s || strlen(end) != 1 || v < 0)
			return -1;
		switch (*end) {
		case 's': v *= 1e9; break;
		case 'm': v *= 60e9; break;
		case 'h': v *= 3600e9; break;
		case 'd': v *= 86400e9; break;
		default: return -1;
		}
		if (v > (double)now)
			return -1;
		*out = now - (uint64_t)v;
		return 0;
	}
	rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!rest)
		return -1;
	time_t t = timegm(&tm);
	uint64_t ns = 0;

	if (*rest == '.') {
		uint64_t scale = 100000000ull;

		for (rest++; isdigit((unsigned char)*rest); rest++) {
			ns += (*rest - '0') * scale;
			scale /= 10;
		}
	}
	if (*rest == 'Z' && !rest[1]) {
		/* UTC */
	} else if ((*rest == '+' || *rest == '-') && strlen(rest) == 6 && rest[3] == ':') {
		int hh = atoi(rest + 1), mm = atoi(rest + 4);
		long off = (hh * 3600L + mm * 60L) * (*rest == '+' ? 1 : -1);

		t -= off;
	} else {
		return -1;
	}
	if (t < 0)
		return -1;
	*out = (uint64_t)t * 1000000000ull + ns;
	return 0;
}

static const char *const kinds[] = {
	"", "exec", "exit", "file", "net", "deploy", "guard", "gap", "agent",
};

static int parse_kinds(struct ct_store_filter *f, const char *arg)
{
	char buf[256], *save = NULL;

	if (strlen(arg) >= sizeof(buf))
		return -1;
	strcpy(buf, arg);
	for (char *k = strtok_r(buf, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
		unsigned i;

		for (i = 1; i < ARRAY_SIZE(kinds); i++)
			if (!strcmp(k, kinds[i]))
				break;
		if (i == ARRAY_SIZE(kinds)) {
			ct_err("unknown --kind '%s' (exec, exit, file, net, deploy, guard, gap, agent)", k);
			return -1;
		}
		f->kind_mask |= 1u << i;
	}
	return 0;
}

static int parse_num(const char *what, const char *arg, int64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || *end || !isdigit((unsigned char)arg[0]) || v > UINT32_MAX) {
		ct_err("--%s must be a number, not '%s'", what, arg);
		return -1;
	}
	*out = v;
	return 0;
}

int ct_filter_apply(struct ct_store_filter *f, int opt, const char *arg)
{
	uint64_t now = ct_now_wall_ns();
	const char *why;

	switch (opt - CT_FILTER_OPT_BASE) {
	case 0:
	case 1:
		if (ct_parse_time(arg, now, opt == CT_FILTER_OPT_BASE ? &f->since_ns : &f->until_ns) < 0) {
			ct_err("bad time '%s' (RFC 3339 like 2026-11-23T10:00:00Z, or 30s, 15m, 2h, 7d)", arg);
			return -1;
		}
		return 0;
	case 2:
		if (!ct_valid_deploy_id(arg, &why)) {
			ct_err("--deploy: %s", why);
			return -1;
		}
		f->deploy_id = arg;
		return 0;
	case 3:
		return parse_kinds(f, arg);
	case 4:
		if (!*arg || strlen(arg) > 4096) {
			ct_err("--path must be a non-empty glob");
			return -1;
		}
		f->path_glob = arg;
		return 0;
	case 5:
		f->ai_only = true;
		return 0;
	case 6:
		f->drift_only = true;
		return 0;
	case 7:
		f->comm = arg;
		return 0;
	case 8:
		return parse_num("pid", arg, &f->pid);
	case 9:
		return parse_num("uid", arg, &f->uid);
	case 10:
		return parse_num("netns", arg, &f->netns);
	case 11:
	case 12:
		if (!ct_container_ref_valid(arg)) {
			ct_err("--%s must be a non-empty id or name without spaces (at most 255 bytes)",
			       opt - CT_FILTER_OPT_BASE == 11 ? "container" : "pod");
			return -1;
		}
		if (opt - CT_FILTER_OPT_BASE == 11)
			f->container = arg;
		else
			f->pod = arg;
		return 0;
	case 13:
		f->unobserved_only = true;
		return 0;
	default:
		return 1;
	}
}
