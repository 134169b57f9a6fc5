/* cgroup id -> path on this host's cgroup2 mount. */
#include "unit.h"
#include "lib/cgroup_path.h"

/* The root is named by its handle like any cgroup: the link read back is
 * the mount itself, with nothing after it. */
TEST(cgroup_path_of_the_root)
{
	const char *root = ct_cgroup2_root();
	uint64_t id;

	if (!root)
		return;	/* no cgroup2 mount: nothing to name */
	id = ct_cgroup_id_of(root);
	CHECK(id);
	ct_cgroup_path_free();
	CHECK_STR(ct_cgroup_path(id), "/");
	ct_cgroup_path_free();
}
