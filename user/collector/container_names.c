/* Container names from the runtimes' local state: see container_names.h. */
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <curl/curl.h>
#include <jansson.h>

#include "container_names.h"
#include "lib/util.h"

#define STATE_FILE_MAX (64u << 20)   /* a runtime's state file bigger than this is not read */
#define QUEUE_LEN 256
#define SOCKET_TIMEOUT_MS 2000

/* ------------------------------------------------------------ JSON files */

static json_t *load_json(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > STATE_FILE_MAX)
		return NULL;
	return json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
}

static const char *jstr(const json_t *obj, const char *key)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	return json_is_string(v) && *json_string_value(v) ? json_string_value(v) : NULL;
}

static void set(char *dst, size_t len, const char *v)
{
	if (v && !*dst)
		ct_strlcpy(dst, v, len);
}

/* Kubernetes' names as the CRI runtimes annotate a container (containerd:
 * io.kubernetes.cri.*, CRI-O: io.kubernetes.*), and nerdctl's name. */
static bool annotations(const json_t *ann, struct ct_ctr_names *n)
{
	static const char *const name_keys[] = {
		"io.kubernetes.cri.container-name", "io.kubernetes.container.name", "nerdctl/name",
	};
	static const char *const image_keys[] = {
		"io.kubernetes.cri.image-name", "io.kubernetes.cri-o.ImageName",
	};
	static const char *const pod_keys[] = {
		"io.kubernetes.cri.sandbox-name", "io.kubernetes.pod.name",
	};
	static const char *const ns_keys[] = {
		"io.kubernetes.cri.sandbox-namespace", "io.kubernetes.pod.namespace",
	};
	bool any = false;

	if (!json_is_object(ann))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(name_keys); i++)
		if (jstr(ann, name_keys[i]) && !n->name[0]) {
			set(n->name, sizeof(n->name), jstr(ann, name_keys[i]));
			any = true;
		}
	for (size_t i = 0; i < ARRAY_SIZE(image_keys); i++)
		set(n->image, sizeof(n->image), jstr(ann, image_keys[i]));
	for (size_t i = 0; i < ARRAY_SIZE(pod_keys); i++)
		set(n->pod_name, sizeof(n->pod_name), jstr(ann, pod_keys[i]));
	for (size_t i = 0; i < ARRAY_SIZE(ns_keys); i++)
		set(n->pod_namespace, sizeof(n->pod_namespace), jstr(ann, ns_keys[i]));
	return any || n->image[0] || n->pod_name[0];
}

/* An OCI bundle's config.json: its annotations. */
static bool bundle(const char *path, struct ct_ctr_names *n)
{
	json_t *j = load_json(path);
	bool ok;

	if (!j)
		return false;
	ok = annotations(json_object_get(j, "annotations"), n);
	json_decref(j);
	return ok;
}

/* containers/storage (podman, CRI-O, buildah): an array of
 * {"id", "names": [...], "metadata": "<json with image-name>"}. */
static bool cstorage_entry(const json_t *e, const char *id, struct ct_ctr_names *n)
{
	const json_t *names = json_object_get(e, "names");
	const char *meta = jstr(e, "metadata");

	if (!jstr(e, "id") || strcmp(jstr(e, "id"), id))
		return false;
	if (json_is_array(names) && json_array_size(names) && json_is_string(json_array_get(names, 0)))
		set(n->name, sizeof(n->name), json_string_value(json_array_get(names, 0)));
	if (meta) {
		json_t *m = json_loads(meta, 0, NULL);

		set(n->image, sizeof(n->image), jstr(m, "image-name"));
		json_decref(m);
	}
	return true;
}

static bool cstorage(const char *root, struct ct_ctr_names *n)
{
	char pat[4096];
	glob_t g;
	bool found = false;

	snprintf(pat, sizeof(pat), "%s/var/lib/containers/storage/*-containers/containers.json", root);
	if (glob(pat, 0, NULL, &g))
		return false;
	for (size_t i = 0; i < g.gl_pathc && !found; i++) {
		json_t *arr = load_json(g.gl_pathv[i]);
		size_t k;
		json_t *e;

		json_array_foreach(arr, k, e)
			if ((found = cstorage_entry(e, n->id, n)))
				break;
		json_decref(arr);
	}
	globfree(&g);
	return found;
}

