/* verify: prove the store's hash chain, or name the first bad block. */
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "store/store.h"
#include "lib/util.h"

static const char verify_usage[] =
"usage: changetrace verify [--store DIR]\n"
"\n"
"Check the store's hash chain block by block. Exit 0 when intact; 1 with\n"
"the first bad block named.\n"
"\n"
"  --store DIR         the store (default " CT_DEFAULT_STORE ")\n";

int ct_cmd_verify(int argc, char **argv)
{
	const char *dir = CT_DEFAULT_STORE;
	uint64_t blocks, events;
	char err[512];

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(verify_usage, stdout);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--store"))
		dir = argv[2];
	else if (argc == 2 && !strncmp(argv[1], "--store=", 8))
		dir = argv[1] + 8;
	else if (argc != 1) {
		fputs(verify_usage, stderr);
		return 2;
	}
	if (access(dir, R_OK) != 0) {
		ct_err("verify: no store at %s", dir);
		return 1;
	}
	if (ct_store_verify(dir, &blocks, &events, err, sizeof(err)) < 0) {
		printf("store %s: BROKEN after %llu good blocks: %s\n", dir,
		       (unsigned long long)blocks, err);
		return 1;
	}
	printf("store %s: chain intact: %llu blocks, %llu events\n", dir,
	       (unsigned long long)blocks, (unsigned long long)events);
	return 0;
}
