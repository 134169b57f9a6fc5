/* Small helpers used across the collector and the CLI. */
#ifndef CT_UTIL_H
#define CT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CT_VERSION "0.1.0"
#define CT_DEFAULT_SOCKET "/run/changetrace/changetrace.sock"
#define CT_DEFAULT_PIN_DIR "/sys/fs/bpf/changetrace"
#define CT_MAX_VALUE_LEN 256      /* longest provenance value accepted */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Copy at most dst_len-1 bytes, always NUL-terminate. Returns strlen(src). */
size_t ct_strlcpy(char *dst, const char *src, size_t dst_len);

/* Print "changetrace: <msg>" to stderr. */
void ct_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Read a whole small file (e.g. under /proc) into buf; returns bytes or -1. */
ssize_t ct_read_file(const char *path, char *buf, size_t len);

/* CLOCK_REALTIME - CLOCK_MONOTONIC, to turn bpf_ktime_get_ns() into wall time. */
int64_t ct_mono_to_wall_offset(void);
uint64_t ct_now_mono_ns(void);
uint64_t ct_now_wall_ns(void);

/* Format wall-clock ns as RFC 3339 UTC with milliseconds into buf (>= 32). */
const char *ct_fmt_time(uint64_t wall_ns, char *buf, size_t len);

/* A deploy id is 1..CT_DEPLOY_ID_LEN-1 chars of [A-Za-z0-9._:/@+-]. */
bool ct_valid_deploy_id(const char *id, const char **why);

/* Socket path from --socket, $CHANGETRACE_SOCKET, or the default. */
const char *ct_socket_path(const char *flag);

#endif
