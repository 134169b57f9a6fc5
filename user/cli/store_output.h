/*
 * What the forensic commands (query, timeline, blame) share: opening the
 * store with a clear error, printing an event as a text line, JSON or
 * length-delimited protobuf, and saying when corrupt blocks were skipped.
 */
#ifndef CT_CLI_STORE_OUTPUT_H
#define CT_CLI_STORE_OUTPUT_H

#include <stdint.h>
#include "lib/pb.h"
#include "store/store.h"

enum ct_out_mode { CT_OUT_TEXT, CT_OUT_JSON, CT_OUT_PROTO };

struct ct_cli_print {
	enum ct_out_mode mode;
	uint64_t limit, printed;
};

/* A ct_store_scan callback; vctx is a struct ct_cli_print. Returns 1 to
 * stop once limit events were printed. */
int ct_cli_print_event(const PbEvent *ev, void *vctx);
/* 0, or -1 after printing why. */
int ct_cli_open_store(const char *dir, struct ct_store_reader **r);
void ct_cli_report_corruption(struct ct_store_reader *r);

#endif
