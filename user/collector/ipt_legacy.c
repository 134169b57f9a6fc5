/* Legacy iptables tables as iptables-save text: see ipt_legacy.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>

#include "ipt_legacy.h"
#include "lib/util.h"

#define KNOWN_MAX 256                /* (netns, family, table) texts kept */

bool ct_ipt_legacy_family_ok(const char *family)
{
	return family && (!strcmp(family, "ip") || !strcmp(family, "ip6"));
}

bool ct_ipt_legacy_table_ok(const char *t)
{
	size_t n = t ? strlen(t) : 0;

	if (!n || n >= CT_IPT_TABLE_LEN || t[0] == '-')
		return false;
	return strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

/* ---------------------------------------------------------------- tables */

int ct_ipt_legacy_tables(const char *family, char names[][CT_IPT_TABLE_LEN], size_t max)
{
	char path[64], buf[4096];
	ssize_t n;
	size_t k = 0;

	if (!ct_ipt_legacy_family_ok(family)) {
		errno = EINVAL;
		return -1;
	}
	/* thread-self: /proc/net follows the thread group leader's namespace */
	snprintf(path, sizeof(path), "/proc/thread-self/net/%s_tables_names",
		 !strcmp(family, "ip6") ? "ip6" : "ip");
	n = ct_read_file(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return errno == ENOENT ? 0 : -1;	/* module not loaded: no table */
	buf[n] = '\0';
	for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l && k < max;
	     l = strtok_r(NULL, "\n", &save))
		if (ct_ipt_legacy_table_ok(l))
			ct_strlcpy(names[k++], l, CT_IPT_TABLE_LEN);
	return (int)k;
}

/* ---------------------------------------------------------------- dump */

/* iptables-legacy-save, or on systems from before the nft backend a plain
 * iptables-save (never the nft one: it would show another ruleset). */
static const char *save_tool(const char *family)
{
	static const char *dirs[] = { "/usr/sbin", "/sbin", "/usr/local/sbin" };
	static char found[2][PATH_MAX];
	static bool looked[2];
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	int f = !strcmp(family, "ip6");
	const char *pfx = f ? "ip6tables" : "iptables";
	const char *ret;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; !looked[f] && i < 2 * ARRAY_SIZE(dirs); i++) {
		char p[PATH_MAX], real[PATH_MAX];
		const char *d = dirs[i % ARRAY_SIZE(dirs)];
		bool legacy = i < ARRAY_SIZE(dirs);

		snprintf(p, sizeof(p), "%s/%s%s-save", d, pfx, legacy ? "-legacy" : "");
		if (access(p, X_OK) < 0)
			continue;
		if (!legacy && (!realpath(p, real) || strstr(real, "nft")))
			continue;
		ct_strlcpy(found[f], p, sizeof(found[f]));
		break;
	}
	looked[f] = true;
	ret = found[f][0] ? found[f] : NULL;
	pthread_mutex_unlock(&lock);
	return ret;
}

static int64_t ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* The tool's stdout, bounded; the child killed past the deadline. */
static int spawn_save(const char *tool, const char *table, int timeout_ms, char **text)
{
	char *argv[] = { (char *)tool, "-t", (char *)table, NULL };
	char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	struct timespec deadline;
	size_t len = 0;
	char *buf = malloc(CT_IPT_TEXT_MAX + 1);
	bool cut = false, timed_out = false;
	int pfd[2], rc, status = 0;
	pid_t pid;

	if (!buf)
		return -1;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		free(buf);
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	/* the agent's threads block its signals and ignore SIGPIPE: not the tool */
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&pid, tool, &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(pfd[1]);
	if (rc) {
		close(pfd[0]);
		free(buf);
		errno = rc;
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	for (;;) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		char sink[4096];
		int64_t left = ms_left(&deadline);
		ssize_t n;

		if (left <= 0) {
			timed_out = true;
			break;
		}
		rc = poll(&p, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0) {
			timed_out = rc == 0;
			break;
		}
		/* past the bound: read on to the end, keep nothing more */
		n = len < CT_IPT_TEXT_MAX ? read(pfd[0], buf + len, CT_IPT_TEXT_MAX - len)
					  : read(pfd[0], sink, sizeof(sink));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (len < CT_IPT_TEXT_MAX)
			len += n;
		else
			cut = true;
	}
	close(pfd[0]);
	/* output closed: it exits now; the deadline still holds */
	while (!timed_out) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			status = -1;
			break;
		}
		if (ms_left(&deadline) <= 0)
			timed_out = true;
		else
			usleep(500);
	}
	if (timed_out) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		free(buf);
		errno = ETIMEDOUT;
		return -1;
	}
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		free(buf);
		errno = EIO;
		return -1;
	}
	buf[len] = '\0';
	ct_ipt_legacy_normalize(buf);
	if (cut) {
		len = strlen(buf);
		if (len + 40 < CT_IPT_TEXT_MAX + 1)
			snprintf(buf + len, CT_IPT_TEXT_MAX + 1 - len, "# cut at %u bytes\n",
				 CT_IPT_TEXT_MAX);
	}
	*text = buf;
	return 0;
}

