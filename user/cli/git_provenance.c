#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "git_provenance.h"
#include "lib/util.h"

#define GIT_OUT_MAX (256 * 1024)

/* value (lowercased) contains any of the needles -> tool name */
static const struct {
	const char *tool;
	const char *needles[5];
} ai_coauthors[] = {
	{ "claude",   { "@anthropic.com", "claude code", "claude-code", "claude[bot]" } },
	{ "copilot",  { "copilot" } },
	{ "cursor",   { "@cursor.com", "cursor agent", "cursoragent", "cursor[bot]" } },
	{ "openai",   { "@openai.com", "chatgpt", "codex" } },
	{ "gemini",   { "gemini", "google-labs-jules", "jules[bot]" } },
	{ "codeium",  { "codeium", "windsurf" } },
	{ "aider",    { "@aider.chat", "aider (", "aider <" } },
	{ "devin",    { "devin-ai", "devin ai" } },
	{ "amazon-q", { "amazon q", "codewhisperer", "amazon-q" } },
	{ "tabnine",  { "tabnine" } },
};

const char *ct_git_ai_coauthor(const char *value)
{
	char low[512], name[512];
	size_t i;

	for (i = 0; value[i] && i < sizeof(low) - 1; i++)
		low[i] = tolower((unsigned char)value[i]);
	low[i] = '\0';
	for (size_t t = 0; t < ARRAY_SIZE(ai_coauthors); t++)
		for (size_t n = 0; n < ARRAY_SIZE(ai_coauthors[t].needles) &&
				   ai_coauthors[t].needles[n]; n++)
			if (strstr(low, ai_coauthors[t].needles[n]))
				return ai_coauthors[t].tool;
	/* The bare name "Claude" / "Aider" (as Claude Code and aider write it) */
	ct_strlcpy(name, low, sizeof(name));
	name[strcspn(name, "<")] = '\0';
	for (i = strlen(name); i > 0 && isspace((unsigned char)name[i - 1]); i--)
		name[i - 1] = '\0';
	if (!strcmp(name, "claude"))
		return "claude";
	if (!strcmp(name, "aider"))
		return "aider";
	return NULL;
}

void ct_git_strip_credentials(char *url)
{
	char *scheme = strstr(url, "://"), *at, *slash;

	if (!scheme)
		return;
	scheme += 3;
	slash = strchr(scheme, '/');
	at = strchr(scheme, '@');
	if (at && (!slash || at < slash))
		memmove(scheme, at + 1, strlen(at + 1) + 1);
}

static void trim(char *s)
{
	size_t n = strlen(s), i = 0;

	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	while (isspace((unsigned char)s[i]))
		i++;
	memmove(s, s + i, n - i + 1);
}

/* Printable ASCII/UTF-8 only: provenance values must pass validation. */
static void copy_clean(char *dst, size_t len, const char *src)
{
	size_t j = 0;

	for (size_t i = 0; src[i] && j < len - 1; i++)
		if ((unsigned char)src[i] >= 0x20 && src[i] != 0x7f)
			dst[j++] = src[i];
	dst[j] = '\0';
	trim(dst);
}

static void add_approver(struct ct_git_prov *g, const char *v)
{
	char tmp[256];

	copy_clean(tmp, sizeof(tmp), v);
	if (!tmp[0] || g->n_approvers >= CT_GIT_MAX_APPROVERS)
		return;
	for (int i = 0; i < g->n_approvers; i++)
		if (!strcmp(g->approvers[i], tmp))
			return;
	strcpy(g->approvers[g->n_approvers++], tmp);
}

/* "Claude Code (claude-opus-4) <x@y>" -> tool "Claude Code", model
 * "claude-opus-4"; "Claude:claude-3-opus tool..." -> tool, model. */
static void assistant(struct ct_git_prov *g, const char *v)
{
	char tmp[256], *p, *q;

	copy_clean(tmp, sizeof(tmp), v);
	g->ai = true;
	tmp[strcspn(tmp, "<")] = '\0';
	if ((p = strchr(tmp, '(')) && (q = strchr(p, ')'))) {
		*q = '\0';
		if (!g->ai_model[0])
			copy_clean(g->ai_model, sizeof(g->ai_model), p + 1);
		*p = '\0';
	} else if ((p = strchr(tmp, ':')) && p < tmp + strcspn(tmp, " \t")) {
		*p = '\0';
		p[1 + strcspn(p + 1, " \t")] = '\0';
		if (!g->ai_model[0])
			copy_clean(g->ai_model, sizeof(g->ai_model), p + 1);
	}
	trim(tmp);
	if (tmp[0] && !g->ai_tool[0])
		copy_clean(g->ai_tool, sizeof(g->ai_tool), tmp);
}

