/*
 * Cgroup path -> container and pod, on real path samples: each path below
 * was published by someone who saw it on a real host (the source is named
 * above it); the ids are theirs.
 */
#include "unit.h"
#include "lib/container_decode.h"

struct sample {
	const char *path;
	enum ct_ctr_runtime rt;
	bool monitor;
	const char *id;
	const char *pod;
	enum ct_pod_qos qos;
	const char *ctr_cgroup;  /* the container's own cgroup (NULL: the whole path) */
	const char *pod_cgroup;
};

static const struct sample samples[] = {
	/* Kubernetes e2e node tests (kubernetes/kubernetes), systemd driver,
	 * CRI-O's conmon of a burstable pod */
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0b7632a2_a56e_4278_987a_22de18008dbe.slice/crio-conmon-0bc5eac79e3ae7a0c2651f14722aa10fa333eb2325c2ca97da33aa284cda81b0.scope",
	  CT_RT_CRIO, true, "0bc5eac79e3ae7a0c2651f14722aa10fa333eb2325c2ca97da33aa284cda81b0",
	  "0b7632a2-a56e-4278-987a-22de18008dbe", CT_QOS_BURSTABLE, NULL,
	  "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0b7632a2_a56e_4278_987a_22de18008dbe.slice" },
	/* Pixie's cgroup resolver notes: GKE (cgroupfs driver, guaranteed pod) */
	{ "/kubepods/pod8dbc5577-d0e2-4706-8787-57d52c03ddf2/14011c7d92a9e513dfd69211da0413dbf319a5e45a02b354ba6e98e10272542d",
	  CT_RT_UNKNOWN, false, "14011c7d92a9e513dfd69211da0413dbf319a5e45a02b354ba6e98e10272542d",
	  "8dbc5577-d0e2-4706-8787-57d52c03ddf2", CT_QOS_GUARANTEED, NULL,
	  "/kubepods/pod8dbc5577-d0e2-4706-8787-57d52c03ddf2" },
	/* ... a standard Kubernetes with docker (systemd driver) */
	{ "/kubepods.slice/kubepods-pod8dbc5577_d0e2_4706_8787_57d52c03ddf2.slice/docker-14011c7d92a9e513dfd69211da0413dbf319a5e45a02b354ba6e98e10272542d.scope",
	  CT_RT_DOCKER, false, "14011c7d92a9e513dfd69211da0413dbf319a5e45a02b354ba6e98e10272542d",
	  "8dbc5577-d0e2-4706-8787-57d52c03ddf2", CT_QOS_GUARANTEED, NULL,
	  "/kubepods.slice/kubepods-pod8dbc5577_d0e2_4706_8787_57d52c03ddf2.slice" },
	/* ... OpenShift (CRI-O, systemd driver) */
	{ "/kubepods.slice/kubepods-pod8dbc5577_d0e2_4706_8787_57d52c03ddf2.slice/crio-14011c7d92a9e513dfd69211da0413dbf319a5e45a02b354ba6e98e10272542d.scope",
	  CT_RT_CRIO, false, "14011c7d92a9e513dfd69211da0413dbf319a5e45a02b354ba6e98e10272542d",
	  "8dbc5577-d0e2-4706-8787-57d52c03ddf2", CT_QOS_GUARANTEED, NULL, NULL },
	/* ... bare metal, containerd and Kubernetes 1.21: the systemd driver's
	 * cgroupsPath as a cgroup v1 hierarchy shows it */
	{ "/system.slice/containerd.service/kubepods-besteffort-pod1544eb37_e4f7_49eb_8cc4_3d01c41be77b.slice:cri-containerd:8618d3540ce713dd59ed0549719643a71dd482c40c21685773e7ac1291b004f5",
	  CT_RT_CONTAINERD, false, "8618d3540ce713dd59ed0549719643a71dd482c40c21685773e7ac1291b004f5",
	  "1544eb37-e4f7-49eb-8cc4-3d01c41be77b", CT_QOS_BESTEFFORT, NULL, NULL },
	/* kubelet log of a cilium-agent pod, containerd, systemd driver, the
	 * kubelet's slices under a prefix (kubelet.slice/kubelet-kubepods...) */
	{ "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-poda45947e4_314c_4694_8f05_5e1425a02de4.slice/cri-containerd-abb37780fc913b3720641a4039186adb06f5d1de0229de0e8707f12e2fde5a21.scope",
	  CT_RT_CONTAINERD, false, "abb37780fc913b3720641a4039186adb06f5d1de0229de0e8707f12e2fde5a21",
	  "a45947e4-314c-4694-8f05-5e1425a02de4", CT_QOS_BURSTABLE, NULL, NULL },
	/* a cgroup-path test of a Kubernetes operator: containerd, besteffort */
	{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod6553a60b_2b97_442a_b6da_a5704d81dd98.slice/cri-containerd-413715dc061efe71c16ef989f2f2ff5cf999a7dc905bb7078eda82cbb38210ec.scope",
	  CT_RT_CONTAINERD, false, "413715dc061efe71c16ef989f2f2ff5cf999a7dc905bb7078eda82cbb38210ec",
	  "6553a60b-2b97-442a-b6da-a5704d81dd98", CT_QOS_BESTEFFORT, NULL, NULL },
	/* Elastic APM agent fixture: cgroupfs driver, besteffort */
	{ "/kubepods/besteffort/pod74c13223-5a00-11e9-b385-42010a80018d/34dc0b5e626f2c5c4c5170e34b10e7654ce36f0fcd532739f4445baabea03376",
	  CT_RT_UNKNOWN, false, "34dc0b5e626f2c5c4c5170e34b10e7654ce36f0fcd532739f4445baabea03376",
	  "74c13223-5a00-11e9-b385-42010a80018d", CT_QOS_BESTEFFORT, NULL,
	  "/kubepods/besteffort/pod74c13223-5a00-11e9-b385-42010a80018d" },
	/* a memory-limits article: cgroupfs driver, burstable */
	{ "/kubepods/burstable/podfbc202d3-da21-11e8-ab5e-42010a80014b/0a1b22ec1361a97c3511db37a4bae932d41b22264e5b97611748f8b662312574",
	  CT_RT_UNKNOWN, false, "0a1b22ec1361a97c3511db37a4bae932d41b22264e5b97611748f8b662312574",
	  "fbc202d3-da21-11e8-ab5e-42010a80014b", CT_QOS_BURSTABLE, NULL, NULL },
	/* NeuVector's cgroup tests: docker, systemd driver */
	{ "/system.slice/docker-9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d.scope",
	  CT_RT_DOCKER, false, "9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d",
	  "", CT_QOS_NONE, NULL, NULL },
	/* a /proc/self/cgroup published in a container-detection test: docker,
	 * cgroupfs driver */
	{ "/docker/5796a153bb04dc86dec3348772719d3e7bf44bfa9c327e969f6b72ff878498ed",
	  CT_RT_DOCKER, false, "5796a153bb04dc86dec3348772719d3e7bf44bfa9c327e969f6b72ff878498ed",
	  "", CT_QOS_NONE, NULL, NULL },
	/* podman on a systemd host (cgroup v2), a container and its conmon */
	{ "/machine.slice/libpod-cdbcfe0c9ba72a9908bca0d50f438275178f5e94229ac54e2ea9bd71e70e4134.scope",
	  CT_RT_PODMAN, false, "cdbcfe0c9ba72a9908bca0d50f438275178f5e94229ac54e2ea9bd71e70e4134",
	  "", CT_QOS_NONE, NULL, NULL },
	{ "/machine.slice/libpod-conmon-24fce7291bc6d7f8a5965a5920740b0df25dda9bb4e84ffb889d8ea2927acec5.scope",
	  CT_RT_PODMAN, true, "24fce7291bc6d7f8a5965a5920740b0df25dda9bb4e84ffb889d8ea2927acec5",
	  "", CT_QOS_NONE, NULL, NULL },
	/* podman 4.3 --cgroup-manager=cgroupfs on this project's test VM; a
	 * process in a sub-cgroup of it still belongs to it */
	{ "/libpod_parent/libpod-e7f0bd49e51966aa1dd5b7f76c46846462704672848bc80251a92c419881989f/init.scope",
	  CT_RT_PODMAN, false, "e7f0bd49e51966aa1dd5b7f76c46846462704672848bc80251a92c419881989f",
	  "", CT_QOS_NONE, "/libpod_parent/libpod-e7f0bd49e51966aa1dd5b7f76c46846462704672848bc80251a92c419881989f", NULL },
	/* systemd-nspawn started by machinectl (systemd-nspawn@.service, in
	 * machine.slice), a machine named in a published setup */
	{ "/machine.slice/systemd-nspawn@fedora44.service/payload",
	  CT_RT_NSPAWN, false, "fedora44", "", CT_QOS_NONE, "/machine.slice/systemd-nspawn@fedora44.service", NULL },
	/* systemd-nspawn run directly: machined's scope, the name escaped as
	 * systemd escapes unit names ("-" is \x2d) */
	{ "/machine.slice/machine-debian\\x2dbookworm.scope/init.scope",
	  CT_RT_NSPAWN, false, "debian-bookworm", "", CT_QOS_NONE, "/machine.slice/machine-debian\\x2dbookworm.scope", NULL },
};

