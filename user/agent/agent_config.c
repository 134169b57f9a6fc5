/* The agent's configuration file: see agent_config.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_config.h"
#include "lib/util.h"

static const struct option *find_opt(const struct option *lopts, const char *name)
{
	for (; lopts->name; lopts++)
		if (!strcmp(lopts->name, name))
			return lopts;
	return NULL;
}

static int push(char ***v, int *n, int *cap, char *s)
{
	if (*n + 1 >= *cap) {
		int c = *cap ? *cap * 2 : 32;
		char **nv = realloc(*v, c * sizeof(*nv));

		if (!nv)
			return -1;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		e--;
	*e = '\0';
	return s;
}

/* Append the options of one file. */
static int read_config(const char *path, const struct option *lopts, char ***v, int *n, int *cap,
		       char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t lcap = 0, total = 0;
	ssize_t len;
	int ln = 0, rc = -1;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &lcap, f)) >= 0) {
		const struct option *o;
		char *s, *name, *value, *arg;

		ln++;
		total += len;
		if (total > CT_CONFIG_MAX_BYTES) {
			snprintf(err, errlen, "%s: larger than %d bytes", path, CT_CONFIG_MAX_BYTES);
			goto out;
		}
		if (memchr(line, '\0', len)) {
			snprintf(err, errlen, "%s:%d: a NUL byte (not a text file?)", path, ln);
			goto out;
		}
		if ((s = strchr(line, '#')))
			*s = '\0';
		s = trim(line);
		if (!*s)
			continue;
		name = s;
		s += strcspn(s, " \t");
		if (*s)
			*s++ = '\0';
		value = trim(s);
		if (!strncmp(name, "--", 2))
			name += 2;
		o = find_opt(lopts, name);
		if (!o || !strcmp(name, "config") || !strcmp(name, "help")) {
			for (char *c = name; *c; c++)	/* quote it readable: it may be any bytes */
				if (*c < 0x20 || *c > 0x7e)
					*c = '?';
			snprintf(err, errlen, "%s:%d: unknown option '%.60s'", path, ln, name);
			goto out;
		}
		if (o->has_arg == required_argument && !*value) {
			snprintf(err, errlen, "%s:%d: '%s' needs a value", path, ln, name);
			goto out;
		}
		if (o->has_arg == no_argument && *value) {
			snprintf(err, errlen, "%s:%d: '%s' takes no value (got '%s')", path, ln, name, value);
			goto out;
		}
		/* "--name=value": one argument, so a value may start with '-' */
		arg = malloc(strlen(name) + strlen(value) + 4);
		if (!arg) {
			snprintf(err, errlen, "%s: out of memory", path);
			goto out;
		}
		sprintf(arg, *value ? "--%s=%s" : "--%s", name, value);
		if (push(v, n, cap, arg) < 0) {
			free(arg);
			snprintf(err, errlen, "%s: out of memory", path);
			goto out;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(line);
	fclose(f);
	return rc;
}

int ct_agent_config_expand(int argc, char **argv, const struct option *lopts,
			   int *out_argc, char ***out_argv, char *err, size_t errlen)
{
	char **v = NULL;
	int n = 0, cap = 0;

	if (push(&v, &n, &cap, argv[0]) < 0)
		goto oom;
	/* the files first: the command line's own flags come after and win */
	for (int i = 1; i < argc; i++) {
		const char *path = NULL;

		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--config")) {
			if (i + 1 >= argc) {
				snprintf(err, errlen, "--config needs a file");
				goto fail;
			}
			path = argv[++i];
		} else if (!strncmp(argv[i], "--config=", 9)) {
			path = argv[i] + 9;
		}
		if (path && read_config(path, lopts, &v, &n, &cap, err, errlen) < 0)
			goto fail;
	}
	for (int i = 1, opts = 1; i < argc; i++) {
		if (opts && !strcmp(argv[i], "--config")) {
			i++;
			continue;
		}
		if (opts && !strncmp(argv[i], "--config=", 9))
			continue;
		if (!strcmp(argv[i], "--"))
			opts = 0;	/* what follows is not options: kept as is */
		if (push(&v, &n, &cap, argv[i]) < 0)
			goto oom;
	}
	*out_argc = n;
	*out_argv = v;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	ct_agent_config_free(argc, argv, v, n);
	return -1;
}

void ct_agent_config_free(int argc, char **argv, char **v, int n)
{
	/* free what the files added; the command line's strings are not ours */
	for (int i = 0; v && i < n; i++) {
		bool from_argv = false;

		for (int j = 0; j < argc && !from_argv; j++)
			from_argv = v[i] == argv[j];
		if (!from_argv)
			free(v[i]);
	}
	free(v);
}
