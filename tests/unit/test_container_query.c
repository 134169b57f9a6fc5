/* --container / --pod over a real store: by id, id prefix, short id and
 * name; events recorded before the runtime's name was known are found by
 * name too; a monitor's events are not the container's; blocks whose
 * bloom lacks the container are not opened. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "unit.h"
#include "lib/container_match.h"
#include "store/store.h"
#include "store/store_block.h"

#define ID_A "0bc5eac79e3ae7a0c2651f14722aa10fa333eb2325c2ca97da33aa284cda81b0"
#define ID_B "413715dc061efe71c16ef989f2f2ff5cf999a7dc905bb7078eda82cbb38210ec"
#define POD "0b7632a2-a56e-4278-987a-22de18008dbe"

static int count_cb(const PbEvent *ev, void *ctx)
{
	(void)ev;
	(*(int *)ctx)++;
	return 0;
}

/* seq 1..: A without names yet, A named "web" in pod "web-1", A's conmon,
 * B ("db", same pod) as a NET event from the host into its namespace,
 * and host events; one block each, so the blooms are each event's own */
static int write_store(const char *dir)
{
	struct ct_store *s;
	char err[256];
	uint64_t seq = 0;

	if (ct_store_open(&s, dir, err, sizeof(err)) < 0)
		return -1;
	ct_store_set_segment_bytes(s, 1);   /* a sealed segment (and index) per block */
	for (int i = 0; i < 6; i++) {
		PbEvent ev = CHANGETRACE__V1__EVENT__INIT;
		PbProcess p = CHANGETRACE__V1__PROCESS__INIT;
		PbContainer c = CHANGETRACE__V1__CONTAINER__INIT;
		PbNetPolicyChange n = CHANGETRACE__V1__NET_POLICY_CHANGE__INIT;
		char id[16];

		ev.seq = ++seq;
		snprintf(id, sizeof(id), "x-%d", i);
		ev.event_id = id;
		ev.time_unix_nano = 1000 + seq;
		ev.kind = CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_EXEC;
		ev.process = &p;
		p.comm = "sh";
		c.pod_uid = POD;
		switch (i) {
		case 0:                                  /* names not known yet */
			c.id = ID_A;
			c.names_unavailable = "lookup in progress";
			p.container = &c;
			break;
		case 1:
		case 2:
			c.id = ID_A;
			c.name = "web";
			c.pod_name = "web-1";
			c.pod_namespace = "shop";
			c.monitor = i == 2;              /* its conmon */
			p.container = &c;
			break;
		case 3:                                  /* nsenter from the host */
			c.id = ID_B;
			c.name = "db";
			c.pod_name = "web-1";
			ev.kind = CHANGETRACE__V1__EVENT_KIND__EVENT_KIND_NET;
			ev.detail_case = CHANGETRACE__V1__EVENT__DETAIL_NET;
			ev.net = &n;
			n.netns_container = &c;
			break;
		default:                                 /* the host */
			break;
		}
		ct_store_append(s, &ev);
		ct_store_flush(s);
	}
	ct_store_close(s);
	return 0;
}

static uint64_t corrupt_seen;   /* damaged blocks the last query opened */

static int query(const char *dir, const char *ctr, const char *pod)
{
	struct ct_store_reader *r;
	struct ct_store_filter f = CT_STORE_FILTER_INIT;
	char err[256];
	int n = 0;

	if (ct_store_reader_open(&r, dir, err, sizeof(err)) < 0)
		return -1;
	f.container = ctr;
	f.pod = pod;
	ct_store_resolve_names(r, &f);
	ct_store_scan(r, &f, count_cb, &n);
	corrupt_seen = ct_store_reader_corrupt_blocks(r);
	ct_store_reader_close(r);
	ct_store_filter_free(&f);
	return n;
}

TEST(container_query_by_id_prefix_name_and_pod)
{
	char dir[] = "/tmp/ct-unit-ctrq.XXXXXX", cmd[64];

	CHECK(mkdtemp(dir));
	CHECK(write_store(dir) == 0);
	CHECK(query(dir, ID_A, NULL) == 2);          /* not its monitor's event */
	CHECK(query(dir, "0bc5eac79e3a", NULL) == 2); /* the short id */
	CHECK(query(dir, "0bc5ea", NULL) == 2);      /* any prefix */
	CHECK(query(dir, "web", NULL) == 2);         /* by name: the unnamed one too */
	CHECK(query(dir, "db", NULL) == 1);          /* a NET event into its namespace */
	CHECK(query(dir, ID_B, NULL) == 1);
	CHECK(query(dir, "nosuch", NULL) == 0);
	CHECK(query(dir, "0bc", NULL) == 0);         /* too short to be a prefix, no such name */
	CHECK(query(dir, NULL, POD) == 3);
	CHECK(query(dir, NULL, "web-1") == 3);       /* by name, the unnamed one too */
	CHECK(query(dir, NULL, "shop/web-1") == 3);
	CHECK(query(dir, "web", POD) == 2);
	/* damage the payload of a host event's block (seq 5, a sealed segment
	 * of its own): a container query does not open it (its bloom lacks
	 * the key), a full one does */
	{
		char seg[512];
		struct ct_idx_entry *e;
		size_t n;
		off_t end;
		const char *why;
		uint8_t b;
		int fd;

		ct_segment_name(dir, 5, seg, sizeof(seg), "cts");
		ct_segment_scan_headers(seg, &e, &n, &end, &why);
		CHECK(n == 1);
		fd = open(seg, O_RDWR);
		CHECK(fd >= 0);
		CHECK(pread(fd, &b, 1, e[0].offset + sizeof(struct ct_block_hdr) + 3) == 1);
		b ^= 0xff;
		CHECK(pwrite(fd, &b, 1, e[0].offset + sizeof(struct ct_block_hdr) + 3) == 1);
		close(fd);
		free(e);
	}
	CHECK(query(dir, "web", NULL) == 2 && corrupt_seen == 0);
	CHECK(query(dir, NULL, "web-1") == 3 && corrupt_seen == 0);
	CHECK(query(dir, "0bc5ea", NULL) == 2 && corrupt_seen == 1);   /* a prefix reads all */
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}

TEST(container_ref_keys_and_validation)
{
	char k[300];

	CHECK(ct_container_ref_key("web", false, k, sizeof(k)));
	CHECK_STR(k, "ctr:web");
	CHECK(ct_container_ref_key("0bc5eac79e3a", false, k, sizeof(k)));   /* short id */
	CHECK(!ct_container_ref_key("0bc5ea", false, k, sizeof(k)));       /* a prefix: no key */
	CHECK(ct_container_ref_key(ID_A, false, k, sizeof(k)));
	CHECK(ct_container_ref_key("web-1", true, k, sizeof(k)));
	CHECK_STR(k, "pod:web-1");
	CHECK(ct_container_ref_valid("web"));
	CHECK(!ct_container_ref_valid(""));
	CHECK(!ct_container_ref_valid("a b"));
	CHECK(!ct_container_ref_valid(NULL));
}