void ct_git_parse_message(const char *msg, struct ct_git_prov *g)
{
	char *buf = strdup(msg ? msg : ""), *block, *line, *save;
	size_t n;

	if (!buf)
		return;
	/* The trailer block is the last paragraph. */
	n = strlen(buf);
	while (n && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	block = buf;
	for (char *p = buf; (p = strstr(p, "\n\n")); p++)
		block = p + 2;
	if (block == buf) {	/* subject only: no trailers */
		free(buf);
		return;
	}
	for (line = strtok_r(block, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':'), *v;

		if (!colon)
			continue;
		*colon = '\0';
		v = colon + 1;
		trim(line);
		if (!strcasecmp(line, "Co-authored-by")) {
			const char *tool = ct_git_ai_coauthor(v);

			if (tool) {
				g->ai = true;
				if (!g->ai_tool[0])
					ct_strlcpy(g->ai_tool, tool, sizeof(g->ai_tool));
			}
		} else if (!strcasecmp(line, "Assisted-by") || !strcasecmp(line, "Generated-by") ||
			   !strcasecmp(line, "AI-assisted-by")) {
			assistant(g, v);
		} else if (!strcasecmp(line, "AI-Tool")) {
			g->ai = true;
			copy_clean(g->ai_tool, sizeof(g->ai_tool), v);
		} else if (!strcasecmp(line, "AI-Model")) {
			g->ai = true;
			copy_clean(g->ai_model, sizeof(g->ai_model), v);
		} else if (!strcasecmp(line, "AI-Session")) {
			g->ai = true;
			copy_clean(g->ai_session, sizeof(g->ai_session), v);
		} else if (!strcasecmp(line, "Prompt-Digest")) {
			copy_clean(g->prompt_digest, sizeof(g->prompt_digest), v);
			if (!strncasecmp(g->prompt_digest, "sha256:", 7))
				memmove(g->prompt_digest, g->prompt_digest + 7,
					strlen(g->prompt_digest + 7) + 1);
			for (char *d = g->prompt_digest; *d; d++)
				*d = tolower((unsigned char)*d);
		} else if (!strcasecmp(line, "Reviewed-by") || !strcasecmp(line, "Approved-by")) {
			add_approver(g, v);
		} else if (!strcasecmp(line, "Ticket")) {
			copy_clean(g->ticket, sizeof(g->ticket), v);
		}
	}
	free(buf);
}

/* Run git with argv (no shell); stdout into out (NUL-terminated). */
static int run_git(char *const argv[], char *out, size_t outlen, char *err, size_t errlen)
{
	int pfd[2], status;
	size_t got = 0;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		dup2(pfd[1], 1);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 2);
		}
		/* no pager, no prompts, locale-independent output */
		setenv("GIT_PAGER", "cat", 1);
		setenv("GIT_TERMINAL_PROMPT", "0", 1);
		setenv("LC_ALL", "C", 1);
		execvp("git", argv);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		ssize_t r = read(pfd[0], out + got, outlen - 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += r;
		if (got == outlen - 1) {	/* drain the rest */
			char sink[4096];

			while (read(pfd[0], sink, sizeof(sink)) > 0)
				;
			break;
		}
	}
	out[got] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(err, errlen, "git %s failed (exit %d)", argv[3],
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
			snprintf(err, errlen, "cannot run git (is it installed?)");
		return -1;
	}
	return 0;
}

int ct_git_provenance(const char *dir, const char *rev, struct ct_git_prov *g,
		      char *err, size_t errlen)
{
	char *out = malloc(GIT_OUT_MAX), *nl, *nl2;
	const char *why;

	memset(g, 0, sizeof(*g));
	if (!out) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!rev || !*rev)
		rev = "HEAD";
	if (rev[0] == '-' || strchr(rev, '\n')) {
		snprintf(err, errlen, "invalid git revision '%s'", rev);
		free(out);
		return -1;
	}
	{
		char *argv[] = { "git", "-C", (char *)dir, "log", "-1", "--no-show-signature",
				 "--format=%H%n%an <%ae>%n%B", "--end-of-options",
				 (char *)rev, "--", NULL };

		if (run_git(argv, out, GIT_OUT_MAX, err, errlen) < 0) {
			snprintf(err + strlen(err), errlen - strlen(err),
				 " reading commit %s in %s (not a git repository, or no such "
				 "revision?)", rev, dir);
			free(out);
			return -1;
		}
	}
	nl = strchr(out, '\n');
	nl2 = nl ? strchr(nl + 1, '\n') : NULL;
	if (!nl || !nl2 || nl - out != 40) {
		snprintf(err, errlen, "unexpected output from git log in %s", dir);
		free(out);
		return -1;
	}
	*nl = *nl2 = '\0';
	ct_strlcpy(g->commit, out, sizeof(g->commit));
	copy_clean(g->author, sizeof(g->author), nl + 1);
	ct_git_parse_message(nl2 + 1, g);
	{
		char *argv[] = { "git", "-C", (char *)dir, "remote", "get-url", "origin", NULL };
		char e2[64];

		if (run_git(argv, out, 4096, e2, sizeof(e2)) == 0) {
			out[strcspn(out, "\n")] = '\0';
			ct_git_strip_credentials(out);
			copy_clean(g->repo, sizeof(g->repo), out);
		}
	}
	(void)why;
	free(out);
	return 0;
}
