/*
 * Container names from the runtimes' state on disk, in a directory laid
 * out as a host's (/var/lib/docker, /run/containerd, containers/storage),
 * with files in the runtimes' formats: docker's config.v2.json, OCI
 * bundles' config.json with the CRI annotations, containers.json. What is
 * not there is said, and a damaged file is not a crash.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"
#include "collector/container_ctx.h"
#include "collector/container_names.h"
#include "lib/util.h"

#define DOCKER_ID "9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d"
#define CTRD_ID "413715dc061efe71c16ef989f2f2ff5cf999a7dc905bb7078eda82cbb38210ec"
#define CRIO_ID "0bc5eac79e3ae7a0c2651f14722aa10fa333eb2325c2ca97da33aa284cda81b0"
#define PODMAN_ID "e7f0bd49e51966aa1dd5b7f76c46846462704672848bc80251a92c419881989f"

static int put(const char *root, const char *rel, const char *text)
{
	char path[1024], cmd[1200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	if (system(cmd))
		return -1;
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static void ask(const char *root, const char *id, enum ct_ctr_runtime hint, struct ct_ctr_names *n)
{
	memset(n, 0, sizeof(*n));
	ct_strlcpy(n->id, id, sizeof(n->id));
	n->hint = hint;
	ct_names_lookup(root, NULL, n);
}

TEST(container_names_from_state_on_disk)
{
	char root[] = "/tmp/ct-unit-names.XXXXXX", cmd[64];
	struct ct_ctr_names n;
	char ids[4][CT_CTR_ID_LEN];

	CHECK(mkdtemp(root));
	CHECK(put(root, "var/lib/docker/containers/" DOCKER_ID "/config.v2.json",
		  "{\"ID\":\"" DOCKER_ID "\",\"Name\":\"/web\",\"Config\":{\"Image\":\"nginx:1.25\","
		  "\"Labels\":{\"io.kubernetes.pod.name\":\"web-7d9f\",\"io.kubernetes.pod.namespace\":\"shop\"}}}") == 0);
	CHECK(put(root, "run/containerd/io.containerd.runtime.v2.task/k8s.io/" CTRD_ID "/config.json",
		  "{\"ociVersion\":\"1.1.0\",\"annotations\":{\"io.kubernetes.cri.container-type\":\"container\","
		  "\"io.kubernetes.cri.container-name\":\"db\",\"io.kubernetes.cri.image-name\":\"postgres:16\","
		  "\"io.kubernetes.cri.sandbox-name\":\"db-0\",\"io.kubernetes.cri.sandbox-namespace\":\"data\"}}") == 0);
	CHECK(put(root, "run/containers/storage/overlay-containers/" CRIO_ID "/userdata/config.json",
		  "{\"annotations\":{\"io.kubernetes.container.name\":\"api\",\"io.kubernetes.cri-o.ImageName\":"
		  "\"quay.io/app/api:2\",\"io.kubernetes.pod.name\":\"api-5c\",\"io.kubernetes.pod.namespace\":\"shop\"}}") == 0);
	CHECK(put(root, "var/lib/containers/storage/overlay-containers/containers.json",
		  "[{\"id\":\"" PODMAN_ID "\",\"names\":[\"ct-probe\"],\"image\":\"\",\"metadata\":"
		  "\"{\\\"image-name\\\":\\\"docker.io/library/busybox:latest\\\",\\\"name\\\":\\\"ct-probe\\\"}\"}]") == 0);

	ask(root, DOCKER_ID, CT_RT_DOCKER, &n);
	CHECK(atomic_load(&n.state) == CT_NAMES_FOUND);
	CHECK_STR(n.name, "web");
	CHECK_STR(n.image, "nginx:1.25");
	CHECK_STR(n.pod_name, "web-7d9f");
	CHECK_STR(n.pod_namespace, "shop");
	CHECK_STR(n.from, "docker state");

	/* a bare id (cgroupfs driver): the runtime is where its state is */
	ask(root, CTRD_ID, CT_RT_UNKNOWN, &n);
	CHECK(atomic_load(&n.state) == CT_NAMES_FOUND);
	CHECK(n.runtime == CT_RT_CONTAINERD);
	CHECK_STR(n.name, "db");
	CHECK_STR(n.image, "postgres:16");
	CHECK_STR(n.pod_name, "db-0");
	CHECK_STR(n.pod_namespace, "data");
	CHECK_STR(n.from, "containerd bundle");

	ask(root, CRIO_ID, CT_RT_CRIO, &n);
	CHECK(atomic_load(&n.state) == CT_NAMES_FOUND);
	CHECK_STR(n.name, "api");
	CHECK_STR(n.image, "quay.io/app/api:2");
	CHECK_STR(n.pod_name, "api-5c");
	CHECK_STR(n.from, "cri-o bundle");

	ask(root, PODMAN_ID, CT_RT_PODMAN, &n);
	CHECK(atomic_load(&n.state) == CT_NAMES_FOUND);
	CHECK_STR(n.name, "ct-probe");
	CHECK_STR(n.image, "docker.io/library/busybox:latest");
	CHECK_STR(n.from, "podman storage");

	ask(root, "nspawn-machine", CT_RT_NSPAWN, &n);
	CHECK_STR(n.name, "nspawn-machine");

	/* not there: said where it was looked for */
	ask(root, CRIO_ID, CT_RT_DOCKER, &n);
	CHECK(atomic_load(&n.state) == CT_NAMES_UNAVAILABLE);
	CHECK(strstr(n.reason, "not in docker's state"));
	CHECK(!n.name[0]);

	/* by name, for deploy claims */
	CHECK(ct_names_find_by_name(root, "ct-probe", ids, 4) == 1);
	CHECK_STR(ids[0], PODMAN_ID);
	CHECK(ct_names_find_by_name(root, "web", ids, 4) == 1);
	CHECK_STR(ids[0], DOCKER_ID);
	CHECK(ct_names_find_by_name(root, "nosuch", ids, 4) == 0);

	/* damaged state: not found, no crash */
	CHECK(put(root, "var/lib/docker/containers/" DOCKER_ID "/config.v2.json", "{\"Name\": [1, 2") == 0);
	ask(root, DOCKER_ID, CT_RT_DOCKER, &n);
	CHECK(atomic_load(&n.state) == CT_NAMES_UNAVAILABLE);
	CHECK(put(root, "var/lib/containers/storage/overlay-containers/containers.json",
		  "[{\"id\":\"" PODMAN_ID "\",\"names\":\"not-an-array\",\"metadata\":7}]") == 0);
	ask(root, PODMAN_ID, CT_RT_PODMAN, &n);
	CHECK(atomic_load(&n.state) == CT_NAMES_FOUND);   /* the entry is there, without names */
	CHECK(!n.name[0]);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	CHECK(system(cmd) == 0);
}

