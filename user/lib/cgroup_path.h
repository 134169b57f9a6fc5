/*
 * cgroup id -> path. On cgroup v2 a cgroup's id is the inode number of its
 * directory, so a walk of the cgroup2 mount names every id. Misses trigger
 * a rescan at most once a second; results are cached.
 */
#ifndef CT_CGROUP_PATH_H
#define CT_CGROUP_PATH_H

#include <stdint.h>

/* Find the cgroup2 mount (e.g. /sys/fs/cgroup/unified). NULL if none. */
const char *ct_cgroup2_root(void);
/* Path relative to the cgroup2 root ("/system.slice/x.service"), or NULL. */
const char *ct_cgroup_path(uint64_t id);
/* id of a cgroup2 directory, 0 if not one */
uint64_t ct_cgroup_id_of(const char *abs_path);
void ct_cgroup_path_free(void);

#endif
