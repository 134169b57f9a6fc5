/* Container and pod from a cgroup path: see container_decode.h. */
#include <ctype.h>
#include <string.h>

#include "container_decode.h"

const char *ct_runtime_name(enum ct_ctr_runtime rt)
{
	switch (rt) {
	case CT_RT_DOCKER: return "docker";
	case CT_RT_CONTAINERD: return "containerd";
	case CT_RT_CRIO: return "cri-o";
	case CT_RT_PODMAN: return "podman";
	case CT_RT_NSPAWN: return "systemd-nspawn";
	default: return "";
	}
}

const char *ct_qos_name(enum ct_pod_qos q)
{
	switch (q) {
	case CT_QOS_GUARANTEED: return "guaranteed";
	case CT_QOS_BURSTABLE: return "burstable";
	case CT_QOS_BESTEFFORT: return "besteffort";
	default: return "";
	}
}

bool ct_is_container_id(const char *s, size_t len)
{
	if (len != 64)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]) && (s[i] < 'a' || s[i] > 'f'))
			return false;
	return true;
}

bool ct_parse_pod_uid(const char *s, size_t len, char out[CT_POD_UID_LEN])
{
	char uid[CT_POD_UID_LEN];

	if (len != 36)
		return false;
	for (size_t i = 0; i < len; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? (s[i] != '-' && s[i] != '_') : !isxdigit((unsigned char)s[i]))
			return false;
		uid[i] = dash ? '-' : (char)tolower((unsigned char)s[i]);
	}
	uid[36] = '\0';
	if (out)
		memcpy(out, uid, sizeof(uid));
	return true;
}

/* A component and its length, the suffix cut when it has it. */
static bool has_suffix(const char *s, size_t len, const char *suf, size_t *stem)
{
	size_t n = strlen(suf);

	if (len < n || memcmp(s + len - n, suf, n))
		return false;
	*stem = len - n;
	return true;
}

static bool has_prefix(const char *s, size_t len, const char *pre, size_t *rest)
{
	size_t n = strlen(pre);

	if (len < n || memcmp(s, pre, n))
		return false;
	*rest = n;
	return true;
}

static bool contains(const char *s, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= len; i++)
		if (!memcmp(s + i, needle, n))
			return true;
	return false;
}

/* systemd unit-name escaping: "\x2d" is '-'. Returns false on a bad escape. */
static bool unescape(const char *s, size_t len, char *out, size_t out_len)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '\\') {
			unsigned v = 0;

			if (i + 3 >= len || s[i + 1] != 'x' ||
			    !isxdigit((unsigned char)s[i + 2]) || !isxdigit((unsigned char)s[i + 3]))
				return false;
			for (int k = 2; k < 4; k++) {
				char h = (char)tolower((unsigned char)s[i + k]);

				v = v * 16 + (unsigned)(isdigit((unsigned char)h) ? h - '0' : h - 'a' + 10);
			}
			c = (char)v;
			i += 3;
		}
		if (!c || o + 1 >= out_len)
			return false;
		out[o++] = c;
	}
	out[o] = '\0';
	return o > 0;
}

static void set_ctr(struct ct_cgroup_ctr *o, enum ct_ctr_runtime rt, bool monitor,
		    const char *id, size_t id_len, size_t end)
{
	o->runtime = rt;
	o->monitor = monitor;
	memcpy(o->id, id, id_len);
	o->id[id_len] = '\0';
	o->ctr_end = end;
}

/* "<prefix>-<id>" (and "<prefix>-conmon-<id>"): the runtimes' own names. */
static const struct {
	const char *prefix;
	enum ct_ctr_runtime rt;
	bool monitor;
} named[] = {
	{ "libpod-conmon-", CT_RT_PODMAN, true },
	{ "libpod-", CT_RT_PODMAN, false },
	{ "crio-conmon-", CT_RT_CRIO, true },
	{ "crio-", CT_RT_CRIO, false },
	{ "cri-containerd-", CT_RT_CONTAINERD, false },
	{ "docker-", CT_RT_DOCKER, false },
};

/* The v1 views of the systemd driver: "<slice>:<prefix>:<id>". */
static const struct {
	const char *prefix;
	enum ct_ctr_runtime rt;
} colon_named[] = {
	{ ":cri-containerd:", CT_RT_CONTAINERD },
	{ ":crio:", CT_RT_CRIO },
	{ ":docker:", CT_RT_DOCKER },
	{ ":libpod:", CT_RT_PODMAN },
};