/* IPT_SO_GET_INFO / IP6T_SO_GET_INFO (same layout): only for a table
 * that exists, since asking creates it. */
static int size_here(const char *family, const char *table, struct ct_ipt_size *sz)
{
	bool v6 = !strcmp(family, "ip6");
	struct ipt_getinfo info;
	socklen_t len = sizeof(info);
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	int rc;

	if (fd < 0)
		return -1;
	memset(&info, 0, sizeof(info));
	ct_strlcpy(info.name, table, sizeof(info.name));
	rc = getsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IP6T_SO_GET_INFO : IPT_SO_GET_INFO,
			&info, &len);
	close(fd);
	if (rc < 0)
		return -1;
	sz->entries = info.num_entries;
	sz->bytes = info.size;
	return 0;
}

int ct_ipt_legacy_dump(const char *family, const char *table, int timeout_ms, char **text)
{
	return ct_ipt_legacy_dump_sized(family, table, timeout_ms, text, NULL);
}

int ct_ipt_legacy_dump_sized(const char *family, const char *table, int timeout_ms, char **text,
			     struct ct_ipt_size *size)
{
	char names[16][CT_IPT_TABLE_LEN];
	struct ct_ipt_size after;
	const char *tool;
	bool exists = false;
	int n;

	*text = NULL;
	if (!ct_ipt_legacy_family_ok(family) || !ct_ipt_legacy_table_ok(table)) {
		errno = EINVAL;
		return -1;
	}
	n = ct_ipt_legacy_tables(family, names, ARRAY_SIZE(names));
	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++)
		exists |= !strcmp(names[i], table);
	if (!exists) {
		errno = ENOENT;
		return -1;
	}
	tool = save_tool(family);
	if (!tool) {
		errno = ENOEXEC;
		return -1;
	}
	if (timeout_ms <= 0)
		timeout_ms = 1;
	if (size && size_here(family, table, size) < 0)
		memset(size, 0, sizeof(*size));
	if (spawn_save(tool, table, timeout_ms, text) < 0)
		return -1;
	if (size && (size_here(family, table, &after) < 0 || memcmp(&after, size, sizeof(after))))
		memset(size, 0, sizeof(*size));	/* replaced meanwhile */
	return 0;
}

void ct_ipt_legacy_normalize(char *s)
{
	char *w = s;

	for (char *l = s; *l;) {
		char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		char *next = nl ? nl + 1 : l + n;

		if (l[0] != '#') {
			/* ":INPUT ACCEPT [12:3456]": the policy stays, the counters go */
			if (l[0] == ':' && n && l[n - 1] == ']') {
				char *b = memrchr(l, '[', n);

				if (b && b > l && b[-1] == ' ' &&
				    strspn(b + 1, "0123456789:") == (size_t)(l + n - 1 - (b + 1)))
					n = b - 1 - l;
			}
			memmove(w, l, n);
			w += n;
			*w++ = '\n';
		}
		l = next;
	}
	*w = '\0';
}

/* ---------------------------------------------------------------- describe */

