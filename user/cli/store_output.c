/* Reading the store for the forensic commands (see store_output.h). */
#include <stdlib.h>

#include "store_output.h"
#include "export/event_utf8.h"
#include "export/format.h"
#include "export/pb_json.h"
#include "store/store_block.h"
#include "lib/util.h"

int ct_cli_print_event(const PbEvent *ev, void *vctx)
{
	struct ct_cli_print *c = vctx;

	if (c->mode == CT_OUT_JSON) {
		ct_pb_json_write(stdout, &ev->base);
		fputc('\n', stdout);
	} else if (c->mode == CT_OUT_PROTO) {
		/* repaired if an older store holds invalid UTF-8 (event_utf8.h) */
		PbEvent *fixed = ct_event_utf8(ev);
		const PbEvent *out = fixed ? fixed : ev;
		size_t n = changetrace__v1__event__get_packed_size(out);
		uint8_t hdr[10], *buf = malloc(n ? n : 1);

		if (buf) {
			fwrite(hdr, 1, ct_varint_write(hdr, n), stdout);
			changetrace__v1__event__pack(out, buf);
			fwrite(buf, 1, n, stdout);
			free(buf);
		}
		ct_event_utf8_release(ev, fixed);
	} else {
		fprintf(stdout, "%s ", ev->event_id);
		ct_format_text(stdout, ev);
	}
	c->printed++;
	return c->limit && c->printed >= c->limit;
}

int ct_cli_open_store(const char *dir, struct ct_store_reader **r)
{
	char err[512];

	if (ct_store_reader_open(r, dir, err, sizeof(err)) < 0) {
		ct_err("%s", err);
		return -1;
	}
	return 0;
}

void ct_cli_report_corruption(struct ct_store_reader *r)
{
	uint64_t bad = ct_store_reader_corrupt_blocks(r);

	if (bad)
		ct_err("warning: %llu corrupt block(s) skipped; `changetrace verify` names them",
		       (unsigned long long)bad);
}