/* docker: /var/lib/docker/containers/<id>/config.v2.json */
static bool docker_state(const char *root, struct ct_ctr_names *n)
{
	char path[4096];
	json_t *j, *cfg, *labels;
	const char *name;

	snprintf(path, sizeof(path), "%s/var/lib/docker/containers/%s/config.v2.json", root, n->id);
	if (!(j = load_json(path)))
		return false;
	name = jstr(j, "Name");
	if (name && *name == '/')
		name++;
	set(n->name, sizeof(n->name), name && *name ? name : NULL);
	cfg = json_object_get(j, "Config");
	set(n->image, sizeof(n->image), jstr(cfg, "Image"));
	labels = json_object_get(cfg, "Labels");
	set(n->pod_name, sizeof(n->pod_name), jstr(labels, "io.kubernetes.pod.name"));
	set(n->pod_namespace, sizeof(n->pod_namespace), jstr(labels, "io.kubernetes.pod.namespace"));
	json_decref(j);
	return true;
}

/* containerd: the task's bundle, in whichever containerd namespace */
static bool containerd_bundle(const char *root, struct ct_ctr_names *n)
{
	static const char *const dirs[] = {
		"run/containerd/io.containerd.runtime.v2.task",
		"run/containerd/io.containerd.runtime.v1.linux",
	};
	bool found = false;

	for (size_t d = 0; d < ARRAY_SIZE(dirs) && !found; d++) {
		char pat[4096];
		glob_t g;

		snprintf(pat, sizeof(pat), "%s/%s/*/%s/config.json", root, dirs[d], n->id);
		if (glob(pat, 0, NULL, &g))
			continue;
		for (size_t i = 0; i < g.gl_pathc && !found; i++) {
			json_t *j = load_json(g.gl_pathv[i]);

			if (j) {
				annotations(json_object_get(j, "annotations"), n);
				found = true;   /* the runtime is known even without names */
				json_decref(j);
			}
		}
		globfree(&g);
	}
	return found;
}

/* CRI-O keeps its bundle under containers/storage's run and graph roots. */
static bool crio_bundle(const char *root, struct ct_ctr_names *n)
{
	static const char *const dirs[] = {
		"run/containers/storage", "var/lib/containers/storage",
	};

	for (size_t d = 0; d < ARRAY_SIZE(dirs); d++) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s/overlay-containers/%s/userdata/config.json",
			 root, dirs[d], n->id);
		if (bundle(path, n))
			return true;
	}
	return false;
}

/* --------------------------------------------------------- runtime socket */

struct body {
	char *buf;
	size_t len;
};

static size_t on_body(char *p, size_t sz, size_t nm, void *ctx)
{
	struct body *b = ctx;
	size_t n = sz * nm;
	char *nb;

	if (b->len + n > (4u << 20))
		return 0;   /* an answer this large is not an inspect */
	nb = realloc(b->buf, b->len + n + 1);
	if (!nb)
		return 0;
	memcpy(nb + b->len, p, n);
	b->len += n;
	nb[b->len] = '\0';
	b->buf = nb;
	return n;
}

/* Docker's inspect (which podman's compatible API answers too). */
static bool socket_inspect(const char *sock, struct ct_ctr_names *n, char *why, size_t wlen)
{
	struct body b = { 0 };
	char url[160];
	long status = 0;
	CURLcode rc;
	CURL *h = curl_easy_init();
	bool ok = false;

	if (!h) {
		snprintf(why, wlen, "runtime socket: no curl handle");
		return false;
	}
	snprintf(url, sizeof(url), "http://localhost/containers/%s/json", n->id);
	curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)SOCKET_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK) {
		snprintf(why, wlen, "runtime socket %s: %s", sock, curl_easy_strerror(rc));
	} else if (status != 200) {
		snprintf(why, wlen, "runtime socket %s: HTTP %ld", sock, status);
	} else {
		json_t *j = json_loads(b.buf ? b.buf : "", 0, NULL);
		json_t *cfg = json_object_get(j, "Config"), *labels = json_object_get(cfg, "Labels");
		const char *name = jstr(j, "Name");

		if (name && *name == '/')
			name++;
		set(n->name, sizeof(n->name), name && *name ? name : NULL);
		set(n->image, sizeof(n->image), jstr(cfg, "Image"));
		set(n->image, sizeof(n->image), jstr(j, "ImageName"));
		set(n->pod_name, sizeof(n->pod_name), jstr(labels, "io.kubernetes.pod.name"));
		set(n->pod_namespace, sizeof(n->pod_namespace), jstr(labels, "io.kubernetes.pod.namespace"));
		ok = j && n->name[0];
		if (!ok)
			snprintf(why, wlen, "runtime socket %s: no name in its answer", sock);
		json_decref(j);
	}
	free(b.buf);
	curl_easy_cleanup(h);
	return ok;
}