TEST(cgroup_decode_real_samples)
{
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		const struct sample *s = &samples[i];
		struct ct_cgroup_ctr c;
		char cg[512];

		CHECK(ct_cgroup_decode(s->path, &c));
		if (c.runtime != s->rt || c.monitor != s->monitor || strcmp(c.id, s->id) ||
		    strcmp(c.pod_uid, s->pod) || c.qos != s->qos)
			printf("    sample %zu: %s -> rt=%d monitor=%d id=%s pod=%s qos=%d\n", i,
			       s->path, c.runtime, c.monitor, c.id, c.pod_uid, c.qos);
		CHECK(c.runtime == s->rt);
		CHECK(c.monitor == s->monitor);
		CHECK_STR(c.id, s->id);
		CHECK_STR(c.pod_uid, s->pod);
		CHECK(c.qos == s->qos);
		snprintf(cg, sizeof(cg), "%.*s", (int)c.ctr_end, s->path);
		CHECK_STR(cg, s->ctr_cgroup ? s->ctr_cgroup : s->path);
		if (s->pod_cgroup) {
			snprintf(cg, sizeof(cg), "%.*s", (int)c.pod_end, s->path);
			CHECK_STR(cg, s->pod_cgroup);
		}
	}
}

/* Paths that name no container: the host's own units, libvirt's virtual
 * machines, a podman pod's slice, ids that are not whole. */