/* A pod slice of the systemd driver: "[prefix-]kubepods[-qos]-pod<uid_>.slice". */
static bool pod_slice(const char *c, size_t len, struct ct_cgroup_ctr *o, size_t end)
{
	size_t stem, k;
	char uid[CT_POD_UID_LEN];

	if (!has_suffix(c, len, ".slice", &stem) || stem < 40 || !contains(c, stem, "kubepods"))
		return false;
	k = stem - 36;
	if (memcmp(c + k - 4, "-pod", 4) || !ct_parse_pod_uid(c + k, 36, uid))
		return false;
	memcpy(o->pod_uid, uid, sizeof(uid));
	o->pod_end = end;
	if (contains(c, k, "-burstable-"))
		o->qos = CT_QOS_BURSTABLE;
	else if (contains(c, k, "-besteffort-"))
		o->qos = CT_QOS_BESTEFFORT;
	else
		o->qos = CT_QOS_GUARANTEED;
	return true;
}

bool ct_cgroup_decode(const char *path, struct ct_cgroup_ctr *o)
{
	const char *prev = NULL;
	size_t prev_len = 0;
	bool in_kubepods = false;

	memset(o, 0, sizeof(*o));
	if (!path)
		return false;
	for (const char *c = path; *c;) {
		size_t len = strcspn(c, "/"), end = (size_t)(c - path) + len, stem, rest;
		bool done = false;

		if (!len) {
			c++;
			continue;
		}
		if (contains(c, len, "kubepods"))
			in_kubepods = true;
		/* "<pod slice>:<runtime>:<id>" (cgroup v1 view, systemd driver) */
		for (size_t i = 0; i < sizeof(colon_named) / sizeof(colon_named[0]) && !done; i++) {
			size_t n = strlen(colon_named[i].prefix);

			for (size_t k = 0; k + n <= len; k++) {
				if (memcmp(c + k, colon_named[i].prefix, n))
					continue;
				if (ct_is_container_id(c + k + n, len - k - n)) {
					pod_slice(c, k, o, end);
					set_ctr(o, colon_named[i].rt, false, c + k + n, 64, end);
					done = true;
				}
				break;
			}
		}
		if (!done && pod_slice(c, len, o, end))
			done = true;
		/* "pod<uid>" under kubepods (cgroupfs driver) */
		if (!done && in_kubepods && len == 39 && !memcmp(c, "pod", 3) &&
		    ct_parse_pod_uid(c + 3, 36, o->pod_uid)) {
			o->pod_end = end;
			if (prev && prev_len == 9 && !memcmp(prev, "burstable", 9))
				o->qos = CT_QOS_BURSTABLE;
			else if (prev && prev_len == 10 && !memcmp(prev, "besteffort", 10))
				o->qos = CT_QOS_BESTEFFORT;
			else
				o->qos = CT_QOS_GUARANTEED;
			done = true;
		}
		if (!done) {
			size_t l = has_suffix(c, len, ".scope", &stem) ? stem : len;

			for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
				if (!has_prefix(c, l, named[i].prefix, &rest))
					continue;
				if (ct_is_container_id(c + rest, l - rest)) {
					set_ctr(o, named[i].rt, named[i].monitor, c + rest, 64, end);
					done = true;
				}
				break;
			}
		}
		/* systemd-nspawn: machine.slice/machine-<name>.scope, or its
		 * unit under machinectl (systemd-nspawn@<name>.service); libvirt's
		 * virtual machines (machine-qemu-..., machine-lxc-...) are not
		 * containers */
		if (!done && prev && prev_len == 13 && !memcmp(prev, "machine.slice", 13)) {
			bool scope = has_prefix(c, len, "machine-", &rest) &&
				     has_suffix(c, len, ".scope", &stem);
			bool unit = !scope && has_prefix(c, len, "systemd-nspawn@", &rest) &&
				    has_suffix(c, len, ".service", &stem);
			char name[CT_CTR_ID_LEN];

			if ((scope || unit) && stem > rest &&
			    unescape(c + rest, stem - rest, name, sizeof(name)) &&
			    (unit || (strncmp(name, "qemu-", 5) && strncmp(name, "lxc-", 4))) &&
			    !strchr(name, '/')) {
				set_ctr(o, CT_RT_NSPAWN, false, name, strlen(name), end);
				done = true;
			}
		}
		/* a bare id: cgroupfs drivers (docker, Kubernetes, containerd's
		 * namespaces); the parent says whose where it can */
		if (!done && ct_is_container_id(c, len)) {
			enum ct_ctr_runtime rt = CT_RT_UNKNOWN;

			if (prev && prev_len == 6 && !memcmp(prev, "docker", 6))
				rt = CT_RT_DOCKER;
			else if (prev && ((prev_len == 6 && !memcmp(prev, "k8s.io", 6)) ||
					  (prev_len == 4 && !memcmp(prev, "moby", 4))))
				rt = CT_RT_CONTAINERD;
			set_ctr(o, rt, false, c, 64, end);
		}
		/* what lies below a container is its own making (systemd in it,
		 * a delegated tree): a name there says nothing of whose it is */
		if (o->id[0])
			break;
		prev = c;
		prev_len = len;
		c += len;
	}
	return o->id[0] || o->pod_uid[0];
}
