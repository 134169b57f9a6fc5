/*
 * UTF-8 for everything that leaves the agent. File names, argv, netlink
 * object names and /proc links are bytes, not text: a user can put any
 * byte in them. Strict decoders (proto3 string fields, OTLP backends,
 * JSON parsers) refuse invalid UTF-8, and terminals act on control
 * characters, so every output checks and repairs its strings here.
 */
#ifndef CT_UTF8_H
#define CT_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CT_UTF8_REPLACEMENT "\xef\xbf\xbd"   /* U+FFFD */

/* Length (1..4) of the well-formed UTF-8 character at s (at most n bytes),
 * its code point in *cp; 0 when s does not start one (a stray continuation
 * byte, an overlong form, a surrogate, past U+10FFFF, or cut short). */
size_t ct_utf8_char(const unsigned char *s, size_t n, uint32_t *cp);

/* The whole of s[0..n) is well-formed UTF-8. */
bool ct_utf8_valid(const char *s, size_t n);

/*
 * s[0..n) into out (NUL-terminated, at most outlen bytes), each byte that
 * does not start a well-formed character replaced by U+FFFD. Never cuts a
 * character: when out is too small it ends at a character boundary.
 * Returns the bytes written (without the NUL).
 */
size_t ct_utf8_repair(const char *s, size_t n, char *out, size_t outlen);
/* Bytes ct_utf8_repair needs for s[0..n) (without the NUL). */
size_t ct_utf8_repaired_len(const char *s, size_t n);

/* Longest prefix of s[0..n) that ends on a character boundary: what to
 * keep when a valid string must be cut to n bytes. */
size_t ct_utf8_cut(const char *s, size_t n);

/*
 * Code points a terminal acts on or that change how a line reads: C0
 * controls, DEL, C1 controls (U+0080..U+009F, 0x9B is CSI on some
 * terminals), the line/paragraph separators and the bidirectional
 * overrides and isolates (text that displays in another order than it
 * reads). Text outputs print these escaped.
 */
bool ct_cp_is_control(uint32_t cp);

/* Standard base64 (RFC 4648, padded) of in[0..n) into out, which holds
 * at least ct_base64_len(n) + 1 bytes; NUL-terminated. */
size_t ct_base64_len(size_t n);
size_t ct_base64_encode(const void *in, size_t n, char *out);

#endif