TEST(cgroup_decode_not_containers)
{
	static const char *const paths[] = {
		"/", "", "/init.scope", "/user.slice/user-1000.slice/session-3.scope",
		"/system.slice/docker.service", "/system.slice/containerd.service",
		"/machine.slice/machine-qemu\\x2d1\\x2dvps3458844.scope",
		"/machine.slice/machine-libpod_pod_0262e761c5b499b1ad78250d810594064f61cc61a524d72d58690e52e727ec2a.slice",
		"/system.slice/docker-9ec39b91f3d7.scope",         /* short id */
		"/system.slice/docker-9EC39B91F3D70E1BEFF50A308F77067065EA6BE0D91A3378375056CD4422CF3D.scope",
		"/kubepods.slice", "/kubepods/burstable",
		"/pod74c13223-5a00-11e9-b385-42010a80018d",         /* no kubepods above */
		"/kubepods/besteffort/pod74c13223-5a00-11e9-b385",  /* not a UID */
		"/machine.slice/machine-bad\\x2.scope",             /* bad escape */
		"/libpod_parent/conmon",
	};
	struct ct_cgroup_ctr c;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (ct_cgroup_decode(paths[i], &c))
			printf("    %s -> id=%s pod=%s\n", paths[i], c.id, c.pod_uid);
		CHECK(!ct_cgroup_decode(paths[i], &c));
		CHECK(!c.id[0] && !c.pod_uid[0]);
	}
	CHECK(!ct_cgroup_decode(NULL, &c));
}

