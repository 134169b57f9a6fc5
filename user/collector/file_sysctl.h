/*
 * Sysctl writes, for the file collector: each write(2) to a /proc/sys
 * file is one SYSCTL event, made from its own record, which carries the
 * bytes the kernel accepted (bpf/sysctl_write.bpf.h). Its "after" is
 * those bytes; its "before" the last value known in the namespace the
 * file belongs to (sysctl_values.h), which the written value then
 * becomes. Where the bytes are not to be had, the value is read back in
 * that namespace, and the event says so. A write the kernel refused is
 * no change of value: counted, no event.
 *
 * The opens of a sysctl are still a change being coalesced (struct
 * pending), never folded into a burst; at its end it adds an event only
 * for writes whose record was lost, or when no write record came at all
 * (a write not through write(2), pwrite64(2) or writev(2)) and the value
 * read back differs from the one known.
 */
#ifndef CT_FILE_SYSCTL_H
#define CT_FILE_SYSCTL_H

#include <stdint.h>
#include "file_collector.h"

/* The values of one sysctl event, as file_emit shows them. */
struct file_sysctl_values {
	const char *before, *after;      /* file content; NULL: not known */
	uint32_t before_len, after_len;
	int source;                      /* changetrace.v1.SysctlValueSource of after */
	uint32_t netns;                  /* whose value a net.* one is */
	uint32_t pid;                    /* a process in it, to name it */
};

/* A CT_FOP_SYSCTL record: one write. */
void file_sysctl_write(struct ct_file_collector *f, struct ct_collector *c,
		       const struct ct_file_event *e);
/* A sysctl's change p is done (or reported while still open): an event
 * for what its write records left out. p->writes: writes whose record
 * was lost. */
void file_sysctl_settle(struct ct_file_collector *f, struct ct_collector *c, struct pending *p);

#endif
