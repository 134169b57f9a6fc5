/* Where the feed socket is by default (feed.c). */
#include "unit.h"
#include "export/feed.h"

TEST(feed_socket_sits_next_to_the_control_socket)
{
	char p[108];

	ct_feed_default_path("/run/changetrace/changetrace.sock", p, sizeof(p));
	CHECK_STR(p, "/run/changetrace/feed.sock");
	/* another control socket in the same directory gets its own feed */
	ct_feed_default_path("/tmp/t/ctl.sock", p, sizeof(p));
	CHECK_STR(p, "/tmp/t/ctl.feed.sock");
	ct_feed_default_path("/tmp/t/agent", p, sizeof(p));
	CHECK_STR(p, "/tmp/t/agent.feed.sock");
	ct_feed_default_path("changetrace.sock", p, sizeof(p));
	CHECK_STR(p, "feed.sock");
}