/* ----------------------------------------------------------------- lookup */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static struct ct_ctr_names *queue[QUEUE_LEN];
static size_t q_head, q_len;
static pthread_t worker;
static bool running, stopping;
static char w_root[1024], w_socket[1024];
static struct ct_names_stats stats;

static void clear_answer(struct ct_ctr_names *n)
{
	n->runtime = n->hint;
	n->name[0] = n->image[0] = n->pod_name[0] = n->pod_namespace[0] = '\0';
	n->from[0] = n->reason[0] = '\0';
}

static bool try_source(bool (*fn)(const char *, struct ct_ctr_names *), const char *root,
		       struct ct_ctr_names *n, enum ct_ctr_runtime rt, const char *from)
{
	if (!fn(root, n))
		return false;
	if (n->runtime == CT_RT_UNKNOWN || n->runtime == CT_RT_NONE)
		n->runtime = rt;
	ct_strlcpy(n->from, from, sizeof(n->from));
	return true;
}

void ct_names_lookup(const char *root, const char *socket, struct ct_ctr_names *n)
{
	enum ct_ctr_runtime h = n->hint;
	char why[160] = "";
	bool found = false;

	clear_answer(n);
	if (h == CT_RT_NSPAWN) {
		/* a machine is named by its name; it has no image */
		ct_strlcpy(n->name, n->id, sizeof(n->name));
		ct_strlcpy(n->from, "machine name", sizeof(n->from));
		atomic_store(&n->state, CT_NAMES_FOUND);
		return;
	}
	if (socket && *socket && h != CT_RT_CRIO && h != CT_RT_CONTAINERD) {
		__atomic_add_fetch(&stats.socket_queries, 1, __ATOMIC_RELAXED);
		if (socket_inspect(socket, n, why, sizeof(why))) {
			ct_strlcpy(n->from, "runtime socket", sizeof(n->from));
			found = true;
		}
	}
	if (!found && (h == CT_RT_CONTAINERD || h == CT_RT_UNKNOWN))
		found = try_source(containerd_bundle, root, n, CT_RT_CONTAINERD, "containerd bundle");
	if (!found && (h == CT_RT_CRIO || h == CT_RT_UNKNOWN)) {
		/* the bundle has the pod and Kubernetes' names; containers/storage
		 * the runtime's own name when the bundle has none */
		bool b = crio_bundle(root, n), s = cstorage(root, n);

		if (b || s) {
			if (n->runtime == CT_RT_UNKNOWN)
				n->runtime = CT_RT_CRIO;
			ct_strlcpy(n->from, b ? "cri-o bundle" : "cri-o storage", sizeof(n->from));
			found = true;
		}
	}
	if (!found && (h == CT_RT_DOCKER || h == CT_RT_UNKNOWN))
		found = try_source(docker_state, root, n, CT_RT_DOCKER, "docker state");
	if (!found && h == CT_RT_PODMAN)
		found = try_source(cstorage, root, n, CT_RT_PODMAN, "podman storage");
	if (found) {
		__atomic_add_fetch(&stats.found, 1, __ATOMIC_RELAXED);
		atomic_store(&n->state, CT_NAMES_FOUND);
		return;
	}
	switch (h) {
	case CT_RT_PODMAN:
		snprintf(n->reason, sizeof(n->reason), "not in podman's storage (%s/var/lib/containers/storage)%s%s",
			 root, why[0] ? "; " : "", why);
		break;
	case CT_RT_DOCKER:
		snprintf(n->reason, sizeof(n->reason), "not in docker's state (%s/var/lib/docker/containers)%s%s",
			 root, why[0] ? "; " : "", why);
		break;
	case CT_RT_CONTAINERD:
		snprintf(n->reason, sizeof(n->reason), "no containerd bundle (%s/run/containerd)", root);
		break;
	case CT_RT_CRIO:
		snprintf(n->reason, sizeof(n->reason), "no CRI-O bundle (%s/run/containers/storage)", root);
		break;
	default:
		snprintf(n->reason, sizeof(n->reason), "no runtime state names it (containerd, CRI-O, docker)%s%s",
			 why[0] ? "; " : "", why);
	}
	__atomic_add_fetch(&stats.unavailable, 1, __ATOMIC_RELAXED);
	atomic_store(&n->state, CT_NAMES_UNAVAILABLE);
}