/* "NAME ..." -> NAME into out. */
static void first_word(const char *s, char *out, size_t len)
{
	size_t n = strcspn(s, " \n");

	if (n >= len)
		n = len - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

/* Keep name as the one chain seen so far; "" for several. */
static void one_chain(char *chain, size_t len, bool *several, const char *name)
{
	if (!chain[0] && !*several)
		ct_strlcpy(chain, name, len);
	else if (strcmp(chain, name)) {
		chain[0] = '\0';
		*several = true;
	}
}

void ct_ipt_legacy_describe(const char *diff, struct ct_ipt_change *c)
{
	char rule_chain[64] = "", head_chain[64] = "";
	char rule_added[CT_IPT_RULE_LEN] = "", rule_removed[CT_IPT_RULE_LEN] = "";
	char pol_new[64] = "";
	unsigned heads_new = 0, heads_old = 0;
	bool rules_several = false, heads_several = false;

	memset(c, 0, sizeof(*c));
	for (const char *l = diff ? diff : ""; *l;) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		char line[CT_IPT_RULE_LEN + 2], name[64];
		bool add = l[0] == '+';

		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, l, n);
		line[n] = '\0';
		l = nl ? nl + 1 : l + strlen(l);
		if ((line[0] != '+' && line[0] != '-') || n < 2)
			continue;
		if (!strncmp(line + 1, "-A ", 3)) {
			first_word(line + 4, name, sizeof(name));
			one_chain(rule_chain, sizeof(rule_chain), &rules_several, name);
			if (add) {
				c->added++;
				ct_strlcpy(rule_added, line + 1, sizeof(rule_added));
			} else {
				c->removed++;
				ct_strlcpy(rule_removed, line + 1, sizeof(rule_removed));
			}
		} else if (line[1] == ':') {
			/* ":NAME POLICY": a chain made, removed, or its policy set */
			const char *pol;

			first_word(line + 2, name, sizeof(name));
			one_chain(head_chain, sizeof(head_chain), &heads_several, name);
			pol = line + 2 + strlen(name);
			pol += *pol == ' ';
			if (add) {
				heads_new++;
				ct_strlcpy(pol_new, pol, sizeof(pol_new));
			} else {
				heads_old++;
			}
		}
	}
	/* the chain whose rules changed; else the one whose head did */
	if (c->added || c->removed)
		ct_strlcpy(c->chain, rule_chain, sizeof(c->chain));
	else
		ct_strlcpy(c->chain, head_chain, sizeof(c->chain));
	if (c->added == 1 && c->removed <= 1)
		ct_strlcpy(c->rule, rule_added, sizeof(c->rule));
	else if (c->removed == 1 && !c->added)
		ct_strlcpy(c->rule, rule_removed, sizeof(c->rule));
	else if (!c->added && !c->removed && c->chain[0] && heads_new <= 1 && heads_old <= 1) {
		/* one chain's head: the command that changes just that */
		if (heads_new && heads_old)
			snprintf(c->rule, sizeof(c->rule), "-P %s %s", c->chain, pol_new);
		else if (heads_new)
			snprintf(c->rule, sizeof(c->rule), "-N %s", c->chain);
		else if (heads_old)
			snprintf(c->rule, sizeof(c->rule), "-X %s", c->chain);
	}
}

bool ct_ipt_legacy_chain_empty(const char *text, const char *chain)
{
	size_t n = strlen(chain);

	for (const char *l = text ? text : ""; *l;) {
		const char *nl = strchr(l, '\n');

		if (!strncmp(l, "-A ", 3) && !strncmp(l + 3, chain, n) && l[3 + n] == ' ')
			return false;
		l = nl ? nl + 1 : l + strlen(l);
	}
	return true;
}

/* ---------------------------------------------------------------- last known */

struct known {
	uint32_t netns;
	char family[8];
	char table[CT_IPT_TABLE_LEN];
	char *text;                      /* NULL: free slot */
	uint64_t used;                   /* for eviction: least recently set */
	bool ahead;                      /* read after later changes than its own */
};

static struct known known[KNOWN_MAX];
static uint64_t known_clock, known_forgotten;
static pthread_mutex_t known_lock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t primed[KNOWN_MAX];
static size_t n_primed;

static bool primed_locked(uint32_t netns)
{
	for (size_t i = 0; i < n_primed && i < KNOWN_MAX; i++)
		if (primed[i] == netns)
			return true;
	return false;
}