/* A pod's own slice (no container yet): the pod, its QoS, no container. */
TEST(cgroup_decode_pod_slice_without_container)
{
	struct ct_cgroup_ctr c;

	CHECK(ct_cgroup_decode("/kubepods.slice/kubepods-burstable.slice/"
			       "kubepods-burstable-pod0b7632a2_a56e_4278_987a_22de18008dbe.slice", &c));
	CHECK(!c.id[0]);
	CHECK_STR(c.pod_uid, "0b7632a2-a56e-4278-987a-22de18008dbe");
	CHECK(c.qos == CT_QOS_BURSTABLE);
	CHECK_STR(ct_qos_name(c.qos), "burstable");
	CHECK_STR(ct_runtime_name(CT_RT_CRIO), "cri-o");
	CHECK_STR(ct_runtime_name(CT_RT_UNKNOWN), "");
}

TEST(pod_uid_forms)
{
	char u[CT_POD_UID_LEN];

	CHECK(ct_parse_pod_uid("1544eb37_e4f7_49eb_8cc4_3d01c41be77b", 36, u));
	CHECK_STR(u, "1544eb37-e4f7-49eb-8cc4-3d01c41be77b");
	CHECK(ct_parse_pod_uid("1544EB37-E4F7-49EB-8CC4-3D01C41BE77B", 36, u));
	CHECK_STR(u, "1544eb37-e4f7-49eb-8cc4-3d01c41be77b");
	CHECK(!ct_parse_pod_uid("1544eb37e4f749eb8cc43d01c41be77b0000", 36, u));
	CHECK(!ct_parse_pod_uid("1544eb37-e4f7-49eb-8cc4-3d01c41be77", 35, u));
	CHECK(!ct_parse_pod_uid("g544eb37-e4f7-49eb-8cc4-3d01c41be77b", 36, u));
}

/* A container that may write its own cgroup (systemd inside it, a
 * privileged one, a rootless runtime's delegated tree) can make cgroups
 * below it named like another container or pod: it is still itself. */
TEST(cgroup_decode_names_below_a_container_are_its_own)
{
	static const char *const outer =
		"/machine.slice/libpod-cdbcfe0c9ba72a9908bca0d50f438275178f5e94229ac54e2ea9bd71e70e4134.scope";
	static const char *const below[] = {
		"/docker-9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d.scope",
		"/libpod-conmon-24fce7291bc6d7f8a5965a5920740b0df25dda9bb4e84ffb889d8ea2927acec5.scope",
		"/kubepods.slice/kubepods-pod8dbc5577_d0e2_4706_8787_57d52c03ddf2.slice/"
		"crio-14011c7d92a9e513dfd69211da0413dbf319a5e45a02b354ba6e98e10272542d.scope",
		"/kubepods/pod8dbc5577-d0e2-4706-8787-57d52c03ddf2/"
		"14011c7d92a9e513dfd69211da0413dbf319a5e45a02b354ba6e98e10272542d",
	};
	struct ct_cgroup_ctr c;
	char path[512];

	for (size_t i = 0; i < sizeof(below) / sizeof(below[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", outer, below[i]);
		CHECK(ct_cgroup_decode(path, &c));
		CHECK(c.runtime == CT_RT_PODMAN);
		CHECK(!c.monitor);
		CHECK_STR(c.id, "cdbcfe0c9ba72a9908bca0d50f438275178f5e94229ac54e2ea9bd71e70e4134");
		CHECK_STR(c.pod_uid, "");
		CHECK(c.ctr_end == strlen(outer));
	}
}
