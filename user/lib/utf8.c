#include <string.h>
#include <openssl/evp.h>

#include "utf8.h"

/* RFC 3629 table 4: the second byte's range depends on the first. */
size_t ct_utf8_char(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;
	uint32_t v;

	if (!n)
		return 0;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (c == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;	/* overlong */
		else if (c == 0xf4)
			hi = 0x8f;	/* past U+10FFFF */
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	v = v << 6 | (s[1] & 0x3f);
	for (size_t i = 2; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	*cp = v;
	return len;
}

bool ct_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	uint32_t cp;

	while (i < n) {
		size_t k;

		/* ASCII runs, 8 bytes at a time: the common case */
		while (i + 8 <= n) {
			uint64_t w;

			memcpy(&w, p + i, 8);
			if (w & 0x8080808080808080ull)
				break;
			i += 8;
		}
		if (i >= n)
			break;
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		k = ct_utf8_char(p + i, n - i, &cp);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

size_t ct_utf8_repaired_len(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, out = 0;
	uint32_t cp;

	while (i < n) {
		size_t k = ct_utf8_char(p + i, n - i, &cp);

		if (k) {
			i += k;
			out += k;
		} else {
			i++;
			out += 3;
		}
	}
	return out;
}

size_t ct_utf8_repair(const char *s, size_t n, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0;
	uint32_t cp;

	if (!outlen)
		return 0;
	while (i < n) {
		size_t k = ct_utf8_char(p + i, n - i, &cp);
		const char *src = k ? s + i : CT_UTF8_REPLACEMENT;
		size_t len = k ? k : 3;

		if (o + len >= outlen)
			break;
		memcpy(out + o, src, len);
		o += len;
		i += k ? k : 1;
	}
	out[o] = '\0';
	return o;
}

size_t ct_utf8_cut(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = n;

	/* back over at most 3 continuation bytes to the lead byte */
	while (i > 0 && n - i < 3 && (p[i - 1] & 0xc0) == 0x80)
		i--;
	if (i > 0 && p[i - 1] >= 0xc0) {
		uint32_t cp;

		i--;
		if (ct_utf8_char(p + i, n - i, &cp) == n - i)
			return n;	/* the last character is whole */
		return i;
	}
	return n;
}

bool ct_cp_is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
	       cp == 0x2028 || cp == 0x2029 ||          /* line / paragraph separator */
	       (cp >= 0x200e && cp <= 0x200f) ||        /* LRM, RLM */
	       (cp >= 0x202a && cp <= 0x202e) ||        /* embeddings, overrides */
	       (cp >= 0x2066 && cp <= 0x2069) ||        /* isolates */
	       cp == 0x061c || cp == 0xfeff;            /* ALM, BOM */
}

size_t ct_base64_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

size_t ct_base64_encode(const void *in, size_t n, char *out)
{
	return EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}
