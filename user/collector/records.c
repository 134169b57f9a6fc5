/* One ring-buffer record to its decoder, by kind (see event.h). */
#include "event.h"
#include "event_file.h"
#include "event_net.h"

int ct_event_from_record(struct ct_collector *c, const void *data, size_t len,
			 struct ct_event_buf *b)
{
	const struct ct_hdr *h = data;

	if (len < sizeof(*h) || h->size > len)
		return -1;
	switch (h->kind) {
	case CT_KIND_EXEC:
		if (len < sizeof(struct ct_exec_event))
			return -1;
		return ct_event_from_exec(c, data, b);
	case CT_KIND_EXIT:
		if (len < sizeof(struct ct_exit_event))
			return -1;
		return ct_event_from_exit(c, data, b);
	case CT_KIND_NET:	/* emits through c->sink; returns 1 */
		return ct_net_from_record(c, data, len, b);
	case CT_KIND_FILE:	/* likewise, after coalescing */
		return c->files ? ct_file_from_record(c->files, c, data, len) : -1;
	case CT_KIND_EXEC_VERDICT:	/* the guard builds its GUARD event */
		if (len < sizeof(struct ct_exec_verdict) || !c->exec_verdict)
			return -1;
		c->exec_verdict(c->exec_ctx, data);
		return 1;
	default:
		return -1;
	}
}
