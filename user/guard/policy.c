#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "lib/util.h"

#define MAX_POLICY_BYTES (1u << 20)

static const char *const cond_names[CT_COND_MAX] = {
	[CT_COND_AI] = "ai",
	[CT_COND_UNAPPROVED] = "unapproved",
	[CT_COND_DRIFT] = "drift",
	[CT_COND_PROTECTED] = "protected",
	[CT_COND_OUT_OF_SCOPE] = "out-of-scope",
	[CT_COND_FILE] = "file",
	[CT_COND_NET] = "net",
	[CT_COND_HIGH_RISK] = "high-risk",
	[CT_COND_UNOBSERVED] = "unobserved",
};

static int perr(char *err, size_t errlen, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int perr(char *err, size_t errlen, int line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "line %d: ", line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Split s in place into words: whitespace separates them, "..." is one
 * word (quotes removed; a command pattern has spaces), an unquoted '#'
 * starts a comment. Returns the count, -1 for too many words, -2 for a
 * quote that is not closed or not at a word's edges. */
static int split_words(char *s, char **w, int max)
{
	int n = 0;

	while (*s) {
		while (isspace((unsigned char)*s))
			*s++ = '\0';
		if (!*s || *s == '#')
			break;
		if (n == max)
			return -1;
		if (*s == '"') {
			char *end = strchr(s + 1, '"');

			if (!end || (end[1] && !isspace((unsigned char)end[1]) && end[1] != '#'))
				return -2;
			w[n++] = s + 1;
			*end = '\0';
			s = end + 1;
			continue;
		}
		w[n++] = s;
		while (*s && !isspace((unsigned char)*s) && *s != '#') {
			if (*s == '"')
				return -2;
			s++;
		}
		if (*s == '#') {
			*s = '\0';
			break;
		}
	}
	return n;
}

static int parse_action(const char *s, Changetrace__V1__GuardAction *a)
{
	if (!strcmp(s, "alert"))
		*a = CHANGETRACE__V1__GUARD_ACTION__GUARD_ACTION_ALERT;
	else if (!strcmp(s, "halt"))
		*a = CHANGETRACE__V1__GUARD_ACTION__GUARD_ACTION_HALT;
	else if (!strcmp(s, "kill"))
		*a = CHANGETRACE__V1__GUARD_ACTION__GUARD_ACTION_KILL;
	else
		return -1;
	return 0;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-_.", *s))
			return false;
	return true;
}

static int add_protect(char **list, int *n, const char *what, int line,
		       char *err, size_t errlen)
{
	if (*n >= CT_POLICY_MAX_PROTECT)
		return perr(err, errlen, line, "more than %d protect entries", CT_POLICY_MAX_PROTECT);
	if (strlen(what) >= 4096)
		return perr(err, errlen, line, "protected entry too long");
	list[*n] = strdup(what);
	if (!list[*n])
		return perr(err, errlen, line, "out of memory");
	(*n)++;
	return 0;
}

/* A rule refused after its command was parsed: the command goes with it. */
static int exec_rule_fail(struct ct_policy_rule *r, int rc)
{
	free(r->exec);
	r->exec = NULL;
	return rc;
}

/* Split a command pattern into its executable and argument patterns, as
 * the exec probe matches them (bpf/exec_guard.bpf.h). */
int ct_policy_parse_command(const char *text, struct ct_policy_command *c,
			    char *err, size_t errlen)
{
	char buf[CT_POLICY_COMMAND_LEN], *w[CT_XARGS_MAX + 2], *s, *base;
	int n = 0;
	size_t off = 0;

	memset(c, 0, sizeof(*c));
	if (strlen(text) >= sizeof(buf)) {
		snprintf(err, errlen, "longer than %d bytes", CT_POLICY_COMMAND_LEN - 1);
		return -1;
	}
	for (const char *t = text; *t; t++)
		if ((unsigned char)*t < 0x20 || *t == 0x7f || *t == '"') {
			snprintf(err, errlen, "control characters and quotes are not allowed");
			return -1;
		}
	strcpy(buf, text);
	for (s = strtok(buf, " \t"); s; s = strtok(NULL, " \t")) {
		if (n == CT_XARGS_MAX + 1) {
			snprintf(err, errlen, "at most %d argument patterns after the command",
				 CT_XARGS_MAX);
			return -1;
		}
		w[n++] = s;
	}
	if (n == 0) {
		snprintf(err, errlen, "empty command");
		return -1;
	}
	if (w[0][0] == '/') {
		if (strlen(w[0]) >= CT_XPATH_LEN) {
			snprintf(err, errlen, "executable path longer than %d bytes", CT_XPATH_LEN - 1);
			return -1;
		}
		if (strstr(w[0], "//") || strstr(w[0], "/./") || strstr(w[0], "/../")) {
			snprintf(err, errlen, "write the executable's path as the kernel resolves it "
				 "(no '//', '.' or '..')");
			return -1;
		}
		strcpy(c->path, w[0]);
		base = strrchr(w[0], '/') + 1;
	} else if (strchr(w[0], '/')) {
		snprintf(err, errlen, "the command is a name or an absolute path, not '%s'", w[0]);
		return -1;
	} else {
		base = w[0];
	}
	if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
		snprintf(err, errlen, "'%s' names no file", w[0]);
		return -1;
	}
	if (strpbrk(base, "*?")) {
		snprintf(err, errlen, "the command's name cannot hold a wildcard (rules are "
			 "found by name at every exec): one rule per name, or a wildcard in "
			 "its directory (/usr/*/rm)");
		return -1;
	}
	if (strlen(base) >= CT_XNAME_LEN) {
		snprintf(err, errlen, "command name '%s' is longer than %d bytes", base,
			 CT_XNAME_LEN - 1);
		return -1;
	}
	strcpy(c->name, base);
	for (int k = 1; k < n; k++) {
		if (strlen(w[k]) >= CT_XTOKEN_LEN) {
			snprintf(err, errlen, "argument pattern '%.20s...' is longer than %d bytes",
				 w[k], CT_XTOKEN_LEN - 1);
			return -1;
		}
		strcpy(c->args[k - 1], w[k]);
	}
	c->n_args = n - 1;
	for (int k = 0; k < n; k++)
		off += snprintf(c->text + off, sizeof(c->text) - off, "%s%s", k ? " " : "", w[k]);
	return 0;
}

const char *ct_policy_cond_name(enum ct_cond c)
{
	return (unsigned)c < CT_COND_MAX ? cond_names[c] : "?";
}

void ct_policy_rule_conditions(const struct ct_policy_rule *r, char *out, size_t len)
{
	size_t off = 0;

	out[0] = '\0';
	for (int k = 0; k < r->n_conds && off < len; k++)
		off += snprintf(out + off, len - off, "%s%s%s", k ? " and " : "",
				r->negate[k] ? "not " : "", cond_names[r->cond[k]]);
	if (r->exec && off < len)
		snprintf(out + off, len - off, "%sexec \"%s\"", r->n_conds ? " and " : "",
			 r->exec->text);
}

/* "rule NAME: c1 and not c2 => action" / "budget NAME: files 20 => halt",
 * given as words after the keyword. */
static int parse_rule(struct ct_policy *p, char **w, int n, bool budget, int line,
		      char *err, size_t errlen)
{
	struct ct_policy_rule *r;
	size_t nl;
	int i = 1;

	if (p->n_rules >= CT_POLICY_MAX_RULES)
		return perr(err, errlen, line, "more than %d rules", CT_POLICY_MAX_RULES);
	if (n < 4)
		return perr(err, errlen, line, "expected '%s NAME: ... => ACTION'", budget ? "budget" : "rule");
	r = &p->rules[p->n_rules];
	memset(r, 0, sizeof(*r));
	r->line = line;
	nl = strlen(w[0]);
	if (nl < 2 || w[0][nl - 1] != ':')
		return perr(err, errlen, line, "rule name must end with ':' (got '%s')", w[0]);
	w[0][nl - 1] = '\0';
	if (!valid_name(w[0]))
		return perr(err, errlen, line, "invalid rule name '%s' (letters, digits, -_.)", w[0]);
	for (int k = 0; k < p->n_rules; k++)
		if (!strcmp(p->rules[k].name, w[0]))
			return perr(err, errlen, line, "duplicate rule name '%s'", w[0]);
	ct_strlcpy(r->name, w[0], sizeof(r->name));

	if (budget) {
		char *end;
		unsigned long v;

		if (n != 5 || strcmp(w[3], "=>"))
			return perr(err, errlen, line, "expected 'budget NAME: files|net N => ACTION'");
		if (!strcmp(w[1], "files"))
			r->budget = CT_BUDGET_FILES;
		else if (!strcmp(w[1], "net"))
			r->budget = CT_BUDGET_NET;
		else
			return perr(err, errlen, line, "budget counts 'files' or 'net', not '%s'", w[1]);
		errno = 0;
		v = strtoul(w[2], &end, 10);
		if (errno || *end || !isdigit((unsigned char)w[2][0]) || v > 1000000)
			return perr(err, errlen, line, "budget limit must be a number 0..1000000 (got '%s')", w[2]);
		r->budget_max = v;
		if (parse_action(w[4], &r->action))
			return perr(err, errlen, line, "unknown action '%s' (alert, halt, kill)", w[4]);
		p->n_rules++;
		return 0;
	}

	for (;;) {
		bool neg = false;
		int c;

		if (i >= n)
			return exec_rule_fail(r, perr(err, errlen, line, "missing '=> ACTION'"));
		if (!strcmp(w[i], "not")) {
			neg = true;
			if (++i >= n)
				return exec_rule_fail(r, perr(err, errlen, line, "'not' needs a condition"));
		}
		if (!strcmp(w[i], "exec")) {
			char why[256];

			if (neg)
				return exec_rule_fail(r, perr(err, errlen, line, "'not exec' is not a rule: "
					"an exec rule names the commands it acts on"));
			if (r->exec)
				return exec_rule_fail(r, perr(err, errlen, line, "one exec condition per rule"));
			if (++i >= n || !strcmp(w[i], "=>"))
				return perr(err, errlen, line, "'exec' needs a command, e.g. "
					    "exec \"terraform destroy*\"");
			r->exec = calloc(1, sizeof(*r->exec));
			if (!r->exec)
				return perr(err, errlen, line, "out of memory");
			if (ct_policy_parse_command(w[i], r->exec, why, sizeof(why)) < 0) {
				free(r->exec);
				r->exec = NULL;
				return perr(err, errlen, line, "exec \"%s\": %s", w[i], why);
			}
			i++;
			if (i < n && !strcmp(w[i], "and")) {
				i++;
				continue;
			}
			break;
		}
		for (c = 0; c < CT_COND_MAX; c++)
			if (!strcmp(w[i], cond_names[c]))
				break;
		if (c == CT_COND_MAX)
			return exec_rule_fail(r, perr(err, errlen, line, "unknown condition '%s' (ai, "
				"unapproved, drift, protected, out-of-scope, file, net, high-risk, "
				"unobserved, exec \"CMD\")", w[i]));
		if (r->n_conds >= CT_POLICY_MAX_CONDS)
			return exec_rule_fail(r, perr(err, errlen, line, "more than %d conditions",
						      CT_POLICY_MAX_CONDS));
		r->cond[r->n_conds] = c;
		r->negate[r->n_conds++] = neg;
		i++;
		if (i < n && !strcmp(w[i], "and")) {
			i++;
			continue;
		}
		break;
	}
	if (i + 2 != n || strcmp(w[i], "=>"))
		return exec_rule_fail(r, perr(err, errlen, line, "expected '=> ACTION' after the conditions"));
	if (parse_action(w[i + 1], &r->action))
		return exec_rule_fail(r, perr(err, errlen, line, "unknown action '%s' (alert, halt, kill)",
					      w[i + 1]));
	if (r->exec) {
		for (int k = 0; k < r->n_conds; k++)
			if (r->cond[k] == CT_COND_PROTECTED || r->cond[k] == CT_COND_FILE ||
			    r->cond[k] == CT_COND_NET || r->cond[k] == CT_COND_UNOBSERVED)
				return exec_rule_fail(r, perr(err, errlen, line, "'%s' is about file and "
					"network changes; an exec rule takes ai, unapproved, drift, "
					"high-risk and out-of-scope", cond_names[r->cond[k]]));
		if (p->n_exec_rules >= CT_XRULES_MAX)
			return exec_rule_fail(r, perr(err, errlen, line, "more than %d exec rules",
						      CT_XRULES_MAX));
		p->n_exec_rules++;
	}
	p->n_rules++;
	return 0;
}

/* A bare subsystem name, covering all its objects. */
static bool net_subsystem_name(const char *w)
{
	static const char *names[] = { "nft", "iptables", "ip6tables", "arptables", "ebtables",
				       "route", "rule", "addr", "link", "tc", "neigh", "xfrm", "bpf" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(w, names[i]))
			return true;
	return false;
}

int ct_policy_parse(struct ct_policy *p, const char *text, size_t len,
		    char *err, size_t errlen)
{
	char *buf, *line, *save = NULL;
	int lineno = 0, rc = 0;

	memset(p, 0, sizeof(*p));
	if (len > MAX_POLICY_BYTES)
		return perr(err, errlen, 0, "policy larger than %u bytes", MAX_POLICY_BYTES);
	if (memchr(text, '\0', len))
		return perr(err, errlen, 0, "policy contains NUL bytes");
	buf = malloc(len + 1);
	if (!buf)
		return perr(err, errlen, 0, "out of memory");
	memcpy(buf, text, len);
	buf[len] = '\0';

	/* strtok_r would skip empty lines and lose the line count: walk by hand */
	for (line = buf; line && rc == 0; line = save) {
		char *nl = strchr(line, '\n'), *w[64];
		int n;

		save = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		lineno++;
		n = split_words(line, w, 64);
		if (n == -2) {
			rc = perr(err, errlen, lineno, "a quote is not closed, or not around a whole word");
			break;
		}
		if (n < 0) {
			rc = perr(err, errlen, lineno, "too many words");
			break;
		}
		if (n == 0)
			continue;
		if (!strcmp(w[0], "protect")) {
			if (n < 2)
				rc = perr(err, errlen, lineno, "'protect' needs at least one path");
			for (int k = 1; k < n && rc == 0; k++) {
				if (w[k][0] != '/')
					rc = perr(err, errlen, lineno, "protected path must be absolute: '%s'", w[k]);
				else
					rc = add_protect(p->protect, &p->n_protect, w[k], lineno, err, errlen);
			}
		} else if (!strcmp(w[0], "protect-net")) {
			if (n < 2)
				rc = perr(err, errlen, lineno, "'protect-net' needs at least one object");
			for (int k = 1; k < n && rc == 0; k++) {
				if (!strchr(w[k], ':') && !net_subsystem_name(w[k]))
					rc = perr(err, errlen, lineno, "network object '%s' is not SUBSYSTEM:DETAIL", w[k]);
				else
					rc = add_protect(p->protect_net, &p->n_protect_net, w[k], lineno, err, errlen);
			}
		} else if (!strcmp(w[0], "rule")) {
			rc = parse_rule(p, w + 1, n - 1, false, lineno, err, errlen);
		} else if (!strcmp(w[0], "budget")) {
			rc = parse_rule(p, w + 1, n - 1, true, lineno, err, errlen);
		} else {
			rc = perr(err, errlen, lineno, "unknown keyword '%s' (protect, protect-net, rule, budget)", w[0]);
		}
	}
	free(buf);
	if (rc)
		ct_policy_free(p);
	return rc;
}

int ct_policy_load(struct ct_policy *p, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;
	int rc;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf = malloc(MAX_POLICY_BYTES + 1);
	if (!buf) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	n = fread(buf, 1, MAX_POLICY_BYTES + 1, f);
	fclose(f);
	rc = ct_policy_parse(p, buf, n, err, errlen);
	free(buf);
	return rc;
}

int ct_policy_add_protect_shorthand(struct ct_policy *p, const char *path,
				    char *err, size_t errlen)
{
	static const char *const names[] = { "protect-ai-unapproved", "protect-drift" };
	bool have[2] = { false, false };

	if (path[0] != '/') {
		snprintf(err, errlen, "--protect: path must be absolute: '%s'", path);
		return -1;
	}
	if (add_protect(p->protect, &p->n_protect, path, 0, err, errlen))
		return -1;
	for (int i = 0; i < p->n_rules; i++)
		for (int k = 0; k < 2; k++)
			if (!strcmp(p->rules[i].name, names[k]))
				have[k] = true;
	for (int k = 0; k < 2; k++) {
		struct ct_policy_rule *r;

		if (have[k])
			continue;
		if (p->n_rules >= CT_POLICY_MAX_RULES) {
			snprintf(err, errlen, "too many rules");
			return -1;
		}
		r = &p->rules[p->n_rules++];
		memset(r, 0, sizeof(*r));
		ct_strlcpy(r->name, names[k], sizeof(r->name));
		r->action = CHANGETRACE__V1__GUARD_ACTION__GUARD_ACTION_HALT;
		if (k == 0) {
			r->cond[0] = CT_COND_AI;
			r->cond[1] = CT_COND_UNAPPROVED;
			r->cond[2] = CT_COND_PROTECTED;
			r->n_conds = 3;
		} else {
			r->cond[0] = CT_COND_DRIFT;
			r->cond[1] = CT_COND_PROTECTED;
			r->n_conds = 2;
		}
	}
	return 0;
}

void ct_policy_free(struct ct_policy *p)
{
	for (int i = 0; i < p->n_protect; i++)
		free(p->protect[i]);
	for (int i = 0; i < p->n_protect_net; i++)
		free(p->protect_net[i]);
	for (int i = 0; i < p->n_rules; i++) {
		free(p->rules[i].exec);
		p->rules[i].exec = NULL;
	}
	p->n_protect = p->n_protect_net = 0;
	p->n_rules = p->n_exec_rules = 0;
}

/* "/etc/pay" covers "/etc/pay" and "/etc/pay/x", not "/etc/payroll";
 * a pattern with glob characters is matched with fnmatch. */
static bool path_under(const char *pattern, const char *path)
{
	size_t n;

	if (!path)
		return false;
	if (strpbrk(pattern, "*?["))
		return fnmatch(pattern, path, 0) == 0;
	n = strlen(pattern);
	while (n > 1 && pattern[n - 1] == '/')
		n--;
	return strncmp(pattern, path, n) == 0 && (path[n] == '\0' || path[n] == '/' || n == 1);
}

bool ct_policy_path_protected(const struct ct_policy *p, const char *path)
{
	for (int i = 0; i < p->n_protect; i++)
		if (path_under(p->protect[i], path))
			return true;
	return false;
}

/* "nft:inet/filter" covers "nft:inet/filter" and "nft:inet/filter/input". */
/* A network object name covers itself and what is below it:
 * "nft:inet/filter" covers "nft:inet/filter/input", and a bare subsystem
 * "route" covers every "route:TABLE/DEST". */
static bool net_under(const char *name, const char *object)
{
	size_t n = strlen(name);

	if (strncmp(name, object, n))
		return false;
	return object[n] == '\0' || object[n] == '/' || (object[n] == ':' && !strchr(name, ':'));
}

bool ct_policy_net_protected(const struct ct_policy *p, const char *object)
{
	if (!object)
		return false;
	for (int i = 0; i < p->n_protect_net; i++) {
		const char *pat = p->protect_net[i];

		if (strpbrk(pat, "*?[") ? fnmatch(pat, object, 0) == 0 : net_under(pat, object))
			return true;
	}
	return false;
}

bool ct_policy_in_scope(const PbDeploy *d, const char *what)
{
	if (!d || d->n_scope == 0)
		return true;   /* no declared scope: nothing to be outside of */
	if (!what)
		return false;
	for (size_t i = 0; i < d->n_scope; i++) {
		const char *s = d->scope[i];

		if (s[0] == '/' ? path_under(s, what) : net_under(s, what))
			return true;
	}
	return false;
}

static bool cond_true(const struct ct_policy *p, const struct ct_change_facts *f, enum ct_cond c)
{
	const PbDeploy *d = f->deploy;

	switch (c) {
	case CT_COND_AI:
		return d && d->ai && d->ai->ai_assisted;
	case CT_COND_UNAPPROVED:
		return !d || d->n_approved_by == 0;
	case CT_COND_DRIFT:
		return !d && !f->unobserved;
	case CT_COND_UNOBSERVED:
		return f->unobserved;
	case CT_COND_PROTECTED:
		return ct_policy_path_protected(p, f->path) ||
		       ct_policy_path_protected(p, f->old_path) ||
		       ct_policy_net_protected(p, f->net_object);
	case CT_COND_OUT_OF_SCOPE:
		if (!d)
			return false;
		if (f->is_file)
			return !ct_policy_in_scope(d, f->path) ||
			       (f->old_path && !ct_policy_in_scope(d, f->old_path));
		return f->is_net && !ct_policy_in_scope(d, f->net_object);
	case CT_COND_FILE:
		return f->is_file;
	case CT_COND_NET:
		return f->is_net;
	case CT_COND_HIGH_RISK:
		return d && d->risk == CHANGETRACE__V1__RISK__RISK_HIGH;
	default:
		return false;
	}
}

int ct_policy_eval(const struct ct_policy *p, const struct ct_change_facts *f,
		   ct_policy_violation_cb cb, void *ctx)
{
	int violations = 0;

	for (int i = 0; i < p->n_rules; i++) {
		const struct ct_policy_rule *r = &p->rules[i];
		char reason[512];
		bool hit = true;

		if (r->exec)
			continue;	/* decided in the kernel at exec */
		if (r->budget != CT_BUDGET_NONE) {
			uint32_t used = r->budget == CT_BUDGET_FILES ? f->deploy_files : f->deploy_net;
			bool applies = f->deploy && (r->budget == CT_BUDGET_FILES ? f->is_file : f->is_net);

			if (!applies || used <= r->budget_max)
				continue;
			snprintf(reason, sizeof(reason), "deploy %s changed %u %s, budget is %u",
				 f->deploy->id, used, r->budget == CT_BUDGET_FILES ? "files" : "network objects",
				 r->budget_max);
		} else {
			size_t off;

			for (int k = 0; k < r->n_conds && hit; k++)
				hit = cond_true(p, f, r->cond[k]) != r->negate[k];
			if (!hit)
				continue;
			off = snprintf(reason, sizeof(reason), "%s %s by %s%s%s:",
				       f->is_file ? "file" : "network object",
				       f->is_file ? (f->path ? f->path : "?") : (f->net_object ? f->net_object : "?"),
				       f->deploy ? "deploy " : f->unobserved ? "nobody (made while no agent watched)" : "drift",
				       f->deploy ? f->deploy->id : "",
				       f->deploy && f->deploy->ai && f->deploy->ai->ai_assisted ? " (AI-assisted)" : "");
			for (int k = 0; k < r->n_conds && off < sizeof(reason); k++)
				off += snprintf(reason + off, sizeof(reason) - off, "%s%s%s",
						k ? " and " : " ", r->negate[k] ? "not " : "",
						cond_names[r->cond[k]]);
		}
		violations++;
		if (cb)
			cb(r, reason, ctx);
	}
	return violations;
}