static void *work(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		struct ct_ctr_names *n;

		while (!q_len && !stopping)
			pthread_cond_wait(&wake, &lock);
		if (stopping)
			break;
		n = queue[q_head];
		q_head = (q_head + 1) % QUEUE_LEN;
		q_len--;
		pthread_mutex_unlock(&lock);
		ct_names_lookup(w_root, w_socket, n);
		pthread_mutex_lock(&lock);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

int ct_names_start(const char *root, const char *socket)
{
	ct_strlcpy(w_root, root ? root : "", sizeof(w_root));
	ct_strlcpy(w_socket, socket ? socket : "", sizeof(w_socket));
	/* before the thread: libcurl's global state is set up once, here */
	if (w_socket[0] && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		w_socket[0] = '\0';
	stopping = false;
	if (pthread_create(&worker, NULL, work, NULL))
		return -1;
	running = true;
	return 0;
}

void ct_names_stop(void)
{
	if (!running)
		return;
	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	pthread_join(worker, NULL);
	running = false;
	/* what was still queued is answered by nobody: say so */
	while (q_len) {
		struct ct_ctr_names *n = queue[q_head];

		q_head = (q_head + 1) % QUEUE_LEN;
		q_len--;
		clear_answer(n);
		ct_strlcpy(n->reason, "the agent stopped before looking", sizeof(n->reason));
		atomic_store(&n->state, CT_NAMES_UNAVAILABLE);
	}
}

bool ct_names_request(struct ct_ctr_names *n)
{
	bool ok = false;

	atomic_store(&n->state, CT_NAMES_PENDING);
	if (!running) {
		clear_answer(n);
		ct_strlcpy(n->reason, "the names worker is not running", sizeof(n->reason));
		atomic_store(&n->state, CT_NAMES_UNAVAILABLE);
		return false;
	}
	pthread_mutex_lock(&lock);
	if (q_len < QUEUE_LEN) {
		queue[(q_head + q_len) % QUEUE_LEN] = n;
		q_len++;
		ok = true;
		pthread_cond_signal(&wake);
	}
	pthread_mutex_unlock(&lock);
	if (!ok) {
		__atomic_add_fetch(&stats.queue_full, 1, __ATOMIC_RELAXED);
		clear_answer(n);
		ct_strlcpy(n->reason, "lookup queue full; asked again later", sizeof(n->reason));
		atomic_store(&n->state, CT_NAMES_UNAVAILABLE);
	}
	return ok;
}

void ct_names_get_stats(struct ct_names_stats *s)
{
	s->found = __atomic_load_n(&stats.found, __ATOMIC_RELAXED);
	s->unavailable = __atomic_load_n(&stats.unavailable, __ATOMIC_RELAXED);
	s->queue_full = __atomic_load_n(&stats.queue_full, __ATOMIC_RELAXED);
	s->socket_queries = __atomic_load_n(&stats.socket_queries, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------ by name */

static size_t add_id(char (*ids)[CT_CTR_ID_LEN], size_t n, size_t max, const char *id)
{
	if (!id || !ct_is_container_id(id, strlen(id)))
		return n;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(ids[i], id))
			return n;
	if (n < max)
		ct_strlcpy(ids[n++], id, CT_CTR_ID_LEN);
	return n;
}

size_t ct_names_find_by_name(const char *root, const char *name, char (*ids)[CT_CTR_ID_LEN],
			     size_t max)
{
	char pat[4096];
	size_t n = 0;
	glob_t g;

	/* containers/storage: names[] */
	snprintf(pat, sizeof(pat), "%s/var/lib/containers/storage/*-containers/containers.json", root);
	if (!glob(pat, 0, NULL, &g)) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			json_t *arr = load_json(g.gl_pathv[i]), *e, *nm;
			size_t k, m;

			json_array_foreach(arr, k, e) {
				json_array_foreach(json_object_get(e, "names"), m, nm)
					if (json_is_string(nm) && !strcmp(json_string_value(nm), name))
						n = add_id(ids, n, max, jstr(e, "id"));
			}
			json_decref(arr);
		}
		globfree(&g);
	}
	/* docker: each container's config.v2.json "Name" ("/name") */
	snprintf(pat, sizeof(pat), "%s/var/lib/docker/containers/*/config.v2.json", root);
	if (!glob(pat, 0, NULL, &g)) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			json_t *j = load_json(g.gl_pathv[i]);
			const char *nm = jstr(j, "Name");

			if (nm && (!strcmp(nm, name) || (*nm == '/' && !strcmp(nm + 1, name))))
				n = add_id(ids, n, max, jstr(j, "ID"));
			json_decref(j);
		}
		globfree(&g);
	}
	return n;
}