static struct known *known_find(uint32_t netns, const char *family, const char *table)
{
	for (size_t i = 0; i < KNOWN_MAX; i++)
		if (known[i].text && known[i].netns == netns && !strcmp(known[i].family, family) &&
		    !strcmp(known[i].table, table))
			return &known[i];
	return NULL;
}

bool ct_ipt_legacy_known(uint32_t netns, const char *family, const char *table, char **text)
{
	struct known *k;

	*text = NULL;
	pthread_mutex_lock(&known_lock);
	k = known_find(netns, family, table);
	if (k)
		*text = strdup(k->text);
	pthread_mutex_unlock(&known_lock);
	return *text != NULL;
}

void ct_ipt_legacy_remember(uint32_t netns, const char *family, const char *table,
			    const char *text)
{
	struct known *k;
	char *copy = text ? strdup(text) : NULL;

	if (!ct_ipt_legacy_family_ok(family) || !ct_ipt_legacy_table_ok(table) || (text && !copy)) {
		free(copy);
		return;
	}
	pthread_mutex_lock(&known_lock);
	k = known_find(netns, family, table);
	if (!k && copy) {
		k = &known[0];
		for (size_t i = 0; i < KNOWN_MAX && k->text; i++)
			if (!known[i].text || known[i].used < k->used)
				k = &known[i];
		if (k->text) {
			known_forgotten++;
			/* its namespace no longer has all its tables here */
			for (size_t i = 0; i < n_primed && i < KNOWN_MAX; i++)
				if (primed[i] == k->netns)
					primed[i] = 0;
		}
		free(k->text);
		k->text = NULL;
		k->netns = netns;
		ct_strlcpy(k->family, family, sizeof(k->family));
		ct_strlcpy(k->table, table, sizeof(k->table));
	}
	if (k) {
		free(k->text);
		k->text = copy;
		k->used = ++known_clock;
		k->ahead = false;
	}
	pthread_mutex_unlock(&known_lock);
}

void ct_ipt_legacy_mark_ahead(uint32_t netns, const char *family, const char *table)
{
	struct known *k;

	pthread_mutex_lock(&known_lock);
	k = known_find(netns, family, table);
	if (k)
		k->ahead = true;
	pthread_mutex_unlock(&known_lock);
}

bool ct_ipt_legacy_ahead(uint32_t netns, const char *family, const char *table)
{
	struct known *k;
	bool r;

	pthread_mutex_lock(&known_lock);
	k = known_find(netns, family, table);
	r = k && k->ahead;
	pthread_mutex_unlock(&known_lock);
	return r;
}

void ct_ipt_legacy_known_each(void (*cb)(void *ctx, uint32_t netns, const char *family,
					 const char *table, const char *text),
			      void *ctx)
{
	pthread_mutex_lock(&known_lock);
	for (size_t i = 0; i < KNOWN_MAX; i++)
		if (known[i].text)
			cb(ctx, known[i].netns, known[i].family, known[i].table, known[i].text);
	pthread_mutex_unlock(&known_lock);
}

void ct_ipt_legacy_mark_primed(uint32_t netns)
{
	pthread_mutex_lock(&known_lock);
	if (!primed_locked(netns))
		primed[n_primed++ % KNOWN_MAX] = netns;
	pthread_mutex_unlock(&known_lock);
}

bool ct_ipt_legacy_primed(uint32_t netns)
{
	bool r;

	pthread_mutex_lock(&known_lock);
	r = primed_locked(netns);
	pthread_mutex_unlock(&known_lock);
	return r;
}

uint64_t ct_ipt_legacy_forgotten(void)
{
	uint64_t n;

	pthread_mutex_lock(&known_lock);
	n = known_forgotten;
	pthread_mutex_unlock(&known_lock);
	return n;
}

void ct_ipt_legacy_forget_all(void)
{
	pthread_mutex_lock(&known_lock);
	for (size_t i = 0; i < KNOWN_MAX; i++) {
		free(known[i].text);
		known[i].text = NULL;
	}
	n_primed = 0;
	pthread_mutex_unlock(&known_lock);
}