/* The per-cgroup cache is bounded: past 16,384 cgroups it starts over,
 * and says so in status. */
TEST(container_cache_is_bounded_and_its_resets_counted)
{
	struct ct_containers_stats st0, st;
	struct ct_container_buf buf;

	ct_containers_get_stats(&st0);
	/* ids no cgroup has: each is a new entry, none names a container */
	for (uint64_t i = 0; i < 20000; i++)
		CHECK(!ct_container_of_task(&buf, (1ull << 50) + i, 0, 0, false, 0));
	ct_containers_get_stats(&st);
	CHECK(st.cgroups_cached <= 16384);
	CHECK(st.cache_resets == st0.cache_resets + 1);
}

/* Each namespace no container is known in costs a walk of /proc on the
 * event loop; anyone can make namespaces faster than that, so at most 20
 * walks a second, the rest deferred and counted. */
TEST(container_netns_walks_are_rate_limited)
{
	char proc[] = "/tmp/ct-unit-proc.XXXXXX";
	struct ct_containers_cfg cfg = { .proc_root = proc, .state_root = "/nonexistent" };
	struct ct_containers_stats st0, st;
	struct ct_container_buf buf;

	CHECK(mkdtemp(proc));
	CHECK(ct_containers_init(&cfg) == 0);
	ct_containers_get_stats(&st0);
	for (uint32_t ns = 1; ns <= 100; ns++)
		CHECK(!ct_container_of_netns(&buf, 4000000000u + ns));
	ct_containers_get_stats(&st);
	ct_containers_stop();
	rmdir(proc);
	CHECK(st.netns_scans - st0.netns_scans <= 20 * 2);   /* a second may begin meanwhile */
	CHECK(st.netns_scans_deferred - st0.netns_scans_deferred >= 100 - 20 * 2);
}
