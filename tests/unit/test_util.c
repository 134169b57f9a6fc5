#include <stdlib.h>
#include "unit.h"
#include "lib/util.h"
#include "collector/event.h"

TEST(deploy_id_validation)
{
	const char *why;

	CHECK(ct_valid_deploy_id("deploy-2026.11/23:a@b+c_d", &why));
	CHECK(!ct_valid_deploy_id("", &why));
	CHECK(!ct_valid_deploy_id(NULL, &why));
	CHECK(!ct_valid_deploy_id("has space", &why));
	CHECK(!ct_valid_deploy_id("semi;colon", &why));
	CHECK(!ct_valid_deploy_id("a\nb", &why));
	char longid[80];
	memset(longid, 'x', 63);
	longid[63] = 0;
	CHECK(ct_valid_deploy_id(longid, &why));
	longid[63] = 'x';
	longid[64] = 0;
	CHECK(!ct_valid_deploy_id(longid, &why));
}

TEST(strlcpy_truncates_and_terminates)
{
	char b[4];

	CHECK(ct_strlcpy(b, "abcdef", sizeof(b)) == 6);
	CHECK_STR(b, "abc");
	CHECK(ct_strlcpy(b, "", sizeof(b)) == 0);
	CHECK_STR(b, "");
}

TEST(split_args_handles_truncation)
{
	char buf[64], *argv[8];
	size_t n;

	n = ct_split_args("ls\0-l\0/tmp\0", 11, buf, sizeof(buf), argv, 8);
	CHECK(n == 3);
	CHECK_STR(argv[2], "/tmp");
	/* cut in the middle of the last argument, no trailing NUL */
	n = ct_split_args("ls\0-l\0/tm", 9, buf, sizeof(buf), argv, 8);
	CHECK(n == 3);
	CHECK_STR(argv[2], "/tm");
	/* more arguments than slots */
	n = ct_split_args("a\0b\0c\0d\0", 8, buf, sizeof(buf), argv, 2);
	CHECK(n == 2);
	n = ct_split_args("", 0, buf, sizeof(buf), argv, 2);
	CHECK(n == 0);
}

TEST(time_format_rfc3339)
{
	char b[40];

	CHECK_STR(ct_fmt_time(1700000000123456789ull, b, sizeof(b)), "2023-11-14T22:13:20.123Z");
}

TEST(socket_path_precedence)
{
	setenv("CHANGETRACE_SOCKET", "/tmp/env.sock", 1);
	CHECK_STR(ct_socket_path("/tmp/flag.sock"), "/tmp/flag.sock");
	CHECK_STR(ct_socket_path(NULL), "/tmp/env.sock");
	unsetenv("CHANGETRACE_SOCKET");
	CHECK_STR(ct_socket_path(NULL), CT_DEFAULT_SOCKET);
}
