/* The file collector's kernel maps through libbpf. See file_kmaps.h. */
#include <bpf/bpf.h>

#include "file_kmaps.h"

static int lookup(int fd, const void *key, void *value)
{
	return fd > 0 && !bpf_map_lookup_elem(fd, key, value) ? 0 : -1;
}

static int delete(int fd, const void *key)
{
	return fd > 0 && !bpf_map_delete_elem(fd, key) ? 0 : -1;
}

static int next_key(int fd, const void *prev, void *next)
{
	return fd > 0 && !bpf_map_get_next_key(fd, prev, next) ? 0 : -1;
}

static int wfile_get(void *ctx, uint64_t file, struct ct_wfile *out)
{
	return lookup(((struct ct_file_map_fds *)ctx)->wfiles, &file, out);
}

static int wfile_delete(void *ctx, uint64_t file)
{
	return delete(((struct ct_file_map_fds *)ctx)->wfiles, &file);
}

static int wfile_next(void *ctx, const uint64_t *prev, uint64_t *next)
{
	return next_key(((struct ct_file_map_fds *)ctx)->wfiles, prev, next);
}

static int wfd_get(void *ctx, const struct ct_wfd_key *k, struct ct_wfd *out)
{
	return lookup(((struct ct_file_map_fds *)ctx)->wfds, k, out);
}

static int wfd_delete(void *ctx, const struct ct_wfd_key *k)
{
	return delete(((struct ct_file_map_fds *)ctx)->wfds, k);
}

static int wfd_next(void *ctx, const struct ct_wfd_key *prev, struct ct_wfd_key *next)
{
	return next_key(((struct ct_file_map_fds *)ctx)->wfds, prev, next);
}

static int burst_create(void *ctx, const struct ct_wburst_key *k, const struct ct_wburst *b)
{
	int fd = ((struct ct_file_map_fds *)ctx)->wbursts;

	return fd > 0 && !bpf_map_update_elem(fd, k, b, BPF_NOEXIST) ? 0 : -1;
}

static int burst_get(void *ctx, const struct ct_wburst_key *k, struct ct_wburst *out)
{
	return lookup(((struct ct_file_map_fds *)ctx)->wbursts, k, out);
}

static int burst_take(void *ctx, const struct ct_wburst_key *k, struct ct_wburst *out)
{
	int fd = ((struct ct_file_map_fds *)ctx)->wbursts;

	return fd > 0 && !bpf_map_lookup_and_delete_elem(fd, k, out) ? 0 : -1;
}

void ct_file_kmaps_bpf(struct ct_file_kmaps *m, struct ct_file_map_fds *fds)
{
	*m = (struct ct_file_kmaps){
		.wfile_get = wfile_get, .wfile_delete = wfile_delete, .wfile_next = wfile_next,
		.wfd_get = wfd_get, .wfd_delete = wfd_delete, .wfd_next = wfd_next,
		.burst_create = burst_create, .burst_get = burst_get, .burst_take = burst_take,
		.ctx = fds,
	};
}
